package rewrite

import (
	"context"
	"fmt"
	"strings"
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

// A fix is made whole or not at all: an ignore comment for its rule before
// any instruction its edits touch keeps every edit out, and its notes too.
func TestRunIgnoresFixOnEveryTouchedInstruction(t *testing.T) {
	// replace returns edits that lower-case the keyword of the
	// instructions at the given indexes.
	replace := func(idx ...int) func(*Document) []Edit {
		return func(d *Document) []Edit {
			var out []Edit
			for _, i := range idx {
				in := d.Instructions[i]
				out = append(out, Replace(in.KeywordSpan, strings.ToLower(in.Keyword)))
			}
			return out
		}
	}
	after := func(i int) func(*Document) []Edit {
		return func(d *Document) []Edit { return []Edit{InsertLineAfter(d, d.Instructions[i], "USER 1")} }
	}
	before := func(i int) func(*Document) []Edit {
		return func(d *Document) []Edit { return []Edit{InsertLineBefore(d, d.Instructions[i], "USER 1")} }
	}
	inside := func(i int) func(*Document) []Edit {
		return func(d *Document) []Edit { return []Edit{Insert(d.Instructions[i].ArgsSpan.End, " x")} }
	}
	top := func(*Document) []Edit { return []Edit{Insert(0, "# syntax=x\n")} }
	const three = "FROM a\nRUN b\nRUN c\nCMD d\n"
	for _, tc := range []struct {
		name  string
		src   string
		edits func(*Document) []Edit
		want  string // "" when the fix must be left out
	}{
		{"no ignore", three, replace(0, 1, 3), "from a\nrun b\nRUN c\ncmd d\n"},
		// The fix's Line is on its first edit, CMD here: the ignored FROM
		// counts as an instruction the fix touches.
		{"ignore on the first touched", "# hardenfix:ignore r\n" + three, replace(3, 1, 0), ""},
		{"ignore on the second touched", "FROM a\n# hardenfix:ignore r\nRUN b\nRUN c\nCMD d\n", replace(0, 1, 3), ""},
		{"ignore on the last touched", "FROM a\nRUN b\nRUN c\n# hardenfix:ignore x,r\nCMD d\n", replace(0, 1, 3), ""},
		{"ignore on an untouched one", "FROM a\nRUN b\n# hardenfix:ignore r\nRUN c\nCMD d\n", replace(0, 1, 3),
			"from a\nrun b\n# hardenfix:ignore r\nRUN c\ncmd d\n"},
		{"ignore for another rule", "FROM a\n# hardenfix:ignore other, x\nRUN b\nRUN c\nCMD d\n", replace(0, 1, 3),
			"from a\n# hardenfix:ignore other, x\nrun b\nRUN c\ncmd d\n"},
		{"ignore for all rules", "FROM a\n# hardenfix:ignore\nRUN b\nRUN c\nCMD d\n", replace(0, 1, 3), ""},
		{"ignore-file is no ignore comment", "FROM a\n# hardenfix:ignore-file\nRUN b\n", replace(1), "FROM a\n# hardenfix:ignore-file\nrun b\n"},
		{"a deletion touches what it removes", "FROM a\n# hardenfix:ignore r\nRUN b\nRUN c\n", func(d *Document) []Edit {
			return []Edit{{Start: d.Instructions[1].Span.Start, End: d.Instructions[1].Span.End}}
		}, ""},
		// An insertion between two instructions touches both.
		{"insertion after: ignore on the one it follows", "FROM a\n# hardenfix:ignore r\nRUN b\nRUN c\n", after(1), ""},
		{"insertion after: ignore on the one it precedes", "FROM a\nRUN b\n# hardenfix:ignore r\nRUN c\n", after(1), ""},
		{"insertion after: ignore further on", "FROM a\nRUN b\nRUN c\n# hardenfix:ignore r\nCMD d\n", after(1),
			"FROM a\nRUN b\nUSER 1\nRUN c\n# hardenfix:ignore r\nCMD d\n"},
		{"insertion before: ignore on the one it precedes", "FROM a\nRUN b\n# a comment\n# hardenfix:ignore r\nCMD d\n", before(2), ""},
		{"insertion before: ignore on the one it follows", "FROM a\n# hardenfix:ignore r\nRUN b\n\n# a comment\nCMD d\n", before(2), ""},
		{"insertion before: ignore further back", "# hardenfix:ignore r\nFROM a\nRUN b\n\nCMD d\n", before(2),
			"# hardenfix:ignore r\nFROM a\nRUN b\n\nUSER 1\nCMD d\n"},
		{"insertion at the end: ignore on the last", "FROM a\n# hardenfix:ignore r\nRUN b", after(1), ""},
		{"insertion inside touches only its instruction", "FROM a\nRUN b\n# hardenfix:ignore r\nRUN c\n", inside(1),
			"FROM a\nRUN b x\n# hardenfix:ignore r\nRUN c\n"},
		{"insertion inside an ignored one", "FROM a\n# hardenfix:ignore r\nRUN b\nRUN c\n", inside(1), ""},
		{"insertion at the top touches no instruction", "# hardenfix:ignore r\nFROM a\n", top, "# syntax=x\n# hardenfix:ignore r\nFROM a\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &Rule{Name: "r", Check: func(_ context.Context, d *Document, _ *Env) ([]Fix, []Note, error) {
				// The fix's Line is where its first edit starts, so only
				// the edits decide.
				edits := tc.edits(d)
				return []Fix{{Line: d.LineOf(edits[0].Start), Message: "m", Edits: edits, Notes: []Note{{Line: 1, Message: "with the fix"}}}},
					[]Note{{Line: 1, Message: "alone"}}, nil
			}}
			res, err := Run(context.Background(), "Dockerfile", []byte(tc.src), []*Rule{r}, nil)
			if err != nil {
				t.Fatal(err)
			}
			want, wantFixes, wantNotes := tc.want, 1, []string{"1: r: with the fix", "1: r: alone"}
			if want == "" {
				want, wantFixes = tc.src, 0
				wantNotes = wantNotes[1:]
			}
			if string(res.New) != want {
				t.Errorf("output:\n%s\nwant:\n%s", res.New, want)
			}
			if len(res.Fixes) != wantFixes {
				t.Errorf("%d fixes, want %d", len(res.Fixes), wantFixes)
			}
			var notes []string
			for _, n := range res.Notes {
				notes = append(notes, n.String())
			}
			if fmt.Sprint(notes) != fmt.Sprint(wantNotes) {
				t.Errorf("notes %q, want %q", notes, wantNotes)
			}
			for _, f := range res.Fixes {
				if f.Notes != nil {
					t.Errorf("a fix in the result still holds its notes: %v", f.Notes)
				}
			}
		})
	}
}

// One ignored fix leaves the rule's other fixes alone, and an ignore
// comment at a fix's Line counts even where no edit falls.
func TestRunIgnoresFixesOneByOne(t *testing.T) {
	src := "FROM a\nRUN b\n# hardenfix:ignore r\nRUN c\nCMD d\n"
	r := &Rule{Name: "r", Check: func(_ context.Context, d *Document, _ *Env) ([]Fix, []Note, error) {
		kw := func(i int) Edit { in := d.Instructions[i]; return Replace(in.KeywordSpan, strings.ToLower(in.Keyword)) }
		return []Fix{
			{Line: 1, Edits: []Edit{kw(0)}},
			{Line: 2, Edits: []Edit{kw(1), kw(2)}}, // the ignored RUN c
			{Line: 4, Edits: []Edit{kw(3)}},        // reported on RUN c
			{Line: 5, Edits: []Edit{kw(3)}},
		}, nil, nil
	}}
	res, err := Run(context.Background(), "Dockerfile", []byte(src), []*Rule{r}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := "from a\nRUN b\n# hardenfix:ignore r\nRUN c\ncmd d\n"; string(res.New) != want {
		t.Errorf("output:\n%s\nwant:\n%s", res.New, want)
	}
	var lines []int
	for _, f := range res.Fixes {
		lines = append(lines, f.Line)
	}
	if fmt.Sprint(lines) != "[1 5]" {
		t.Errorf("fixes at lines %v, want [1 5]", lines)
	}
}

func TestDocumentIgnores(t *testing.T) {
	d, err := Parse("Dockerfile", []byte("FROM a\n# hardenfix:ignore x, r\nRUN b \\\n  c\n# hardenfix:ignore\nRUN d\n# hardenfix:ignore-file\nRUN e\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		rule string
		line int
		want bool
	}{
		{"r", 1, false}, {"r", 2, false}, {"r", 3, true}, {"r", 4, true}, {"x", 3, true}, {"y", 3, false},
		{"y", 6, true}, {"r", 8, false}, {"r", 99, false},
	} {
		if got := d.Ignores(tc.rule, tc.line); got != tc.want {
			t.Errorf("Ignores(%q, %d) = %v, want %v", tc.rule, tc.line, got, tc.want)
		}
	}
}
