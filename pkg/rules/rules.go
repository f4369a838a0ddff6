package rewrite

import (
	"fmt"
	"sort"
	"strings"
)

// All returns every rule in pipeline order: rebase, multi-stage,
// add-to-copy, non-root, pin, then the hygiene rules. Rules not built yet
// are simply absent.
func All() []*Rule {
	return []*Rule{
		Rebase,
		MultiStage,
		AddToCopy,
		NonRoot,
		Pin,
		AptUpdateMerge, AptHygiene, ApkHygiene, PipHygiene, RpmHygiene, Maintainer, ExecForm, Secrets,
	}
}

// Lookup returns the rule with the given name.
func Lookup(name string) (*Rule, bool) {
	for _, r := range All() {
		if r.Name == name {
			return r, true
		}
	}
	return nil, false
}

// Select returns the rules of All that are enabled: every rule but the
// opt-in ones when enable is empty, else only those named ("default" names
// the rules that run when none is named), minus those in disable. Unknown
// names are an error, so a typo never silently disables nothing.
func Select(enable, disable []string) ([]*Rule, error) {
	known := map[string]bool{}
	var names []string
	for _, r := range All() {
		known[r.Name] = true
		names = append(names, r.Name)
	}
	check := func(list []string) (map[string]bool, error) {
		set := map[string]bool{}
		for _, n := range list {
			n = strings.TrimSpace(n)
			if n == "" {
				continue
			}
			if !known[n] {
				sort.Strings(names)
				return nil, fmt.Errorf("unknown rule %q (known rules: %s)", n, strings.Join(names, ", "))
			}
			set[n] = true
		}
		return set, nil
	}
	var named []string
	withDefaults := len(enable) == 0
	for _, n := range enable {
		if strings.TrimSpace(n) == defaultRules {
			withDefaults = true
			continue
		}
		named = append(named, n)
	}
	on, err := check(named)
	if err != nil {
		return nil, err
	}
	off, err := check(disable)
	if err != nil {
		return nil, err
	}
	var out []*Rule
	for _, r := range All() {
		if (on[r.Name] || withDefaults && !r.OptIn) && !off[r.Name] {
			out = append(out, r)
		}
	}
	return out, nil
}

// defaultRules is the name that stands for the rules that run when none is
// named, so "--enable default,secrets" adds an opt-in rule to them.
const defaultRules = "default"
