package hygiene

import (
	"context"
	_ "embed"
	"path"
	"regexp"
	"strings"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/hardenfix/hardenfix/pkg/rules/internal/pkgmgr"
)

//go:embed doc/rpm-hygiene.md
var rpmHygieneDoc string

// RpmHygiene makes yum, dnf, microdnf and zypper non-interactive and cleans
// their caches.
var RpmHygiene = &rewrite.Rule{
	Name:    "rpm-hygiene",
	Summary: "yum/dnf/microdnf install with -y and `clean all`; zypper with -n and `zypper clean`.",
	Doc:     rewrite.DocFile(rpmHygieneDoc),
	Risk:    rewrite.Safe,
	URL:     "https://github.com/hadolint/hadolint/wiki/DL3032",
	Check:   checkRpmHygiene,
	Reads:   []string{"RUN"},
}

// rpmCleanText finds a cleanup in the script of a `sh -c '…'` command,
// which the splitter does not look into.
var rpmCleanText = regexp.MustCompile(`\b(yum|dnf|microdnf)\s+clean\s+all\b|\bzypper\s+(clean|cc)\b|/var/cache/(yum|dnf|zypp)\b`)

var rpmText = regexp.MustCompile(`(^|[\s;&|(])(yum|dnf|microdnf|zypper)\s+(-\S+\s+)*(install|in|groupinstall|localinstall|update|upgrade)\b`)

// Options of yum, dnf and microdnf that take an argument (the long
// --opt=value spelling is one word and needs no entry).
var yumArgOpts = map[string]bool{"-c": true, "--config": true, "-d": true, "--debuglevel": true,
	"-e": true, "--errorlevel": true, "--installroot": true, "--enablerepo": true, "--disablerepo": true,
	"-x": true, "--exclude": true, "--releasever": true, "--setopt": true, "--repo": true, "--repoid": true,
	"--forcearch": true, "--color": true, "--rpmverbosity": true, "--downloaddir": true, "--destdir": true,
	"--repofrompath": true, "--comment": true, "--nodocs": false}

// zypper global options that take an argument.
var zypperArgOpts = map[string]bool{"-R": true, "--root": true, "-c": true, "--config": true,
	"-D": true, "--reposd-dir": true, "-C": true, "--cache-dir": true, "--raw-cache-dir": true,
	"--solv-cache-dir": true, "--pkg-cache-dir": true, "--userdata": true}

type rpmTool struct {
	// cleanup is the command appended; caches are the folders it clears.
	cleanup string
	caches  []string
}

var rpmTools = map[string]rpmTool{
	"yum":      {"yum clean all", []string{"/var/cache/yum", "/var/cache/dnf"}},
	"dnf":      {"dnf clean all", []string{"/var/cache/dnf", "/var/cache/libdnf5", "/var/cache/yum"}},
	"microdnf": {"microdnf clean all", []string{"/var/cache/dnf", "/var/cache/yum"}},
	"zypper":   {"zypper clean", []string{"/var/cache/zypp"}},
}

// rpmCommand returns the tool, argv and verb index of a yum, dnf, microdnf
// or zypper command, or "".
func rpmCommand(c rewrite.ShellCommand) (string, []rewrite.Word, int) {
	argv := c.Argv()
	if len(argv) == 0 {
		return "", nil, -1
	}
	tool := path.Base(argv[0].Value)
	if _, ok := rpmTools[tool]; !ok {
		return "", nil, -1
	}
	opts := yumArgOpts
	if tool == "zypper" {
		opts = zypperArgOpts
	}
	sub := pkgmgr.Subcommand(argv, opts)
	if sub < 0 {
		return "", nil, -1
	}
	return tool, argv, sub
}

// rpmInstalls reports whether verb installs or changes packages (and so
// prompts and fills the cache).
func rpmInstalls(tool string, argv []rewrite.Word, sub int) bool {
	verb := argv[sub].Value
	if tool == "zypper" {
		switch verb {
		case "install", "in", "remove", "rm", "update", "up", "patch", "dist-upgrade", "dup", "source-install", "si":
			return true
		}
		return false
	}
	switch verb {
	case "install", "groupinstall", "localinstall", "reinstall", "update", "upgrade", "downgrade",
		"distro-sync", "remove", "erase", "autoremove":
		return true
	case "group", "groups":
		return sub+1 < len(argv) && (argv[sub+1].Value == "install" || argv[sub+1].Value == "update" || argv[sub+1].Value == "upgrade")
	}
	return false
}

// rpmCleans reports whether c cleans the tool's cache.
func rpmCleans(c rewrite.ShellCommand, tool string) bool {
	if pkgmgr.IsRemoveOf(c, rpmTools[tool].caches...) || rpmCleanText.MatchString(rewrite.ShellWrapperScript(c)) {
		return true
	}
	t, argv, sub := rpmCommand(c)
	if t == "" {
		return false
	}
	if tool == "zypper" {
		return t == "zypper" && (argv[sub].Value == "clean" || argv[sub].Value == "cc")
	}
	if t == "zypper" || argv[sub].Value != "clean" {
		return false
	}
	// The options may come after the verb: jenkinsci/docker's rhel image
	// runs dnf clean --disableplugin=subscription-manager all.
	what := pkgmgr.Subcommand(argv[sub:], yumArgOpts)
	return what > 0 && argv[sub+what].Value == "all"
}

func checkRpmHygiene(_ context.Context, d *rewrite.Document, _ *rewrite.Env) ([]rewrite.Fix, []rewrite.Note, error) {
	var fixes []rewrite.Fix
	var notes []rewrite.Note
	opaque := pkgmgr.EachRun(d, rpmText, "the package manager", rpmNeedsFix, func(in *rewrite.Instruction, s *rewrite.ShellScript) {
		// yum, dnf and microdnf share a cache (yum is dnf on RHEL 8 and
		// later), so they form one family: one cleanup after the family's
		// last command, by the tool of that command.
		family := func(tool string) string {
			if tool == "zypper" {
				return tool
			}
			return "dnf"
		}
		lastInstall := map[string]int{}
		lastTool := map[string]string{}
		var order []string
		for i, c := range s.Commands {
			tool, argv, sub := rpmCommand(c)
			if tool == "" {
				continue
			}
			fam := family(tool)
			lastTool[fam] = tool
			if !rpmInstalls(tool, argv, sub) {
				continue
			}
			if _, seen := lastInstall[fam]; !seen {
				order = append(order, fam)
			}
			lastInstall[fam] = i
			if fix, ok := rpmConfirmFix(d, c, tool, argv, sub); ok {
				fixes = append(fixes, fix)
			}
		}
		cleanups, tools := rpmCleanups(s, order, lastInstall, lastTool)
		if len(cleanups) == 0 {
			return
		}
		// One edit for all families: both would append at the same place.
		cleanup := strings.Join(cleanups, " && ")
		edit, why := pkgmgr.AppendAtEnd(s, cleanup)
		if why != "" {
			notes = append(notes, rewrite.Note{Line: in.Line, Message: strings.Join(tools, " and ") + " cache not cleaned: " + why + "; end the RUN with " + cleanup + " by hand"})
			return
		}
		fixes = append(fixes, rewrite.Fix{Line: d.LineOf(edit.Start), Message: strings.Join(tools, " and ") + " leaves metadata and packages in its cache; " + cleanup + " at the end of the same RUN keeps them out of the layer", Edits: []rewrite.Edit{edit}})
	})
	return fixes, append(opaque, notes...), nil
}

// rpmConfirmFix is the fix that makes an installing command c answer yes
// by itself (zypper -n, -y for the others); ok is false when it does.
func rpmConfirmFix(d *rewrite.Document, c rewrite.ShellCommand, tool string, argv []rewrite.Word, sub int) (fix rewrite.Fix, ok bool) {
	if rpmAssumesYes(tool, argv) {
		return fix, false
	}
	line := d.LineOf(argv[0].Span.Start)
	if tool == "zypper" {
		return rewrite.Fix{Line: line, Message: "zypper without -n waits for a confirmation a build cannot give",
			Edits: []rewrite.Edit{rewrite.Insert(argv[0].Span.End, " -n")}}, true
	}
	verb := argv[sub]
	if (verb.Value == "group" || verb.Value == "groups") && sub+1 < len(argv) {
		verb = argv[sub+1]
	}
	// After the verb; when the verb ends the command (yum update), before
	// it, so the cleanup appended after the RUN's last word does not meet
	// this edit.
	edit := rewrite.Insert(verb.Span.End, " -y")
	if verb.Span.End == c.Span.End {
		edit = rewrite.Insert(argv[sub].Span.Start, "-y ")
	}
	return rewrite.Fix{Line: line, Message: tool + " " + verb.Value + " without -y waits for a confirmation a build cannot give",
		Edits: []rewrite.Edit{edit}}, true
}

// rpmCleanups are the cache cleanups the RUN s needs, with the tools they
// are for: one for each family (in order) whose last install is not
// followed by a cleanup, by the family's last tool, unless a cache mount
// keeps the cache out of the layer.
func rpmCleanups(s *rewrite.ShellScript, order []string, lastInstall map[string]int, lastTool map[string]string) (cleanups, tools []string) {
	for _, fam := range order {
		tool := lastTool[fam]
		if s.HasCacheMount(rpmTools[tool].caches...) {
			continue
		}
		cleaned := false
		for _, c := range s.Commands[lastInstall[fam]+1:] {
			if rpmCleans(c, tool) {
				cleaned = true
				break
			}
		}
		if !cleaned {
			cleanups = append(cleanups, rpmTools[tool].cleanup)
			tools = append(tools, tool)
		}
	}
	return cleanups, tools
}

// rpmAssumesYes reports whether the command answers yes by itself.
func rpmAssumesYes(tool string, argv []rewrite.Word) bool {
	if tool == "zypper" {
		return pkgmgr.HasWord(argv, "-n", "--non-interactive", "-y", "--no-confirm")
	}
	return pkgmgr.HasWord(argv, "-y", "--assumeyes", "--assume-yes") || pkgmgr.ShortFlag(argv, 'y')
}

// rpmNeedsFix reports whether the rule would change commands it cannot
// edit.
func rpmNeedsFix(cmds []rewrite.ShellCommand) bool {
	pending := false
	for _, c := range cmds {
		tool, argv, sub := rpmCommand(c)
		switch {
		case tool != "" && rpmInstalls(tool, argv, sub):
			if !rpmAssumesYes(tool, argv) {
				return true
			}
			pending = true
		case rpmCleans(c, "yum") || rpmCleans(c, "zypper"):
			pending = false
		}
	}
	return pending
}
