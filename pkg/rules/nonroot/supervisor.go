package nonroot

import (
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/distribution/reference"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/hardenfix/hardenfix/pkg/rules/internal/buildctx"
)

// This file is the non-root rule's notes for containers that keep root
// because of how they start: an init system or process supervisor
// (s6-overlay, supervisord, runit, systemd, cron) or an entrypoint that
// drops privileges itself (gosu, su-exec, setpriv, runuser, chpst,
// s6-setuidgid). The rule makes no edit there; the note names the
// program, the user it switches to when the files show it, and the
// concrete next step towards running without root.

// supervisorNote notes an init system or supervisor the container starts,
// with the next step; false when there is none.
func (p *nonRootPlan) supervisorNote() bool {
	a := p.a
	if strings.HasPrefix(a.Dropper, "s6-overlay") {
		p.note(a.DropperLine, "%s", p.s6Note())
		return true
	}
	if a.Daemon == "" {
		return false
	}
	name, where, _ := strings.Cut(a.Daemon, " ")
	switch name {
	case "supervisord":
		p.note(a.DaemonLine, "%s", p.supervisordNote(where))
	case "runsvdir":
		p.note(a.DaemonLine, "%s", p.runitNote(where))
	case "s6-svscan":
		p.note(a.DaemonLine, "%s", p.s6SvscanNote(where))
	case "systemd", "init":
		p.note(a.DaemonLine, "the container starts %s%s, an init system, which needs root (it mounts cgroups and starts services as their users) and has no non-root mode inside a container, so no USER was added; the next step is to drop the init: make the service itself the CMD, run as a non-root USER", name, spaced(where))
	case "cron", "crond":
		p.note(a.DaemonLine, "the container starts %s%s, which needs root to run jobs as their users, so no USER was added; the next step is a scheduler made for containers that runs as the container's user (supercronic reads the same crontab), then a non-root USER%s", name, spaced(where), p.otherDaemons())
	default:
		return false
	}
	return true
}

// otherDaemons names the root daemons the container starts besides the
// first, which the note is about: each keeps it root as well.
func (p *nonRootPlan) otherDaemons() string {
	if len(p.a.Daemons) < 2 {
		return ""
	}
	others := p.a.Daemons[1:]
	return fmt.Sprintf("; it also starts %s, which %s as root by design too (privileged ports, pid files, its own user switch): make %s run unprivileged as well", strings.Join(others, " and "), hasHave(len(others), "run", "runs"), hasHave(len(others), "them", "it"))
}

// s6SvscanNote is the note for a container that runs s6's supervisor
// s6-svscan itself (no s6-overlay): it starts the service directories of
// its scan directory, as root when it runs as root. s6-svscan and
// s6-supervise need no root, only write access to the scan directory
// (its .s6-svscan control folder, each service's supervise folder):
// https://skarnet.org/software/s6/s6-svscan.html.
func (p *nonRootPlan) s6SvscanNote(where string) string {
	scan := "."
	for _, w := range p.a.DaemonArgs {
		if !strings.HasPrefix(w, "-") {
			scan = strings.Trim(w, `"'`)
			break
		}
	}
	dir := strings.TrimSuffix(scan, "/") + "/"
	services := services{}
	if path.IsAbs(scan) {
		services = p.serviceScripts(func(dest string) (string, bool) {
			if rest, ok := strings.CutPrefix(dest, dir); ok {
				name, file, _ := strings.Cut(rest, "/")
				return name, file == "run" && !strings.HasPrefix(name, ".")
			}
			return "", false
		}, "s6-setuidgid", "s6-applyuidgid", "s6-envuidgid")
	}
	return fmt.Sprintf("the container starts s6-svscan%s, s6's process supervisor, which runs as root here and starts every service under %s as root, so no USER was added%s; the next step: drop privileges per service (exec s6-setuidgid USER in each run script), or, if every service can run as one non-root user, hand %s to that user and set USER (s6-svscan itself needs no root, only write access to its scan directory)%s", spaced(where), scan, services.describe("s6-setuidgid USER"), scan, p.otherDaemons())
}

func spaced(s string) string {
	if s == "" {
		return ""
	}
	return " " + s
}

// s6Version finds the s6-overlay release the Dockerfile installs (an ARG or
// ENV S6_OVERLAY_VERSION default, or the version in a release URL).
var s6VersionRE = regexp.MustCompile(`(?i)(?:S6_OVERLAY_VERSION[= ]\s*["']?v?|s6-overlay/releases/download/v)([0-9]+(?:\.[0-9]+)*)`)

func (p *nonRootPlan) s6Version() string {
	for _, s := range p.a.Chain {
		for _, in := range p.d.Stage(s) {
			if m := s6VersionRE.FindStringSubmatch(in.Span.Text(p.d.Src)); m != nil {
				return m[1]
			}
		}
	}
	return ""
}

// versionAtLeast compares dotted versions numerically.
func versionAtLeast(v, min string) bool {
	a, b := strings.Split(v, "."), strings.Split(min, ".")
	for i := 0; i < len(a) || i < len(b); i++ {
		var x, y int
		if i < len(a) {
			x, _ = strconv.Atoi(a[i])
		}
		if i < len(b) {
			y, _ = strconv.Atoi(b[i])
		}
		if x != y {
			return x > y
		}
	}
	return true
}

// s6Note is the note for a container that boots s6-overlay's /init. Facts:
// https://github.com/just-containers/s6-overlay#user-directive (limited
// USER support from 3.2.3.2: no fix-attrs, logutil-service or syslogd
// emulation; /run must belong to the user) and #dropping-privileges
// (s6-setuidgid in each service's run script).
func (p *nonRootPlan) s6Note() string {
	services := p.serviceScripts(func(dest string) (string, bool) {
		for _, dir := range []string{"/etc/s6-overlay/s6-rc.d/", "/etc/services.d/"} {
			if rest, ok := strings.CutPrefix(dest, dir); ok {
				name, file, _ := strings.Cut(rest, "/")
				return name, file == "run" && name != "user" && name != "user2"
			}
		}
		return "", false
	}, "s6-setuidgid", "s6-applyuidgid", "s6-envuidgid")
	var b strings.Builder
	fmt.Fprintf(&b, "the container boots s6-overlay (/init), which starts as root and supervises its services, so no USER was added")
	if p.isLinuxServer() {
		b.WriteString("; LinuxServer.io images run their services as the user abc, whose uid and gid PUID and PGID set")
	}
	b.WriteString(services.describe("s6-setuidgid USER"))
	v := p.s6Version()
	switch {
	case v != "" && !versionAtLeast(v, "3.2.3.2"):
		fmt.Fprintf(&b, "; the next step: s6-overlay %s cannot run under USER, 3.2.3.2 and later can, for a main program and a few services (no fix-attrs.d, logutil-service or syslogd), with /run owned by that user — else drop privileges per service (exec s6-setuidgid USER in each run script)", v)
	default:
		b.WriteString("; the next step: s6-overlay 3.2.3.2 and later run under USER for a main program and a few services (no fix-attrs.d, logutil-service or syslogd), with /run owned by that user — else drop privileges per service (exec s6-setuidgid USER in each run script)")
	}
	return b.String()
}

func (p *nonRootPlan) isLinuxServer() bool {
	named, err := reference.ParseNormalizedNamed(p.a.Image)
	if err != nil {
		return false
	}
	return strings.HasPrefix(reference.Path(named), "linuxserver/")
}

// supervisordNote reads the supervisord configuration the build copies
// from the context and names the programs that run as root.
func (p *nonRootPlan) supervisordNote(where string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "the container starts supervisord%s, which has to start as root to run its programs as the users their user= names, so no USER was added", spaced(where))
	confs := p.copiedFiles(func(dest, src string) bool {
		base := path.Base(dest)
		return base == "supervisord.conf" || strings.HasPrefix(dest, "/etc/supervisor/") || strings.HasPrefix(dest, "/etc/supervisord.d/") || strings.HasSuffix(base, ".conf") && strings.Contains(dest, "supervisor")
	})
	var asRoot, dropping []string
	daemonUser := ""
	for _, c := range confs {
		section := ""
		users := map[string]string{}
		var programs []string
		for _, line := range strings.Split(c.text, "\n") {
			line = strings.TrimSpace(line)
			if line == "" || line[0] == ';' || line[0] == '#' {
				continue
			}
			if strings.HasPrefix(line, "[") {
				section = strings.Trim(line, "[] \t")
				if name, ok := strings.CutPrefix(section, "program:"); ok {
					programs = append(programs, name)
				}
				continue
			}
			k, v, ok := strings.Cut(line, "=")
			if !ok || strings.TrimSpace(k) != "user" {
				continue
			}
			v = strings.TrimSpace(strings.SplitN(v, ";", 2)[0])
			if name, ok := strings.CutPrefix(section, "program:"); ok {
				users[name] = v
			} else if section == "supervisord" {
				daemonUser = v
			}
		}
		for _, prog := range programs {
			if u := users[prog]; u != "" && u != "root" && u != "0" {
				dropping = append(dropping, prog+" (user="+u+")")
			} else {
				asRoot = append(asRoot, prog)
			}
		}
	}
	switch {
	case len(confs) == 0:
		b.WriteString("; its configuration is not among the files the build copies from the context, so which programs run as root cannot be told; the next step: give every [program:x] a user= (a non-root user the image has)")
	case len(asRoot) > 0:
		fmt.Fprintf(&b, "; in %s, %s %s %s no user= (or user=root) and %s as root", confFiles(confs), plural(len(asRoot), "program", "programs"), strings.Join(asRoot, ", "), hasHave(len(asRoot), "have", "has"), hasHave(len(asRoot), "run", "runs"))
		if len(dropping) > 0 {
			fmt.Fprintf(&b, " (%s already %s)", strings.Join(dropping, ", "), hasHave(len(dropping), "drop", "drops"))
		}
		b.WriteString("; the next step: give each a user= (a non-root user the image has), or, if they can all run as one non-root user, run supervisord itself as that USER with its pidfile, logfile and socket under /tmp")
	case len(dropping) > 0:
		fmt.Fprintf(&b, "; in %s every program already runs as a non-root user (%s), and supervisord only needs root to switch to them", confFiles(confs), strings.Join(dropping, ", "))
		if daemonUser == "" {
			b.WriteString("; to run without root at all, run them as one user: set USER to it and move supervisord's pidfile, logfile and socket under /tmp")
		}
	default:
		fmt.Fprintf(&b, "; %s defines no [program:x] section", confFiles(confs))
	}
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// hasHave picks the verb form for a plural (n > 1) or singular subject.
func hasHave(n int, many, one string) string {
	if n == 1 {
		return one
	}
	return many
}

func confFiles(confs []ctxCopy) string {
	var names []string
	for _, c := range confs {
		names = append(names, c.src)
	}
	return strings.Join(names, ", ")
}

// runitNote names the runit services the build copies and whether their
// run scripts drop privileges (chpst -u).
func (p *nonRootPlan) runitNote(where string) string {
	services := p.serviceScripts(func(dest string) (string, bool) {
		for _, dir := range []string{"/etc/service/", "/etc/sv/", "/etc/runit/"} {
			if rest, ok := strings.CutPrefix(dest, dir); ok {
				name, file, _ := strings.Cut(rest, "/")
				return name, file == "run"
			}
		}
		return "", false
	}, "chpst", "setuidgid")
	return fmt.Sprintf("the container starts runit's runsvdir%s, which starts as root and supervises the services under /etc/service, so no USER was added%s; the next step: make each run script drop privileges (exec chpst -u USER program), or run the single service directly as the CMD under a non-root USER", spaced(where), services.describe("chpst -u USER"))
}

// services are the service run scripts the build copies, split by whether
// they drop privileges.
type services struct {
	asRoot, dropping []string
}

func (s services) describe(tool string) string {
	switch {
	case len(s.asRoot) > 0 && len(s.dropping) > 0:
		return fmt.Sprintf("; of the services the build copies, %s %s as root (no %s in %s run script) and %s already %s", strings.Join(s.asRoot, ", "), hasHave(len(s.asRoot), "run", "runs"), tool, hasHave(len(s.asRoot), "their", "its"), strings.Join(s.dropping, ", "), hasHave(len(s.dropping), "drop", "drops"))
	case len(s.asRoot) > 0:
		return fmt.Sprintf("; the %s %s the build copies %s as root (no %s in %s run script)", plural(len(s.asRoot), "service", "services"), strings.Join(s.asRoot, ", "), hasHave(len(s.asRoot), "run", "runs"), tool, hasHave(len(s.asRoot), "their", "its"))
	case len(s.dropping) > 0:
		return fmt.Sprintf("; the %s %s the build copies already %s privileges", plural(len(s.dropping), "service", "services"), strings.Join(s.dropping, ", "), hasHave(len(s.dropping), "drop", "drops"))
	}
	return ""
}

// serviceScripts sorts the run scripts the build copies (as service reports
// them from their image path) by whether they call one of the tools.
func (p *nonRootPlan) serviceScripts(service func(dest string) (string, bool), tools ...string) services {
	var out services
	seen := map[string]bool{}
	for _, f := range p.copiedFiles(func(dest, _ string) bool { _, ok := service(dest); return ok }) {
		name, _ := service(f.dest)
		if seen[name] {
			continue
		}
		seen[name] = true
		drops := false
		for _, cmd := range shellCommands(f.text) {
			for _, t := range tools {
				if cmd.Program() == t {
					drops = true
				}
			}
		}
		if drops {
			out.dropping = append(out.dropping, name)
		} else {
			out.asRoot = append(out.asRoot, name)
		}
	}
	sort.Strings(out.asRoot)
	sort.Strings(out.dropping)
	return out
}

// ctxCopy is a build-context file a COPY or ADD of the chain puts into
// the image.
type ctxCopy struct {
	src, dest, text string
}

// copiedFiles returns the context files the chain copies (folders walked,
// at most 500 files) whose image path and context path keep accepts.
func (p *nonRootPlan) copiedFiles(keep func(dest, src string) bool) []ctxCopy {
	if !buildctx.Readable(p.buildContext) {
		return nil
	}
	var out []ctxCopy
	seen := map[string]bool{} // a context file copied twice is read once
	add := func(src, dest string) {
		if seen[src] || !keep(dest, src) {
			return
		}
		seen[src] = true
		if text := buildctx.ReadFile(p.buildContext, src); text != "" {
			out = append(out, ctxCopy{src, dest, text})
		}
	}
	n := 0
	for _, s := range p.a.Chain {
		for _, in := range p.d.Stage(s) {
			sources, dest, ok := buildctx.Sources(in.Command)
			if !ok {
				continue
			}
			if !path.IsAbs(dest) {
				continue // relative to a WORKDIR: not a configuration path
			}
			for _, src := range sources {
				if strings.Contains(src, "://") || strings.ContainsAny(src, "*?[$") {
					continue
				}
				rel := buildctx.Name(src)
				fi, err := fs.Stat(p.buildContext, rel)
				if err != nil {
					continue
				}
				if !fi.IsDir() {
					d := dest
					if strings.HasSuffix(dest, "/") || len(sources) > 1 {
						d = path.Join(dest, path.Base(rel))
					}
					add(rel, d)
					continue
				}
				_ = buildctx.WalkDir(p.buildContext, rel, func(q string, de fs.DirEntry, err error) error {
					if err != nil || n > 500 {
						return fs.SkipDir
					}
					if de.IsDir() || !de.Type().IsRegular() {
						return nil
					}
					n++
					sub := under(rel, q)
					add(path.Join(rel, sub), path.Join(dest, sub))
					return nil
				})
			}
		}
	}
	return out
}

// dropperNote notes an entrypoint that drops privileges itself, naming the
// user it switches to when the Dockerfile or the script shows it.
func (p *nonRootPlan) dropperNote() bool {
	a := p.a
	if a.Dropper == "" {
		return false
	}
	sw := p.switchTarget()
	switch {
	case sw.user != "":
		uid := ""
		if id := p.uidOf(sw.user); id != "" && id != sw.user {
			uid = " (uid " + id + ")"
		}
		p.note(a.DropperLine, "the entrypoint starts as root and switches to %s%s with %s (%s: %s), so no USER was added: a USER would make that switch fail; the next step, if the root part only prepares files (chown, mkdir): do that in the build, set USER %s and drop the %s call", sw.user, uid, sw.tool, sw.where, shorten(sw.line, 80), sw.user, sw.tool)
	default:
		p.note(a.DropperLine, "the image uses %s: its entrypoint probably starts as root and drops privileges itself, so no USER was added; which user it switches to is not shown by the command or a script the build copies from the context: check, then, if the root part only prepares files, do that in the build and set USER to that user", a.Dropper)
	}
	return true
}

type switchTo struct {
	user, tool, where, line string
}

// switchTarget finds the user a privilege dropper switches to, in the
// container's command or in the context scripts it runs.
func (p *nonRootPlan) switchTarget() switchTo {
	a := p.a
	for _, c := range []struct {
		in   *rewrite.Instruction
		line []string
	}{{a.entrypoint, a.entrypointLine}, {a.cmd, a.cmdLine}} {
		if c.in == nil {
			continue
		}
		text := strings.Join(c.line, " ")
		if u, tool := dropTarget(text); u != "" {
			return switchTo{p.resolveUser(u, c.in), tool, c.in.Keyword, text}
		}
		for _, w := range strings.Fields(text) {
			base := path.Base(strings.Trim(w, `"'`))
			script := a.contextScript(p.d, p.buildContext, base)
			if script == "" {
				script = p.stageCopiedScript(base)
			}
			if script == "" {
				continue
			}
			for _, line := range strings.Split(script, "\n") {
				if strings.HasPrefix(strings.TrimSpace(line), "#") {
					continue
				}
				if u, tool := dropTarget(line); u != "" {
					return switchTo{p.resolveUser(u, c.in), tool, base, strings.TrimSpace(line)}
				}
			}
		}
	}
	return switchTo{}
}

// stageCopiedScript reads a script the chain copies from another stage
// (COPY --from=builder /src/script/entrypoint.sh) when that stage copied
// it from the build context (COPY . . under WORKDIR /src); "" otherwise.
func (p *nonRootPlan) stageCopiedScript(base string) string {
	if p.buildContext == nil {
		return ""
	}
	d := p.d
	for _, s := range p.a.Chain {
		for _, in := range d.Stage(s) {
			c, ok := in.Command.(*instructions.CopyCommand)
			if !ok || c.From == "" {
				continue
			}
			from := d.StageRef(c.From, s)
			if from < 0 {
				continue
			}
			renamed := len(c.SourcePaths) == 1 && !strings.HasSuffix(c.DestPath, "/") && path.Base(c.DestPath) == base
			for _, src := range c.SourcePaths {
				if !path.IsAbs(src) || !(renamed || path.Base(src) == base) {
					continue
				}
				if text := p.contextFileAt(from, path.Clean(src)); text != "" {
					return text
				}
			}
		}
	}
	return ""
}

// contextFileAt returns the text of the context file that stage's own
// COPY instructions put at the absolute path want, or "".
func (p *nonRootPlan) contextFileAt(stage int, want string) string {
	d := p.d
	workdir := "/"
	for _, in := range d.Stage(stage) {
		switch c := in.Command.(type) {
		case *instructions.WorkdirCommand:
			w := c.Path
			if !path.IsAbs(w) {
				w = path.Join(workdir, w)
			}
			workdir = path.Clean(w)
		case *instructions.CopyCommand, *instructions.AddCommand:
			// ADD of local files and folders copies them as COPY does
			// (kanboard: ADD docker/ /); its URLs are skipped below.
			sources, dest, ok := buildctx.Sources(c)
			if !ok {
				continue
			}
			if strings.ContainsAny(dest, "$") {
				continue
			}
			slash := strings.HasSuffix(dest, "/")
			if !path.IsAbs(dest) {
				dest = path.Join(workdir, dest)
			}
			dest = path.Clean(dest)
			for _, src := range sources {
				if strings.ContainsAny(src, "*?[$") || strings.Contains(src, "://") {
					continue
				}
				var rel string
				switch {
				case want == dest && len(sources) == 1 && !slash:
					rel = src // a file copied to that name
				case strings.HasPrefix(want, dest+"/") || dest == "/":
					rest := strings.TrimPrefix(strings.TrimPrefix(want, dest), "/")
					rel = path.Join(src, rest) // a folder copied there
					if path.Base(src) == path.Base(want) && rest == path.Base(want) {
						rel = src // a file copied into the folder
					}
				default:
					continue
				}
				if text := buildctx.ReadFile(p.buildContext, rel); text != "" {
					return text
				}
			}
		}
	}
	return ""
}

// resolveUser expands a user written as a variable with the Dockerfile's
// ENV and ARG values at the instruction; unresolved, it stays as written.
func (p *nonRootPlan) resolveUser(u string, in *rewrite.Instruction) string {
	if !strings.Contains(u, "$") {
		return u
	}
	if out, unset, err := p.d.Expand(u, p.d.VarsAt(in)); err == nil && len(unset) == 0 && out != "" {
		return out
	}
	return u
}

// scriptFunctionRE finds shell function definitions: name() { or
// function name {.
var scriptFunctionRE = regexp.MustCompile(`(?m)^[ \t]*(?:function[ \t]+([A-Za-z_][\w-]*)[ \t]*(?:\(\))?|([A-Za-z_][\w-]*)[ \t]*\(\))[ \t]*\{?`)

// scriptFunctions returns the names of the functions a script defines: a
// call of one runs the script's own code, not the program of that name.
func scriptFunctions(script string) map[string]bool {
	out := map[string]bool{}
	for _, m := range scriptFunctionRE.FindAllStringSubmatch(script, -1) {
		out[m[1]+m[2]] = true
	}
	return out
}

// unwrapInit returns the command an init wrapper (tini, dumb-init,
// catatonit) starts, or cmd itself: the child is what needs root or not.
func unwrapInit(cmd rewrite.ShellCommand) rewrite.ShellCommand {
	for initWrappers[cmd.Program()] {
		child := cmd.Argv()[1:]
		for len(child) > 0 && strings.HasPrefix(child[0].Value, "-") {
			child = child[1:]
		}
		if len(child) == 0 {
			return cmd
		}
		cmd = rewrite.ShellCommand{Words: child, Span: cmd.Span, Sep: cmd.Sep, Depth: cmd.Depth, Redirects: cmd.Redirects}
	}
	return cmd
}

// dropTarget returns the user a command line switches to with gosu,
// su-exec, setpriv, runuser, chpst, s6-setuidgid or su, and the tool.
func dropTarget(line string) (user, tool string) {
	if u := sudoUserIn(line); u != "" {
		return u, "sudo"
	}
	for _, cmd := range shellCommands(line) {
		cmd = unwrapInit(cmd)
		name, args := cmd.Program(), argsOf(cmd)
		switch name {
		case "gosu", "su-exec", "s6-setuidgid", "setuidgid":
			if len(args) > 0 {
				u, _, _ := strings.Cut(args[0], ":")
				return u, name
			}
		case "chpst":
			for i, w := range args {
				if w == "-u" && i+1 < len(args) {
					u, _, _ := strings.Cut(args[i+1], ":")
					return u, name
				}
				if v, ok := strings.CutPrefix(w, "-u"); ok && v != "" {
					u, _, _ := strings.Cut(v, ":")
					return u, name
				}
			}
		case "runuser":
			for i, w := range args {
				if (w == "-u" || w == "--user") && i+1 < len(args) {
					return args[i+1], name
				}
				if v, ok := strings.CutPrefix(w, "--user="); ok {
					return v, name
				}
			}
			if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
				return args[0], name
			}
		case "capsh":
			if u := capshUser(args); u != "" {
				return u, name
			}
		case "setpriv":
			for i, w := range args {
				if v, ok := strings.CutPrefix(w, "--reuid="); ok {
					return v, name
				}
				if w == "--reuid" && i+1 < len(args) {
					return args[i+1], name
				}
			}
		case "su":
			// su [-] [-s SHELL] USER -c CMD
			for i := 0; i < len(args); i++ {
				w := args[i]
				switch {
				case w == "-s" || w == "--shell" || w == "-c" || w == "--command" || w == "-g" || w == "--group":
					i++
				case strings.HasPrefix(w, "-"):
				default:
					if hasC(args) {
						return w, name
					}
					return "", ""
				}
			}
		}
	}
	return "", ""
}

// capshUser returns the user of capsh --user=USER (pi-hole's start.sh
// starts FTL so, keeping the capabilities it needs), or "".
func capshUser(args []string) string {
	for _, w := range args {
		if w == "--" {
			break
		}
		if u, ok := strings.CutPrefix(w, "--user="); ok {
			return u
		}
	}
	return ""
}

// sudoUserIn returns the user a sudo -u USER in text switches to, or "".
// The shell model drops sudo and its options (a RUN's sudo only matters as
// sudo), so the words are read here.
func sudoUserIn(text string) string {
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		words := strings.Fields(line)
		for i, w := range words {
			if path.Base(strings.Trim(w, `"'`)) == "sudo" {
				if u := sudoUser(words[i+1:]); u != "" {
					return strings.Trim(u, `"'`)
				}
			}
		}
	}
	return ""
}

// sudoUser returns the user of sudo -u USER (--user=USER, -uUSER), or "".
// Options before the command only: what follows is the command's own.
func sudoUser(args []string) string {
	for i := 0; i < len(args); i++ {
		w := args[i]
		switch {
		case (w == "-u" || w == "--user") && i+1 < len(args):
			return args[i+1]
		case strings.HasPrefix(w, "--user="):
			return strings.TrimPrefix(w, "--user=")
		case strings.HasPrefix(w, "-u") && len(w) > 2:
			return w[2:]
		case w == "-g" || w == "--group" || w == "-C" || w == "-D" || w == "-h" || w == "-p" || w == "-r" || w == "-t" || w == "-U":
			i++ // an option with a value
		case w == "--" || !strings.HasPrefix(w, "-"):
			return ""
		}
	}
	return ""
}

func hasC(args []string) bool {
	for _, w := range args {
		if w == "-c" || w == "--command" || strings.HasPrefix(w, "--command=") {
			return true
		}
	}
	return false
}

// dropsPrivilegesNote notes a base image whose entrypoint starts as root
// and switches to a service user (catalog: drops-privileges).
func (p *nonRootPlan) dropsPrivilegesNote() {
	a, from := p.a, p.instrs[0]
	if p.isLinuxServer() || strings.HasPrefix(a.Dropper, "s6-overlay") {
		p.note(from.Line, "%s: %s", a.Image, p.s6Note())
		return
	}
	if u := serviceUserOf(a.Image); u != "" {
		p.note(from.Line, "%s starts as root and its entrypoint switches to the user %s (gosu or su-exec) after preparing the data directory, so no USER was added: a USER would stop that preparation; the next step: most official entrypoints switch only when started as root, so check the image's documentation for running as %s, then hand the data directory to %s in the build and set USER %s", a.Image, u, u, u, u)
		return
	}
	p.note(from.Line, "%s starts as root and switches to its own service user in its entrypoint (gosu, su-exec, s6-overlay); a USER would break that, so none was added", a.Image)
}

// serviceUsers are the users the official images that drop privileges
// switch to, from each image's docker-entrypoint.sh in
// github.com/docker-library (and the image's own repository for
// eclipse-mosquitto and neo4j).
var serviceUsers = map[string]string{
	"postgres": "postgres", "mysql": "mysql", "mariadb": "mysql", "redis": "redis", "mongo": "mongodb",
	"rabbitmq": "rabbitmq", "cassandra": "cassandra", "couchdb": "couchdb", "influxdb": "influxdb",
	"zookeeper": "zookeeper", "neo4j": "neo4j", "ghost": "node", "redmine": "redmine",
	"eclipse-mosquitto": "mosquitto",
}

// serviceUserOf returns the user an official image that drops privileges
// switches to, or "".
func serviceUserOf(image string) string {
	named, err := reference.ParseNormalizedNamed(image)
	if err != nil || reference.Domain(named) != "docker.io" {
		return ""
	}
	name, ok := strings.CutPrefix(reference.Path(named), "library/")
	if !ok {
		return ""
	}
	return serviceUsers[name]
}
