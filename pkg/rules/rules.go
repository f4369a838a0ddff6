// Package rules lists hardenfix's rules in pipeline order. Each rule lives
// in its own package below this one (image for rebase and pin, hygiene for
// the package-manager rules), with its golden fixtures in testdata/ and its
// long documentation in doc/<rule>.md beside it; code rules share is in
// internal/.
package rules

import (
	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/hardenfix/hardenfix/pkg/rules/addtocopy"
	"github.com/hardenfix/hardenfix/pkg/rules/execform"
	"github.com/hardenfix/hardenfix/pkg/rules/hygiene"
	"github.com/hardenfix/hardenfix/pkg/rules/image"
	"github.com/hardenfix/hardenfix/pkg/rules/maintainer"
	"github.com/hardenfix/hardenfix/pkg/rules/multistage"
	"github.com/hardenfix/hardenfix/pkg/rules/nonroot"
	"github.com/hardenfix/hardenfix/pkg/rules/secrets"
)

// All returns every rule in pipeline order: rebase, multi-stage,
// add-to-copy, non-root, pin, then the hygiene rules and the others. A new
// rule is its package plus one line here.
func All() []*rewrite.Rule {
	return []*rewrite.Rule{
		image.Rebase,
		multistage.Rule,
		addtocopy.Rule,
		nonroot.Rule,
		image.Pin,
		hygiene.AptUpdateMerge,
		hygiene.AptHygiene,
		hygiene.ApkHygiene,
		hygiene.PipHygiene,
		hygiene.RpmHygiene,
		maintainer.Rule,
		execform.Rule,
		secrets.Rule,
	}
}

// Options returns the options every rule declares, in pipeline order:
// the names .hardenfix.yaml's options: and --option accept.
func Options() []*rewrite.Option {
	var out []*rewrite.Option
	for _, r := range All() {
		out = append(out, r.Options...)
	}
	return out
}

// Lookup returns the rule with the given name.
func Lookup(name string) (*rewrite.Rule, bool) {
	for _, r := range All() {
		if r.Name == name {
			return r, true
		}
	}
	return nil, false
}

// Select returns the rules of All that are enabled: every rule but the
// opt-in ones when enable is empty, else only those named ("default" names
// the rules that run when none is named), minus those in disable; see
// rewrite.Select.
func Select(enable, disable []string) ([]*rewrite.Rule, error) {
	return rewrite.Select(All(), enable, disable)
}
