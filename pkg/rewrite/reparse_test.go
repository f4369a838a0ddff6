package rewrite

import (
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
)

// TestMain makes every pipeline run of this package's tests (fixtures,
// corpora, fuzzing) check each incremental re-parse against a full parse.
func TestMain(m *testing.M) {
	checkReparse = func(d *Document, out []byte) {
		full, err := Parse(d.Path, out)
		if err != nil {
			panic(fmt.Sprintf("%s: incremental re-parse accepted a file the full parse rejects: %v", d.Path, err))
		}
		if diff := documentDiff(d, full); diff != "" {
			panic(fmt.Sprintf("%s: incremental re-parse differs from the full parse: %s\n--- text:\n%s", d.Path, diff, out))
		}
	}
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
		{"from changes", "FROM a\nRUN x\n", "FROM a", "FROM b", false},
		{"global arg", "ARG A=1\nFROM a\nRUN x\n", "A=1", "A=2", false},
		{"new from", "FROM a\nRUN x\n", "RUN x\n", "RUN x\nFROM b\n", false},
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

// documentDiff describes the first difference between two Documents of the
// same text, or returns "" when they are the same: the syntax tree with its
// lines and comments, the typed stages, the warnings and the instruction
// table.
func documentDiff(a, b *Document) string {
	if len(a.AST.Children) != len(b.AST.Children) {
		return fmt.Sprintf("%d instructions, want %d", len(a.AST.Children), len(b.AST.Children))
	}
	for i := range a.AST.Children {
		x, y := a.AST.Children[i], b.AST.Children[i]
		if x.Dump() != y.Dump() || x.StartLine != y.StartLine || x.EndLine != y.EndLine ||
			!reflect.DeepEqual(x.PrevComment, y.PrevComment) || x.Original != y.Original ||
			!reflect.DeepEqual(x.Flags, y.Flags) || !reflect.DeepEqual(x.Attributes, y.Attributes) {
			return fmt.Sprintf("instruction %d: %q lines %d-%d %q, want %q lines %d-%d %q",
				i, x.Original, x.StartLine, x.EndLine, x.PrevComment, y.Original, y.StartLine, y.EndLine, y.PrevComment)
		}
	}
	if a.AST.StartLine != b.AST.StartLine || a.AST.EndLine != b.AST.EndLine {
		return fmt.Sprintf("root lines %d-%d, want %d-%d", a.AST.StartLine, a.AST.EndLine, b.AST.StartLine, b.AST.EndLine)
	}
	if !reflect.DeepEqual(a.Warnings, b.Warnings) {
		return fmt.Sprintf("warnings %q, want %q", a.Warnings, b.Warnings)
	}
	if !reflect.DeepEqual(a.parserWarn, b.parserWarn) {
		return fmt.Sprintf("parser warnings %v, want %v", a.parserWarn, b.parserWarn)
	}
	if !reflect.DeepEqual(a.Stages, b.Stages) || !reflect.DeepEqual(a.MetaArgs, b.MetaArgs) {
		return "typed stages differ"
	}
	if !reflect.DeepEqual(a.GlobalArgs, b.GlobalArgs) || a.Escape != b.Escape || a.Newline != b.Newline || a.HasBOM != b.HasBOM {
		return "document facts differ"
	}
	for i := range a.Instructions {
		x, y := a.Instructions[i], b.Instructions[i]
		if x.Keyword != y.Keyword || x.Line != y.Line || x.EndLine != y.EndLine || x.Span != y.Span ||
			x.KeywordSpan != y.KeywordSpan || x.ArgsSpan != y.ArgsSpan || x.Stage != y.Stage {
			return fmt.Sprintf("instruction table entry %d differs", i)
		}
	}
	return ""
}
