package nonroot

import (
	"path"
	"strings"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/hardenfix/hardenfix/pkg/rules/internal/imageref"

	"github.com/distribution/reference"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// This file sends the web server images that run as root only by default
// to the non-root move that fits them: the official nginx image onto
// nginxinc/nginx-unprivileged (nonroot_nginx.go); Apache (official httpd,
// php:*-apache) onto a port above 1023 and its own unprivileged user
// (nonroot_apache.go). Both rely on the catalog's server facts of the
// images involved.

// webServer reports whether the final stage's base is one of those images
// (handled) and, if so, whether the plan is made (ok) or notes say why not.
func (p *nonRootPlan) webServer() (handled, ok bool) {
	a := p.a
	if !a.HasFacts || !a.ImageKnown {
		return false, false
	}
	cat := imageref.CatalogOf(p.env)
	row, found := cat.Lookup(a.Image)
	if !found || row.Server == nil {
		return false, false
	}
	switch row.Server.Kind {
	case "nginx":
		if !a.Facts.NeedsRoot || a.Facts.NonRootAlt == "" {
			return false, false
		}
		return true, p.nginxUnprivileged(cat)
	case "apache2", "httpd":
		tag := ""
		if named, err := reference.ParseNormalizedNamed(a.Image); err == nil {
			if t, ok := named.(reference.Tagged); ok {
				tag = t.Tag()
			}
		}
		if !row.Server.For(tag) {
			return false, false
		}
		return true, p.apacheUnprivileged(row.Server)
	}
	return false, false
}

// runArgv returns the program and arguments an ENTRYPOINT or CMD runs: the
// exec form as written, and a shell form (or sh -c SCRIPT) whose script is
// one simple command read as that command's words. ok is false when the
// script is more than one command.
func runArgv(in *rewrite.Instruction, line []string) ([]string, bool) {
	script := ""
	switch c := in.Command.(type) {
	case *instructions.CmdCommand:
		if c.PrependShell {
			script = strings.Join(line, " ")
		}
	case *instructions.EntrypointCommand:
		if c.PrependShell {
			script = strings.Join(line, " ")
		}
	}
	if script == "" && len(line) == 3 && line[1] == "-c" {
		switch path.Base(line[0]) {
		case "sh", "bash", "ash", "dash":
			script = line[2]
		}
	}
	if script == "" {
		return line, true
	}
	cmds := shellCommands(script)
	if len(cmds) != 1 {
		return line, false
	}
	return words(cmds[0]), true
}
