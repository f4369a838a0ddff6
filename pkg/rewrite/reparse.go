package rewrite

import (
	"bytes"
	"math"
	"sort"
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

// region is a run of whole instructions, first to last (n for the bytes
// after the last instruction), parsed again: its bytes [start, end) in the
// old text and [outStart, outEnd) in the new one.
type region struct {
	first, last                  int
	start, end, outStart, outEnd int
}

// reparseRegion does the incremental re-parse; ok is false when it cannot
// (the caller parses the whole file, which also reports any error). Edits
// far apart (a pin of the first and of the last FROM) make separate
// regions, so the instructions between them are not parsed again; all
// regions go to BuildKit's parser in one call, because each call also
// compiles the parser's regular expressions.
func reparseRegion(cur *Document, edits []Edit, out []byte) (*Document, bool) {
	n := len(cur.Instructions)
	if len(edits) == 0 || len(cur.Stages) == 0 {
		return nil, false
	}
	regions, ok := editRegions(cur, edits, out)
	if !ok {
		return nil, false
	}
	chunks, ok := parseRegions(cur, regions, out)
	if !ok {
		return nil, false
	}
	head := cur.Instructions[0]
	if regions[0].first == 0 {
		// The region starts with the first instruction's unchanged
		// keyword; the comments before it are not in the region.
		nd := chunks[0].nodes[0]
		if len(nd.PrevComment) > 0 {
			return nil, false
		}
		nd.PrevComment = head.Node.PrevComment
	}

	// Instructions between regions move by the lines the regions before
	// them gained or lost; the regions' own nodes carry their new lines.
	children := make([]*parser.Node, 0, len(cur.AST.Children)+len(edits))
	var warn []parserWarning
	keepOld := func(from, to, shift int) { // old instructions [from, to)
		for _, old := range cur.AST.Children[from:to] {
			if shift == 0 {
				children = append(children, old)
				continue
			}
			moved := *old
			moved.StartLine += shift
			moved.EndLine += shift
			children = append(children, &moved)
		}
	}
	keepWarnings := func(fromLine, toLine, shift int) { // old lines [fromLine, toLine)
		for _, w := range cur.parserWarn {
			if w.line >= fromLine && w.line < toLine {
				warn = append(warn, parserWarning{line: w.line + shift, text: w.text})
			}
		}
	}
	next, shift, nextLine := 0, 0, 0 // first old instruction and old line not yet placed
	for k, r := range regions {
		c := chunks[k]
		keepOld(next, r.first, shift)
		keepWarnings(nextLine, c.oldLine, shift)
		children = append(children, c.nodes...)
		warn = append(warn, c.warnings...)
		next, nextLine = r.last+1, c.oldLineAfter
		shift += c.shift
	}
	if next < n {
		keepOld(next, n, shift)
	}
	keepWarnings(nextLine, math.MaxInt, shift)

	root := *cur.AST
	root.Children = children
	root.StartLine = children[0].StartLine
	root.EndLine = children[len(children)-1].EndLine
	d, err := newDocument(cur.Path, out, cur.Escape, &root, warn)
	if err != nil {
		return nil, false
	}
	return d, true
}

// editRegions groups the edits into regions of whole instructions, in file
// order, with instructions no edit touches between them; false when the
// file must be parsed whole (see reparse).
func editRegions(cur *Document, edits []Edit, out []byte) ([]region, bool) {
	n := len(cur.Instructions)
	head := cur.Instructions[0]
	// Instruction i owns the bytes from the end of instruction i-1 to its
	// own end; index n stands for the bytes after the last instruction.
	owner := func(off int) int {
		return sort.Search(n, func(i int) bool { return cur.Instructions[i].Span.End > off })
	}
	sorted := append([]Edit(nil), edits...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Start < sorted[j].Start })
	var regions []region
	delta := 0 // bytes the edits before the current one added
	for _, e := range sorted {
		if e.Start <= head.KeywordSpan.Start {
			return nil, false
		}
		a, b := owner(e.Start), owner(e.Start)
		if e.End > e.Start {
			b = owner(e.End - 1)
		}
		grow := len(e.New) - (e.End - e.Start)
		if k := len(regions) - 1; k >= 0 && a <= regions[k].last+1 {
			regions[k].last = max(regions[k].last, b)
			regions[k].outEnd += grow
			delta += grow
			continue
		}
		regions = append(regions, region{first: a, last: b, outStart: delta, outEnd: delta + grow})
		delta += grow
	}
	prevEnd, prevOutEnd := 0, 0
	for k := range regions {
		r := &regions[k]
		r.start = head.Span.Start
		if r.first > 0 {
			r.start = cur.Instructions[r.first-1].Span.End
		} else if cur.HasBOM && r.start == 0 {
			return nil, false // BuildKit drops the BOM only at the start of the text
		}
		r.end = len(cur.Src)
		if r.last < n {
			r.end = cur.Instructions[r.last].Span.End
		}
		for i := r.first; i <= r.last && i < n; i++ {
			if len(cur.Instructions[i].Node.Heredocs) > 0 {
				return nil, false
			}
		}
		if r.start > 0 && cur.Src[r.start-1] != '\n' {
			return nil, false // the file's last line has no line ending; text would join it
		}
		// outStart and outEnd hold the bytes added before and inside the
		// region so far.
		r.outStart, r.outEnd = r.start+r.outStart, r.end+r.outEnd
		if r.outEnd < r.outStart || r.outEnd > len(out) ||
			!bytes.Equal(out[prevOutEnd:r.outStart], cur.Src[prevEnd:r.start]) {
			return nil, false
		}
		chunk := out[r.outStart:r.outEnd]
		if r.outEnd < len(out) && (!bytes.HasSuffix(chunk, []byte("\n")) || endsInEscape(chunk, cur.Escape)) {
			return nil, false // the next instruction would be joined to the region's last line
		}
		prevEnd, prevOutEnd = r.end, r.outEnd
	}
	if !bytes.Equal(out[prevOutEnd:], cur.Src[prevEnd:]) {
		return nil, false
	}
	return regions, true
}

// endsInEscape reports whether the last line of chunk ends in the escape
// character (blanks after it allowed), which would continue it onto the
// text that follows.
func endsInEscape(chunk []byte, escape rune) bool {
	line := bytes.TrimRight(chunk, " \t\r\n")
	return len(line) > 0 && rune(line[len(line)-1]) == escape
}

// parsedRegion is a region's nodes and parser warnings with the lines of
// the new text, the first old line of the region and the first after it,
// and the lines it gained.
type parsedRegion struct {
	nodes                        []*parser.Node
	warnings                     []parserWarning
	oldLine, oldLineAfter, shift int
}

// parseRegions parses the new text of every region in one call of
// BuildKit's parser, each region separated from the next by an empty
// comment line (which, as the end of an instruction does in a full parse,
// clears the comments collected for the next instruction), and gives each
// node and warning back to its region with its line in the new text. False
// when a region holds no instruction or a heredoc, or the text does not
// parse on its own.
func parseRegions(cur *Document, regions []region, out []byte) ([]parsedRegion, bool) {
	src := make([]byte, 0, 64)
	parts := make([]parsedRegion, len(regions))
	starts := make([]int, len(regions)) // each region's first line in src
	lines := 1
	for k, r := range regions {
		if k > 0 {
			src = append(src, "#\n"...)
			lines++
		}
		chunk := out[r.outStart:r.outEnd]
		starts[k] = lines
		src = append(src, chunk...)
		lines += bytes.Count(chunk, []byte("\n"))
		oldLines := bytes.Count(cur.Src[r.start:r.end], []byte("\n"))
		parts[k].oldLine = 1 + bytes.Count(cur.Src[:r.start], []byte("\n"))
		parts[k].oldLineAfter = math.MaxInt
		if r.end < len(cur.Src) {
			parts[k].oldLineAfter = parts[k].oldLine + oldLines
		}
		parts[k].shift = bytes.Count(chunk, []byte("\n")) - oldLines
	}
	nodes, warnings, ok := parseChunk(src, cur.Escape)
	if !ok {
		return nil, false
	}
	newLines := make([]int, len(regions)) // each region's first line in out
	for k := range regions {
		newLines[k] = parts[k].oldLine
		if k > 0 {
			// Between regions the text is unchanged: only the regions
			// before moved it.
			newLines[k] = newLines[k-1] + (parts[k].oldLine - parts[k-1].oldLine) + parts[k-1].shift
		}
	}
	// regionOf maps a line of src to its region and that line in out.
	regionOf := func(line int) (int, int) {
		k := max(sort.Search(len(starts), func(k int) bool { return starts[k] > line })-1, 0)
		return k, line - starts[k] + newLines[k]
	}
	for _, nd := range nodes {
		k, line := regionOf(nd.StartLine)
		nd.EndLine += line - nd.StartLine
		nd.StartLine = line
		parts[k].nodes = append(parts[k].nodes, nd)
	}
	for _, w := range warnings {
		k, line := regionOf(w.line)
		parts[k].warnings = append(parts[k].warnings, parserWarning{line: line, text: w.text})
	}
	for _, p := range parts {
		if len(p.nodes) == 0 {
			return nil, false
		}
	}
	return parts, true
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
