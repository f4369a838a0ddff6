package nonroot

import (
	"path"
	"slices"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/hardenfix/hardenfix/internal/memo"
	"github.com/hardenfix/hardenfix/pkg/rewrite"
)

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
// body, an entrypoint script) into its simple commands, but for bare
// assignments (A=1), each after the commands of the command substitutions
// in its words, which run first (x=$(id -u)). It is enough to find which
// programs a RUN calls (Program; "" where Argv cannot tell) and with which
// arguments (see argsOf).
func shellCommands(script string) []rewrite.ShellCommand {
	if len(script) > 4<<10 {
		return shellCommands1(script)
	}
	return scriptCommands.Get(script, shellCommands1)
}

// scriptCommands remembers shellCommands' recent answers: the rule's checks
// read the same RUN scripts several times. Callers must not change them.
var scriptCommands = memo.Map[[]rewrite.ShellCommand]{Max: 256}

func shellCommands1(script string) []rewrite.ShellCommand {
	var cmds []rewrite.ShellCommand
	for _, sc := range rewrite.SplitScript(script) {
		for _, w := range sc.Words {
			for _, inner := range w.Substitutions() {
				cmds = append(cmds, shellCommands1(inner)...)
			}
		}
		if len(sc.Redirects) > 0 || slices.ContainsFunc(sc.Words, func(w rewrite.Word) bool { return !rewrite.IsAssignment(w) }) {
			cmds = append(cmds, sc)
		}
	}
	return cmds
}

// argsOf returns the values of a command's arguments (after its program);
// redirection targets count as arguments, last: a file written under /root
// is put there (echo … >> ~/.bashrc).
func argsOf(cmd rewrite.ShellCommand) []string {
	argv := cmd.Argv()
	if len(argv) == 0 {
		return nil
	}
	return words(cmd)[1:]
}

// words returns the values of a command's program and arguments, and the
// redirection targets (see argsOf), which are all it has when it has no
// program.
func words(cmd rewrite.ShellCommand) []string {
	argv := cmd.Argv()
	if len(argv) == 0 && len(cmd.Redirects) == 0 {
		return nil
	}
	out := make([]string, 0, len(argv)+len(cmd.Redirects))
	for _, w := range argv {
		out = append(out, w.Value)
	}
	for _, r := range cmd.Redirects {
		out = append(out, r.Value)
	}
	return out
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
