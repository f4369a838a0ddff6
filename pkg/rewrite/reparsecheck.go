package rewrite

import (
	"fmt"
	"reflect"
)

// checkReparse compares an incremental re-parse with a full parse of the
// same text and panics when they differ (only when testhook.CheckReparse
// is on).
func checkReparse(d *Document, out []byte) {
	full, err := Parse(d.Path, out)
	if err != nil {
		panic(fmt.Sprintf("%s: incremental re-parse accepted a file the full parse rejects: %v", d.Path, err))
	}
	if diff := documentDiff(d, full); diff != "" {
		panic(fmt.Sprintf("%s: incremental re-parse differs from the full parse: %s\n--- text:\n%s", d.Path, diff, out))
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
