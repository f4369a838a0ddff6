package nonroot

import (
	"strconv"
	"strings"
)

// This file reads nginx configuration files the Dockerfile copies from the
// build context, for the non-root rule's move onto
// nginxinc/nginx-unprivileged (nonroot_nginx.go). It is a reader, not an
// editor: hardenfix changes Dockerfiles only, so what a configuration
// needs changing is said in a note.

// nginxDirective is one simple directive or block opener of an nginx
// configuration: its name, its arguments (quotes removed) and its line.
type nginxDirective struct {
	Name  string
	Args  []string
	Line  int
	Block bool // followed by { ... }
	// Context is the enclosing block names, outermost first ("http",
	// "server").
	Context []string
}

// parseNginxConf splits a configuration into directives. Comments (#
// outside quotes) are dropped; a configuration that does not close its
// blocks or quotes gives ok == false. The switch keeps one case per kind
// of character, in the order they take precedence.
func parseNginxConf(text string) (out []nginxDirective, ok bool) {
	r := &nginxConfReader{line: 1}
	quote := byte(0)
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c == '\n' {
			r.line++
		}
		switch {
		case quote != 0:
			switch {
			case c == '\\' && i+1 < len(text):
				i++
				r.word.WriteByte(text[i])
			case c == quote:
				quote = 0
			default:
				r.word.WriteByte(c)
			}
		case c == '"' || c == '\'':
			r.begin()
			quote = c
		case c == '#' && !r.inWord:
			for i < len(text) && text[i] != '\n' {
				i++
			}
			i-- // the newline is counted by the loop
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			r.flush()
		case c == ';' || c == '{':
			if !r.emit(c == '{') {
				return nil, false
			}
		case c == '}':
			r.flush()
			if len(r.words) > 0 || len(r.stack) == 0 {
				return nil, false
			}
			r.stack = r.stack[:len(r.stack)-1]
		case c == '$' && i+1 < len(text) && text[i+1] == '{':
			// ${VAR}: a variable (nginx's, or a template's), not a block.
			r.begin()
			end := strings.IndexByte(text[i:], '}')
			if end < 0 {
				return nil, false
			}
			r.word.WriteString(text[i : i+end+1])
			i += end
		case c == '\\' && i+1 < len(text):
			r.begin()
			i++
			r.word.WriteByte(text[i])
		default:
			r.begin()
			r.word.WriteByte(c)
		}
	}
	r.flush()
	return r.out, quote == 0 && len(r.stack) == 0 && len(r.words) == 0
}

// nginxConfReader is parseNginxConf's state: the directives so far, the
// words of the one being read, and the blocks it is inside.
type nginxConfReader struct {
	out       []nginxDirective
	words     []string
	word      strings.Builder
	inWord    bool
	line      int // the line being read
	startLine int // the line of the directive being read
	stack     []string
}

// begin marks the character being read as part of a word.
func (r *nginxConfReader) begin() {
	if !r.inWord && len(r.words) == 0 {
		r.startLine = r.line
	}
	r.inWord = true
}

// flush ends the word being read, if any.
func (r *nginxConfReader) flush() {
	if r.inWord {
		if len(r.words) == 0 {
			r.startLine = r.line
		}
		r.words = append(r.words, r.word.String())
		r.word.Reset()
		r.inWord = false
	}
}

// emit ends the directive being read, at a ";" or, opening a block, a
// "{"; false when the configuration is malformed.
func (r *nginxConfReader) emit(block bool) bool {
	r.flush()
	if len(r.words) == 0 {
		return !block // "{" with no name is malformed; a lone ";" is not
	}
	ctx := append([]string(nil), r.stack...)
	args := append([]string(nil), r.words[1:]...)
	r.out = append(r.out, nginxDirective{Name: r.words[0], Args: args, Line: r.startLine, Block: block, Context: ctx})
	if block {
		r.stack = append(r.stack, r.words[0])
	}
	r.words = r.words[:0]
	return true
}

// nginxListenPort returns the port a listen directive's address names:
// "80", "[::]:80", "0.0.0.0:80", "*:8080", "127.0.0.1" (port 80 by
// default), "unix:/tmp/s.sock" (no port: 0). ok is false when the address
// uses a variable (a template) or is not readable.
func nginxListenPort(addr string) (port int, ok bool) {
	switch {
	case strings.Contains(addr, "$"):
		return 0, false
	case strings.HasPrefix(addr, "unix:"):
		return 0, true
	case strings.HasPrefix(addr, "["):
		_, rest, found := strings.Cut(addr, "]")
		if !found {
			return 0, false
		}
		if rest == "" {
			return 80, true
		}
		addr = strings.TrimPrefix(rest, ":")
	default:
		if i := strings.LastIndexByte(addr, ':'); i >= 0 {
			addr = addr[i+1:]
		} else if _, err := strconv.Atoi(addr); err != nil {
			return 80, true // an address without a port listens on 80
		}
	}
	n, err := strconv.Atoi(addr)
	if err != nil || n < 1 || n > 65535 {
		return 0, false
	}
	return n, true
}
