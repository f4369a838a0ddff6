package files

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestIsDockerfileName(t *testing.T) {
	yes := []string{"Dockerfile", "dockerfile", "Containerfile", "containerfile", "Dockerfile.dev",
		"dockerfile.prod", "Dockerfile.alpine", "Dockerfile.oracle", "Dockerfile.windows", "Dockerfile.ubi9", "Containerfile.arm64", "app.Dockerfile", "app.dockerfile", "x.containerfile", "x.Containerfile"}
	no := []string{"Dockerfile.dockerignore", "app.Dockerfile.dockerignore", "Containerfile.containerignore", "DOCKERFILE",
		"Dockerfiles", "mydockerfile", "Dockerfile.", ".Dockerfile", "docker-compose.yml", "README.md", "dockerfile_test.go",
		"Dockerfile.template", "Dockerfile.j2", "dockerfile.yaml", "Dockerfile.md", "Dockerfile.orig",
		"Dockerfile.in", "Dockerfile.TMPL", "app.Dockerfile.bak"}
	for _, n := range yes {
		if !IsDockerfileName(n) {
			t.Errorf("IsDockerfileName(%q) = false, want true", n)
		}
	}
	for _, n := range no {
		if IsDockerfileName(n) {
			t.Errorf("IsDockerfileName(%q) = true, want false", n)
		}
	}
}

func write(t *testing.T, root, rel, data string) string {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDiscover(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	for _, rel := range []string{
		"Dockerfile", "svc/api/Dockerfile.prod", "svc/web/web.Dockerfile", "Containerfile",
		".git/Dockerfile", "node_modules/pkg/Dockerfile", "vendor/x/Dockerfile",
		"testdata/Dockerfile", "docs/README.md", "svc/api/Dockerfile.dockerignore",
		"svc/go/Dockerfile.go", "tmpl/Dockerfile.template",
	} {
		write(t, root, rel, "FROM scratch\n")
	}
	// Program source named like a Dockerfile is not one; a Dockerfile.py
	// that starts with comments and an ARG is.
	write(t, root, "frontend/dockerfile.go", "// Package dockerfile builds images.\npackage dockerfile\n")
	write(t, root, "svc/py/Dockerfile.py", "# syntax=docker/dockerfile:1\n\n# the Python service\narg BASE=python:3.12\nFROM $BASE\n")
	write(t, outside, "Dockerfile", "FROM scratch\n")
	// A link out of the tree, and a link inside it, are both not followed.
	if err := os.Symlink(outside, filepath.Join(root, "linked")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(root, "Dockerfile"), filepath.Join(root, "svc", "Dockerfile")); err != nil {
		t.Fatal(err)
	}
	got, err := Discover([]string{root}, []string{"testdata"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		got[i] = filepath.ToSlash(strings.TrimPrefix(got[i], root+string(filepath.Separator)))
	}
	want := []string{"Containerfile", "Dockerfile", "svc/api/Dockerfile.prod", "svc/go/Dockerfile.go", "svc/py/Dockerfile.py", "svc/web/web.Dockerfile"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Discover = %q, want %q", got, want)
	}

	// A file named explicitly is processed whatever its name; duplicates collapse.
	odd := write(t, root, "docs/build.txt", "FROM scratch\n")
	got, err = Discover([]string{odd, odd, filepath.Join(root, "svc", "api")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != odd {
		t.Errorf("explicit paths: got %q", got)
	}

	if _, err := Discover([]string{filepath.Join(root, "missing")}, nil); err == nil {
		t.Error("a missing path gave no error")
	}
	if _, err := Discover([]string{root}, []string{"[bad"}); err == nil || !strings.Contains(err.Error(), "--exclude") {
		t.Errorf("a bad glob gave %v", err)
	}
}

func TestDiscoverExcludeRelativePath(t *testing.T) {
	root := t.TempDir()
	write(t, root, "a/Dockerfile", "FROM scratch\n")
	write(t, root, "b/Dockerfile", "FROM scratch\n")
	got, err := Discover([]string{root}, []string{"a/*"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !strings.HasSuffix(filepath.ToSlash(got[0]), "b/Dockerfile") {
		t.Errorf("got %q", got)
	}
}

func TestReadRefusesLargeAndSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "Dockerfile")
	if err := os.WriteFile(big, []byte(strings.Repeat("# padding\n", 1<<20)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(big); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("10 MB file: err = %v", err)
	}
	if _, err := Read(dir); err == nil {
		t.Error("a directory was read as a file")
	}
	if _, err := Read(filepath.Join(dir, "gone")); !os.IsNotExist(err) {
		t.Errorf("missing file: err = %v", err)
	}
}

func TestWriteAtomic(t *testing.T) {
	dir := t.TempDir()
	p := write(t, dir, "Dockerfile", "old\n")
	if err := os.Chmod(p, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := WriteAtomic(p, []byte("old\n"), []byte("new\n")); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(p)
	fi, _ := os.Stat(p)
	if string(got) != "new\n" || fi.Mode().Perm() != 0o640 {
		t.Errorf("got %q mode %v", got, fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}

	// The file changed since it was read: not written.
	if err := WriteAtomic(p, []byte("old\n"), []byte("newer\n")); err == nil || !strings.Contains(err.Error(), "changed") {
		t.Errorf("changed file: err = %v", err)
	}
	// Read-only: not written, even as root.
	if err := os.Chmod(p, 0o444); err != nil {
		t.Fatal(err)
	}
	if err := WriteAtomic(p, []byte("new\n"), []byte("x\n")); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("read-only file: err = %v", err)
	}
	if got, _ := os.ReadFile(p); string(got) != "new\n" {
		t.Errorf("read-only file was changed to %q", got)
	}
	// Vanished: an error, nothing created.
	gone := filepath.Join(dir, "Gone")
	if err := WriteAtomic(gone, []byte("a"), []byte("b")); err == nil {
		t.Error("writing a vanished file gave no error")
	}
	if _, err := os.Stat(gone); !os.IsNotExist(err) {
		t.Error("a vanished file was recreated")
	}
}

func TestWriteAtomicKeepsSymlink(t *testing.T) {
	dir := t.TempDir()
	target := write(t, dir, "real/Dockerfile", "old\n")
	link := filepath.Join(dir, "Dockerfile")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := WriteAtomic(link, []byte("old\n"), []byte("new\n")); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Lstat(link); fi.Mode()&os.ModeSymlink == 0 {
		t.Error("the symbolic link was replaced by a file")
	}
	if got, _ := os.ReadFile(target); string(got) != "new\n" {
		t.Errorf("target = %q", got)
	}
}
