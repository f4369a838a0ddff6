package nonroot

import (
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"github.com/distribution/reference"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/hardenfix/hardenfix/pkg/rules/internal/imageref"
)

// This file holds what keeps the non-root rule from adding a USER even
// though the stage runs as root: work that needs root outside the command
// (a platform-run script, cron), tools installed into root's home, host
// resources only root may reach, and images built for others to extend.
// Each was seen breaking a real container.

// blocker is one reason the container must keep running as root.
type blocker struct {
	Line    int
	Message string
}

func (a *stageAnalysis) block(line int, format string, args ...any) {
	a.Blockers = append(a.Blockers, blocker{line, fmt.Sprintf(format, args...)})
}

// rootPath reports a path inside root's home, which is mode 0700.
func rootPath(p string) bool {
	return p == "/root" || strings.HasPrefix(p, "/root/") || p == "~" || strings.HasPrefix(p, "~/") ||
		strings.HasPrefix(p, "$HOME/") || strings.HasPrefix(p, "${HOME}/")
}

// rootPathIn returns the first entry of a PATH-like or plain value that
// lies in root's home, or "".
func rootPathIn(value string) string {
	for _, part := range strings.FieldsFunc(value, func(r rune) bool { return r == ':' || unicode.IsSpace(r) || r == '=' || r == '"' || r == '\'' }) {
		if part == "/root" || strings.HasPrefix(part, "/root/") {
			return part
		}
	}
	return ""
}

// hostResource names a host resource a value refers to that only root
// can reach in a container (the Docker socket, a kubeconfig of the node,
// a device), or "".
func hostResource(value string) string {
	for _, w := range strings.FieldsFunc(value, func(r rune) bool {
		return unicode.IsSpace(r) || r == '=' || r == '"' || r == '\'' || r == ',' // a script's lines too
	}) {
		switch {
		case strings.HasSuffix(w, "/docker.sock") && (strings.HasPrefix(w, "/var/run/") || strings.HasPrefix(w, "/run/") || strings.HasPrefix(w, "unix://")):
			return w
		case strings.HasPrefix(w, "unix://") && strings.Contains(w, "docker"):
			return w
		case strings.HasPrefix(w, "/etc/kubernetes/") && strings.HasSuffix(w, ".conf"):
			return w
		case strings.HasPrefix(w, "qemu:///system") || strings.HasPrefix(w, "qemu+unix:///system"):
			return w + " (the host's libvirt socket, root's or the libvirt group's)"
		case strings.HasPrefix(w, "/var/run/libvirt/") || strings.HasPrefix(w, "/run/libvirt/"):
			return w
		case strings.HasPrefix(w, "/dev/") && !harmlessDevice(w):
			return w
		}
	}
	return ""
}

// harmlessDevice lists the /dev entries every user may use.
func harmlessDevice(p string) bool {
	p = strings.TrimRight(p, "/);&|")
	switch p {
	case "/dev/null", "/dev/zero", "/dev/random", "/dev/urandom", "/dev/stdout", "/dev/stderr", "/dev/stdin",
		"/dev/tty", "/dev/console", "/dev/full", "/dev/ptmx", "/dev/log", "/dev":
		return true
	}
	// /dev/tcp/HOST/PORT and /dev/udp/...: bash opens a network connection
	// (there is no such file), which needs no privilege.
	return strings.HasPrefix(p, "/dev/tcp/") || strings.HasPrefix(p, "/dev/udp/") ||
		strings.HasPrefix(p, "/dev/fd/") || strings.HasPrefix(p, "/dev/shm") || strings.HasPrefix(p, "/dev/pts") || strings.HasPrefix(p, "/dev/mqueue")
}

// rootHomeInstall names a command that installs a tool into the home of the
// user who runs it (root, at build time), where another user cannot
// reach it.
func rootHomeInstall(cmd rewrite.ShellCommand) string {
	switch cmd.Program() {
	case "mix":
		args := argsOf(cmd)
		if line := strings.Join(args, " "); strings.Contains(line, "local.hex") || strings.Contains(line, "local.rebar") || strings.Contains(line, "archive.install") {
			return "mix " + args[0] + " (into /root/.mix)"
		}
	case "composer":
		if args := argsOf(cmd); len(args) > 0 && args[0] == "global" {
			return "composer global (into /root/.composer or /root/.config/composer)"
		}
	case "corepack":
		for _, w := range argsOf(cmd) {
			if w == "prepare" || w == "install" {
				return "corepack " + w + " (into /root/.cache/node/corepack)"
			}
		}
	}
	return ""
}

// scanBlockers records what one instruction of the final stage's chain
// says about root work that USER would break.
func (a *stageAnalysis) scanBlockers(d *rewrite.Document, in *rewrite.Instruction, vars rewrite.Vars) {
	switch c := in.Command.(type) {
	case *instructions.EnvCommand:
		for _, kv := range c.Env {
			v, _ := expandWord(d, kv.Value, vars)
			if portVariables[kv.Key] {
				a.portSet = true
			}
			if p := rootPathIn(v); p != "" && kv.Key != "HOME" {
				a.block(in.Line, "ENV %s points into /root (%s), root's home, which other users may not enter: the tools found there would be out of reach; install them outside /root (e.g. under /usr/local or /opt), then run hardenfix again", kv.Key, p)
			}
			if r := hostResource(v); r != "" {
				a.hostBlock(in.Line, r)
			}
		}
	case *instructions.VolumeCommand:
		for _, v := range c.Volumes {
			if r := hostResource(v); r != "" {
				a.hostBlock(in.Line, r)
			}
		}
	case *instructions.CopyCommand:
		if c.From != "" && d.StageRef(c.From, in.Stage) < 0 && dockerCLIImage(c.From) {
			a.dockerCLIBlock(in.Line, "COPY --from="+c.From+" copies the Docker CLI")
		}
		if isCronPath(c.DestPath) {
			a.block(in.Line, "files go to %s, root's cron configuration, which only a cron daemon running as root reads; no USER was added", c.DestPath)
		}
		for _, src := range c.SourcePaths {
			if baseHelperScript(path.Base(src)) {
				a.block(in.Line, "%s is a helper for the builds that start FROM this image (it runs as root in their RUN steps): this Dockerfile builds a base image, which must not end on a non-root USER; set USER in the images built on it", path.Base(src))
			}
		}
	}
}

// scanBlockerCommand records what one command of a RUN in the chain says
// about root work that USER would break (scan has split the RUN already).
func (a *stageAnalysis) scanBlockerCommand(in *rewrite.Instruction, cmd rewrite.ShellCommand, vars rewrite.Vars) {
	name := cmd.Program()
	redirected := homeRedirected(vars, name)
	if what := rootHomeInstall(cmd); what != "" && !redirected {
		a.block(in.Line, "RUN %s installs into root's home, which the non-root user cannot reach: install it where that user can read it (and set HOME), then run hardenfix again", what)
	}
	if dir, ok := homeCaches[name]; ok && !redirected {
		if a.buildTools == nil {
			a.buildTools = map[string]string{}
		}
		a.buildTools[name] = dir
	}
	if pkg := dockerCLIPackage(cmd); pkg != "" {
		a.dockerCLIBlock(in.Line, "RUN installs "+pkg)
	}
	if name == "crontab" {
		a.block(in.Line, "RUN crontab installs a crontab for root; cron runs it as root, which a non-root container cannot; no USER was added")
	}
}

// homeVariables are the variables that move a tool's installs and caches
// out of root's home.
var homeVariables = map[string][]string{
	"mix": {"MIX_HOME"}, "composer": {"COMPOSER_HOME"}, "corepack": {"COREPACK_HOME"},
	"mvn": {"MAVEN_CONFIG"}, "gradle": {"GRADLE_USER_HOME"}, "gradlew": {"GRADLE_USER_HOME"},
	"dotnet": {"NUGET_PACKAGES"}, "cargo": {"CARGO_HOME"}, "sbt": {"SBT_OPTS"}, "lein": {"LEIN_HOME"},
}

// homeRedirected reports whether the variables in scope redirect a tool's
// installs away from root's home.
func homeRedirected(vars rewrite.Vars, tool string) bool {
	for _, k := range homeVariables[tool] {
		if v, ok := vars[k]; ok && v != "" && !rootPath(v) {
			return true
		}
	}
	return false
}

func (a *stageAnalysis) hostBlock(line int, resource string) {
	a.block(line, "the container uses %s, a host resource only root may reach inside a container; no USER was added: grant the user access on the host (its group, a device cgroup rule) before running it as non-root", resource)
}

func isCronPath(p string) bool {
	return strings.HasPrefix(p, "/etc/cron") || strings.HasPrefix(p, "/var/spool/cron") || p == "/etc/crontab"
}

// baseHelperScript matches the helper scripts official images install for
// the builds derived from them (docker-php-ext-install,
// docker-php-source, docker-java-home, ...).
var baseHelperRE = regexp.MustCompile(`^docker-[a-z0-9]+-(ext|ext-[a-z]+|source|install|configure|enable)$`)

func baseHelperScript(name string) bool { return baseHelperRE.MatchString(name) }

// rootMountRE matches a volume of a docker run command that lands in
// root's home (-v $HOME/.ssh:/root/.ssh:ro).
var rootMountRE = regexp.MustCompile(`(?:^|\s)(?:-v|--volume)(?:\s+|=)["']?(\S+?):(/root(?:/[^\s:"']*)?)(?::[^\s"']*)?["']?(?:\s|$)`)

// documentedRootMount finds, in the header comments of a file that shows
// how to run its image (docker run ...), a volume mounted into root's home: the
// program reads its configuration or data there, under root's HOME. It
// returns the comment's line, the source and the target, or 0.
func documentedRootMount(d *rewrite.Document) (int, string, string) {
	lines := headerLines(d)
	if !documentsRun(lines) {
		return 0, "", ""
	}
	for i, line := range lines {
		l := strings.TrimSpace(line)
		if !strings.HasPrefix(l, "#") {
			continue
		}
		if m := rootMountRE.FindStringSubmatch(strings.TrimLeft(l, "# \t")); m != nil {
			return i + 1, m[1], m[2]
		}
	}
	return 0, "", ""
}

// deviceFlagRE matches the device a docker run command passes in
// (--device /dev/snd, --device=/dev/dri:/dev/dri) and --privileged.
var deviceFlagRE = regexp.MustCompile(`(?:^|\s)(?:--device(?:\s+|=)["']?(/dev/[^\s:"']+)|(--privileged))(?:[\s:"']|$)`)

// documentedDevice finds, in the header comments of a file that shows how
// to run its image (docker run ...), a device passed in (or --privileged, which
// passes them all): its line and the flag, or 0.
func documentedDevice(d *rewrite.Document) (int, string) {
	lines := headerLines(d)
	if !documentsRun(lines) {
		return 0, ""
	}
	for i, line := range lines {
		l := strings.TrimSpace(line)
		if !strings.HasPrefix(l, "#") {
			continue
		}
		for _, m := range deviceFlagRE.FindAllStringSubmatch(strings.TrimLeft(l, "# \t"), -1) {
			switch {
			case m[2] != "":
				return i + 1, "--privileged (every host device)"
			case !harmlessDevice(m[1]):
				return i + 1, "--device " + m[1]
			}
		}
	}
	return 0, ""
}

// headerLines are the lines before the file's first instruction, where a
// file documents how to run its own image (a docker run further down is
// often another image's: a binfmt helper, a builder).
func headerLines(d *rewrite.Document) []string {
	first := len(d.Src)
	if len(d.Instructions) > 0 {
		first = d.LineStart(d.Instructions[0].Line)
	}
	return strings.Split(string(d.Src[:first]), "\n")
}

// documentsRun reports comments that show a docker run command.
func documentsRun(lines []string) bool {
	for _, line := range lines {
		if l := strings.TrimSpace(line); strings.HasPrefix(l, "#") && strings.Contains(l, "docker run") {
			return true
		}
	}
	return false
}

// generatedHeader finds a generated-file marker in the comments before
// the first instruction: such a file is rewritten by its generator, and
// official image templates (which build images for others) carry one.
func generatedHeader(d *rewrite.Document) int {
	first := len(d.Src)
	if len(d.Instructions) > 0 {
		first = d.LineStart(d.Instructions[0].Line)
	}
	for i, line := range strings.Split(string(d.Src[:first]), "\n") {
		l := strings.ToLower(line)
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			continue
		}
		for _, m := range []string{"do not edit", "generated by", "auto-generated", "autogenerated", "automatically generated"} {
			if strings.Contains(l, m) {
				return i + 1
			}
		}
	}
	return 0
}

// scanRuntimeBlockers looks at the container's command (and the scripts
// it runs) for paths in root's home and host resources.
func (a *stageAnalysis) scanRuntimeBlockers(in *rewrite.Instruction, text, script string) {
	where := ""
	if script != "" {
		where = " (in " + script + ")"
	}
	if script == "" {
		for _, w := range strings.Fields(text) {
			if p := rootPathIn(w); p != "" {
				a.block(in.Line, "%s runs %s, inside root's home, which other users may not enter; move it out of /root, then run hardenfix again", in.Keyword, p)
				break
			}
		}
	}
	chowned, installs := false, false
	for _, cmd := range shellCommands(text) {
		cmd = unwrapInit(cmd) // tini -- strace ...: the child counts
		name := cmd.Program()
		if script != "" && !installs && installsPackages(cmd) && !checksOwnUID(text) {
			installs = true
			a.block(in.Line, "%s runs %s when the container starts: the package manager writes where only root may, so as a non-root user the script would fail there; no USER was added: install the packages in the build (RUN), or run that only as root (if [ \"$(id -u)\" = 0 ]), then run hardenfix again", script, commandText(cmd))
		}
		if script != "" && !chowned && (name == "chown" || name == "chgrp") && !checksOwnUID(text) {
			chowned = true
			a.block(in.Line, "%s runs %s when the container starts: changing a file's owner is root's work (the files are root's, or a volume's), so as a non-root user the script would fail there; no USER was added: do that in the build (RUN chown) and drop it from the script, or run it only as root (if [ \"$(id -u)\" = 0 ]), then run hardenfix again", script, commandText(cmd))
		}
		if dir, ok := a.buildTools[name]; ok && script == "" && resolvesDependencies(cmd) {
			a.block(in.Line, "%s runs %s, whose dependencies the build downloaded into root's home (%s), which another user can neither read nor reuse: it would fetch them again at start; no USER was added", in.Keyword, name, dir)
			break
		}
		if buildAtStart[name] {
			a.block(in.Line, "the container runs %s%s when it starts: a build or packaging container, which writes its outputs next to the sources the build copied in as root (and into the folders mounted for it); no USER was added: build in RUN steps (a multi-stage build), or hand the sources to the runtime user (COPY --chown), then run hardenfix again", commandText(cmd), where)
			break
		}
		if dockerAPIClients[name] {
			a.dockerCLIBlock(in.Line, "the container runs "+name+where)
			break
		}
		if capabilityTools[name] {
			a.block(in.Line, "the container runs %s%s, which needs root's capabilities (raw sockets, ptrace, network or device administration) that a non-root user does not get even with --cap-add; no USER was added", name, where)
			break
		}
	}
	if r := hostResource(text); r != "" {
		a.hostBlock(in.Line, r+where)
	}
}

// Images whose default command listens on a privileged port although
// nothing in a derived Dockerfile says so. Source:
// https://github.com/tiangolo/uvicorn-gunicorn-docker#environment-variables
// (PORT defaults to 80; the same start script in the fastapi and
// meinheld images).
var defaultLowPorts = map[string]int{
	"tiangolo/uvicorn-gunicorn":           80,
	"tiangolo/uvicorn-gunicorn-fastapi":   80,
	"tiangolo/uvicorn-gunicorn-starlette": 80,
	"tiangolo/meinheld-gunicorn":          80,
	"tiangolo/meinheld-gunicorn-flask":    80,
	"tiangolo/uwsgi-nginx-flask":          80,
	"tiangolo/uwsgi-nginx":                80,
}

// portFlagRE matches the options that name the port a server listens on.
var portFlagRE = regexp.MustCompile(`^(--port|-p|--http-port|--listen-port|-b|--bind|--listen|--host|--address|--addr|--http)(=(.*))?$`)

// commandPorts returns the ports a command line names in its listen
// options (--port 80, -p 80, --bind 0.0.0.0:80, :80).
func commandPorts(words []string) []int {
	var out []int
	add := func(v string) {
		if i := strings.LastIndex(v, ":"); i >= 0 {
			v = v[i+1:]
		}
		if n, err := strconv.Atoi(v); err == nil && n > 0 && n < 65536 {
			out = append(out, n)
		}
	}
	for i := 0; i < len(words); i++ {
		w := words[i]
		if m := portFlagRE.FindStringSubmatch(w); m != nil {
			if m[2] != "" {
				add(m[3])
			} else if i+1 < len(words) {
				i++
				add(words[i])
			}
			continue
		}
		if strings.HasPrefix(w, ":") || strings.HasPrefix(w, "0.0.0.0:") || strings.HasPrefix(w, "[::]:") {
			add(w)
		}
	}
	return out
}

// blocked notes why the container must keep running as root, if it must.
func (p *nonRootPlan) blocked() bool {
	a, from := p.a, p.instrs[0]
	switch {
	case p.role == "base":
		p.note(from.Line, "this folder's .hardenfix.yaml says role: base: the image is built for others to extend, whose RUN steps need root; set USER in the images built on it")
		return true
	case isDevcontainer(p.d.Path):
		p.note(from.Line, "a development container: the editor connects as the user devcontainer.json names (remoteUser, vscode in the devcontainer images) and the container runs as root by design; no USER was added")
		return true
	}
	if line := generatedHeader(p.d); line > 0 {
		p.note(line, "the file says it is generated: an edit would be lost when it is generated again, and generated Dockerfiles (official image templates) build images for others to extend; change the generator instead")
		return true
	}
	if in, what := a.cmd, a.bareInterpreter(); what != "" && !(a.HasFacts && a.Facts.NonRoot()) {
		if in == nil {
			in = a.entrypoint
		}
		p.note(in.Line, "the container starts %s and nothing else: this is a base or toolchain image, which others extend with RUN steps that need root (or use interactively); no USER was added, set it in the images built on it", what)
		return true
	}
	if vols := a.unownedVolumes(); len(vols) > 0 && !p.windowsOS {
		// Handed over by the fix (volumes.go) when the rule can.
		if why := p.cannotHandOver(vols); why != "" {
			p.volumeNote(vols[0], why)
			return true
		}
		p.volumes = vols
	}
	if len(a.Blockers) > 0 {
		seen := map[string]bool{}
		for _, b := range a.Blockers {
			if !seen[b.Message] {
				seen[b.Message] = true
				p.note(b.Line, "%s", b.Message)
			}
		}
		return true
	}
	for _, v := range p.volumes { // handed over by the fix
		a.openDirs = append(a.openDirs, v.paths...)
	}
	if line, src, dst := documentedRootMount(p.d); line > 0 {
		p.note(line, "the docker run shown in the comments mounts %s at %s, in root's home: the program finds it there only as root (a new user's home is elsewhere, and /root is closed to other users); no USER was added: mount it into the runtime user's home instead (or set HOME), then add USER", src, dst)
		return true
	}
	if line, dev := documentedDevice(p.d); line > 0 {
		p.note(line, "the docker run shown in the comments passes %s: a device node keeps the host's owner and mode (root, or a group such as audio, video or render), which a new user is not in; no USER was added: run it with --group-add for the device's group (or a device cgroup rule and udev mode), then add USER", dev)
		return true
	}
	for !p.windowsOS {
		m, where := a.emptyDataDir()
		if where == "" {
			break
		}
		if m.How != "WORKDIR" {
			where += " names it or a path in it"
		}
		msg := func(why string) rewrite.Note {
			return rewrite.Note{Line: m.In.Line, Message: fmt.Sprintf("%s %s makes an empty folder owned by root, and %s: the process writes there (there is nothing in it to read), which a non-root user could not; no USER was added%s: hand it to the runtime user in the build (RUN mkdir -p %s && chown UID %s, or COPY --chown), then run hardenfix again", m.How, m.Path, where, why, m.Path, m.Path)}
		}
		why := p.cannotChown()
		if why == "" && !plainPath.MatchString(m.Path) {
			why = "the path is not a plain absolute path"
		}
		if why != "" {
			p.notes = append(p.notes, msg(", and hardenfix did not hand it over itself ("+why+")"))
			return true
		}
		// Handed over by the fix, before the USER (volumes.go); the note
		// stands if that cannot be done.
		p.dirs = append(p.dirs, m.Path)
		p.dirNotes = append(p.dirNotes, msg(""))
		a.openDirs = append(a.openDirs, m.Path)
	}
	if in, dir, where := a.missingStateDir(); dir != "" && !p.windowsOS {
		p.note(in.Line, "%s keeps its state in %s, which the build does not make: the program creates it when it starts, and a non-root user may not create folders in a parent owned by root (a volume mounted there is root's too); no USER was added: make it and hand it to the runtime user (RUN mkdir -p %s && chown UID %s, or VOLUME %s after it), then run hardenfix again", where, dir, dir, dir, dir)
		return true
	}
	if in, prog := a.mountedProgram(p.d); prog != "" {
		p.note(in.Line, "%s runs %s, which neither %s nor this Dockerfile puts in the image: it is mounted when the container runs (a compose volume, a ConfigMap), so what it does, and whether it needs root, cannot be read; no USER was added: COPY it into the image, then run hardenfix again", in.Keyword, prog, a.Image)
		return true
	}
	// A base that runs as its own non-root user has a command made for
	// it; a stage that switches to root first gets its own note later.
	if a.entrypoint == nil && a.cmd == nil && !p.baseCommand && !(a.HasFacts && a.Facts.NonRoot()) && p.switchesToRoot() == nil {
		p.note(from.Line, "the stage sets no CMD or ENTRYPOINT: what the container runs (a platform's start script, a derived image, a toolchain run by hand) is not in this file, so whether it can run as non-root cannot be told; no USER was added")
		return true
	}
	return false
}

// isDevcontainer reports a Dockerfile of a development container.
func isDevcontainer(file string) bool {
	file = strings.ReplaceAll(file, `\`, "/")
	return strings.HasPrefix(file, ".devcontainer/") || strings.Contains(file, "/.devcontainer/")
}

type lowPort struct {
	line       int
	what, port string
}

// commandPorts are the privileged ports the container's command, or the
// base image's known default, listens on.
func (a *stageAnalysis) commandPorts(fromLine int) []lowPort {
	var out []lowPort
	named := false
	for _, c := range []struct {
		in   *rewrite.Instruction
		line []string
	}{{a.entrypoint, a.entrypointLine}, {a.cmd, a.cmdLine}} {
		if c.in == nil {
			continue
		}
		for _, port := range commandPorts(strings.Fields(strings.Join(c.line, " "))) {
			named = true
			if port < 1024 {
				out = append(out, lowPort{c.in.Line, c.in.Keyword, strconv.Itoa(port)})
			}
		}
	}
	if named || !a.ImageKnown {
		return out
	}
	if a.portSet {
		return out
	}
	if named, err := reference.ParseNormalizedNamed(a.Image); err == nil {
		repo := strings.TrimPrefix(named.Name(), "docker.io/")
		if port, ok := defaultLowPorts[repo]; ok {
			out = append(out, lowPort{fromLine, a.Image + " (its start script, unless PORT is set)", strconv.Itoa(port)})
		} else if tagged, ok := named.(reference.Tagged); ok && repo == "mcr.microsoft.com/dotnet/aspnet" && imageref.DotnetBefore8(tagged.Tag()) {
			out = append(out, lowPort{fromLine, a.Image + " (ASPNETCORE_URLS=http://+:80 before .NET 8)", "80"})
		}
	}
	return out
}

// buildTimeOnly reports a FROM text that depends, directly or through the
// defaults of other global ARGs, on an ARG with no default: its value is
// only known when the build passes it in (ARG BASE=${REGISTRY}/python).
func buildTimeOnly(d *rewrite.Document, text string) bool {
	seen := map[string]bool{}
	var depends func(text string) bool
	depends = func(text string) bool {
		for _, ref := range varRefs.FindAllString(text, -1) {
			name := strings.Trim(ref, "${}")
			if i := strings.IndexAny(name, ":-+?"); i >= 0 {
				name = name[:i]
			}
			if seen[name] {
				continue
			}
			seen[name] = true
			value, declared := metaArgDefault(d, name)
			if !declared || value == nil || depends(*value) {
				return true
			}
		}
		return false
	}
	return depends(text)
}

// metaArgDefault returns the default of the last global ARG named name.
func metaArgDefault(d *rewrite.Document, name string) (value *string, declared bool) {
	for _, a := range d.MetaArgs {
		for _, kv := range a.Args {
			if kv.Key == name {
				value, declared = kv.Value, true
			}
		}
	}
	return value, declared
}

func (a *stageAnalysis) dockerCLIBlock(line int, what string) {
	a.block(line, "%s, which talks to the host's Docker socket, which only root (or the host's docker group) may use in a container; no USER was added: grant the user the socket's group, then add USER", what)
}

// dockerCLIPackages are the packages that install the Docker CLI.
var dockerCLIPackages = setOf("docker-cli", "docker.io", "docker-ce-cli", "docker-ce", "moby-cli", "docker")

// dockerCLIPackage returns the Docker CLI package an install command
// installs, or "".
func dockerCLIPackage(cmd rewrite.ShellCommand) string {
	if _, ok := packageManagers[cmd.Program()]; !ok || !isInstall(cmd) {
		return ""
	}
	for _, w := range argsOf(cmd) {
		if dockerCLIPackages[w] {
			return w
		}
	}
	return ""
}

// dockerCLIImage reports an image that ships the Docker CLI (the official
// docker image, and images named docker or docker-cli under any owner).
func dockerCLIImage(ref string) bool {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return false
	}
	last := path.Base(reference.Path(named))
	return last == "docker" || last == "docker-cli"
}

// portVariables set the port a server listens on, overriding an image's
// default.
var portVariables = setOf("PORT", "ASPNETCORE_URLS", "ASPNETCORE_HTTP_PORTS", "BIND", "LISTEN_PORT")

// bareInterpreters are commands that, alone, start a shell or a REPL: the
// default command of a base or toolchain image (node's CMD ["node"],
// python's CMD ["python3"], debian's CMD ["bash"]), not of an application.
var bareInterpreters = setOf("sh", "bash", "ash", "zsh", "dash", "node", "python", "python3", "php", "irb",
	"jshell", "pwsh", "ghci", "iex", "erl", "lua", "R", "julia", "bun", "deno")

// entrypointWrappers run the CMD they are given.
var entrypointWrappers = setOf("docker-entrypoint.sh", "docker-entrypoint", "entrypoint.sh", "tini", "dumb-init", "tini-static")

// bareInterpreter returns the interpreter the container starts with no
// program to run, or "".
func (a *stageAnalysis) bareInterpreter() string {
	var words []string
	if a.entrypoint != nil {
		words = strings.Fields(strings.Join(a.entrypointLine, " "))
		for len(words) > 0 && (entrypointWrappers[path.Base(words[0])] || words[0] == "--") {
			init := initWrappers[path.Base(words[0])]
			words = words[1:]
			// tini -g sh: the init's own flags, as unwrapInit skips them.
			for init && len(words) > 0 && strings.HasPrefix(words[0], "-") && words[0] != "--" {
				words = words[1:]
			}
		}
	}
	if a.cmd != nil {
		words = append(words, strings.Fields(strings.Join(a.cmdLine, " "))...)
	}
	switch line := strings.Join(words, " "); {
	case line == "sleep infinity" || line == "tail -f /dev/null":
		// The keep-alive of workspaces and development containers,
		// whose tools are run by hand (docker exec, an editor).
		return line
	case len(words) == 1 && bareInterpreters[path.Base(words[0])]:
		return path.Base(words[0])
	case len(words) == 2 && bareInterpreters[path.Base(words[0])] && (words[1] == "-a" || words[1] == "-i" || words[1] == "-l"):
		return strings.Join(words, " ")
	}
	return ""
}

// buildAtStart are build and packaging tools: a container that runs one
// when it starts builds there (miniflux's Debian packaging image runs
// make and dpkg-buildpackage), in folders root's COPY made.
var buildAtStart = setOf("make", "gmake", "cmake", "ninja", "meson", "dpkg-buildpackage", "debuild", "rpmbuild", "abuild", "makepkg")

// dockerAPIClients are programs whose work is the Docker Engine API over
// the host's socket, mounted into the container: watchtower updates the
// host's containers, docker-gen renders their metadata, lazydocker, ctop
// and dive show them (the Docker CLI itself: dockerCLIPackage).
var dockerAPIClients = setOf("watchtower", "docker-gen", "lazydocker", "ctop", "dive")

// capabilityTools need capabilities a non-root process does not have:
// Linux drops a non-root user's effective capabilities, so --cap-add
// NET_RAW or SYS_PTRACE does not reach them.
var capabilityTools = setOf("strace", "ltrace", "tcpdump", "tshark", "dumpcap", "nmap", "masscan", "hping3",
	"arp-scan", "iptables", "ip6tables", "nft", "tc", "wg-quick", "modprobe", "sysctl", "perf", "bpftrace",
	"iftop", "nethogs", "adb", "mount", "dmidecode",
	"wg", "shorewall", "shorewall6", // netlink and netfilter administration
	"debootstrap", "gparted", // mknod and chroot; block devices
)

// homeCaches are build tools that keep the dependencies they download in
// the home of the user who runs them, unless a variable moves them.
var homeCaches = map[string]string{
	"mvn": "/root/.m2", "gradle": "/root/.gradle", "gradlew": "/root/.gradle", "dotnet": "/root/.nuget/packages",
	"cargo": "/root/.cargo", "sbt": "/root/.ivy2, /root/.sbt", "lein": "/root/.m2",
}

// resolvesDependencies reports a command that needs the tool's downloaded
// dependencies: dotnet and cargo only for run, watch and test (dotnet
// app.dll runs a published app), the JVM build tools always.
func resolvesDependencies(cmd rewrite.ShellCommand) bool {
	switch cmd.Program() {
	case "dotnet", "cargo":
		args := argsOf(cmd)
		return len(args) > 0 && (args[0] == "run" || args[0] == "watch" || args[0] == "test")
	}
	return true
}

// varRefs matches the variable references in a word.
var varRefs = regexp.MustCompile(`\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*`)

// checksOwnUID reports a script that asks which user runs it (id -u,
// $EUID, whoami), so it can tell root's start-up work from a non-root
// one's.
func checksOwnUID(script string) bool {
	for _, w := range []string{"id -u", "$EUID", "${EUID", "$UID", "${UID", "whoami"} {
		if strings.Contains(script, w) {
			return true
		}
	}
	return false
}

// commandText is a command's program and arguments as written.
func commandText(cmd rewrite.ShellCommand) string {
	var ws []string
	for _, w := range cmd.Argv() {
		ws = append(ws, w.Value)
	}
	return strings.Join(ws, " ")
}

// installsPackages reports a system package manager that changes the
// installed packages or their index (apt-get update, apk add, dpkg -i),
// not one that only reports (dpkg --print-architecture, apk info).
func installsPackages(cmd rewrite.ShellCommand) bool {
	if _, ok := packageManagers[cmd.Program()]; !ok || cmd.Sudo() {
		return false
	}
	for _, w := range argsOf(cmd) {
		switch w {
		case "install", "add", "update", "upgrade", "dist-upgrade", "full-upgrade", "remove", "del", "purge", "reinstall", "-i", "--install":
			return true
		}
	}
	return false
}
