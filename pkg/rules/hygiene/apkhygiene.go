package hygiene

import (
	"context"
	_ "embed"
	"fmt"
	"path"
	"regexp"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/hardenfix/hardenfix/pkg/rules/internal/pkgmgr"
)

//go:embed doc/apk-hygiene.md
var apkHygieneDoc string

// ApkHygiene keeps Alpine's package index out of the image.
var ApkHygiene = &rewrite.Rule{
	Name:    "apk-hygiene",
	Summary: "apk add with --no-cache, so the package index does not stay in the layer.",
	Doc:     rewrite.DocFile(apkHygieneDoc),
	Risk:    rewrite.Safe,
	URL:     "https://github.com/hadolint/hadolint/wiki/DL3019",
	Check:   checkApkHygiene,
	Reads:   []string{"RUN"},
}

var apkText = regexp.MustCompile(`(^|[\s;&|(])apk\s+(-\S+\s+)*add\b`)

// apk options that take an argument.
var apkArgOpts = map[string]bool{"-X": true, "--repository": true, "-p": true, "--root": true,
	"--arch": true, "--keys-dir": true, "--repositories-file": true, "--cache-dir": true,
	"--wait": true, "--progress-fd": true, "--timeout": true, "--cache-max-age": true}

func checkApkHygiene(_ context.Context, d *rewrite.Document, _ *rewrite.Env) ([]rewrite.Fix, []rewrite.Note, error) {
	var fixes []rewrite.Fix
	var notes []rewrite.Note
	opaque := pkgmgr.EachRun(d, apkText, "apk add", apkNeedsFix, func(in *rewrite.Instruction, s *rewrite.ShellScript) {
		if s.HasCacheMount("/var/cache/apk", "/etc/apk/cache") {
			return
		}
		lastUpdate := -1
		for i, c := range s.Commands {
			if apkSub(c) == "update" {
				lastUpdate = i
			}
			argv, sub := apkAddWithoutNoCache(c)
			if argv == nil {
				continue
			}
			fixes = append(fixes, rewrite.Fix{
				Line:    d.LineOf(argv[sub].Span.Start),
				Message: "apk add without --no-cache leaves the package index in /var/cache/apk",
				Edits:   []rewrite.Edit{rewrite.Insert(argv[sub].Span.End, " --no-cache")},
			})
		}
		if lastUpdate >= 0 {
			fix, note := apkIndexLeft(d, in, s, lastUpdate)
			fixes, notes = joinAtEnd(fixes, fix), append(notes, note...)
		}
	})
	return fixes, append(opaque, notes...), nil
}

const apkCacheCleanup = "rm -rf /var/cache/apk/*"

// joinAtEnd adds the cleanup fixes to fixes; a cleanup inserted where a
// --no-cache goes (the RUN ends on a bare apk add) joins that insertion,
// after it, as two insertions at one place would overlap.
func joinAtEnd(fixes, cleanup []rewrite.Fix) []rewrite.Fix {
	for _, c := range cleanup {
		joined := false
		if len(c.Edits) == 1 && c.Edits[0].Start == c.Edits[0].End {
			for i := range fixes {
				e := &fixes[i].Edits[0]
				if e.Start == c.Edits[0].Start && e.End == e.Start {
					e.New += c.Edits[0].New
					fixes[i].Message += "; " + c.Message
					joined = true
					break
				}
			}
		}
		if !joined {
			fixes = append(fixes, c)
		}
	}
	return fixes
}

// apkSub returns the subcommand of an apk command, or "".
func apkSub(c rewrite.ShellCommand) string {
	argv := c.Argv()
	if len(argv) == 0 || path.Base(argv[0].Value) != "apk" {
		return ""
	}
	sub := pkgmgr.Subcommand(argv, apkArgOpts)
	if sub < 0 {
		return ""
	}
	return argv[sub].Value
}

// apkIndexLeft is what to do about the index the last apk update of the
// RUN s (command lastUpdate) writes to /var/cache/apk, which --no-cache
// on the apk add after it does not keep out of the layer (linkding: RUN
// apk update && apk add …): a fix that removes it at the end of the RUN,
// or a note that says why not; nothing when the RUN removes it already or
// installs nothing after the update.
func apkIndexLeft(d *rewrite.Document, in *rewrite.Instruction, s *rewrite.ShellScript, lastUpdate int) ([]rewrite.Fix, []rewrite.Note) {
	edit, why := apkCleanup(d, in, s, s.Commands[lastUpdate+1:])
	switch {
	case edit != nil:
		return []rewrite.Fix{{Line: d.LineOf(edit.Start), Message: "apk update leaves the package index in /var/cache/apk, which apk add --no-cache does not remove; remove it at the end of the same RUN", Edits: []rewrite.Edit{*edit}}}, nil
	case why != "":
		return nil, []rewrite.Note{{Line: in.Line, Message: why}}
	}
	return nil, nil
}

// apkMergedCleanup is the removal apk-hygiene would add to the install RUN
// once apt-update-merge has put apk update in front of it: the merge adds
// it itself, so the result is the same whichever rule runs first.
func apkMergedCleanup(d *rewrite.Document, run *rewrite.Instruction) []rewrite.Edit {
	s := d.Shell(run)
	if s == nil || s.HasCacheMount("/var/cache/apk", "/etc/apk/cache") {
		return nil
	}
	if edit, _ := apkCleanup(d, run, s, s.Commands); edit != nil {
		return []rewrite.Edit{*edit}
	}
	return nil
}

// apkCleanup is the edit that ends the RUN s of in with the removal of
// /var/cache/apk after an apk update followed by cmds, or why not (""
// when nothing needs saying: cmds remove the index already or install
// nothing, so the update is for later RUNs, which apt-update-merge folds
// it into).
func apkCleanup(d *rewrite.Document, in *rewrite.Instruction, s *rewrite.ShellScript, cmds []rewrite.ShellCommand) (*rewrite.Edit, string) {
	installs := false
	for _, c := range cmds {
		if pkgmgr.IsRemoveOf(c, "/var/cache/apk") || apkSub(c) == "cache" {
			return nil, ""
		}
		installs = installs || apkSub(c) == "add" || apkSub(c) == "upgrade"
	}
	if !installs {
		return nil, ""
	}
	// A later RUN whose apk reads the index without fetching it.
	needs := func(c rewrite.ShellCommand) bool {
		switch apkSub(c) {
		case "upgrade", "search", "fetch", "policy", "version", "list", "dot":
			return !pkgmgr.HasWord(c.Argv(), "--no-cache", "-U", "--update", "--update-cache")
		}
		return false
	}
	refresh := func(c rewrite.ShellCommand) bool {
		return apkSub(c) == "update" || pkgmgr.HasWord(c.Argv(), "-U", "--update", "--update-cache")
	}
	if later := pkgmgr.LaterUse(d, in, needs, refresh); later > 0 {
		return nil, fmt.Sprintf("apk update in this RUN feeds the apk in line %d, so the package index stays in /var/cache/apk in this layer; end that RUN with %s by hand", later, apkCacheCleanup)
	}
	edit, why := pkgmgr.AppendAtEnd(s, apkCacheCleanup)
	if why != "" {
		return nil, "package index not removed: " + why + "; end the RUN with " + apkCacheCleanup + " by hand"
	}
	return &edit, ""
}

// apkAddWithoutNoCache returns argv and the index of add for an apk add
// without --no-cache, or nil.
func apkAddWithoutNoCache(c rewrite.ShellCommand) ([]rewrite.Word, int) {
	argv := c.Argv()
	if len(argv) == 0 || path.Base(argv[0].Value) != "apk" {
		return nil, -1
	}
	sub := pkgmgr.Subcommand(argv, apkArgOpts)
	// --no-network (the official php images' rundeps) downloads nothing,
	// so there is no index to keep out; --no-cache would make apk fetch one.
	if sub < 0 || argv[sub].Value != "add" || pkgmgr.HasWord(argv, "--no-cache", "--no-network") {
		return nil, -1
	}
	return argv, sub
}

// apkNeedsFix reports whether the rule would change commands it cannot
// edit.
func apkNeedsFix(cmds []rewrite.ShellCommand) bool {
	for _, c := range cmds {
		if argv, _ := apkAddWithoutNoCache(c); argv != nil {
			return true
		}
	}
	return false
}
