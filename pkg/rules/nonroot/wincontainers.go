package nonroot

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/hardenfix/hardenfix/pkg/rules/internal/buildctx"
)

// This file is the non-root rule on Windows images. Every Windows base
// image has two built-in accounts: ContainerAdministrator, the
// administrator (Server Core's and Server's default), and ContainerUser,
// which has no administrator rights (Nano Server's default). USER names
// one of them; there are no uids and no useradd.

// windowsUser is the non-administrator account of Windows base images.
const windowsUser = "ContainerUser"

// decideWindows is decide for a stage that is (or may be) a Windows image;
// why says how the rule knows. last is the chain's last USER, nil when
// none.
func (p *nonRootPlan) decideWindows(why string, last *userSet) bool {
	a, from := p.a, p.instrs[0]
	certain := a.HasFacts && a.Facts.Family == "windows" || strings.HasPrefix(strings.ToLower(p.platform()), "windows")
	if !certain {
		p.note(from.Line, "%s: USER names a Windows account there, so nothing was changed; if it is Windows, add USER %s (the non-administrator account of Windows base images) after the last build step", why, windowsUser)
		return false
	}
	p.windowsOS = true
	switch {
	case last != nil && !last.Spec.Root():
		// A non-administrator set by an earlier stage (the final stage's own
		// non-root USER returned already).
		p.spec = last.Spec.Text
		p.userWhy = fmt.Sprintf("the stage inherits USER %s from stage %s (line %d) without saying so; state it, so scanners see it and the promise survives a change of that stage", last.Spec.Text, p.stageLabel(last.In.Stage), last.In.Line)
		return true
	case last == nil && a.HasFacts && a.Facts.NonRoot():
		p.spec = a.Facts.User
		p.userWhy = fmt.Sprintf("%s already runs as %s, the non-administrator account of Windows images; state it, so scanners see it and the promise survives a change of base image", a.Image, p.spec)
		return true
	case last == nil && !(a.HasFacts && strings.EqualFold(a.Facts.User, "ContainerAdministrator")):
		p.note(from.Line, "%s: which account %s runs as is not known (ContainerAdministrator on Server Core, %s on Nano Server, or one of its own), so no USER was added; if it runs as ContainerAdministrator, add USER %s after the last build step", why, imageOr(a), windowsUser, windowsUser)
		return false
	}
	// The stage runs as ContainerAdministrator: the base image's default
	// or a USER of the chain.
	if p.onbuildOnly() || p.windowsNeedsAdmin() || p.windowsBlocked() || p.blocked() {
		return false
	}
	p.changes = true
	p.reused = true // ContainerUser is in every Windows base image
	p.spec = windowsUser
	was := "ContainerAdministrator"
	if last != nil {
		was = fmt.Sprintf("ContainerAdministrator (USER on line %d)", last.In.Line)
	} else {
		was = fmt.Sprintf("ContainerAdministrator, %s's default", a.Image)
	}
	p.userWhy = fmt.Sprintf("the final stage ran as %s, the administrator of Windows containers; run it as %s, the built-in account without administrator rights, after the last build step: installers, registry and IIS configuration in RUN keep running as the administrator", was, windowsUser)
	return true
}

// windowsAdminRE matches commands that need the administrator: installers,
// Windows features, the machine registry and environment, services, IIS
// configuration and the ACLs of system folders.
var windowsAdminRE = regexp.MustCompile(`(?i)\b(choco(\.exe)?\s+(install|upgrade|uninstall)\b|msiexec\b|Install-WindowsFeature\b|Add-WindowsFeature\b|Enable-WindowsOptionalFeature\b|Disable-WindowsOptionalFeature\b|dism(\.exe)?\s|` +
	`(Set|New|Remove)-ItemProperty\b[^\n]*HKLM|reg(\.exe)?\s+(add|delete|import)\s+['"]?(HKLM|HKEY_LOCAL_MACHINE)|setx(\.exe)?\b[^\n]*\s/M\b|SetEnvironmentVariable\([^)]*Machine|` +
	`icacls(\.exe)?\s+['"]?C:\\(Windows|Program Files)|Import-Module\s+WebAdministration|New-WebSite\b|New-WebAppPool\b|New-WebBinding\b|Set-WebConfiguration|Set-WebConfigurationProperty|appcmd(\.exe)?\b|` +
	`ServiceMonitor(\.exe)?\b|w3svc\b|Start-Service\b|Set-Service\b|New-Service\b|sc(\.exe)?\s+(config|create|start)\b|net\s+start\b|net\s+user\b[^\n]*/add|New-LocalUser\b|Add-LocalGroupMember\b|netsh\b)`)

// iisRE matches the signs of an IIS site: IIS installed or configured,
// or ServiceMonitor.exe watching W3SVC.
var iisRE = regexp.MustCompile(`(?i)ServiceMonitor(\.exe)?\b|\bw3svc\b|IIS-WebServerRole|Web-Server\b|Import-Module\s+WebAdministration|\bappcmd(\.exe)?\b|New-WebSite\b`)

// windowsNeedsAdmin notes a container that needs the administrator at run
// time: IIS (ServiceMonitor.exe), or a command (or a script it runs) doing
// administrator work when it starts.
func (p *nonRootPlan) windowsNeedsAdmin() bool {
	a := p.a
	var runtime []*rewrite.Instruction
	for _, in := range []*rewrite.Instruction{a.entrypoint, a.cmd} {
		if in != nil {
			runtime = append(runtime, in)
		}
	}
	for _, in := range runtime {
		if m := iisRE.FindString(in.Span.Text(p.d.Src)); m != "" {
			p.note(in.Line, "the container starts IIS (%s names %s): ServiceMonitor.exe starts and watches the W3SVC service, which needs ContainerAdministrator, so no USER was added; the sites themselves already run as their application pool identity (IIS AppPool\\DefaultAppPool), not as the container's user", in.Keyword, m)
			return true
		}
	}
	for _, s := range p.chainStages() {
		for _, in := range p.d.Stage(s) {
			if _, ok := in.Command.(*instructions.RunCommand); !ok {
				continue
			}
			if m := iisRE.FindString(in.Span.Text(p.d.Src)); m != "" && a.entrypoint == nil {
				p.note(in.Line, "the build installs or configures IIS (%s), and IIS's W3SVC service runs under ContainerAdministrator, so no USER was added; the sites already run as their application pool identity", m)
				return true
			}
		}
	}
	if a.HasFacts && a.Facts.NeedsRoot && a.entrypoint == nil {
		p.note(p.instrs[0].Line, "%s runs IIS: its ENTRYPOINT, ServiceMonitor.exe w3svc, starts and watches the W3SVC service, which needs ContainerAdministrator, so no USER was added; the sites already run as their application pool identity (IIS AppPool\\DefaultAppPool), not as the container's user", a.Image)
		return true
	}
	for _, in := range runtime {
		text := in.Span.Text(p.d.Src)
		if m := windowsAdminRE.FindString(text); m != "" {
			p.note(in.Line, "%s runs %s when the container starts, which needs the administrator (ContainerAdministrator), so no USER was added; move that work into a RUN step, then run hardenfix again", in.Keyword, strings.TrimSpace(m))
			return true
		}
		for _, script := range p.windowsScripts(in) {
			for i, line := range strings.Split(script.text, "\n") {
				if strings.HasPrefix(strings.TrimSpace(line), "#") || !windowsAdminRE.MatchString(line) {
					continue
				}
				p.note(in.Line, "%s runs %s, whose line %d (%s) needs the administrator (ContainerAdministrator) when the container starts, so no USER was added; move that work into a RUN step, then run hardenfix again", in.Keyword, script.name, i+1, shorten(strings.TrimSpace(line), 80))
				return true
			}
		}
	}
	return false
}

// windowsBlocked notes what keeps a Windows container on the administrator
// that the Linux checks do not see: a bare shell as the command (a base or
// toolchain image), and volumes ContainerUser was given no rights to.
func (p *nonRootPlan) windowsBlocked() bool {
	a := p.a
	var words []string
	for _, line := range [][]string{a.entrypointLine, a.cmdLine} {
		words = append(words, strings.Fields(strings.Join(line, " "))...)
	}
	if len(words) > 0 {
		first := strings.ToLower(path.Base(strings.ReplaceAll(strings.Trim(words[0], `"'`), `\`, "/")))
		first = strings.TrimSuffix(first, ".exe")
		if (first == "cmd" || first == "powershell" || first == "pwsh") && windowsBareShell(words[1:]) {
			in := a.cmd
			if in == nil {
				in = a.entrypoint
			}
			p.note(in.Line, "the container starts %s and nothing else: this is a base or toolchain image, which others extend with RUN steps that need the administrator (or use interactively); no USER was added, set it in the images built on it", strings.Join(words, " "))
			return true
		}
	}
	for _, c := range []struct {
		in   *rewrite.Instruction
		line []string
	}{{a.entrypoint, a.entrypointLine}, {a.cmd, a.cmdLine}} {
		if c.in == nil {
			continue
		}
		for _, w := range strings.Fields(strings.Join(c.line, " ")) {
			name := strings.ToLower(path.Base(strings.ReplaceAll(strings.Trim(w, `"'`), `\`, "/")))
			name = strings.TrimSuffix(name, ".exe")
			if rootDaemons[name] || windowsServers[name] {
				p.note(c.in.Line, "the container starts %s, a server that writes its logs, pid file and data in folders the administrator created, which %s may not change, so no USER was added; grant it those folders in the build (RUN icacls FOLDER /grant %s:(OI)(CI)M), then add USER %s", name, windowsUser, windowsUser, windowsUser)
				return true
			}
		}
	}
	if p.frameworkListener() {
		return true
	}
	for _, v := range a.Volumes {
		for _, vol := range v.Values {
			if !p.windowsGranted(vol) {
				p.note(v.In.Line, "VOLUME %s: the process probably writes there, and %s may only read what the administrator created; grant it in the build (RUN icacls %s /grant %s:(OI)(CI)M), then run hardenfix again", vol, windowsUser, winPath(vol), windowsUser)
				return true
			}
		}
	}
	return false
}

// shorten cuts s to at most n bytes, marking the cut.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// winPath writes a path the way Windows commands take it: WORKDIR /app is
// C:\app in a Windows container.
func winPath(p string) string {
	if strings.HasPrefix(p, "/") {
		p = "C:" + p
	}
	return strings.ReplaceAll(p, "/", `\`)
}

// windowsServers are servers Windows images run that keep their state in
// their own install folders, besides the daemons of rootDaemons.
var windowsServers = setOf("mysqld", "postgres", "pg_ctl", "redis-server", "mongod", "sqlservr", "memcached", "rabbitmq-server", "elasticsearch")

// windowsBareShell reports the arguments of a shell that runs no program:
// none, or only options (-NoLogo, -NoExit, /K).
func windowsBareShell(args []string) bool {
	for _, w := range args {
		if !strings.HasPrefix(w, "-") && !strings.HasPrefix(w, "/") {
			return false
		}
		switch strings.ToLower(w) {
		case "-command", "-c", "-file", "-f", "/c", "-encodedcommand", "-e":
			return false
		}
	}
	return true
}

// windowsGranted reports whether a RUN of the chain grants ContainerUser
// (or Users, Everyone, Authenticated Users) rights on dir or a folder
// above it with icacls.
func (p *nonRootPlan) windowsGranted(dir string) bool {
	norm := func(s string) string {
		s = strings.ToLower(winPath(strings.Trim(s, `"'`)))
		return strings.TrimSuffix(s, `\`)
	}
	want := norm(dir)
	for _, s := range p.chainStages() {
		for _, in := range p.d.Stage(s) {
			if _, ok := in.Command.(*instructions.RunCommand); !ok {
				continue
			}
			for _, m := range icaclsGrantRE.FindAllStringSubmatch(in.Span.Text(p.d.Src), -1) {
				if g := norm(m[1]); g == want || strings.HasPrefix(want, g+`\`) {
					return true
				}
			}
		}
	}
	return false
}

var icaclsGrantRE = regexp.MustCompile(`(?i)icacls(?:\.exe)?\s+("[^"]+"|\S+)[^\n&|;]*/grant(?::r)?\s+['"]?(?:ContainerUser|Users|BUILTIN\\Users|Everyone|Authenticated Users|\*S-1-5-32-545|\*S-1-1-0)`)

// chainStages is the final stage's chain, root first.
func (p *nonRootPlan) chainStages() []int { return p.a.Chain }

type windowsScript struct{ name, text string }

// windowsScripts returns the build-context scripts (.ps1, .cmd, .bat) an
// ENTRYPOINT or CMD runs, when the chain copies them from the context.
// Windows names are matched without regard to case.
func (p *nonRootPlan) windowsScripts(in *rewrite.Instruction) []windowsScript {
	if p.buildContext == nil {
		return nil
	}
	var out []windowsScript
	seen := map[string]bool{}
	for _, w := range strings.Fields(in.Span.Text(p.d.Src)) {
		w = strings.Trim(w, `"'[],`)
		base := strings.ToLower(path.Base(strings.ReplaceAll(strings.ReplaceAll(w, `\\`, "/"), `\`, "/")))
		if !strings.HasSuffix(base, ".ps1") && !strings.HasSuffix(base, ".cmd") && !strings.HasSuffix(base, ".bat") || seen[base] {
			continue
		}
		seen[base] = true
		if text := p.windowsContextFile(base); text != "" {
			out = append(out, windowsScript{base, text})
		}
	}
	return out
}

// windowsContextFile reads the context file the chain copies under the base
// name base (any case), or "".
func (p *nonRootPlan) windowsContextFile(base string) string {
	for _, s := range p.chainStages() {
		for _, in := range p.d.Stage(s) {
			for _, src := range contextSources(in) {
				src = strings.ReplaceAll(src, `\`, "/")
				if strings.Contains(src, "://") || strings.ContainsAny(src, "*?[$") {
					continue
				}
				if strings.EqualFold(path.Base(src), base) {
					if text := buildctx.ReadFile(p.buildContext, src); text != "" {
						return text
					}
				}
			}
		}
	}
	return ""
}

// windowsRuntimeNotes are the notes that come with USER ContainerUser.
func (p *nonRootPlan) windowsRuntimeNotes() {
	a := p.a
	if in, wd := a.Workdir, a.WorkdirPath; in != nil && wd != "" && !p.windowsGranted(wd) {
		p.note(in.Line, "%s can read and run what the build put under %s but not change it; if the app writes there (logs, uploads, caches, its configuration), grant it in the build: RUN icacls %s /grant %s:(OI)(CI)M", windowsUser, wd, winPath(wd), windowsUser)
	}
}

// urlaclRE matches a URL reservation made in the build.
var urlaclRE = regexp.MustCompile(`(?i)netsh(\.exe)?\s+http\s+add\s+urlacl\b`)

// frameworkListener notes a .NET Framework app that listens (EXPOSE) with
// no URL reservation in the build: such apps listen through HTTP.sys
// (HttpListener, self-hosted WCF or Web API), which lets only the
// administrator bind a URL nobody reserved for the app's user.
func (p *nonRootPlan) frameworkListener() bool {
	a := p.a
	if !(a.HasFacts && strings.Contains(a.Facts.Repository, "/dotnet/framework/")) {
		return false
	}
	for _, s := range p.chainStages() {
		for _, in := range p.d.Stage(s) {
			if _, ok := in.Command.(*instructions.RunCommand); ok && urlaclRE.MatchString(in.Span.Text(p.d.Src)) {
				return false
			}
		}
	}
	for _, e := range a.Exposes {
		if len(e.Values) > 0 {
			p.note(e.In.Line, "EXPOSE %s: a .NET Framework app that listens does so through HTTP.sys (HttpListener, self-hosted WCF or Web API), where only the administrator may bind a URL nobody reserved, so no USER was added; reserve it in the build (RUN netsh http add urlacl url=http://+:PORT/ user=%s), then run hardenfix again", strings.Join(e.Values, " "), windowsUser)
			return true
		}
	}
	return false
}
