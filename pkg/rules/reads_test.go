package rules

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/hardenfix/hardenfix/pkg/files"
	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/hardenfix/hardenfix/pkg/rewrite/rewritetest"
)

// TestReadsSkipsOnlyIdleRules checks the rules' Reads declarations: on
// every fixture input (and every file of HARDENFIX_CORPUS when it is set)
// a rule the pipeline skips, because the file has none of the instructions
// it reads, proposes nothing and notes nothing when it is run anyway.
func TestReadsSkipsOnlyIdleRules(t *testing.T) {
	var inputs [][]byte
	for _, f := range rewritetest.LoadFixtures(t, ".", All()) {
		inputs = append(inputs, f.Input)
	}
	if root := os.Getenv("HARDENFIX_CORPUS"); root != "" {
		paths, err := files.Discover([]string{root}, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range paths {
			if src, err := files.Read(p); err == nil {
				inputs = append(inputs, src)
			}
		}
	}
	skipped := 0
	for _, src := range inputs {
		d, err := rewrite.Parse("Dockerfile", src)
		if err != nil {
			continue
		}
		env := &rewrite.Env{BuildContext: rewrite.OpenContext(filepath.Join(t.TempDir(), "none"))}
		for _, r := range All() {
			if len(r.Reads) == 0 || hasAny(d, r.Reads) {
				continue
			}
			skipped++
			fixes, notes, err := r.Check(context.Background(), d, env)
			if err != nil || len(fixes) > 0 || len(notes) > 0 {
				t.Errorf("%s reads only %v, which this file lacks, but has %d fixes, %d notes (err %v):\n%s", r.Name, r.Reads, len(fixes), len(notes), err, src)
			}
		}
	}
	if skipped == 0 {
		t.Fatal("no rule would be skipped on any input: the test checks nothing")
	}
}

func hasAny(d *rewrite.Document, keywords []string) bool {
	for _, in := range d.Instructions {
		for _, k := range keywords {
			if in.Keyword == k {
				return true
			}
		}
	}
	return false
}
