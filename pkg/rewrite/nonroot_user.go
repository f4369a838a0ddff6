package rewrite

import (
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/distribution/reference"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/hardenfix/hardenfix/pkg/registry"
)

// This file is the non-root rule's analysis: which user a stage runs as,
// which users the Dockerfile creates or hands files to, and which OS family
// the stage is built on.

// userSpec is the argument of a USER instruction after variable expansion.
type userSpec struct {
	Text        string // "app", "1000:1000"
	User, Group string
	// Known is false when the text uses variables without a known value.
	Known bool
}

func parseUserSpec(text string, known bool) userSpec {
	u, g, _ := strings.Cut(text, ":")
	valid := validAccount.MatchString(u) && (g == "" || validAccount.MatchString(g))
	return userSpec{Text: text, User: u, Group: g, Known: known && valid}
}

// validAccount is what a user or group can be named (or numbered); text
// such as "--" from a malformed --chown is not a user the rule can write.
var validAccount = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*\$?$`)

// Root reports whether the spec names uid 0 (or Windows' administrator).
// Only the user part counts:
// "1000:0" runs as a non-root user in the root group, which is fine.
func (u userSpec) Root() bool {
	// ContainerAdministrator is the administrator of Windows images.
	if u.User == "root" || strings.EqualFold(u.User, "ContainerAdministrator") {
		return true
	}
	n, err := strconv.Atoi(u.User)
	return err == nil && n == 0
}

// Numeric reports whether the user part is a number.
func (u userSpec) Numeric() bool {
	_, err := strconv.Atoi(u.User)
	return err == nil
}

// createdUser is a user (or, with IsGroup, a group) that a RUN creates.
type createdUser struct {
	Name    string // "" when the name uses an unknown variable
	UID     int    // -1 when not given or unknown
	Group   string // primary group name, when given by name
	GID     int    // -1 when not known
	IsGroup bool   // a group creation (groupadd, addgroup)
	In      *Instruction
}

// userSet is a USER instruction and what it sets.
type userSet struct {
	In   *Instruction
	Spec userSpec
}

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
	Sudo, SudoInstall []*Instruction
	// SudoBeforeRoot is the first RUN calling sudo when no RUN before it
	// has shown the build runs as root (a package manager without sudo).
	SudoBeforeRoot *Instruction
	// rootShown is true once a RUN shows the build runs as root (a
	// package manager or useradd without sudo).
	rootShown bool
	// Dropper names a privilege-dropping tool the image installs or calls
	// (gosu, su-exec, ...), with where it was seen.
	Dropper     string
	DropperLine int
	// WorldWritable lists chmod 777-style RUNs along the final stage.
	WorldWritable []*Instruction
	// Daemon names a root daemon the container starts, with where.
	Daemon     string
	DaemonLine int
	// ScriptChown names an entrypoint script (from the build context) that
	// changes file owners or modes when the container starts.
	ScriptChown     string
	ScriptChownLine int
	// RootHome lists instructions that put files under /root.
	RootHome []*Instruction
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
	Workdir     *Instruction
	WorkdirPath string
	workdirBase string
	// Exposes and Volumes are the final stage's EXPOSE and VOLUME
	// instructions with their values expanded.
	Exposes, Volumes []expanded

	entrypoint, cmd         *Instruction
	entrypointLine, cmdLine []string
}

type expanded struct {
	In     *Instruction
	Values []string
}

type owner struct {
	Spec  userSpec
	Paths []string
	In    *Instruction
}

// chainOf returns stage i and the stages it is built FROM, root first, and
// the external image at the root (expanded with the global ARGs).
func (d *Document) chainOf(i int) (chain []int, image string, known bool) {
	seen := map[int]bool{}
	for i >= 0 && !seen[i] {
		seen[i] = true
		chain = append([]int{i}, chain...)
		base, unset, err := d.Expand(d.Stages[i].BaseName, d.GlobalArgs)
		if err != nil {
			return chain, d.Stages[i].BaseName, false
		}
		parent := d.stageNamed(base, i)
		if parent < 0 {
			if len(unset) > 0 && d.maybeStage(d.Stages[i].BaseName, i) {
				// FROM names one of several stages through variables
				// only known at build time: the chain cannot be told.
				return chain, d.Stages[i].BaseName, false
			}
			return chain, base, len(unset) == 0
		}
		i = parent
	}
	return chain, "", false
}

// stageNamed returns the index of the stage before `before` named name
// (case-insensitive, as BuildKit compares), or -1.
func (d *Document) stageNamed(name string, before int) int {
	for j := before - 1; j >= 0; j-- {
		if d.Stages[j].Name != "" && strings.EqualFold(d.Stages[j].Name, name) {
			return j
		}
	}
	return -1
}

var varRef = regexp.MustCompile(`\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*`)

// maybeStage reports whether a FROM name with variables could name a stage
// before `before`, the variables standing for anything
// ("buildkit-$TARGETOS" could be the stage buildkit-linux).
func (d *Document) maybeStage(raw string, before int) bool {
	pattern := strings.ToLower(varRef.ReplaceAllString(raw, "*"))
	if strings.Trim(pattern, "*") == "" {
		return false // nothing but variables: an image as likely as a stage
	}
	for j := before - 1; j >= 0; j-- {
		if ok, _ := path.Match(pattern, strings.ToLower(d.Stages[j].Name)); ok && d.Stages[j].Name != "" {
			return true
		}
	}
	return false
}

// stageRef resolves a COPY --from value (a stage name or index) to a stage
// index before `before`, or -1 for an image.
func (d *Document) stageRef(ref string, before int) int {
	if n, err := strconv.Atoi(ref); err == nil {
		if n >= 0 && n < before {
			return n
		}
		return -1
	}
	return d.stageNamed(ref, before)
}

func (d *Document) fromInstruction(stage int) *Instruction {
	for _, in := range d.Instructions {
		if in.Stage == stage && in.Keyword == "FROM" {
			return in
		}
	}
	return nil
}

// analyzeStage walks the chain of stage i once, in order, with the
// variables VarsAt gives each instruction.
func analyzeStage(d *Document, env *Env, i int) *stageAnalysis {
	a := &stageAnalysis{PackageManagers: map[string]bool{}}
	a.Chain, a.Image, a.ImageKnown = d.chainOf(i)
	if root := a.Chain[0]; a.ImageKnown && d.buildTimeOnly(d.Stages[root].BaseName) {
		a.Image, a.ImageKnown = d.Stages[root].BaseName, false
	}
	if root := a.Chain[0]; !a.ImageKnown && d.maybeStage(d.Stages[root].BaseName, root) {
		a.StageUnknown = true
	}
	if a.ImageKnown {
		a.Facts, a.HasFacts = imageFacts(env, a.Image)
	}
	stages := d.instructionsByStage()
	scanned := map[int]bool{}
	for _, s := range a.Chain {
		scanned[s] = true
		for _, in := range stages[s] {
			a.scan(d, in, s == i, d.VarsAt(in))
		}
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
			src := d.stageRef(c.From, s)
			if src < 0 {
				continue
			}
			other, _, _ := d.chainOf(src)
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

// instructionsByStage groups the instructions by stage, FROM first.
func (d *Document) instructionsByStage() [][]*Instruction {
	out := make([][]*Instruction, len(d.Stages))
	for _, in := range d.Instructions {
		if in.Stage >= 0 && in.Stage < len(out) {
			out[in.Stage] = append(out[in.Stage], in)
		}
	}
	return out
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
func (d *Document) expandWord(w string, vars Vars) (string, bool) {
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
func (a *stageAnalysis) scan(d *Document, in *Instruction, final bool, vars Vars) {
	a.scanBlockers(d, in, vars)
	switch c := in.Command.(type) {
	case *instructions.UserCommand:
		// Expanded the way BuildKit does (quotes too), not as a shell word.
		text, unset, err := d.Expand(c.User, vars)
		ok := err == nil && len(unset) == 0
		if !ok {
			text = c.User
		}
		a.Sets = append(a.Sets, userSet{In: in, Spec: parseUserSpec(text, ok)})
	case *instructions.RunCommand:
		a.scanCreations(d, in, c, vars)
		for _, script := range runScripts(c) {
			for _, cmd := range shellCommands(script) {
				a.scanBlockerCommand(in, cmd, vars)
				a.scanCommand(d, in, cmd, vars, final)
			}
		}
	case *instructions.CopyCommand:
		a.scanWindowsPaths(append([]string{c.DestPath}, c.SourcePaths...))
		if final && (c.DestPath == "/root" || strings.HasPrefix(c.DestPath, "/root/")) {
			a.RootHome = appendOnce(a.RootHome, in)
		}
		if c.Chown != "" {
			text, ok := d.expandWord(c.Chown, vars)
			a.Owners = append(a.Owners, owner{Spec: parseUserSpec(text, ok), Paths: []string{c.DestPath}, In: in})
		}
	case *instructions.AddCommand:
		if c.Chown != "" {
			text, ok := d.expandWord(c.Chown, vars)
			a.Owners = append(a.Owners, owner{Spec: parseUserSpec(text, ok), Paths: []string{c.DestPath}, In: in})
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
		if wd, ok := d.expandWord(c.Path, vars); ok {
			if !path.IsAbs(wd) && a.workdirBase != "" {
				wd = path.Join(a.workdirBase, wd)
			}
			a.WorkdirPath = path.Clean(wd)
		}
		a.workdirBase = a.WorkdirPath
	case *instructions.ExposeCommand:
		if final {
			var ports []string
			for _, w := range d.Words(in.ArgsSpan) {
				if v, ok := d.expandWord(w.Value, vars); ok {
					ports = append(ports, v)
				}
			}
			a.Exposes = append(a.Exposes, expanded{in, ports})
		}
	case *instructions.VolumeCommand:
		if final {
			var paths []string
			for _, v := range c.Volumes {
				if p, ok := d.expandWord(v, vars); ok {
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

func (a *stageAnalysis) scanCommand(d *Document, in *Instruction, cmd shellCmd, vars Vars, final bool) {
	if pm, ok := packageManagers[cmd.Name]; ok && pm != "rpm" {
		a.PackageManagers[pm] = true
		if !cmd.Sudo {
			a.rootShown = true
		}
	}
	if cmd.Sudo || cmd.Name == "sudo" {
		a.Sudo = appendOnce(a.Sudo, in)
		if !a.rootShown && a.SudoBeforeRoot == nil {
			a.SudoBeforeRoot = in
		}
	}
	for _, w := range cmd.Words {
		base := path.Base(w)
		for _, dr := range droppers {
			if base == dr || strings.HasPrefix(base, dr+"-") || strings.HasPrefix(base, dr+"_") {
				a.dropper(dr, in.Line)
			}
		}
		if strings.Contains(w, "s6-overlay") {
			a.dropper("s6-overlay", in.Line)
		}
		if final && !removesOrInspects[cmd.Name] && (w == "/root" || strings.HasPrefix(w, "/root/") || strings.HasPrefix(w, "~/")) {
			a.RootHome = appendOnce(a.RootHome, in)
		}
		// `apt-get install sudo` installs sudo for later use.
		if w == "sudo" && w != cmd.Words[0] && isInstall(cmd) {
			a.SudoInstall = appendOnce(a.SudoInstall, in)
		}
	}
	switch cmd.Name {
	case "chown":
		opts, pos := parseOpts(cmd.Args, map[string]bool{"from": true, "reference": true})
		if _, ref := opts["reference"]; ref || len(pos) < 2 {
			return
		}
		text, ok := d.expandWord(pos[0], vars)
		if u, g, dot := strings.Cut(text, "."); dot && !strings.Contains(text, ":") {
			text = u + ":" + g // the old user.group form
		}
		spec := parseUserSpec(text, ok)
		if spec.User == "" {
			return // ":group" changes only the group
		}
		var paths []string
		for _, p := range pos[1:] {
			if v, ok := d.expandWord(p, vars); ok {
				paths = append(paths, v)
			}
		}
		a.Owners = append(a.Owners, owner{Spec: spec, Paths: paths, In: in})
	case "chmod":
		if !final {
			return
		}
		_, pos := parseOpts(cmd.Args, map[string]bool{"reference": true})
		if len(pos) > 0 && worldWritable(pos[0]) {
			a.WorldWritable = appendOnce(a.WorldWritable, in)
		}
	}
}

// removesOrInspects are commands whose /root arguments put nothing there.
var removesOrInspects = setOf("rm", "rmdir", "unlink", "chmod", "chown", "ls", "test", "[", "stat")

func isInstall(cmd shellCmd) bool {
	for _, w := range cmd.Args {
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

func appendOnce(list []*Instruction, in *Instruction) []*Instruction {
	if len(list) > 0 && list[len(list)-1] == in {
		return list
	}
	return append(list, in)
}

// Daemons that run as root by design when a container starts them: they
// bind privileged ports, write pid files and logs where only root may, or
// switch users themselves. A container whose command starts one is left
// as root, with a note.
var rootDaemons = setOf("nginx", "httpd", "apache2", "apachectl", "apache2ctl", "apache2-foreground",
	"httpd-foreground", "sshd", "supervisord", "cron", "crond", "systemd", "init", "rsyslogd", "postfix",
	"dovecot", "vsftpd", "proftpd", "smbd", "named", "squid", "dnsmasq", "lighttpd", "openvpn", "runsvdir")

// initWrappers start the command that follows them.
var initWrappers = setOf("tini", "dumb-init", "catatonit", "tini-static")

// scanRuntime looks at what the container starts (the effective ENTRYPOINT
// and CMD, and the scripts they run when those come from the build
// context) for privilege droppers and daemons that need root.
func (a *stageAnalysis) scanRuntime(d *Document, env *Env, in *Instruction, cmdLine []string) {
	text := strings.Join(cmdLine, " ")
	for _, cmd := range shellCommands(text) {
		a.runtimeCommand(cmd, in.Line, "")
	}
	a.scanRuntimeBlockers(in, text, "")
	for _, w := range strings.Fields(text) {
		base := path.Base(w)
		if w == "/init" {
			a.dropper("s6-overlay (/init)", in.Line)
		}
		if env.ContextDir == "" || a.Dropper != "" || a.Daemon != "" {
			continue
		}
		if script := a.contextScript(d, env.ContextDir, base); script != "" {
			for _, cmd := range shellCommands(script) {
				a.runtimeCommand(cmd, in.Line, base)
			}
			a.scanRuntimeBlockers(in, script, base)
			if dr := dropperIn(script); dr != "" {
				a.dropper(dr+" (in "+base+")", in.Line)
			}
		}
	}
}

func (a *stageAnalysis) runtimeCommand(cmd shellCmd, line int, script string) {
	name, args := cmd.Name, cmd.Args
	for initWrappers[name] {
		for len(args) > 0 && strings.HasPrefix(args[0], "-") {
			args = args[1:]
		}
		if len(args) == 0 {
			return
		}
		name, args = path.Base(args[0]), args[1:]
	}
	where := ""
	if script != "" {
		where = " (in " + script + ")"
	}
	for _, dr := range droppers {
		if name == dr {
			a.dropper(dr+where, line)
		}
	}
	if script != "" && (name == "chown" || name == "chmod" || name == "chgrp") && a.ScriptChown == "" {
		a.ScriptChown, a.ScriptChownLine = script, line
	}
	if rootDaemons[name] && a.Daemon == "" {
		a.Daemon, a.DaemonLine = name+where, line
	}
}

// contextScript returns the content of a build-context file the chain
// copies into the image under the given base name, or "".
func (a *stageAnalysis) contextScript(d *Document, contextDir, base string) string {
	if base == "" || base == "." || base == "/" {
		return ""
	}
	for _, s := range a.Chain {
		for _, in := range d.Stage(s) {
			var sources []string
			switch c := in.Command.(type) {
			case *instructions.CopyCommand:
				if c.From == "" {
					sources = c.SourcePaths
				}
			case *instructions.AddCommand:
				// A local ADD source is copied like COPY's (URLs and
				// archives do not name a script of the context).
				sources = c.SourcePaths
			}
			for _, src := range sources {
				if strings.Contains(src, "://") || path.Base(src) != base || strings.ContainsAny(src, "*?[$") {
					continue
				}
				if b := readInContext(contextDir, src); b != "" {
					return b
				}
			}
		}
	}
	return ""
}

// readInContext reads a small regular file of the build context, never
// following a symbolic link out of it; "" when there is none.
func readInContext(contextDir, src string) string {
	root, err := filepath.EvalSymlinks(contextDir)
	if err != nil {
		return ""
	}
	rel := path.Clean("/" + src)[1:] // "/x/../.." cannot leave the context
	name, err := filepath.EvalSymlinks(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil || (name != root && !strings.HasPrefix(name, root+string(filepath.Separator))) {
		return ""
	}
	fi, err := os.Stat(name)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() > 1<<20 {
		return ""
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return ""
	}
	return string(b)
}

func dropperIn(script string) string {
	for _, cmd := range shellCommands(script) {
		for _, dr := range droppers {
			if cmd.Name == dr {
				return dr
			}
		}
		if cmd.Name == "su" || cmd.Name == "chroot" {
			for _, w := range cmd.Args {
				if w == "-c" || strings.HasPrefix(w, "--userspec") {
					return cmd.Name
				}
			}
		}
	}
	return ""
}

// Options that take a value, per command, for parseOpts.
var (
	useraddArgs = setOf("b", "c", "d", "e", "f", "g", "G", "k", "K", "p", "R", "P", "s", "u", "Z",
		"base-dir", "comment", "home-dir", "home", "expiredate", "inactive", "gid", "groups", "skel", "key",
		"password", "root", "prefix", "shell", "uid", "selinux-user")
	groupaddArgs     = setOf("g", "K", "p", "R", "P", "U", "gid", "key", "password", "root", "prefix", "users")
	debianAdduserArg = setOf("home", "shell", "gecos", "comment", "ingroup", "gid", "uid", "firstuid",
		"lastuid", "firstgid", "lastgid", "conf", "extrausers", "add-extra-groups-list")
	busyboxAdduserArg = setOf("h", "g", "s", "G", "u", "k")
	busyboxAddgroup   = setOf("g")
)

func setOf(names ...string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return m
}

// scanCreations records the users and groups a RUN creates.
func (a *stageAnalysis) scanCreations(d *Document, in *Instruction, run *instructions.RunCommand, vars Vars) {
	for _, script := range runScripts(run) {
		for _, cmd := range shellCommands(script) {
			u, ok := parseCreation(cmd)
			if !ok {
				continue
			}
			u.In = in
			if !cmd.Sudo {
				a.rootShown = true // creating users takes root
			}
			name, nameOK := d.expandWord(u.Name, vars)
			if !nameOK || name == "" {
				a.UnknownCreation = true
				continue
			}
			u.Name = name
			u.UID = numberOpt(d, u.uidText, vars, &a.UnknownCreation)
			u.GID = numberOpt(d, u.gidText, vars, &a.UnknownCreation)
			if u.groupText != "" {
				if g, ok := d.expandWord(u.groupText, vars); ok {
					if n, err := strconv.Atoi(g); err == nil {
						u.GID = n
					} else {
						u.Group = g
					}
				}
			}
			a.Created = append(a.Created, u.createdUser)
		}
	}
}

func numberOpt(d *Document, text string, vars Vars, unknown *bool) int {
	if text == "" {
		return -1
	}
	v, ok := d.expandWord(text, vars)
	n, err := strconv.Atoi(v)
	if !ok || err != nil || n < 0 {
		*unknown = true
		return -1
	}
	return n
}

type parsedCreation struct {
	createdUser
	uidText, gidText, groupText string
}

// parseCreation reads a useradd, adduser, groupadd or addgroup command.
// Adding an existing user to a group (`adduser USER GROUP` in Debian's
// form, `addgroup USER GROUP`) is not a creation.
func parseCreation(cmd shellCmd) (parsedCreation, bool) {
	var p parsedCreation
	p.UID, p.GID = -1, -1
	switch cmd.Name {
	case "useradd":
		opts, pos := parseOpts(cmd.Args, useraddArgs)
		if len(pos) != 1 {
			return p, false
		}
		p.Name = pos[0]
		p.uidText, _ = optOf(opts, "u", "uid")
		p.groupText, _ = optOf(opts, "g", "gid")
	case "groupadd":
		opts, pos := parseOpts(cmd.Args, groupaddArgs)
		if len(pos) != 1 {
			return p, false
		}
		p.Name, p.IsGroup = pos[0], true
		p.gidText, _ = optOf(opts, "g", "gid")
	case "adduser":
		if debianStyle(cmd.Args) {
			opts, pos := parseOpts(cmd.Args, debianAdduserArg)
			_, group := opts["group"]
			if len(pos) != 1 {
				return p, false
			}
			p.Name = pos[0]
			p.uidText, _ = optOf(opts, "uid")
			if g, ok := optOf(opts, "ingroup"); ok {
				p.groupText = g
			} else if g, ok := optOf(opts, "gid"); ok {
				p.groupText = g
			} else if group {
				p.Group = pos[0]
			}
		} else {
			// `adduser USER GROUP` adds an existing user to a group.
			opts, pos := parseOpts(cmd.Args, busyboxAdduserArg)
			if len(pos) != 1 {
				return p, false
			}
			p.Name = pos[0]
			p.uidText, _ = optOf(opts, "u")
			p.groupText, _ = optOf(opts, "G")
		}
	case "addgroup":
		if debianStyle(cmd.Args) {
			opts, pos := parseOpts(cmd.Args, debianAdduserArg)
			if len(pos) != 1 {
				return p, false
			}
			p.Name, p.IsGroup = pos[0], true
			p.gidText, _ = optOf(opts, "gid")
		} else {
			opts, pos := parseOpts(cmd.Args, busyboxAddgroup)
			if len(pos) != 1 {
				return p, false
			}
			p.Name, p.IsGroup = pos[0], true
			p.gidText, _ = optOf(opts, "g")
		}
	default:
		return p, false
	}
	return p, true
}

// debianStyle tells Debian's adduser/addgroup (long options) from
// BusyBox's (short options).
func debianStyle(args []string) bool {
	for _, a := range args {
		if strings.HasPrefix(a, "--") && len(a) > 2 {
			return true
		}
	}
	return false
}

// users returns the created users (not groups), last created first.
func (a *stageAnalysis) users() []createdUser {
	var out []createdUser
	for i := len(a.Created) - 1; i >= 0; i-- {
		if !a.Created[i].IsGroup {
			out = append(out, a.Created[i])
		}
	}
	return out
}

// gidOf returns the gid of a group created by name, or -1.
func (a *stageAnalysis) gidOf(group string) int {
	for i := len(a.Created) - 1; i >= 0; i-- {
		c := a.Created[i]
		if c.IsGroup && c.Name == group {
			return c.GID
		}
	}
	return -1
}

// imageFacts returns what Env.Images knows about image, else the few facts
// the rule knows without a catalog.
//
// The built-in facts only ever make the rule more careful, so they still
// count over the catalog's: a Windows base, an image that switches user
// itself or one that needs root stays so whatever a catalog row says.
func imageFacts(env *Env, image string) (registry.ImageFacts, bool) {
	builtin, known := builtinFacts(image)
	// Without image facts from the caller, the catalog still knows the
	// verified images (as multi-stage reads it).
	var info registry.ImageInfo = catalogOf(env)
	if env.Images != nil {
		info = env.Images
	}
	f, ok := info.Facts(image)
	if !ok {
		return builtin, known
	}
	if known {
		if builtin.Family == "windows" {
			f.Family, f.Libc, f.PackageManager, f.HasShadowUtils = "windows", "", "", false
		}
		f.DropsPrivileges = f.DropsPrivileges || builtin.DropsPrivileges
		if builtin.NeedsRoot && !f.NeedsRoot {
			f.NeedsRoot, f.NonRootAlt = true, builtin.NonRootAlt
		}
	}
	return f, true
}

// Official images whose entrypoint starts as root and switches to a service
// user itself (gosu, su-exec, setpriv); USER would break their entrypoint
// (chown of the data directory, initdb). Kept until the catalog carries
// DropsPrivileges for them; sources: each image's docker-entrypoint.sh in
// github.com/docker-library.
var dropsPrivileges = setOf("postgres", "mysql", "mariadb", "redis", "mongo", "rabbitmq",
	"cassandra", "couchdb", "influxdb", "zookeeper", "neo4j", "ghost", "redmine", "eclipse-mosquitto")

// Official images that need root by design, with the verified image to use
// instead when one exists.
var needsRoot = map[string]string{
	"nginx": "nginxinc/nginx-unprivileged",
	"httpd": "",
}

// builtinFacts are the facts known without a catalog: scratch, distroless
// (whose tag says whether it is the nonroot variant), .NET chiseled and
// distroless images (their documented app user), Windows bases,
// LinuxServer.io images (s6-overlay) and the official images above. Only facts that make the rule more careful
// come from names; the OS family never does.
func builtinFacts(image string) (registry.ImageFacts, bool) {
	f := registry.ImageFacts{UID: -1}
	if strings.EqualFold(image, "scratch") {
		f.Family, f.UID, f.User = "scratch", 0, "root"
		return f, true
	}
	named, err := reference.ParseNormalizedNamed(image)
	if err != nil {
		return f, false
	}
	domain, repo := reference.Domain(named), reference.Path(named)
	tag := ""
	if t, ok := named.(reference.Tagged); ok {
		tag = t.Tag()
	}
	f.Repository = named.Name()
	lowerRef := strings.ToLower(repo + ":" + tag)
	switch {
	case domain == "gcr.io" && strings.HasPrefix(repo, "distroless/"):
		f.Family, f.HasShell = "distroless", strings.Contains(tag, "debug")
		f.UID, f.User = 0, "root"
		if strings.Contains(tag, "nonroot") {
			f.UID, f.User = 65532, "nonroot"
		}
		return f, true
	case domain == "mcr.microsoft.com" && strings.HasPrefix(repo, "dotnet/") &&
		(strings.Contains(tag, "chiseled") || strings.Contains(tag, "distroless")):
		// .NET's chiseled and distroless images run as their app user:
		// uid 1654 from .NET 8 on.
		f.User = "app"
		if !dotnetBefore8(tag) {
			f.UID = 1654 // 8 and later, and tags without a version (latest)
		}
		return f, true
	case domain == "mcr.microsoft.com" && (strings.HasPrefix(repo, "windows") || strings.Contains(lowerRef, "nanoserver") || strings.Contains(lowerRef, "windowsservercore")),
		domain == "docker.io" && (repo == "microsoft/windowsservercore" || repo == "microsoft/nanoserver"),
		strings.Contains(lowerRef, "nanoserver"), strings.Contains(lowerRef, "windowsservercore"):
		f.Family = "windows"
		return f, true
	case (domain == "ghcr.io" || domain == "lscr.io" || domain == "docker.io") && strings.HasPrefix(repo, "linuxserver/"):
		// LinuxServer.io images start s6-overlay's /init as root, which
		// runs the service as the PUID/PGID user.
		f.DropsPrivileges, f.UID, f.User = true, 0, "root"
		return f, true
	case domain == "docker.io" && strings.HasPrefix(repo, "library/"):
		name := strings.TrimPrefix(repo, "library/")
		if dropsPrivileges[name] {
			f.DropsPrivileges, f.UID, f.User = true, 0, "root"
			return f, true
		}
		if alt, ok := needsRoot[name]; ok {
			f.NeedsRoot, f.NonRootAlt, f.UID, f.User = true, alt, 0, "root"
			return f, true
		}
		// php:*-apache and wordpress (apache variants) run Apache httpd,
		// which binds port 80 as root and drops to www-data.
		if (name == "php" && strings.Contains(tag, "apache")) ||
			(name == "wordpress" && !strings.Contains(tag, "fpm") && !strings.Contains(tag, "cli")) {
			f.NeedsRoot, f.UID, f.User = true, 0, "root"
			return f, true
		}
	}
	return f, false
}
