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
				continue
			}
			return s, ReadFile(fsys, s), true
		}
	}
	return "", "", false
}
