package harden

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"unicode"
)

// contextDir is the build context the rules read for the Dockerfile at
// path when neither Options.ContextDir nor the file's configuration
// (verify.context) names one.
//
// Many repositories keep Dockerfiles in a folder (docker/, deploy/prod/)
// and build them from the repository root, so the Dockerfile's folder is
// often not the context: its COPY sources are not there, and a rule that
// looks for the entrypoint script or the nginx configuration there would
// not find them and judge without them. So the folders from the
// Dockerfile's up to stop (the folder the walk started from) are tried in
// turn, stopping also at a folder that holds .git, and the first in which
// every source that COPY and ADD name from the context exists is the
// context. When the Dockerfile names no such source, or no folder holds
// them all, it is the Dockerfile's folder, as docker build -f would need
// if run there.
func contextDir(path, stop string, src []byte) string {
	dir := filepath.Dir(path)
	sources := contextSources(src)
	if len(sources) == 0 || stop == "" {
		return dir
	}
	stop = filepath.Clean(stop)
	for cand := dir; ; {
		if allExist(cand, sources) {
			return cand
		}
		if cand == stop || !within(cand, stop) || isDir(filepath.Join(cand, ".git")) {
			return dir
		}
		parent := filepath.Dir(cand)
		if parent == cand {
			return dir
		}
		cand = parent
	}
}

// contextSources are the sources of the file's COPY and ADD instructions
// that name plain paths of the build context: not a stage or image
// (--from), a URL, a git address, a heredoc, the JSON form or a word with
// variables or quotes, which this quick read cannot tell. It reads lines,
// joining backslash continuations; a file with another escape character
// gives none.
func contextSources(src []byte) []string {
	if bytes.Contains(src, []byte("escape=`")) {
		return nil
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(src))
	sc.Buffer(nil, 4<<20) // grown from a few kilobytes as long lines need
	var line strings.Builder
	for sc.Scan() {
		text := bytes.TrimRight(sc.Bytes(), " \t\r")
		if t := bytes.TrimSpace(text); bytes.HasPrefix(t, []byte("#")) && line.Len() > 0 {
			continue // a comment inside a continuation
		}
		continued := bytes.HasSuffix(text, []byte(`\`))
		if !continued && line.Len() == 0 {
			// A line of its own, as most are: made a string only when
			// it may be a COPY or ADD.
			if mayCopy(text) {
				out = append(out, copySources(string(text))...)
			}
			continue
		}
		if continued {
			line.Write(text[:len(text)-1])
			line.WriteByte(' ')
			continue
		}
		line.Write(text)
		out = append(out, copySources(line.String())...)
		line.Reset()
	}
	return out
}

// mayCopy reports whether line's first word may be COPY or ADD, which
// copySources asks of it: ASCII letters, so a prefix of its bytes.
func mayCopy(line []byte) bool {
	t := bytes.TrimLeftFunc(line, unicode.IsSpace)
	return len(t) >= 3 && bytes.EqualFold(t[:3], []byte("ADD")) || len(t) >= 4 && bytes.EqualFold(t[:4], []byte("COPY"))
}

// copySources reads one instruction line (see contextSources).
func copySources(line string) []string {
	words := strings.Fields(line)
	if len(words) < 3 || !strings.EqualFold(words[0], "COPY") && !strings.EqualFold(words[0], "ADD") {
		return nil
	}
	args := words[1:]
	for len(args) > 0 && strings.HasPrefix(args[0], "--") {
		if strings.HasPrefix(args[0], "--from") {
			return nil
		}
		args = args[1:]
	}
	if len(args) < 2 || strings.HasPrefix(args[0], "[") {
		return nil
	}
	var out []string
	for _, s := range args[:len(args)-1] {
		if strings.ContainsAny(s, "$\"'`") || strings.Contains(s, "://") || strings.HasPrefix(s, "<<") || strings.HasPrefix(s, "git@") {
			continue
		}
		out = append(out, s)
	}
	return out
}

// allExist reports whether every source is in dir (a glob: matches
// something there). A source is read relative to the context even when it
// starts with a slash.
func allExist(dir string, sources []string) bool {
	for _, s := range sources {
		p := filepath.Join(dir, filepath.FromSlash(strings.TrimLeft(s, "/")))
		if strings.ContainsAny(s, "*?[") {
			if m, err := filepath.Glob(p); err != nil || len(m) == 0 {
				return false
			}
			continue
		}
		if _, err := os.Lstat(p); err != nil {
			return false
		}
	}
	return true
}

// within reports whether dir is stop or below it.
func within(dir, stop string) bool {
	rel, err := filepath.Rel(stop, dir)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
