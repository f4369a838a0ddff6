// Command rootcensus counts the final stages that still run as root after
// hardenfix has rewritten a tree of Dockerfiles, by the reason they do
// (the classes of issue 16), so a change to the non-root rule can be
// measured on real files:
//
//	go run ./internal/rootcensus [-v] [-repos] [-out DIR] DIR...
//
// Every Dockerfile under DIR goes through the whole pipeline, offline and
// with the embedded catalog, exactly as `hardenfix --offline` would rewrite
// it (nothing is written). The final stage is the last. Its effective user is the last USER of the
// stage and the stages it is built FROM, else the base image's user from
// the catalog; a base the catalog does not know with no USER counts as
// root ("unknown-root"): images run as root unless they say otherwise (online,
// the rule reads such a base's registry config instead, which the census,
// offline by design, does not). A USER whose value is only known at build
// time is counted apart.
//
// Each root final stage is put in the first class whose signs the
// Dockerfile, its base image or the scripts it copies from the build
// context show; -v lists the files of each class with the non-root note.
// Besides the classes of issue 16, "USER from a build ARG" (a USER root
// only through the defaults of its variables, which the rule leaves),
// "root daemon", "host access", "root-owned VOLUME", "start script changes
// owners or installs", "root-owned data folder" and "start script not in
// the image" are the rule's own blockers (a daemon that runs as
// root by design, the Docker socket, root's capabilities or a device, a
// volume or an empty folder root owns that hardenfix could not hand over,
// chown or apt at start, a script mounted at run time), so that a stage kept root by one of them is not
// counted under a weaker sign it also shows. A base image is seen as the
// rule sees it (the catalog, with the rule's built-in facts over it).
package main

import (
	"context"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/hardenfix/hardenfix/pkg/harden"
	"github.com/hardenfix/hardenfix/pkg/registry"
	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/hardenfix/hardenfix/pkg/rules/nonroot"
)

// classes in the order a root final stage is tried against them.
var classes = []string{
	"development container", "USER from a build ARG", "windows", "nginx", "apache/php-apache", "init/supervisor", "privilege-dropping entrypoint",
	"root daemon", "/root workdir or HOME", "ONBUILD/base image", "host access",
	"start script changes owners or installs", "root-owned VOLUME", "root-owned data folder", "start script not in the image",
	"build image as final stage", "unknown base", "other",
}

// noteWords are words a non-root note about each class must contain to
// name it.
var noteWords = map[string]*regexp.Regexp{
	"development container":                   regexp.MustCompile(`(?i)development container|devcontainer`),
	"USER from a build ARG":                   regexp.MustCompile(`(?i)--build-arg|variables' defaults`),
	"windows":                                 regexp.MustCompile(`(?i)windows|ContainerUser|ContainerAdministrator`),
	"nginx":                                   regexp.MustCompile(`(?i)nginx`),
	"apache/php-apache":                       regexp.MustCompile(`(?i)apache|httpd`),
	"init/supervisor":                         regexp.MustCompile(`(?i)s6|supervisor|tini|dumb-init|runit|runsv|systemd|init|cron`),
	"privilege-dropping entrypoint":           regexp.MustCompile(`(?i)gosu|su-exec|setpriv|runuser|chpst|setuidgid|drops? privileges|switches to`),
	"start script changes owners or installs": regexp.MustCompile(`(?i)chown|chgrp|package manager|changes owners`),
	"root daemon":                             regexp.MustCompile(`(?i)runs as root by design|` + rootDaemonNames),
	"root-owned data folder":                  regexp.MustCompile(`(?i)empty folder|keeps its state`),
	"start script not in the image":           regexp.MustCompile(`(?i)puts in the image|mounted when the container runs`),
	"/root workdir or HOME":                   regexp.MustCompile(`/root`),
	"ONBUILD/base image":                      regexp.MustCompile(`(?i)ONBUILD|base for other|no CMD or ENTRYPOINT|built on|extend|interpreter|shell|platform`),
	"host access":                             regexp.MustCompile(`(?i)Docker socket|capabilities|host resource|device|qemu:///system|Docker Engine API|talks to`),
	"root-owned VOLUME":                       regexp.MustCompile(`VOLUME`),
	"build image as final stage":              regexp.MustCompile(`(?i)build|toolchain|sdk`),
	"unknown base":                            regexp.MustCompile(`(?i)catalog|not known|registry|build time`),
	"other":                                   regexp.MustCompile(`.`),
}

type entry struct {
	name, sub, note string
}

func main() {
	verbose := flag.Bool("v", false, "list the files of each class")
	byRepo := flag.Bool("repos", false, "count per folder below each DIR (one repository each in a corpus)")
	out := flag.String("out", "", "write the files the non-root rule changed, as rewritten, below this folder (for a scanner)")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: rootcensus [-v] DIR...")
		os.Exit(2)
	}
	h, err := harden.New(harden.Options{Offline: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	c := &census{cat: h.Catalog(), dirs: flag.Args(), out: *out, byClass: map[string][]entry{}, repos: map[string]*tally{}}
	err = h.Tree(context.Background(), flag.Args(), func(r harden.Result) error {
		c.file(r)
		return nil
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	c.print(*byRepo, *verbose)
}

// census counts the files of a run.
type census struct {
	cat  *registry.Catalog
	dirs []string // the DIRs of the command line
	out  string   // -out
	// total files, parsed ones, root final stages before and after, after
	// with a USER known only at build time, root after with a note that
	// names none of their classes, with no note, files written to out,
	// files not built to be extended and those root after.
	total, parsed, before, after, unknownUser, unnamed, noNote, written, apps, rootApps int

	byClass map[string][]entry
	repos   map[string]*tally
}

type tally struct{ parsed, root int }

// repoOf is the folder below one of the DIRs that holds p.
func (c *census) repoOf(p string) string {
	for _, dir := range c.dirs {
		if rel, err := filepath.Rel(dir, p); err == nil && !strings.HasPrefix(rel, "..") {
			top, _, _ := strings.Cut(filepath.ToSlash(rel), "/")
			return filepath.Base(dir) + "/" + top
		}
	}
	return "?"
}

// file counts one file of the run.
func (c *census) file(r harden.Result) {
	c.total++
	if r.Err != nil || r.Rewrite == nil {
		return
	}
	old, err := rewrite.Parse(r.Path, r.Rewrite.Old)
	if err != nil || len(old.Stages) == 0 {
		return
	}
	c.parsed++
	if c.out != "" && changedByNonRoot(r.Rewrite) {
		c.write(r)
	}
	repo := c.repoOf(r.Path)
	if c.repos[repo] == nil {
		c.repos[repo] = &tally{}
	}
	c.repos[repo].parsed++
	d, err := rewrite.Parse(r.Path, r.Rewrite.New)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: the output does not parse: %v\n", r.Name, err)
		return
	}
	if u := effectiveUser(old, c.cat); u.root() {
		c.before++
	}
	u := effectiveUser(d, c.cat)
	if u.state == "unknown" {
		c.unknownUser++
	}
	dir := r.Context // the build context the rules read
	if dir == "" {
		dir = filepath.Dir(r.Path)
	}
	buildContext := rewrite.OpenContext(dir)
	labels := classify(d, u, c.cat, buildContext)
	buildContext.Close()
	app := !extended(labels)
	if app {
		c.apps++
	}
	if !u.root() {
		return
	}
	c.after++
	if app {
		c.rootApps++
	}
	c.repos[repo].root++
	c.classed(r, labels)
}

// write writes the file as rewritten below c.out, with the path it came
// from beside it.
func (c *census) write(r harden.Result) {
	dest := filepath.Join(c.out, filepath.FromSlash(c.repoOf(r.Path)), fmt.Sprintf("%04d", c.written), "Dockerfile")
	c.written++
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err == nil {
		_ = os.WriteFile(dest, r.Rewrite.New, 0o644)
		_ = os.WriteFile(filepath.Join(filepath.Dir(dest), "SOURCE"), []byte(r.Path+"\n"), 0o644)
	}
}

// classed counts a root final stage in its first class, with the non-root
// notes, and whether they name any of its classes.
func (c *census) classed(r harden.Result, labels []label) {
	class, sub := labels[0].class, labels[0].sub
	var notes []string
	for _, n := range r.Rewrite.Notes {
		if n.Rule == "non-root" {
			notes = append(notes, n.Message)
		}
	}
	note := strings.Join(notes, " | ")
	switch {
	case note == "":
		c.noNote++
	default:
		named := false
		for _, l := range labels[:len(labels)-1] {
			named = named || noteWords[l.class].MatchString(note)
		}
		if !named && len(labels) == 1 {
			named = true // "other": any note says why
		}
		if !named {
			c.unnamed++
			sub += " [note names none of its classes]"
		}
	}
	if class == "other" {
		sub = gist(note)
	}
	c.byClass[class] = append(c.byClass[class], entry{r.Name, sub, note})
}

// print prints the counts, the table of classes, and with byRepo the
// counts per folder, with verbose the files of each class.
func (c *census) print(byRepo, verbose bool) {
	parsed := c.parsed
	fmt.Printf("files %d, parsed %d; final stage root before the rewrite %d (%.1f%%), after %d (%.1f%%); USER only known at build time %d\n",
		c.total, parsed, c.before, pct(c.before, parsed), c.after, pct(c.after, parsed), c.unknownUser)
	fmt.Printf("images not built to be extended (no ONBUILD/base-image or development-container sign): %d parsed, %d root after (%.1f%%)\n", c.apps, c.rootApps, pct(c.rootApps, c.apps))
	fmt.Printf("root after, with no non-root note: %d; with a note that names none of the classes the file shows: %d\n\n", c.noNote, c.unnamed)
	fmt.Println("| class | root final stages | share of parsed | sub-classes |")
	fmt.Println("| --- | ---: | ---: | --- |")
	for _, class := range classes {
		es := c.byClass[class]
		subs := map[string]int{}
		for _, e := range es {
			if e.sub != "" {
				subs[e.sub]++
			}
		}
		var parts []string
		for _, k := range sortedKeys(subs) {
			parts = append(parts, fmt.Sprintf("%s %d", k, subs[k]))
		}
		fmt.Printf("| %s | %d | %.1f%% | %s |\n", class, len(es), pct(len(es), parsed), strings.Join(parts, ", "))
	}
	if byRepo {
		fmt.Println("\n| folder | parsed | root after |")
		fmt.Println("| --- | ---: | ---: |")
		var names []string
		for k := range c.repos {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			fmt.Printf("| %s | %d | %d |\n", k, c.repos[k].parsed, c.repos[k].root)
		}
	}
	if verbose {
		for _, class := range classes {
			es := c.byClass[class]
			if len(es) == 0 {
				continue
			}
			fmt.Printf("\n## %s\n", class)
			for _, e := range es {
				fmt.Printf("- %s [%s]\n    %s\n", e.name, e.sub, trim(e.note, 400))
			}
		}
	}
}

// changedByNonRoot reports whether the non-root rule changed the file.
func changedByNonRoot(r *rewrite.Result) bool {
	for _, f := range r.Fixes {
		if f.Rule == "non-root" {
			return true
		}
	}
	return false
}

// user is the effective user of a final stage.
type user struct {
	state string // root, non-root, unknown-root (base not known), unknown (USER $X)
	// fromArg is a root USER only through the defaults of its variables
	// (USER $UID with ARG UID=0), which the build may set otherwise.
	fromArg bool
	image   string // the external base image, expanded ("" for a variable)
	chain   []int  // the final stage and the stages it is built FROM
	facts   registry.ImageFacts
	known   bool // facts is set
}

func (u user) root() bool { return u.state == "root" || u.state == "unknown-root" }

func effectiveUser(d *rewrite.Document, cat *registry.Catalog) user {
	final := len(d.Stages) - 1
	var u user
	var pending *rewrite.Instruction // a USER whose variables have no value here
	seen := map[int]bool{}
	for i := final; i >= 0 && !seen[i]; {
		seen[i] = true
		u.chain = append(u.chain, i)
		instrs := d.Stage(i)
		for j := len(instrs) - 1; j >= 0; j-- {
			in := instrs[j]
			if in.Keyword != "USER" {
				continue
			}
			if u.state != "" {
				break
			}
			v := strings.TrimSpace(in.ArgsSpan.Text(d.Src))
			out, unset, err := d.Expand(v, d.VarsAt(in))
			if err != nil || len(unset) > 0 || strings.Contains(out, "$") {
				u.state, pending = "unknown", in
				break
			}
			u.state = userState(out)
			u.fromArg = u.state == "root" && strings.Contains(v, "$")
			break
		}
		base, unset, err := d.Expand(d.Stages[i].BaseName, d.GlobalArgs)
		if err != nil || len(unset) > 0 {
			base = ""
		}
		next := -1
		for k := 0; k < i; k++ {
			if base != "" && strings.EqualFold(d.Stages[k].Name, base) {
				next = k
			}
		}
		if next >= 0 {
			i = next
			continue
		}
		u.image = base
		if strings.EqualFold(base, "scratch") {
			if u.state == "" {
				u.state = "root"
			}
			return u
		}
		if base != "" {
			// as the rule sees it: the catalog, with the built-in facts
			// (official images that drop privileges, ...) over it
			u.facts, u.known = nonroot.ImageFacts(&rewrite.Env{Images: cat}, base)
		}
		break
	}
	if u.state == "unknown" && pending != nil && u.known && u.facts.AppUIDEnv != "" && u.facts.AppUID > 0 {
		// USER $APP_UID: the base image's ENV gives the value (.NET 8+), as
		// the rule reads it.
		vars := rewrite.Vars{u.facts.AppUIDEnv: strconv.Itoa(u.facts.AppUID)}
		for k, v := range d.VarsAt(pending) {
			vars[k] = v
		}
		if out, unset, err := d.Expand(strings.TrimSpace(pending.ArgsSpan.Text(d.Src)), vars); err == nil && len(unset) == 0 && !strings.Contains(out, "$") {
			u.state = userState(out)
		}
	}
	if u.state != "" {
		return u
	}
	switch {
	case u.known && u.facts.NonRoot() && !strings.EqualFold(u.facts.User, "ContainerAdministrator"):
		u.state = "non-root"
	case u.known:
		u.state = "root"
	default:
		u.state = "unknown-root"
	}
	return u
}

// userState is the state a USER value (expanded) gives.
func userState(v string) string {
	name, _, _ := strings.Cut(strings.Trim(strings.TrimSpace(v), `"`), ":")
	if name == "root" || name == "0" || strings.EqualFold(name, "ContainerAdministrator") {
		return "root"
	}
	return "non-root"
}

var (
	reWinImage  = regexp.MustCompile(`(?i)windows|servercore|nanoserver|dotnet/framework|ltsc20`)
	reWinShell  = regexp.MustCompile(`(?i)^\s*shell\s+\[\s*"(powershell|pwsh|cmd)`)
	reWinPath   = regexp.MustCompile(`(?i)\b[c-z]:\\`)
	reNginx     = regexp.MustCompile(`(?i)(^|[/"' \[,])(nginx|openresty)([" ',\]]|$|\s)`)
	reNginxImg  = regexp.MustCompile(`(?i)(^|/)(nginx|nginx-[a-z-]+|openresty)(:|$)`)
	reApache    = regexp.MustCompile(`(?i)apache2-foreground|httpd-foreground|apache2ctl|apachectl|\bhttpd\b\s+-D|apache2\s+-D|/usr/sbin/apache2`)
	reApacheImg = regexp.MustCompile(`(?i)(^|/)(httpd|apache[a-z0-9-]*)(:|$)|(^|/)php:[^ ]*apache|(^|/)wordpress(:|$)|(^|/)(drupal|joomla|mediawiki|nextcloud)(:[^ ]*apache|:?$)`)
	// reInit are the signs of an init system or supervisor, looked for in
	// CMD, ENTRYPOINT and the scripts the build copies (s6-overlay also in
	// the build steps that install it).
	reInit = map[string]*regexp.Regexp{
		"s6":          regexp.MustCompile(`(?i)s6-overlay|"/init"|ENTRYPOINT\s+/init\b|s6-svscan|linuxserver/|lsiobase/`),
		"supervisord": regexp.MustCompile(`(?i)supervisord|supervisorctl`),
		"runit":       regexp.MustCompile(`(?i)runsvdir|\brunit\b|my_init|phusion/baseimage`),
		"systemd":     regexp.MustCompile(`(?i)"?(/usr)?/sbin/init\b|/lib/systemd/systemd|\bsystemd"`),
	}
	// reDropper are the privilege droppers, anywhere (installed or run);
	// reSu is su, which only counts when the container runs it.
	reDropper   = regexp.MustCompile(`(?i)\b(gosu|su-exec|setpriv|runuser|chpst|s6-setuidgid|setuidgid)\b|\bchroot\s+--userspec|\bcapsh\s+--user`)
	reSu        = regexp.MustCompile(`(?i)\bsu\s+(-\s+|-c\s|-s\s)|\bsu\s+[a-z_][a-z0-9_-]*(\s+-[a-z]+)*\s+-c\b`)
	reShellCmd  = regexp.MustCompile(`(?i)^\s*(cmd|entrypoint)\s+(\[\s*"([^"]*/)?(sh|bash|ash|zsh|pwsh|powershell|cmd|node|python3?|irb|php)(\.exe)?"\s*\]|(\S*/)?(sh|bash|zsh|pwsh|powershell|node|python3?))\s*$`)
	reGenerated = regexp.MustCompile(`(?i)^#.*(do not edit|generated by|auto-generated|autogenerated|automatically generated)`)
	reRootHome  = regexp.MustCompile(`(?i)^\s*env\s+.*\bHOME[= ]\s*/root\b`)
	reRootCmd   = regexp.MustCompile(`/root/`)
	// reRootEnv is an ENV other than HOME whose value points into /root
	// (PATH=/root/.cargo/bin:$PATH), as the rule reads it.
	reRootEnv = regexp.MustCompile(`(?i)^\s*env\s+.*[= :"']/root(/|[:"' ]|$)`)
	// reKeepAlive is a command that only keeps the container alive, for
	// tools run by hand (the rule's bare command).
	reKeepAlive = regexp.MustCompile(`(?i)^\s*cmd\s+(\[\s*"tail"\s*,\s*"-f"\s*,\s*"/dev/null"\s*\]|tail\s+-f\s+/dev/null|\[\s*"sleep"\s*,\s*"infinity"\s*\]|sleep\s+infinity)\s*$`)
	// reCronFiles are root's cron configuration, which the rule blocks on.
	// (files copied there, RUN crontab).
	reCronFiles = regexp.MustCompile(`(?i)^\s*(copy|add)\s.*\s(/etc/cron|/var/spool/cron)\S*\s*$|^\s*run\s.*\bcrontab\s`)
	// rootDaemonNames are the rule's daemons that run as root by design
	// and have no class of their own (nginx, Apache, the supervisors and
	// cron have).
	rootDaemonNames = `radiusd|freeradius|sshd|rsyslogd|postfix|dovecot|vsftpd|proftpd|smbd|named|squid|dnsmasq|lighttpd|openvpn|pcscd|slapd|certbot`
	reRootDaemon    = regexp.MustCompile(`(?m)^[^#\n]*(^|[\s;&|("'\[,/])(radiusd|freeradius|sshd|sshd\.pam|rsyslogd|postfix|dovecot|vsftpd|proftpd|smbd|squid|dnsmasq|lighttpd|openvpn|pcscd|slapd|certbot|named\s+-\S*)(["',\]\s;&|)]|$)`)
	// reHostAccess are the rule's host-access blockers: the Docker CLI
	// (the socket), tools that need root's capabilities, devices.
	reDockerCLI  = regexp.MustCompile(`(?i)copy\s+--from=\S*docker(-cli)?(:\S*)?\s|\b(docker-ce|docker-ce-cli|docker-cli|moby-cli)\b|\binstall\b.*\sdocker\.io\b|docker\.sock`)
	reCapability = regexp.MustCompile(`(?m)^[^#\n]*(^|[\s;&|("'\[,/])(strace|ltrace|tcpdump|tshark|dumpcap|nmap|masscan|hping3|arp-scan|iptables|ip6tables|nft|wg-quick|modprobe|sysctl|perf|bpftrace|iftop|nethogs|adb|mount|dmidecode|wg|shorewall6?|debootstrap|gparted)(["',\]\s;&|)]|$)`)
	reDevice     = regexp.MustCompile(`/dev/(kvm|net/tun|fuse|tty[A-Z]|snd|dri|video|bus/|input|mem\b|sd[a-z]|nvidia|vhost|hidraw|usb)`)
	reVolume     = regexp.MustCompile(`(?i)^\s*volume\s`)
	reVolumeTmp  = regexp.MustCompile(`(?i)^\s*volume\s+\[?\s*"?/(var/)?tmp"?\s*\]?\s*$`)
	rePkgManager = regexp.MustCompile(`(?i)^\s*run\s.*\b(apt-get|apt|apk|yum|dnf|microdnf|zypper|tdnf|dpkg)\b`)
	// reNginxScript is nginx started by a script the build copies.
	reNginxScript = regexp.MustCompile(`(?m)^[^#\n]*(^|[\s;&|(])(exec\s+)?(/usr/sbin/)?nginx(-debug)?(\s+-\S+.*)?$`)
	// reSudoU is a command that switches user with sudo -u.
	reSudoU = regexp.MustCompile(`(?i)\bsudo["',\s]+(-\w+["',\s]+)*-u["',\s]*\w`)
	reCron  = regexp.MustCompile(`(?m)^[^#\n]*(^|[\s;&|("'\[,/])(cron|crond)(["',\]\s;&|)]|$)`)
	// scriptName is what is read from a folder the build copies: start-up
	// scripts and configuration, not the application's sources.
	scriptName = regexp.MustCompile(`(?i)(\.sh|\.conf|entrypoint[^/]*|^start[^/]*|^run)$`)
)

// classify returns the classes a root final stage belongs to, in the order
// of classes (the first is the one it is counted in), "other" last.
//
// It is one check per class, in the order of classes: kept in one piece
// so that order reads from top to bottom.
func classify(d *rewrite.Document, u user, cat *registry.Catalog, buildContext fs.FS) []label {
	var text, runtime strings.Builder // the chain's instructions; CMD and ENTRYPOINT only
	hasCmd, hasOnbuild := false, false
	for _, i := range u.chain {
		for _, in := range d.Stage(i) {
			t := in.Span.Text(d.Src)
			text.WriteString(t + "\n")
			switch in.Keyword {
			case "CMD", "ENTRYPOINT":
				hasCmd = true
				runtime.WriteString(t + "\n")
			case "ONBUILD":
				hasOnbuild = true
			}
		}
	}
	scripts := contextScripts(d, u.chain, buildContext)
	all := text.String() + "\n" + scripts
	cmd := runtime.String() + "\n" + scripts
	img := strings.ToLower(u.image)
	lines := strings.Split(text.String(), "\n")
	anyLine := func(re *regexp.Regexp) bool {
		for _, l := range lines {
			if re.MatchString(l) {
				return true
			}
		}
		return false
	}
	plat := strings.ToLower(d.Stages[u.chain[len(u.chain)-1]].Platform)
	var labels []label
	add := func(class, sub string) { labels = append(labels, label{class, sub}) }
	if p := filepath.ToSlash(d.Path); strings.Contains(p, "/.devcontainer/") {
		add("development container", ".devcontainer/")
	}
	if u.fromArg {
		add("USER from a build ARG", "")
	}
	if u.known && u.facts.Family == "windows" || reWinImage.MatchString(img) || strings.Contains(plat, "windows") ||
		d.Escape == '`' && (anyLine(reWinShell) || reWinPath.MatchString(all)) || anyLine(reWinShell) && reWinPath.MatchString(all) ||
		d.Escape == '`' && !anyLine(rePkgManager) && (!u.known || u.facts.Family == "") {
		// the last: the rule's "may be a Windows image" (one sign, no
		// Linux package manager), where it stays out
		add("windows", "")
	}
	switch {
	case reNginxImg.MatchString(img):
		add("nginx", "nginx base")
	case reNginx.MatchString(runtime.String()):
		add("nginx", "starts nginx")
	case hasCmd && reNginxScript.MatchString(scripts) && !initIn(cmd, all+img):
		// not under a supervisor, whose service scripts start it
		add("nginx", "script starts nginx")
	}
	switch {
	case reApacheImg.MatchString(img):
		add("apache/php-apache", "apache base")
	case reApache.MatchString(cmd):
		add("apache/php-apache", "starts apache")
	}
	initSign := false
	for _, k := range []string{"s6", "supervisord", "runit", "systemd"} {
		where := cmd
		if k == "s6" {
			where = all + img
		}
		if reInit[k].MatchString(where) {
			add("init/supervisor", k)
			initSign = true
			break
		}
	}
	// tini and dumb-init are no sign: they run as any user, and the rule
	// judges the program they start. cron is (the rule's supervisor notes
	// name it): started by CMD or ENTRYPOINT (not a script that may be
	// another command, as cron.sh next to entrypoint.sh), or given files
	// in root's cron configuration.
	if !initSign && (reCron.MatchString(runtime.String()) || anyLine(reCronFiles)) {
		add("init/supervisor", "cron")
	}
	switch {
	case u.known && u.facts.DropsPrivileges:
		add("privilege-dropping entrypoint", "base image drops privileges")
	case reDropper.MatchString(all):
		add("privilege-dropping entrypoint", strings.ToLower(reDropper.FindString(all)))
	case reSu.MatchString(cmd):
		add("privilege-dropping entrypoint", "su")
	case reSudoU.MatchString(cmd):
		add("privilege-dropping entrypoint", "sudo -u")
	}
	if m := reRootDaemon.FindStringSubmatch(cmd); m != nil && hasCmd {
		add("root daemon", strings.Fields(m[2])[0])
	}
	switch {
	case lastWorkdirRoot(d, u.chain):
		add("/root workdir or HOME", "WORKDIR")
	case anyLine(reRootHome):
		add("/root workdir or HOME", "HOME")
	case reRootCmd.MatchString(runtime.String()):
		add("/root workdir or HOME", "CMD path under /root")
	case anyLine(reRootEnv):
		add("/root workdir or HOME", "ENV into /root")
	}
	switch {
	case hasOnbuild:
		add("ONBUILD/base image", "ONBUILD")
	case generated(d):
		add("ONBUILD/base image", "generated template")
	case !hasCmd:
		add("ONBUILD/base image", "no CMD or ENTRYPOINT")
	case reShellCmd.MatchString(reInitFlags.ReplaceAllString(lastRuntime(runtime.String()), "$1[")):
		add("ONBUILD/base image", "shell or interpreter CMD")
	case reKeepAlive.MatchString(lastRuntime(runtime.String())):
		add("ONBUILD/base image", "keep-alive CMD")
	}
	header := headerComments(d)
	switch {
	case reDockerCLI.MatchString(all):
		add("host access", "Docker CLI")
	case reDockerAPIClient.MatchString(cmd):
		add("host access", "Docker API client")
	case strings.Contains(all, "qemu:///system"):
		add("host access", "libvirt socket")
	case reHeaderDevice.MatchString(header):
		add("host access", "device in the documented docker run")
	case reHeaderRootMount.MatchString(header):
		add("/root workdir or HOME", "documented docker run mounts into /root")
	case reCapability.MatchString(cmd):
		add("host access", "capabilities")
	case reDevice.MatchString(all):
		add("host access", "device")
	}
	// The rule's start-script blockers: owners changed or packages
	// installed at start, without a check of the uid first.
	if !reUIDCheck.MatchString(scripts) {
		switch {
		case reScriptChown.MatchString(scripts):
			add("start script changes owners or installs", "chown")
		case reScriptInstall.MatchString(scripts):
			add("start script changes owners or installs", "package manager")
		}
	}
	for _, l := range lines {
		if reVolume.MatchString(l) && !reVolumeTmp.MatchString(l) {
			add("root-owned VOLUME", "")
			break
		}
	}
	if dir := emptyDataFolder(lines, cmd); dir != "" {
		add("root-owned data folder", dir)
	} else if m := reStateFlag.FindStringSubmatch(runtime.String()); m != nil {
		add("root-owned data folder", "state folder the command names ("+m[1]+")")
	} else if reConfigFlag.MatchString(runtime.String()) {
		add("root-owned data folder", "state folder a configuration names")
	}
	if script := mountedScript(lastRuntime(runtime.String()), text.String()); script != "" {
		add("start script not in the image", script)
	}
	if u.image != "" {
		if row, ok := cat.Lookup(u.image); ok && row.Role == "build" {
			add("build image as final stage", row.Name)
		}
	}
	switch {
	case !u.known && u.image == "":
		add("unknown base", "FROM a variable")
	case !u.known:
		add("unknown base", "not in the catalog")
	}
	return append(labels, label{"other", ""})
}

var (
	reDockerAPIClient = regexp.MustCompile(`\b(watchtower|docker-gen|lazydocker|ctop|dive)\b`)
	reHeaderDevice    = regexp.MustCompile(`docker run.*(--device|--privileged)`)
	reHeaderRootMount = regexp.MustCompile(`docker run.*-v\s*\S+:/root\b`)
	reStateFlag       = regexp.MustCompile(`(--?(data[-_]?dir|config-dir|download-dir))[ ="]`)
	reConfigFlag      = regexp.MustCompile(`-config\.file=`)
	// reInitFlags is an exec-form init wrapper with its flags, which the
	// rule looks through (tini -g sh is a bare shell).
	reInitFlags     = regexp.MustCompile(`(?i)^(\s*(?:cmd|entrypoint)\s+)\[\s*"(?:\S*/)?(?:tini|tini-static|dumb-init)"\s*(?:,\s*"-[^"]*"\s*)*,\s*`)
	reUIDCheck      = regexp.MustCompile(`id -u|\$EUID|\$\{EUID|\$UID\b|whoami`)
	reScriptChown   = regexp.MustCompile(`(?m)^[^#\n]*\b(chown|chgrp)\s`)
	reScriptInstall = regexp.MustCompile(`(?m)^[^#\n]*\b(apt-get\s+(-\S+\s+)*(install|update)|apt\s+install|apk\s+add|dnf\s+install|yum\s+install|microdnf\s+install)\b`)
	reMkdirRun      = regexp.MustCompile(`(?i)^\s*run\b.*\bmkdir\b`)
	reMkdirPath     = regexp.MustCompile(`\bmkdir\s+(?:-\S+\s+)*((?:/[\w.@+-]+)+)`)
	reStateWorkdir  = regexp.MustCompile(`(?i)^\s*workdir\s+((/var/(lib|cache|spool|log)|/data)(/\S*)?)\s*$`)
	reCmdScript     = regexp.MustCompile(`(/[\w./-]*?([\w.-]+\.sh))\b`)
)

// emptyDataFolder returns a folder a RUN makes with mkdir that the command,
// a start script or an ENV line names, or a WORKDIR under the folders of a
// program's state: the signs of the rule's empty-folder blocker (the census
// does not check that nothing fills it).
func emptyDataFolder(lines []string, cmd string) string {
	env := ""
	for _, l := range lines {
		if strings.HasPrefix(strings.ToLower(strings.TrimSpace(l)), "env") {
			env += l + "\n"
		}
	}
	for _, l := range logicalLines(lines) {
		if m := reStateWorkdir.FindStringSubmatch(l); m != nil {
			return "WORKDIR " + m[1]
		}
		if !reMkdirRun.MatchString(l) {
			continue
		}
		for _, m := range reMkdirPath.FindAllStringSubmatch(l, -1) {
			if strings.HasPrefix(m[1], "/tmp") {
				continue
			}
			if strings.Contains(cmd, m[1]) || strings.Contains(env, m[1]) {
				return "mkdir " + m[1]
			}
		}
	}
	return ""
}

// headerComments is the comment text before the first instruction, with
// continued docker run examples joined into one line.
func headerComments(d *rewrite.Document) string {
	if len(d.Instructions) == 0 {
		return ""
	}
	head := string(d.Src[:d.LineStart(d.Instructions[0].Line)])
	var lines []string
	for _, l := range strings.Split(head, "\n") {
		lines = append(lines, strings.TrimLeft(l, "# \t"))
	}
	return strings.Join(logicalLines(lines), "\n")
}

// logicalLines joins lines continued with a backslash, so a RUN's later
// lines are read as part of it.
func logicalLines(lines []string) []string {
	var out []string
	cur := ""
	for _, l := range lines {
		t := strings.TrimRight(l, " \t\r")
		if strings.HasSuffix(t, "\\") {
			cur += strings.TrimSuffix(t, "\\") + " "
			continue
		}
		out = append(out, cur+l)
		cur = ""
	}
	if cur != "" {
		out = append(out, cur)
	}
	return out
}

// mountedScript returns the script the last CMD or ENTRYPOINT runs when
// no instruction names it: it comes in at run time.
func mountedScript(runtime, text string) string {
	m := reCmdScript.FindStringSubmatch(runtime)
	if m == nil {
		return ""
	}
	rest := strings.Replace(text, runtime, "", 1)
	if strings.Contains(rest, m[2]) {
		return ""
	}
	return m[1]
}

// initIn reports a sign of an init system or supervisor (s6 in all).
func initIn(cmd, all string) bool {
	for k, re := range reInit {
		if k == "s6" && re.MatchString(all) || k != "s6" && re.MatchString(cmd) {
			return true
		}
	}
	return false
}

// extended reports a file whose classes say it builds an image for others
// to extend or a development container: root by design.
func extended(labels []label) bool {
	for _, l := range labels {
		if l.class == "ONBUILD/base image" || l.class == "development container" {
			return true
		}
	}
	return false
}

// label is one class a root final stage belongs to, with a sub-class.
type label struct{ class, sub string }

// generated reports a generated-file header before the first instruction.
func generated(d *rewrite.Document) bool {
	if len(d.Instructions) == 0 {
		return false
	}
	for _, l := range strings.Split(string(d.Src[:d.LineStart(d.Instructions[0].Line)]), "\n") {
		if reGenerated.MatchString(strings.TrimSpace(l)) {
			return true
		}
	}
	return false
}

// lastRuntime is the last CMD or ENTRYPOINT line of the chain.
func lastRuntime(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// gist is the start of a note, to sort the "other" class.
func gist(note string) string {
	f := strings.Fields(note)
	if len(f) > 6 {
		f = f[:6]
	}
	return strings.Join(f, " ")
}

// lastWorkdirRoot reports whether the chain's last WORKDIR is /root or
// inside it.
func lastWorkdirRoot(d *rewrite.Document, chain []int) bool {
	for _, i := range chain {
		instrs := d.Stage(i)
		for j := len(instrs) - 1; j >= 0; j-- {
			if instrs[j].Keyword == "WORKDIR" {
				w := strings.Trim(strings.TrimSpace(instrs[j].ArgsSpan.Text(d.Src)), `"`)
				return w == "/root" || strings.HasPrefix(w, "/root/")
			}
		}
	}
	return false
}

// contextScripts returns the text of the files the chain copies from the
// build context (COPY and ADD sources that are files or small folders),
// which no symbolic link leaves.
func contextScripts(d *rewrite.Document, chain []int, buildContext fs.FS) string {
	var b strings.Builder
	read := func(name string) {
		fi, err := fs.Stat(buildContext, name)
		if err != nil || fi.Size() > 256<<10 {
			return
		}
		data, err := fs.ReadFile(buildContext, name)
		if err == nil && !strings.ContainsRune(string(data[:min(len(data), 512)]), 0) {
			b.Write(data)
			b.WriteString("\n")
		}
	}
	for _, i := range chain {
		for _, in := range d.Stage(i) {
			for _, name := range copiedSources(d, in) {
				matches, _ := fs.Glob(buildContext, name)
				for _, m := range matches {
					fi, err := fs.Stat(buildContext, m)
					if err != nil {
						continue
					}
					if !fi.IsDir() {
						read(m)
						continue
					}
					n := 0
					_ = fs.WalkDir(buildContext, m, func(q string, de fs.DirEntry, err error) error {
						if err != nil || n > 200 {
							return fs.SkipDir
						}
						if !de.IsDir() && de.Type().IsRegular() && scriptName.MatchString(de.Name()) {
							n++
							read(q)
						}
						return nil
					})
				}
			}
		}
	}
	return b.String()
}

// copiedSources are the context names (or patterns) of the sources of a
// COPY or ADD from the context: none for COPY --from, URLs, variables and
// paths out of the context.
func copiedSources(d *rewrite.Document, in *rewrite.Instruction) []string {
	if in.Keyword != "COPY" && in.Keyword != "ADD" {
		return nil
	}
	var srcs []string
	for _, w := range strings.Fields(in.ArgsSpan.Text(d.Src)) {
		if strings.HasPrefix(w, "--from") {
			return nil
		}
		if !strings.HasPrefix(w, "--") && !strings.HasPrefix(w, "[") {
			srcs = append(srcs, strings.Trim(w, `",[]`))
		}
	}
	if len(srcs) < 2 {
		return nil
	}
	var names []string
	for _, s := range srcs[:len(srcs)-1] {
		if strings.Contains(s, "://") || strings.Contains(s, "$") {
			continue
		}
		name := path.Clean(strings.TrimLeft(s, "/"))
		if name == ".." || strings.HasPrefix(name, "../") {
			continue
		}
		names = append(names, name)
	}
	return names
}

func pct(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}

func trim(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func sortedKeys(m map[string]int) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] || m[keys[i]] == m[keys[j]] && keys[i] < keys[j] })
	return keys
}
