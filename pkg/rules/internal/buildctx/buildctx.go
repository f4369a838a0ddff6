package buildctx

import (
	"os"
	"path"
	"path/filepath"
	"strings"
)

// ReadFile reads a small regular file of the build context, never
// following a symbolic link out of it; "" when there is none.
func ReadFile(contextDir, src string) string {
	root, err := filepath.EvalSymlinks(contextDir)
	if err != nil {
		return ""
	}
	rel := path.Clean("/" + src)[1:] // "/x/../.." cannot leave the context
	name, err := filepath.EvalSymlinks(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil || (name != root && !strings.HasPrefix(name, root+string(filepath.Separator))) {
		return ""
	}
	fi, err := os.Stat(name)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() > 1<<20 {
		return ""
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return ""
	}
	return string(b)
}
