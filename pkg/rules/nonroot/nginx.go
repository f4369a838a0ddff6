package nonroot

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/hardenfix/hardenfix/pkg/rules/internal/imageref"

	"github.com/distribution/reference"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/hardenfix/hardenfix/pkg/registry"
)

// This file is the non-root rule's move of a final stage from the official
// nginx image onto the same tag of nginxinc/nginx-unprivileged, the image
// NGINX publishes with the changes that run nginx as uid 101: listen 8080,
// no user directive, pid and temp files under /tmp, /etc/nginx and
// /var/cache/nginx owned by 101, USER 101. Everything it relies on is in the
// catalog rows of both images (their server facts); everything it cannot
// see (configuration made at build time, an entrypoint of its own) makes it
// refuse with a note. It never edits the user's configuration files:
// hardenfix writes Dockerfiles only, so a copied configuration that listens
// on a privileged port gets a note with the exact change, and no rebase.

// nginxRepo matches the official nginx repository at the start of a FROM
// word, in every spelling Docker accepts, up to its tag or digest.
var nginxRepo = regexp.MustCompile(`^((?:docker\.io/|index\.docker\.io/|registry-1\.docker\.io/)?)(?:library/)?nginx(?:[:@]|$)`)

// wholeVarRE matches a word that is one variable ($BASE, ${BASE}).
var wholeVarRE = regexp.MustCompile(`^\$(?:[A-Za-z_][A-Za-z0-9_]*|\{[A-Za-z_][A-Za-z0-9_]*\})$`)

// nginxMove is what the move needs to know while it checks the stage.
type nginxMove struct {
	p        *nonRootPlan
	ports    *portMove
	alt      string // the unprivileged repository, as the catalog names it
	altSrv   *registry.Server
	uid      int
	tag      string
	pinned   bool            // the FROM names a digest
	removed  map[string]bool // image files a RUN rm removes
	copied   map[string]bool // context files copied as configuration
	replaced map[string]bool // image files a COPY replaces
	// templates are the conf.d files the entrypoint renders from copied
	// templates; confDirCopy is a COPY into /etc/nginx/conf.d itself.
	templates   []string
	confDirCopy int
	// listens8080 is the first copied listen on the unprivileged port.
	listens8080 string
}

// nginxUnprivileged moves the final stage onto nginxinc/nginx-unprivileged,
// or notes why not; true when the plan's fixes are made.
func (p *nonRootPlan) nginxUnprivileged(cat *registry.Catalog) bool {
	a, from := p.a, p.instrs[0]
	alt := a.Facts.NonRootAlt
	altRow, ok := cat.Lookup(alt)
	if !ok || altRow.Server == nil || altRow.Server.Kind != "nginx" || altRow.Server.Port < 1024 {
		p.note(from.Line, "%s needs root by design; the catalog has no server facts for %s (its port, pid file and user), so the stage was not moved onto it and no USER was added", a.Image, alt)
		return false
	}
	m := &nginxMove{p: p, alt: alt, altSrv: altRow.Server, removed: map[string]bool{}, replaced: map[string]bool{}, copied: map[string]bool{}}
	refuse := func(line int, format string, args ...any) bool {
		p.note(line, "%s needs root by design (port 80, its own user switch); %s, so the stage was not moved onto %s (uid %d, port %d) and no USER was added", a.Image, fmt.Sprintf(format, args...), alt, m.altSrv.RunUID, m.altSrv.Port)
		return false
	}
	if line, why := m.checkStage(); why != "" {
		return refuse(line, "%s", why)
	}
	if line, why := m.configs(); why != "" {
		p.note(line, "%s needs root by design (port 80, its own user switch), and %s would run it as uid %d on port %d, but %s; hardenfix changes only the Dockerfile, so the stage was not moved and no USER was added", a.Image, alt, m.uid, m.altSrv.Port, why)
		return false
	}
	if file, why := uncopiedConfig(p.env.BuildContext, m.copied, nginxLowListen); why != "" {
		return refuse(from.Line, "%s in the build context %s, and the Dockerfile does not copy it into /etc/nginx: it is probably mounted into the container when it runs (a compose volume, a ConfigMap), where uid %d could not bind that port; change it to listen %d, then run hardenfix again", file, why, m.uid, m.altSrv.Port)
	}
	if m.listens8080 != "" && !m.replaced["/etc/nginx/conf.d/default.conf"] && !m.removed["/etc/nginx/conf.d/default.conf"] && !m.replaced["/etc/nginx/nginx.conf"] {
		return refuse(from.Line, "%s listens on %d, where the image's own conf.d/default.conf listens too (and would answer requests no server_name matches); remove it (RUN rm /etc/nginx/conf.d/default.conf) or replace it", m.listens8080, m.altSrv.Port)
	}
	p.baseCommand = true // the image's own nginx command runs: known
	if p.blocked() {
		return false
	}
	m.ports = &portMove{p: p, port: m.altSrv.Port, uid: m.uid, server: "nginx", where: "in " + alt}
	health, line, why := m.ports.healthcheck()
	if why != "" {
		return refuse(line, "%s", why)
	}
	digest, why := m.altTag()
	if why != "" {
		return refuse(from.Line, "%s", why)
	}
	fromFix, why := m.fromEdit(from, m.pinned, digest)
	if why != "" {
		return refuse(from.Line, "%s", why)
	}
	return m.makeFixes(fromFix, health)
}

// checkStage says why the stage cannot move, with its line: a base other
// than the official image, no known uid for the unprivileged one, a USER
// of its own, or a command, privilege dropper, chown at start or RUN the
// move cannot carry. It sets m.tag, m.pinned and m.uid.
func (m *nginxMove) checkStage() (int, string) {
	p, a, from := m.p, m.p.a, m.p.instrs[0]
	if len(a.Chain) != 1 {
		return p.d.From(a.Chain[0]).Line, fmt.Sprintf("the final stage is built on stage %s, which is built FROM it; move that stage instead", p.stageLabel(a.Chain[0]))
	}
	named, err := reference.ParseNormalizedNamed(a.Image)
	if err != nil || reference.Path(named) != "library/nginx" || reference.Domain(named) != "docker.io" {
		return from.Line, fmt.Sprintf("%s is not a spelling of the official image hardenfix can rewrite", a.Image)
	}
	if t, ok := named.(reference.Tagged); ok {
		m.tag = t.Tag()
	}
	_, m.pinned = named.(reference.Digested)
	altFacts, _ := imageref.Facts(p.env, m.alt+":"+tagOrLatest(m.tag))
	m.uid = altFacts.UID
	if m.uid <= 0 {
		return from.Line, fmt.Sprintf("the catalog does not say which non-root uid %s runs as", m.alt)
	}
	for _, in := range p.instrs[1:] {
		if in.Keyword == "USER" {
			return in.Line, "the stage sets USER itself; set it after the move by hand"
		}
	}
	if line, why := m.command(); why != "" {
		return line, why
	}
	if a.Dropper != "" {
		return a.DropperLine, fmt.Sprintf("the image uses %s, which switches users itself", a.Dropper)
	}
	if a.ScriptChown != "" {
		return a.ScriptChownLine, fmt.Sprintf("%s changes file owners when the container starts, which uid %d may not", a.ScriptChown, m.uid)
	}
	return m.runs()
}

// altTag checks that the unprivileged image has the tag, and online that
// it is built for every platform the original is; it returns the tag's
// digest online ("" offline), or why the move cannot be made.
func (m *nginxMove) altTag() (digest, why string) {
	p, a, alt := m.p, m.p.a, m.alt
	altRef := "docker.io/" + strings.TrimPrefix(mustNormalName(alt), "docker.io/") + ":" + tagOrLatest(m.tag)
	if p.env.Resolver == nil {
		if !m.altSrv.Publishes(m.tag) {
			return "", fmt.Sprintf("the catalog does not know %s:%s to be published (run online to ask the registry)", alt, tagOrLatest(m.tag))
		}
		if m.pinned {
			return "", fmt.Sprintf("the image is pinned by digest, and the digest of %s:%s can only be looked up online", alt, tagOrLatest(m.tag))
		}
		return "", ""
	}
	digest, err := p.env.Resolver.Digest(p.ctx, altRef)
	if err != nil {
		return "", fmt.Sprintf("looking up %s:%s failed (%s)", alt, tagOrLatest(m.tag), imageref.LookupErr(altRef, err))
	}
	// The unprivileged image must run wherever the original did.
	want, err := p.env.Resolver.Platforms(p.ctx, a.Image)
	if err != nil {
		return "", fmt.Sprintf("the platforms of %s could not be looked up (%s)", a.Image, imageref.LookupErr(a.Image, err))
	}
	have, err := p.env.Resolver.Platforms(p.ctx, altRef)
	if err != nil {
		return "", fmt.Sprintf("the platforms of %s:%s could not be looked up (%s)", alt, tagOrLatest(m.tag), imageref.LookupErr(altRef, err))
	}
	var missing []string
	for _, w := range want {
		if w.OS != "unknown" && !hasPlatform(have, w) {
			missing = append(missing, w.String())
		}
	}
	if len(missing) > 0 {
		return "", fmt.Sprintf("%s:%s is not built for %s, which %s is", alt, tagOrLatest(m.tag), strings.Join(missing, ", "), a.Image)
	}
	return digest, ""
}

// makeFixes sets the plan's fixes for the move: the FROM edit, USER root
// for the RUN steps when there are any, the USER, EXPOSE and HEALTHCHECK
// edits, and the note about the new port; false when the USER cannot be
// written (the note says why).
func (m *nginxMove) makeFixes(fromFix rewrite.Fix, health *rewrite.Fix) bool {
	p, a, from, alt := m.p, m.p.a, m.p.instrs[0], m.alt
	fixes := []rewrite.Fix{fromFix}
	if m.hasRun() {
		fixes = append(fixes, rewrite.Fix{Line: from.Line, Risk: rewrite.Review,
			Message: fmt.Sprintf("%s runs as uid %d, so the RUN steps that follow (package installs, files outside its folders) would fail: run them as root, as on %s", alt, m.uid, a.Image),
			Edits:   []rewrite.Edit{rewrite.InsertLineAfter(p.d, from, p.d.Keyword("USER")+" root")}})
	}
	p.spec = strconv.Itoa(m.uid)
	p.userWhy = fmt.Sprintf("%s runs as uid %d; state it after the last build step, so scanners and runAsNonRoot see it", alt, m.uid)
	userFixes := p.fixes()
	if len(userFixes) == 0 {
		return false // the note says why
	}
	fixes = append(fixes, userFixes...)
	fixes = append(fixes, m.ports.exposeFixes()...)
	if health != nil {
		fixes = append(fixes, *health)
	}
	p.custom = fixes
	p.note(from.Line, "the container now listens on %d instead of 80 (nginx runs as uid %d): publish that port (docker run -p 80:%d, containerPort: %d); redirects nginx makes itself (a directory without its trailing slash) name port %d unless the configuration sets absolute_redirect off or port_in_redirect off", m.altSrv.Port, m.uid, m.altSrv.Port, m.altSrv.Port, m.altSrv.Port)
	return true
}

func mustNormalName(image string) string {
	if n, err := reference.ParseNormalizedNamed(image); err == nil {
		return n.Name()
	}
	return image
}

// command checks what the container runs: the image's own entrypoint and
// nginx, nothing else the move cannot see into.
func (m *nginxMove) command() (int, string) {
	a := m.p.a
	var entry []string
	if in := a.entrypoint; in != nil {
		line, ok := runArgv(in, a.entrypointLine)
		if !ok || len(line) == 0 || (path.Base(line[0]) != "docker-entrypoint.sh" && path.Base(line[0]) != "nginx") {
			return in.Line, fmt.Sprintf("the stage sets its own ENTRYPOINT (%s), whose work as uid %d cannot be checked", strings.Join(a.entrypointLine, " "), m.uid)
		}
		if path.Base(line[0]) == "nginx" {
			if why := nginxArgs(line[1:]); why != "" {
				return in.Line, why
			}
		}
		entry = line
	}
	if in := a.cmd; in != nil {
		line, ok := runArgv(in, a.cmdLine)
		if len(a.cmdLine) == 0 {
			return 0, ""
		}
		if len(entry) > 0 && path.Base(entry[0]) == "nginx" {
			if why := nginxArgs(a.cmdLine); why != "" {
				return in.Line, why // CMD only adds nginx options
			}
			return 0, ""
		}
		if !ok || len(line) == 0 || path.Base(line[0]) != "nginx" {
			return in.Line, fmt.Sprintf("the container runs %s, not nginx itself, and what it does as uid %d cannot be checked", strings.Join(a.cmdLine, " "), m.uid)
		}
		if why := nginxArgs(line[1:]); why != "" {
			return in.Line, why
		}
	}
	return 0, ""
}

// nginxArgs checks nginx's command-line options: -c and -p move the
// configuration out of sight, and -g may set user or pid.
func nginxArgs(args []string) string {
	for i, arg := range args {
		switch {
		case arg == "-c" || arg == "-p" || strings.HasPrefix(arg, "-c") && len(arg) > 2 || strings.HasPrefix(arg, "-p") && len(arg) > 2:
			return "nginx is started with " + arg + " (a configuration hardenfix does not read)"
		case arg == "-g" && i+1 < len(args):
			ds, ok := parseNginxConf(args[i+1])
			if !ok {
				return "nginx -g " + args[i+1] + " cannot be read"
			}
			for _, d := range ds {
				if d.Name == "user" || d.Name == "pid" {
					return "nginx -g sets " + d.Name
				}
			}
		}
	}
	return ""
}

// nginxRuntimePaths are where nginx writes at run time: a RUN that
// prepares them for root's nginx (owners, pid files) does not fit uid 101.
var nginxRuntimePaths = []string{"/var/cache/nginx", "/var/run", "/run", "/var/log/nginx", "nginx.pid", "/docker-entrypoint.d"}

func (m *nginxMove) hasRun() bool {
	for _, in := range m.p.instrs[1:] {
		if in.Keyword == "RUN" {
			return true
		}
	}
	return false
}

// runs checks the stage's RUN steps: they may install packages and write
// files (they will run as root), but not prepare nginx's run-time paths or
// change its configuration, which the move cannot see.
func (m *nginxMove) runs() (int, string) {
	for _, in := range m.p.instrs[1:] {
		run, ok := in.Command.(*instructions.RunCommand)
		if !ok {
			continue
		}
		for _, script := range runScripts(run) {
			for _, sc := range rewrite.SplitScript(script) {
				if sc.Argv() == nil {
					continue
				}
				name := sc.Program()
				for _, t := range argsOf(sc) {
					for _, rp := range nginxRuntimePaths {
						if t == rp || strings.HasPrefix(t, rp+"/") || strings.HasSuffix(t, "/"+rp) {
							return in.Line, fmt.Sprintf("RUN prepares %s, a path nginx writes when it runs, for the root nginx", t)
						}
					}
					if !strings.HasPrefix(t, "/etc/nginx") {
						continue
					}
					if name == "rm" {
						m.removed[path.Clean(t)] = true
						if strings.HasSuffix(t, "/*") {
							m.removed[path.Join(path.Dir(t), "default.conf")] = true
						}
						continue
					}
					return in.Line, fmt.Sprintf("RUN changes the nginx configuration (%s %s), which hardenfix cannot read", name, t)
				}
			}
		}
	}
	return 0, ""
}

// configs reads the nginx configuration the stage copies from the build
// context and says what keeps it from running as the unprivileged user.
func (m *nginxMove) configs() (int, string) {
	if line, why := m.p.eachCopy("/", m.configCopy); why != "" {
		return line, why
	}
	return m.templatesOutput()
}

// configCopy checks one COPY or ADD: one into /etc/nginx must bring files
// from the build context that uid m.uid can read and that listen where it
// may; it records what they replace and the templates among them.
func (m *nginxMove) configCopy(c stageCopy) (int, string) {
	in := c.In
	if !c.Known {
		return in.Line, fmt.Sprintf("the destination %s is only known at build time", c.Dest)
	}
	if !path.IsAbs(c.Full) || !nginxConfigPath(c.Full) {
		return 0, "" // a configuration file put elsewhere is read only through -c, which command refuses
	}
	files, line, why := m.p.contextConfigs(c, "nginx")
	if why != "" {
		return line, why
	}
	if clean := path.Clean(c.Full); clean == "/etc/nginx/conf.d" || clean == "/etc/nginx" {
		m.confDirCopy = in.Line
	}
	for _, f := range files {
		if why := m.configFile(f, c.Chmod); why != "" {
			return in.Line, why
		}
	}
	return 0, ""
}

// configFile records one copied configuration file and says why uid
// m.uid could not use it, if so.
func (m *nginxMove) configFile(f copiedFile, chmod string) string {
	m.replaced[f.Dest] = true
	m.copied[f.Src] = true
	if dir, name := path.Split(f.Dest); dir == "/etc/nginx/templates/" && strings.HasSuffix(name, ".template") {
		// The image's entrypoint writes it to conf.d without the suffix.
		out := "/etc/nginx/conf.d/" + strings.TrimSuffix(name, ".template")
		if m.replaced[out] {
			return fmt.Sprintf("%s becomes %s when the container starts, a file the Dockerfile also copies, owned by root: uid %d could not write it", f.Src, out, m.uid)
		}
		m.replaced[out] = true
		m.templates = append(m.templates, out)
	} else if slices.Contains(m.templates, f.Dest) {
		return fmt.Sprintf("%s is also written from a template when the container starts, and as a file the Dockerfile copies it is root's: uid %d could not write it", f.Dest, m.uid)
	}
	if chmod == "" && f.Mode&0o004 == 0 {
		return fmt.Sprintf("%s (mode %o) is not readable by other users, and COPY keeps root as its owner: uid %d could not read it (COPY --chmod=644 or make it readable)", f.Src, f.Mode, m.uid)
	}
	if !nginxConfigFile(f.Dest) {
		return ""
	}
	return m.checkConf(f)
}

// templatesOutput says why uid m.uid could not write the files the image's
// entrypoint renders from copied templates, if so.
func (m *nginxMove) templatesOutput() (int, string) {
	p := m.p
	if len(m.templates) > 0 {
		if m.confDirCopy > 0 {
			return m.confDirCopy, fmt.Sprintf("the image's entrypoint renders the templates into /etc/nginx/conf.d, and this COPY replaces that folder, which may leave it root's where uid %d must write", m.uid)
		}
		if v, ok := p.d.VarsAt(p.instrs[len(p.instrs)-1])["NGINX_ENVSUBST_OUTPUT_DIR"]; ok && path.Clean(v) != "/etc/nginx/conf.d" && !nginxWritable(path.Clean(v)) {
			return p.instrs[0].Line, fmt.Sprintf("the templates are rendered into NGINX_ENVSUBST_OUTPUT_DIR=%s, which uid %d may not write", v, m.uid)
		}
	}
	return 0, ""
}

// nginxConfigPath reports where nginx (and the image's entrypoint, for
// templates) reads configuration.
func nginxConfigPath(p string) bool {
	return p == "/etc/nginx" || strings.HasPrefix(p, "/etc/nginx/")
}

// nginxConfigFile reports the copied files nginx reads as configuration:
// .conf files, templates the entrypoint turns into conf.d files, and any
// file in the folders configuration is included from.
func nginxConfigFile(dest string) bool {
	if strings.HasSuffix(dest, ".conf") || strings.HasSuffix(dest, ".template") {
		return true
	}
	dir := path.Dir(dest)
	return strings.HasSuffix(dir, "/conf.d") || strings.HasSuffix(dir, "/sites-enabled") || strings.HasSuffix(dir, "/sites-available") || strings.HasSuffix(dir, "/templates")
}

// nginxWritable are the paths uid 101 may write in the unprivileged image.
func nginxWritable(p string) bool {
	for _, ok := range []string{"/tmp", "/var/cache/nginx"} {
		if p == ok || strings.HasPrefix(p, ok+"/") {
			return true
		}
	}
	return false
}

// nginxLogTargets are log destinations that work for uid 101: the image's
// log files are links to the container's output.
var nginxLogTargets = setOf("off", "stderr", "/dev/stdout", "/dev/stderr", "/proc/self/fd/1", "/proc/self/fd/2",
	"/var/log/nginx/access.log", "/var/log/nginx/error.log")

// checkConf reads one copied configuration file.
func (m *nginxMove) checkConf(f copiedFile) string {
	ds, ok := parseNginxConf(f.Text)
	if !ok {
		return fmt.Sprintf("%s cannot be read as nginx configuration (unbalanced braces or quotes)", f.Src)
	}
	at := func(d nginxDirective) string {
		return fmt.Sprintf("%s line %d (%s %s;)", f.Src, d.Line, d.Name, strings.Join(d.Args, " "))
	}
	main := path.Base(f.Dest) == "nginx.conf"
	pidSet := false
	var low []string
	for _, d := range ds {
		switch d.Name {
		case "listen":
			if len(d.Args) == 0 {
				continue
			}
			port, ok := nginxListenPort(d.Args[0])
			switch {
			case !ok:
				return fmt.Sprintf("%s listens on an address only known when the container starts", at(d))
			case port > 0 && port < 1024:
				fixed := strings.Replace(d.Args[0], strconv.Itoa(port), strconv.Itoa(m.altSrv.Port), 1)
				if _, err := strconv.Atoi(d.Args[0]); err != nil && !strings.Contains(d.Args[0], ":") {
					fixed = d.Args[0] + ":" + strconv.Itoa(m.altSrv.Port)
				}
				low = append(low, fmt.Sprintf("%s line %d: listen %s → listen %s", f.Src, d.Line, d.Args[0], fixed))
			case port == m.altSrv.Port && m.listens8080 == "":
				m.listens8080 = at(d)
			}
		case "server":
			if d.Block && !hasListen(ds, d) {
				return fmt.Sprintf("the server block at %s line %d has no listen directive: nginx listens on 80 as root but on 8000 as any other user", f.Src, d.Line)
			}
		case "user":
			if len(d.Args) == 0 || (d.Args[0] != "nginx" && d.Args[0] != strconv.Itoa(m.uid)) {
				return fmt.Sprintf("%s switches the workers to another user, which only root can", at(d))
			}
		case "pid":
			pidSet = true
			if len(d.Args) == 0 || !nginxWritable(d.Args[0]) {
				return fmt.Sprintf("%s writes the pid where uid %d cannot (pid %s would do)", at(d), m.uid, m.altSrv.PidFile)
			}
		case "client_body_temp_path", "proxy_temp_path", "fastcgi_temp_path", "uwsgi_temp_path", "scgi_temp_path", "proxy_cache_path", "fastcgi_cache_path":
			if len(d.Args) == 0 || !nginxWritable(d.Args[0]) {
				return fmt.Sprintf("%s writes where uid %d cannot (use a path under /tmp)", at(d), m.uid)
			}
		case "access_log", "error_log":
			if len(d.Args) == 0 || nginxLogTargets[d.Args[0]] || nginxWritable(d.Args[0]) || strings.HasPrefix(d.Args[0], "syslog:") || strings.HasPrefix(d.Args[0], "memory:") {
				continue
			}
			return fmt.Sprintf("%s writes a log file where uid %d cannot (log to /dev/stdout or /dev/stderr)", at(d), m.uid)
		case "ssl_certificate_key":
			return fmt.Sprintf("%s reads a private key, which is often readable by root only", at(d))
		case "load_module", "include", "env", "daemon", "master_process", "worker_processes":
		}
	}
	if len(low) > 0 {
		return fmt.Sprintf("the copied configuration listens on a port below 1024, which uid %d cannot bind: change %s (and EXPOSE), then run hardenfix again", m.uid, strings.Join(low, "; "))
	}
	if main && !pidSet {
		return fmt.Sprintf("%s sets no pid, so nginx writes its built-in /var/run/nginx.pid, which uid %d cannot (add pid %s at its top)", f.Src, m.uid, m.altSrv.PidFile)
	}
	return ""
}

// nginxLowListen says which privileged port an nginx configuration's
// server blocks listen on ("" when none, or the text is not nginx's).
func nginxLowListen(text string) string {
	ds, ok := parseNginxConf(text)
	if !ok {
		return ""
	}
	for _, d := range ds {
		if d.Name != "listen" || len(d.Args) == 0 || len(d.Context) == 0 || d.Context[len(d.Context)-1] != "server" {
			continue
		}
		if port, ok := nginxListenPort(d.Args[0]); ok && port > 0 && port < 1024 {
			return fmt.Sprintf("listens on port %d (line %d)", port, d.Line)
		}
	}
	return ""
}

// hasListen reports whether the server block opened by srv holds a listen
// directive of its own.
func hasListen(ds []nginxDirective, srv nginxDirective) bool {
	depth := len(srv.Context) + 1
	started := false
	for _, d := range ds {
		if d.Line == srv.Line && d.Name == srv.Name && d.Block {
			started = true
			continue
		}
		if !started {
			continue
		}
		if len(d.Context) < depth {
			return false // past the block
		}
		if d.Name == "listen" && len(d.Context) == depth {
			return true
		}
	}
	return false
}

// fromEdit rewrites the image of the final FROM: the repository only, so
// the tag (and any ARG in it) stays; a pinned digest is replaced by the
// unprivileged image's.
func (m *nginxMove) fromEdit(from *rewrite.Instruction, pinned bool, digest string) (rewrite.Fix, string) {
	p := m.p
	d := p.d
	var word *rewrite.Word
	words := d.Words(from.ArgsSpan)
	for i := range words {
		if !strings.HasPrefix(words[i].Value, "--") {
			word = &words[i]
			break
		}
	}
	if word == nil || word.Raw != word.Value {
		return rewrite.Fix{}, "the FROM image is quoted"
	}
	span, text, line := word.Span, word.Raw, from.Line
	if wholeVarRE.MatchString(text) {
		// FROM $BASE: edit the global ARG's default when only this FROM uses it.
		var r *imageref.Ref
		for _, ref := range imageref.FromRefs(d) {
			if ref.In == from {
				r = ref
			}
		}
		if r == nil || !r.Editable || r.ViaArg == "" {
			why := "it comes from a variable"
			if r != nil && r.Why != "" {
				why = r.Why
			}
			return rewrite.Fix{}, "the image cannot be edited where it is written (" + why + ")"
		}
		span, text, line = r.Edit, r.Edit.Text(d.Src), r.EditLine
	}
	loc := nginxRepo.FindStringSubmatchIndex(text)
	if loc == nil {
		return rewrite.Fix{}, "the image name is assembled from variables"
	}
	prefix := text[loc[2]:loc[3]]
	repo := strings.TrimPrefix(mustNormalName(m.alt), "docker.io/")
	if prefix == "" {
		repo = m.alt // as the catalog writes it: nginxinc/nginx-unprivileged
	} else {
		repo = "docker.io/" + repo
	}
	end := loc[1]
	if end > 0 && (text[end-1] == ':' || text[end-1] == '@') {
		end--
	}
	newText := repo + text[end:]
	if pinned {
		at := strings.LastIndexByte(newText, '@')
		if at < 0 || strings.Contains(newText[at:], "$") || digest == "" {
			return rewrite.Fix{}, "its digest is not written where it can be replaced"
		}
		newText = newText[:at+1] + digest
	}
	msg := fmt.Sprintf("%s runs nginx as root (port 80, its own user switch); %s is NGINX's build of the same tag that runs as uid %d on port %d, with its pid and temp files in /tmp", p.a.Image, m.alt, m.uid, m.altSrv.Port)
	if pinned {
		msg += "; pinned to its digest, as the original was"
	}
	return rewrite.Fix{Line: line, Risk: rewrite.Review, Message: msg, Edits: []rewrite.Edit{rewrite.Replace(rewrite.Span{Start: span.Start, End: span.Start + len(text)}, newText)}}, ""
}

func tagOrLatest(tag string) string {
	if tag == "" {
		return "latest"
	}
	return tag
}

// hasPlatform reports whether list covers p (a variant left out matches
// any), as rebase compares platforms.
func hasPlatform(list []registry.Platform, p registry.Platform) bool {
	for _, q := range list {
		if q.OS == p.OS && q.Architecture == p.Architecture && (q.Variant == p.Variant || p.Variant == "" || q.Variant == "") {
			return true
		}
	}
	return false
}
