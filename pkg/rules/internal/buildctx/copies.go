package buildctx

import (
	"io/fs"
	"path"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
)

// Sources returns the sources and the destination of a COPY or ADD that
// copies from the build context; ok is false for other instructions and
// for COPY --from (a stage or an image). ADD's sources may be URLs, which
// the caller skips.
func Sources(cmd any) (sources []string, dest string, ok bool) {
	switch c := cmd.(type) {
	case *instructions.CopyCommand:
		if c.From != "" {
			return nil, "", false
		}
		return c.SourcePaths, c.DestPath, true
	case *instructions.AddCommand:
		return c.SourcePaths, c.DestPath, true
	}
	return nil, "", false
}

// CopiedTo finds the context file that the last of copies (COPY and ADD
// instructions in build order) putting a file named like p put there — by
// the copy's own file name, or by its source's name when it copies into a
// folder — and returns its source and text ("" when it cannot be read).
// Sources with variables, globs or URLs are not followed; found is false
// when no copy matches.
func CopiedTo(fsys fs.FS, copies []*rewrite.Instruction, p string) (src, text string, found bool) {
	base := path.Base(p)
	for i := len(copies) - 1; i >= 0; i-- {
		srcs, dest, ok := Sources(copies[i].Command)
		if !ok {
			continue
		}
		for _, s := range srcs {
			if strings.Contains(s, "://") || strings.ContainsAny(s, "*?[$") {
				continue
			}
			intoDir := strings.HasSuffix(dest, "/") || len(srcs) > 1
			if intoDir && path.Base(s) != base || !intoDir && path.Base(dest) != base {
				// A folder copied whole (COPY scripts/ /scripts/,
				// COPY . /app) puts p at its path under dest.
				if f := folderFile(fsys, s, dest, p); f != "" {
					return f, ReadFile(fsys, f), true
				}
				continue
			}
			return s, ReadFile(fsys, s), true
		}
	}
	return "", "", false
}

// folderFile is the context file a copy of the folder src to dest puts at
// the absolute path p, or "" when src is not a folder of the context or
// holds no such file.
func folderFile(fsys fs.FS, src, dest, p string) string {
	if !path.IsAbs(dest) || !path.IsAbs(p) {
		return ""
	}
	rel, ok := strings.CutPrefix(path.Clean(p), strings.TrimSuffix(path.Clean(dest), "/")+"/")
	if !ok {
		return ""
	}
	if info, err := fs.Stat(fsys, Name(src)); err != nil || !info.IsDir() {
		return ""
	}
	f := path.Join(Name(src), rel)
	file := Open(fsys, f)
	if file == nil {
		return ""
	}
	file.Close()
	return f
}
