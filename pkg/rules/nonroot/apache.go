package nonroot

import (
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/hardenfix/hardenfix/pkg/rewrite"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/hardenfix/hardenfix/pkg/registry"
)

// This file is the non-root rule's unprivileged setup for Apache: the
// official httpd image and php:*-apache start Apache as root only to bind
// port 80 (and write a pid file in a root folder); their workers already
// run as www-data. Moving the Listen to 8080 in the image's own
// configuration files (a RUN sed, checked by grep so a change of the base
// image fails the build instead of the container), handing the run-time
// folders the image leaves to root to www-data, and running the whole
// server as www-data keeps every file it serves or writes as it was. The
// facts (files, folders, user) come from the catalog's server rows. The
// user's own copied Apache configuration is read, never edited: one that
// listens below 1024, or logs, locks or writes a pid where www-data
// cannot, leaves the stage as it is, with a note.

// apachePort is the port Apache moves to.
const apachePort = 8080

type apacheMove struct {
	p     *nonRootPlan
	srv   *registry.Server
	uid   int
	ports *portMove
	// confDir is where the image's configuration lives.
	confDir string
	copied  map[string]bool // context files copied as configuration
}

// apacheUnprivileged makes Apache listen on 8080 and run as the image's
// own unprivileged user, or notes why not; true when the fixes are made.
func (p *nonRootPlan) apacheUnprivileged(srv *registry.Server) bool {
	a, from := p.a, p.instrs[0]
	m := &apacheMove{p: p, srv: srv, uid: srv.RunUID, confDir: "/etc/apache2", copied: map[string]bool{}}
	if srv.Kind == "httpd" {
		m.confDir = "/usr/local/apache2/conf"
	}
	if a.Facts.Family == "alpine" && srv.AlpineRunUID > 0 {
		m.uid = srv.AlpineRunUID
	}
	refuse := func(line int, format string, args ...any) bool {
		p.note(line, "%s starts Apache as root to bind port %d, then serves as %s; %s, so Apache was not moved to port %d and no USER was added", a.Image, srv.Port, srv.RunUser, fmt.Sprintf(format, args...), apachePort)
		return false
	}
	if line, why := m.checkStage(); why != "" {
		return refuse(line, "%s", why)
	}
	if line, why := m.configs(); why != "" {
		p.note(line, "%s starts Apache as root to bind port %d; %s; hardenfix changes only the Dockerfile, so Apache was not moved to port %d and no USER was added", a.Image, srv.Port, why, apachePort)
		return false
	}
	if file, why := uncopiedConfig(p.env.BuildContext, m.copied, apacheLowListen); why != "" {
		return refuse(from.Line, "%s in the build context %s, and the Dockerfile does not copy it into %s: it is probably mounted into the container when it runs (a compose volume, a ConfigMap), where %s could not bind that port; move it to %d, then run hardenfix again", file, why, m.confDir, srv.RunUser, apachePort)
	}
	p.baseCommand = true
	if p.blocked() {
		return false
	}
	m.ports = &portMove{p: p, port: apachePort, uid: m.uid, server: "Apache", where: "now"}
	health, line, why := m.ports.healthcheck()
	if why != "" {
		return refuse(line, "%s", why)
	}
	return m.makeFixes(health)
}

// checkStage says why the stage cannot move, with its line: a catalog row
// without the facts, a base stage of its own, a USER of its own, a
// command, privilege dropper, chown at start or RUN the move cannot carry,
// or an ENV that moves Apache's user or run-time folders.
func (m *apacheMove) checkStage() (int, string) {
	p, a, srv := m.p, m.p.a, m.srv
	if srv.RunUser == "" || m.uid <= 0 || len(srv.ConfigFiles) == 0 {
		return p.instrs[0].Line, "the catalog does not name its run user and configuration files"
	}
	if len(a.Chain) != 1 {
		return p.d.From(a.Chain[0]).Line, fmt.Sprintf("the final stage is built on stage %s, whose steps may change Apache's configuration", p.stageLabel(a.Chain[0]))
	}
	for _, in := range p.instrs[1:] {
		if in.Keyword == "USER" {
			return in.Line, "the stage sets USER itself"
		}
	}
	if line, why := m.command(); why != "" {
		return line, why
	}
	if a.Dropper != "" {
		return a.DropperLine, fmt.Sprintf("the image uses %s, which switches users itself", a.Dropper)
	}
	if a.ScriptChown != "" {
		return a.ScriptChownLine, fmt.Sprintf("%s changes file owners when the container starts, which %s may not", a.ScriptChown, srv.RunUser)
	}
	if line, why := m.runs(); why != "" {
		return line, why
	}
	for _, in := range p.instrs[1:] {
		if c, ok := in.Command.(*instructions.EnvCommand); ok {
			for _, kv := range c.Env {
				if strings.HasPrefix(kv.Key, "APACHE_RUN_") || strings.HasPrefix(kv.Key, "APACHE_PID") || strings.HasPrefix(kv.Key, "APACHE_LOCK") || strings.HasPrefix(kv.Key, "APACHE_LOG") {
					return in.Line, fmt.Sprintf("ENV %s changes Apache's run user or run-time folders, which the move relies on", kv.Key)
				}
			}
		}
	}
	return 0, ""
}

// makeFixes sets the plan's fixes for the move: the setup RUN put before
// the USER line, the EXPOSE and HEALTHCHECK edits, and the note about the
// new port; false when the USER is not the one plain insertion the setup
// can join (the note says why).
func (m *apacheMove) makeFixes(health *rewrite.Fix) bool {
	p, a, srv := m.p, m.p.a, m.srv
	p.spec = strconv.Itoa(m.uid)
	p.userWhy = ""
	userFixes := p.fixes()
	if len(userFixes) != 1 || len(userFixes[0].Edits) != 1 || userFixes[0].Edits[0].Start != userFixes[0].Edits[0].End {
		return false // the note says why
	}
	fix := userFixes[0]
	e := &fix.Edits[0]
	run := p.d.Keyword("RUN") + " " + m.setupCommand()
	if strings.HasPrefix(e.New, p.d.Newline) {
		e.New = p.d.Newline + run + e.New
	} else {
		e.New = run + p.d.Newline + e.New
	}
	fix.Risk = rewrite.Review
	fix.Message = fmt.Sprintf("Apache (%s) started as root only to bind port %d: move its Listen and default virtual host to %d in the image's own configuration (checked, so a changed base image fails the build), hand the run-time folders it writes to %s, and run the whole server as %s (uid %d), the user its workers already ran as", a.Image, srv.Port, apachePort, srv.RunUser, srv.RunUser, m.uid)
	fixes := []rewrite.Fix{fix}
	fixes = append(fixes, m.ports.exposeFixes()...)
	if health != nil {
		fixes = append(fixes, *health)
	}
	p.custom = fixes
	p.note(p.instrs[0].Line, "the container now listens on %d instead of %d (Apache runs as %s): publish that port (docker run -p 80:%d, containerPort: %d); redirects Apache builds from its own port name %d unless ServerName or UseCanonicalPhysicalPort says otherwise", apachePort, srv.Port, srv.RunUser, apachePort, apachePort, apachePort)
	return true
}

// setupCommand is the RUN that makes the image's Apache unprivileged.
func (m *apacheMove) setupCommand() string {
	srv := m.srv
	from, to := strconv.Itoa(srv.Port), strconv.Itoa(apachePort)
	files := strings.Join(srv.ConfigFiles, " ")
	cmd := fmt.Sprintf(`sed -ri -e 's/^Listen %s$/Listen %s/' -e 's/^<VirtualHost \*:%s>$/<VirtualHost *:%s>/' %s`, from, to, from, to, files)
	cmd += fmt.Sprintf(` && grep -q '^Listen %s$' %s`, to, srv.ConfigFiles[0])
	if len(srv.ConfigFiles) > 1 {
		cmd += fmt.Sprintf(` && ! grep -q '^<VirtualHost \*:%s>$' %s`, from, strings.Join(srv.ConfigFiles[1:], " "))
	}
	var dirs []string
	for _, d := range srv.RuntimeDirs {
		if !d.Writable {
			dirs = append(dirs, d.Path)
		}
	}
	if len(dirs) > 0 {
		cmd += fmt.Sprintf(" && chown %s:%s %s", srv.RunUser, srv.RunUser, strings.Join(dirs, " "))
	}
	return cmd
}

// command checks that the container runs the image's own Apache start.
func (m *apacheMove) command() (int, string) {
	a := m.p.a
	starts := map[string]bool{"apache2-foreground": true, "httpd-foreground": true}
	if in := a.entrypoint; in != nil {
		line, ok := runArgv(in, a.entrypointLine)
		if !ok || len(line) == 0 || (path.Base(line[0]) != "docker-php-entrypoint" && !starts[path.Base(line[0])]) {
			return in.Line, fmt.Sprintf("the stage sets its own ENTRYPOINT (%s), whose work as %s cannot be checked", strings.Join(a.entrypointLine, " "), m.srv.RunUser)
		}
		if starts[path.Base(line[0])] {
			return 0, ""
		}
	}
	if in := a.cmd; in != nil && len(a.cmdLine) > 0 {
		line, ok := runArgv(in, a.cmdLine)
		if !ok || len(line) == 0 || !starts[path.Base(line[0])] {
			return in.Line, fmt.Sprintf("the container runs %s, not the image's Apache start, and what it does as %s cannot be checked", strings.Join(a.cmdLine, " "), m.srv.RunUser)
		}
	}
	return 0, ""
}

// apacheConfigWords are what a RUN that changes Apache's ports or
// run-time files mentions.
var apacheConfigWords = regexp.MustCompile(`(?i)ports\.conf|000-default|httpd\.conf|\bListen\b|VirtualHost|:80\b|APACHE_RUN_|APACHE_PID|PidFile`)

// runs checks the RUN steps (which still run as root): enabling modules or
// sites is fine, changing ports or the run-time files is not readable.
func (m *apacheMove) runs() (int, string) {
	for _, in := range m.p.instrs[1:] {
		run, ok := in.Command.(*instructions.RunCommand)
		if !ok {
			continue
		}
		for _, script := range runScripts(run) {
			if w := apacheConfigWords.FindString(script); w != "" {
				return in.Line, fmt.Sprintf("a RUN changes Apache's ports or run-time files (%s), which hardenfix cannot read", w)
			}
		}
	}
	return 0, ""
}

// configs reads the Apache configuration the stage copies.
func (m *apacheMove) configs() (int, string) {
	workdir := m.p.a.Facts.WorkingDir
	if workdir == "" {
		workdir = "/"
		if m.srv.Kind == "httpd" {
			workdir = "/usr/local/apache2"
		} else if m.srv.Kind == "apache2" {
			workdir = "/var/www/html"
		}
	}
	return m.p.eachCopy(workdir, m.configCopy)
}

// configCopy checks one COPY or ADD: one into m.confDir must bring files
// from the build context that m.srv.RunUser can read and that listen,
// log and lock where it may.
func (m *apacheMove) configCopy(c stageCopy) (int, string) {
	in := c.In
	if !c.Known {
		return in.Line, fmt.Sprintf("line %d copies into %s, only known at build time", in.Line, c.Dest)
	}
	if !path.IsAbs(c.Full) {
		return in.Line, fmt.Sprintf("line %d copies into %s, relative to a working directory that is not known", in.Line, c.Dest)
	}
	if !(c.Full == m.confDir || strings.HasPrefix(c.Full, m.confDir+"/")) {
		return 0, ""
	}
	files, line, why := m.p.contextConfigs(c, "Apache")
	if why != "" {
		return line, why
	}
	for _, f := range files {
		m.copied[f.Src] = true
		if c.Chmod == "" && f.Mode&0o004 == 0 {
			return in.Line, fmt.Sprintf("%s (mode %o) is not readable by other users, and COPY keeps root as its owner: %s could not read it", f.Src, f.Mode, m.srv.RunUser)
		}
		if why := m.checkConf(f); why != "" {
			return in.Line, why
		}
	}
	return 0, ""
}

// apacheWritable reports paths the run user may write: the run-time
// folders (once handed over) and /tmp.
func (m *apacheMove) writable(p string) bool {
	p = strings.Trim(p, `"`)
	for _, v := range []string{"${APACHE_LOG_DIR}", "${APACHE_RUN_DIR}", "${APACHE_LOCK_DIR}", "|", "syslog", "/proc/self/fd/", "/dev/stdout", "/dev/stderr"} {
		if strings.HasPrefix(p, v) {
			return true
		}
	}
	if !path.IsAbs(p) && m.srv.Kind == "httpd" {
		p = path.Join("/usr/local/apache2", p) // relative to ServerRoot
	}
	dirs := []string{"/tmp"}
	for _, d := range m.srv.RuntimeDirs {
		dirs = append(dirs, d.Path)
	}
	for _, d := range dirs {
		if p == d || strings.HasPrefix(p, d+"/") {
			return true
		}
	}
	return false
}

// checkConf reads one copied Apache configuration file.
func (m *apacheMove) checkConf(f copiedFile) string {
	lines := strings.Split(strings.ReplaceAll(f.Text, "\\\n", " "), "\n")
	var low []string
	for i, raw := range lines {
		line := strings.TrimSpace(raw)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		name := strings.ToLower(fields[0])
		args := fields[1:]
		at := fmt.Sprintf("%s line %d (%s)", f.Src, i+1, line)
		switch name {
		case "listen":
			if len(args) == 0 {
				continue
			}
			port, ok := apachePortOf(args[0], true)
			if !ok {
				return at + " listens on an address only known when the container starts"
			}
			if port < 1024 {
				low = append(low, fmt.Sprintf("%s line %d: Listen %s → Listen %s", f.Src, i+1, args[0], strings.Replace(args[0], strconv.Itoa(port), strconv.Itoa(apachePort), 1)))
			}
		case "<virtualhost":
			for _, addr := range args {
				addr = strings.TrimSuffix(addr, ">")
				port, ok := apachePortOf(addr, false)
				if !ok {
					return at + " names an address only known when the container starts"
				}
				if port > 0 && port < 1024 {
					low = append(low, fmt.Sprintf("%s line %d: <VirtualHost %s> → <VirtualHost %s>", f.Src, i+1, addr, strings.Replace(addr, ":"+strconv.Itoa(port), ":"+strconv.Itoa(apachePort), 1)))
				}
			}
		case "user", "group":
			if len(args) > 0 && args[0] != m.srv.RunUser && args[0] != "${APACHE_RUN_USER}" && args[0] != "${APACHE_RUN_GROUP}" {
				return fmt.Sprintf("%s makes the workers run as %s, which only a root Apache can; as %s their file access would change", at, args[0], m.srv.RunUser)
			}
		case "pidfile", "errorlog", "customlog", "transferlog", "scriptsock", "coredumpdirectory", "defaultruntimedir":
			if len(args) > 0 && !m.writable(args[0]) {
				return fmt.Sprintf("%s writes where %s cannot", at, m.srv.RunUser)
			}
		case "mutex":
			for _, a := range args {
				if dir, ok := strings.CutPrefix(a, "file:"); ok && !m.writable(dir) {
					return fmt.Sprintf("%s keeps its lock files where %s cannot write", at, m.srv.RunUser)
				}
			}
		case "sslcertificatekeyfile":
			return at + " reads a private key, which is often readable by root only"
		}
	}
	if len(low) > 0 {
		return fmt.Sprintf("the copied configuration uses a port below 1024, which %s cannot bind: change %s (and EXPOSE), then run hardenfix again", m.srv.RunUser, strings.Join(low, "; "))
	}
	return ""
}

var (
	apacheListenLine = regexp.MustCompile(`(?im)^\s*Listen\s+(\S+)`)
	apacheVhostLine  = regexp.MustCompile(`(?im)^\s*<VirtualHost\s+([^>]*)>`)
)

// apacheLowListen says which privileged port an Apache configuration
// listens on or names in a virtual host ("" when none).
func apacheLowListen(text string) string {
	for _, m := range apacheListenLine.FindAllStringSubmatch(text, -1) {
		if port, ok := apachePortOf(m[1], true); ok && port > 0 && port < 1024 {
			return fmt.Sprintf("says Listen %s", m[1])
		}
	}
	for _, m := range apacheVhostLine.FindAllStringSubmatch(text, -1) {
		for _, addr := range strings.Fields(m[1]) {
			if port, ok := apachePortOf(addr, false); ok && port > 0 && port < 1024 {
				return fmt.Sprintf("names <VirtualHost %s>", m[1])
			}
		}
	}
	return ""
}

// apachePortOf returns the port of a Listen argument ("80", "0.0.0.0:80",
// "[::]:80") or a VirtualHost address ("*:80", "*": no port, 0). ok is
// false when it uses a variable.
func apachePortOf(addr string, listen bool) (int, bool) {
	if strings.Contains(addr, "${") {
		return 0, false
	}
	if i := strings.LastIndexByte(addr, ':'); i >= 0 && !strings.HasSuffix(addr, "]") {
		addr = addr[i+1:]
	} else if !listen {
		return 0, true // *, _default_, a name: any port
	}
	n, err := strconv.Atoi(addr)
	if err != nil {
		return 0, !listen
	}
	return n, true
}
