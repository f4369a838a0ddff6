package verify

import (
	"slices"
	"strings"
	"testing"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
)

// fakeBuilder passes an attempt when none of the breaking rules is left,
// or (needAll) when all of them are gone.
type fakeBuilder struct {
	breaking []string
	anyOf    bool // the file passes once any one breaking rule is dropped
	tried    [][]string
}

func (b *fakeBuilder) try(disabled []string) attempt {
	b.tried = append(b.tried, slices.Clone(disabled))
	left := 0
	for _, r := range b.breaking {
		if !slices.Contains(disabled, r) {
			left++
		}
	}
	ok := left == 0 || b.anyOf && left < len(b.breaking)
	return attempt{OK: ok, Result: &rewrite.Result{Path: strings.Join(disabled, ",")}}
}

func TestHeal(t *testing.T) {
	cands := []string{"multi-stage", "rebase", "non-root", "exec-form", "add-to-copy"}
	for _, tc := range []struct {
		name      string
		breaking  []string
		anyOf     bool
		want      []string
		wantTries int
	}{
		// One rule breaks it: dropped alone, the others kept; the rules
		// before it cost one failing build each.
		{"non-root breaks", []string{"non-root"}, false, []string{"non-root"}, 3},
		{"multi-stage breaks", []string{"multi-stage"}, false, []string{"multi-stage"}, 1},
		// Two rules break it independently: no single drop passes; the
		// cumulative drop finds rebase+non-root, then multi-stage is
		// tried back in and kept.
		{"two break", []string{"rebase", "non-root"}, false, []string{"rebase", "non-root"}, 5 + 2 + 2},
		// Either of two rules is enough to drop: the first in order goes.
		{"either", []string{"rebase", "exec-form"}, true, []string{"rebase"}, 2},
		{"the last one", []string{"add-to-copy"}, false, []string{"add-to-copy"}, 5},
	} {
		b := &fakeBuilder{breaking: tc.breaking, anyOf: tc.anyOf}
		dropped, final, tries := heal(cands, b.try)
		if !slices.Equal(dropped, tc.want) || !final.OK {
			t.Errorf("%s: dropped %v (ok %v), want %v; tried %v", tc.name, dropped, final.OK, tc.want, b.tried)
		}
		if tries != tc.wantTries || tries != len(b.tried) {
			t.Errorf("%s: %d tries (%v), want %d", tc.name, tries, b.tried, tc.wantTries)
		}
		if final.Result.Path != strings.Join(tc.want, ",") {
			t.Errorf("%s: final attempt is %q, not the one without %v", tc.name, final.Result.Path, tc.want)
		}
	}
}

func TestHealNothingPasses(t *testing.T) {
	dropped, final, tries := heal([]string{"non-root"}, func([]string) attempt { return attempt{} })
	if final.OK || tries != 1 || !slices.Equal(dropped, []string{"non-root"}) {
		t.Errorf("dropped %v ok %v tries %d", dropped, final.OK, tries)
	}
}

func TestHealCandidates(t *testing.T) {
	// Fixes come in pipeline order.
	res := &rewrite.Result{Fixes: []rewrite.Fix{
		{Rule: "multi-stage", Risk: rewrite.Review},
		{Rule: "add-to-copy", Risk: rewrite.Safe},
		{Rule: "non-root", Risk: rewrite.Review},
		{Rule: "maintainer", Risk: rewrite.Safe},
		{Rule: "apt-hygiene", Risk: rewrite.Safe},
		{Rule: "apt-hygiene", Risk: rewrite.Review}, // --no-install-recommends
		{Rule: "exec-form", Risk: rewrite.Safe},
		{Rule: "secrets", Risk: rewrite.Review},
	}}
	got := healCandidates(res)
	want := []string{"multi-stage", "non-root", "exec-form", "apt-hygiene", "secrets", "add-to-copy", "maintainer"}
	if !slices.Equal(got, want) {
		t.Errorf("candidates %v, want %v", got, want)
	}
}
