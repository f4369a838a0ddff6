package verify

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// Command is one command verify runs: a value, so tests can assert the
// exact command line each engine gets.
type Command struct {
	Argv []string
	// Log, when set, receives the command's whole output.
	Log string
	// Timeout kills the command (and its process group) when it runs
	// longer; 0 means no limit beyond the run's context.
	Timeout time.Duration
}

func (c Command) String() string { return strings.Join(c.Argv, " ") }

// Engine names the container tools verify uses: one that builds and one
// that runs and inspects images (Runner, "" when there is none: a buildah
// without podman can build but not run).
type Engine struct {
	Name    string // docker, podman or buildah
	Builder string // the binary that builds
	Runner  string // the binary that runs, inspects and saves: docker or podman
	// Buildx is true when docker has the buildx plugin.
	Buildx bool
}

// Engines are the names --engine takes.
var Engines = []string{"docker", "podman", "buildah"}

// LookPath finds a binary; exec.LookPath, replaced in tests.
type LookPath func(string) (string, error)

// DetectEngine chooses the engine: name when given (docker, podman or
// buildah), else the first that works of docker (only when its daemon
// answers: a docker client alone cannot build), podman and buildah. The
// buildah engine runs containers with podman when podman is installed.
// probe runs a short command and reports whether it succeeded.
func DetectEngine(ctx context.Context, name string, look LookPath, probe func(context.Context, Command) bool) (Engine, error) {
	if look == nil {
		look = exec.LookPath
	}
	has := func(bin string) bool { _, err := look(bin); return err == nil }
	docker := func() Engine {
		e := Engine{Name: "docker", Builder: "docker", Runner: "docker"}
		e.Buildx = probe(ctx, Command{Argv: []string{"docker", "buildx", "version"}, Timeout: 10 * time.Second})
		return e
	}
	buildah := func() Engine {
		e := Engine{Name: "buildah", Builder: "buildah"}
		if has("podman") {
			e.Runner = "podman"
		}
		return e
	}
	switch name {
	case "docker":
		if !has("docker") {
			return Engine{}, fmt.Errorf("--engine docker: docker is not on the PATH")
		}
		return docker(), nil
	case "podman":
		if !has("podman") {
			return Engine{}, fmt.Errorf("--engine podman: podman is not on the PATH")
		}
		return Engine{Name: "podman", Builder: "podman", Runner: "podman"}, nil
	case "buildah":
		if !has("buildah") {
			return Engine{}, fmt.Errorf("--engine buildah: buildah is not on the PATH")
		}
		return buildah(), nil
	case "":
	default:
		return Engine{}, fmt.Errorf("--engine must be docker, podman or buildah, not %q", name)
	}
	if has("docker") && probe(ctx, Command{Argv: []string{"docker", "version", "--format", "{{.Server.Version}}"}, Timeout: 10 * time.Second}) {
		return docker(), nil
	}
	if has("podman") {
		return Engine{Name: "podman", Builder: "podman", Runner: "podman"}, nil
	}
	if has("buildah") {
		return buildah(), nil
	}
	return Engine{}, fmt.Errorf("no container engine found: install docker (with a running daemon), podman or buildah, or name one with --engine")
}

// BuildSpec is one image build.
type BuildSpec struct {
	Dockerfile string // the file to build (-f)
	Context    string // the build context folder
	Tag        string
	Target     string
	BuildArgs  []string // KEY=VALUE
	Platform   string
	Secrets    []string // as docker build --secret takes them: id=NAME,src=FILE or id=NAME,env=VAR
	// Pull is the base image pull policy: missing (the default: pull only
	// what is not in the engine's store), never or always.
	Pull string
	Log  string
	// Timeout kills the build.
	Timeout time.Duration
}

// Build is the command that builds b. Podman and buildah get --pull=POLICY
// and --layers (reuse the engine's cache) and --format docker (keeps
// HEALTHCHECK and SHELL, which the OCI format drops). Docker pulls a base
// only with --pull (always); its default already uses local images, but
// BuildKit still asks the registry for a tag's metadata, so "never" cannot
// be promised with docker (no flag turns that off).
func (e Engine) Build(b BuildSpec) Command {
	var argv []string
	pull := b.Pull
	if pull == "" {
		pull = "missing"
	}
	switch e.Name {
	case "docker":
		if e.Buildx {
			argv = []string{"docker", "buildx", "build", "--load"}
		} else {
			argv = []string{"docker", "build"}
		}
		if pull == "always" {
			argv = append(argv, "--pull")
		}
	case "podman":
		argv = []string{"podman", "build", "--pull=" + pull, "--layers", "--format", "docker"}
	case "buildah":
		argv = []string{"buildah", "bud", "--pull=" + pull, "--layers", "--format", "docker"}
	}
	argv = append(argv, "-f", b.Dockerfile, "-t", b.Tag)
	if b.Target != "" {
		argv = append(argv, "--target", b.Target)
	}
	if b.Platform != "" {
		argv = append(argv, "--platform", b.Platform)
	}
	for _, a := range b.BuildArgs {
		argv = append(argv, "--build-arg", a)
	}
	for _, s := range b.Secrets {
		argv = append(argv, "--secret", s)
	}
	argv = append(argv, b.Context)
	return Command{Argv: argv, Log: b.Log, Timeout: b.Timeout}
}

// Label marks every container verify starts, so leftovers can be found
// (`podman ps -a --filter label=hardenfix.verify`).
const Label = "hardenfix.verify=1"

// Start is the command that starts image detached as container name: no
// network, no privileges, never pulling (the image was just built).
func (e Engine) Start(name, image string) Command {
	return Command{Argv: []string{e.Runner, "run", "-d", "--name", name, "--network", "none", "--pull=never", "--label", Label, image}}
}

// RunOnce runs image once with entrypoint (when not empty) replaced and
// args, removing the container afterwards; network is "none" or
// "container:NAME" (a probe in another container's namespace).
func (e Engine) RunOnce(image, network, entrypoint string, args ...string) Command {
	if network == "" {
		network = "none"
	}
	argv := []string{e.Runner, "run", "--rm", "--network", network, "--pull=never", "--label", Label}
	if entrypoint != "" {
		argv = append(argv, "--entrypoint", entrypoint)
	}
	argv = append(argv, image)
	return Command{Argv: append(argv, args...)}
}

// State prints "RUNNING EXITCODE" of a container.
func (e Engine) State(name string) Command {
	return Command{Argv: []string{e.Runner, "inspect", "--type", "container", "--format", "{{.State.Running}} {{.State.ExitCode}}", name}}
}

// Logs prints a container's output.
func (e Engine) Logs(name string) Command {
	return Command{Argv: []string{e.Runner, "logs", name}}
}

// Exec runs args inside a running container.
func (e Engine) Exec(name string, args ...string) Command {
	return Command{Argv: append([]string{e.Runner, "exec", name}, args...)}
}

// RemoveContainer kills and removes a container at once.
func (e Engine) RemoveContainer(name string) Command {
	if e.Runner == "podman" {
		return Command{Argv: []string{"podman", "rm", "-f", "-t", "0", name}}
	}
	return Command{Argv: []string{e.Runner, "rm", "-f", name}}
}

// InspectImage prints an image's description as JSON: `image inspect` of
// docker or podman (an array of {Id, Size, Config, RootFS}), or buildah's
// inspect (an object with OCIv1) when there is no runner.
func (e Engine) InspectImage(image string) Command {
	if e.Runner == "" {
		return Command{Argv: []string{"buildah", "inspect", "--type", "image", image}}
	}
	return Command{Argv: []string{e.Runner, "image", "inspect", image}}
}

// Save writes image to archive as a docker-archive tar (what scanners read).
func (e Engine) Save(image, archive string) Command {
	switch e.Runner {
	case "podman":
		return Command{Argv: []string{"podman", "save", "--format", "docker-archive", "-o", archive, image}}
	case "docker":
		return Command{Argv: []string{"docker", "save", "-o", archive, image}}
	}
	return Command{Argv: []string{"buildah", "push", image, "docker-archive:" + archive}}
}

// RemoveImage removes an image verify built. Not forced: a forced rmi
// also removes the containers using the image, which may be another
// file's build container (the layer cache shares layers between files).
func (e Engine) RemoveImage(image string) Command {
	bin := e.Runner
	if bin == "" {
		bin = e.Builder
	}
	return Command{Argv: []string{bin, "rmi", image}}
}
