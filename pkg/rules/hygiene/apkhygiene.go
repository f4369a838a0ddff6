package hygiene

import (
	"context"
	_ "embed"
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
	notes := pkgmgr.EachRun(d, apkText, "apk add", apkNeedsFix, func(in *rewrite.Instruction, s *rewrite.ShellScript) {
		if s.HasCacheMount("/var/cache/apk", "/etc/apk/cache") {
			return
		}
		for _, c := range s.Commands {
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
	})
	return fixes, notes, nil
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
