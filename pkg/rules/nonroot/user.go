package nonroot

import (
	"path"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/hardenfix/hardenfix/pkg/registry"
	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/hardenfix/hardenfix/pkg/rules/internal/imageref"
	"github.com/hardenfix/hardenfix/pkg/rules/internal/userspec"
)

// This file is the non-root rule's walk over a stage's chain: which user
// the stage runs as, which files it hands to which user, what it installs
// and which OS family it is built on. accounts.go reads the users it
// creates, entrypoint.go what the container starts.

// stageAnalysis is what the non-root rule learns about a stage and the
// stages it is built on (its chain).
type stageAnalysis struct {
	// Chain lists the stage and its ancestors, the root ancestor first.
	Chain []int
	// Image is the external image at the root of the chain, after ARG
	// expansion; ImageKnown is false when variables in it have no value.
	Image      string
	ImageKnown bool
	// StageUnknown is true when a FROM of the chain names a stage through
	// variables without a value, so the chain is not known.
	StageUnknown bool
	Facts        registry.ImageFacts
	HasFacts     bool
	// Sets are the USER instructions of the chain in order.
	Sets []userSet
	// Created are the users and groups created along the chain, and in
	// stages whose /etc/passwd the chain copies.
	Created []createdUser
	// UnknownCreation is true when a user or group is created whose name
	// or id could not be read.
	UnknownCreation bool
	// Owners are the users files are handed to (chown, COPY --chown),
	// with the instruction that does it.
	Owners []owner
	// PackageManagers used by RUN along the chain.
	PackageManagers map[string]bool
	// Sudo lists RUN instructions that call sudo, SudoInstall those that
	// install it.
	Sudo, SudoInstall []*rewrite.Instruction
	// SudoBeforeRoot is the first RUN calling sudo when no RUN before it
	// has shown the build runs as root (a package manager without sudo).
	SudoBeforeRoot *rewrite.Instruction
	// rootShown is true once a RUN shows the build runs as root (a
	// package manager or useradd without sudo).
	rootShown bool
	// Dropper names a privilege-dropping tool the image installs or calls
	// (gosu, su-exec, ...), with where it was seen.
	Dropper     string
	DropperLine int
	// WorldWritable lists chmod 777-style RUNs along the final stage.
	WorldWritable []*rewrite.Instruction
	// Daemon names a root daemon the container starts, with where, and
	// DaemonArgs are its arguments; Daemons are all it starts, the first
	// included, each name once.
	Daemon     string
	DaemonLine int
	DaemonArgs []string
	Daemons    []string
	// ScriptChown names an entrypoint script (from the build context) that
	// changes file owners or modes when the container starts.
	ScriptChown     string
	ScriptChownLine int
	// RootHome lists instructions that put files under /root.
	RootHome []*rewrite.Instruction
	// Blockers are root work a USER would break (nonroot_blockers.go).
	Blockers []blocker
	// buildTools are the tools RUN used that cache downloads in root's
	// home, with where (nonroot_blockers.go).
	buildTools map[string]string
	// portSet is true when ENV sets the listen port (PORT,
	// ASPNETCORE_URLS, ...), overriding the base image's default.
	portSet bool
	// windowsShell and windowsPath are the kinds of Windows evidence seen:
	// a Windows SHELL, Windows paths (C:\...).
	windowsShell, windowsPath bool

	// Workdir is the chain's last WORKDIR, where the process starts, and
	// WorkdirPath its path ("" when variables in it have no value).
	Workdir     *rewrite.Instruction
	WorkdirPath string
	workdirBase string
	// madeDirs, openDirs, filled, envValues and runtimeScripts are what
	// emptyDataDir reads (datadirs.go).
	madeDirs       []madeDir
	openDirs       []string
	openExact      []string
	filled         []string
	envValues      []string
	runtimeScripts []runtimeScript
	// runtimeConfigs are the build-context configuration files the command
	// names (-config.file=/etc/app/config.yaml), which missingStateDir reads.
	runtimeConfigs []runtimeScript
	// Exposes and Volumes are the final stage's EXPOSE and VOLUME
	// instructions with their values expanded.
	Exposes, Volumes []expanded

	entrypoint, cmd         *rewrite.Instruction
	entrypointLine, cmdLine []string
}

type expanded struct {
	In     *rewrite.Instruction
	Values []string
}

type owner struct {
	Spec  userspec.Spec
	Paths []string
	In    *rewrite.Instruction
}

// analyzeStage walks the chain of stage i once, in order, with the
// variables VarsAt gives each instruction.
func analyzeStage(d *rewrite.Document, env *rewrite.Env, i int) *stageAnalysis {
	a := &stageAnalysis{PackageManagers: map[string]bool{}}
	a.Chain, a.Image, a.ImageKnown = d.StageChain(i)
	if root := a.Chain[0]; a.ImageKnown && buildTimeOnly(d, d.Stages[root].BaseName) {
		a.Image, a.ImageKnown = d.Stages[root].BaseName, false
	}
	if root := a.Chain[0]; !a.ImageKnown && d.MaybeStage(d.Stages[root].BaseName, root) {
		a.StageUnknown = true
	}
	if a.ImageKnown {
		a.Facts, a.HasFacts = imageref.Facts(env, a.Image)
	}
	stages := d.InstructionsByStage()
	scanned := map[int]bool{}
	for _, s := range a.Chain {
		scanned[s] = true
		for _, in := range stages[s] {
			a.scan(d, in, s == i, d.VarsAt(in))
		}
	}
	if a.HasFacts && a.Facts.AppUIDEnv != "" && a.Facts.AppUID > 0 {
		// USER $APP_UID on .NET 8+: the base image's ENV gives its value.
		a.resolveImageEnv(d, map[string]string{a.Facts.AppUIDEnv: strconv.Itoa(a.Facts.AppUID)})
	}
	if a.entrypoint != nil {
		a.scanRuntime(d, env, a.entrypoint, a.entrypointLine)
	}
	if a.cmd != nil {
		a.scanRuntime(d, env, a.cmd, a.cmdLine)
	}
	// Users created in a stage whose /etc/passwd the chain copies exist
	// in this stage too (the scratch + passwd pattern).
	for _, s := range a.Chain {
		for _, in := range stages[s] {
			c, ok := in.Command.(*instructions.CopyCommand)
			if !ok || c.From == "" || !copiesPasswd(c) {
				continue
			}
			src := d.StageRef(c.From, s)
			if src < 0 {
				continue
			}
			other, _, _ := d.StageChain(src)
			for _, o := range other {
				for _, oin := range stages[o] {
					if run, ok := oin.Command.(*instructions.RunCommand); ok && !scanned[o] {
						a.scanCreations(d, oin, run, d.VarsAt(oin))
					}
				}
				scanned[o] = true
			}
		}
	}
	return a
}

func copiesPasswd(c *instructions.CopyCommand) bool {
	for _, s := range c.SourcePaths {
		if s == "/etc/passwd" || s == "etc/passwd" {
			return true
		}
	}
	return false
}

// expandWord expands a word with vars; ok is false when a variable has no
// known value.
func expandWord(d *rewrite.Document, w string, vars rewrite.Vars) (string, bool) {
	if !strings.ContainsRune(w, '$') {
		return w, true
	}
	out, unset, err := d.Expand(w, vars)
	if err != nil || len(unset) > 0 {
		return w, false
	}
	return out, true
}

// scan records what one instruction of the chain tells.
func (a *stageAnalysis) scan(d *rewrite.Document, in *rewrite.Instruction, final bool, vars rewrite.Vars) {
	a.scanBlockers(d, in, vars)
	switch c := in.Command.(type) {
	case *instructions.UserCommand:
		// Expanded the way BuildKit does (quotes too), not as a shell word.
		text, unset, err := d.Expand(c.User, vars)
		ok := err == nil && len(unset) == 0
		if !ok {
			text = c.User
		}
		a.Sets = append(a.Sets, userSet{In: in, Spec: userspec.Parse(text, ok)})
	case *instructions.RunCommand:
		a.scanCreations(d, in, c, vars)
		for _, script := range runScripts(c) {
			for _, cmd := range shellCommands(script) {
				a.scanBlockerCommand(in, cmd, vars)
				a.scanCommand(d, in, cmd, vars, final)
			}
		}
	case *instructions.EnvCommand:
		a.scanEnvPaths(d, c, vars)
	case *instructions.CopyCommand:
		a.scanCopyDest(d, c.DestPath, vars)
		a.scanWindowsPaths(append([]string{c.DestPath}, c.SourcePaths...))
		if final && (c.DestPath == "/root" || strings.HasPrefix(c.DestPath, "/root/")) {
			a.RootHome = appendOnce(a.RootHome, in)
		}
		if c.Chown != "" {
			text, ok := expandWord(d, c.Chown, vars)
			a.Owners = append(a.Owners, owner{Spec: userspec.Parse(text, ok), Paths: []string{c.DestPath}, In: in})
		}
	case *instructions.AddCommand:
		a.scanCopyDest(d, c.DestPath, vars)
		if c.Chown != "" {
			text, ok := expandWord(d, c.Chown, vars)
			a.Owners = append(a.Owners, owner{Spec: userspec.Parse(text, ok), Paths: []string{c.DestPath}, In: in})
		}
		for _, s := range c.SourcePaths {
			if strings.Contains(s, "s6-overlay") {
				a.dropper("s6-overlay", in.Line)
			}
		}
	case *instructions.ShellCommand:
		for _, w := range c.Shell {
			if isWindowsShell(w) {
				a.windowsShell = true
			}
		}
	case *instructions.WorkdirCommand:
		if windowsPath(c.Path) {
			a.windowsPath = true
		}
		a.Workdir, a.WorkdirPath = in, ""
		if wd, ok := expandWord(d, c.Path, vars); ok {
			if !path.IsAbs(wd) && a.workdirBase != "" {
				wd = path.Join(a.workdirBase, wd)
			}
			a.WorkdirPath = path.Clean(wd)
			a.madeDirs = append(a.madeDirs, madeDir{a.WorkdirPath, in, "WORKDIR"})
		}
		a.workdirBase = a.WorkdirPath
	case *instructions.ExposeCommand:
		if final {
			var ports []string
			for _, w := range d.Words(in.ArgsSpan) {
				if v, ok := expandWord(d, w.Value, vars); ok {
					ports = append(ports, v)
				}
			}
			a.Exposes = append(a.Exposes, expanded{in, ports})
		}
	case *instructions.VolumeCommand:
		if final {
			var paths []string
			for _, v := range c.Volumes {
				if p, ok := expandWord(d, v, vars); ok {
					paths = append(paths, p)
				}
			}
			a.Volumes = append(a.Volumes, expanded{in, paths})
		}
	case *instructions.EntrypointCommand:
		a.entrypoint, a.entrypointLine = in, c.CmdLine
		a.scanWindowsPaths(c.CmdLine)
	case *instructions.CmdCommand:
		a.cmd, a.cmdLine = in, c.CmdLine
		a.scanWindowsPaths(c.CmdLine)
	}
}

// windowsPath reports a drive-letter path (C:\app, c:/app).
func windowsPath(p string) bool {
	return len(p) >= 3 && p[1] == ':' && (p[2] == '\\' || p[2] == '/') &&
		(p[0] >= 'a' && p[0] <= 'z' || p[0] >= 'A' && p[0] <= 'Z')
}

func (a *stageAnalysis) scanWindowsPaths(words []string) {
	for _, w := range words {
		for _, f := range strings.Fields(w) {
			if windowsPath(strings.Trim(f, `"'`)) {
				a.windowsPath = true
			}
		}
	}
}

func isWindowsShell(w string) bool {
	w = strings.ToLower(path.Base(strings.ReplaceAll(w, `\`, "/")))
	return w == "powershell" || w == "pwsh" || w == "cmd" || w == "powershell.exe" || w == "pwsh.exe" || w == "cmd.exe"
}

// droppers are programs an entrypoint uses to start as root and switch to
// a service user itself.
var droppers = []string{"gosu", "su-exec", "setpriv", "runuser", "s6-setuidgid", "chpst", "setuidgid"}

func (a *stageAnalysis) dropper(name string, line int) {
	if a.Dropper == "" {
		a.Dropper, a.DropperLine = name, line
	}
}

var packageManagers = map[string]string{
	"apt-get": "apt", "apt": "apt", "aptitude": "apt", "dpkg": "apt",
	"apk": "apk",
	"dnf": "dnf", "yum": "yum", "microdnf": "microdnf", "rpm": "rpm",
	"zypper": "zypper", "tdnf": "tdnf",
}

func (a *stageAnalysis) scanCommand(d *rewrite.Document, in *rewrite.Instruction, cmd rewrite.ShellCommand, vars rewrite.Vars, final bool) {
	name := cmd.Program()
	if pm, ok := packageManagers[name]; ok && pm != "rpm" {
		a.PackageManagers[pm] = true
		if !cmd.Sudo() {
			a.rootShown = true
		}
	}
	if cmd.Sudo() {
		a.Sudo = appendOnce(a.Sudo, in)
		if !a.rootShown && a.SudoBeforeRoot == nil {
			a.SudoBeforeRoot = in
		}
	}
	// The program, its arguments and its redirection targets (see words),
	// read in place.
	first := true
	for _, ws := range [2][]rewrite.Word{cmd.Argv(), cmd.Redirects} {
		for _, x := range ws {
			w := x.Value
			base := path.Base(w)
			for _, dr := range droppers {
				if base == dr || strings.HasPrefix(base, dr+"-") || strings.HasPrefix(base, dr+"_") {
					a.dropper(dr, in.Line)
				}
			}
			if strings.Contains(w, "s6-overlay") {
				a.dropper("s6-overlay", in.Line)
			}
			if final && !removesOrInspects[name] && (w == "/root" || strings.HasPrefix(w, "/root/") || strings.HasPrefix(w, "~/")) {
				a.RootHome = appendOnce(a.RootHome, in)
			}
			// `apt-get install sudo` installs sudo for later use.
			if w == "sudo" && !first && isInstall(cmd) {
				a.SudoInstall = appendOnce(a.SudoInstall, in)
			}
			first = false
		}
	}
	a.scanFill(d, cmd, vars)
	switch name {
	case "mkdir":
		a.scanMkdir(d, in, cmd, vars)
	case "chown":
		opts, pos := parseOpts(argsOf(cmd), map[string]bool{"from": true, "reference": true})
		if _, ref := opts["reference"]; ref || len(pos) < 2 {
			return
		}
		text, ok := expandWord(d, pos[0], vars)
		if u, g, dot := strings.Cut(text, "."); dot && !strings.Contains(text, ":") {
			text = u + ":" + g // the old user.group form
		}
		spec := userspec.Parse(text, ok)
		if spec.User == "" {
			return // ":group" changes only the group
		}
		var paths []string
		for _, p := range pos[1:] {
			if v, ok := expandWord(d, p, vars); ok {
				paths = append(paths, v)
			}
		}
		a.Owners = append(a.Owners, owner{Spec: spec, Paths: paths, In: in})
	case "chmod":
		opts, pos := parseOpts(argsOf(cmd), map[string]bool{"reference": true})
		a.scanChmodOpen(d, opts, pos, vars)
		if !final {
			return
		}
		if len(pos) > 0 && worldWritable(pos[0]) {
			a.WorldWritable = appendOnce(a.WorldWritable, in)
		}
	}
}

// removesOrInspects are commands whose /root arguments put nothing there.
var removesOrInspects = setOf("rm", "rmdir", "unlink", "chmod", "chown", "ls", "test", "[", "stat")

func isInstall(cmd rewrite.ShellCommand) bool {
	for _, w := range argsOf(cmd) {
		if w == "install" || w == "add" {
			return true
		}
	}
	return false
}

// worldWritable reports whether a chmod mode gives write to others: 777,
// 1777 is left alone (sticky /tmp-like directories are meant for it).
func worldWritable(mode string) bool {
	if n, err := strconv.ParseUint(mode, 8, 32); err == nil {
		return n&0o002 != 0 && n&0o1000 == 0
	}
	for _, part := range strings.Split(mode, ",") {
		who, perm, ok := strings.Cut(part, "+")
		if !ok {
			who, perm, ok = strings.Cut(part, "=")
		}
		if ok && (who == "" || strings.ContainsAny(who, "oa")) && strings.Contains(perm, "w") {
			return true
		}
	}
	return false
}

func appendOnce(list []*rewrite.Instruction, in *rewrite.Instruction) []*rewrite.Instruction {
	if len(list) > 0 && list[len(list)-1] == in {
		return list
	}
	return append(list, in)
}

func setOf(names ...string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return m
}

// RunsAs says whether the last stage runs as "root", "non-root" or
// "unknown", by the same analysis the rule uses.
func RunsAs(d *rewrite.Document, env *rewrite.Env) string {
	a := analyzeStage(d, env, len(d.Stages)-1)
	if len(a.Sets) > 0 {
		s := a.Sets[len(a.Sets)-1].Spec
		switch {
		case !s.Known:
			return "unknown"
		case s.Root():
			return "root"
		}
		return "non-root"
	}
	if a.HasFacts && a.Facts.NonRoot() {
		return "non-root"
	}
	return "root"
}

// ImageFacts returns the facts the rule goes by for a base image: those
// env.Images (else the catalog) has, with the built-in ones that make the
// rule more careful (official images that drop privileges, Windows and
// LinuxServer.io bases) over them. A census of the rule's results uses it
// to see an image as the rule does.
func ImageFacts(env *rewrite.Env, image string) (registry.ImageFacts, bool) {
	return imageref.Facts(env, image)
}
