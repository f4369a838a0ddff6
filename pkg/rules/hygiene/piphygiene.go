package hygiene

import (
	"context"
	_ "embed"
	"path"
	"regexp"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/hardenfix/hardenfix/pkg/rules/internal/pkgmgr"
)

//go:embed doc/pip-hygiene.md
var pipHygieneDoc string

// PipHygiene keeps pip's download cache out of the image.
var PipHygiene = &rewrite.Rule{
	Name:    "pip-hygiene",
	Summary: "pip install with --no-cache-dir, so downloaded wheels do not stay in the layer.",
	Doc:     rewrite.DocFile(pipHygieneDoc),
	Risk:    rewrite.Safe,
	URL:     "https://github.com/hadolint/hadolint/wiki/DL3042",
	Check:   checkPipHygiene,
	Reads:   []string{"RUN"},
}

var (
	pipText    = regexp.MustCompile(`(^|[\s;&|(/])(pip[0-9.]*|python[0-9.]*\s+-m\s+pip)\s+(-\S+\s+)*install\b`)
	pipName    = regexp.MustCompile(`^pip[0-9.]*$`)
	pythonName = regexp.MustCompile(`^python[0-9.]*$`)
)

// pip options, before the subcommand, that take an argument.
var pipArgOpts = map[string]bool{"--proxy": true, "--log": true, "--cache-dir": true, "--timeout": true,
	"--retries": true, "--exists-action": true, "--trusted-host": true, "--cert": true, "--client-cert": true,
	"--python": true, "--keyring-provider": true, "--use-feature": true, "--use-deprecated": true}

// pipInstall returns the argv of a pip command (from pip on) and the index
// of its install word, or nil.
func pipInstall(c rewrite.ShellCommand) ([]rewrite.Word, int) {
	argv := c.Argv()
	if len(argv) == 0 {
		return nil, -1
	}
	name := path.Base(argv[0].Value)
	if pythonName.MatchString(name) {
		k := 1
		for k < len(argv) && argv[k].Value != "-m" && strings.HasPrefix(argv[k].Value, "-") && pkgmgr.IsLetters(argv[k].Value[1:]) {
			k++
		}
		if k+1 >= len(argv) || argv[k].Value != "-m" || argv[k+1].Value != "pip" {
			return nil, -1
		}
		argv = argv[k+1:]
	} else if !pipName.MatchString(name) {
		return nil, -1
	}
	sub := pkgmgr.Subcommand(argv, pipArgOpts)
	if sub < 0 || argv[sub].Value != "install" {
		return nil, -1
	}
	return argv, sub
}

func checkPipHygiene(_ context.Context, d *rewrite.Document, _ *rewrite.Env) ([]rewrite.Fix, []rewrite.Note, error) {
	var fixes []rewrite.Fix
	notes := pkgmgr.EachRun(d, pipText, "pip install", pipNeedsFix, func(in *rewrite.Instruction, s *rewrite.ShellScript) {
		vars := d.VarsAt(in)
		if _, ok := vars["PIP_NO_CACHE_DIR"]; ok || stageDeclares(d, in, "PIP_NO_CACHE_DIR") {
			return
		}
		targets := []string{"/root/.cache", "/root/.cache/pip"}
		if dir, ok := vars["PIP_CACHE_DIR"]; ok && dir != "" {
			targets = append(targets, path.Clean("/"+dir))
		}
		for _, m := range s.Mounts {
			if m.Type == "cache" && (strings.HasSuffix(path.Clean(m.Target), "/.cache") || strings.HasSuffix(path.Clean(m.Target), "/.cache/pip")) {
				return
			}
		}
		if s.HasCacheMount(targets...) {
			return
		}
		for _, c := range s.Commands {
			argv, sub := pipInstallWithCache(c)
			if argv == nil {
				continue
			}
			fixes = append(fixes, rewrite.Fix{
				Line:    d.LineOf(argv[sub].Span.Start),
				Message: "pip install keeps downloaded and built wheels in ~/.cache/pip; --no-cache-dir keeps them out of the image",
				Edits:   []rewrite.Edit{rewrite.Insert(argv[sub].Span.End, " --no-cache-dir")},
			})
		}
	})
	return fixes, notes, nil
}

// stageDeclares reports whether an ARG or ENV of in's stage before in
// declares name, with or without a value.
func stageDeclares(d *rewrite.Document, in *rewrite.Instruction, name string) bool {
	for _, other := range d.Instructions {
		if other == in {
			break
		}
		if other.Stage != in.Stage {
			continue
		}
		switch c := other.Command.(type) {
		case *instructions.ArgCommand:
			for _, kv := range c.Args {
				if kv.Key == name {
					return true
				}
			}
		case *instructions.EnvCommand:
			for _, kv := range c.Env {
				if kv.Key == name {
					return true
				}
			}
		}
	}
	return false
}

// assigns reports whether the command is prefixed by NAME=….
func assigns(c rewrite.ShellCommand, name string) bool {
	for _, w := range c.Words {
		if !rewrite.IsAssignment(w) {
			if w.Value != "env" && w.Value != "sudo" {
				return false
			}
			continue
		}
		if strings.HasPrefix(w.Raw, name+"=") {
			return true
		}
	}
	return false
}

// pipInstallWithCache returns argv and the index of install for a pip
// install that keeps its cache, or nil.
func pipInstallWithCache(c rewrite.ShellCommand) ([]rewrite.Word, int) {
	argv, sub := pipInstall(c)
	if argv == nil || pkgmgr.HasWord(argv, "--no-cache-dir", "--cache-dir", "--no-cache") || assigns(c, "PIP_NO_CACHE_DIR") {
		return nil, -1
	}
	return argv, sub
}

// pipNeedsFix reports whether the rule would change commands it cannot
// edit.
func pipNeedsFix(cmds []rewrite.ShellCommand) bool {
	for _, c := range cmds {
		if argv, _ := pipInstallWithCache(c); argv != nil {
			return true
		}
	}
	return false
}
