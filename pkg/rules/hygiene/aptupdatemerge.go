package hygiene

import (
	"context"
	_ "embed"
	"fmt"
	"path"
	"strings"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/hardenfix/hardenfix/pkg/rules/internal/pkgmgr"
)

//go:embed doc/apt-update-merge.md
var aptUpdateMergeDoc string

// AptUpdateMerge folds a package-index update that runs alone in its RUN
// into the RUN that installs right after it.
var AptUpdateMerge = &rewrite.Rule{
	Name:    aptUpdateMergeName,
	Summary: "Fold a lone `RUN apt-get update` (apk, dnf/yum/microdnf makecache, zypper refresh) into the RUN that installs.",
	Doc:     rewrite.DocFile(aptUpdateMergeDoc),
	Risk:    rewrite.Safe,
	URL:     "https://docs.docker.com/build/building/best-practices/#apt-get",
	Check:   checkAptUpdateMerge,
	Reads:   []string{"RUN", "ONBUILD"},
}

// indexManager names the package manager family of a command whose
// subcommand refreshes the package index ("apt", "apk", "rpm", "zypper"),
// and whether the subcommand installs (uses the index) instead.
func indexManager(c rewrite.ShellCommand) (family string, update, install bool) {
	argv := c.Argv()
	if len(argv) == 0 {
		return "", false, false
	}
	prog := path.Base(argv[0].Value)
	var opts map[string]bool
	switch prog {
	case "apt-get", "apt":
		family, opts = "apt", aptArgOpts
	case "apk":
		family, opts = "apk", apkArgOpts
	case "dnf", "yum", "microdnf", "dnf5", "tdnf":
		family = "rpm"
	case "zypper":
		family = "zypper"
	default:
		return "", false, false
	}
	sub := pkgmgr.Subcommand(argv, opts)
	if sub < 0 {
		return family, false, false
	}
	switch v := argv[sub].Value; family {
	case "apt":
		update = v == "update"
		install = v == "install" || v == "upgrade" || v == "dist-upgrade" || v == "full-upgrade" || v == "build-dep" || v == "reinstall"
	case "apk":
		update = v == "update"
		install = v == "add" || v == "upgrade" || v == "fix"
	case "rpm":
		update = v == "makecache"
		install = v == "install" || v == "upgrade" || v == "update" || v == "reinstall" || v == "groupinstall" || v == "localinstall" || v == "group"
	case "zypper":
		update = v == "refresh" || v == "ref"
		install = v == "install" || v == "in" || v == "update" || v == "up" || v == "patch" || v == "dist-upgrade" || v == "dup" || v == "source-install" || v == "si"
	}
	return family, update, install
}

// mergeBlockers are the instructions the install may depend on that a
// moved update would no longer see the same way (or see for the first
// time): a proxy in ENV or ARG, a sources list copied in, a user change.
var mergeBlockers = map[string]bool{"ENV": true, "ARG": true, "COPY": true, "ADD": true, "USER": true,
	"WORKDIR": true, "SHELL": true, "VOLUME": true, "ONBUILD": true, "RUN": true}

func checkAptUpdateMerge(_ context.Context, d *rewrite.Document, _ *rewrite.Env) ([]rewrite.Fix, []rewrite.Note, error) {
	var fixes []rewrite.Fix
	var notes []rewrite.Note
	for _, in := range d.Instructions {
		run, onbuild := in, false
		if in.Keyword == "ONBUILD" {
			run, onbuild = onbuildRun(d, in), true
		}
		if run == nil || run.Keyword != "RUN" || in.Stage < 0 {
			continue
		}
		upd, family, why := loneUpdate(d, run)
		if upd == nil {
			if why != "" {
				notes = append(notes, rewrite.Note{Line: in.Line, Message: why})
			}
			continue
		}
		program := upd.Program()
		target, blocker := nextInstallRun(d, in, family, onbuild)
		if target == nil {
			if blocker != "" {
				notes = append(notes, rewrite.Note{Line: in.Line, Message: program + " index update runs alone in this RUN; not merged into the install: " + blocker})
			}
			continue
		}
		at, why := installInsertPoint(d, target, family)
		if why != "" {
			// The pipeline checks a note's own line only; this one is
			// about the pair, so an ignore on the install silences it too
			// (the fix below it leaves out itself).
			if !d.Ignores(aptUpdateMergeName, target.Line) {
				notes = append(notes, rewrite.Note{Line: in.Line, Message: fmt.Sprintf("%s index update runs alone in this RUN; not merged into the RUN in line %d: %s; merge them by hand", program, target.Line, why)})
			}
			continue
		}
		text := upd.Span.Text(d.Src)
		edits := []rewrite.Edit{{Start: in.Span.Start, End: in.Span.End}, rewrite.Insert(at, text+" && ")}
		if family == "apt" && !onbuild {
			edits = append(edits, aptMergedCleanup(d, target)...)
		}
		if family == "apk" && !onbuild {
			edits = append(edits, apkMergedCleanup(d, target)...)
		}
		fixes = append(fixes, rewrite.Fix{
			Line:    in.Line,
			Message: fmt.Sprintf("%s in a RUN of its own is cached apart from the install, so later builds install from a stale index; moved into the RUN in line %d", text, target.Line),
			Edits:   edits,
		})
	}
	return fixes, notes, nil
}

// aptMergedCleanup is the removal of the package lists apt-hygiene would
// add to the install RUN once it runs apt-get update: the merge adds it
// itself, so the result is the same whichever of the two rules runs first.
// None when the RUN already removes the lists, a cache mount keeps them out
// of the layer, or a later RUN still needs them.
func aptMergedCleanup(d *rewrite.Document, run *rewrite.Instruction) []rewrite.Edit {
	s := d.Shell(run)
	if s == nil || s.HasCacheMount("/var/lib/apt", "/var/lib/apt/lists", "/var/cache/apt") {
		return nil
	}
	for _, c := range s.Commands {
		if pkgmgr.IsRemoveOf(c, "/var/lib/apt/lists", "/var/lib/apt") || aptSub(c) == "dist-clean" ||
			aptListsRemoval.MatchString(rewrite.ShellWrapperScript(c)) {
			return nil
		}
	}
	needs := func(c rewrite.ShellCommand) bool { _, _, install := indexManager(c); return install && aptSub(c) != "" }
	refresh := func(c rewrite.ShellCommand) bool { return aptSub(c) == "update" }
	if pkgmgr.LaterUse(d, run, needs, refresh) > 0 {
		return nil
	}
	edit, why := pkgmgr.AppendAtEnd(s, aptListsCleanup)
	if why != "" {
		return nil
	}
	return []rewrite.Edit{edit}
}

// loneUpdate returns the one index-update command a RUN consists of, with
// its family; nil when the RUN is something else, and a reason when it is
// a lone update hardenfix cannot move.
func loneUpdate(d *rewrite.Document, in *rewrite.Instruction) (*rewrite.ShellCommand, string, string) {
	s := d.Shell(in)
	if s == nil || len(s.Commands) == 0 {
		return nil, "", ""
	}
	c := s.Commands[0]
	family, update, _ := indexManager(c)
	if !update {
		return nil, "", ""
	}
	prog := c.Program()
	switch {
	case len(s.Commands) > 1:
		return nil, "", ""
	case s.Unsupported != "" || s.Trailing != "" || c.Depth != 0:
		return nil, "", prog + " index update runs alone in this RUN, in shell text hardenfix does not edit; merge it into the RUN that installs by hand"
	case s.Span.Start != skipFlagsStart(d, in):
		return nil, "", prog + " index update runs alone in a RUN with flags (--mount, --network, …); not merged, since the install RUN would need the same flags"
	case strings.ContainsAny(c.Span.Text(d.Src), "\r\n"):
		return nil, "", prog + " index update runs alone in this RUN across several lines; merge it into the RUN that installs by hand"
	}
	return &c, family, ""
}

// onbuildRun returns the RUN an ONBUILD instruction holds, as an
// Instruction whose ArgsSpan is the RUN's arguments, so the shell model
// reads it like a RUN; another trigger keeps its keyword; nil when the
// ONBUILD cannot be read.
func onbuildRun(d *rewrite.Document, in *rewrite.Instruction) *rewrite.Instruction {
	if in.Node.Next == nil || len(in.Node.Next.Children) == 0 {
		return nil
	}
	inner := in.Node.Next.Children[0]
	words := d.Words(in.ArgsSpan)
	if len(words) == 0 || !strings.EqualFold(words[0].Value, inner.Value) {
		return nil
	}
	run := *in
	run.Keyword = strings.ToUpper(inner.Value)
	run.Node = inner
	run.ArgsSpan = rewrite.Span{Start: words[0].Span.End, End: in.ArgsSpan.End}
	return &run
}

// skipFlagsStart is where the RUN's text starts when it has no flags.
func skipFlagsStart(d *rewrite.Document, in *rewrite.Instruction) int {
	words := d.Words(in.ArgsSpan)
	if len(words) == 0 {
		return in.ArgsSpan.End
	}
	if len(in.Node.Heredocs) > 0 {
		if strings.HasPrefix(words[0].Raw, "--") {
			return -1
		}
		s, _ := d.HeredocScript(in)
		return s.Start
	}
	return words[0].Span.Start
}

// nextInstallRun returns the RUN right after in (same stage, nothing
// between that the install depends on) that installs with family; else
// nil and what stood in the way ("" when the next RUN simply does not use
// the index, which apt-hygiene's notes cover).
func nextInstallRun(d *rewrite.Document, in *rewrite.Instruction, family string, onbuild bool) (*rewrite.Instruction, string) {
	for _, next := range d.Instructions[in.Index+1:] {
		if next.Stage != in.Stage || next.Keyword == "FROM" {
			return nil, ""
		}
		if onbuild {
			// Triggers run one after the other in the child's build;
			// the parent's own instructions are not between them.
			if next.Keyword != "ONBUILD" {
				continue
			}
			if next = onbuildRun(d, next); next == nil {
				return nil, "an ONBUILD instruction hardenfix does not read follows it"
			}
		}
		if next.Keyword != "RUN" {
			if mergeBlockers[next.Keyword] {
				return nil, fmt.Sprintf("the %s in line %d stands between it and the install, which may depend on it", next.Keyword, next.Line)
			}
			continue
		}
		for _, c := range pkgmgr.RunCommands(d, next) {
			f, update, install := indexManager(c)
			if f != family {
				continue
			}
			if update {
				return nil, fmt.Sprintf("the next RUN (line %d) updates the index itself; remove this RUN", next.Line)
			}
			if install {
				return next, ""
			}
		}
		return nil, fmt.Sprintf("the next RUN (line %d) does not install with it, and may prepare what a later install needs", next.Line)
	}
	return nil, ""
}

// sepName names a command separator for a note.
func sepName(sep string) string {
	if sep == "\n" {
		return "a new line"
	}
	return `"` + sep + `"`
}

// installInsertPoint is the offset before the first command of family in
// the install RUN, where "UPDATE && " goes; or why it cannot go there.
func installInsertPoint(d *rewrite.Document, run *rewrite.Instruction, family string) (int, string) {
	s := d.Shell(run)
	switch {
	case s == nil:
		return 0, "its text (JSON form or heredocs) is not edited"
	case s.Unsupported != "":
		return 0, "it uses " + s.Unsupported
	}
	for _, m := range d.Words(run.ArgsSpan) {
		if !strings.HasPrefix(m.Raw, "--") {
			break
		}
		if strings.HasPrefix(m.Value, "--network") {
			return 0, "it sets " + m.Value
		}
	}
	errexit := false
	for i, c := range s.Commands {
		if isSetErrexit(c) && c.Depth == 0 {
			errexit = true
		}
		f, _, _ := indexManager(c)
		if f != family {
			if rewrite.ShellWrapperScript(c) != "" {
				return 0, "an sh -c script runs before the install"
			}
			continue
		}
		if c.Depth != 0 {
			return 0, "the install is nested in a condition, loop or group"
		}
		if !errexit {
			for _, after := range s.Commands[i:] {
				if after.Depth != 0 || after.Sep != "&&" && after.Sep != "" && after.Sep != "|" {
					return 0, "a command after the install does not stop on failure (" + sepName(after.Sep) + " without set -e), so a failed update would no longer fail the build"
				}
			}
		}
		return c.Span.Start, ""
	}
	return 0, "the install runs inside a script hardenfix does not edit"
}

// isSetErrexit reports whether c is `set -e…` (or -o errexit).
func isSetErrexit(c rewrite.ShellCommand) bool {
	argv := c.Argv()
	if len(argv) < 2 || argv[0].Value != "set" {
		return false
	}
	return pkgmgr.ShortFlag(argv, 'e') || pkgmgr.HasWord(argv, "errexit")
}

const aptUpdateMergeName = "apt-update-merge"
