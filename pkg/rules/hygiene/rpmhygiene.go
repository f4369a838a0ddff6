package hygiene

import (
	"context"
	"path"
	"regexp"
	"strings"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/hardenfix/hardenfix/pkg/rules/internal/pkgmgr"
)

// RpmHygiene makes yum, dnf, microdnf and zypper non-interactive and cleans
// their caches.
var RpmHygiene = &rewrite.Rule{
	Name:    "rpm-hygiene",
	Summary: "yum/dnf/microdnf install with -y and `clean all`; zypper with -n and `zypper clean`.",
	Doc: `The RPM package managers ask before they install and keep metadata and
packages in /var/cache (hadolint DL3030, DL3032, DL3038, DL3040, DL3034,
DL3036; Trivy DS-0015, DS-0019).

- yum, dnf and microdnf install (also groupinstall, localinstall,
  reinstall, update, upgrade, downgrade, distro-sync, remove, erase,
  autoremove, group install) get -y right after the verb (before it when
  the verb is the RUN's last word), unless -y, --assumeyes or
  --assume-yes is there.
- zypper install/in, remove/rm, update/up, patch, dist-upgrade/dup and
  source-install/si get the global option -n (zypper -n install …), unless
  -n, --non-interactive, or the verb's own -y/--no-confirm is there.
- A RUN that installs with one of them ends with && yum clean all,
  && dnf clean all, && microdnf clean all (by the tool of the family's last
  command: yum, dnf and microdnf share one cache) or && zypper clean,
  appended after the RUN's last word, so it runs after everything that
  may still install (scripts, loops). Skipped when the RUN already cleans
  after its last install (<tool> clean all, zypper clean / zypper cc, or
  rm -r of /var/cache/yum, /var/cache/dnf, /var/cache/zypp), or a cache or
  tmpfs mount covers that cache folder; a note when the RUN ends with an
  operator or a shell comment. A later RUN that installs again simply
  downloads fresh metadata, so unlike apt nothing depends on the cache a
  RUN leaves.

A heredoc RUN whose body is the script (RUN <<EOF, RUN bash <<EOF) is
edited like a RUN line, inside the body; other heredocs (<<-EOF, several
bodies), the JSON form of RUN and sh -c '…' get a note instead.

Before:  RUN yum install httpd && yum update
After:   RUN yum install -y httpd && yum -y update && yum clean all`,
	Risk:  rewrite.Safe,
	URL:   "https://github.com/hadolint/hadolint/wiki/DL3032",
	Check: checkRpmHygiene,
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
	return t != "zypper" && argv[sub].Value == "clean" && sub+1 < len(argv) && argv[sub+1].Value == "all"
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
			line := d.LineOf(argv[0].Span.Start)
			if tool == "zypper" {
				if !rpmAssumesYes(tool, argv) {
					fixes = append(fixes, rewrite.Fix{Line: line, Message: "zypper without -n waits for a confirmation a build cannot give",
						Edits: []rewrite.Edit{rewrite.Insert(argv[0].Span.End, " -n")}})
				}
				continue
			}
			if !rpmAssumesYes(tool, argv) {
				verb := argv[sub]
				if (verb.Value == "group" || verb.Value == "groups") && sub+1 < len(argv) {
					verb = argv[sub+1]
				}
				// After the verb; when the verb ends the command (yum
				// update), before it, so the cleanup appended after the
				// RUN's last word does not meet this edit.
				edit := rewrite.Insert(verb.Span.End, " -y")
				if verb.Span.End == c.Span.End {
					edit = rewrite.Insert(argv[sub].Span.Start, "-y ")
				}
				fixes = append(fixes, rewrite.Fix{Line: line, Message: tool + " " + verb.Value + " without -y waits for a confirmation a build cannot give",
					Edits: []rewrite.Edit{edit}})
			}
		}
		var cleanups, tools []string
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
			if cleaned {
				continue
			}
			cleanups = append(cleanups, rpmTools[tool].cleanup)
			tools = append(tools, tool)
		}
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
