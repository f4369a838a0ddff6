package nonroot

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/hardenfix/hardenfix/pkg/rules/internal/buildctx"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// copiedFile is a build-context file a COPY or ADD puts into the image.
type copiedFile struct {
	Src  string // its path in the build context
	Dest string // where it lands in the image
	Text string
	Mode fs.FileMode
}

// contextCopies returns the files of the build context that a COPY or ADD
// with these sources and destination puts into the image, with their
// content, never following a symbolic link out of the context. A problem
// ("" when none) says why the files cannot be told: no context on disk, a
// source missing or leaving the context, a relative destination, a file
// too large.
func contextCopies(contextDir string, sources []string, dest, workdir string) ([]copiedFile, string) {
	if contextDir == "" {
		return nil, "the build context is not known (no folder on disk)"
	}
	root, err := filepath.EvalSymlinks(contextDir)
	if err != nil {
		return nil, "the build context cannot be read"
	}
	if !path.IsAbs(dest) {
		if workdir == "" {
			return nil, fmt.Sprintf("the destination %s is relative and the working directory is not known", dest)
		}
		dest = path.Join(workdir, dest)
	}
	inside := func(name string) bool {
		return name == root || strings.HasPrefix(name, root+string(filepath.Separator))
	}
	var matches []string
	for _, src := range sources {
		if strings.Contains(src, "://") || strings.Contains(src, "$") {
			return nil, fmt.Sprintf("the source %s is not a file of the build context", src)
		}
		rel := path.Clean("/" + src)[1:]
		if strings.ContainsAny(rel, "*?[") {
			found, err := filepath.Glob(filepath.Join(root, filepath.FromSlash(rel)))
			if err != nil || len(found) == 0 {
				return nil, fmt.Sprintf("no file of the build context matches %s", src)
			}
			matches = append(matches, found...)
			continue
		}
		matches = append(matches, filepath.Join(root, filepath.FromSlash(rel)))
	}
	// Several sources, or a destination ending in /, make the
	// destination a directory; a directory source copies its contents.
	toDir := strings.HasSuffix(dest, "/") || len(matches) > 1
	dest = path.Clean(dest)
	var out []copiedFile
	var problem string
	add := func(name, landing string) bool {
		real, err := filepath.EvalSymlinks(name)
		if err != nil || !inside(real) {
			problem = fmt.Sprintf("%s is missing or a symbolic link out of the build context", relTo(root, name))
			return false
		}
		fi, err := os.Stat(real)
		if err != nil || !fi.Mode().IsRegular() || fi.Size() > 1<<20 {
			problem = fmt.Sprintf("%s is not a small regular file", relTo(root, name))
			return false
		}
		b, err := os.ReadFile(real)
		if err != nil {
			problem = fmt.Sprintf("%s cannot be read", relTo(root, name))
			return false
		}
		out = append(out, copiedFile{Src: relTo(root, name), Dest: landing, Text: string(b), Mode: fi.Mode().Perm()})
		return true
	}
	for _, m := range matches {
		real, err := filepath.EvalSymlinks(m)
		if err != nil || !inside(real) {
			return nil, fmt.Sprintf("%s is missing or a symbolic link out of the build context", relTo(root, m))
		}
		fi, err := os.Stat(real)
		if err != nil {
			return nil, fmt.Sprintf("%s cannot be read", relTo(root, m))
		}
		if !fi.IsDir() {
			landing := dest
			if toDir {
				landing = path.Join(dest, filepath.Base(m))
			}
			if !add(m, landing) {
				return nil, problem
			}
			continue
		}
		n := 0
		err = filepath.WalkDir(m, func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if e.IsDir() {
				return nil
			}
			if n++; n > 200 {
				return fmt.Errorf("more than 200 files under %s", relTo(root, m))
			}
			rel, _ := filepath.Rel(m, p)
			if !add(p, path.Join(dest, filepath.ToSlash(rel))) {
				return fmt.Errorf("%s", problem)
			}
			return nil
		})
		if err != nil {
			return nil, err.Error()
		}
	}
	return out, ""
}

func relTo(root, name string) string {
	if rel, err := filepath.Rel(root, name); err == nil {
		return filepath.ToSlash(rel)
	}
	return name
}

// uncopiedConfig looks for server configuration in the build context that
// the Dockerfile does not copy into the image (copied holds the context
// paths it does copy there): such a file is usually mounted into the
// container when it runs (a compose volume, a Kubernetes ConfigMap). check
// says what in a file's text keeps the server from running unprivileged
// ("" when nothing). It looks at the context's top two levels, skipping
// hidden folders and dependency trees, and never follows a link out.
func uncopiedConfig(contextDir string, copied map[string]bool, check func(text string) string) (file, why string) {
	if contextDir == "" {
		return "", ""
	}
	root, err := filepath.EvalSymlinks(contextDir)
	if err != nil {
		return "", ""
	}
	seen := 0
	_ = filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil || why != "" {
			return filepath.SkipDir
		}
		rel := relTo(root, p)
		if e.IsDir() {
			if p != root && (strings.HasPrefix(e.Name(), ".") || e.Name() == "node_modules" || e.Name() == "vendor" || strings.Count(rel, "/") >= 2) {
				return filepath.SkipDir
			}
			return nil
		}
		if seen++; seen > 2000 {
			return filepath.SkipAll
		}
		name := strings.ToLower(e.Name())
		if copied[rel] || !(strings.HasSuffix(name, ".conf") || strings.HasSuffix(name, ".conf.template")) {
			return nil
		}
		if text := buildctx.ReadFile(root, rel); text != "" {
			if w := check(text); w != "" {
				file, why = rel, w
				return filepath.SkipAll
			}
		}
		return nil
	})
	return file, why
}

// contextSources are the sources a COPY or ADD takes from the build context:
// none for COPY --from (another stage or image). URLs among ADD's sources
// are the caller's to skip.
func contextSources(in *rewrite.Instruction) []string {
	switch c := in.Command.(type) {
	case *instructions.CopyCommand:
		if c.From == "" {
			return c.SourcePaths
		}
	case *instructions.AddCommand:
		return c.SourcePaths
	}
	return nil
}
