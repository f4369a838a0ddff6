package pkgmgr

import (
	"path"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/hardenfix/hardenfix/pkg/rules/internal/buildctx"
)

// LaterScriptUse is LaterUse for the scripts later RUNs execute: after
// instruction in, in its stage or a stage built FROM it, a RUN that runs
// a script the build copied from the context (RUN /tmp/install-x, RUN sh
// ./setup.sh) whose commands match uses before they match refresh. It
// returns that RUN's line and the script's name, or 0 and "". A script it
// cannot read counts as not using the cache.
func LaterScriptUse(d *rewrite.Document, env *rewrite.Env, in *rewrite.Instruction, uses, refresh func(c rewrite.ShellCommand) bool) (int, string) {
	if env == nil || env.BuildContext == nil {
		return 0, ""
	}
	stages := map[int]bool{in.Stage: true}
	var copies []*rewrite.Instruction // COPY and ADD from the context, in those stages
	for _, other := range d.Instructions {
		if other.Keyword == "FROM" {
			if st, ok := other.Command.(*instructions.Stage); ok && other.Span.Start > in.Span.Start {
				for i := range stages {
					if i < len(d.Stages) && d.Stages[i].Name != "" && strings.EqualFold(st.BaseName, d.Stages[i].Name) {
						stages[other.Stage] = true
					}
				}
			}
			continue
		}
		if !stages[other.Stage] {
			continue
		}
		switch other.Keyword {
		case "COPY", "ADD":
			copies = append(copies, other)
			continue
		case "RUN":
		default:
			continue
		}
		if other.Span.Start <= in.Span.Start {
			continue
		}
		for _, c := range RunCommands(d, other) {
			if refresh(c) {
				break // a later update: the lists come from there
			}
			for _, p := range scriptArgs(c) {
				_, text, _ := buildctx.CopiedTo(env.BuildContext, copies, p)
				if text == "" {
					continue
				}
				for _, sc := range rewrite.SplitScript(text) {
					if refresh(sc) {
						break
					}
					if uses(sc) {
						return other.Line, path.Base(p)
					}
				}
			}
		}
	}
	return 0, ""
}

// ScriptsRun returns the text of each script from the build context that
// command c of RUN in runs: one a COPY or ADD before in, in its stage or a
// stage it is built FROM, put at the path c runs.
func ScriptsRun(d *rewrite.Document, env *rewrite.Env, in *rewrite.Instruction, c rewrite.ShellCommand) []string {
	if env == nil || env.BuildContext == nil {
		return nil
	}
	paths := scriptArgs(c)
	if len(paths) == 0 {
		return nil
	}
	chain, _, _ := d.StageChain(in.Stage)
	inChain := map[int]bool{}
	for _, st := range chain {
		inChain[st] = true
	}
	var copies []*rewrite.Instruction
	for _, other := range d.Instructions {
		if other.Span.Start >= in.Span.Start {
			break
		}
		if inChain[other.Stage] && (other.Keyword == "COPY" || other.Keyword == "ADD") {
			copies = append(copies, other)
		}
	}
	var out []string
	for _, p := range paths {
		if _, text, _ := buildctx.CopiedTo(env.BuildContext, copies, p); text != "" {
			out = append(out, text)
		}
	}
	return out
}

// scriptArgs returns the paths a command may run as a script: the command
// itself when it is a path, or the first argument of sh, bash and the like.
func scriptArgs(c rewrite.ShellCommand) []string {
	argv := c.Argv()
	if len(argv) == 0 {
		return nil
	}
	switch path.Base(argv[0].Value) {
	case "sh", "bash", "dash", "ash":
		for _, w := range argv[1:] {
			if !strings.HasPrefix(w.Value, "-") {
				return []string{w.Value}
			}
		}
		return nil
	}
	if strings.Contains(argv[0].Value, "/") {
		return []string{argv[0].Value}
	}
	return nil
}

// StartUse is LaterUse for what the container runs: the CMD, ENTRYPOINT
// or HEALTHCHECK of in's stage or of a stage built FROM it, and the
// scripts from the build context they run, whose commands match uses. It
// returns that instruction's line and the script's name ("" for the
// instruction's own commands), or 0 and "".
func StartUse(d *rewrite.Document, env *rewrite.Env, in *rewrite.Instruction, uses func(c rewrite.ShellCommand) bool) (int, string) {
	stages := map[int]bool{in.Stage: true}
	var copies []*rewrite.Instruction // from the context, in build order
	chain, _, _ := d.StageChain(in.Stage)
	ancestors := map[int]bool{}
	for _, st := range chain {
		ancestors[st] = true
	}
	for _, other := range d.Instructions {
		if other.Keyword == "FROM" {
			if st, ok := other.Command.(*instructions.Stage); ok && other.Span.Start > in.Span.Start {
				for i := range stages {
					if i < len(d.Stages) && d.Stages[i].Name != "" && strings.EqualFold(st.BaseName, d.Stages[i].Name) {
						stages[other.Stage] = true
					}
				}
			}
			continue
		}
		if !stages[other.Stage] && !ancestors[other.Stage] {
			continue
		}
		if other.Keyword == "COPY" || other.Keyword == "ADD" {
			copies = append(copies, other)
			continue
		}
		if !stages[other.Stage] {
			continue
		}
		var cmds []rewrite.ShellCommand
		switch c := other.Command.(type) {
		case *instructions.CmdCommand:
			cmds = startCommands(c.CmdLine, c.PrependShell)
		case *instructions.EntrypointCommand:
			cmds = startCommands(c.CmdLine, c.PrependShell)
		case *instructions.HealthCheckCommand:
			if c.Health != nil && len(c.Health.Test) > 1 {
				cmds = startCommands(c.Health.Test[1:], c.Health.Test[0] == "CMD-SHELL")
			}
		default:
			continue
		}
		for _, c := range cmds {
			if uses(c) {
				return other.Line, ""
			}
			if env == nil || env.BuildContext == nil {
				continue
			}
			for _, p := range scriptArgs(c) {
				_, text, _ := buildctx.CopiedTo(env.BuildContext, copies, p)
				for _, sc := range rewrite.SplitScript(text) {
					if uses(sc) {
						return other.Line, path.Base(p)
					}
				}
			}
		}
	}
	return 0, ""
}

// startCommands are the commands of a CMD, ENTRYPOINT or HEALTHCHECK: the
// shell form's script split, or the exec form's argv as one command.
func startCommands(cmdLine []string, shell bool) []rewrite.ShellCommand {
	if shell {
		return rewrite.SplitScript(strings.Join(cmdLine, " "))
	}
	words := make([]rewrite.Word, 0, len(cmdLine))
	for _, a := range cmdLine {
		words = append(words, rewrite.Word{Raw: a, Value: a})
	}
	cmds := []rewrite.ShellCommand{{Words: words}}
	if script := rewrite.ShellWrapperScript(cmds[0]); script != "" {
		cmds = append(cmds, rewrite.SplitScript(script)...)
	}
	return cmds
}
