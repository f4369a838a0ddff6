package rewrite

import (
	"os"
	"strings"
	"testing"

	"github.com/hardenfix/hardenfix/pkg/rewrite/internal/testhook"
)

// TestMain makes every pipeline run of this package's tests (fixtures,
// corpora, fuzzing) check each incremental re-parse against a full parse.
func TestMain(m *testing.M) {
	testhook.CheckReparse.Store(true)
	os.Exit(m.Run())
}

// TestReparse applies one edit to a file and compares the incremental
// re-parse with a full parse; it also checks which edits take the
// incremental path at all.
func TestReparse(t *testing.T) {
	tests := []struct {
		name        string
		src         string
		old, new    string // the first occurrence of old becomes new
		incremental bool
	}{
		{"keyword", "FROM a\nRUN x\nADD a b\nCMD y\n", "ADD", "COPY", true},
		{"insert line before", "FROM a\nRUN x\n# keep\nCMD y\n", "CMD y\n", "USER 1\nCMD y\n", true},
		{"insert after comment gives the comment away", "FROM a\n# hardenfix:ignore\nCMD y\n", "# hardenfix:ignore\n", "# hardenfix:ignore\nUSER 1\n", true},
		{"append at end", "FROM a\nCMD y\n", "CMD y\n", "CMD y\nUSER 1\n", true},
		{"lines shift after", "FROM a\nRUN a \\\n  b\nRUN c\n\nCMD d\n", "RUN a \\\n  b\n", "RUN a \\\n  b \\\n  && c \\\n  && d\n", true},
		{"crlf", "FROM a\r\nRUN x\r\nADD a b\r\nCMD y\r\n", "ADD", "COPY", true},
		{"escape directive", "# escape=`\nFROM a\nRUN x `\n  y\nADD a b\n", "ADD", "COPY", true},
		{"directive-like comment in the region", "FROM a\n# escape=`\nRUN x \\\n  y\n", "x", "z", true},
		{"empty continuation warning after", "FROM a\nADD a b\nRUN x \\\n\n  y\n", "ADD", "COPY", true},
		{"empty continuation warning in region", "FROM a\nRUN x \\\n\n  y\nCMD z\n", "x", "w", true},
		{"onbuild", "FROM a\nONBUILD ADD a b\n", "ADD", "COPY", true},
		{"first from changes", "FROM a\nRUN x\n", "FROM a", "FROM b", false},
		{"first from's image changes", "FROM a\nRUN x\n", "a\n", "a@sha256:0\n", true},
		{"first from after comments and a directive", "# syntax=docker/dockerfile:1\n# base\nFROM a AS b\nRUN x\n", "a AS", "c AS", true},
		{"first from with a BOM", "\ufeffFROM a\nRUN x\n", "a\n", "b\n", false},
		{"first from after a BOM line", "\ufeff# c\nFROM a\nRUN x\n", "a\n", "b\n", true},
		{"first from with escape directive", "# escape=`\nFROM a `\n  AS b\nRUN x\n", "a `", "c `", true},
		{"line inserted before the first instruction", "FROM a\nRUN x\n", "FROM", "# escape=`\nFROM", false},
		{"later from changes", "FROM a AS b\nRUN x\nFROM c\nCOPY --from=b / /\n", "FROM c", "FROM b", true},
		{"global arg", "ARG A=1\nFROM a\nRUN x\n", "A=1", "A=2", true},
		{"global arg after the first", "ARG A=1\nARG B=$A\nFROM ${B}\nRUN x\n", "B=$A", "B=2", true},
		{"new from", "FROM a\nRUN x\n", "RUN x\n", "RUN x\nFROM b\n", true},
		{"new stage with comments", "FROM a\nRUN x\n\n# end\n", "RUN x\n", "RUN x\n# runtime\nFROM b AS run\nCOPY --from=0 / /\n", true},
		{"heredoc", "FROM a\nRUN <<EOF\nx\nEOF\n", "x\n", "y\n", false},
		{"no final newline", "FROM a\nCMD y", "CMD y", "CMD y\nUSER 1", true},
		{"append to a last line without newline", "FROM a\nCMD y", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cur, err := Parse("Dockerfile", []byte(tt.src))
			if err != nil {
				t.Fatal(err)
			}
			var e Edit
			if tt.old == "" {
				e = Edit{Start: len(tt.src), End: len(tt.src), New: "\nUSER 1"}
			} else {
				i := strings.Index(tt.src, tt.old)
				e = Edit{Start: i, End: i + len(tt.old), New: tt.new}
			}
			out, err := ApplyEdits(cur.Src, []Edit{e})
			if err != nil {
				t.Fatal(err)
			}
			got, ok := reparseRegion(cur, []Edit{e}, out)
			if ok != tt.incremental {
				t.Fatalf("incremental = %v, want %v", ok, tt.incremental)
			}
			full, err := Parse("Dockerfile", out)
			if err != nil {
				t.Fatal(err)
			}
			if ok {
				if diff := documentDiff(got, full); diff != "" {
					t.Fatalf("incremental re-parse differs: %s", diff)
				}
			}
		})
	}
}

// TestReparseRegions applies several edits at once, as one rule's fix does,
// and compares the incremental re-parse with a full parse; regions is how
// many separate runs of instructions are parsed again (0: the whole file).
func TestReparseRegions(t *testing.T) {
	type change struct{ old, new string } // the first occurrence of old
	tests := []struct {
		name    string
		src     string
		changes []change
		regions int
	}{
		{"two froms pinned", "FROM a AS b\nRUN x\nRUN y\nFROM c\nCOPY --from=b / /\n",
			[]change{{"a AS", "a@sha256:1 AS"}, {"c\n", "c@sha256:2\n"}}, 2},
		{"far apart, lines added in the first", "FROM a\nRUN x\nRUN y\nRUN z\nADD p q\n",
			[]change{{"RUN x\n", "RUN x \\\n  && w\n"}, {"ADD", "COPY"}}, 2},
		{"neighbours make one region", "FROM a\nRUN x\nADD p q\nCMD y\n",
			[]change{{"RUN x", "RUN w"}, {"ADD", "COPY"}}, 1},
		{"same instruction twice", "FROM a\nRUN x && y\nCMD z\n",
			[]change{{"x", "v"}, {"y", "w"}}, 1},
		{"comments between regions", "FROM a\nRUN x\n# one\n\n# two\nRUN m\nCMD y\n",
			[]change{{"RUN x", "RUN w"}, {"CMD y\n", "USER 1\nCMD y\n"}}, 2},
		{"warnings between and after", "FROM a\nRUN x\nRUN p \\\n\n  q\nADD a b\nRUN r \\\n\n  s\n",
			[]change{{"RUN x", "RUN w"}, {"ADD", "COPY"}}, 2},
		{"three regions, lines removed", "FROM a\nRUN a \\\n  b\nRUN c\nRUN d \\\n  e\nRUN f\nRUN g \\\n  h\n",
			[]change{{"RUN a \\\n  b", "RUN ab"}, {"RUN d \\\n  e", "RUN de"}, {"RUN g \\\n  h", "RUN gh"}}, 3},
		{"crlf", "FROM a\r\nRUN x\r\nRUN y\r\nADD a b\r\n", []change{{"RUN x", "RUN w"}, {"ADD", "COPY"}}, 2},
		{"escape directive", "# escape=`\nFROM a\nRUN x `\n  y\nRUN m\nADD a b\n", []change{{"x `", "z `"}, {"ADD", "COPY"}}, 2},
		{"new stage at the end", "FROM a\nRUN x\nRUN y\nCMD z\n",
			[]change{{"RUN x", "RUN w"}, {"CMD z\n", "CMD z\n\nFROM b\nCOPY --from=0 / /\n"}}, 2},
		{"heredoc in a later region", "FROM a\nRUN x\nRUN m\nRUN <<EOF\ny\nEOF\n",
			[]change{{"RUN x", "RUN w"}, {"y\n", "z\n"}}, 0},
		{"a region left ending in a continuation", "FROM a\nRUN x\nRUN m\nRUN y\nCMD z\n",
			[]change{{"RUN x\n", "RUN x \\\n"}, {"CMD", "ENTRYPOINT"}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cur, err := Parse("Dockerfile", []byte(tt.src))
			if err != nil {
				t.Fatal(err)
			}
			var edits []Edit
			for _, c := range tt.changes {
				i := strings.Index(tt.src, c.old)
				if i < 0 {
					t.Fatalf("%q not in the source", c.old)
				}
				edits = append(edits, Edit{Start: i, End: i + len(c.old), New: c.new})
			}
			out, err := ApplyEdits(cur.Src, edits)
			if err != nil {
				t.Fatal(err)
			}
			regions, ok := editRegions(cur, edits, out)
			if ok {
				_, ok = parseRegions(cur, regions, out)
			}
			if got := len(regions); !ok && tt.regions != 0 || ok && got != tt.regions {
				t.Fatalf("%d regions (incremental %v), want %d", got, ok, tt.regions)
			}
			got, ok := reparseRegion(cur, edits, out)
			if ok != (tt.regions > 0) {
				t.Fatalf("incremental = %v, want %v", ok, tt.regions > 0)
			}
			if !ok {
				return
			}
			full, err := Parse("Dockerfile", out)
			if err != nil {
				t.Fatal(err)
			}
			if diff := documentDiff(got, full); diff != "" {
				t.Fatalf("incremental re-parse differs: %s", diff)
			}
		})
	}
}
