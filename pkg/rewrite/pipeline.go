package rewrite

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"
)

// Result is what the pipeline made of one file.
type Result struct {
	Path  string
	Old   []byte
	New   []byte
	Fixes []Fix
	Notes []Note
}

// Changed reports whether any rule changed the file.
func (r *Result) Changed() bool { return !bytes.Equal(r.Old, r.New) }

// RuleError is a rule that failed or produced a file BuildKit cannot parse.
// The file is left as it was.
type RuleError struct {
	Path string
	Rule string
	Err  error
}

func (e *RuleError) Error() string { return fmt.Sprintf("%s: rule %s: %v", e.Path, e.Rule, e.Err) }
func (e *RuleError) Unwrap() error { return e.Err }

// Run parses src and runs rules over it in order. After each rule that
// changed something the text is parsed again (only the instructions it
// touched, when it can: see reparse), so every rule sees valid input; a
// rule whose output does not parse stops the run with a RuleError.
// Lines in the result's fixes and notes refer to src.
func Run(ctx context.Context, path string, src []byte, rules []*Rule, env *Env) (*Result, error) {
	if env == nil {
		env = &Env{}
	}
	doc, err := Parse(path, src)
	if err != nil {
		return nil, err
	}
	res := &Result{Path: path, Old: src, New: src}
	if ignoresFile(doc) {
		return res, nil
	}
	p := &pass{orig: doc, cur: doc, res: res}
	for _, r := range rules {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if !readsAny(p.cur, r.Reads) {
			continue
		}
		if err := p.step(ctx, r, env); err != nil {
			return nil, err
		}
	}
	sort.SliceStable(res.Notes, func(i, j int) bool { return res.Notes[i].Line < res.Notes[j].Line })
	return res, nil
}

// pass is one Run in progress: the text as the rules so far left it and
// the way back from its lines to those of the original.
type pass struct {
	orig, cur *Document
	// history maps lines of the current text back to src, one step per
	// rule that changed the text.
	history [][]segment
	res     *Result
}

// origLine maps a line of the current text to the line of the original
// text it came from.
func (p *pass) origLine(line int) int {
	if len(p.history) == 0 || line < 1 {
		return line
	}
	off := p.cur.LineStart(min(line, p.cur.LineCount()))
	for i := len(p.history) - 1; i >= 0; i-- {
		off = mapBack(p.history[i], off)
	}
	return p.orig.LineOf(off)
}

// step runs rule r over the current text: it records the fixes and notes
// no ignore comment silences, then applies the fixes' edits and parses
// the result.
func (p *pass) step(ctx context.Context, r *Rule, env *Env) error {
	cur := p.cur
	fixes, notes, err := r.Check(ctx, cur, env)
	if err != nil {
		return &RuleError{Path: p.res.Path, Rule: r.Name, Err: err}
	}
	// Most files have no ignore comment: then nothing needs checking.
	check := hasIgnoreComments(cur)
	edits, fixNotes := p.takeFixes(r, fixes, check)
	for _, list := range [2][]Note{fixNotes, notes} {
		for _, n := range list {
			if check && cur.Ignores(r.Name, n.Line) {
				continue
			}
			n.Rule = r.Name
			n.Line = p.origLine(n.Line)
			p.res.Notes = append(p.res.Notes, n)
		}
	}
	if len(edits) == 0 {
		return nil
	}
	return p.apply(r, edits)
}

// takeFixes adds r's fixes that are not ignored (check: the file has
// ignore comments) to the result, in lines of the original, and returns
// their edits in order and the notes they carried.
func (p *pass) takeFixes(r *Rule, fixes []Fix, check bool) ([]ruleEdit, []Note) {
	cur := p.cur
	var edits []ruleEdit
	var fixNotes []Note
	for _, f := range fixes {
		if len(f.Edits) == 0 || check && fixIgnored(cur, f, r.Name) {
			continue
		}
		f.Rule = r.Name
		if f.Risk == "" {
			f.Risk = r.Risk
		}
		f.Before, f.After = fixText(cur, f.Edits)
		for _, e := range f.Edits {
			edits = append(edits, ruleEdit{Edit: e, rule: r.Name, order: len(edits)})
			f.Touched = append(f.Touched, LineRange{
				Start: p.origLine(cur.LineOf(e.Start)),
				End:   p.origLine(cur.LineOf(max(e.End-1, e.Start))),
			})
		}
		f.Line = p.origLine(f.Line)
		fixNotes = append(fixNotes, f.Notes...)
		f.Notes = nil
		p.res.Fixes = append(p.res.Fixes, f)
	}
	return edits, fixNotes
}

// apply makes r's edits to the current text and parses it again; the
// parsed text becomes the current one.
func (p *pass) apply(r *Rule, edits []ruleEdit) error {
	cur := p.cur
	out, segs, err := applyRuleEdits(cur.Src, edits)
	if err != nil {
		return &RuleError{Path: p.res.Path, Rule: r.Name, Err: err}
	}
	if bytes.Equal(out, cur.Src) {
		return nil
	}
	plain := make([]Edit, len(edits))
	for i, e := range edits {
		plain[i] = e.Edit
	}
	next, err := reparse(cur, plain, out)
	if err != nil {
		return &RuleError{Path: p.res.Path, Rule: r.Name, Err: fmt.Errorf("the rewritten file does not parse: %w", err)}
	}
	p.cur = next
	p.history = append(p.history, segs)
	p.res.New = out
	return nil
}

// fixText returns the whole lines a fix's edits touch, before and after.
func fixText(d *Document, edits []Edit) (before, after string) {
	lo, hi := len(d.Src), 0
	for _, e := range edits {
		lo, hi = min(lo, e.Start), max(hi, e.End)
	}
	start := d.LineStart(d.LineOf(lo))
	end := d.lineEnd(d.LineOf(max(hi-1, lo)), false)
	if hi > end {
		end = hi
	}
	region := d.Src[start:end]
	shifted := make([]Edit, len(edits))
	for i, e := range edits {
		shifted[i] = Edit{Start: e.Start - start, End: e.End - start, New: e.New}
	}
	out, err := ApplyEdits(region, shifted)
	if err != nil {
		return string(region), ""
	}
	return string(region), string(out)
}

const (
	IgnoreDirective     = "hardenfix:ignore"
	ignoreFileDirective = "hardenfix:ignore-file"
)

// ignoresFile reports whether a `# hardenfix:ignore-file` comment stands
// before the first instruction.
func ignoresFile(d *Document) bool {
	if len(d.Instructions) == 0 {
		return false
	}
	for l := 1; l < d.Instructions[0].Line; l++ {
		t := strings.TrimSpace(d.LineText(l))
		if strings.HasPrefix(t, "#") && strings.HasPrefix(strings.TrimSpace(t[1:]), ignoreFileDirective) {
			return true
		}
	}
	return false
}

// Ignores reports whether a `# hardenfix:ignore` comment on the lines
// right before the instruction at line silences rule: one naming it, or
// one naming no rule (all rules). The pipeline checks it for every
// instruction a fix touches and for the line of every note, so a rule
// needs it only to choose among several changes it makes one fix of.
func (d *Document) Ignores(rule string, line int) bool {
	in := d.InstructionAt(line)
	return in != nil && ignores(in, rule)
}

// ignores reports whether an ignore comment before in silences rule.
func ignores(in *Instruction, rule string) bool {
	for _, c := range in.Node.PrevComment {
		rest, ok := strings.CutPrefix(strings.TrimSpace(c), IgnoreDirective)
		if !ok || strings.HasPrefix(rest, "-") {
			continue
		}
		names := strings.FieldsFunc(rest, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
		if len(names) == 0 {
			return true
		}
		for _, n := range names {
			if n == "*" || n == rule {
				return true
			}
		}
	}
	return false
}

// hasIgnoreComments reports whether a comment before any instruction of
// d holds an ignore directive.
func hasIgnoreComments(d *Document) bool {
	for _, in := range d.Instructions {
		for _, c := range in.Node.PrevComment {
			if strings.Contains(c, IgnoreDirective) {
				return true
			}
		}
	}
	return false
}

// fixIgnored reports whether an ignore comment for rule silences a fix:
// one before the instruction at the fix's Line or before any instruction
// its edits touch (see touchesIgnored). A fix is one change, so it is
// made whole or not at all.
func fixIgnored(d *Document, f Fix, rule string) bool {
	if d.Ignores(rule, f.Line) {
		return true
	}
	for _, e := range f.Edits {
		if touchesIgnored(d, e, rule) {
			return true
		}
	}
	return false
}

// touchesIgnored reports whether an instruction edit e touches has an
// ignore comment for rule. An edit that replaces or deletes bytes of
// instructions touches each of them; an insertion strictly inside an
// instruction touches that one. An edit between two instructions (a line
// inserted after one and before the next, or a change to the blank and
// comment lines between them) touches both: the instruction before it and
// the one after it, because the new text goes next to both and a position
// alone cannot tell which of them the rule meant (USER before CMD, a RUN
// after FROM). A line appended at the end of the file touches the last
// instruction. An edit before the first instruction touches none: that is
// where parser directives go (# syntax=), which belong to the file, not to
// an instruction.
func touchesIgnored(d *Document, e Edit, rule string) bool {
	var prev, next *Instruction
	inside := false
	for _, in := range d.Instructions {
		s := in.Span
		if e.Start < s.End && s.Start < e.End || e.Start == e.End && s.Start < e.Start && e.Start < s.End {
			inside = true
			if ignores(in, rule) {
				return true
			}
		}
		if s.End <= e.Start {
			prev = in
		}
		if next == nil && s.Start >= e.End {
			next = in
		}
	}
	if inside || prev == nil {
		return false
	}
	return ignores(prev, rule) || next != nil && ignores(next, rule)
}

// readsAny reports whether d has one of the instructions keywords names,
// or keywords is empty (the rule reads the whole file).
func readsAny(d *Document, keywords []string) bool {
	if len(keywords) == 0 {
		return true
	}
	for _, in := range d.Instructions {
		for _, k := range keywords {
			if in.Keyword == k {
				return true
			}
		}
	}
	return false
}
