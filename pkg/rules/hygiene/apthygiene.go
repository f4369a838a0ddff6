package hygiene

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/hardenfix/hardenfix/pkg/rules/internal/imageref"
	"github.com/hardenfix/hardenfix/pkg/rules/internal/pkgmgr"
)

//go:embed doc/apt-hygiene.md
var aptHygieneDoc string

// AptHygiene makes apt-get installs non-interactive and small.
var AptHygiene = &rewrite.Rule{
	Name:    "apt-hygiene",
	Summary: "apt-get install -y --no-install-recommends, apt-get for apt, and the package lists removed in the RUN that downloads them.",
	Doc:     rewrite.DocFile(aptHygieneDoc),
	Risk:    rewrite.Safe,
	URL:     "https://github.com/hadolint/hadolint/wiki/DL3009",
	Check:   checkAptHygiene,
	Reads:   []string{"RUN"},
}

var aptText = regexp.MustCompile(`(^|[\s;&|(])(apt-get|apt)\s+(-\S+\s+)*(install|update|upgrade)\b`)

// apt-get options that take an argument.
var aptArgOpts = map[string]bool{"-o": true, "--option": true, "-c": true, "--config-file": true,
	"-t": true, "--target-release": true, "--default-release": true, "-a": true, "--host-architecture": true}

const aptListsCleanup = "rm -rf /var/lib/apt/lists/*"

// aptListsRemoval finds a removal of the lists in the script of a
// `sh -c '…'` command, which the splitter does not look into.
var aptListsRemoval = regexp.MustCompile(`\brm\s+(-\S+\s+)*[^;&|]*/var/lib/apt/lists\b|apt-get\s+dist-clean`)

// aptCommand returns argv and the subcommand index of an apt-get or apt
// command, or nil.
func aptCommand(c rewrite.ShellCommand) ([]rewrite.Word, int) {
	argv := c.Argv()
	if len(argv) == 0 {
		return nil, -1
	}
	if name := path.Base(argv[0].Value); name != "apt-get" && name != "apt" {
		return nil, -1
	}
	sub := pkgmgr.Subcommand(argv, aptArgOpts)
	if sub < 0 {
		return nil, -1
	}
	return argv, sub
}

func aptSub(c rewrite.ShellCommand) string {
	argv, sub := aptCommand(c)
	if argv == nil {
		return ""
	}
	return argv[sub].Value
}

func checkAptHygiene(_ context.Context, d *rewrite.Document, env *rewrite.Env) ([]rewrite.Fix, []rewrite.Note, error) {
	var fixes []rewrite.Fix
	var notes []rewrite.Note
	recommendsConfigured := bytes.Contains(d.Src, []byte("Install-Recommends"))
	opaque := pkgmgr.EachRun(d, aptText, "apt-get", aptNeedsFix, func(in *rewrite.Instruction, s *rewrite.ShellScript) {
		lastUpdate, lastApt := -1, -1
		for i, c := range s.Commands {
			argv, sub := aptCommand(c)
			if argv == nil {
				continue
			}
			lastApt = i
			line := d.LineOf(argv[0].Span.Start)
			verb := argv[sub].Value
			if path.Base(argv[0].Value) == "apt" {
				switch verb {
				case "update", "install", "remove", "purge", "autoremove", "clean", "autoclean":
					if strings.HasSuffix(argv[0].Raw, "apt") {
						fixes = append(fixes, rewrite.Fix{Line: line, Message: "apt is the interactive front end and its output is not stable for scripts; apt-get " + verb + " does the same",
							Edits: []rewrite.Edit{rewrite.Insert(argv[0].Span.End, "-get")}})
					}
				case "upgrade", "full-upgrade":
					notes = append(notes, rewrite.Note{Line: line, Message: "apt " + verb + " also installs new dependencies, unlike apt-get " + verb + "; not changed to apt-get (write apt-get upgrade or dist-upgrade by hand)"})
				}
			}
			switch verb {
			case "update":
				lastUpdate = i
			case "install":
				installFixes := aptInstallFixes(argv, sub, c, line, recommendsConfigured)
				if kept := withoutRecommendsFix(installFixes); len(kept) < len(installFixes) {
					if why := recommendsNeeded(d, env, in, s, i, argv[sub+1:]); why != "" {
						installFixes = kept
						notes = append(notes, rewrite.Note{Line: line, Message: "--no-install-recommends not added: " + why})
					}
				}
				fixes = append(fixes, installFixes...)
			}
		}
		if lastUpdate >= 0 {
			fix, note := aptListsLeft(d, env, in, s, lastUpdate, lastApt)
			fixes, notes = append(fixes, fix...), append(notes, note...)
		}
	})
	return fixes, append(opaque, notes...), nil
}

// aptListsLeft is what to do about the package lists the last apt-get
// update of the RUN s (command lastUpdate; lastApt is its last apt-get
// command) leaves in the layer: a fix that removes them at the end of the
// RUN, or a note that says why not; nothing when they are removed or kept
// out of the layer, or when apt-update-merge deals with the RUN.
func aptListsLeft(d *rewrite.Document, env *rewrite.Env, in *rewrite.Instruction, s *rewrite.ShellScript, lastUpdate, lastApt int) ([]rewrite.Fix, []rewrite.Note) {
	if s.HasCacheMount("/var/lib/apt", "/var/lib/apt/lists", "/var/cache/apt") {
		return nil, nil
	}
	for _, c := range s.Commands[lastUpdate+1:] {
		// apt-get dist-clean (apt 2.9, Debian trixie) removes the
		// lists too.
		if pkgmgr.IsRemoveOf(c, "/var/lib/apt/lists", "/var/lib/apt") || aptSub(c) == "dist-clean" ||
			aptListsRemoval.MatchString(rewrite.ShellWrapperScript(c)) {
			return nil, nil
		}
		// photoprism: RUN apt-get update && … && /scripts/cleanup.sh,
		// a script from the context that removes the lists.
		for _, text := range pkgmgr.ScriptsRun(d, env, in, c) {
			if aptListsRemoval.MatchString(text) {
				return nil, nil
			}
		}
	}
	note := func(msg string) []rewrite.Note { return []rewrite.Note{{Line: in.Line, Message: msg}} }
	needs := func(c rewrite.ShellCommand) bool {
		switch aptSub(c) {
		case "install", "upgrade", "dist-upgrade", "full-upgrade", "build-dep", "source", "download", "reinstall":
			return true
		}
		return false
	}
	refresh := func(c rewrite.ShellCommand) bool { return aptSub(c) == "update" }
	if later := pkgmgr.LaterUse(d, in, needs, refresh); later > 0 {
		what := "apt-get update in this RUN feeds"
		if lastApt == lastUpdate && !anyNeeds(s.Commands, needs) {
			if len(s.Commands) == 1 {
				// A RUN of the update alone: apt-update-merge folds it
				// into the install or says why it cannot.
				return nil, nil
			}
			what = "apt-get update runs alone in this RUN and feeds"
		}
		return nil, note(fmt.Sprintf("%s the apt-get in line %d, so the package lists stay in this layer; run update, install and %s in one RUN (hardenfix does not merge RUNs)", what, later, aptListsCleanup))
	}
	if later, script := pkgmgr.LaterScriptUse(d, env, in, needs, refresh); later > 0 {
		// discourse: RUN /tmp/install-libheif in a stage built FROM
		// this one runs apt install with these lists.
		return nil, note(fmt.Sprintf("apt-get update in this RUN feeds %s, which the RUN in line %d runs and which installs with apt without updating the lists itself, so the package lists stay in this layer; remove them at the end of the RUN that runs %s", script, later, script))
	}
	if lastUpdate == len(s.Commands)-1 {
		return nil, note("apt-get update ends this RUN and nothing uses the lists it downloads; remove it, or move it into the RUN that installs")
	}
	edit, why := pkgmgr.AppendAtEnd(s, aptListsCleanup)
	if why != "" {
		return nil, note("package lists not removed: " + why + "; end the RUN with " + aptListsCleanup + " by hand")
	}
	return []rewrite.Fix{{Line: d.LineOf(edit.Start), Message: "apt-get update leaves package lists in the layer; remove them at the end of the same RUN", Edits: []rewrite.Edit{edit}}}, nil
}

// aptNeedsFix reports whether the rule would change commands it cannot
// edit (a heredoc body BuildKit strips, sh -c, the JSON form).
func aptNeedsFix(cmds []rewrite.ShellCommand) bool {
	lastUpdate, removed := -1, false
	for i, c := range cmds {
		argv, sub := aptCommand(c)
		if argv == nil {
			if lastUpdate >= 0 && pkgmgr.IsRemoveOf(c, "/var/lib/apt/lists", "/var/lib/apt") {
				removed = true
			}
			continue
		}
		switch verb := argv[sub].Value; verb {
		case "update":
			lastUpdate, removed = i, false
		case "dist-clean":
			removed = true
		case "install":
			if !aptAssumesYes(argv) || !pkgmgr.HasWord(argv, "--no-install-recommends", "--install-recommends") && !optionSet(argv, "APT::Install-Recommends") {
				return true
			}
		}
		if path.Base(argv[0].Value) == "apt" && argv[sub].Value != "upgrade" && argv[sub].Value != "full-upgrade" {
			return true
		}
	}
	return lastUpdate >= 0 && !removed
}

func anyNeeds(cmds []rewrite.ShellCommand, needs func(rewrite.ShellCommand) bool) bool {
	for _, c := range cmds {
		if needs(c) {
			return true
		}
	}
	return false
}

// aptInstallFixes returns the -y and --no-install-recommends fixes of one
// apt-get install command.
func aptInstallFixes(argv []rewrite.Word, sub int, c rewrite.ShellCommand, line int, recommendsConfigured bool) []rewrite.Fix {
	var fixes []rewrite.Fix
	install := argv[sub]
	if !aptAssumesYes(argv) {
		fixes = append(fixes, rewrite.Fix{Line: line, Message: "apt-get install without -y waits for a confirmation a build cannot give",
			Edits: []rewrite.Edit{rewrite.Replace(install.Span, install.Raw+" -y")}})
	}
	if !recommendsConfigured && !pkgmgr.HasWord(argv, "--no-install-recommends", "--install-recommends") && !optionSet(argv, "APT::Install-Recommends") {
		// After the word install; when install ends the command (xargs
		// supplies the packages), before it, so an edit appending a
		// command after the last word does not meet this one.
		edit := rewrite.Insert(install.Span.End, " --no-install-recommends")
		if install.Span.End == c.Span.End {
			edit = rewrite.Insert(install.Span.Start, "--no-install-recommends ")
		}
		fixes = append(fixes, rewrite.Fix{Line: line, Risk: rewrite.Review,
			Message: "--no-install-recommends keeps packages the software does not need out of the image; check that nothing relied on a recommended package",
			Edits:   []rewrite.Edit{edit}})
	}
	return fixes
}

// aptAssumesYes reports whether the apt-get command answers yes by itself.
func aptAssumesYes(argv []rewrite.Word) bool {
	if pkgmgr.HasWord(argv, "-y", "--yes", "--assume-yes", "-qq", "-q=2", "--quiet=2") || pkgmgr.ShortFlag(argv, 'y') {
		return true
	}
	q := 0
	for _, w := range argv[1:] {
		v := w.Value
		if len(v) > 1 && v[0] == '-' && v[1] != '-' && pkgmgr.IsLetters(v[1:]) {
			q += strings.Count(v, "q")
		}
	}
	if q >= 2 {
		return true
	}
	v, ok := optionValue(argv, "APT::Get::Assume-Yes")
	return ok && (v == "true" || v == "1" || v == "yes")
}

// optionSet reports whether an -o NAME=… option sets name.
func optionSet(argv []rewrite.Word, name string) bool {
	_, ok := optionValue(argv, name)
	return ok
}

// optionValue returns the value of an -o NAME=VALUE option (also -oNAME=…,
// --option NAME=…, -o=NAME=…), matching NAME case-insensitively.
func optionValue(argv []rewrite.Word, name string) (string, bool) {
	for k := 1; k < len(argv); k++ {
		v := argv[k].Value
		var kv string
		switch {
		case (v == "-o" || v == "--option") && k+1 < len(argv):
			kv = argv[k+1].Value
		case strings.HasPrefix(v, "-o="), strings.HasPrefix(v, "--option="):
			_, kv, _ = strings.Cut(v, "=")
		case strings.HasPrefix(v, "-o"):
			kv = v[2:]
		default:
			continue
		}
		key, val, _ := strings.Cut(kv, "=")
		if strings.EqualFold(key, name) {
			return strings.ToLower(val), true
		}
	}
	return "", false
}

const recommendsFixPrefix = "--no-install-recommends keeps"

func withoutRecommendsFix(fixes []rewrite.Fix) []rewrite.Fix {
	var out []rewrite.Fix
	for _, f := range fixes {
		if !strings.HasPrefix(f.Message, recommendsFixPrefix) {
			out = append(out, f)
		}
	}
	return out
}

// runtimeRecommends are Recommends that a program of the package needs to
// work, with the use that shows the stage relies on it.
var runtimeRecommends = []struct {
	installs map[string]bool                 // packages that only Recommend needs
	needs    string                          // the recommended package
	uses     func(rewrite.ShellCommand) bool // a command that fails without it
	use      string
	hint     string // why it is needed, when needs alone does not say
}{
	{pkgmgr.HTTPSClients, "ca-certificates", downloadsHTTPS, "downloads over https", ""},
	// python3-pip Recommends build-essential, python3-dev,
	// python3-setuptools and python3-wheel (packages.debian.org/bookworm/python3-pip,
	// packages.ubuntu.com/jammy/python3-pip): what pip builds a package
	// with when it finds no wheel for the platform (an sdist, a C
	// extension on arm64).
	{map[string]bool{"python3-pip": true, "python-pip": true}, "build-essential", func(c rewrite.ShellCommand) bool {
		argv, _ := pipInstall(c)
		return argv != nil
	}, "installs with pip", " (with python3-dev, python3-setuptools and python3-wheel, to build the packages that have no wheel)"},
	// xvfb Recommends xauth (packages.debian.org/bookworm/xvfb); the
	// xvfb-run(1) man page: "xvfb-run requires the xauth command to
	// function".
	// devscripts Recommends lintian (packages.debian.org/trixie/devscripts),
	// which debuild runs after the build unless told not to.
	{map[string]bool{"devscripts": true}, "lintian", func(c rewrite.ShellCommand) bool {
		p := path.Base(c.Program())
		return p == "lintian" || p == "debuild"
	}, "runs lintian (itself or through debuild)", ""},
	{map[string]bool{"xvfb": true}, "xauth", func(c rewrite.ShellCommand) bool { return path.Base(c.Program()) == "xvfb-run" }, "is used by xvfb-run", ""},
}

// recommendsNeeded says why dropping the Recommends of the packages an
// install names could break the build: a program of one of them is used
// later in this RUN, or in a later RUN of the stage or of a stage built on
// it, in a way that needs a package it only Recommends, and that package
// is not installed here or earlier in the stage, nor shipped by the image
// the stage is built on.
func recommendsNeeded(d *rewrite.Document, env *rewrite.Env, in *rewrite.Instruction, s *rewrite.ShellScript, at int, pkgs []rewrite.Word) string {
	for _, r := range runtimeRecommends {
		pkg := ""
		for _, w := range pkgs {
			if w.Value == r.needs {
				pkg = ""
				break
			}
			if r.installs[w.Value] && pkg == "" {
				pkg = w.Value
			}
		}
		if pkg == "" || installedBefore(d, in, s, at, r.needs) || baseShips(d, env, in, r.needs) {
			continue
		}
		for _, c := range s.Commands[at+1:] {
			if r.uses(c) {
				return fmt.Sprintf("%s installed here %s later in this RUN and needs %s%s, which it only Recommends; add %s to this install and the flag by hand", pkg, r.use, r.needs, r.hint, r.needs)
			}
		}
		if later := pkgmgr.LaterUse(d, in, r.uses, func(rewrite.ShellCommand) bool { return false }); later > 0 {
			return fmt.Sprintf("%s installed here %s in line %d and needs %s%s, which it only Recommends; add %s to this install and the flag by hand", pkg, r.use, later, r.needs, r.hint, r.needs)
		}
		// discourse's image/base: wget installed in the builder, used
		// by /tmp/install-libheif that a stage built on it runs.
		if later, script := pkgmgr.LaterScriptUse(d, env, in, r.uses, func(rewrite.ShellCommand) bool { return false }); later > 0 {
			return fmt.Sprintf("%s installed here %s in %s, which the RUN in line %d runs, and needs %s%s, which it only Recommends; add %s to this install and the flag by hand", pkg, r.use, script, later, r.needs, r.hint, r.needs)
		}
		// miniflux's packaging/debian: devscripts installed, its
		// Recommends lintian run by the build.sh the CMD starts.
		if at, script := pkgmgr.StartUse(d, env, in, r.uses); at > 0 {
			where := fmt.Sprintf("when the container starts (line %d)", at)
			if script != "" {
				where = fmt.Sprintf("in %s, which line %d starts,", script, at)
			}
			return fmt.Sprintf("%s installed here %s %s and needs %s%s, which it only Recommends; add %s to this install and the flag by hand", pkg, r.use, where, r.needs, r.hint, r.needs)
		}
	}
	return ""
}

// downloadsHTTPS reports whether c runs curl, wget or git with an https
// URL.
func downloadsHTTPS(c rewrite.ShellCommand) bool {
	argv := c.Argv()
	if len(argv) == 0 || !pkgmgr.HTTPSClients[path.Base(argv[0].Value)] {
		return false
	}
	for _, w := range argv[1:] {
		if strings.Contains(w.Value, "https://") {
			return true
		}
	}
	return false
}

// baseShips reports whether the image the stage of in is built on (the
// root of its chain of stages) is known to ship pkg. A FROM that names
// its image through a variable is not trusted: --build-arg may choose
// another image.
func baseShips(d *rewrite.Document, env *rewrite.Env, in *rewrite.Instruction, pkg string) bool {
	chain, image, known := d.StageChain(in.Stage)
	if !known || strings.Contains(d.Stages[chain[0]].BaseName, "$") {
		return false
	}
	f, ok := imageref.Facts(env, image)
	return ok && f.HasPackage(pkg)
}

// installedBefore reports whether pkg is named before command at of s, or
// in an earlier RUN of the stage's chain.
func installedBefore(d *rewrite.Document, in *rewrite.Instruction, s *rewrite.ShellScript, at int, pkg string) bool {
	for _, c := range s.Commands[:at] {
		if strings.Contains(c.Span.Text(d.Src), pkg) {
			return true
		}
	}
	chain, _, _ := d.StageChain(in.Stage)
	inChain := map[int]bool{}
	for _, st := range chain {
		inChain[st] = true
	}
	for _, other := range d.Instructions {
		if other.Span.Start >= in.Span.Start {
			break
		}
		if other.Keyword == "RUN" && inChain[other.Stage] && strings.Contains(other.Span.Text(d.Src), pkg) {
			return true
		}
	}
	return false
}
