package image

import (
	"context"
	_ "embed"
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/hardenfix/hardenfix/pkg/registry"
	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/hardenfix/hardenfix/pkg/rules/internal/imageref"
)

//go:embed doc/rebase.md
var rebaseDoc string

// Rebase moves FROM onto images of verified publishers.
var Rebase = &rewrite.Rule{
	Name:    "rebase",
	Summary: "Move FROM off deprecated and unofficial images onto verified publishers' images.",
	Doc:     rewrite.DocFile(rebaseDoc),
	Risk:    rewrite.Review,
	URL:     "https://docs.docker.com/docker-hub/image-library/trusted-content/",
	Options: []*rewrite.Option{allowedPublishers},
	Check:   checkRebase,
}

// allowedPublishers limits the verification kinds rebase may move images
// onto.
var allowedPublishers = &rewrite.Option{
	Name: "allowed-publishers",
	Type: rewrite.ListOption,
	Doc: "The verification kinds (official, verified-publisher, redhat, distroless, chainguard,\n" +
		"microsoft) of the catalog's publishers rebase may move images onto; empty allows all.",
}

// replacement is a candidate image for a FROM, and why.
type replacement struct {
	target string
	why    string
	// kind is mapping, successor or retag.
	kind string
	// family and libc of the original, for the package-manager check.
	family, libc string
	// majorCheck is false when the original's tags version something other
	// than the runtime (django:1.10-python3).
	majorCheck bool
}

func checkRebase(ctx context.Context, d *rewrite.Document, env *rewrite.Env) ([]rewrite.Fix, []rewrite.Note, error) {
	cat := imageref.CatalogOf(env)
	var fixes []rewrite.Fix
	var notes []rewrite.Note
	for _, r := range imageref.FromRefs(d) {
		if r.Skip {
			continue
		}
		if r.Problem != "" {
			notes = append(notes, imageref.Note(r, "not checked for a verified base: "+r.Problem))
			continue
		}
		p, err := imageref.Parse(r.Image)
		if err != nil {
			notes = append(notes, imageref.Note(r, fmt.Sprintf("not checked for a verified base: %q is not a valid image reference: %v", r.Image, err)))
			continue
		}
		rep, note := chooseReplacement(ctx, cat, env, r, p)
		if note != "" {
			notes = append(notes, imageref.Note(r, note))
		}
		if rep == nil {
			continue
		}
		if why := allowedPublisher(cat, env, rep.target); why != "" {
			notes = append(notes, imageref.Note(r, fmt.Sprintf("not rebased onto %s: %s", rep.target, why)))
			continue
		}
		if why := checkReplacement(ctx, cat, env, d, r, p, rep); why != "" {
			notes = append(notes, imageref.Note(r, fmt.Sprintf("not rebased onto %s: %s", rep.target, why)))
			continue
		}
		newText := spellLike(p, rep.target)
		if !r.Editable {
			notes = append(notes, imageref.Note(r, fmt.Sprintf("not rebased: %s would become %s (%s), but %s; change it by hand", r.Image, newText, rep.why, r.Why)))
			continue
		}
		msg := fmt.Sprintf("%s → %s: %s", r.Image, newText, rep.why)
		if r.ViaArg != "" {
			msg += fmt.Sprintf(" (in the default of ARG %s)", r.ViaArg)
		}
		if p.Digest != "" {
			msg += "; the old digest pinned the old image and is dropped"
		}
		if env.Resolver == nil {
			msg += "; " + imageref.NoLookupReason(env) + ": by catalog only, the new image's existence and platforms were not checked"
		}
		fixes = append(fixes, rewrite.Fix{Line: r.EditLine, Message: msg, Edits: []rewrite.Edit{rewrite.Replace(r.Edit, newText)}})
	}
	return fixes, notes, nil
}

// chooseReplacement follows DESIGN §3.1 step 3. It returns a candidate, or
// a note that says why there is none ("" when the image is fine as it is).
func chooseReplacement(ctx context.Context, cat *registry.Catalog, env *rewrite.Env, r *imageref.Ref, p imageref.Parsed) (*replacement, string) {
	if m, ok := cat.Mapping(r.Image); ok {
		target, ok := m.Target(p.Tag)
		if !ok {
			return nil, fmt.Sprintf("%s is a known non-standard image (%s), but no verified equivalent is known for tag %q; replace it by hand", p.Name, m.Reason, tagOrLatest(p.Tag))
		}
		return &replacement{target: target, why: m.Reason, kind: "mapping", family: m.Family, libc: m.Libc, majorCheck: m.TagVersions != "other"}, ""
	}
	if img, ok := cat.Lookup(r.Image); ok && img.Deprecated != nil {
		dep := img.Deprecated
		if why, ok := dep.NoEquivalentFor(p.Tag); ok {
			return nil, fmt.Sprintf("%s is deprecated (%s; %s), and %s", p.Name, dep.Reason, dep.Link, why)
		}
		target, ok := dep.Target(p.Tag)
		if !ok {
			return nil, fmt.Sprintf("%s is deprecated (%s; %s), but no %s tag is known to match %q; choose one by hand", p.Name, dep.Reason, dep.Link, dep.Successor, tagOrLatest(p.Tag))
		}
		f, _ := cat.Facts(r.Image)
		return &replacement{target: target, why: fmt.Sprintf("%s is deprecated: %s (%s)", p.Name, dep.Reason, dep.Link), kind: "successor", family: f.Family, libc: f.Libc, majorCheck: dep.TagVersions != "other"}, ""
	}
	if _, ok := cat.Verified(r.Image); ok {
		return nil, ""
	}
	base := suggestVerified(cat, p)
	if base == "" {
		return nil, fmt.Sprintf("non-standard base image %s: no verified replacement known", r.Image)
	}
	if env.Resolver == nil {
		return nil, fmt.Sprintf("non-standard base image %s: its name suggests %s, but telling whether it is a re-tag needs a registry lookup (%s)", r.Image, base, imageref.NoLookupReason(env))
	}
	mine, err := env.Resolver.Layers(ctx, p.Written, r.Platform)
	if err != nil {
		return nil, fmt.Sprintf("non-standard base image %s: not compared with %s: %s", r.Image, base, imageref.LookupErr(base, err))
	}
	theirs, err := env.Resolver.Layers(ctx, base, r.Platform)
	if err != nil {
		return nil, fmt.Sprintf("non-standard base image %s: not compared with %s: %s", r.Image, base, imageref.LookupErr(base, err))
	}
	plat := r.Platform.String()
	if r.Platform.OS == "" {
		plat = "linux/amd64"
	}
	switch {
	case len(theirs) > 0 && equalStrings(mine, theirs):
		return &replacement{target: base, why: fmt.Sprintf("%s is a re-tag of the verified %s (the same %d layers on %s)", r.Image, base, len(mine), plat), kind: "retag"}, ""
	case len(theirs) > 0 && len(mine) > len(theirs) && equalStrings(mine[:len(theirs)], theirs):
		return nil, fmt.Sprintf("non-standard base image %s is built on the verified %s and adds %d layer(s) on %s; not rebased: rebuild those additions on %s", r.Image, base, len(mine)-len(theirs), plat, base)
	}
	return nil, fmt.Sprintf("non-standard base image %s: no verified replacement known (its layers do not match %s on %s)", r.Image, base, plat)
}

// suggestVerified returns the official image a non-standard image's name
// suggests, with the same tag: someone/python:3.11 → python:3.11,
// someone/node-base:18 → node:18. "" when the name suggests none.
func suggestVerified(cat *registry.Catalog, p imageref.Parsed) string {
	last := path.Base(p.Named.Name())
	candidates := []string{last}
	for _, affix := range []string{"-base", "-image", "-docker", "-official", "_base"} {
		if s, ok := strings.CutSuffix(last, affix); ok {
			candidates = append(candidates, s)
		}
	}
	for _, affix := range []string{"docker-", "base-"} {
		if s, ok := strings.CutPrefix(last, affix); ok {
			candidates = append(candidates, s)
		}
	}
	for _, c := range candidates {
		img, ok := cat.Lookup(c)
		if !ok || img.Deprecated != nil || !strings.HasPrefix(mustName(c), "docker.io/library/") {
			continue
		}
		if p.Tag != "" {
			return c + ":" + p.Tag
		}
		return c
	}
	return ""
}

// checkReplacement applies DESIGN §3.1 step 4; it returns why the candidate
// is refused, or "".
func checkReplacement(ctx context.Context, cat *registry.Catalog, env *rewrite.Env, d *rewrite.Document, r *imageref.Ref, p imageref.Parsed, rep *replacement) string {
	tp, err := imageref.Parse(rep.target)
	if err != nil {
		return fmt.Sprintf("the catalog's target %q is not a valid reference", rep.target)
	}
	if img, ok := cat.Lookup(rep.target); ok && img.Deprecated != nil {
		return rep.target + " is itself deprecated"
	}
	if why := endOfLifeWhy(cat, rep.target); why != "" {
		return why
	}
	pm := stagePackageManager(d, r.Stage)
	if rep.kind != "retag" {
		if why := releaseChecks(cat, d, r.Stage, p, tp, rep, pm); why != "" {
			return why
		}
		if why := imagePathBlocker(d, r.Stage, p); why != "" {
			return why
		}
		tf, _ := cat.Facts(rep.target)
		if pm != "" {
			switch {
			case rep.family == "" || tf.Family == "":
				return fmt.Sprintf("%s runs on this image and the OS family of %s or %s is not known", pm, p.Written, rep.target)
			case familyGroup(rep.family) != familyGroup(tf.Family):
				return fmt.Sprintf("%s runs on this image, and the OS family would change from %s to %s", pm, rep.family, tf.Family)
			case rep.libc != tf.Libc:
				return fmt.Sprintf("%s runs on this image, and the C library would change from %s to %s", pm, orUnknown(rep.libc), orUnknown(tf.Libc))
			case rep.family != tf.Family:
				if why := distroNamesBlocker(d, r.Stage, rep.family, tf.Family); why != "" {
					return why
				}
			case tf.Family == "alpine":
				if why := alpineNamesBlocker(d, r.Stage, p, tp); why != "" {
					return why
				}
			}
		}
		img, _ := cat.Lookup(rep.target)
		from, to := registry.MajorVersion(p.Tag), registry.MajorVersion(tp.Tag)
		switch {
		case !rep.majorCheck || from == "" || from == to:
		case img != nil && img.Role == "base" && pm != "":
			return fmt.Sprintf("the OS release would change from %s to %s while %s runs on this image", from, orUnknown(to), pm)
		case img == nil || img.Role != "base":
			return fmt.Sprintf("the major version would change from %s to %s", from, orUnknown(to))
		}
	}
	if env.Resolver == nil {
		return ""
	}
	want, err := env.Resolver.Platforms(ctx, p.Written)
	if err != nil {
		return fmt.Sprintf("the platforms of %s could not be looked up: %s", p.Written, imageref.LookupErr(p.Written, err))
	}
	have, err := env.Resolver.Platforms(ctx, tp.LookupRef())
	if err != nil {
		return fmt.Sprintf("%s could not be looked up: %s", rep.target, imageref.LookupErr(rep.target, err))
	}
	if r.Platform.OS != "" {
		want = []registry.Platform{r.Platform}
	}
	var missing []string
	for _, w := range want {
		if !hasPlatform(have, w) {
			missing = append(missing, w.String())
		}
	}
	if len(missing) > 0 {
		return fmt.Sprintf("%s does not cover %s", rep.target, strings.Join(missing, ", "))
	}
	return ""
}

var pmCommands = map[string]string{
	"apt-get": "apt", "apt": "apt", "dpkg": "apt", "aptitude": "apt",
	"apk": "apk",
	"yum": "yum", "dnf": "dnf", "microdnf": "microdnf", "rpm": "rpm", "tdnf": "tdnf",
	"zypper": "zypper",
}

var shellWord = regexp.MustCompile(`[A-Za-z0-9_./-]+`)

// stagePackageManager returns the first package manager a RUN calls in the
// stage or in a later stage built FROM it (directly or not), or "".
func stagePackageManager(d *rewrite.Document, stage int) string {
	stages := stageAndDescendants(d, stage)
	for _, in := range d.Instructions {
		if in.Keyword != "RUN" || !stages[in.Stage] {
			continue
		}
		for _, w := range shellWord.FindAllString(in.Span.Text(d.Src), -1) {
			if pm, ok := pmCommands[path.Base(w)]; ok {
				return pm
			}
		}
	}
	return ""
}

// familyGroup puts families whose packages and tools are interchangeable
// for a Dockerfile together.
func familyGroup(f string) string {
	switch f {
	case "debian", "ubuntu":
		return "debian"
	case "rhel", "fedora":
		return "rhel"
	}
	return f
}

func hasPlatform(list []registry.Platform, p registry.Platform) bool {
	for _, q := range list {
		if q.OS == p.OS && q.Architecture == p.Architecture && (q.Variant == p.Variant || p.Variant == "" || q.Variant == "") {
			return true
		}
	}
	return false
}

// spellLike writes target the way the original was written: an explicit
// docker.io/ prefix is kept for Docker Hub targets, library/ never added,
// and an untagged original stays untagged when the target is latest.
func spellLike(orig imageref.Parsed, target string) string {
	tp, err := imageref.Parse(target)
	if err != nil {
		return target
	}
	out := target
	if orig.Tag == "" && tp.Tag == "latest" {
		out = tp.Name
	}
	if strings.HasPrefix(orig.Written, "docker.io/") && strings.HasPrefix(tp.Named.Name(), "docker.io/") && !strings.HasPrefix(out, "docker.io/") {
		out = "docker.io/" + out
	}
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func tagOrLatest(tag string) string {
	if tag == "" {
		return "latest"
	}
	return tag
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func mustName(s string) string {
	p, err := imageref.Parse(s)
	if err != nil {
		return ""
	}
	return p.Named.Name()
}

// allowedPublisher says why target's publisher is not one the
// configuration allows (allowed-publishers in .hardenfix.yaml), or "".
func allowedPublisher(cat *registry.Catalog, env *rewrite.Env, target string) string {
	allowed := allowedPublishers.List(env)
	if len(allowed) == 0 {
		return ""
	}
	pub, ok := cat.Verified(target)
	for _, kind := range allowed {
		if ok && pub.Verification == kind {
			return ""
		}
	}
	kind := "unknown"
	if ok {
		kind = pub.Verification
	}
	return fmt.Sprintf("its publisher's verification (%s) is not among the allowed publishers (%s)", kind, strings.Join(allowed, ", "))
}
