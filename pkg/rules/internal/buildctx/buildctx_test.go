package buildctx

import (
	"os"
	"path/filepath"
	"testing"
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
		{"out", ""},
		{"outdir/secret", ""},
		{"sub/away", ""},
		{"sub", ""}, // not a regular file
		{"missing", ""},
	}
	for _, tt := range tests {
		if got := ReadFile(ctx, tt.src); got != tt.want {
			t.Errorf("ReadFile(%q) = %q, want %q", tt.src, got, tt.want)
		}
		f := Open(ctx, tt.src)
		if (f != nil) != (tt.want != "") {
			t.Errorf("Open(%q) = %v, want a file: %v", tt.src, f, tt.want != "")
		}
		if f != nil {
			f.Close()
		}
	}
	if got := ReadFile("", "go.mod"); got != "" {
		t.Errorf("no context: got %q", got)
	}
}

func TestReadFileRefusesLargeFiles(t *testing.T) {
	ctx := t.TempDir()
	if err := os.WriteFile(filepath.Join(ctx, "big"), make([]byte, maxRead+1), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := ReadFile(ctx, "big"); got != "" {
		t.Errorf("ReadFile read a file over %d bytes", maxRead)
	}
	if f := Open(ctx, "big"); f == nil {
		t.Errorf("Open refused a large file, which sniffing only reads the start of")
	} else {
		f.Close()
	}
}
