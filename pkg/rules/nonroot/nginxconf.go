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
// blocks or quotes gives ok == false.
func parseNginxConf(text string) (out []nginxDirective, ok bool) {
	var words []string
	var word strings.Builder
	inWord, quote := false, byte(0)
	line, startLine := 1, 0
	var stack []string
	flush := func() {
		if inWord {
			if len(words) == 0 {
				startLine = line
			}
			words = append(words, word.String())
			word.Reset()
			inWord = false
		}
	}
	emit := func(block bool) bool {
		flush()
		if len(words) == 0 {
			return !block // "{" with no name is malformed; a lone ";" is not
		}
		ctx := append([]string(nil), stack...)
		args := append([]string(nil), words[1:]...)
		out = append(out, nginxDirective{Name: words[0], Args: args, Line: startLine, Block: block, Context: ctx})
		if block {
			stack = append(stack, words[0])
		}
		words = words[:0]
		return true
	}
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c == '\n' {
			line++
		}
		switch {
		case quote != 0:
			switch {
			case c == '\\' && i+1 < len(text):
				i++
				word.WriteByte(text[i])
			case c == quote:
				quote = 0
			default:
				word.WriteByte(c)
			}
		case c == '"' || c == '\'':
			if !inWord && len(words) == 0 {
				startLine = line
			}
			inWord, quote = true, c
		case c == '#' && !inWord:
			for i < len(text) && text[i] != '\n' {
				i++
			}
			i-- // the newline is counted by the loop
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			flush()
		case c == ';':
			if !emit(false) {
				return nil, false
			}
		case c == '{':
			if !emit(true) {
				return nil, false
			}
		case c == '}':
			flush()
			if len(words) > 0 || len(stack) == 0 {
				return nil, false
			}
			stack = stack[:len(stack)-1]
		case c == '$' && i+1 < len(text) && text[i+1] == '{':
			// ${VAR}: a variable (nginx's, or a template's), not a block.
			if !inWord && len(words) == 0 {
				startLine = line
			}
			inWord = true
			end := strings.IndexByte(text[i:], '}')
			if end < 0 {
				return nil, false
			}
			word.WriteString(text[i : i+end+1])
			i += end
		case c == '\\' && i+1 < len(text):
			if !inWord && len(words) == 0 {
				startLine = line
			}
			inWord = true
			i++
			word.WriteByte(text[i])
		default:
			if !inWord && len(words) == 0 {
				startLine = line
			}
			inWord = true
			word.WriteByte(c)
		}
	}
	flush()
	return out, quote == 0 && len(stack) == 0 && len(words) == 0
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
