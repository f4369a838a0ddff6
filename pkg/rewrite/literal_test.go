package rewrite

import (
	"reflect"
	"strings"
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

// FuzzFlagWords checks that FlagWords is Words cut after the first word
// that is not a --flag, neither as written nor by value, for every
// instruction of whatever parses.
func FuzzFlagWords(f *testing.F) {
	for _, s := range []string{
		"FROM a\nRUN --mount=type=cache,target=/x --network=none apt-get install x\n",
		"FROM a\nRUN --mount=\"type=bind\" \\\n  # c\n  --x=1 y z\n",
		"# escape=`\nFROM a\nCOPY --from=b `\n  --chown=1 /a /b\n",
		"FROM a\nRUN --a='b c' \"--d\" e\n",
		"FROM a\nADD --checksum=sha256:0 http://x /y\n",
		"FROM a\nCOPY \"--from=b\" --from=c /a /b\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		d, err := Parse("Dockerfile", []byte(src))
		if err != nil {
			return
		}
		for _, in := range d.Instructions {
			all, flags := d.Words(in.ArgsSpan), d.FlagWords(in.ArgsSpan)
			want := all
			for i, w := range all {
				if !strings.HasPrefix(w.Raw, "--") && !strings.HasPrefix(w.Value, "--") {
					want = all[:i+1]
					break
				}
			}
			if !reflect.DeepEqual(flags, want) {
				t.Fatalf("line %d: FlagWords = %+v, want %+v", in.Line, flags, want)
			}
		}
	})
}
