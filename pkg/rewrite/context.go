package rewrite

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// DirContext is a build context on disk, an Env.BuildContext whose reads
// cannot leave the folder: names are fs.FS names (no "..", no leading
// "/"), and a symbolic link is followed only to a place inside it.
//
// Reads go through an os.Root, which follows relative links that stay
// inside. A link it refuses (an absolute one, one that leaves and comes
// back, a chain of more than 8) is followed when its target, after every
// link, is inside the folder: the file is then opened by that resolved
// name, again through the os.Root.
type DirContext struct {
	root *os.Root
	fsys fs.FS
	// real is the folder after symbolic links; err is why it could not
	// be opened (every read then fails with it).
	real string
	err  error
}

// OpenContext opens the folder dir as a build context. A folder that
// cannot be opened gives a context every read of which fails, so rules
// can tell a context they cannot read from none at all (a nil
// Env.BuildContext). Close it when the file it serves is done.
func OpenContext(dir string) *DirContext {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return &DirContext{err: err}
	}
	root, err := os.OpenRoot(real)
	if err != nil {
		return &DirContext{err: err}
	}
	return &DirContext{root: root, fsys: root.FS(), real: real}
}

// Close releases the folder.
func (c *DirContext) Close() error {
	if c.root == nil {
		return nil
	}
	return c.root.Close()
}

// Open opens the named file of the context.
func (c *DirContext) Open(name string) (fs.File, error) {
	if c.err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: c.err}
	}
	f, err := c.fsys.Open(name)
	if err == nil || !c.retry(name, err) {
		return f, err
	}
	if resolved, ok := c.resolve(name); ok {
		return c.fsys.Open(resolved)
	}
	return nil, err
}

// Lstat describes the named file without following it when it is a
// symbolic link (fs.ReadLinkFS).
func (c *DirContext) Lstat(name string) (fs.FileInfo, error) {
	if c.err != nil {
		return nil, &fs.PathError{Op: "lstat", Path: name, Err: c.err}
	}
	fi, err := fs.Lstat(c.fsys, name)
	if err == nil || !c.retry(name, err) || name == "." {
		return fi, err
	}
	if dir, ok := c.resolve(path.Dir(name)); ok {
		return fs.Lstat(c.fsys, path.Join(dir, path.Base(name)))
	}
	return nil, err
}

// ReadLink returns the target of the named symbolic link (fs.ReadLinkFS).
func (c *DirContext) ReadLink(name string) (string, error) {
	if c.err != nil {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: c.err}
	}
	target, err := fs.ReadLink(c.fsys, name)
	if err == nil || !c.retry(name, err) || name == "." {
		return target, err
	}
	if dir, ok := c.resolve(path.Dir(name)); ok {
		return fs.ReadLink(c.fsys, path.Join(dir, path.Base(name)))
	}
	return "", err
}

// retry says whether an error of the os.Root may be a link it refuses
// that still leads inside: not for a missing file or an invalid name.
func (c *DirContext) retry(name string, err error) bool {
	return fs.ValidPath(name) && !errors.Is(err, fs.ErrNotExist)
}

// resolve returns the name, free of symbolic links, of the file name
// leads to, when that is inside the context.
func (c *DirContext) resolve(name string) (string, bool) {
	p, err := filepath.EvalSymlinks(filepath.Join(c.real, filepath.FromSlash(name)))
	if err != nil {
		return "", false
	}
	if p == c.real {
		return ".", true
	}
	rel, ok := strings.CutPrefix(p, c.real+string(filepath.Separator))
	if !ok {
		return "", false
	}
	return filepath.ToSlash(rel), true
}
