// Package rewrite is hardenfix's engine: it parses a Dockerfile into a
// Document that remembers where every instruction sits in the original bytes,
// runs rules that propose byte-range edits, applies those edits, and renders
// the result as a unified diff.
//
// Rules never re-serialise the syntax tree. They replace the smallest span of
// bytes they can (one keyword, one image reference, one inserted line), so
// every byte they do not touch — comments, blank lines, continuations,
// spacing, CRLF line endings, a BOM, a missing final newline — comes out
// exactly as it went in.
//
// The rules themselves live in their own packages under pkg/rules; this
// package exports what a rule needs from the engine: Document queries
// (stages, stage chains and references, the FROM and the instructions of a
// stage, the variables at an instruction), the shell model of RUN bodies,
// edit helpers that keep the file's style, and ignore comments.
package rewrite

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// MaxFileSize is the largest Dockerfile hardenfix reads. Real Dockerfiles are
// a few kilobytes; anything past this is almost certainly not a Dockerfile,
// and refusing it keeps memory bounded.
const MaxFileSize = 4 << 20

// BOM is the UTF-8 byte order mark a Dockerfile may start with.
const BOM = "\xef\xbb\xbf"

// Span is a half-open byte range [Start, End) in a Document's source.
type Span struct{ Start, End int }

// Text returns the bytes of s in src.
func (s Span) Text(src []byte) string { return string(src[s.Start:s.End]) }

// Instruction is one top-level Dockerfile instruction and where it sits.
type Instruction struct {
	Node *parser.Node
	// Keyword is the instruction name in upper case ("FROM", "RUN", ...).
	Keyword string
	// Line and EndLine are 1-based physical line numbers; EndLine includes
	// continuation lines and heredoc bodies.
	Line, EndLine int
	// Span covers the whole instruction: from the start of Line to the end
	// of EndLine, including its line ending.
	Span Span
	// KeywordSpan covers the instruction keyword as written ("add", "ADD").
	KeywordSpan Span
	// ArgsSpan covers everything after the keyword up to the end of the
	// instruction's last command line (heredoc bodies excluded), without
	// the line ending.
	ArgsSpan Span
	// Stage is the index of the stage this instruction belongs to; -1 for
	// instructions before the first FROM (global ARGs).
	Stage int
	// Command is the typed instruction from BuildKit's instructions package
	// (*instructions.Stage for FROM).
	Command any

	Index int // position in Document.Instructions
}

// Document is a parsed Dockerfile that keeps its original bytes.
type Document struct {
	Path string
	Src  []byte
	// HasBOM is true when Src starts with a UTF-8 byte-order mark.
	HasBOM bool
	// Newline is the line ending used by the file ("\n" or "\r\n"), taken
	// from its first line ending; inserted lines use it.
	Newline string
	// Escape is the escape character (`\` or the one set by `# escape=`).
	Escape rune
	AST    *parser.Node
	// Stages and MetaArgs are BuildKit's typed view of the file.
	Stages   []instructions.Stage
	MetaArgs []instructions.ArgCommand
	// Instructions lists every top-level instruction in file order.
	Instructions []*Instruction
	// GlobalArgs holds the defaults of ARGs declared before the first FROM,
	// each expanded with those before it. ARGs without a default are absent.
	GlobalArgs Vars
	// Warnings are what BuildKit's parser and linter reported.
	Warnings []string

	scopesOnce sync.Once
	scopes     []Vars // VarsAt of each instruction, by index

	lineStarts []int
	parserWarn []parserWarning

	shellMu sync.Mutex
	shells  map[int]*ShellScript // Shell of each RUN, by instruction index
}

// ParseError is a Dockerfile that BuildKit could not parse. It names the file
// and, when BuildKit reported one, the line.
type ParseError struct {
	Path string
	Line int
	Err  error
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.Path, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Path, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// Parse parses src as the Dockerfile at path.
func Parse(path string, src []byte) (*Document, error) {
	if len(src) > MaxFileSize {
		return nil, &ParseError{Path: path, Err: fmt.Errorf("file is %d bytes, larger than the %d-byte limit for a Dockerfile", len(src), MaxFileSize)}
	}
	if bytes.IndexByte(src, 0) >= 0 {
		return nil, &ParseError{Path: path, Line: lineOfByte(src, bytes.IndexByte(src, 0)), Err: errors.New("file contains a NUL byte; it is not a text Dockerfile")}
	}
	res, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		return nil, &ParseError{Path: path, Line: errorLine(err), Err: unwrapLocation(err)}
	}
	var warnings []parserWarning
	for _, w := range res.Warnings {
		warnings = append(warnings, parserWarning{line: warningLine(w), text: w.Short})
	}
	return newDocument(path, src, res.EscapeToken, res.AST, warnings)
}

// parserWarning is a warning of BuildKit's parser (not its linter) and the
// line it is about, kept so an incremental re-parse can carry the warnings
// of the instructions it did not parse again.
type parserWarning struct {
	line int
	text string
}

func warningLine(w parser.Warning) int {
	if w.Location != nil {
		return w.Location.Start.Line
	}
	return 0
}

// newDocument finishes a Document from BuildKit's syntax tree: the typed
// stages (and the linter's warnings on them), global ARG defaults and the
// instruction table with byte spans.
func newDocument(path string, src []byte, escape rune, ast *parser.Node, warnings []parserWarning) (*Document, error) {
	d := &Document{
		Path:       path,
		Src:        src,
		HasBOM:     bytes.HasPrefix(src, []byte(BOM)),
		Newline:    "\n",
		Escape:     escape,
		AST:        ast,
		lineStarts: lineStarts(src),
		parserWarn: warnings,
	}
	if i := bytes.IndexByte(src, '\n'); i > 0 && src[i-1] == '\r' {
		d.Newline = "\r\n"
	}
	for _, w := range warnings {
		d.Warnings = append(d.Warnings, "parser: "+w.text)
	}
	lint := linter.New(&linter.Config{Warn: func(rule, _, _, msg string, _ []parser.Range) {
		d.Warnings = append(d.Warnings, rule+": "+msg)
	}})
	var err error
	d.Stages, d.MetaArgs, err = instructions.Parse(ast, lint)
	if err != nil {
		return nil, &ParseError{Path: path, Line: errorLine(err), Err: unwrapLocation(err)}
	}
	d.GlobalArgs = d.globalDefaults()
	if err := d.index(); err != nil {
		return nil, &ParseError{Path: path, Err: err}
	}
	return d, nil
}

// index builds the Instructions table with byte spans and typed commands.
func (d *Document) index() error {
	stage := -1
	cmdIndex := 0
	// One allocation for the whole table.
	all := make([]Instruction, len(d.AST.Children))
	d.Instructions = make([]*Instruction, 0, len(all))
	for i, n := range d.AST.Children {
		in := &all[i]
		*in = Instruction{
			Node:    n,
			Keyword: strings.ToUpper(n.Value),
			Line:    n.StartLine,
			EndLine: n.EndLine,
		}
		if n.StartLine < 1 || n.EndLine > len(d.lineStarts) {
			return fmt.Errorf("instruction %s has lines %d-%d outside the file", in.Keyword, n.StartLine, n.EndLine)
		}
		in.Span = Span{d.lineStarts[n.StartLine-1], d.lineEnd(n.EndLine, true)}
		in.KeywordSpan = d.keywordSpan(n.StartLine)
		lastCmdLine := n.EndLine
		if len(n.Heredocs) > 0 {
			lastCmdLine = d.heredocCommandEnd(n)
		}
		in.ArgsSpan = Span{in.KeywordSpan.End, d.lineEnd(lastCmdLine, false)}
		if in.Keyword == "FROM" {
			stage++
			cmdIndex = 0
			if stage < len(d.Stages) {
				in.Command = &d.Stages[stage]
			}
		} else if stage >= 0 && stage < len(d.Stages) {
			if cmdIndex < len(d.Stages[stage].Commands) {
				in.Command = d.Stages[stage].Commands[cmdIndex]
			}
			cmdIndex++
		}
		in.Stage = stage
		in.Index = len(d.Instructions)
		d.Instructions = append(d.Instructions, in)
	}
	return nil
}

// heredocCommandEnd finds the last physical line of an instruction's command
// text, before its first heredoc body starts. The command ends on the first
// line (from StartLine) that does not end with the escape character.
func (d *Document) heredocCommandEnd(n *parser.Node) int {
	for l := n.StartLine; l < n.EndLine; l++ {
		text := strings.TrimRight(d.LineText(l), " \t\r")
		if IsCommentLine(text) && l > n.StartLine {
			continue
		}
		if !strings.HasSuffix(text, string(d.Escape)) {
			return l
		}
	}
	return n.EndLine
}

// IsCommentLine is BuildKit's test: '#' after any leading white space
// (a lone carriage return included).
func IsCommentLine(s string) bool {
	return strings.HasPrefix(strings.TrimLeftFunc(s, unicode.IsSpace), "#")
}

// keywordSpan is the first word on a line, after leading blanks (and a BOM
// on the first line).
func (d *Document) keywordSpan(line int) Span {
	start := d.lineStarts[line-1]
	if line == 1 && d.HasBOM {
		start += len(BOM)
	}
	end := d.lineEnd(line, false)
	// BuildKit trims what unicode.IsSpace calls space before the keyword:
	// a lone carriage return or a no-break space too, not only blanks.
	for start < end {
		r, size := utf8.DecodeRune(d.Src[start:end])
		if !unicode.IsSpace(r) {
			break
		}
		start += size
	}
	// Keywords are letters only; stopping there keeps a continuation
	// written right after the keyword ("ADD\\") out of the span.
	i := start
	for i < end && isLetter(d.Src[i]) {
		i++
	}
	return Span{start, i}
}

func isLetter(b byte) bool { return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' }

// LineCount is the number of physical lines in the file.
func (d *Document) LineCount() int { return len(d.lineStarts) }

// LineStart is the byte offset where the 1-based line starts.
func (d *Document) LineStart(line int) int { return d.lineStarts[line-1] }

// lineEnd is the offset just past the line's content; withNewline includes
// its line ending ("\n" or "\r\n").
func (d *Document) lineEnd(line int, withNewline bool) int {
	var end int
	if line < len(d.lineStarts) {
		end = d.lineStarts[line]
	} else {
		end = len(d.Src)
	}
	if withNewline {
		return end
	}
	if end > d.lineStarts[line-1] && d.Src[end-1] == '\n' {
		end--
		if end > d.lineStarts[line-1] && d.Src[end-1] == '\r' {
			end--
		}
	}
	return end
}

// LineText returns the content of a 1-based line without its line ending.
func (d *Document) LineText(line int) string {
	return string(d.Src[d.lineStarts[line-1]:d.lineEnd(line, false)])
}

// LineOf returns the 1-based line that holds byte offset off.
func (d *Document) LineOf(off int) int {
	lo, hi := 0, len(d.lineStarts)-1
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if d.lineStarts[mid] <= off {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo + 1
}

// Stage returns the instructions of stage i, FROM first.
func (d *Document) Stage(i int) []*Instruction {
	var out []*Instruction
	for _, in := range d.Instructions {
		if in.Stage == i {
			out = append(out, in)
		}
	}
	return out
}

// InstructionAt returns the instruction that covers the 1-based line.
func (d *Document) InstructionAt(line int) *Instruction {
	for _, in := range d.Instructions {
		if in.Line <= line && line <= in.EndLine {
			return in
		}
	}
	return nil
}

func lineStarts(src []byte) []int {
	starts := make([]int, 1, bytes.Count(src, []byte("\n"))+1)
	for i, b := range src {
		if b == '\n' && i+1 < len(src) {
			starts = append(starts, i+1)
		}
	}
	return starts
}

func lineOfByte(src []byte, off int) int {
	return bytes.Count(src[:off], []byte("\n")) + 1
}

func errorLine(err error) int {
	var le *parser.LocationError
	if errors.As(err, &le) {
		for _, rs := range le.Locations {
			for _, r := range rs {
				if r.Start.Line > 0 {
					return r.Start.Line
				}
			}
		}
	}
	return 0
}

// unwrapLocation drops BuildKit's location wrapper, whose text repeats
// nothing useful, so messages read "PATH:LINE: what went wrong".
func unwrapLocation(err error) error {
	var le *parser.LocationError
	if errors.As(err, &le) && le.Unwrap() != nil {
		return le.Unwrap()
	}
	return err
}

func isBlank(b byte) bool { return b == ' ' || b == '\t' || b == '\r' || b == '\n' }

// EndsInContinuation reports whether the file ends inside instruction in:
// its last command line ends with the escape character, and only blank or
// comment lines (which BuildKit skips inside a continuation) follow it.
// Text appended after it would be joined to it, and a rewrite of the
// instruction would change what the dangling escape means, so rules leave
// such an instruction alone.
func (d *Document) EndsInContinuation(in *Instruction) bool {
	if in.Span.End != len(d.Src) || len(in.Node.Heredocs) > 0 {
		return false
	}
	for l := in.EndLine; l >= in.Line; l-- {
		t := strings.TrimRightFunc(d.LineText(l), unicode.IsSpace)
		if l > in.Line && (t == "" || IsCommentLine(t)) {
			continue
		}
		return strings.HasSuffix(t, string(d.Escape))
	}
	return false
}

// NodeArgs returns the argument values BuildKit parsed for an instruction.
func NodeArgs(in *Instruction) []string {
	var out []string
	for n := in.Node.Next; n != nil; n = n.Next {
		out = append(out, n.Value)
	}
	return out
}
