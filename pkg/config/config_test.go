package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	c, err := Parse("/repo/.hardenfix.yaml", []byte(`
rules:
  enable: [add-to-copy, non-root]
  disable: [pin]
options:
  uid: 20000
  user-name: svc
  target: runtime
  runtime-images:
    go: gcr.io/distroless/static-debian12:nonroot
  allowed-publishers: [official, distroless]
exclude: ["testdata", "legacy/*"]
catalog: ci/catalog.yaml
`))
	if err != nil {
		t.Fatal(err)
	}
	runtimes, _ := c.Options["runtime-images"].(map[string]string)
	publishers, _ := c.Options["allowed-publishers"].([]string)
	if len(c.Rules.Enable) != 2 || c.Rules.Disable[0] != "pin" || c.Options["uid"] != 20000 || c.Options["user-name"] != "svc" ||
		c.Options["target"] != "runtime" || runtimes["go"] == "" || len(publishers) != 2 {
		t.Errorf("parsed %+v", c)
	}
	if c.Catalog != filepath.Join("/repo", "ci", "catalog.yaml") {
		t.Errorf("catalog path not made relative to the config file: %q", c.Catalog)
	}
	if !c.Excludes("/repo/testdata/x/Dockerfile") || !c.Excludes("/repo/legacy/Dockerfile") || c.Excludes("/repo/svc/Dockerfile") {
		t.Error("exclude globs matched wrongly")
	}
}

func TestParseErrorsNameFileAndLine(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"rules:\n  enabel: [x]\n", `.hardenfix.yaml:2: unknown key "enabel"`},
		{"options:\n  uid: -1\n", "options.uid must be positive"},
		{"options:\n  user-name: x\n  uids: 3\n", `.hardenfix.yaml:3: unknown key "uids"`},
		{"options:\n  uid: ten\n  update-digests: maybe\n", ".hardenfix.yaml:2: cannot unmarshal !!str `ten` into int; .hardenfix.yaml:3: cannot unmarshal !!str `maybe` into bool"},
		{"options:\n  uid: 1\n  uid: 2\n", `.hardenfix.yaml:3: mapping key "uid" already defined at line 2`},
		{"exclude: ['[bad']\n", "bad exclude pattern"},
		{"rules: [\n", ".hardenfix.yaml:1: did not find expected node content"},
		{"colour: red\n", `.hardenfix.yaml:1: unknown key "colour"`},
	} {
		_, err := Parse(".hardenfix.yaml", []byte(tc.text))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want it to contain %q", tc.text, err, tc.want)
		}
	}
	if c, err := Parse("empty", nil); err != nil || c.Options["uid"] != nil {
		t.Errorf("an empty file: %v", err)
	}
}

func TestFinderWalksUpToRepoRoot(t *testing.T) {
	root := t.TempDir()
	repo := filepath.Join(root, "repo")
	for _, d := range []string{".git", "a/b/c", "sub/x"} {
		os.MkdirAll(filepath.Join(repo, d), 0o755)
	}
	// A config above the repository root must not apply.
	os.WriteFile(filepath.Join(root, FileName), []byte("rules:\n  disable: [add-to-copy]\n"), 0o644)
	os.WriteFile(filepath.Join(repo, FileName), []byte("options:\n  uid: 1\n"), 0o644)
	os.WriteFile(filepath.Join(repo, "sub", FileName), []byte("options:\n  uid: 2\n"), 0o644)
	f := NewFinder()
	for file, uid := range map[string]int{
		"a/b/c/Dockerfile": 1,
		"Dockerfile":       1,
		"sub/x/Dockerfile": 2,
		"sub/Dockerfile":   2,
	} {
		c, err := f.For(filepath.Join(repo, file))
		if err != nil {
			t.Fatal(err)
		}
		if c.Options["uid"] != uid {
			t.Errorf("%s: uid %v, want %d (from %s)", file, c.Options["uid"], uid, c.Path)
		}
	}
	// Outside any repository with no config: the zero config.
	lone := t.TempDir()
	c, err := f.For(filepath.Join(lone, "Dockerfile"))
	if err != nil || c.Path != "" && !strings.HasPrefix(c.Path, os.TempDir()) {
		t.Errorf("lone file: %+v %v", c, err)
	}
	// A broken config is an error for the files below it.
	os.WriteFile(filepath.Join(repo, "a", FileName), []byte("nope: 1\n"), 0o644)
	if _, err := NewFinder().For(filepath.Join(repo, "a", "b", "Dockerfile")); err == nil || !strings.Contains(err.Error(), ":1: unknown key") {
		t.Errorf("broken config: err = %v", err)
	}
}
