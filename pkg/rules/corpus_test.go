package rules

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/hardenfix/hardenfix/pkg/files"
	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/hardenfix/hardenfix/pkg/rewrite/rewritetest"
)

// TestCorpus runs every rule over a folder of real Dockerfiles and checks
// the DESIGN §5 invariants on each. It needs a corpus, so it runs only when
// HARDENFIX_CORPUS names a folder:
//
//	HARDENFIX_CORPUS=/tmp/corpus go test ./pkg/rewrite -run TestCorpus
//
// Files BuildKit itself rejects are counted and skipped; every other file
// must pass.
func TestCorpus(t *testing.T) {
	root := os.Getenv("HARDENFIX_CORPUS")
	if root == "" {
		t.Skip("set HARDENFIX_CORPUS to a folder of Dockerfiles to run this test")
	}
	paths, err := files.Discover([]string{root}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rules := All()
	var parsed, changed, unparsable int
	fixes := map[string]int{}
	notes := map[string]int{}
	for _, p := range paths {
		src, err := files.Read(p)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		rel, _ := filepath.Rel(root, p)
		t.Run(rel, func(t *testing.T) {
			// Open for the invariants' runs too: a closed context reads
			// as empty, which changes what the rules see.
			buildContext := rewrite.OpenContext(filepath.Dir(p))
			defer buildContext.Close()
			env := &rewrite.Env{BuildContext: buildContext}
			res, err := rewrite.Run(context.Background(), rel, src, rules, env)
			var pe *rewrite.ParseError
			if errors.As(err, &pe) {
				unparsable++
				t.Skipf("BuildKit rejects the input: %v", err)
			}
			if err != nil {
				t.Fatal(err)
			}
			parsed++
			if res.Changed() {
				changed++
			}
			for _, f := range res.Fixes {
				fixes[f.Rule]++
			}
			for _, n := range res.Notes {
				notes[n.Rule]++
			}
			rewritetest.CheckInvariants(t, src, res, rules, env)
		})
	}
	t.Logf("%d files: %d parsed, %d rejected by BuildKit, %d changed; fixes %v; notes %v", len(paths), parsed, unparsable, changed, fixes, notes)
}
