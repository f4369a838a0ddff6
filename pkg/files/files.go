// Package files finds Dockerfiles in a tree and reads and writes them
// safely: reads are bounded, writes are atomic (temporary file + rename in
// the same folder, mode kept) and refuse to clobber a file that changed
// under them.
package files

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// skippedDirs are never descended into: version control, and dependency
// trees whose Dockerfiles belong to other projects.
var skippedDirs = map[string]bool{".git": true, "node_modules": true, "vendor": true}

// notDockerfileExt are extensions that make Dockerfile.EXT something else:
// configuration and documents about Dockerfiles, templates that generate
// them (Dockerfile.template, Dockerfile.j2: not Dockerfiles until
// rendered), patches, backups and ignore files.
var notDockerfileExt = map[string]bool{
	"json": true, "yaml": true, "yml": true, "toml": true, "xml": true, "ini": true, "lock": true,
	"md": true, "rst": true, "adoc": true, "html": true, "txt": true,
	"template": true, "tmpl": true, "tpl": true, "j2": true, "jinja": true, "jinja2": true,
	"erb": true, "mustache": true, "hbs": true, "gotmpl": true, "in": true,
	"patch": true, "diff": true, "orig": true, "rej": true, "bak": true, "swp": true,
	"dockerignore": true, "containerignore": true,
}

// sourceExt are extensions of program source. Dockerfile.go may be Go
// source (BuildKit has one) or the Dockerfile of a Go service, so the
// walk reads such a file and keeps it only when it looks like a
// Dockerfile (looksLikeDockerfile).
var sourceExt = map[string]bool{
	"go": true, "py": true, "js": true, "mjs": true, "cjs": true, "ts": true, "rb": true, "rs": true,
	"java": true, "kt": true, "cs": true, "php": true, "pl": true, "sh": true, "bash": true, "ps1": true,
	"c": true, "h": true, "cc": true, "cpp": true, "swift": true, "scala": true, "lua": true,
}

// lastExt is a name's last extension in lower case.
func lastExt(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return strings.ToLower(name[i+1:])
	}
	return ""
}

// IsDockerfileName reports whether a file name is one hardenfix treats as a
// Dockerfile: Dockerfile, Containerfile, *.Dockerfile, *.containerfile,
// Dockerfile.*, Containerfile.* (the first letter of the word in either
// case). A name whose last extension says it is something else — ignore
// files (Dockerfile.dockerignore), templates, documents, patches and
// backups (notDockerfileExt) — is not a Dockerfile.
func IsDockerfileName(name string) bool {
	if notDockerfileExt[lastExt(name)] {
		return false
	}
	for _, word := range []string{"ockerfile", "ontainerfile"} {
		for _, first := range firstLetters(word) {
			w := first + word
			if name == w || strings.HasPrefix(name, w+".") && len(name) > len(w)+1 || strings.HasSuffix(name, "."+w) && len(name) > len(w)+1 {
				return true
			}
		}
	}
	return false
}

func firstLetters(word string) []string {
	if word == "ockerfile" {
		return []string{"D", "d"}
	}
	return []string{"C", "c"}
}

// Discover returns the Dockerfiles under roots, sorted and without
// duplicates. A root that is a file is always included, whatever its name.
// Directories are walked without following symbolic links, skipping .git,
// node_modules, vendor and anything an exclude glob matches (against the
// path relative to the root, or any single path element).
func Discover(roots, excludes []string) ([]string, error) {
	for _, g := range excludes {
		if _, err := path.Match(g, ""); err != nil {
			return nil, fmt.Errorf("bad --exclude pattern %q: %w", g, err)
		}
	}
	seen := map[string]bool{}
	var out []string
	add := func(p string) {
		p = filepath.Clean(p)
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, root := range roots {
		fi, err := os.Stat(root)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			add(root)
			continue
		}
		walkRoot := root
		if lfi, err := os.Lstat(root); err == nil && lfi.Mode()&fs.ModeSymlink != 0 {
			// The user named this link; follow it, but nothing below it.
			walkRoot = root + string(filepath.Separator)
		}
		err = filepath.WalkDir(walkRoot, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(walkRoot, p)
			if p != walkRoot && Excluded(filepath.ToSlash(rel), excludes) {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			switch {
			case d.Type()&fs.ModeSymlink != 0:
				return nil
			case d.IsDir():
				if p != walkRoot && skippedDirs[d.Name()] {
					return filepath.SkipDir
				}
			case d.Type().IsRegular() && IsDockerfileName(d.Name()):
				if !sourceExt[lastExt(d.Name())] || looksLikeDockerfile(p) {
					add(p)
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(out)
	return out, nil
}

// looksLikeDockerfile reports whether the file's first line that is not
// blank or a comment starts with an instruction a Dockerfile can start
// with (FROM, or ARG before the first FROM). Used only for names that may
// as well be program source.
func looksLikeDockerfile(name string) bool {
	f, err := os.Open(name)
	if err != nil {
		return true // let reading it report the error
	}
	defer f.Close()
	buf := make([]byte, 8192)
	n, _ := io.ReadFull(f, buf)
	for _, line := range strings.Split(string(buf[:n]), "\n") {
		line = strings.TrimSpace(strings.TrimPrefix(line, "\ufeff"))
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		word, _, _ := strings.Cut(line, " ")
		word, _, _ = strings.Cut(word, "\t")
		return strings.EqualFold(word, "FROM") || strings.EqualFold(word, "ARG")
	}
	return false
}

// Excluded reports whether a slash-separated relative path matches one of
// the globs, as a whole or in any one of its elements (so "testdata"
// excludes every testdata folder).
func Excluded(rel string, globs []string) bool {
	for _, g := range globs {
		if ok, _ := path.Match(g, rel); ok {
			return true
		}
		for _, elem := range strings.Split(rel, "/") {
			if ok, _ := path.Match(g, elem); ok {
				return true
			}
		}
	}
	return false
}

// MaxSize is the largest file Read accepts.
const MaxSize = 4 << 20

// Read reads a Dockerfile, refusing anything that is not a regular file or
// is larger than MaxSize without reading all of it.
func Read(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", name)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(data) > MaxSize {
		return nil, fmt.Errorf("%s: larger than %d bytes; not a Dockerfile hardenfix will rewrite", name, MaxSize)
	}
	return data, nil
}

// ErrChanged means the file on disk is no longer what was read.
var ErrChanged = errors.New("file changed on disk while hardenfix ran; not written")

// WriteAtomic replaces the file name, whose content was old when read, with
// data: it writes a temporary file in the same folder with the original
// mode, then renames it over the original, so a reader sees either the old
// or the new file, never half of one. A symbolic link is kept and its
// target written. A read-only file, or one whose content is no longer old,
// is left alone with an error.
func WriteAtomic(name string, old, data []byte) (err error) {
	target, err := filepath.EvalSymlinks(name)
	if err != nil {
		return err
	}
	fi, err := os.Stat(target)
	if err != nil {
		return err
	}
	if fi.Mode().Perm()&0o222 == 0 {
		return fmt.Errorf("%s: file is read-only; not written", name)
	}
	current, err := Read(target)
	if err != nil {
		return err
	}
	if !bytes.Equal(current, old) {
		return fmt.Errorf("%s: %w", name, ErrChanged)
	}
	return replace(target, data, fi.Mode().Perm())
}

// WriteNew writes data to name atomically (temporary file + rename), for
// outputs such as reports that may or may not exist yet. An existing file
// keeps its mode; a new one gets 0644.
func WriteNew(name string, data []byte) error {
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(name); err == nil {
		mode = fi.Mode().Perm()
	}
	return replace(name, data, mode)
}

// replace writes data to a temporary file in name's folder and renames it
// over name, so readers see the old or the new file, never half of one.
func replace(name string, data []byte, mode os.FileMode) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".hardenfix-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Chmod(mode); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), name)
}
