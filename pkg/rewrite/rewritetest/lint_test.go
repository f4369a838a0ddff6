package rewritetest

import "testing"

func TestBuildkitLintFindsWarnings(t *testing.T) {
	// The invariant check is only as good as this linter run: make sure it
	// reports what BuildKit reports.
	got := BuildkitLint(t, []byte("FROM alpine:3.20 as build\nrun echo hi\nCMD echo hi\n"))
	want := map[string]bool{"FromAsCasing": false, "ConsistentInstructionCasing": false, "JSONArgsRecommended": false}
	for _, w := range got {
		for rule := range want {
			if len(w) > len(rule) && w[:len(rule)] == rule {
				want[rule] = true
			}
		}
	}
	for rule, seen := range want {
		if !seen {
			t.Errorf("BuildKit linter did not report %s; got %q", rule, got)
		}
	}
}
