package rewrite

import "strings"

// simpleCommands splits a shell command line (as BuildKit hands it over,
// continuations already joined) into simple commands at unquoted `&&`,
// `||`, `;`, `|` and newlines, and each command into words with quotes
// removed. It is a reader's approximation of sh: enough to recognise
// `go build -o app .` or `npm ci` inside a chain, never used to rewrite.
func simpleCommands(line string) [][]string {
	var cmds [][]string
	var words []string
	var word strings.Builder
	inWord := false
	flushWord := func() {
		if inWord {
			words = append(words, word.String())
			word.Reset()
			inWord = false
		}
	}
	flushCmd := func() {
		flushWord()
		if len(words) > 0 {
			cmds = append(cmds, words)
			words = nil
		}
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\\' && i+1 < len(line):
			word.WriteByte(line[i+1])
			inWord = true
			i++
		case c == '\'':
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				j = len(line) - i - 1
			}
			word.WriteString(line[i+1 : i+1+j])
			inWord = true
			i += j + 1
		case c == '"':
			j := i + 1
			for j < len(line) && line[j] != '"' {
				if line[j] == '\\' && j+1 < len(line) {
					j++
				}
				word.WriteByte(line[j])
				j++
			}
			inWord = true
			i = j
		case c == '&' && i+1 < len(line) && line[i+1] == '&', c == '|' && i+1 < len(line) && line[i+1] == '|':
			flushCmd()
			i++
		case c == ';' || c == '|' || c == '\n' || c == '&' || c == '(' || c == ')':
			flushCmd()
		case c == ' ' || c == '\t' || c == '\r':
			flushWord()
		case c == '#' && !inWord:
			// A comment runs to the end of the line.
			for i < len(line) && line[i] != '\n' {
				i++
			}
			flushCmd()
		default:
			word.WriteByte(c)
			inWord = true
		}
	}
	flushCmd()
	return cmds
}

// commandName returns the program a simple command runs, skipping leading
// variable assignments (CGO_ENABLED=0 go build) and wrappers (sudo, env,
// exec, time), and returns the index of the program word.
func commandName(words []string) (string, int) {
	for i, w := range words {
		if isVarAssignment(w) {
			continue
		}
		switch w {
		case "sudo", "exec", "time", "env", "nohup", "command":
			continue
		}
		return w, i
	}
	return "", len(words)
}

func isVarAssignment(w string) bool {
	eq := strings.IndexByte(w, '=')
	if eq <= 0 {
		return false
	}
	for _, r := range w[:eq] {
		if !(r == '_' || 'A' <= r && r <= 'Z' || 'a' <= r && r <= 'z' || '0' <= r && r <= '9') {
			return false
		}
	}
	return true
}
