package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/hardenfix/hardenfix/pkg/sbom"
	"github.com/hardenfix/hardenfix/pkg/scan"
)

// fakeTrivy puts a trivy script first on the PATH that prints the scan
// package's Trivy fixture of the "before" image for an archive of an
// original build and of the "after" image for any other.
func fakeTrivy(t *testing.T) (before, after *scan.Report) {
	t.Helper()
	fixture := func(name string) string {
		p, err := filepath.Abs(filepath.Join("..", "..", "pkg", "scan", "testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	dir := t.TempDir()
	script := `#!/bin/sh
prev=; archive=
for a in "$@"; do [ "$prev" = --input ] && archive=$a; prev=$a; done
case "$archive" in
*original*) cat ` + fixture("trivy-before.json") + ` ;;
*) cat ` + fixture("trivy-after.json") + ` ;;
esac
`
	if err := os.WriteFile(filepath.Join(dir, "trivy"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	var err error
	if before, err = scan.ReadFile(fixture("trivy-before.json")); err != nil {
		t.Fatal(err)
	}
	if after, err = scan.ReadFile(fixture("trivy-after.json")); err != nil {
		t.Fatal(err)
	}
	return before, after
}

func TestVerifySBOM(t *testing.T) {
	fakeEngine(t)
	before, after := fakeTrivy(t)
	root := t.TempDir()
	df := writeApp(t, filepath.Join(root, "app"), "")
	for _, args := range [][]string{
		{"verify", "--sbom", filepath.Join(root, "verify.json")},
		{"--verify", "--sbom", filepath.Join(root, "main.json")},
	} {
		args = append(args, "--scanner", "trivy", "--engine", "buildah", "--pull", "never", "--enable", "add-to-copy",
			"--run-window", "1ms", "--logs", filepath.Join(root, "logs"), "-q", df)
		code, stdout, stderr := hardenfix(t, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s\n%s", args, code, stdout, stderr)
		}
		data, err := os.ReadFile(args[2])
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		var bom struct {
			Components []struct {
				BOMRef     string `json:"bom-ref"`
				Name       string
				Properties []struct{ Name, Value string }
			}
			Vulnerabilities []struct {
				ID      string
				Affects []struct{ Ref string }
			}
		}
		if err := json.Unmarshal(data, &bom); err != nil {
			t.Fatal(err)
		}
		refs := map[string]string{} // bom-ref → hardenfix:vulnerabilities
		for _, c := range bom.Components {
			refs[c.BOMRef] = ""
			for _, p := range c.Properties {
				if p.Name == sbom.PropVulnerabilities {
					refs[c.BOMRef] = p.Value
				}
			}
		}
		name := filepath.ToSlash(df)
		orig, rewr := "build:"+name+"#original", "build:"+name+"#rewritten"
		if _, ok := refs["docker.io/library/debian:bookworm-slim"]; !ok {
			t.Errorf("%v: no base-image component: %v", args, refs)
		}
		// The counts are the fixtures' own.
		for ref, rep := range map[string]*scan.Report{orig: before, rewr: after} {
			if v, ok := refs[ref]; !ok || !strings.HasPrefix(v, strconv.Itoa(rep.Counts().Total())+" (") {
				t.Errorf("%v: %s: vulnerabilities %q, want the fixture's %d", args, ref, v, rep.Counts().Total())
			}
		}
		// Every finding is a vulnerability affecting the builds it is in.
		found := map[string]int{}
		for _, v := range bom.Vulnerabilities {
			for _, a := range v.Affects {
				if _, ok := refs[a.Ref]; !ok {
					t.Errorf("%v: %s affects %q, which is no component", args, v.ID, a.Ref)
				}
				found[a.Ref]++
			}
		}
		if found[orig] != len(before.Findings) || found[rewr] != len(after.Findings) {
			t.Errorf("%v: %d and %d affects, want %d and %d", args, found[orig], found[rewr], len(before.Findings), len(after.Findings))
		}
	}

	// Without a scanner the SBOM holds the base image only.
	out := filepath.Join(root, "plain.json")
	if code, _, stderr := hardenfix(t, "verify", "--sbom", out, "--scanner", "none", "--engine", "buildah", "--enable", "add-to-copy", "--run-window", "1ms", "-q", df); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	data, _ := os.ReadFile(out)
	if strings.Contains(string(data), `"vulnerabilities"`) || strings.Contains(string(data), "build:") || !strings.Contains(string(data), "debian") {
		t.Errorf("SBOM without a scan:\n%s", data)
	}

	// A file that could not be verified keeps its FROM lines: the SBOM
	// lists node:latest, not the node:slim of the unverified rewrite.
	bad := filepath.Join(root, "bad", "Dockerfile")
	os.MkdirAll(filepath.Dir(bad), 0o755)
	if err := os.WriteFile(bad, []byte("# FAILME\nFROM node:latest\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD [\"node\", \"server.js\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out = filepath.Join(root, "bad.json")
	if code, _, stderr := hardenfix(t, "verify", "--sbom", out, "--scanner", "none", "--engine", "buildah", "--enable", "multi-stage", "--run-window", "1ms", "-q", bad); code != exitUnverified {
		t.Fatalf("exit %d, want %d\n%s", code, exitUnverified, stderr)
	}
	data, _ = os.ReadFile(out)
	if !strings.Contains(string(data), `"docker.io/library/node:latest"`) || strings.Contains(string(data), "node:slim") {
		t.Errorf("SBOM of a file that could not be verified:\n%s", data)
	}
}
