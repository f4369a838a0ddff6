package rules

import (
	"strings"
	"testing"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
)

// TestOptionDeclarations checks what the surfaces that read Rule.Options
// rely on: one flat namespace (.hardenfix.yaml's options:), a known type,
// a doc for explain and a usage line for a flag.
func TestOptionDeclarations(t *testing.T) {
	seen := map[string]string{}
	for _, r := range All() {
		for _, o := range r.Options {
			if prev, ok := seen[o.Name]; ok {
				t.Errorf("option %s is declared by %s and %s", o.Name, prev, r.Name)
			}
			seen[o.Name] = r.Name
			switch o.Type {
			case rewrite.BoolOption, rewrite.IntOption, rewrite.StringOption, rewrite.ListOption, rewrite.MapOption:
			default:
				t.Errorf("%s: option %s has type %q", r.Name, o.Name, o.Type)
			}
			if strings.TrimSpace(o.Doc) == "" || o.Flag && o.Usage == "" {
				t.Errorf("%s: option %s needs a Doc (and a Usage when it is a flag)", r.Name, o.Name)
			}
		}
	}
	if len(Options()) != len(seen) {
		t.Errorf("Options() has %d options, the rules declare %d", len(Options()), len(seen))
	}
}
