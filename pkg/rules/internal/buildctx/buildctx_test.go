package buildctx

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
)

func TestReadFileStaysInContext(t *testing.T) {
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("outside"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := t.TempDir()
	if err := os.WriteFile(filepath.Join(ctx, "go.mod"), []byte("module example.com/app\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(ctx, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{
		"out":      filepath.Join(outside, "secret"),
		"outdir":   outside,
		"in":       "go.mod",
		"sub/up":   "../go.mod",
		"sub/away": "../../" + filepath.Base(outside) + "/secret",
		"abs":      filepath.Join(ctx, "go.mod"),
		"sub/back": "../../" + filepath.Base(ctx) + "/go.mod",
		"insub":    "sub",
	} {
		if err := os.Symlink(target, filepath.Join(ctx, link)); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct{ src, want string }{
		{"go.mod", "module example.com/app\n"},
		{"/go.mod", "module example.com/app\n"},
		{"../../go.mod", "module example.com/app\n"}, // cleaned inside the context
		{"in", "module example.com/app\n"},
		{"sub/up", "module example.com/app\n"},
		{"insub/up", "module example.com/app\n"},
		{"abs", "module example.com/app\n"},      // absolute, but inside
		{"sub/back", "module example.com/app\n"}, // leaves and comes back
		{"out", ""},
		{"outdir/secret", ""},
		{"sub/away", ""},
		{"sub", ""}, // not a regular file
		{"missing", ""},
	}
	buildContext := rewrite.OpenContext(ctx)
	defer buildContext.Close()
	for _, tt := range tests {
		if got := ReadFile(buildContext, tt.src); got != tt.want {
			t.Errorf("ReadFile(%q) = %q, want %q", tt.src, got, tt.want)
		}
		f := Open(buildContext, tt.src)
		if (f != nil) != (tt.want != "") {
			t.Errorf("Open(%q) = %v, want a file: %v", tt.src, f, tt.want != "")
		}
		if f != nil {
			f.Close()
		}
	}
	if got := ReadFile(nil, "go.mod"); got != "" {
		t.Errorf("no context: got %q", got)
	}
	if Readable(nil) || !Readable(buildContext) {
		t.Errorf("Readable: nil %v, the context %v", Readable(nil), Readable(buildContext))
	}
	gone := rewrite.OpenContext(filepath.Join(ctx, "missing"))
	if Readable(gone) {
		t.Errorf("a context folder that does not exist is readable")
	}
}

func TestReadFileRefusesLargeFiles(t *testing.T) {
	ctx := t.TempDir()
	if err := os.WriteFile(filepath.Join(ctx, "big"), make([]byte, maxRead+1), 0o644); err != nil {
		t.Fatal(err)
	}
	buildContext := rewrite.OpenContext(ctx)
	defer buildContext.Close()
	if got := ReadFile(buildContext, "big"); got != "" {
		t.Errorf("ReadFile read a file over %d bytes", maxRead)
	}
	if f := Open(buildContext, "big"); f == nil {
		t.Errorf("Open refused a large file, which sniffing only reads the start of")
	} else {
		f.Close()
	}
}

// WalkDir sees a link at its root as a link, as filepath.WalkDir does, and
// never goes through a link below it.
func TestWalkDirKeepsLinks(t *testing.T) {
	ctx := t.TempDir()
	if err := os.MkdirAll(filepath.Join(ctx, "dir", "deep"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ctx, "dir", "deep", "f"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("dir", filepath.Join(ctx, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("deep", filepath.Join(ctx, "dir", "inner")); err != nil {
		t.Fatal(err)
	}
	buildContext := rewrite.OpenContext(ctx)
	defer buildContext.Close()
	walk := func(root string) []string {
		var seen []string
		err := WalkDir(buildContext, root, func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			seen = append(seen, fmt.Sprintf("%s %v", p, e.Type()))
			return nil
		})
		if err != nil {
			t.Errorf("WalkDir(%s): %v", root, err)
		}
		return seen
	}
	if got, want := walk("link"), []string{"link L---------"}; !slices.Equal(got, want) {
		t.Errorf("WalkDir(link) = %q, want %q", got, want)
	}
	if got, want := walk("dir"), []string{"dir d---------", "dir/deep d---------", "dir/deep/f ----------", "dir/inner L---------"}; !slices.Equal(got, want) {
		t.Errorf("WalkDir(dir) = %q, want %q", got, want)
	}
}
