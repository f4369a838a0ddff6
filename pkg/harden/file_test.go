package harden

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestVanishedFile(t *testing.T) {
	// A file found by discovery and gone by the time it is read.
	gone := filepath.Join(t.TempDir(), "Dockerfile")
	h, err := New(Options{Offline: true, Write: true})
	if err != nil {
		t.Fatal(err)
	}
	r := h.file(context.Background(), gone, "")
	if r.Err == nil || !strings.Contains(r.Err.Error(), gone) {
		t.Errorf("err = %v, want one naming %s", r.Err, gone)
	}
	if _, err := os.Stat(gone); !os.IsNotExist(err) {
		t.Error("the vanished file was recreated")
	}
}
