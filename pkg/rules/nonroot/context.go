package nonroot

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
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
// content (the context follows no symbolic link out of it). A problem
// ("" when none) says why the files cannot be told: no context on disk, a
// source missing or leaving the context, a relative destination, a file
// too large.
func contextCopies(buildContext fs.FS, sources []string, dest, workdir string) ([]copiedFile, string) {
	if buildContext == nil {
		return nil, "the build context is not known (no folder on disk)"
	}
	if !buildctx.Readable(buildContext) {
		return nil, "the build context cannot be read"
	}
	if !path.IsAbs(dest) {
		if workdir == "" {
			return nil, fmt.Sprintf("the destination %s is relative and the working directory is not known", dest)
		}
		dest = path.Join(workdir, dest)
	}
	matches, problem := sourceMatches(buildContext, sources)
	if problem != "" {
		return nil, problem
	}
	// Several sources, or a destination ending in /, make the
	// destination a directory; a directory source copies its contents.
	toDir := strings.HasSuffix(dest, "/") || len(matches) > 1
	dest = path.Clean(dest)
	var out []copiedFile
	for _, m := range matches {
		fi, err := fs.Stat(buildContext, m)
		if err != nil {
			return nil, fmt.Sprintf("%s is missing or a symbolic link out of the build context", m)
		}
		if !fi.IsDir() {
			landing := dest
			if toDir {
				landing = path.Join(dest, path.Base(m))
			}
			f, problem := readCopied(buildContext, m, landing)
			if problem != "" {
				return nil, problem
			}
			out = append(out, f)
			continue
		}
		files, problem := readCopiedDir(buildContext, m, dest)
		if problem != "" {
			return nil, problem
		}
		out = append(out, files...)
	}
	return out, ""
}

// sourceMatches are the context names COPY or ADD sources stand for, globs
// expanded.
func sourceMatches(buildContext fs.FS, sources []string) ([]string, string) {
	var matches []string
	for _, src := range sources {
		if strings.Contains(src, "://") || strings.Contains(src, "$") {
			return nil, fmt.Sprintf("the source %s is not a file of the build context", src)
		}
		rel := buildctx.Name(src)
		if strings.ContainsAny(rel, "*?[") {
			found, err := fs.Glob(buildContext, rel)
			if err != nil || len(found) == 0 {
				return nil, fmt.Sprintf("no file of the build context matches %s", src)
			}
			matches = append(matches, found...)
			continue
		}
		matches = append(matches, rel)
	}
	return matches, ""
}

// readCopiedDir reads the files under the context folder dir (at most 200,
// not following links to folders) that land under dest.
func readCopiedDir(buildContext fs.FS, dir, dest string) ([]copiedFile, string) {
	var out []copiedFile
	problem := ""
	n := 0
	err := buildctx.WalkDir(buildContext, dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() {
			return nil
		}
		if n++; n > 200 {
			return fmt.Errorf("more than 200 files under %s", dir)
		}
		var f copiedFile
		if f, problem = readCopied(buildContext, p, path.Join(dest, under(dir, p))); problem != "" {
			return errors.New(problem)
		}
		out = append(out, f)
		return nil
	})
	if err != nil {
		return nil, err.Error()
	}
	return out, ""
}

// readCopied reads the context file name that lands at landing, which must
// be a small regular file; problem says why not.
func readCopied(buildContext fs.FS, name, landing string) (f copiedFile, problem string) {
	fi, err := fs.Stat(buildContext, name)
	if err != nil {
		return f, fmt.Sprintf("%s is missing or a symbolic link out of the build context", name)
	}
	if !fi.Mode().IsRegular() || fi.Size() > 1<<20 {
		return f, fmt.Sprintf("%s is not a small regular file", name)
	}
	b, err := fs.ReadFile(buildContext, name)
	if err != nil {
		return f, fmt.Sprintf("%s cannot be read", name)
	}
	return copiedFile{Src: name, Dest: landing, Text: string(b), Mode: fi.Mode().Perm()}, ""
}

// under is the name p, a context name at or under the folder dir, relative
// to dir ("." for dir itself).
func under(dir, p string) string {
	switch {
	case p == dir:
		return "."
	case dir == ".":
		return p
	}
	return strings.TrimPrefix(p, dir+"/")
}

// uncopiedConfig looks for server configuration in the build context that
// the Dockerfile does not copy into the image (copied holds the context
// paths it does copy there): such a file is usually mounted into the
// container when it runs (a compose volume, a Kubernetes ConfigMap). check
// says what in a file's text keeps the server from running unprivileged
// ("" when nothing). It looks at the context's top two levels, skipping
// hidden folders and dependency trees; the context follows no link out.
func uncopiedConfig(buildContext fs.FS, copied map[string]bool, check func(text string) string) (file, why string) {
	if !buildctx.Readable(buildContext) {
		return "", ""
	}
	seen := 0
	_ = fs.WalkDir(buildContext, ".", func(rel string, e fs.DirEntry, err error) error {
		if err != nil || why != "" {
			return fs.SkipDir
		}
		if e.IsDir() {
			if rel != "." && (strings.HasPrefix(e.Name(), ".") || e.Name() == "node_modules" || e.Name() == "vendor" || strings.Count(rel, "/") >= 2) {
				return fs.SkipDir
			}
			return nil
		}
		if seen++; seen > 2000 {
			return fs.SkipAll
		}
		name := strings.ToLower(e.Name())
		if copied[rel] || !(strings.HasSuffix(name, ".conf") || strings.HasSuffix(name, ".conf.template")) {
			return nil
		}
		if text := buildctx.ReadFile(buildContext, rel); text != "" {
			if w := check(text); w != "" {
				file, why = rel, w
				return fs.SkipAll
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

// stageCopy is a COPY or ADD of the final stage, its destination expanded
// and resolved against the WORKDIR before it.
type stageCopy struct {
	In      *rewrite.Instruction
	Sources []string
	// Dest is the destination as written, expanded when Known; Full is
	// Dest joined to the working directory, when that is known.
	Dest, Full string
	Known      bool   // false: the destination is only known at build time
	Workdir    string // "" after a WORKDIR only known at build time
	From       string // COPY --from
	Chmod      string
}

// eachCopy calls each for the final stage's COPY and ADD instructions after
// FROM in order, following WORKDIR from workdir, and stops at the first
// reason each gives, with its line.
func (p *nonRootPlan) eachCopy(workdir string, each func(stageCopy) (int, string)) (int, string) {
	for _, in := range p.instrs[1:] {
		c := stageCopy{In: in}
		switch cmd := in.Command.(type) {
		case *instructions.WorkdirCommand:
			if wd, ok := expandWord(p.d, cmd.Path, p.d.VarsAt(in)); ok {
				workdir = path.Join(workdir, wd)
			} else {
				workdir = ""
			}
			continue
		case *instructions.CopyCommand:
			c.Sources, c.Dest, c.From, c.Chmod = cmd.SourcePaths, cmd.DestPath, cmd.From, cmd.Chmod
		case *instructions.AddCommand:
			c.Sources, c.Dest, c.Chmod = cmd.SourcePaths, cmd.DestPath, cmd.Chmod
		default:
			continue
		}
		c.Workdir = workdir
		c.Dest, c.Known = expandWord(p.d, c.Dest, p.d.VarsAt(in))
		c.Full = c.Dest
		if !path.IsAbs(c.Full) && workdir != "" {
			c.Full = path.Join(workdir, c.Dest)
		}
		if line, why := each(c); why != "" {
			return line, why
		}
	}
	return 0, ""
}

// contextConfigs returns the build-context files a COPY of server's
// configuration brings, or the line and reason they cannot be read (made
// in another stage, or not in the context).
func (p *nonRootPlan) contextConfigs(c stageCopy, server string) ([]copiedFile, int, string) {
	if c.From != "" {
		return nil, c.In.Line, fmt.Sprintf("COPY --from=%s puts %s configuration into %s, made at build time where hardenfix cannot read it", c.From, server, c.Full)
	}
	files, problem := contextCopies(p.env.BuildContext, c.Sources, c.Dest, c.Workdir)
	if problem != "" {
		return nil, c.In.Line, fmt.Sprintf("line %d copies %s configuration into %s, which cannot be read (%s)", c.In.Line, server, c.Full, problem)
	}
	return files, 0, ""
}
