package nonroot

import (
	"context"
	_ "embed"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/hardenfix/hardenfix/pkg/rules/internal/userspec"
)

//go:embed doc/non-root.md
var nonRootDoc string

// Default identity of the user the non-root rule creates.
const (
	DefaultUID      = 10001
	DefaultUserName = "app"
	// distrolessUID is the nonroot user every distroless image ships.
	distrolessUID = 65532
	nonRootName   = "non-root"
)

// Rule makes the final stage run as a non-root user.
var Rule = &rewrite.Rule{
	Name:    nonRootName,
	Summary: "Run the final stage as a non-root user, created the right way for the base image's OS.",
	Doc:     rewrite.DocFile(nonRootDoc),
	Risk:    rewrite.Review,
	URL:     "https://docs.docker.com/build/building/best-practices/#user",
	Options: options,
	Check:   checkNonRoot,
}

var userNameRE = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,31}$`)

// identity returns the uid and name to create, with the defaults applied.
func identity(env *rewrite.Env) (uid int, name string, explicitUID bool, err error) {
	uid, name = uidOption.Int(env), userNameOption.String(env)
	explicitUID = uid != 0
	if uid == 0 {
		uid = DefaultUID
	}
	if name == "" {
		name = DefaultUserName
	}
	if uid < 1 || uid > 2147483646 {
		return 0, "", false, fmt.Errorf("uid %d is not a non-root uid (1 to 2147483646)", uid)
	}
	if !userNameRE.MatchString(name) {
		return 0, "", false, fmt.Errorf("user name %q is not a portable user name (lower-case letters, digits, _ and -, at most 32)", name)
	}
	return uid, name, explicitUID, nil
}

// nonRootPlan is what the rule decided for the final stage.
type nonRootPlan struct {
	d      *rewrite.Document
	a      *stageAnalysis
	final  int
	instrs []*rewrite.Instruction // the final stage, FROM first

	spec    string // the USER value to write
	userWhy string
	create  string // the command creating the user, or ""
	createW string
	anchor  *rewrite.Instruction // creation goes after this instruction
	// changes is true when the runtime user changes (root → non-root);
	// false when only an implicit non-root user is made explicit.
	changes bool
	// reused is true when the user is one the image already has.
	reused bool
	notes  []rewrite.Note
	role   string // env.Role: "base" for images built to be extended

	env *rewrite.Env
	ctx context.Context
	// custom are the fixes of a plan that is more than a USER (the web
	// servers of web.go); nil for the usual plan.
	custom []rewrite.Fix
	// baseCommand is true when the base image's own command runs and is
	// known to work unprivileged, so a stage without CMD is not a blocker.
	baseCommand bool
	// buildContext is env.BuildContext; windowsOS is true on a Windows stage
	// (wincontainers.go; not windows.go, which Go would build only on Windows).
	buildContext fs.FS
	windowsOS    bool
	// moved moves the application out of /root (roothome.go).
	moved []rewrite.Fix
	// reg is what the base image's registry config told, when the
	// catalog does not know the image (registryfacts.go).
	reg registryFacts
	// volumes are the VOLUMEs the fix hands to the runtime user
	// (volumes.go).
	volumes []volumeHandover
	// dirs are empty folders the process writes, handed to the runtime
	// user before the USER; dirNotes say why not, if that fails.
	dirs     []string
	dirNotes []rewrite.Note
}

func checkNonRoot(ctx context.Context, d *rewrite.Document, env *rewrite.Env) ([]rewrite.Fix, []rewrite.Note, error) {
	uid, name, explicitUID, err := identity(env)
	if err != nil {
		return nil, nil, err
	}
	if len(d.Stages) == 0 {
		return nil, nil, nil
	}
	final := len(d.Stages) - 1
	target := targetOption.String(env)
	if target != "" {
		final = -1
		for i, s := range d.Stages {
			if strings.EqualFold(s.Name, target) {
				final = i
			}
		}
		if final < 0 {
			return nil, []rewrite.Note{{Line: d.Instructions[0].Line, Message: fmt.Sprintf("no stage is named %q (--target): no stage was checked", target)}}, nil
		}
	}
	from := d.From(final)
	if from == nil || d.Ignores(nonRootName, from.Line) {
		// An ignore comment on the final FROM silences the rule for the
		// stage, notes included, whatever instructions a change would touch.
		return nil, nil, nil
	}
	p := &nonRootPlan{d: d, final: final, instrs: d.InstructionsByStage()[final], role: roleOption.String(env), env: env, ctx: ctx, buildContext: env.BuildContext}
	p.a = analyzeStage(d, env, final)
	if !p.decide(uid, name, explicitUID) {
		return nil, p.notes, nil
	}
	fixes := p.custom
	if fixes == nil {
		fixes = p.fixes()
	}
	if len(fixes) == 0 {
		return nil, p.notes, nil
	}
	if p.changes {
		p.runtimeNotes()
	}
	// The move out of /root, the user's creation, the USER and what a web
	// server needs only make sense together: one fix, which the pipeline
	// leaves out whole when an ignore comment stands before any
	// instruction it touches, notes and all.
	fix := combineFixes(append(p.moved, fixes...))
	fix.Notes = p.notes
	return []rewrite.Fix{fix}, nil, nil
}

// combineFixes makes one fix of the parts of one change, in the order
// given: the line of the part that comes first in the file, the parts'
// messages joined (each once), review risk unless every part is safe, and
// the image change of the part that has one.
func combineFixes(parts []rewrite.Fix) rewrite.Fix {
	if len(parts) == 1 {
		return parts[0]
	}
	out := rewrite.Fix{Line: parts[0].Line, Risk: rewrite.Safe}
	var msgs []string
	for _, f := range parts {
		out.Line = min(out.Line, f.Line)
		if f.Message != "" && !slices.Contains(msgs, f.Message) {
			msgs = append(msgs, f.Message)
		}
		if f.Risk != rewrite.Safe {
			out.Risk = rewrite.Review
		}
		if out.Image == nil {
			out.Image = f.Image
		}
		out.Edits = append(out.Edits, f.Edits...)
		out.Notes = append(out.Notes, f.Notes...)
	}
	out.Message = strings.Join(msgs, "; ")
	return out
}

func (p *nonRootPlan) note(line int, format string, args ...any) {
	p.notes = append(p.notes, rewrite.Note{Line: line, Message: fmt.Sprintf(format, args...)})
}

// decide works out the user to write and whether to create it; false
// means no edit (the reason is in the notes, or there is nothing to do).
// The checks run in order: the stage's own USER, the base image, what the
// container starts, and only then which user to run as.
func (p *nonRootPlan) decide(uid int, name string, explicitUID bool) bool {
	a := p.a
	var last *userSet
	if len(a.Sets) > 0 {
		last = &a.Sets[len(a.Sets)-1]
	}
	if last != nil && !last.Spec.Known && !a.HasFacts {
		// USER $VAR whose value may come from the base image's ENV:
		// online, its registry config says (registryfacts.go).
		p.lookupRegistryFacts()
		a.resolveImageEnv(p.d, p.reg.env)
	}
	if p.userUndecidable(last) {
		return false
	}
	p.lookupRegistryFacts() // online, for a base the catalog does not know
	if why := p.windows(); why != "" {
		return p.decideWindows(why, last)
	}
	if p.onbuildOnly() {
		return false
	}
	if p.statesNonRoot(last) {
		return true
	}
	// The stage ends as root (known, or assumed: images run as root
	// unless they say otherwise).
	if !a.ImageKnown {
		root := p.d.From(a.Chain[0])
		p.note(root.Line, "FROM %s: the base image is only known at build time (a variable with no default), so its OS, its users and whether it runs as root cannot be told; no USER was added", p.d.Stages[a.Chain[0]].BaseName)
		return false
	}
	if handled, ok := p.webServer(); handled {
		return ok
	}
	if p.staysRoot() {
		return false
	}
	p.changes = true
	return p.chooseUser(uid, name, explicitUID)
}

// userUndecidable notes why the stage's last USER (or its FROM) leaves
// nothing to decide: a USER only the build knows, one already non-root, one
// root only through --build-arg defaults, or a stage named by variables.
func (p *nonRootPlan) userUndecidable(last *userSet) bool {
	a := p.a
	switch {
	case last != nil && !last.Spec.Known:
		p.note(last.In.Line, "USER %s: its value comes from the base image or the build (--build-arg), so hardenfix cannot tell whether it is root; left as it is", last.Spec.Text)
		return true
	case last != nil && !last.Spec.Root() && last.In.Stage == p.final:
		return true // already ends on an explicit non-root USER
	case last != nil && last.In.Stage == p.final && userFromArg(p.d, last.In):
		// USER "$USER_ID:$USER_ID" with ARG USER_ID=0 (qdrant): the build
		// picks the user, and its chown and COPY --chown follow the same
		// variable; a fixed USER would own none of those files.
		p.note(last.In.Line, "USER %s is root only through its variables' defaults (%s): the build chooses the user with --build-arg, and the files it hands to that user follow the same variables, so a fixed USER would own none of them; left as it is: build with --build-arg set to a non-root id, or change the default", strings.TrimSpace(last.In.Command.(*instructions.UserCommand).User), last.Spec.Text)
		return true
	}
	if a.StageUnknown {
		root := p.d.From(a.Chain[0])
		p.note(root.Line, "FROM %s names a stage through variables only known at build time, so which stage (and user) the image is built on cannot be told; no USER was added", a.Image)
		return true
	}
	return false
}

// statesNonRoot sets the user when the stage already runs as non-root
// without saying so: a USER inherited from an earlier stage, or the base
// image's own non-root user.
func (p *nonRootPlan) statesNonRoot(last *userSet) bool {
	a := p.a
	switch {
	case last != nil && !last.Spec.Root():
		p.spec = p.numericFor(last.Spec)
		p.userWhy = fmt.Sprintf("the stage inherits USER %s from stage %s (line %d) without saying so; state it, so scanners and runAsNonRoot see it and the promise survives a change of that stage", last.Spec.Text, p.stageLabel(last.In.Stage), last.In.Line)
		return true
	case last == nil && a.HasFacts && a.Facts.NonRoot():
		p.spec = p.baseUserSpec()
		p.userWhy = fmt.Sprintf("%s already runs as the non-root user %s%s; state it, so scanners and runAsNonRoot see it and the promise survives a change of base image", a.Image, p.spec, p.registryWhy())
		return true
	}
	return false
}

// staysRoot notes why a stage that ends as root must stay so: an image
// that drops privileges or needs root by design, a supervisor, a daemon
// that runs as root, a privilege dropper, the rule's blockers, or a
// WORKDIR under /root that cannot move.
func (p *nonRootPlan) staysRoot() bool {
	a, from := p.a, p.instrs[0]
	if a.HasFacts && a.Facts.DropsPrivileges {
		p.dropsPrivilegesNote() // supervisor.go
		return true
	}
	if a.HasFacts && a.Facts.NeedsRoot {
		if a.Facts.NonRootAlt != "" {
			p.note(from.Line, "%s needs root by design (it binds port 80 and drops privileges itself); build on %s, which runs as a non-root user on port 8080, instead of adding USER", a.Image, a.Facts.NonRootAlt)
		} else {
			p.note(from.Line, "%s needs root by design (it binds a privileged port and drops privileges itself); no non-root variant is known, so no USER was added", a.Image)
		}
		return true
	}
	if p.supervisorNote() { // init systems and supervisors: supervisor.go
		return true
	}
	if a.Daemon != "" {
		name, _, _ := strings.Cut(a.Daemon, " ")
		hint := "make it run unprivileged (a port above 1023, pid and log files where the user may write), then add USER"
		if name == "nginx" {
			hint = "build on nginxinc/nginx-unprivileged, or make nginx run unprivileged (listen above 1023, pid and temp files under /tmp), then add USER"
		}
		if name == "radiusd" || name == "freeradius" {
			hint = "its configuration belongs to the package's own user (radius on Alpine, freerad on Debian): add USER with that user, not a new one (its ports, 1812 and 1813, need no root)"
		}
		p.note(a.DaemonLine, "the container starts %s, which runs as root by design (privileged ports, pid files, its own user switch), so no USER was added; %s%s", a.Daemon, hint, p.otherDaemons())
		return true
	}
	if p.dropperNote() {
		return true
	}
	stuck := p.rootWorkdir() // WORKDIR under /root: move it (roothome.go)
	if p.blocked() {
		if stuck != nil { // the next run's note: say it now
			p.notes = append(p.notes, *stuck)
		}
		return true
	}
	if stuck != nil {
		p.notes = append(p.notes, *stuck)
		return true
	}
	return false
}

// chooseUser picks the non-root user for a stage that ends as root: one
// the stage or image already has, or a new one; false (with a note) when
// the image may rely on a user or setup hardenfix cannot see.
func (p *nonRootPlan) chooseUser(uid int, name string, explicitUID bool) bool {
	a := p.a
	if p.chooseExisting() {
		p.reused = true
		return true
	}
	if a.HasFacts && a.Facts.AppUser != "" && a.Facts.AppUID > 0 {
		p.spec = strconv.Itoa(a.Facts.AppUID)
		p.reused = true
		p.userWhy = fmt.Sprintf("the final stage ran as root; run it as %s, the non-root user %s that %s already has (with its home), by uid so Kubernetes runAsNonRoot can verify it; build steps still run as root", p.spec, a.Facts.AppUser, a.Image)
		return true
	}
	if in := p.switchesToRoot(); in != nil {
		p.note(in.Line, "the stage switches to root before its build steps, so %s probably runs as a user of its own, whose name is not known here; switch back to that user after the last build step (a new user would not own the image's files)", imageOr(a))
		return false
	}
	if why := p.registryEntrypoint(); why != "" {
		p.note(p.d.From(a.Chain[0]).Line, "%s", why)
		return false
	}
	if why := p.unknownBase(); why != "" {
		p.note(p.d.From(a.Chain[0]).Line, "%s; a USER could break it, so none was added: %sadd it to a --catalog file (its user, distro and package manager), or set USER by hand", why, p.onlineHint())
		return false
	}
	if a.HasFacts && a.Facts.Family == "distroless" && !explicitUID {
		p.spec = fmt.Sprintf("%d:%d", distrolessUID, distrolessUID)
		p.userWhy = fmt.Sprintf("the final stage ran as root; run it as %s, the nonroot user every distroless image ships", p.spec)
		return true
	}
	p.spec = fmt.Sprintf("%d:%d", uid, uid)
	family, why := p.family()
	if family != "" {
		if reason := p.cannotCreate(uid, name); reason != "" {
			why = reason
		} else {
			p.create = creationCommand(family, uid, name)
			p.createW = fmt.Sprintf("create the system user %s (uid %d) for the runtime, with the %s commands (%s)", name, uid, familyTitle[family], why)
			p.anchor = p.instrs[0]
			p.userWhy = fmt.Sprintf("the final stage ran as root; run it as %s (user %s), numeric so Kubernetes runAsNonRoot can verify it; build steps still run as root", p.spec, name)
			return true
		}
	}
	p.userWhy = fmt.Sprintf("the final stage ran as root; run it as %s, numeric so Kubernetes runAsNonRoot can verify it and no user needs creating (%s); build steps still run as root", p.spec, why)
	return true
}

func (p *nonRootPlan) stageLabel(i int) string {
	if n := p.d.Stages[i].Name; n != "" {
		return n
	}
	return strconv.Itoa(i)
}

func imageOr(a *stageAnalysis) string {
	if a.ImageKnown && a.Image != "" {
		return a.Image
	}
	return "the base image"
}

func baseUser(a *stageAnalysis) string {
	if a.Facts.UID > 0 {
		return strconv.Itoa(a.Facts.UID)
	}
	return a.Facts.User
}

// chooseExisting picks a non-root user the image already has.
func (p *nonRootPlan) chooseExisting() bool {
	a := p.a
	// The non-root user an earlier USER switched to.
	for i := len(a.Sets) - 1; i >= 0; i-- {
		s := a.Sets[i].Spec
		if s.Known && !s.Root() {
			p.spec = p.numericFor(s)
			p.userWhy = fmt.Sprintf("the final stage ended as root; switch back to %s, the user USER set on line %d, after the last build step", p.spec, a.Sets[i].In.Line)
			return true
		}
	}
	// A user the Dockerfile creates.
	for _, u := range a.users() {
		if u.UID == 0 {
			continue
		}
		p.spec = u.Name
		if u.UID > 0 {
			p.spec = strconv.Itoa(u.UID)
			gid := u.GID
			if gid < 0 && u.Group != "" {
				gid = a.gidOf(u.Group)
			}
			if gid >= 0 {
				p.spec += ":" + strconv.Itoa(gid)
			}
		} else {
			p.note(u.In.Line, "user %s is created without a fixed uid, so USER names it; Kubernetes runAsNonRoot cannot verify a name: give it one (useradd -u, adduser -u)", u.Name)
		}
		p.userWhy = fmt.Sprintf("the final stage ran as root although line %d creates the user %s; run as %s after the last build step", u.In.Line, u.Name, p.spec)
		return true
	}
	// The user files are handed to: the build chowned to it, so it exists.
	for i := len(a.Owners) - 1; i >= 0; i-- {
		o := a.Owners[i]
		if o.Spec.Known && !o.Spec.Root() {
			p.spec = p.numericFor(o.Spec)
			p.userWhy = fmt.Sprintf("the final stage ran as root although line %d hands files to %s; run as %s after the last build step", o.In.Line, o.Spec.Text, p.spec)
			return true
		}
	}
	if a.HasFacts && a.Facts.NonRoot() {
		p.spec = p.baseUserSpec()
		p.userWhy = fmt.Sprintf("the final stage switched to root; switch back to %s, the base image's own user%s, after the last build step", p.spec, p.registryWhy())
		return true
	}
	return false
}

// numericFor writes a user by uid when the Dockerfile or the base image
// says which uid the name has.
func (p *nonRootPlan) numericFor(s userspec.Spec) string {
	if s.Numeric() {
		return s.Text
	}
	for _, u := range p.a.users() {
		if u.Name == s.User && u.UID > 0 {
			out := strconv.Itoa(u.UID)
			if s.Group != "" {
				if n, err := strconv.Atoi(s.Group); err == nil {
					return out + ":" + strconv.Itoa(n)
				}
				if g := p.a.gidOf(s.Group); g >= 0 {
					return out + ":" + strconv.Itoa(g)
				}
				return s.Text
			}
			if u.GID >= 0 {
				out += ":" + strconv.Itoa(u.GID)
			} else if g := p.a.gidOf(u.Group); u.Group != "" && g >= 0 {
				out += ":" + strconv.Itoa(g)
			}
			return out
		}
	}
	if f := p.a.Facts; p.a.HasFacts && f.User == s.User && f.UID > 0 && s.Group == "" {
		return strconv.Itoa(f.UID)
	}
	return s.Text
}

var familyTitle = map[string]string{"debian": "Debian/Ubuntu", "alpine": "Alpine/BusyBox", "rhel": "RHEL-family"}

// creationCommand is the command that creates the system user and group,
// with a home (tools cache in HOME: pip, corepack, go, composer, ...).
// Each creation is guarded, so a base image that already has a group or
// user of that name does not fail the build: grep reads /etc/group and
// /etc/passwd on every family (getent is not in every BusyBox build).
func creationCommand(family string, uid int, name string) string {
	home := "/home/" + name
	guard := func(file, create string) string {
		return fmt.Sprintf("(grep -q '^%s:' /etc/%s || %s)", name, file, create)
	}
	var group, user string
	switch family {
	case "debian":
		group = fmt.Sprintf("groupadd --system --gid %d %s", uid, name)
		user = fmt.Sprintf("useradd --system --uid %d --gid %s --create-home --home-dir %s --shell /usr/sbin/nologin %s", uid, name, home, name)
	case "alpine":
		// BusyBox adduser creates the home unless -H is given.
		group = fmt.Sprintf("addgroup -S -g %d %s", uid, name)
		user = fmt.Sprintf("adduser -S -D -h %s -s /sbin/nologin -u %d -G %s %s", home, uid, name, name)
	case "rhel":
		group = fmt.Sprintf("groupadd -r -g %d %s", uid, name)
		user = fmt.Sprintf("useradd -r -u %d -g %s -m -d %s -s /sbin/nologin %s", uid, name, home, name)
	default:
		return ""
	}
	return guard("group", group) + " && " + guard("passwd", user)
}

// family returns how to create a user on the stage's base ("debian",
// "alpine", "rhel"), or "" and why the numeric form is used.
func (p *nonRootPlan) family() (string, string) {
	a := p.a
	if a.HasFacts && a.Facts.Family != "" {
		f := a.Facts
		switch f.Family {
		case "debian", "ubuntu":
			if f.HasShell {
				return "debian", "family " + f.Family + " from the catalog"
			}
		case "alpine", "wolfi":
			if f.HasShell {
				return "alpine", "family " + f.Family + " from the catalog"
			}
		case "rhel", "fedora", "centos", "rocky", "almalinux", "oraclelinux", "amazonlinux":
			if f.HasShell && f.HasShadowUtils {
				return "rhel", "family " + f.Family + " with shadow-utils, from the catalog"
			}
			return "", a.Image + " has no useradd (no shadow-utils)"
		case "scratch":
			return "", "scratch has no shell or passwd tools"
		case "distroless":
			return "", a.Image + " has no shell"
		}
		if !f.HasShell {
			return "", a.Image + " has no shell"
		}
		return "", "no user-creation commands are known for family " + f.Family
	}
	// runs says where the package manager evidence comes from.
	runs := func(pm, command string) string {
		if a.PackageManagers[pm] {
			return "the stage runs " + command
		}
		return a.Image + " uses " + command + ", from what is known about it"
	}
	pms := a.PackageManagers
	if a.HasFacts && a.Facts.PackageManager != "" {
		// Known facts without a family still name the package manager.
		pms = map[string]bool{a.Facts.PackageManager: true}
		for pm := range a.PackageManagers {
			pms[pm] = true
		}
	}
	switch {
	case len(pms) == 0:
		if a.ImageKnown {
			return "", "the OS of " + a.Image + " is not known"
		}
		return "", "the base image is not known"
	case len(pms) > 1 && !(len(pms) == 2 && pms["dnf"] && pms["yum"]):
		return "", "the stage runs package managers of different families"
	case pms["apt"]:
		return "debian", runs("apt", "apt-get")
	case pms["apk"]:
		return "alpine", runs("apk", "apk")
	case pms["dnf"], pms["yum"]:
		img := strings.ToLower(a.Image)
		for _, marker := range []string{"amazonlinux", "ubi-minimal", "ubi-micro", "minimal", "micro"} {
			if strings.Contains(img, marker) {
				return "", a.Image + " may lack useradd (shadow-utils)"
			}
		}
		pm := "dnf"
		if pms["yum"] {
			pm = "yum"
		}
		return "rhel", runs(pm, pm)
	case pms["microdnf"]:
		return "", "microdnf images (ubi-minimal and the like) have no useradd"
	}
	return "", "no user-creation commands are known for this package manager"
}

// cannotCreate says why the user cannot be created safely, or "".
func (p *nonRootPlan) cannotCreate(uid int, name string) string {
	a := p.a
	if a.UnknownCreation {
		return "the Dockerfile creates users or groups whose names or ids are only known at build time"
	}
	for _, c := range a.Created {
		if c.Name == name || (c.IsGroup && c.GID == uid) || (!c.IsGroup && c.UID == uid) {
			return fmt.Sprintf("line %d already creates %s, which would clash with user %s (%d)", c.In.Line, c.Name, name, uid)
		}
	}
	if a.SudoBeforeRoot != nil {
		return fmt.Sprintf("line %d runs sudo, so the base image may not run as root", a.SudoBeforeRoot.Line)
	}
	return ""
}

// baseUserUnknown reports a base image whose user is not known, in a
// chain that shows no sign of running as root (a package manager run
// without sudo, or USER root): it may well run as a user of its own.
func (p *nonRootPlan) baseUserUnknown() bool {
	a := p.a
	if !a.ImageKnown || strings.EqualFold(a.Image, "scratch") {
		return false
	}
	if a.HasFacts && (a.Facts.UID >= 0 || a.Facts.User != "") {
		return false
	}
	if a.rootShown {
		return false
	}
	for _, s := range a.Sets {
		if s.Spec.Root() {
			return false
		}
	}
	return true
}

// unknownBase says why the base image is too little known for a USER:
// not in the catalog and no registry config (offline, or the lookup
// failed: registryfacts.go), so its own user is unknown
// (it may run as a non-root user whose files a new user would not own), or,
// when the build shows it runs as root, whether its own entrypoint needs
// root (a proxy on port 80, a supervisor) — unless the Dockerfile sets its
// own ENTRYPOINT, so the image's does not run. "" when the rule may go on.
func (p *nonRootPlan) unknownBase() string {
	a := p.a
	if a.HasFacts || strings.EqualFold(a.Image, "scratch") {
		return "" // (decide has already refused an image only known at build time)
	}
	if p.baseUserUnknown() {
		return fmt.Sprintf("%s is not in the catalog %s, so the user it runs as is not known (it may have a non-root user of its own, whose files a new user would not own)", a.Image, p.unreadConfig())
	}
	if a.entrypoint == nil {
		return fmt.Sprintf("%s is not in the catalog %s, so whether its own entrypoint needs root (a privileged port, a user switch of its own) is not known", a.Image, p.unreadConfig())
	}
	return ""
}

// switchesToRoot returns the final stage's USER root when it comes before
// the stage's first RUN and the base image's user is not known: a sign
// that the base image runs as a non-root user of its own, whose name the
// rule cannot know without the catalog.
func (p *nonRootPlan) switchesToRoot() *rewrite.Instruction {
	a := p.a
	if a.HasFacts && (a.Facts.UID >= 0 || a.Facts.User != "") {
		return nil
	}
	for _, s := range a.Sets {
		if s.In.Stage != p.final {
			return nil // an earlier stage already said who runs
		}
	}
	for _, in := range p.instrs[1:] {
		switch in.Keyword {
		case "USER":
			if p.setIsRoot(in) {
				return in
			}
			return nil
		case "RUN":
			return nil
		}
	}
	return nil
}

// windows says why the stage is (or may be) a Windows image, or "". The
// catalog and the platform decide alone; otherwise two of the backtick
// escape, a Windows SHELL and drive-letter paths must agree, since each
// also turns up in Linux files (pwsh exists on Linux, and so does the
// backtick escape). One of them, with no Linux package manager in sight,
// leaves the rule unsure: it then stays out too.
func (p *nonRootPlan) windows() string {
	a := p.a
	if a.HasFacts && a.Facts.Family == "windows" {
		return "Windows base image"
	}
	if plat := p.platform(); strings.HasPrefix(strings.ToLower(plat), "windows") {
		return "the stage is built for --platform=" + plat
	}
	if a.HasFacts && a.Facts.Family != "" {
		return "" // the catalog knows a Linux family
	}
	var signals []string
	if p.d.Escape == '`' {
		signals = append(signals, "the backtick escape")
	}
	if a.windowsShell {
		signals = append(signals, "a Windows SHELL")
	}
	if a.windowsPath {
		signals = append(signals, "Windows paths")
	}
	switch {
	case len(signals) >= 2:
		return "this looks like a Windows image (" + strings.Join(signals, ", ") + ")"
	case len(signals) == 1 && len(a.PackageManagers) == 0:
		return "this may be a Windows image (" + signals[0] + ", and no Linux package manager)"
	}
	return ""
}

// platform is the --platform of the chain's first FROM, expanded with the
// global ARGs ("" when none or unknown).
func (p *nonRootPlan) platform() string {
	st := p.d.Stages[p.a.Chain[0]]
	if st.Platform == "" {
		return ""
	}
	out, unset, err := p.d.Expand(st.Platform, p.d.GlobalArgs)
	if err != nil || len(unset) > 0 {
		return ""
	}
	return out
}

// onbuildOnly notes images meant to be built FROM: a non-root USER would
// make their ONBUILD RUN triggers (and the downstream build) run as that
// user.
func (p *nonRootPlan) onbuildOnly() bool {
	var onbuild []*rewrite.Instruction
	runtime := false
	for _, in := range p.instrs[1:] {
		switch in.Keyword {
		case "ONBUILD":
			onbuild = append(onbuild, in)
			if c, ok := in.Command.(*instructions.OnbuildCommand); ok {
				if kw, _, _ := strings.Cut(strings.TrimSpace(c.Expression), " "); strings.EqualFold(kw, "RUN") {
					p.note(in.Line, "ONBUILD RUN runs in the builds that start FROM this image, as this image's user; a non-root USER here would make it fail, so none was added: set USER in the Dockerfiles built on this image")
					return true
				}
			}
		case "CMD", "ENTRYPOINT":
			runtime = true
		}
	}
	if len(onbuild) > 0 && !runtime {
		p.note(onbuild[0].Line, "this image declares ONBUILD triggers and no CMD or ENTRYPOINT: it is a base for other builds, which should set USER themselves, so none was added")
		return true
	}
	return false
}

// needsRootKeywords are the instructions a user switch must come after, so
// that every build step keeps its user.
var needsRootKeywords = map[string]bool{"RUN": true, "COPY": true, "ADD": true, "WORKDIR": true, "USER": true}

func (p *nonRootPlan) fixes() []rewrite.Fix {
	d := p.d
	userLine := d.Keyword("USER") + " " + p.spec
	last := 0
	for i, in := range p.instrs {
		if needsRootKeywords[in.Keyword] {
			last = i
		}
	}
	var userEdit rewrite.Edit
	var userFixLine int
	lastIn := p.instrs[last]
	if _, ok := lastIn.Command.(*instructions.UserCommand); ok && p.setIsRoot(lastIn) {
		// A trailing USER root with nothing after it that needs root:
		// replace its value.
		words := d.Words(lastIn.ArgsSpan)
		if len(words) > 0 {
			span := rewrite.Span{Start: words[0].Span.Start, End: words[len(words)-1].Span.End}
			userEdit, userFixLine = rewrite.Replace(span, p.spec), lastIn.Line
		}
	}
	if userFixLine == 0 {
		var before *rewrite.Instruction
		for _, in := range p.instrs[last+1:] {
			if in.Keyword == "CMD" || in.Keyword == "ENTRYPOINT" || in.Keyword == "HEALTHCHECK" {
				before = in
				break
			}
		}
		if before != nil {
			userEdit, userFixLine = rewrite.InsertLineBefore(d, before, userLine), before.Line
		} else {
			end := p.instrs[len(p.instrs)-1]
			if d.EndsInContinuation(end) {
				p.note(end.Line, "the file ends inside a line continuation (the last line of this instruction ends with %c), so no USER can follow it; end that line, then run hardenfix again", d.Escape)
				return nil
			}
			userEdit, userFixLine = rewrite.InsertLineAfter(d, end, userLine), end.Line
		}
	}
	if p.create == "" {
		risk := rewrite.Review
		if !p.changes {
			risk = rewrite.Safe // the same user, only stated: nothing changes at run time
		}
		return p.withVolumes([]rewrite.Fix{{Line: userFixLine, Message: p.userWhy, Risk: risk, Edits: []rewrite.Edit{userEdit}}}, userEdit)
	}
	createEdit := rewrite.InsertLineAfter(d, p.anchor, d.Keyword("RUN")+" "+p.create)
	if createEdit.Start == userEdit.Start && userEdit.Start == userEdit.End {
		// Both go at the same place (nothing but FROM in the stage).
		merged := createEdit
		if strings.HasPrefix(merged.New, d.Newline) {
			merged.New += d.Newline + userLine
		} else {
			merged.New += userLine + d.Newline
		}
		return p.withVolumes([]rewrite.Fix{{Line: p.anchor.Line, Message: p.createW + "; " + p.userWhy, Edits: []rewrite.Edit{merged}}}, userEdit)
	}
	return p.withVolumes([]rewrite.Fix{
		{Line: p.anchor.Line, Message: p.createW, Edits: []rewrite.Edit{createEdit}},
		{Line: userFixLine, Message: p.userWhy, Edits: []rewrite.Edit{userEdit}},
	}, userEdit)
}

// userFromArg reports a USER whose value is written with a variable that
// an ARG of the file declares (a build argument).
func userFromArg(d *rewrite.Document, in *rewrite.Instruction) bool {
	c, ok := in.Command.(*instructions.UserCommand)
	if !ok || !strings.Contains(c.User, "$") {
		return false
	}
	for _, a := range d.Instructions {
		arg, ok := a.Command.(*instructions.ArgCommand)
		if !ok {
			continue
		}
		for _, kv := range arg.Args {
			if regexp.MustCompile(`\$\{?` + regexp.QuoteMeta(kv.Key) + `\b`).MatchString(c.User) {
				return true
			}
		}
	}
	return false
}

func (p *nonRootPlan) setIsRoot(in *rewrite.Instruction) bool {
	for _, s := range p.a.Sets {
		if s.In == in {
			return s.Spec.Root()
		}
	}
	return false
}

// runtimeNotes are the notes that come with a change of the runtime user.
func (p *nonRootPlan) runtimeNotes() {
	if p.windowsOS {
		p.windowsRuntimeNotes()
		return
	}
	a := p.a
	user := userspec.Parse(p.spec, true)
	for _, e := range a.Exposes {
		var low []string
		for _, v := range e.Values {
			num, _, _ := strings.Cut(v, "/")
			num, _, _ = strings.Cut(num, "-")
			if n, err := strconv.Atoi(num); err == nil && n < 1024 {
				low = append(low, v)
			}
		}
		if len(low) > 0 {
			p.note(e.In.Line, "EXPOSE %s: as %s the process may not bind ports below 1024 (Docker 20.10+ allows it, Kubernetes by default does not); listen on a port above 1023, such as 8080, or grant CAP_NET_BIND_SERVICE", strings.Join(low, " "), p.spec)
		}
	}
	if low := a.commandPorts(p.d.From(a.Chain[0]).Line); len(low) > 0 {
		p.note(low[0].line, "%s listens on port %s: as %s the process may not bind ports below 1024 (Docker 20.10+ allows it, Kubernetes by default does not); listen on a port above 1023, such as 8080, or grant CAP_NET_BIND_SERVICE", low[0].what, low[0].port, p.spec)
	}
	for _, in := range a.SudoInstall {
		p.note(in.Line, "RUN installs sudo: the runtime user %s has no sudo rights, so anything that relies on sudo at runtime will fail; drop it", p.spec)
	}
	for _, in := range a.Sudo {
		p.note(in.Line, "RUN calls sudo: the runtime user %s has no sudo rights, and build steps that run as root do not need it; drop it", p.spec)
	}
	// The last WORKDIR is where the process starts.
	if in, wd := a.Workdir, a.WorkdirPath; in != nil && !systemPath(wd) && !a.owned(wd) {
		p.note(in.Line, "WORKDIR %s is owned by root: the process, now running as %s, cannot write there; if it writes files (caches, uploads, logs), hand it the directory with COPY --chown=%s or RUN chown %s %s", wd, p.spec, p.spec, p.spec, wd)
	}
	for _, o := range a.Owners {
		if o.Spec.Known && !o.Spec.Root() && !p.sameUser(o.Spec.User, user.User) {
			p.note(o.In.Line, "files are handed to %s here, but the container now runs as %s; if the process writes to them, hand them to %s instead", o.Spec.Text, p.spec, p.spec)
		}
	}
	if !p.reused && p.baseUserUnknown() {
		p.note(p.instrs[0].Line, "what user %s runs as is not known (no catalog entry or registry config), and nothing in the Dockerfile shows it is root; if it runs as a non-root user of its own, use that user instead of %s, which does not own the image's files", imageOr(a), p.spec)
	}
	if a.ScriptChown != "" {
		p.note(a.ScriptChownLine, "%s changes file owners or modes when the container starts; as %s that fails on files it does not own: move that work into the build (RUN) or make sure it only touches the user's files", a.ScriptChown, p.spec)
	}
	for _, in := range a.RootHome {
		p.note(in.Line, "files go under /root, root's home, which other users cannot read; the process now runs as %s: put them elsewhere (and set HOME) if it needs them", p.spec)
	}
	for _, in := range a.WorldWritable {
		p.note(in.Line, "chmod makes files writable by everyone; now that the process has its own user, chown them to %s and drop the world-writable mode", p.spec)
	}
}

// sameUser reports whether two user names or uids name the same user, by
// the users the Dockerfile creates and the base image's own.
func (p *nonRootPlan) sameUser(a, b string) bool {
	return a == b || p.uidOf(a) != "" && p.uidOf(a) == p.uidOf(b)
}

// uidOf returns the uid a user name or number stands for, or "".
func (p *nonRootPlan) uidOf(name string) string {
	if _, err := strconv.Atoi(name); err == nil {
		return name
	}
	for _, u := range p.a.users() {
		if u.Name == name && u.UID >= 0 {
			return strconv.Itoa(u.UID)
		}
	}
	if f := p.a.Facts; p.a.HasFacts {
		if f.User == name && f.UID >= 0 {
			return strconv.Itoa(f.UID)
		}
		if f.AppUser == name && f.AppUID > 0 {
			return strconv.Itoa(f.AppUID)
		}
	}
	return ""
}

// systemPath reports paths whose ownership is the system's business: the
// root folder and temporary, runtime and kernel file systems.
func systemPath(p string) bool {
	p = strings.TrimSuffix(p, "/")
	if p == "" {
		return true
	}
	for _, sys := range []string{"/tmp", "/var/tmp", "/run", "/var/run", "/sys", "/proc", "/dev"} {
		if p == sys || strings.HasPrefix(p, sys+"/") {
			return true
		}
	}
	return false
}

// owned reports whether path, or a folder above it, is handed to a
// non-root user by chown or COPY --chown (relative COPY destinations count,
// as they land in the working directory).
func (a *stageAnalysis) owned(path string) bool {
	for _, o := range a.Owners {
		if o.Spec.Root() {
			continue
		}
		for _, op := range o.Paths {
			op = strings.TrimSuffix(op, "/")
			if op == "" || op == "." || !strings.HasPrefix(op, "/") || op == path || strings.HasPrefix(path, op+"/") {
				return true
			}
		}
	}
	return false
}
