package rewrite

import "strings"

// Word is one shell-style word of an instruction as written: its byte span
// in the source, the raw text, and the value with quotes and escapes removed.
type Word struct {
	Span  Span
	Raw   string
	Value string
}

// Literal reports whether a shell reads the word as its literal Value: safe
// characters, or quoted parts without expansions, escapes or history
// characters. Rules use it to decide that a shell-form command line means
// exactly its words' values, so it can be written in exec form.
func (w Word) Literal() bool {
	raw := w.Raw
	if strings.HasPrefix(raw, "~") || strings.HasPrefix(raw, "#") {
		return false
	}
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			strings.IndexByte("_@%+=:,./-", c) >= 0, c >= 0x80:
		case c == '\'' || c == '"':
			j := strings.IndexByte(raw[i+1:], c)
			if j < 0 || strings.ContainsAny(raw[i+1:i+1+j], "$`\\!\n\r") {
				return false
			}
			i += j + 1
		default:
			return false
		}
	}
	return true
}

// Words splits the bytes of span into words the way a reader of the
// Dockerfile sees them: blanks separate words, quotes group them, the escape
// character escapes the next byte, and a line continuation (escape at the end
// of a line) joins lines, skipping the comment and blank lines BuildKit
// skips inside continuations. The spans let a rule replace a single word.
func (d *Document) Words(span Span) []Word { return d.words(span, false) }

// FlagWords is Words up to and including the first word that is not a
// --flag, as written or once its quotes are taken out ("--from=a" is a
// flag to BuildKit): all a reader of an instruction's flags needs, without
// splitting the rest of a long RUN.
func (d *Document) FlagWords(span Span) []Word { return d.words(span, true) }

func (d *Document) words(span Span, flagsOnly bool) []Word {
	esc := byte(d.Escape)
	if d.Escape == 0 {
		esc = '\\'
	}
	// Raw texts are slices of one string of the span, and a word written
	// without quotes, escapes or continuations (most are) has its Raw as
	// its Value: a word costs no allocation of its own unless it needs
	// its value spelt out, which goes through one reused buffer.
	// (A reader of flags stops early: its few words are copied one by
	// one.)
	ws := wordSplit{src: d.Src, esc: esc, span: span, flagsOnly: flagsOnly, plain: true, start: -1}
	if !flagsOnly {
		ws.text = string(d.Src[span.Start:span.End])
	}
	src, end := d.Src, span.End
	i := span.Start
	for i < end && !ws.done {
		c := src[i]
		switch {
		case c == esc:
			if next, ok := continuation(src, i+1, end); ok {
				if ws.start >= 0 {
					ws.spell(i)
				}
				i = skipContinuationLines(src, next, end)
				continue
			}
			ws.begin(i)
			ws.spell(i)
			if i+1 < end {
				ws.val = append(ws.val, src[i+1])
				i += 2
			} else {
				ws.val = append(ws.val, c)
				i++
			}
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			ws.flush(i)
			i++
		case c == '\'':
			ws.begin(i)
			ws.spell(i)
			j := i + 1
			for j < end && src[j] != '\'' {
				ws.val = append(ws.val, src[j])
				j++
			}
			i = min(j+1, end)
		case c == '"':
			ws.begin(i)
			ws.spell(i)
			i = ws.doubleQuoted(i + 1)
		default:
			ws.begin(i)
			if !ws.plain {
				ws.val = append(ws.val, c)
			}
			i++
		}
	}
	if !ws.done {
		ws.flush(end)
	}
	return ws.words
}

// wordSplit is what Document.words has split of span so far: the words,
// and the one being split, which starts at start (-1 between words).
type wordSplit struct {
	src       []byte
	esc       byte
	span      Span
	text      string // the span's text, when not flagsOnly
	flagsOnly bool
	done      bool // flagsOnly and a word that is not a flag was found
	words     []Word
	val       []byte
	plain     bool // the word so far is its own value
	start     int
}

// flush ends the word being split at at.
func (ws *wordSplit) flush(at int) {
	if ws.start >= 0 {
		var raw string
		if ws.flagsOnly {
			raw = string(ws.src[ws.start:at])
		} else {
			raw = ws.text[ws.start-ws.span.Start : at-ws.span.Start]
		}
		value := raw
		if !ws.plain {
			value = string(ws.val)
		}
		ws.words = append(ws.words, Word{Span: Span{ws.start, at}, Raw: raw, Value: value})
		ws.done = ws.flagsOnly && !strings.HasPrefix(raw, "--") && !strings.HasPrefix(value, "--")
	}
	ws.start = -1
	ws.val = ws.val[:0]
	ws.plain = true
}

// begin starts a word at at unless one is being split.
func (ws *wordSplit) begin(at int) {
	if ws.start < 0 {
		ws.start = at
	}
}

// spell ends the word's plain run at i: its value is spelt out from here
// on.
func (ws *wordSplit) spell(i int) {
	if ws.plain {
		ws.val = append(ws.val[:0], ws.src[ws.start:i]...)
		ws.plain = false
	}
}

// doubleQuoted adds the text of the double quotes that open before j to
// the word's value (the escape character escapes, a continuation joins
// lines) and returns where the word goes on after them.
func (ws *wordSplit) doubleQuoted(j int) int {
	src, end := ws.src, ws.span.End
	for j < end && src[j] != '"' {
		if src[j] == ws.esc && j+1 < end {
			if next, ok := continuation(src, j+1, end); ok {
				j = skipContinuationLines(src, next, end)
				continue
			}
			j++
		}
		ws.val = append(ws.val, src[j])
		j++
	}
	return min(j+1, end)
}

// continuation reports whether the bytes from i are blanks up to a line
// ending, which makes the escape before i a line continuation; it returns
// the offset of the next line.
func continuation(src []byte, i, end int) (int, bool) {
	for i < end && (src[i] == ' ' || src[i] == '\t') {
		i++
	}
	if i < end && src[i] == '\r' {
		i++
	}
	if i < end && src[i] == '\n' {
		return i + 1, true
	}
	return i, i >= end && end == len(src)
}

// skipContinuationLines skips the comment lines and empty lines that
// BuildKit ignores inside a continued instruction.
func skipContinuationLines(src []byte, i, end int) int {
	for i < end {
		j := i
		// Leading white space, a lone carriage return included, as BuildKit
		// trims it before looking for '#'.
		for j < end && (src[j] == ' ' || src[j] == '\t' || src[j] == '\r' || src[j] == '\v' || src[j] == '\f') {
			j++
		}
		if j < end && (src[j] == '#' || src[j] == '\n') {
			for j < end && src[j] != '\n' {
				j++
			}
			i = j + 1
			continue
		}
		return i
	}
	return end
}
