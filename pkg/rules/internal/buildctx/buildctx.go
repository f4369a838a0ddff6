package buildctx

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// maxRead is the size of the largest file ReadFile reads: the files rules
// read whole (package.json, go.mod, requirements files, scripts) are small.
const maxRead = 1 << 20

// resolve returns the file src (slash-separated, relative to the context;
// "/x/../.." cannot leave it) names in the build context contextDir, after
// symbolic links, when it is a regular file inside the context.
func resolve(contextDir, src string) (string, fs.FileInfo, bool) {
	if contextDir == "" {
		return "", nil, false
	}
	root, err := filepath.EvalSymlinks(contextDir)
	if err != nil {
		return "", nil, false
	}
	rel := path.Clean("/" + src)[1:]
	name, err := filepath.EvalSymlinks(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil || (name != root && !strings.HasPrefix(name, root+string(filepath.Separator))) {
		return "", nil, false
	}
	fi, err := os.Stat(name)
	if err != nil || !fi.Mode().IsRegular() {
		return "", nil, false
	}
	return name, fi, true
}

// Open opens a regular file of the build context, never following a
// symbolic link out of it; nil when there is none.
func Open(contextDir, src string) *os.File {
	name, _, ok := resolve(contextDir, src)
	if !ok {
		return nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil
	}
	return f
}

// ReadFile reads a small regular file of the build context, never
// following a symbolic link out of it; "" when there is none.
func ReadFile(contextDir, src string) string {
	name, fi, ok := resolve(contextDir, src)
	if !ok || fi.Size() > maxRead {
		return ""
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return ""
	}
	return string(b)
}
