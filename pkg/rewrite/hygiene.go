package rewrite

import (
	"path"
	"regexp"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// This file holds what the package-manager hygiene rules share: walking the
// RUNs of a file, finding a command's subcommand, and the notes for RUN text
// the rules do not edit (heredocs, the JSON form, `sh -c '…'`).

// runVisit is called for each shell-form RUN with its split text.
type runVisit func(in *Instruction, s *ShellScript)

// eachRun calls visit for every shell-form RUN of d, and returns notes for
// the RUNs whose text it cannot edit (heredoc and JSON forms) when their
// text matches re, saying what was left as it was.
func eachRun(d *Document, re *regexp.Regexp, what string, visit runVisit) []Note {
	var notes []Note
	for _, in := range d.Instructions {
		if in.Keyword != "RUN" || in.Stage < 0 {
			continue
		}
		switch {
		case len(in.Node.Heredocs) > 0:
			for _, h := range in.Node.Heredocs {
				if re.MatchString(h.Content) {
					notes = append(notes, Note{Line: in.Line, Message: what + " inside a heredoc RUN is not edited; fix it by hand"})
					break
				}
			}
		case in.Node.Attributes["json"]:
			if re.MatchString(strings.Join(nodeArgs(in), " ")) {
				notes = append(notes, Note{Line: in.Line, Message: what + " in the JSON form of RUN is not edited; fix it by hand"})
			}
		default:
			s := d.Shell(in)
			for _, c := range s.Commands {
				if script := shellWrapperScript(c); script != "" && re.MatchString(script) {
					notes = append(notes, Note{Line: d.LineOf(c.Span.Start), Message: what + " inside `" + c.Program() + " -c '…'` is not edited; fix it by hand"})
				}
			}
			visit(in, s)
		}
	}
	return notes
}

// nodeArgs returns the argument values BuildKit parsed for an instruction.
func nodeArgs(in *Instruction) []string {
	var out []string
	for n := in.Node.Next; n != nil; n = n.Next {
		out = append(out, n.Value)
	}
	return out
}

// subcommand returns the index in argv of the first word after argv[0] that
// is not an option, skipping the argument of the options in argOpts; -1
// when there is none.
func subcommand(argv []Word, argOpts map[string]bool) int {
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

// hasWord reports whether any word of argv after the program has one of the
// values (or value=… for long options).
func hasWord(argv []Word, values ...string) bool {
	for _, w := range argv[1:] {
		for _, v := range values {
			if w.Value == v || strings.HasPrefix(v, "--") && strings.HasPrefix(w.Value, v+"=") {
				return true
			}
		}
	}
	return false
}

// shortFlag reports whether a single-dash option cluster of argv (like
// -qy) holds the letter.
func shortFlag(argv []Word, letter byte) bool {
	for _, w := range argv[1:] {
		v := w.Value
		if len(v) > 1 && v[0] == '-' && v[1] != '-' && isLetters(v[1:]) && strings.IndexByte(v[1:], letter) >= 0 {
			return true
		}
	}
	return false
}

func isLetters(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return s != ""
}

// isRemoveOf reports whether c is `rm -r…` (or find … -delete) of one of
// the paths; a path ending in "/*" also matches its folder written with a
// trailing "/*" or "/**" or as the folder itself.
func isRemoveOf(c ShellCommand, dirs ...string) bool {
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
		if !shortFlag(argv, 'r') && !shortFlag(argv, 'R') && !hasWord(argv, "--recursive") {
			return false
		}
		for _, w := range argv[1:] {
			if matches(w.Value) {
				return true
			}
		}
	case "find":
		if !hasWord(argv, "-delete", "-exec") {
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

// appendAtEnd returns the edit that appends " && text" at the end of the
// RUN's shell text, so it runs after every command of the RUN (scripts
// that install packages included), or why it cannot.
func appendAtEnd(s *ShellScript, text string) (Edit, string) {
	if s.Unsupported != "" {
		return Edit{}, "the RUN uses " + s.Unsupported + ", which hardenfix does not edit"
	}
	if s.Trailing != "" {
		return Edit{}, "the RUN ends with the operator \"" + s.Trailing + "\""
	}
	return Insert(s.End, " && "+text), ""
}

// laterUse finds, after instruction in, the first RUN of the same stage (or
// of a stage built FROM it) whose commands match uses before they match
// refresh; it returns that RUN's line, or 0. It tells whether a cache that
// in fills is still needed by a later layer.
// A later heredoc or JSON-form RUN counts as a use when its text matches
// opaque.
func laterUse(d *Document, in *Instruction, opaque *regexp.Regexp, uses, refresh func(c ShellCommand) bool) int {
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
		s := d.Shell(other)
		if s == nil {
			text := strings.Join(nodeArgs(other), " ")
			for _, h := range other.Node.Heredocs {
				text += "\n" + h.Content
			}
			if opaque.MatchString(text) {
				return other.Line
			}
			continue
		}
		for _, c := range s.Commands {
			if script := shellWrapperScript(c); script != "" && opaque.MatchString(script) {
				return other.Line
			}
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
