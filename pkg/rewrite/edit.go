package rewrite

import (
	"fmt"
	"sort"
	"strings"
)

// Edit replaces the bytes [Start, End) of a document's source with New.
// Start == End inserts.
type Edit struct {
	Start, End int
	New        string
}

// Replace returns the Edit that replaces span with text.
func Replace(s Span, text string) Edit { return Edit{Start: s.Start, End: s.End, New: text} }

// Insert returns the Edit that inserts text at offset off.
func Insert(off int, text string) Edit { return Edit{Start: off, End: off, New: text} }

// OverlapError reports two edits that touch the same bytes; applying both
// would make the result depend on their order, so neither is applied.
type OverlapError struct {
	A, B         Edit
	RuleA, RuleB string
}

func (e *OverlapError) Error() string {
	return fmt.Sprintf("overlapping edits: %s [%d,%d) and %s [%d,%d)", e.RuleA, e.A.Start, e.A.End, e.RuleB, e.B.Start, e.B.End)
}

type ruleEdit struct {
	Edit
	rule  string
	order int
}

// ApplyEdits applies edits to src. Edits may come in any order; two edits
// that overlap (or two insertions at the same offset from different fixes)
// are an error, because their combined meaning is ambiguous.
func ApplyEdits(src []byte, edits []Edit) ([]byte, error) {
	re := make([]ruleEdit, len(edits))
	for i, e := range edits {
		re[i] = ruleEdit{Edit: e, order: i}
	}
	out, _, err := applyRuleEdits(src, re)
	return out, err
}

// applyRuleEdits applies edits and also returns the segments that map
// offsets of the result back to the source.
func applyRuleEdits(src []byte, edits []ruleEdit) ([]byte, []segment, error) {
	for _, e := range edits {
		if e.Start < 0 || e.End < e.Start || e.End > len(src) {
			return nil, nil, fmt.Errorf("%s: edit [%d,%d) is outside the %d-byte file", ruleOr(e.rule), e.Start, e.End, len(src))
		}
	}
	sorted := append([]ruleEdit(nil), edits...)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i], sorted[j]
		if a.Start != b.Start {
			return a.Start < b.Start
		}
		// An insertion goes before a replacement that starts where it does.
		if (a.Start == a.End) != (b.Start == b.End) {
			return a.Start == a.End
		}
		return a.order < b.order
	})
	for i := 1; i < len(sorted); i++ {
		a, b := sorted[i-1], sorted[i]
		bothInsert := a.Start == a.End && b.Start == b.End
		if b.Start < a.End || (bothInsert && a.Start == b.Start) {
			return nil, nil, &OverlapError{A: a.Edit, B: b.Edit, RuleA: ruleOr(a.rule), RuleB: ruleOr(b.rule)}
		}
	}
	var out strings.Builder
	out.Grow(len(src) + 64)
	var segs []segment
	pos := 0
	for _, e := range sorted {
		if e.Start > pos {
			segs = append(segs, segment{newStart: out.Len(), oldStart: pos, length: e.Start - pos, same: true})
			out.Write(src[pos:e.Start])
		}
		if e.New != "" {
			segs = append(segs, segment{newStart: out.Len(), oldStart: e.Start, length: len(e.New)})
			out.WriteString(e.New)
		}
		pos = e.End
	}
	if pos < len(src) {
		segs = append(segs, segment{newStart: out.Len(), oldStart: pos, length: len(src) - pos, same: true})
		out.Write(src[pos:])
	}
	return []byte(out.String()), segs, nil
}

func ruleOr(name string) string {
	if name == "" {
		return "edit"
	}
	return name
}

// segment maps a run of bytes in an edited text back to the text it came
// from: unchanged runs map byte for byte, inserted runs map to the offset of
// the edit they came from.
type segment struct {
	newStart, oldStart, length int
	same                       bool
}

// mapBack returns the offset in the old text that new offset off came from.
func mapBack(segs []segment, off int) int {
	i := sort.Search(len(segs), func(i int) bool { return segs[i].newStart+segs[i].length > off })
	if i == len(segs) {
		if len(segs) == 0 {
			return off
		}
		last := segs[len(segs)-1]
		if last.same {
			return last.oldStart + last.length
		}
		return last.oldStart
	}
	s := segs[i]
	if s.same {
		return s.oldStart + (off - s.newStart)
	}
	return s.oldStart
}

// MatchCase writes word in the case style of like: all lower, Title, or
// upper.
func MatchCase(like, word string) string {
	switch {
	case like == strings.ToLower(like):
		return strings.ToLower(word)
	case like == strings.ToUpper(like):
		return strings.ToUpper(word)
	case like[:1] == strings.ToUpper(like[:1]) && like[1:] == strings.ToLower(like[1:]):
		return word[:1] + strings.ToLower(word[1:])
	}
	return strings.ToUpper(word)
}

// Keyword writes an instruction keyword in the file's style: lower case
// when every keyword of the file is, else upper case.
func (d *Document) Keyword(kw string) string {
	for _, in := range d.Instructions {
		t := in.KeywordSpan.Text(d.Src)
		if t != strings.ToLower(t) {
			return strings.ToUpper(kw)
		}
	}
	return strings.ToLower(kw)
}

// InsertLineAfter inserts a line after instruction in (and its heredoc
// bodies). At the end of a file without a final newline the line goes
// after a new line ending, so the file still ends without one.
func InsertLineAfter(d *Document, in *Instruction, line string) Edit {
	off := in.Span.End
	if off == len(d.Src) && (off == 0 || d.Src[off-1] != '\n') {
		return Insert(off, d.Newline+line)
	}
	return Insert(off, line+d.Newline)
}

// InsertLineBefore inserts a line before instruction in and the comment
// lines directly above it, which belong to it.
func InsertLineBefore(d *Document, in *Instruction, line string) Edit {
	prevEnd := 0
	for _, other := range d.Instructions {
		if other.EndLine < in.Line {
			prevEnd = max(prevEnd, other.EndLine)
		}
	}
	l := in.Line
	for l-1 > prevEnd && IsCommentLine(d.LineText(l-1)) {
		l--
	}
	return Insert(d.LineStart(l), line+d.Newline)
}
