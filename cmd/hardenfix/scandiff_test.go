package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// scan-diff prints, for each format, exactly what pkg/scan's golden files
// hold for the same fixtures.
func TestScanDiff(t *testing.T) {
	t.Chdir(filepath.Join("..", "..", "pkg", "scan"))
	for _, tc := range []struct{ format, golden string }{
		{"text", "trivy-diff.txt"},
		{"markdown", "trivy-diff.md"},
		{"json", "trivy-diff.json"},
	} {
		code, stdout, stderr := hardenfix(t, "scan-diff", "--before", "testdata/trivy-before.json", "--after", "testdata/trivy-after.json", "--format", tc.format)
		if code != exitOK {
			t.Fatalf("%s: exit %d: %s", tc.format, code, stderr)
		}
		want, err := os.ReadFile(filepath.Join("testdata", "golden", tc.golden))
		if err != nil {
			t.Fatal(err)
		}
		if stdout != string(want) {
			t.Errorf("%s output differs from %s:\n%s", tc.format, tc.golden, stdout)
		}
	}
}

func TestScanDiffErrors(t *testing.T) {
	t.Chdir(filepath.Join("..", "..", "pkg", "scan"))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--before", "testdata/bad/empty.json", "--after", "testdata/trivy-after.json"}, "hardenfix: testdata/bad/empty.json: empty file"},
		{[]string{"--before", "testdata/trivy-before.json", "--after", "testdata/bad/trivy-truncated.json"}, "hardenfix: testdata/bad/trivy-truncated.json: $.Results[0].Vulnerabilities[10]: truncated JSON"},
		{[]string{"--before", "testdata/trivy-before.json", "--after", "testdata/bad/snyk.json"}, "not a Trivy or Grype report"},
		{[]string{"--before", "testdata/trivy-before.json", "--after", "testdata/trivy-after.json", "--format", "sarif"}, `--format must be text, json or markdown, not "sarif"`},
		{[]string{"--before", "testdata/trivy-before.json", "--after", "testdata/trivy-after.json", "extra"}, "scan-diff takes no arguments"},
		{[]string{"--after", "testdata/trivy-after.json"}, `Required flag "before" not set`},
	} {
		code, _, stderr := hardenfix(t, append([]string{"scan-diff"}, tc.args...)...)
		if code != exitError || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", tc.args, code, stderr, exitError, tc.want)
		}
	}
}
