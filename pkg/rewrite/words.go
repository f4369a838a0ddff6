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

// flagWords is Words up to and including the first word that is not a
// --flag: all a reader of an instruction's flags needs.
func (d *Document) flagWords(span Span) []Word { return d.words(span, true) }

func (d *Document) words(span Span, flagsOnly bool) []Word {
	src := d.Src
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
	var text string
	if !flagsOnly {
		text = string(src[span.Start:span.End])
	}
	done := false // flagsOnly and a word that is not a flag was found
	var words []Word
	var val []byte
	plain := true // the word so far is its own value
	start := -1
	end := span.End
	flush := func(at int) {
		if start >= 0 {
			var raw string
			if flagsOnly {
				raw = string(src[start:at])
			} else {
				raw = text[start-span.Start : at-span.Start]
			}
			value := raw
			if !plain {
				value = string(val)
			}
			words = append(words, Word{Span: Span{start, at}, Raw: raw, Value: value})
			done = flagsOnly && !strings.HasPrefix(raw, "--")
		}
		start = -1
		val = val[:0]
		plain = true
	}
	begin := func(at int) {
		if start < 0 {
			start = at
		}
	}
	// spell ends the word's plain run at i: its value is spelt out from
	// here on.
	spell := func(i int) {
		if plain {
			val = append(val[:0], src[start:i]...)
			plain = false
		}
	}
	i := span.Start
	for i < end && !done {
		c := src[i]
		switch {
		case c == esc:
			if next, ok := continuation(src, i+1, end); ok {
				if start >= 0 {
					spell(i)
				}
				i = skipContinuationLines(src, next, end)
				continue
			}
			begin(i)
			spell(i)
			if i+1 < end {
				val = append(val, src[i+1])
				i += 2
			} else {
				val = append(val, c)
				i++
			}
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			flush(i)
			i++
		case c == '\'':
			begin(i)
			spell(i)
			j := i + 1
			for j < end && src[j] != '\'' {
				val = append(val, src[j])
				j++
			}
			i = min(j+1, end)
		case c == '"':
			begin(i)
			spell(i)
			j := i + 1
			for j < end && src[j] != '"' {
				if src[j] == esc && j+1 < end {
					if next, ok := continuation(src, j+1, end); ok {
						j = skipContinuationLines(src, next, end)
						continue
					}
					j++
				}
				val = append(val, src[j])
				j++
			}
			i = min(j+1, end)
		default:
			begin(i)
			if !plain {
				val = append(val, c)
			}
			i++
		}
	}
	if !done {
		flush(end)
	}
	return words
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
