package addtocopy

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
)

// A source in the context is sniffed for archive magic, but not a file a
// symbolic link leads to outside the context: the build never sees it.
func TestArchiveInContextStaysInContext(t *testing.T) {
	outside := t.TempDir()
	gz := []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0}
	if err := os.WriteFile(filepath.Join(outside, "a.bin"), gz, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := t.TempDir()
	if err := os.WriteFile(filepath.Join(ctx, "b.bin"), gz, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "a.bin"), filepath.Join(ctx, "link.bin")); err != nil {
		t.Fatal(err)
	}
	buildContext := rewrite.OpenContext(ctx)
	defer buildContext.Close()
	for src, want := range map[string]string{
		"b.bin":    "gzip",
		"*.bin":    "gzip",
		"link.bin": "",
		"l*.bin":   "",
	} {
		if got := archiveInContext(buildContext, src); got != want {
			t.Errorf("archiveInContext(%q) = %q, want %q", src, got, want)
		}
	}
}
