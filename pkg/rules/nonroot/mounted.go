package nonroot

import (
	"path"
	"strings"

	"github.com/distribution/reference"
	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// bareOS are the official images of an operating system alone: they
// ship no start script of their own, so a script the container runs that
// the Dockerfile does not put in the image is mounted when it runs.
var bareOS = setOf("library/alpine", "library/debian", "library/ubuntu", "library/busybox", "library/fedora",
	"library/centos", "library/rockylinux", "library/almalinux", "library/amazonlinux", "library/archlinux",
	"library/oraclelinux")

// shells run the script their first operand names.
var shells = setOf("sh", "bash", "ash", "dash", "zsh")

// mountedProgram returns the script (a .sh file) the container starts
// (the ENTRYPOINT and CMD of the file, through init wrappers and a shell)
// when it is an absolute path that neither the bare OS base nor any
// instruction of the chain puts in the image: a compose volume or a
// ConfigMap mounts it, and what it does cannot be read.
func (a *stageAnalysis) mountedProgram(d *rewrite.Document) (*rewrite.Instruction, string) {
	if !a.ImageKnown || len(a.Chain) == 0 {
		return nil, ""
	}
	named, err := reference.ParseNormalizedNamed(a.Image)
	if err != nil || reference.Domain(named) != "docker.io" || !bareOS[reference.Path(named)] {
		return nil, ""
	}
	in, line := a.entrypoint, a.entrypointLine
	if in == nil {
		in, line = a.cmd, a.cmdLine
	}
	if in == nil {
		return nil, ""
	}
	cmds := shellCommands(strings.Join(line, " "))
	if len(cmds) == 0 {
		return nil, ""
	}
	cmd := unwrapInit(cmds[0])
	argv := cmd.Argv()
	if len(argv) > 1 && shells[path.Base(argv[0].Value)] {
		argv = argv[1:]
		for len(argv) > 0 && strings.HasPrefix(argv[0].Value, "-") {
			if argv[0].Value == "-c" {
				return nil, "" // a command line, not a script
			}
			argv = argv[1:]
		}
	}
	if len(argv) == 0 {
		return nil, ""
	}
	prog := argv[0].Value
	if !strings.HasSuffix(prog, ".sh") || !path.IsAbs(prog) || strings.ContainsAny(prog, "$*?[") || strings.HasPrefix(prog, "/bin/") ||
		strings.HasPrefix(prog, "/usr/") || strings.HasPrefix(prog, "/sbin/") {
		return nil, ""
	}
	prog = path.Clean(prog)
	for _, f := range a.filled { // COPY or ADD to it or a folder above it, or a RUN that names it
		if f == "/" || f == prog || strings.HasPrefix(prog, f+"/") {
			return nil, ""
		}
	}
	for _, s := range a.Chain {
		for _, other := range d.Stage(s) {
			switch other.Command.(type) {
			case *instructions.CmdCommand, *instructions.EntrypointCommand, *instructions.HealthCheckCommand:
				continue
			case *instructions.OnbuildCommand:
				return nil, "" // the image built on it may put the script there
			}
			if strings.Contains(other.Span.Text(d.Src), prog) {
				return nil, ""
			}
		}
	}
	return in, prog
}
