package rewrite

import (
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"testing/fstest"
)

// contextTree makes a context folder beside a folder outside it holding
// secret, with the symbolic links links (name to target) in the context.
func contextTree(t *testing.T, links map[string]string) (ctx, outside string) {
	t.Helper()
	base := t.TempDir()
	ctx, outside = filepath.Join(base, "ctx"), filepath.Join(base, "outside")
	for _, dir := range []string{filepath.Join(ctx, "sub"), outside} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, text := range map[string]string{filepath.Join(outside, "secret"): "outside", filepath.Join(ctx, "go.mod"): "inside"} {
		if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, target := range links {
		target = os.Expand(target, func(v string) string { return map[string]string{"CTX": ctx, "OUT": outside}[v] })
		if err := os.Symlink(target, filepath.Join(ctx, filepath.FromSlash(name))); err != nil {
			t.Skip("no symbolic links here:", err)
		}
	}
	return ctx, outside
}

// Reads never leave the context: not by "..", not by a symbolic link out
// (absolute or relative, as the file or as a folder on the way to it).
// Links that end inside are followed, whatever their form, as the context
// reader before the os.Root did (filepath.EvalSymlinks, then a check).
func TestOpenContextStaysInside(t *testing.T) {
	links := map[string]string{
		"out":      "$OUT/secret",
		"outdir":   "$OUT",
		"rel":      "go.mod",
		"sub/up":   "../go.mod",
		"sub/away": "../../outside/secret",
		"abs":      "$CTX/go.mod",
		"absdir":   "$CTX/sub",
		"sub/back": "../../ctx/go.mod",
		"dirlink":  "sub",
		"c0":       "go.mod",
	}
	for i := 1; i <= 10; i++ { // longer than os.Root's chain of 8
		links["c"+strconv.Itoa(i)] = "c" + strconv.Itoa(i-1)
	}
	ctx, _ := contextTree(t, links)
	c := OpenContext(ctx)
	defer c.Close()
	for _, tt := range []struct{ name, want string }{
		{"go.mod", "inside"},
		{"rel", "inside"},
		{"sub/up", "inside"},
		{"dirlink/up", "inside"},
		{"abs", "inside"},
		{"absdir/up", "inside"},
		{"sub/back", "inside"},
		{"c10", "inside"},
		{"out", ""},
		{"outdir/secret", ""},
		{"sub/away", ""},
		{"../outside/secret", ""},
		{"sub/../go.mod", ""}, // not an fs.FS name
		{"/go.mod", ""},
		{"missing", ""},
	} {
		b, err := fs.ReadFile(c, tt.name)
		if got := string(b); got != tt.want || (err == nil) != (tt.want != "") {
			t.Errorf("ReadFile(%q) = %q, %v; want %q", tt.name, got, err, tt.want)
		}
		if _, err := fs.Stat(c, tt.name); (err == nil) != (tt.want != "") {
			t.Errorf("Stat(%q): %v", tt.name, err)
		}
	}
	if entries, err := fs.ReadDir(c, "outdir"); err == nil {
		t.Errorf("ReadDir(outdir) listed %v outside the context", entries)
	}
	if _, err := fs.Lstat(c, "outdir/secret"); err == nil {
		t.Errorf("Lstat went through a link out of the context")
	}
	if fi, err := fs.Lstat(c, "absdir/up"); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("Lstat(absdir/up) = %v, %v; want the link sub/up", fi, err)
	}
	if target, err := fs.ReadLink(c, "out"); err != nil || target == "" {
		t.Errorf("ReadLink(out) = %q, %v; the link itself is in the context", target, err)
	}
	if matches, err := fs.Glob(c, "outdir/*"); err != nil || len(matches) != 0 {
		t.Errorf("Glob(outdir/*) = %v, %v", matches, err)
	}
}

// The context is an fs.FS by the book, links inside and all.
func TestOpenContextIsAnFS(t *testing.T) {
	ctx, _ := contextTree(t, map[string]string{"rel": "go.mod", "dirlink": "sub"})
	if err := os.WriteFile(filepath.Join(ctx, "sub", "f"), []byte("f"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := OpenContext(ctx)
	defer c.Close()
	if err := fstest.TestFS(c, "go.mod", "rel", "sub/f", "dirlink"); err != nil {
		t.Error(err)
	}
}

// A folder that cannot be opened is a context every read of which fails:
// rules tell it from no context at all (a nil BuildContext).
func TestOpenContextMissing(t *testing.T) {
	c := OpenContext(filepath.Join(t.TempDir(), "none"))
	if _, err := fs.Stat(c, "."); err == nil {
		t.Error("a missing folder can be read")
	}
	if _, err := fs.Lstat(c, "x"); err == nil {
		t.Error("a missing folder has files")
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}
