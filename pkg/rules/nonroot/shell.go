package nonroot

import (
	"path"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/hardenfix/hardenfix/internal/memo"
	"github.com/hardenfix/hardenfix/pkg/rewrite"
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

// shellCommands splits a shell script (a RUN's command line, a heredoc
// body, an entrypoint script) into simple commands with the shared lexer
// of shell.go, and reads each the way this rule needs: leading variable
// assignments, reserved words and wrappers (sudo, env, exec, ...) skipped,
// sudo remembered. It is enough to find which programs a RUN calls and
// with which arguments.
func shellCommands(script string) []shellCmd {
	if len(script) > 4<<10 {
		return shellCommands1(script)
	}
	return scriptCommands.Get(script, shellCommands1)
}

// scriptCommands remembers shellCommands' recent answers: the rule's checks
// read the same RUN scripts several times. Callers must not change them.
var scriptCommands = memo.Map[[]shellCmd]{Max: 256}

func shellCommands1(script string) []shellCmd {
	var cmds []shellCmd
	for _, sc := range rewrite.SplitScript(script) {
		words := make([]string, len(sc.Words))
		for i, w := range sc.Words {
			words[i] = w.Value
			// The lexer keeps $( … ) and ` … ` inside their word; the
			// commands they run count too (x=$(id -u)), before this one.
			for _, inner := range substitutions(w.Raw) {
				cmds = append(cmds, shellCommands1(inner)...)
			}
		}
		// Redirection targets count as the command's arguments: a file
		// written under /root is put there (echo … >> ~/.bashrc).
		for _, r := range sc.Redirects {
			words = append(words, r.Value)
		}
		if c, ok := simpleCommand(words); ok {
			cmds = append(cmds, c)
		}
	}
	return cmds
}

// substitutions returns the scripts of the command substitutions in a
// word as written: $( … ) with nested parentheses, and ` … `. Text in
// single quotes is skipped.
func substitutions(raw string) []string {
	var out []string
	for i := 0; i < len(raw); i++ {
		switch {
		case raw[i] == '\\':
			i++
		case raw[i] == '\'':
			if j := strings.IndexByte(raw[i+1:], '\''); j >= 0 {
				i += j + 1
			}
		case raw[i] == '`':
			if j := strings.IndexByte(raw[i+1:], '`'); j >= 0 {
				out = append(out, raw[i+1:i+1+j])
				i += j + 1
			}
		case raw[i] == '$' && i+1 < len(raw) && raw[i+1] == '(':
			depth, j := 1, i+2
			for ; j < len(raw) && depth > 0; j++ {
				switch raw[j] {
				case '(':
					depth++
				case ')':
					depth--
				}
			}
			if depth == 0 {
				out = append(out, raw[i+2:j-1])
			}
			i = j - 1
		}
	}
	return out
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
