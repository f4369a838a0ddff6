package imageref

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/distribution/reference"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/hardenfix/hardenfix/internal/memo"
	"github.com/hardenfix/hardenfix/pkg/registry"
	"github.com/hardenfix/hardenfix/pkg/rewrite"
)

// Ref is one reference to an external image in a Dockerfile: a FROM,
// a COPY --from or a RUN --mount=...,from=. The rebase and pin rules share
// how references are found, expanded and edited.
type Ref struct {
	In *rewrite.Instruction
	// where names the reference for messages ("FROM", "COPY --from", "RUN --mount from").
	Where string
	// raw is the reference as written; image is raw with variables
	// expanded (empty when a variable has no known value).
	raw, Image string
	// skip is set for stage references and scratch: no image to look at.
	Skip bool
	// problem says why the reference cannot be resolved (variables with
	// no default).
	Problem string
	// edit is the span whose text is the whole reference, in the
	// instruction itself or in the default of the global ARG that holds
	// it; editable is false when the reference is assembled from pieces.
	Edit     rewrite.Span
	Editable bool
	EditLine int
	// viaArg names the global ARG whose default holds the reference.
	ViaArg string
	// why explains editable == false.
	Why string
	// platform is the FROM's literal --platform, if any.
	Platform registry.Platform
	Stage    int
}

var wholeVar = regexp.MustCompile(`^\$(?:([A-Za-z_][A-Za-z0-9_]*)|\{([A-Za-z_][A-Za-z0-9_]*)\})$`)

// FromRefs returns the image reference of every FROM, in file order.
func FromRefs(d *rewrite.Document) []*Ref {
	var refs []*Ref
	for _, in := range d.Instructions {
		if in.Keyword != "FROM" {
			continue
		}
		words := d.Words(in.ArgsSpan)
		var image *rewrite.Word
		var platform string
		for i := range words {
			w := &words[i]
			if strings.HasPrefix(w.Value, "--") {
				if v, ok := strings.CutPrefix(w.Value, "--platform="); ok {
					platform = v
				}
				continue
			}
			image = w
			break
		}
		if image == nil {
			continue
		}
		r := &Ref{In: in, Where: "FROM", raw: image.Raw, Stage: in.Stage}
		if platform != "" && !strings.Contains(platform, "$") {
			r.Platform = registry.ParsePlatform(platform)
		}
		resolveRef(d, r, *image, d.GlobalArgs, true)
		if r.Image != "" && (strings.EqualFold(r.Image, "scratch") || isStageName(d, r.Image, in.Stage)) {
			r.Skip = true
		}
		refs = append(refs, r)
	}
	return refs
}

// OtherRefs returns the image references of COPY --from and RUN
// --mount=...,from= (stage references excluded).
func OtherRefs(d *rewrite.Document) []*Ref {
	var refs []*Ref
	for _, in := range d.Instructions {
		var prefix string
		switch in.Command.(type) {
		case *instructions.CopyCommand:
			prefix = "--from="
		case *instructions.RunCommand:
			prefix = "--mount="
		default:
			continue
		}
		for _, w := range d.FlagWords(in.ArgsSpan) {
			if !strings.HasPrefix(w.Value, "--") {
				break
			}
			v, ok := strings.CutPrefix(w.Value, prefix)
			if !ok {
				continue
			}
			r := &Ref{In: in, Stage: in.Stage}
			sub := w
			if prefix == "--from=" {
				r.Where = "COPY --from"
				sub = rewrite.Word{Span: rewrite.Span{Start: w.Span.Start + len(prefix), End: w.Span.End}, Raw: w.Raw[min(len(prefix), len(w.Raw)):], Value: v}
				if w.Raw != w.Value {
					sub.Raw = v // quoted: analysed, not edited
				}
			} else {
				r.Where = "RUN --mount from"
				from, off, ok := mountFrom(v)
				if !ok {
					continue
				}
				sub = rewrite.Word{Span: rewrite.Span{Start: w.Span.Start + len(prefix) + off, End: w.Span.Start + len(prefix) + off + len(from)}, Raw: from, Value: from}
				if w.Raw != w.Value {
					sub.Span = rewrite.Span{}
				}
			}
			r.raw = sub.Raw
			resolveRef(d, r, sub, d.VarsAt(in), false)
			if w.Raw != w.Value {
				r.Editable, r.Why = false, "it is quoted"
			}
			if r.Problem == "" && (r.Image == "" || IsStageIndex(r.Image) || isStageName(d, r.Image, in.Stage+1) || strings.EqualFold(r.Image, "scratch")) {
				continue
			}
			refs = append(refs, r)
		}
	}
	return refs
}

// mountFrom finds from=VALUE in a --mount option list and returns the value
// and its offset in the list.
func mountFrom(opts string) (string, int, bool) {
	off := 0
	for _, field := range strings.Split(opts, ",") {
		if v, ok := strings.CutPrefix(field, "from="); ok && v != "" {
			return v, off + len("from="), true
		}
		off += len(field) + 1
	}
	return "", 0, false
}

// resolveRef expands w with vars and works out where an edit of the whole
// reference would go.
func resolveRef(d *rewrite.Document, r *Ref, w rewrite.Word, vars rewrite.Vars, fromGlobal bool) {
	if !strings.Contains(w.Value, "$") {
		r.Image = w.Value
		r.Edit, r.Editable, r.EditLine = w.Span, w.Span != rewrite.Span{}, r.In.Line
		return
	}
	value, unset, err := d.Expand(w.Value, vars)
	if err != nil {
		r.Problem = fmt.Sprintf("the reference %q cannot be expanded: %v", w.Raw, err)
		return
	}
	if len(unset) > 0 {
		r.Problem = fmt.Sprintf("the reference %q uses $%s, whose value is only known at build time", w.Raw, strings.Join(unset, ", $"))
		return
	}
	r.Image = value
	m := wholeVar.FindStringSubmatch(w.Value)
	if m == nil {
		r.Why = fmt.Sprintf("it is assembled from ARGs (%s)", w.Raw)
		return
	}
	if !fromGlobal {
		r.Why = fmt.Sprintf("it comes from $%s, set inside the stage", m[1]+m[2])
		return
	}
	name := m[1] + m[2]
	r.ViaArg = name
	span, line, why := argDefaultSpan(d, name)
	if why != "" {
		r.Why = why
		return
	}
	r.Edit, r.Editable, r.EditLine = span, true, line
}

// argDefaultSpan finds the default of the global ARG name, when it can hold
// an edit: declared once before the first FROM with a literal default, used
// by exactly one FROM and by nothing else.
func argDefaultSpan(d *rewrite.Document, name string) (rewrite.Span, int, string) {
	uses := regexp.MustCompile(`\$\{?` + name + `\b`)
	var decl *rewrite.Instruction
	froms := 0
	for _, in := range d.Instructions {
		switch {
		case in.Keyword == "ARG" && in.Stage < 0:
			for _, w := range d.Words(in.ArgsSpan) {
				switch {
				case w.Value == name || strings.HasPrefix(w.Value, name+"="):
					if decl != nil {
						return rewrite.Span{}, 0, fmt.Sprintf("ARG %s is declared more than once", name)
					}
					decl = in
				case uses.MatchString(w.Raw):
					return rewrite.Span{}, 0, fmt.Sprintf("ARG %s also feeds another ARG (line %d)", name, in.Line)
				}
			}
		case in.Keyword == "ARG":
			for _, w := range d.Words(in.ArgsSpan) {
				if w.Value == name || strings.HasPrefix(w.Value, name+"=") {
					return rewrite.Span{}, 0, fmt.Sprintf("ARG %s is also used inside a stage (line %d)", name, in.Line)
				}
			}
		case in.Keyword == "FROM":
			if uses.MatchString(in.ArgsSpan.Text(d.Src)) {
				froms++
			}
		}
	}
	if froms != 1 {
		return rewrite.Span{}, 0, fmt.Sprintf("ARG %s feeds %d FROM instructions", name, froms)
	}
	if decl == nil {
		return rewrite.Span{}, 0, fmt.Sprintf("ARG %s has no default before the first FROM", name)
	}
	for _, w := range d.Words(decl.ArgsSpan) {
		rawVal, ok := strings.CutPrefix(w.Raw, name+"=")
		if !ok {
			continue
		}
		val := strings.TrimPrefix(w.Value, name+"=")
		start := w.Span.Start + len(name) + 1
		switch {
		case strings.Contains(rawVal, "$"):
			return rewrite.Span{}, 0, fmt.Sprintf("the default of ARG %s is itself built from variables", name)
		case rawVal == val:
			return rewrite.Span{Start: start, End: w.Span.End}, decl.Line, ""
		case len(rawVal) == len(val)+2 && (rawVal[0] == '"' || rawVal[0] == '\'') && rawVal[1:len(rawVal)-1] == val:
			return rewrite.Span{Start: start + 1, End: w.Span.End - 1}, decl.Line, ""
		}
		return rewrite.Span{}, 0, fmt.Sprintf("the default of ARG %s is written in a form hardenfix does not edit", name)
	}
	return rewrite.Span{}, 0, fmt.Sprintf("ARG %s has no default", name)
}

// isStageName reports whether s names one of the stages before stage.
func isStageName(d *rewrite.Document, s string, stage int) bool {
	for i := 0; i < stage && i < len(d.Stages); i++ {
		if d.Stages[i].Name != "" && strings.EqualFold(d.Stages[i].Name, s) {
			return true
		}
	}
	return false
}

// IsStageIndex reports whether s is a stage index (COPY --from=0).
func IsStageIndex(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// Parsed is a reference split the way the user wrote it: name as
// written (no tag, no digest), tag and digest.
type Parsed struct {
	Written, Name, Tag, Digest string
	Named                      reference.Named
}

// Parse splits s into name, tag and digest as written.
func Parse(s string) (Parsed, error) {
	r := parsed.Get(s, func(s string) parsedResult {
		p, err := parse(s)
		return parsedResult{p, err}
	})
	return r.ref, r.err
}

type parsedResult struct {
	ref Parsed
	err error
}

// parsed remembers Parse's answers: the files of a tree name the same few
// images, and parsing one is a regular expression match.
var parsed memo.Map[parsedResult]

func parse(s string) (Parsed, error) {
	named, err := reference.ParseNormalizedNamed(s)
	if err != nil {
		return Parsed{}, err
	}
	p := Parsed{Written: s, Named: named, Name: s}
	if i := strings.IndexByte(p.Name, '@'); i >= 0 {
		p.Name = p.Name[:i]
	}
	if i := strings.LastIndexByte(p.Name, ':'); i > strings.LastIndexByte(p.Name, '/') {
		p.Name = p.Name[:i]
	}
	if t, ok := named.(reference.Tagged); ok {
		p.Tag = t.Tag()
	}
	if dg, ok := named.(reference.Digested); ok {
		p.Digest = dg.Digest().String()
	}
	return p, nil
}

// WithTag is the name as written with tag (and no digest).
func (p Parsed) WithTag(tag string) string {
	if tag == "" {
		return p.Name
	}
	return p.Name + ":" + tag
}

// LookupRef is what to ask a registry: the reference without its digest
// (tag "latest" when untagged).
func (p Parsed) LookupRef() string {
	if p.Tag == "" {
		return p.Name + ":latest"
	}
	return p.Name + ":" + p.Tag
}

// Note is a note at the instruction of r.
func Note(r *Ref, msg string) rewrite.Note { return rewrite.Note{Line: r.In.Line, Message: msg} }

// CatalogOf returns the catalog rules consult: Env.Images when it is a
// catalog or gives one, else the embedded one.
func CatalogOf(env *rewrite.Env) *registry.Catalog {
	switch info := env.Images.(type) {
	case *registry.Catalog:
		if info != nil {
			return info
		}
	case interface{ Catalog() *registry.Catalog }:
		if c := info.Catalog(); c != nil {
			return c
		}
	}
	return registry.Embedded()
}

// LookupErr is a registry error as the rest of a note about ref: the
// registry client's errors already start with the reference, which the
// note names itself.
func LookupErr(ref string, err error) string {
	return strings.TrimPrefix(err.Error(), ref+": ")
}

// DotnetBefore8 reports a .NET image tag before 8.0, whose images set
// ASPNETCORE_URLS=http://+:80
// (https://learn.microsoft.com/dotnet/core/compatibility/containers/8.0/aspnet-port).
func DotnetBefore8(tag string) bool {
	major, _, _ := strings.Cut(tag, ".")
	n, err := strconv.Atoi(major)
	return err == nil && n < 8
}

// Facts returns what Env.Images knows about image, else the few facts
// the rule knows without a catalog.
//
// The built-in facts only ever make the rule more careful, so they still
// count over the catalog's: a Windows base, an image that switches user
// itself or one that needs root stays so whatever a catalog row says.
func Facts(env *rewrite.Env, image string) (registry.ImageFacts, bool) {
	builtin, known := BuiltinFacts(image)
	// Without image facts from the caller, the catalog still knows the
	// verified images (as multi-stage reads it).
	var info registry.ImageInfo = CatalogOf(env)
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
var dropsPrivileges = nameSet("postgres", "mysql", "mariadb", "redis", "mongo", "rabbitmq",
	"cassandra", "couchdb", "influxdb", "zookeeper", "neo4j", "ghost", "redmine", "eclipse-mosquitto")

// Official images that need root by design, with the verified image to use
// instead when one exists.
var needsRoot = map[string]string{
	"nginx": "nginxinc/nginx-unprivileged",
	"httpd": "",
}

// BuiltinFacts are the facts known without a catalog: scratch, distroless
// (whose tag says whether it is the nonroot variant), .NET chiseled and
// distroless images (their documented app user), Windows bases,
// LinuxServer.io images (s6-overlay) and the official images above. Only facts that make the rule more careful
// come from names; the OS family never does.
func BuiltinFacts(image string) (registry.ImageFacts, bool) {
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
		if !DotnetBefore8(tag) {
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

// NoLookupReason says why no registry is asked: a nil Env.Resolver is
// an offline run.
func NoLookupReason(*rewrite.Env) string { return "offline" }

func nameSet(names ...string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return m
}
