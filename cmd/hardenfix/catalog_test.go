package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hardenfix/hardenfix/pkg/registry"
)

func TestCatalogCommand(t *testing.T) {
	dir := t.TempDir()
	user := filepath.Join(dir, "acme.yaml")
	if err := os.WriteFile(user, []byte(`version: acme-1
mappings:
  team-x/node:
    source: https://wiki.acme.example/team-x-node
    reason: team-x/node was a plain re-tag of node
    family: debian
    libc: glibc
    tags:
      - match: '^(\d+)$'
        to: node:${1}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("mappings:\n  a/b: {source: 'https://x', reason: r, tags: [{match: '.*', to: 'nosuch/image:1'}]}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := runMain(context.Background(), append([]string{"hardenfix"}, args...), &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}

	code, out, _ := run("catalog")
	if code != 0 {
		t.Fatalf("catalog: exit %d", code)
	}
	printed, err := registry.ParseCatalog([]byte(out))
	if err != nil {
		t.Fatalf("printed catalog does not parse: %v", err)
	}
	if len(printed.Images) != len(registry.Embedded().Images) {
		t.Errorf("printed %d images, embedded has %d", len(printed.Images), len(registry.Embedded().Images))
	}

	for _, args := range [][]string{{"catalog", "--catalog", user}, {"--catalog", user, "catalog"}} {
		code, out, _ = run(args...)
		if code != 0 || !strings.Contains(out, "team-x/node:") || !strings.Contains(out, "version: "+registry.Embedded().Version+"+acme-1") {
			t.Errorf("%v: exit %d, merged catalog missing the user row:\n%.300s", args, code, out)
		}
	}

	code, _, errOut := run("catalog", "--catalog", bad)
	if code != exitError || !strings.Contains(errOut, "nosuch/image:1 is not a catalog image") {
		t.Errorf("bad catalog: exit %d, stderr %q", code, errOut)
	}

	// The merged catalog reaches the rules.
	df := filepath.Join(dir, "app", "Dockerfile")
	os.MkdirAll(filepath.Dir(df), 0o755)
	if err := os.WriteFile(df, []byte("FROM team-x/node:22\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ = run("--offline", "--enable", "rebase", "--catalog", user, filepath.Join(dir, "app"))
	if code != 0 || !strings.Contains(out, "+FROM node:22\n") {
		t.Errorf("rebase with a user mapping: exit %d, diff:\n%s", code, out)
	}
	code, out, _ = run("--offline", "--enable", "rebase", filepath.Join(dir, "app"))
	if code != 0 || out != "" {
		t.Errorf("without the user catalog nothing is known about team-x/node: exit %d, diff:\n%s", code, out)
	}
}
