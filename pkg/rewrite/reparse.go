package rewrite

import (
	"bytes"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"github.com/hardenfix/hardenfix/pkg/rewrite/internal/testhook"
)

// reparse returns the Document of out, which is cur.Src with edits applied.
//
// BuildKit's parser is most of what a rule run costs, and most fixes touch
// one or two instructions (a keyword, a flag, an inserted USER line), so
// only the instructions the edits touch are parsed again, and their nodes are
// spliced into the syntax tree of the others, whose line numbers shift by
// the lines the edits added or removed. The typed stages, the linter and the
// instruction table are then rebuilt from that tree as a full parse would.
//
// The region parsed again is a run of whole instructions together with the
// comment and blank lines before each (BuildKit attaches those comments to
// the instruction that follows them), so the parser starts and ends in the
// same state as in a full parse. For the first instruction the region starts
// at its own line instead: what stands before it (a BOM, parser directives,
// comments) is not parsed again, and its comments are carried over. A FROM
// in the region is parsed like any other instruction: the stages are
// rebuilt from the whole tree. The whole file is parsed instead when that
// cannot be said: an edit before the first instruction's keyword (where it
// could make or change a parser directive), a heredoc in the region before
// or after, or a region that does not end on a line ending.
//
// Tests set testhook.CheckReparse, so every pipeline run in them compares
// the result with a full parse.
func reparse(cur *Document, edits []Edit, out []byte) (*Document, error) {
	d, ok := reparseRegion(cur, edits, out)
	if !ok {
		return Parse(cur.Path, out)
	}
	if testhook.CheckReparse.Load() {
		checkReparse(d, out)
	}
	return d, nil
}

// reparseRegion does the incremental re-parse; ok is false when it cannot
// (the caller parses the whole file, which also reports any error).
func reparseRegion(cur *Document, edits []Edit, out []byte) (*Document, bool) {
	n := len(cur.Instructions)
	if len(edits) == 0 || len(cur.Stages) == 0 {
		return nil, false
	}
	// Instruction i owns the bytes from the end of instruction i-1 to its
	// own end; index n stands for the bytes after the last instruction.
	owner := func(off int) int {
		for i := 0; i < n; i++ {
			if cur.Instructions[i].Span.End > off {
				return i
			}
		}
		return n
	}
	first, last := n+1, -1
	head := cur.Instructions[0]
	for _, e := range edits {
		if e.Start <= head.KeywordSpan.Start {
			return nil, false
		}
		a, b := owner(e.Start), owner(e.Start)
		if e.End > e.Start {
			b = owner(e.End - 1)
		}
		first, last = min(first, a), max(last, b)
	}
	regionStart := head.Span.Start
	if first > 0 {
		regionStart = cur.Instructions[first-1].Span.End
	} else if cur.HasBOM && regionStart == 0 {
		return nil, false // BuildKit drops the BOM only at the start of the text
	}
	regionEnd := len(cur.Src)
	if last < n {
		regionEnd = cur.Instructions[last].Span.End
	}
	for i := first; i <= last && i < n; i++ {
		if in := cur.Instructions[i]; len(in.Node.Heredocs) > 0 {
			return nil, false
		}
	}
	if regionStart > 0 && cur.Src[regionStart-1] != '\n' {
		return nil, false // the file's last line has no line ending; text would join it
	}
	delta := len(out) - len(cur.Src)
	newEnd := regionEnd + delta
	if newEnd < regionStart || !bytes.Equal(out[:regionStart], cur.Src[:regionStart]) || !bytes.Equal(out[newEnd:], cur.Src[regionEnd:]) {
		return nil, false
	}
	chunk := out[regionStart:newEnd]
	if newEnd < len(out) && !bytes.HasSuffix(chunk, []byte("\n")) {
		return nil, false // the next instruction would be joined to the region's last line
	}
	nodes, warnings, ok := parseChunk(chunk, cur.Escape)
	if !ok {
		return nil, false
	}
	if first == 0 {
		// The region starts with the first instruction's unchanged
		// keyword; the comments before it are not in the region.
		if len(nodes[0].PrevComment) > 0 {
			return nil, false
		}
		nodes[0].PrevComment = head.Node.PrevComment
	}
	// Lines before the region are the same; those after it move by the
	// lines the region gained or lost.
	startLine := 1 + bytes.Count(cur.Src[:regionStart], []byte("\n"))
	shift := bytes.Count(chunk, []byte("\n")) - bytes.Count(cur.Src[regionStart:regionEnd], []byte("\n"))

	children := make([]*parser.Node, 0, len(cur.AST.Children)+len(nodes))
	children = append(children, cur.AST.Children[:first]...)
	for _, nd := range nodes {
		nd.StartLine += startLine - 1
		nd.EndLine += startLine - 1
		children = append(children, nd)
	}
	if last < n {
		for _, old := range cur.AST.Children[last+1:] {
			moved := *old
			moved.StartLine += shift
			moved.EndLine += shift
			children = append(children, &moved)
		}
	}
	root := *cur.AST
	root.Children = children
	root.StartLine = children[0].StartLine
	root.EndLine = children[len(children)-1].EndLine

	// Parser warnings: those of instructions before the region, the
	// region's own, and those after it moved with their lines.
	lastLineBefore := startLine - 1
	var warn []parserWarning
	for _, w := range cur.parserWarn {
		if w.line <= lastLineBefore {
			warn = append(warn, w)
		}
	}
	for _, w := range warnings {
		warn = append(warn, parserWarning{line: w.line + startLine - 1, text: w.text})
	}
	if last < n {
		firstLineAfter := cur.Instructions[last].EndLine + 1
		for _, w := range cur.parserWarn {
			if w.line >= firstLineAfter {
				warn = append(warn, parserWarning{line: w.line + shift, text: w.text})
			}
		}
	}
	d, err := newDocument(cur.Path, out, cur.Escape, &root, warn)
	if err != nil {
		return nil, false
	}
	return d, true
}

// parseChunk parses a run of whole instructions taken from the middle of a
// file with the file's escape character. Line numbers count from the
// chunk's first line. ok is false when the chunk holds no instruction, does
// not parse on its own, or holds a heredoc.
func parseChunk(chunk []byte, escape rune) (nodes []*parser.Node, warnings []parserWarning, ok bool) {
	// A header ends BuildKit's search for parser directives, which only
	// stand at the top of a file: a comment in the chunk that looks like
	// one ("# escape=`") is an ordinary comment in the middle of the file.
	// An empty comment line does that and also clears the comments the
	// parser collects for the next instruction, as the end of an
	// instruction does in a full parse. With another escape character the
	// header sets it first.
	header := "#\n"
	if escape != '\\' {
		header = "# escape=" + string(escape) + "\n#\n"
	}
	headerLines := strings.Count(header, "\n")
	src := make([]byte, 0, len(header)+len(chunk))
	src = append(append(src, header...), chunk...)
	res, err := parser.Parse(bytes.NewReader(src))
	if err != nil || res.EscapeToken != escape {
		return nil, nil, false
	}
	for _, nd := range res.AST.Children {
		if len(nd.Heredocs) > 0 {
			return nil, nil, false
		}
		nd.StartLine -= headerLines
		nd.EndLine -= headerLines
	}
	for _, w := range res.Warnings {
		warnings = append(warnings, parserWarning{line: warningLine(w) - headerLines, text: w.Short})
	}
	return res.AST.Children, warnings, true
}
