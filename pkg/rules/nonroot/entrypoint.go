package nonroot

import (
	"errors"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/hardenfix/hardenfix/pkg/rules/internal/buildctx"
)

// This file reads what the container starts: the effective ENTRYPOINT and
// CMD, the scripts they run from the build context, init wrappers,
// privilege droppers and daemons that need root.

// Daemons that run as root by design when a container starts them: they
// bind privileged ports, write pid files and logs where only root may, or
// switch users themselves. A container whose command starts one is left
// as root, with a note.
var rootDaemons = setOf("nginx", "httpd", "apache2", "apachectl", "apache2ctl", "apache2-foreground",
	"httpd-foreground", "sshd", "supervisord", "s6-svscan", "cron", "crond", "systemd", "init", "rsyslogd", "postfix",
	"dovecot", "vsftpd", "proftpd", "smbd", "named", "squid", "dnsmasq", "lighttpd", "openvpn", "runsvdir",
	"pcscd",
	"sshd.pam",    // Alpine's openssh-server-pam
	"nginx-debug", // the official nginx image's debug build
	"slapd",       // binds 389, then switches with -u
	"certbot",     // writes /etc/letsencrypt and /var/log/letsencrypt, --standalone binds 80
	// FreeRADIUS: the package's configuration is its service user's alone
	// (Debian's /etc/freeradius freerad 0750, Alpine's /etc/raddb group
	// radius), and radiusd switches to that user itself.
	"radiusd", "freeradius",
)

// initWrappers start the command that follows them.
var initWrappers = setOf("tini", "dumb-init", "catatonit", "tini-static")

// scanRuntime looks at what the container starts (the effective ENTRYPOINT
// and CMD, and the scripts they run when those come from the build
// context) for privilege droppers and daemons that need root.
func (a *stageAnalysis) scanRuntime(d *rewrite.Document, env *rewrite.Env, in *rewrite.Instruction, cmdLine []string) {
	text := strings.Join(cmdLine, " ")
	for _, cmd := range shellCommands(text) {
		a.runtimeCommand(cmd, in.Line, "")
	}
	if sudoUserIn(text) != "" { // sudo -u USER: a switch only root makes without a password
		a.dropper("sudo", in.Line)
	}
	a.scanRuntimeBlockers(in, text, "")
	for _, w := range strings.Fields(text) {
		base := path.Base(w)
		if w == "/init" {
			a.dropper("s6-overlay (/init)", in.Line)
		}
		if env.BuildContext == nil || a.Dropper != "" || a.Daemon != "" {
			continue
		}
		if _, v, ok := strings.Cut(w, "="); ok && strings.HasPrefix(w, "-") && path.IsAbs(v) && configFile(v) {
			if text := a.contextFileIn(d, env.BuildContext, path.Clean(v)); text != "" {
				a.runtimeConfigs = append(a.runtimeConfigs, runtimeScript{path.Base(v), text})
			}
		}
		script := a.contextScript(d, env.BuildContext, base)
		if abs := w; script == "" && (path.IsAbs(w) || strings.Contains(w, "/") && a.WorkdirPath != "") {
			if !path.IsAbs(abs) { // ./bootstrap.sh: from the WORKDIR the process starts in
				abs = path.Join(a.WorkdirPath, abs)
			}
			script = a.contextFileIn(d, env.BuildContext, path.Clean(abs))
		}
		if script == "" && strings.HasSuffix(base, ".sh") {
			if src := a.missingContextFile(d, env.BuildContext, base); src != "" {
				a.block(in.Line, "%s runs %s, which the build copies from %s in the build context, but hardenfix found no such file in the context it read, so what the script does, and whether it needs root, cannot be told; no USER was added: run hardenfix with --context set to the folder the image is built from", in.Keyword, w, src)
			}
		}
		if script != "" {
			if strings.HasPrefix(script, "#!") || strings.HasSuffix(base, ".sh") { // not a template or a config file
				a.runtimeScripts = append(a.runtimeScripts, runtimeScript{base, script})
			}
			funcs := scriptFunctions(script)
			for _, cmd := range shellCommands(script) {
				if !funcs[cmd.Program()] { // init() { ...; }; init calls the function
					a.runtimeCommand(cmd, in.Line, base)
				}
			}
			a.scanRuntimeBlockers(in, script, base)
			if dr := dropperIn(script); dr != "" {
				a.dropper(dr+" (in "+base+")", in.Line)
			}
		}
	}
}

func (a *stageAnalysis) runtimeCommand(cmd rewrite.ShellCommand, line int, script string) {
	name, args := cmd.Program(), argsOf(cmd)
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
	if name == "capsh" && capshUser(args) != "" {
		a.dropper("capsh"+where, line)
	}
	if script != "" && (name == "chown" || name == "chmod" || name == "chgrp") && a.ScriptChown == "" {
		a.ScriptChown, a.ScriptChownLine = script, line
	}
	if rootDaemons[name] && a.Daemon == "" {
		a.Daemon, a.DaemonLine, a.DaemonArgs = name+where, line, args
	}
	if rootDaemons[name] && !slices.ContainsFunc(a.Daemons, func(d string) bool { n, _, _ := strings.Cut(d, " "); return n == name }) {
		a.Daemons = append(a.Daemons, name+where)
	}
}

// contextScript returns the content of a build-context file the chain
// copies into the image under the given base name, or "".
func (a *stageAnalysis) contextScript(d *rewrite.Document, buildContext fs.FS, base string) string {
	text := ""
	a.eachContextSource(d, base, func(src string) bool {
		text = buildctx.ReadFile(buildContext, src)
		return text != ""
	})
	return text
}

// eachContextSource calls f with each plain source (no URL, glob or
// variable) named base that a COPY or ADD of the chain takes from the
// build context, until f returns true.
func (a *stageAnalysis) eachContextSource(d *rewrite.Document, base string, f func(src string) bool) {
	if base == "" || base == "." || base == "/" {
		return
	}
	for _, s := range a.Chain {
		for _, in := range d.Stage(s) {
			for _, src := range contextSources(in) {
				if strings.Contains(src, "://") || path.Base(src) != base || strings.ContainsAny(src, "*?[$") {
					continue
				}
				if f(src) {
					return
				}
			}
		}
	}
}

// missingContextFile returns the source of a plain COPY or ADD from the
// build context, named base, that the context does not hold: the context
// hardenfix found is not the one the image is built from (or the file is
// made before the build), so the start script cannot be read.
func (a *stageAnalysis) missingContextFile(d *rewrite.Document, buildContext fs.FS, base string) string {
	missing := ""
	a.eachContextSource(d, base, func(src string) bool {
		name := path.Clean(strings.TrimPrefix(src, "/"))
		if _, err := fs.Stat(buildContext, name); err != nil && errors.Is(err, fs.ErrNotExist) {
			missing = src
		}
		return missing != ""
	})
	return missing
}

// contextFileIn returns the content of the build-context file the chain
// puts at the absolute path abs when the copy names it by another name
// (COPY docker/start_alpine.sh /start.sh) or copies a folder that holds it
// (COPY . ./ under WORKDIR /app), or "".
func (a *stageAnalysis) contextFileIn(d *rewrite.Document, buildContext fs.FS, abs string) string {
	if buildContext == nil {
		return ""
	}
	p := &nonRootPlan{d: d, buildContext: buildContext} // contextFileAt reads only these
	for i := len(a.Chain) - 1; i >= 0; i-- {            // the last copy to that path wins
		if text := p.contextFileAt(a.Chain[i], abs); text != "" {
			return text
		}
	}
	return ""
}

func dropperIn(script string) string {
	if sudoUserIn(script) != "" {
		return "sudo"
	}
	for _, cmd := range shellCommands(script) {
		for _, dr := range droppers {
			if cmd.Program() == dr {
				return dr
			}
		}
		if cmd.Program() == "capsh" && capshUser(argsOf(cmd)) != "" {
			return "capsh"
		}
		if name := cmd.Program(); name == "su" || name == "chroot" {
			for _, w := range argsOf(cmd) {
				if w == "-c" || strings.HasPrefix(w, "--userspec") {
					return name
				}
			}
		}
	}
	return ""
}

// configFile reports a path that names a configuration file by its
// extension.
func configFile(p string) bool {
	switch path.Ext(p) {
	case ".yaml", ".yml", ".toml", ".conf", ".ini", ".cfg", ".json":
		return true
	}
	return false
}
