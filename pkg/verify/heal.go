package verify

import (
	"slices"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
)

// healOrder is the order in which heal drops rules: the review-risk rules
// most likely to change what the image does first.
var healOrder = []string{"multi-stage", "rebase", "non-root", "exec-form"}

// healCandidates are the rules with fixes in res, in the order heal drops
// them: healOrder, then the other review-risk rules, then the safe ones,
// each group in pipeline order (the order of res.Fixes).
func healCandidates(res *rewrite.Result) []string {
	risk := map[string]rewrite.Risk{}
	var order []string
	for _, f := range res.Fixes {
		if _, ok := risk[f.Rule]; !ok {
			order = append(order, f.Rule)
		}
		if risk[f.Rule] != rewrite.Review {
			risk[f.Rule] = f.Risk
		}
	}
	var out []string
	for _, r := range healOrder {
		if _, ok := risk[r]; ok {
			out = append(out, r)
		}
	}
	for _, review := range []bool{true, false} {
		for _, r := range order {
			if (risk[r] == rewrite.Review) == review && !slices.Contains(out, r) {
				out = append(out, r)
			}
		}
	}
	return out
}

// An attempt is the outcome of building and running the file rewritten
// without some rules.
type attempt struct {
	OK bool
	// Reason says why it failed (did not build, exited early, …), Log the
	// first error lines of the build or run log and LogPath where it is.
	Reason  string
	Log     []string
	LogPath string
	// Result is the rewrite made without the rules; Unchanged means no
	// fix is left (it is the original, which needs no build).
	Result *rewrite.Result
}

// heal finds the largest set of fixes that passes: first each candidate
// dropped alone (in order; the first that passes wins, so one breaking
// rule costs at most one build per candidate before it); when no single
// rule is to blame, candidates are dropped cumulatively until the file
// passes, and then each dropped rule but the last is tried back in. try
// builds and runs the file with the given rules disabled. It returns the
// rules dropped, in candidate order, and the passing attempt (its Result
// may be unchanged: no fix kept). tries counts the attempts made.
func heal(candidates []string, try func(disabled []string) attempt) (dropped []string, final attempt, tries int) {
	call := func(d []string) attempt { tries++; return try(d) }
	for _, r := range candidates {
		if a := call([]string{r}); a.OK {
			return []string{r}, a, tries
		}
	}
	if len(candidates) < 2 {
		// Dropping the only rule leaves the original, which passed; an
		// attempt that still fails is the engine's, not the rule's.
		return candidates, attempt{}, tries
	}
	var passed attempt
	var n int
	for n = 2; n <= len(candidates); n++ {
		if a := call(candidates[:n]); a.OK {
			passed = a
			break
		}
	}
	if !passed.OK {
		return candidates, attempt{}, tries
	}
	dropped = slices.Clone(candidates[:n])
	// The n-th rule was needed to pass; see which of the others can stay.
	for i := 0; i < len(dropped)-1; {
		trial := slices.Delete(slices.Clone(dropped), i, i+1)
		if a := call(trial); a.OK {
			dropped, passed = trial, a
			continue
		}
		i++
	}
	return dropped, passed, tries
}
