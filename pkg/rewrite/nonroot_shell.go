package rewrite

import (
	"path"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// shellCmd is one simple command of a RUN script: its words with quotes
// removed (variables are left as written) and whether sudo prefixed it.
type shellCmd struct {
	Name  string // the program, without its directory ("useradd")
	Args  []string
	Sudo  bool
	Words []string // Name's word and Args as written
}

// runScripts returns the shell text a RUN executes: the command line of the
// shell form, plus the bodies of heredocs that the shell runs as a script
// (`RUN <<EOF`, `RUN bash <<EOF`). The exec form is returned as one line.
func runScripts(c *instructions.RunCommand) []string {
	if !c.PrependShell {
		return []string{strings.Join(c.CmdLine, " ")}
	}
	line := strings.Join(c.CmdLine, " ")
	out := []string{line}
	if len(c.Files) == 0 {
		return out
	}
	// The heredoc bodies are scripts when the command is only the heredoc
	// markers or a shell reading its standard input.
	first := ""
	for _, f := range strings.Fields(line) {
		if !strings.HasPrefix(f, "<<") {
			first = path.Base(f)
			break
		}
	}
	switch first {
	case "", "sh", "bash", "ash", "dash", "zsh", "ksh":
		for _, f := range c.Files {
			out = append(out, f.Data)
		}
	}
	return out
}

// shellCommands splits a shell script into simple commands at `;`, `&&`,
// `||`, `|`, `&`, newlines and parentheses. It is not a shell parser: it is
// enough to find which programs a RUN calls and with which arguments.
// Leading variable assignments and wrappers (sudo, env, exec, command, if,
// then, ...) are skipped.
func shellCommands(script string) []shellCmd {
	var cmds []shellCmd
	var words []string
	var cur strings.Builder
	inWord := false
	end := func() {
		if inWord {
			words = append(words, cur.String())
			cur.Reset()
			inWord = false
		}
	}
	flush := func() {
		end()
		if c, ok := simpleCommand(words); ok {
			cmds = append(cmds, c)
		}
		words = nil
	}
	rs := script
	for i := 0; i < len(rs); i++ {
		ch := rs[i]
		switch {
		case ch == '\\':
			if i+1 < len(rs) && rs[i+1] == '\n' {
				i++
				continue
			}
			if i+2 < len(rs) && rs[i+1] == '\r' && rs[i+2] == '\n' {
				i += 2
				continue
			}
			inWord = true
			if i+1 < len(rs) {
				i++
				cur.WriteByte(rs[i])
			}
		case ch == '\'':
			inWord = true
			j := strings.IndexByte(rs[i+1:], '\'')
			if j < 0 {
				cur.WriteString(rs[i+1:])
				i = len(rs)
				continue
			}
			cur.WriteString(rs[i+1 : i+1+j])
			i += j + 1
		case ch == '"':
			inWord = true
			j := i + 1
			for j < len(rs) && rs[j] != '"' {
				if rs[j] == '\\' && j+1 < len(rs) {
					j++
				}
				cur.WriteByte(rs[j])
				j++
			}
			i = j
		case ch == '#' && !inWord:
			for i < len(rs) && rs[i] != '\n' {
				i++
			}
			flush()
		case ch == ' ' || ch == '\t' || ch == '\r':
			end()
		case ch == '\n' || ch == ';' || ch == '&' || ch == '|' || ch == '(' || ch == ')' || ch == '`':
			flush()
		case ch == '$' && i+1 < len(rs) && rs[i+1] == '(':
			// $( starts a sub-command.
			flush()
			i++
		default:
			inWord = true
			cur.WriteByte(ch)
		}
	}
	flush()
	return cmds
}

var shellKeywords = map[string]bool{
	"if": true, "then": true, "else": true, "elif": true, "fi": true, "do": true, "done": true,
	"while": true, "until": true, "!": true, "{": true, "}": true, "exec": true, "command": true,
	"nohup": true, "time": true, "builtin": true,
}

// simpleCommand skips assignments and wrappers at the start of words.
func simpleCommand(words []string) (shellCmd, bool) {
	var c shellCmd
	for len(words) > 0 {
		w := words[0]
		switch {
		case isShellAssignment(w) || shellKeywords[w]:
			words = words[1:]
		case path.Base(w) == "sudo":
			c.Sudo = true
			words = words[1:]
			for len(words) > 0 && strings.HasPrefix(words[0], "-") {
				opt := words[0]
				words = words[1:]
				if (opt == "-u" || opt == "-g" || opt == "-C" || opt == "-D") && len(words) > 0 {
					words = words[1:]
				}
			}
		case path.Base(w) == "env":
			words = words[1:]
			for len(words) > 0 && (strings.HasPrefix(words[0], "-") || isShellAssignment(words[0])) {
				words = words[1:]
			}
		default:
			c.Name = path.Base(w)
			c.Words = words
			c.Args = words[1:]
			return c, true
		}
	}
	if c.Sudo {
		c.Name = "sudo"
		return c, true
	}
	return c, false
}

func isShellAssignment(w string) bool {
	i := strings.IndexByte(w, '=')
	if i <= 0 {
		return false
	}
	for j, r := range w[:i] {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || j > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// parseOpts walks a command's arguments the getopt way: short options may be
// grouped (-rm), an option's value may be attached (-u1000, --uid=1000) or
// the next word. withArg tells which options take a value (short letters
// and long names). It returns the option values by name (the last wins; a
// flag maps to "") and the positional arguments.
func parseOpts(args []string, withArg map[string]bool) (map[string]string, []string) {
	opts := map[string]string{}
	var pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			pos = append(pos, args[i+1:]...)
			return opts, pos
		case strings.HasPrefix(a, "--"):
			name, val, hasVal := strings.Cut(a[2:], "=")
			if !hasVal && withArg[name] && i+1 < len(args) {
				i++
				val = args[i]
			}
			opts[name] = val
		case strings.HasPrefix(a, "-") && len(a) > 1:
			for j := 1; j < len(a); j++ {
				name := a[j : j+1]
				if withArg[name] {
					val := a[j+1:]
					if val == "" && i+1 < len(args) {
						i++
						val = args[i]
					}
					opts[name] = val
					break
				}
				opts[name] = ""
			}
		default:
			pos = append(pos, a)
		}
	}
	return opts, pos
}

func optOf(opts map[string]string, names ...string) (string, bool) {
	for _, n := range names {
		if v, ok := opts[n]; ok {
			return v, true
		}
	}
	return "", false
}
