package harden_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hardenfix/hardenfix/pkg/harden"
	"github.com/hardenfix/hardenfix/pkg/rewrite"
)

// These tests use the public API only, as a program outside the module would.

const addDockerfile = "FROM alpine:3.20\nADD app.sh /app.sh\n"

func writeTree(t *testing.T, files map[string]string, mode os.FileMode) string {
	t.Helper()
	root := t.TempDir()
	for rel, data := range files {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // umask
			t.Fatal(err)
		}
	}
	return root
}

func TestTreeWritesAtomicallyAndKeepsTheMode(t *testing.T) {
	root := writeTree(t, map[string]string{
		"b/Dockerfile":       addDockerfile,
		"a/Containerfile":    addDockerfile,
		"c/Dockerfile":       "FROM scratch\nCOPY app /app\n", // nothing to do
		"c/.hardenfix.yaml":  "exclude:\n  - Dockerfile.skip\n",
		"c/Dockerfile.skip":  addDockerfile,
		"notes/README.md":    "ADD is not a Dockerfile here\n",
		"d/Dockerfile.other": "FROM alpine:3.20\nMAINTAINER me\n",
	}, 0o640)
	before := inode(t, filepath.Join(root, "b", "Dockerfile"))

	var got []string
	err := harden.Tree(context.Background(), []string{root}, harden.Options{Offline: true, Write: true, Enable: []string{"add-to-copy", "maintainer"}}, func(r harden.Result) error {
		if r.Err != nil {
			t.Errorf("%s: %v", r.Path, r.Err)
			return nil
		}
		rel, _ := filepath.Rel(root, r.Path)
		switch {
		case r.Skipped:
			got = append(got, filepath.ToSlash(rel)+" skipped")
		case r.Rewrite.Changed():
			got = append(got, filepath.ToSlash(rel)+" changed")
		default:
			got = append(got, filepath.ToSlash(rel)+" unchanged")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a/Containerfile changed", "b/Dockerfile changed", "c/Dockerfile unchanged", "c/Dockerfile.skip skipped", "d/Dockerfile.other changed"}
	if !slices.Equal(got, want) {
		t.Errorf("results = %q, want %q (path order)", got, want)
	}

	p := filepath.Join(root, "b", "Dockerfile")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != "FROM alpine:3.20\nCOPY app.sh /app.sh\n" {
		t.Errorf("written file = %q", data)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode = %v, want 0640 kept", fi.Mode().Perm())
	}
	// Atomic: the new content is a new file renamed over the old one, and
	// no temporary file is left beside it.
	if inode(t, p) == before {
		t.Error("file rewritten in place, not replaced by a rename")
	}
	entries, _ := os.ReadDir(filepath.Join(root, "b"))
	if len(entries) != 1 {
		t.Errorf("folder b holds %d entries, want only the Dockerfile", len(entries))
	}
	if data, _ := os.ReadFile(filepath.Join(root, "c", "Dockerfile.skip")); string(data) != addDockerfile {
		t.Error("a file its configuration excludes was written")
	}
}

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		t.Skip("no inode numbers on this system")
	}
	return st.Ino
}

func TestTreeWithoutWriteChangesNothing(t *testing.T) {
	root := writeTree(t, map[string]string{"Dockerfile": addDockerfile}, 0o644)
	n := 0
	err := harden.Tree(context.Background(), []string{root}, harden.Options{Offline: true}, func(r harden.Result) error {
		n++
		if r.Err != nil || !r.Rewrite.Changed() {
			t.Errorf("result: err %v, changed %v", r.Err, r.Rewrite != nil && r.Rewrite.Changed())
		}
		return nil
	})
	if err != nil || n != 1 {
		t.Fatalf("Tree: %v, %d results", err, n)
	}
	if data, _ := os.ReadFile(filepath.Join(root, "Dockerfile")); string(data) != addDockerfile {
		t.Error("file changed without Write")
	}
}

func TestTreeStopsWhenEachFails(t *testing.T) {
	files := map[string]string{}
	for _, d := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
		files[d+"/Dockerfile"] = addDockerfile
	}
	root := writeTree(t, files, 0o644)
	stop := errors.New("stop")
	n := 0
	err := harden.Tree(context.Background(), []string{root}, harden.Options{Offline: true, Jobs: 1}, func(r harden.Result) error {
		n++
		if n == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 2 {
		t.Errorf("Tree = %v after %d results, want the callback's error after 2", err, n)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	for _, opts := range []harden.Options{
		{Offline: true, Enable: []string{"no-such-rule"}},
		{Offline: true, UID: -1},
		{Offline: true, ConfigFile: filepath.Join(t.TempDir(), "missing.yaml")},
	} {
		if _, err := harden.New(opts); err == nil {
			t.Errorf("New(%+v): no error", opts)
		}
	}
	if _, err := harden.LoadCatalog(filepath.Join(t.TempDir(), "missing.yaml")); err == nil || !strings.HasPrefix(err.Error(), "catalog") {
		t.Errorf("LoadCatalog(missing) = %v, want an error starting with catalog", err)
	}
}

// TestDemoMatchesTheCommand hardens examples/demo through the library and
// compares its diffs with the command's golden output (cmd/hardenfix
// checks that the command still prints exactly that golden).
func TestDemoMatchesTheCommand(t *testing.T) {
	want, err := os.ReadFile(filepath.Join("..", "..", "cmd", "hardenfix", "testdata", "demo-offline.diff"))
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(filepath.Join("..", ".."))
	var got strings.Builder
	err = harden.Tree(context.Background(), []string{"examples/demo"}, harden.Options{Offline: true}, func(r harden.Result) error {
		if r.Err != nil {
			return r.Err
		}
		if r.Rewrite.Changed() {
			got.WriteString(rewrite.UnifiedDiff(r.Name, r.Rewrite.Old, r.Rewrite.New))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != string(want) {
		t.Errorf("library diffs differ from the command's golden:\n%s", got.String())
	}
}

// TestTreeHoldsABoundedWindow checks the property that keeps memory flat:
// while the callback holds the first result, at most 2×Jobs files have
// been processed, however many the tree has. With Write, a processed
// file is visible on disk, so the test counts rewritten files.
func TestTreeHoldsABoundedWindow(t *testing.T) {
	const n, jobs = 40, 2
	files := map[string]string{}
	for i := range n {
		files[fmt.Sprintf("d%02d/Dockerfile", i)] = addDockerfile
	}
	root := writeTree(t, files, 0o644)
	first := true
	err := harden.Tree(context.Background(), []string{root}, harden.Options{Offline: true, Write: true, Jobs: jobs, Enable: []string{"add-to-copy"}}, func(r harden.Result) error {
		if !first {
			return nil
		}
		first = false
		// Give the workers every chance to run ahead; the bound must hold.
		time.Sleep(100 * time.Millisecond)
		written := 0
		for rel := range files {
			data, err := os.ReadFile(filepath.Join(root, rel))
			if err == nil && string(data) != addDockerfile {
				written++
			}
		}
		if written > 2*jobs {
			t.Errorf("%d of %d files processed while the first result was held; want at most %d", written, n, 2*jobs)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
