package rewrite

import (
	"context"
	"testing"
)

// A rule that declares what it reads runs only on files that have it.
func TestRunSkipsRulesWithNothingToRead(t *testing.T) {
	calls := 0
	r := &Rule{Name: "adds", Reads: []string{"ADD"}, Check: func(context.Context, *Document, *Env) ([]Fix, []Note, error) {
		calls++
		return nil, nil, nil
	}}
	for _, tc := range []struct {
		src   string
		calls int
	}{
		{"FROM a\nCOPY x y\n", 0},
		{"FROM a\nadd x y\n", 1},
	} {
		calls = 0
		if _, err := Run(context.Background(), "Dockerfile", []byte(tc.src), []*Rule{r}, nil); err != nil {
			t.Fatal(err)
		}
		if calls != tc.calls {
			t.Errorf("%q: the rule ran %d times, want %d", tc.src, calls, tc.calls)
		}
	}
}
