package hygiene

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/hardenfix/hardenfix/pkg/rewrite/rewritetest"
)

// TestAptUpdateMergeAnyOrder runs apt-update-merge before and after each
// hygiene rule on every apt-update-merge fixture: both orders must give the
// same file, and a second run of both must change nothing.
func TestAptUpdateMergeAnyOrder(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("testdata", "apt-update-merge", "*.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	hygiene := []*rewrite.Rule{AptHygiene, ApkHygiene, RpmHygiene, PipHygiene}
	run := func(src []byte, rules ...*rewrite.Rule) []byte {
		t.Helper()
		res, err := rewrite.Run(context.Background(), "Dockerfile", src, rules, &rewrite.Env{})
		if err != nil {
			t.Fatal(err)
		}
		return res.New
	}
	merged := 0
	for _, p := range paths {
		f, err := rewritetest.LoadFixture(p, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hygiene {
			first := run(f.Input, AptUpdateMerge, h)
			last := run(f.Input, h, AptUpdateMerge)
			if string(first) != string(last) {
				t.Errorf("%s with %s: the order matters\nmerge first:\n%s\nmerge last:\n%s", filepath.Base(p), h.Name, first, last)
			}
			if again := run(last, h, AptUpdateMerge); string(again) != string(last) {
				t.Errorf("%s with %s: a second run changed\n%s\ninto\n%s", filepath.Base(p), h.Name, last, again)
			}
			if string(first) != string(f.Input) {
				merged++
			}
		}
	}
	if merged == 0 {
		t.Fatal("no fixture was merged; the test checks nothing")
	}
}
