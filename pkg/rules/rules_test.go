package rules

import (
	"testing"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
)

// secrets is opt-in: it runs only when named, alone or with "default".
func TestSecretsIsOptIn(t *testing.T) {
	has := func(rules []*rewrite.Rule, name string) bool {
		for _, r := range rules {
			if r.Name == name {
				return true
			}
		}
		return false
	}
	for _, tc := range []struct {
		enable, disable  []string
		secrets, nonRoot bool
	}{
		{nil, nil, false, true},
		{[]string{"secrets"}, nil, true, false},
		{[]string{"default", "secrets"}, nil, true, true},
		{[]string{"default"}, []string{"non-root"}, false, false},
	} {
		got, err := Select(tc.enable, tc.disable)
		if err != nil {
			t.Fatal(err)
		}
		if has(got, "secrets") != tc.secrets || has(got, "non-root") != tc.nonRoot {
			t.Errorf("Select(%v, %v): secrets %v non-root %v, want %v %v", tc.enable, tc.disable, has(got, "secrets"), has(got, "non-root"), tc.secrets, tc.nonRoot)
		}
	}
}
