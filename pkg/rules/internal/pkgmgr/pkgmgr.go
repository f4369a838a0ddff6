package pkgmgr

import (
	"path"
	"regexp"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
)

// This file holds what the package-manager hygiene rules share: walking the
// RUNs of a file, finding a command's subcommand, and the notes for RUN text
// the rules do not edit (heredocs, the JSON form, `sh -c '…'`).

// runVisit is called for each shell-form RUN with its split text.
type runVisit func(in *rewrite.Instruction, s *rewrite.ShellScript)

// EachRun calls visit for every shell-form RUN of d. For the shell text
// it cannot edit — a heredoc body run by the shell, the JSON form of RUN,
// the script of `sh -c '…'` — it splits the text to look at it and
// returns a note, naming what, wherever needsFix says the rule would
// have changed something; re is a cheap filter run first.
func EachRun(d *rewrite.Document, re *regexp.Regexp, what string, needsFix func([]rewrite.ShellCommand) bool, visit runVisit) []rewrite.Note {
	var notes []rewrite.Note
	needs := func(text string) bool { return re.MatchString(text) && needsFix(rewrite.SplitScript(text)) }
	for _, in := range d.Instructions {
		if in.Keyword != "RUN" || in.Stage < 0 {
			continue
		}
		if s := d.Shell(in); s != nil {
			for _, c := range s.Commands {
				if script := rewrite.ShellWrapperScript(c); script != "" && needs(script) {
					notes = append(notes, rewrite.Note{Line: d.LineOf(c.Span.Start), Message: what + " inside `" + c.Program() + " -c '…'` is not edited; fix it by hand"})
				}
			}
			visit(in, s)
			continue
		}
		switch {
		case len(in.Node.Heredocs) > 0:
			for _, h := range in.Node.Heredocs {
				if needs(h.Content) {
					notes = append(notes, rewrite.Note{Line: in.Line, Message: what + " inside a heredoc RUN is not edited; fix it by hand"})
					break
				}
			}
		case in.Node.Attributes["json"]:
			args := rewrite.NodeArgs(in)
			var words []rewrite.Word
			for _, a := range args {
				words = append(words, rewrite.Word{Raw: a, Value: a})
			}
			cmd := rewrite.ShellCommand{Words: words}
			script := rewrite.ShellWrapperScript(cmd)
			if script != "" && needs(script) || script == "" && re.MatchString(strings.Join(args, " ")) && needsFix([]rewrite.ShellCommand{cmd}) {
				notes = append(notes, rewrite.Note{Line: in.Line, Message: what + " in the JSON form of RUN is not edited; fix it by hand"})
			}
		}
	}
	return notes
}

// Subcommand returns the index in argv of the first word after argv[0] that
// is not an option, skipping the argument of the options in argOpts; -1
// when there is none.
func Subcommand(argv []rewrite.Word, argOpts map[string]bool) int {
	for k := 1; k < len(argv); k++ {
		v := argv[k].Value
		if v == "--" {
			return -1
		}
		if strings.HasPrefix(v, "-") {
			if argOpts[v] {
				k++
			}
			continue
		}
		return k
	}
	return -1
}

// HasWord reports whether any word of argv after the program has one of the
// values (or value=… for long options).
func HasWord(argv []rewrite.Word, values ...string) bool {
	for _, w := range argv[1:] {
		for _, v := range values {
			if w.Value == v || strings.HasPrefix(v, "--") && strings.HasPrefix(w.Value, v+"=") {
				return true
			}
		}
	}
	return false
}

// ShortFlag reports whether a single-dash option cluster of argv (like
// -qy) holds the letter.
func ShortFlag(argv []rewrite.Word, letter byte) bool {
	for _, w := range argv[1:] {
		v := w.Value
		if len(v) > 1 && v[0] == '-' && v[1] != '-' && IsLetters(v[1:]) && strings.IndexByte(v[1:], letter) >= 0 {
			return true
		}
	}
	return false
}

// IsLetters reports whether s is a non-empty run of ASCII letters.
func IsLetters(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return s != ""
}

// IsRemoveOf reports whether c is `rm -r…` (or find … -delete) of one of
// the paths; a path ending in "/*" also matches its folder written with a
// trailing "/*" or "/**" or as the folder itself.
func IsRemoveOf(c rewrite.ShellCommand, dirs ...string) bool {
	argv := c.Argv()
	if len(argv) < 2 {
		return false
	}
	matches := func(v string) bool {
		v = strings.TrimSuffix(strings.TrimSuffix(v, "*"), "*")
		p := path.Clean("/" + v)
		for _, d := range dirs {
			if p == d {
				return true
			}
		}
		return false
	}
	switch path.Base(argv[0].Value) {
	case "rm":
		if !ShortFlag(argv, 'r') && !ShortFlag(argv, 'R') && !HasWord(argv, "--recursive") {
			return false
		}
		for _, w := range argv[1:] {
			if matches(w.Value) {
				return true
			}
		}
	case "find":
		if !HasWord(argv, "-delete", "-exec") {
			return false
		}
		for _, w := range argv[1:] {
			if matches(w.Value) {
				return true
			}
		}
	}
	return false
}

// AppendAtEnd returns the edit that appends " && text" at the end of the
// RUN's shell text, so it runs after every command of the RUN (scripts
// that install packages included), or why it cannot.
func AppendAtEnd(s *rewrite.ShellScript, text string) (rewrite.Edit, string) {
	if s.Unsupported != "" {
		return rewrite.Edit{}, "the RUN uses " + s.Unsupported + ", which hardenfix does not edit"
	}
	if s.Trailing != "" {
		return rewrite.Edit{}, "the RUN ends with the operator \"" + s.Trailing + "\""
	}
	return rewrite.Insert(s.End, " && "+text), ""
}

// LaterUse finds, after instruction in, the first RUN of the same stage (or
// of a stage built FROM it) whose commands match uses before they match
// refresh; it returns that RUN's line, or 0. It tells whether a cache that
// in fills is still needed by a later layer. The commands of heredoc
// bodies, of the JSON form and of sh -c scripts count too.
func LaterUse(d *rewrite.Document, in *rewrite.Instruction, uses, refresh func(c rewrite.ShellCommand) bool) int {
	stages := map[int]bool{in.Stage: true}
	for _, other := range d.Instructions {
		if other.Span.Start <= in.Span.Start {
			continue
		}
		if other.Keyword == "FROM" {
			if st, ok := other.Command.(*instructions.Stage); ok {
				for i := range stages {
					if i < len(d.Stages) && d.Stages[i].Name != "" && strings.EqualFold(st.BaseName, d.Stages[i].Name) {
						stages[other.Stage] = true
					}
				}
			}
			continue
		}
		if !stages[other.Stage] || other.Keyword != "RUN" {
			continue
		}
		for _, c := range RunCommands(d, other) {
			if refresh(c) {
				break
			}
			if uses(c) {
				return other.Line
			}
		}
	}
	return 0
}

// RunCommands returns every simple command a RUN runs, as far as the
// splitter can tell: those of its shell text, with the scripts of sh -c
// commands, heredoc bodies and the JSON form split in.
func RunCommands(d *rewrite.Document, in *rewrite.Instruction) []rewrite.ShellCommand {
	var out []rewrite.ShellCommand
	add := func(cmds []rewrite.ShellCommand) {
		for _, c := range cmds {
			out = append(out, c)
			if script := rewrite.ShellWrapperScript(c); script != "" {
				out = append(out, rewrite.SplitScript(script)...)
			}
		}
	}
	if s := d.Shell(in); s != nil {
		add(s.Commands)
		return out
	}
	if in.Node.Attributes["json"] {
		var words []rewrite.Word
		for _, a := range rewrite.NodeArgs(in) {
			words = append(words, rewrite.Word{Raw: a, Value: a})
		}
		add([]rewrite.ShellCommand{{Words: words}})
	}
	for _, h := range in.Node.Heredocs {
		add(rewrite.SplitScript(h.Content))
	}
	return out
}

// HTTPSClients use the system's CA bundle, which Debian ships in
// ca-certificates; curl, wget and git only Recommend it (see
// packages.debian.org/bookworm/curl, /wget, /git), so with
// --no-install-recommends on an image that lacks it (debian:*-slim,
// ubuntu) their https downloads fail. pip and npm carry their own bundles.
var HTTPSClients = map[string]bool{"curl": true, "wget": true, "git": true}
