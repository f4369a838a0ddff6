package multistage

import (
	"fmt"
	"path"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/hardenfix/hardenfix/pkg/rules/internal/imageref"
)

// The HEALTHCHECK moves to the final stage with the CMD, but what it runs
// was checked against the build image: the full node, python, golang and
// rust images and the .NET SDK are built on buildpack-deps and carry curl
// and wget; their slim, aspnet and distroless runtimes do not (node and
// python slim remove the wget they download with, distroless has no shell
// at all). A HEALTHCHECK that runs a missing program fails every time:
// the container is reported unhealthy, and an orchestrator that acts on it
// restarts it or never routes to it.

// httpProbes are the programs HEALTHCHECKs call that the build images
// carry and the runtime images may not; their package has their name
// with apt, apk and dnf alike.
var httpProbes = stringSet("curl", "wget")

// shellWords are builtins and utilities every image with /bin/sh has.
var shellWords = stringSet("exit", "true", "false", "test", "[", "echo", "cat", "sh", "/bin/sh", "kill", "pidof", "grep", "ps")

// healthcheckTools checks the HEALTHCHECK the final stage gets against the
// runtime image: a shell form needs a shell, and the program it runs must
// be there. curl or wget missing from the runtime is installed there when
// the runtime has a package manager (returned as tools), as the build
// image carried it. It returns why the split would break the health
// check, or "".
func (p *splitPlan) healthcheckTools(env *rewrite.Env, steps []stageStep, rec *recipe) (tools []string, why string) {
	for _, in := range p.moved {
		hc, ok := in.Command.(*instructions.HealthCheckCommand)
		if !ok || hc.Health == nil || len(hc.Health.Test) < 2 || hc.Health.Test[0] == "NONE" {
			continue
		}
		argv := hc.Health.Test[1:]
		if hc.Health.Test[0] == "CMD-SHELL" {
			if !rec.hasShell {
				return nil, fmt.Sprintf("the HEALTHCHECK at line %d is in shell form, and %s has no shell to run it; write it in exec form (HEALTHCHECK CMD [\"/path/to/program\", \"arg\"]) with a program the final stage has", in.Line, rec.runtime)
			}
			argv = strings.Fields(strings.Join(argv, " "))
		}
		if len(argv) == 0 {
			continue
		}
		prog := argv[0]
		if httpProbes[path.Base(prog)] {
			tool, why := p.probeTool(env, steps, rec, in, path.Base(prog))
			if why != "" {
				return nil, why
			}
			if tool != "" && !contains(tools, tool) {
				tools = append(tools, tool)
			}
			continue
		}
		if !p.healthProgramKnown(prog, rec) {
			return nil, fmt.Sprintf("the HEALTHCHECK at line %d runs %s, which is not known to exist in %s", in.Line, prog, rec.runtime)
		}
	}
	return tools, ""
}

// probeTool decides about curl or wget in a HEALTHCHECK: nothing to do
// when the stage installs it itself (the final stage then installs it
// too) or the runtime has it, the tool to install when the runtime has a
// package manager, else why the split cannot keep the check.
func (p *splitPlan) probeTool(env *rewrite.Env, steps []stageStep, rec *recipe, in *rewrite.Instruction, tool string) (string, string) {
	rt, _ := imageref.Facts(env, rec.runtime)
	if tool == "wget" && rt.Family == "alpine" {
		return "", "" // busybox's wget applet
	}
	if rt.HasPackage(tool) {
		return "", ""
	}
	if inst, why := stagePackages(steps); why == "" && containsPackage(inst.pkgs, tool) {
		return "", "" // runtimeInstall carries it
	}
	if !rec.hasShell || rt.PackageManager == "" || rt.PackageManager == "none" {
		return "", fmt.Sprintf("the HEALTHCHECK at line %d runs %s, which %s does not have and has no package manager to install; check health with a program the final stage has (the application's own binary, in exec form), or drop the HEALTHCHECK and probe from the orchestrator", in.Line, tool, rec.runtime)
	}
	return tool, ""
}

// containsPackage reports whether pkgs (as written, maybe pinned) names pkg.
func containsPackage(pkgs []string, pkg string) bool {
	for _, p := range pkgs {
		if packageName(p) == pkg {
			return true
		}
	}
	return false
}

// healthProgramKnown reports whether the final stage has the program a
// HEALTHCHECK runs: a command the runtime provides, a shell utility, the
// artifact or a file in a copied folder, or a file a repeated COPY puts
// there.
func (p *splitPlan) healthProgramKnown(prog string, rec *recipe) bool {
	if !strings.Contains(prog, "/") {
		if rec.anyProgram || contains(rec.programs, prog) || rec.hasShell && shellWords[prog] {
			return true
		}
		for _, a := range rec.artifacts {
			if !a.dir && path.Base(a.dst) == prog {
				return true
			}
		}
		return false
	}
	if rec.hasShell && shellWords[prog] {
		return true
	}
	abs := prog
	if !path.IsAbs(abs) {
		abs = path.Join(p.finalWorkdir, abs)
	}
	return underArtifacts(path.Clean(abs), rec) || p.copiedTo(path.Clean(abs))
}

// copiedTo reports whether a COPY or ADD the final stage repeats writes
// file, read from its destination: the file itself, or a folder (a
// destination ending in /, or one of several sources) holding it.
func (p *splitPlan) copiedTo(file string) bool {
	for _, in := range p.replayed {
		dest, ok := copyDest(in)
		if !ok || strings.Contains(dest, "$") {
			continue
		}
		if !path.IsAbs(dest) {
			dest = path.Join(p.workdir, dest)
		}
		clean := path.Clean(dest)
		if file == clean || strings.HasPrefix(file, clean+"/") {
			return true
		}
	}
	return false
}
