package rules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
)

// TestRuleDocsAreTheirFiles checks that every rule's Doc is its
// doc/<name>.md file beside its code, and that no doc file is left without
// a rule, so the files `hardenfix explain` and SARIF show cannot drift
// from the files a reader finds.
func TestRuleDocsAreTheirFiles(t *testing.T) {
	files, err := filepath.Glob("*/doc/*.md")
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]string{}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".md")
		if prev, ok := byName[name]; ok {
			t.Errorf("%s and %s document the same rule", prev, f)
		}
		byName[name] = f
	}
	for _, r := range All() {
		f, ok := byName[r.Name]
		if !ok {
			t.Errorf("rule %s has no doc/%s.md in its package", r.Name, r.Name)
			continue
		}
		delete(byName, r.Name)
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if got := rewrite.DocFile(string(data)); r.Doc != got {
			t.Errorf("rule %s: Doc is not the text of %s (embed that file with rewrite.DocFile)", r.Name, f)
		}
		if strings.TrimSpace(r.Doc) == "" || strings.HasPrefix(r.Doc, r.Summary) {
			t.Errorf("rule %s: %s is empty or repeats the summary", r.Name, f)
		}
	}
	for name, f := range byName {
		t.Errorf("%s documents %q, which is not a rule", f, name)
	}
}
