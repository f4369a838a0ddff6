package nonroot

import (
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/distribution/reference"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/hardenfix/hardenfix/pkg/registry"
	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/hardenfix/hardenfix/pkg/rules/internal/imageref"
	"github.com/hardenfix/hardenfix/pkg/rules/internal/userspec"
)

// This file reads the facts of a base image the catalog does not know
// from its config in the registry, when the run is online: the user it
// runs as, its OS and working directory, and whether it has an
// entrypoint of its own. A config is the truth about the very tag the
// FROM names, so nothing is guessed; what a config does not say (the
// distro, the package manager, the accounts the image has) stays unknown
// and the rest of the rule treats it so.

// registryFacts is what the lookup gave, kept for the notes.
type registryFacts struct {
	// asked is true when the registry was asked; err is its failure.
	asked bool
	err   error
	// user is the config's User as written (user[:group]); entrypoint
	// the image's own ENTRYPOINT; platform the platform whose config was
	// read.
	user       string
	entrypoint []string
	platform   string
	// env is the config's Env by name.
	env map[string]string
}

// lookupRegistryFacts fills p.a.Facts from the base image's registry
// config when neither the catalog nor the built-in facts know the image
// and a resolver is given. A failed lookup leaves the facts unknown (the
// note then says why); a stale answer from the cache still counts, as
// the image's config under a digest does not change and a tag's rarely
// changes its user.
func (p *nonRootPlan) lookupRegistryFacts() {
	a := p.a
	if p.reg.asked || a.HasFacts || !a.ImageKnown || a.Image == "" || strings.EqualFold(a.Image, "scratch") || p.env == nil || p.env.Resolver == nil {
		return
	}
	p.reg.asked = true
	plat := registry.Platform{}
	if s := p.platform(); s != "" {
		plat = registry.ParsePlatform(s)
	}
	cfg, err := p.env.Resolver.Config(p.ctx, a.Image, plat)
	if errors.Is(err, registry.ErrPlatformNotFound) && plat == (registry.Platform{}) {
		// An image published for Windows only has no linux/amd64 config:
		// read the first Windows one when every platform is Windows.
		if windows, ok := p.windowsOnlyPlatform(); ok {
			plat = windows
			cfg, err = p.env.Resolver.Config(p.ctx, a.Image, plat)
		}
	}
	if _, stale := registry.IsStale(err); err != nil && !stale || cfg == nil {
		if err == nil {
			err = errors.New("the registry gave no config")
		}
		p.reg.err = err
		return
	}
	f := registry.ImageFacts{UID: -1, AppUID: -1, WorkingDir: path.Join("/", cfg.WorkingDir)}
	if named, err := reference.ParseNormalizedNamed(a.Image); err == nil {
		f.Repository = named.Name()
	}
	user := userspec.Parse(cfg.User, true)
	switch {
	case strings.EqualFold(cfg.OS, "windows"):
		f.Family = "windows"
		// A Windows image whose config names no user runs as the
		// administrator (Server Core); Nano Server names ContainerUser.
		f.User = cfg.User
		if f.User == "" {
			f.User = "ContainerAdministrator"
		}
	case cfg.User == "" || user.Known && user.Root():
		f.User, f.UID = "root", 0
	case !user.Known:
		p.reg.err = fmt.Errorf("its config names the user %q, which is not an account name hardenfix can write", cfg.User)
		return
	default:
		f.User = user.User
		if n, err := strconv.Atoi(user.User); err == nil {
			f.UID = n
		}
	}
	a.Facts, a.HasFacts = f, true
	p.reg.user, p.reg.entrypoint = cfg.User, cfg.Entrypoint
	p.reg.env = map[string]string{}
	for _, kv := range cfg.Env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			p.reg.env[k] = v
		}
	}
	p.reg.platform = plat.String()
	if plat == (registry.Platform{}) {
		p.reg.platform = ""
	}
}

// windowsOnlyPlatform returns the first platform of the base image when
// every one of them is Windows.
func (p *nonRootPlan) windowsOnlyPlatform() (registry.Platform, bool) {
	plats, err := p.env.Resolver.Platforms(p.ctx, p.a.Image)
	if _, stale := registry.IsStale(err); err != nil && !stale || len(plats) == 0 {
		return registry.Platform{}, false
	}
	for _, pl := range plats {
		if !strings.EqualFold(pl.OS, "windows") {
			return registry.Platform{}, false
		}
	}
	return plats[0], true
}

// fromRegistry reports facts that came from the registry config.
func (p *nonRootPlan) fromRegistry() bool { return p.reg.asked && p.reg.err == nil && p.a.HasFacts }

// registryEntrypoint says why the image's own entrypoint, known only from
// its registry config, keeps the stage as root: it runs (the Dockerfile
// sets no ENTRYPOINT of its own) as root, and whether it needs root (a
// privileged port, a user switch of its own, files it chowns) is not in
// the config. "" when the rule may go on.
func (p *nonRootPlan) registryEntrypoint() string {
	a := p.a
	if !p.fromRegistry() || a.entrypoint != nil || len(p.reg.entrypoint) == 0 || a.Facts.NonRoot() {
		return ""
	}
	return fmt.Sprintf("%s runs as root (its registry config names no other user) and its own entrypoint %s runs, since the stage sets no ENTRYPOINT; whether that entrypoint needs root (a privileged port, a user switch of its own, files it chowns) is not in the config, so no USER was added: read what %s does, then add USER after the last build step if it runs unprivileged", a.Image, quoteArgs(p.reg.entrypoint), p.reg.entrypoint[0])
}

// quoteArgs writes an exec-form command as a Dockerfile would.
func quoteArgs(args []string) string {
	q := make([]string, len(args))
	for i, s := range args {
		q[i] = strconv.Quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// registryWhy is how the notes name the source of the base image's facts:
// the registry config (and its platform) when they came from there.
func (p *nonRootPlan) registryWhy() string {
	if !p.fromRegistry() {
		return ""
	}
	if p.reg.platform != "" {
		return fmt.Sprintf(" (its registry config for %s)", p.reg.platform)
	}
	return " (its registry config)"
}

// unreadConfig says, in parentheses, why the registry config did not tell
// what the catalog does not: the run is offline, or the lookup failed.
func (p *nonRootPlan) unreadConfig() string {
	if p.reg.asked && p.reg.err != nil {
		return fmt.Sprintf("(and its registry config could not be read: %s)", imageref.LookupErr(p.a.Image, p.reg.err))
	}
	return "(and the run is offline, so its registry config, which names its user and entrypoint, was not read)"
}

// onlineHint is the first next step of an unknown-base note when the run
// is offline: run online, so the registry config is read.
func (p *nonRootPlan) onlineHint() string {
	if p.reg.asked {
		return ""
	}
	return "run without --offline, "
}

// baseUserSpec is the USER value that names the base image's own
// non-root user: the registry config's User as written, so a group it
// names is kept (USER 1000 alone would run with the group of uid 1000's
// passwd entry, or gid 0 without one), else the catalog's uid or name.
func (p *nonRootPlan) baseUserSpec() string {
	if p.fromRegistry() && p.reg.user != "" && !p.windowsOS {
		return p.reg.user
	}
	return baseUser(p.a)
}

// resolveImageEnv reads again the USER values of the chain that use
// variables with no value in the Dockerfile, with the base image's ENV
// (env) for those: BuildKit expands USER with the environment the base
// image's config sets, so USER $APP_UID on a .NET 8+ image is USER 1654.
// A variable the Dockerfile gives a value keeps it.
func (a *stageAnalysis) resolveImageEnv(d *rewrite.Document, env map[string]string) {
	if len(env) == 0 {
		return
	}
	for i, s := range a.Sets {
		c, ok := s.In.Command.(*instructions.UserCommand)
		if s.Spec.Known || !ok {
			continue
		}
		vars := rewrite.Vars{}
		for k, v := range env {
			vars[k] = v
		}
		for k, v := range d.VarsAt(s.In) {
			vars[k] = v
		}
		text, unset, err := d.Expand(c.User, vars)
		if err != nil || len(unset) > 0 {
			continue
		}
		a.Sets[i].Spec = userspec.Parse(text, true)
	}
}
