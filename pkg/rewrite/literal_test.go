package rewrite

import (
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// FuzzLiteralWord checks Expand's shortcut: a word literalWord accepts is
// one BuildKit's lexer gives back unchanged, with no variable.
func FuzzLiteralWord(f *testing.F) {
	for _, s := range []string{"", "node:20-slim", "/usr/local/bin", "a b\tc", "$HOME", "${A:-b}", `"q"`, "'q'", `a\b`, "a`b", "<<EOF", "\ufeffx", "é", "a\x00b", "x\n"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, word string, backtick bool) {
		escape := '\\'
		if backtick {
			escape = '`'
		}
		if !literalWord(word, escape) {
			return
		}
		out, unmatched, err := shell.NewLex(escape).ProcessWord(word, Vars{"A": "1"})
		if err != nil || out != word || len(unmatched) > 0 {
			t.Fatalf("literalWord(%q) but the lexer gives %q, %v, %v", word, out, unmatched, err)
		}
	})
}
