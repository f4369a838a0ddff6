package buildctx

import (
	"io"
	"io/fs"
	"path"
)

// maxRead is the size of the largest file ReadFile reads: the files rules
// read whole (package.json, go.mod, requirements files, scripts) are small.
const maxRead = 1 << 20

// Name is the name in the context of the source src (slash-separated,
// relative to the context; "/x/../.." cannot leave it): "." for the
// context itself.
func Name(src string) string {
	if rel := path.Clean("/" + src)[1:]; rel != "" {
		return rel
	}
	return "."
}

// Readable says whether there is a build context and it can be read.
func Readable(fsys fs.FS) bool {
	if fsys == nil {
		return false
	}
	_, err := fs.Stat(fsys, ".")
	return err == nil
}

// Open opens a regular file of the build context (after symbolic links,
// which the context follows only inside it); nil when there is none.
func Open(fsys fs.FS, src string) fs.File {
	if fsys == nil {
		return nil
	}
	f, err := fsys.Open(Name(src))
	if err != nil {
		return nil
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil
	}
	return f
}

// ReadFile reads a small regular file of the build context; "" when there
// is none.
func ReadFile(fsys fs.FS, src string) string {
	f := Open(fsys, src)
	if f == nil {
		return ""
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || fi.Size() > maxRead {
		return ""
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return ""
	}
	return string(b)
}

// WalkDir walks the tree at the context name root like filepath.WalkDir:
// when root is a symbolic link, fn sees the link and the walk does not
// follow it (fs.WalkDir would), nor any link below it.
func WalkDir(fsys fs.FS, root string, fn fs.WalkDirFunc) error {
	fi, err := fs.Lstat(fsys, root)
	if err != nil {
		err = fn(root, nil, err)
	} else if fi.IsDir() {
		return fs.WalkDir(fsys, root, fn)
	} else {
		err = fn(root, fs.FileInfoToDirEntry(fi), nil)
	}
	if err == fs.SkipDir || err == fs.SkipAll {
		return nil
	}
	return err
}
