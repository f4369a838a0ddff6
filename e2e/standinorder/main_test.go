package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestRealStandins checks the order on the real e2e/standins folder: every
// stand-in comes after the stand-ins it starts FROM, and the two that are
// built on another one (node-full on node, python-full on python) are seen
// as such, so a fresh machine builds them in an order that works.
func TestRealStandins(t *testing.T) {
	dir := filepath.Join("..", "standins")
	order, err := buildOrder(dir)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var folders []string
	for _, e := range entries {
		if e.IsDir() {
			folders = append(folders, e.Name())
		}
	}
	if got := slices.Sorted(slices.Values(order)); !slices.Equal(got, folders) {
		t.Fatalf("order %v does not hold every folder %v exactly once", order, folders)
	}
	owner := map[string]string{}
	all := map[string]standin{}
	for _, name := range folders {
		s, err := readStandin(filepath.Join(dir, name, "Containerfile"))
		if err != nil {
			t.Fatal(err)
		}
		all[name] = s
		for _, img := range s.images {
			owner[img] = name
		}
	}
	pos := map[string]int{}
	for i, name := range order {
		pos[name] = i
	}
	for name, s := range all {
		for _, from := range s.froms {
			if o, ok := owner[from]; ok && pos[o] > pos[name] {
				t.Errorf("%s is built before %s, which it starts FROM (%s)", name, o, from)
			}
		}
	}
	for _, pair := range [][2]string{{"node", "node-full"}, {"python", "python-full"}} {
		if _, ok := pos[pair[1]]; ok && pos[pair[0]] > pos[pair[1]] {
			t.Errorf("%s must be built before %s; order %v", pair[0], pair[1], order)
		}
	}
}

func write(t *testing.T, dir, name, containerfile string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name, "Containerfile"), []byte(containerfile), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestOrder(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string // folders joined by spaces, or "error: substring"
	}{
		{
			name: "chain against name order",
			files: map[string]string{
				"a-top":  "# image: top:1\nFROM mid:1\n",
				"b-mid":  "# image: mid:1\nFROM docker.io/library/base:1\n",
				"c-base": "# image: base:1\nFROM debian:bookworm-slim\n",
			},
			want: "c-base b-mid a-top",
		},
		{
			name: "short and long spellings are the same image",
			files: map[string]string{
				"a": "# image: docker.io/library/node:18-slim\nFROM debian\n",
				"b": "# image: x:1\nFROM node:18-slim AS n\nFROM n\n",
			},
			want: "a b",
		},
		{
			name: "a stage alias is not an image",
			files: map[string]string{
				"a": "# image: files:1\nFROM debian AS files\nFROM files\n",
				"b": "# image: b:1\nFROM scratch\n",
			},
			want: "a b",
		},
		{
			name: "cycle",
			files: map[string]string{
				"a": "# image: a:1\nFROM b:1\n",
				"b": "# image: b:1\nFROM a:1\n",
			},
			want: "error: cycle",
		},
		{
			name:  "no image line",
			files: map[string]string{"a": "FROM debian\n"},
			want:  "error: no '# image: NAME' line",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, text := range tt.files {
				write(t, dir, name, text)
			}
			order, err := buildOrder(dir)
			if want, ok := strings.CutPrefix(tt.want, "error: "); ok {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("got %v, %v; want an error containing %q", order, err, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(order, " "); got != tt.want {
				t.Errorf("order %q, want %q", got, tt.want)
			}
		})
	}
}
