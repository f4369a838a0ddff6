package registry

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/distribution/reference"
	"gopkg.in/yaml.v3"

	"github.com/hardenfix/hardenfix/internal/memo"
)

//go:embed catalog.yaml
var embeddedCatalog []byte

// Catalog is what hardenfix knows about verified publishers and their images
// without asking a registry: the embedded catalog.yaml, optionally merged
// with a user's file. It implements ImageInfo. The schema is described in
// docs/catalog.md.
type Catalog struct {
	Version    string      `yaml:"version,omitempty"`
	Date       string      `yaml:"date,omitempty"`
	Publishers []Publisher `yaml:"publishers,omitempty"`
	// Images and Mappings are keyed by normalised repository name
	// (docker.io/library/node).
	Images   map[string]*Image   `yaml:"images,omitempty"`
	Mappings map[string]*Mapping `yaml:"mappings,omitempty"`
	// EndOfLifeRows are the end-of-life section, keyed like Images.
	EndOfLifeRows map[string]*Lifecycle `yaml:"end-of-life,omitempty"`
}

// Publisher is a verified publisher: every repository under Prefix (a
// normalised name prefix such as "docker.io/library/") is verified.
type Publisher struct {
	Prefix       string `yaml:"prefix"`
	Name         string `yaml:"name"`
	Verification string `yaml:"verification"`
	Source       string `yaml:"source"`
}

// Traits are the facts about an image that may differ by tag. In tag
// overrides an empty string or nil pointer means "as the row says"; the
// string "unknown" clears a value and "none" says the image has none.
type Traits struct {
	Family         string `yaml:"family,omitempty"`
	Libc           string `yaml:"libc,omitempty"`
	Shell          *bool  `yaml:"shell,omitempty"`
	PackageManager string `yaml:"package-manager,omitempty"`
	ShadowUtils    *bool  `yaml:"shadow-utils,omitempty"`
	User           string `yaml:"user,omitempty"`
	UID            *int   `yaml:"uid,omitempty"`
	// AppUser and AppUID name a non-root account the image creates but
	// does not run as (.NET's app, node's node): the non-root rule runs
	// as it instead of creating one that would clash.
	AppUser string `yaml:"app-user,omitempty"`
	AppUID  *int   `yaml:"app-uid,omitempty"`
	// AppUIDEnv names the ENV variable the image sets to AppUID (.NET 8+:
	// APP_UID), so a Dockerfile's USER $APP_UID is known to be that uid.
	AppUIDEnv       string `yaml:"app-uid-env,omitempty"`
	DropsPrivileges *bool  `yaml:"drops-privileges,omitempty"`
	NeedsRoot       *bool  `yaml:"needs-root,omitempty"`
	NonRootAlt      string `yaml:"non-root-alternative,omitempty"`
	// WorkingDir is the image's WORKDIR ("/" when its Dockerfile sets
	// none), against which a Dockerfile's relative paths resolve until
	// its first absolute WORKDIR.
	WorkingDir string `yaml:"working-dir,omitempty"`
	// Ships names packages the image has installed for good that a
	// Dockerfile built on it might install again (ca-certificates, which
	// apt-hygiene otherwise keeps the Recommends of curl for). A tag
	// override's list replaces the row's; "ships: []" clears it.
	Ships Packages `yaml:"ships,omitempty"`
}

// Packages is a list of package names; nil (absent) and empty ("[]", which
// clears a row's list in a tag override) differ.
type Packages []string

// IsZero keeps an empty list when the catalog is encoded: omitempty drops
// only an absent one.
func (p Packages) IsZero() bool { return p == nil }

// TagTraits overrides Traits for the tags that match the shell glob Match
// (an untagged reference has the tag "latest").
type TagTraits struct {
	Match  string `yaml:"match"`
	Traits `yaml:",inline"`
}

// Image is one catalog row: a repository and what is known about it.
type Image struct {
	// Name is the repository as the catalog file spells it ("node").
	Name         string `yaml:"-"`
	Source       string `yaml:"source"`
	Publisher    string `yaml:"publisher,omitempty"`
	Verification string `yaml:"verification,omitempty"`
	// Role is build, runtime or base.
	Role   string `yaml:"role,omitempty"`
	Traits `yaml:",inline"`
	// Variants names the image's variant tag conventions (slim, alpine,
	// jre, ...) with the glob their tags match.
	Variants   map[string]string `yaml:"variants,omitempty"`
	Tags       []TagTraits       `yaml:"tags,omitempty"`
	Deprecated *Deprecation      `yaml:"deprecated,omitempty"`
	// Server holds a web server image's runtime layout
	// (catalog_server.go).
	Server *Server `yaml:"server,omitempty"`
}

// Deprecation says an image is no longer maintained and what replaces it.
type Deprecation struct {
	Successor string `yaml:"successor"`
	Reason    string `yaml:"reason"`
	Link      string `yaml:"link"`
	// Tags maps the deprecated image's tags to successor references; a
	// tag no rule matches has no known equivalent.
	Tags []TagRule `yaml:"tags,omitempty"`
	// TagVersions is "other" when the tags version something other than
	// the runtime the successor's tags version (django:1.10-python3), so
	// their major versions are not compared; empty means "runtime".
	TagVersions string `yaml:"tag-versions,omitempty"`
	// NoEquivalent names tags the successor has no equivalent of, with
	// the reason (centos:7: no maintained EL7 rebuild exists); they are
	// left alone with that reason as the note.
	NoEquivalent []TagNote `yaml:"no-equivalent,omitempty"`
}

// TagNote is a regular expression on the tag and what to say about the
// tags it matches.
type TagNote struct {
	Match  string `yaml:"match"`
	Reason string `yaml:"reason"`
}

// NoEquivalentFor returns the reason the successor has no equivalent of
// tag ("" and "latest" are the same), or false.
func (d *Deprecation) NoEquivalentFor(tag string) (string, bool) {
	if tag == "" {
		tag = "latest"
	}
	for _, n := range d.NoEquivalent {
		if re, err := regexp.Compile(n.Match); err == nil && re.MatchString(tag) {
			return n.Reason, true
		}
	}
	return "", false
}

// Mapping is a known non-standard image and the verified image that
// replaces it, with the reason the two are equivalent.
type Mapping struct {
	Name   string `yaml:"-"`
	Source string `yaml:"source"`
	Reason string `yaml:"reason"`
	// Family and Libc describe the non-standard image, so a replacement
	// can be checked against them.
	Family string    `yaml:"family,omitempty"`
	Libc   string    `yaml:"libc,omitempty"`
	Tags   []TagRule `yaml:"tags"`
	// TagVersions is as in Deprecation.
	TagVersions string `yaml:"tag-versions,omitempty"`
}

// TagRule rewrites a tag that matches the regular expression Match into the
// reference To, which may use the groups of Match (${1}).
type TagRule struct {
	Match string `yaml:"match"`
	To    string `yaml:"to"`
	re    *regexp.Regexp
}

// Target returns the reference the rules give for tag ("" and "latest" are
// the same), or false when no rule matches.
func targetFor(rules []TagRule, tag string) (string, bool) {
	if tag == "" {
		tag = "latest"
	}
	for _, r := range rules {
		re := r.re
		if re == nil {
			var err error
			if re, err = regexp.Compile(r.Match); err != nil {
				continue
			}
		}
		if m := re.FindStringSubmatchIndex(tag); m != nil {
			return string(re.ExpandString(nil, r.To, tag, m)), true
		}
	}
	return "", false
}

// Target returns the successor reference for a tag of the deprecated image.
func (d *Deprecation) Target(tag string) (string, bool) { return targetFor(d.Tags, tag) }

// Target returns the verified reference that replaces tag of the mapped
// image.
func (m *Mapping) Target(tag string) (string, bool) { return targetFor(m.Tags, tag) }

var embedded = sync.OnceValues(func() (*Catalog, error) { return ParseCatalog(embeddedCatalog) })

// Embedded returns the catalog built into hardenfix. It is parsed once; the
// result must not be modified (Merge returns a new catalog).
func Embedded() *Catalog {
	c, err := embedded()
	if err != nil {
		// The file is embedded and tested; this is a build defect.
		panic("embedded catalog: " + err.Error())
	}
	return c
}

// LoadCatalog reads a user catalog file. It has the same shape as the
// embedded one; every section is optional.
func LoadCatalog(file string) (*Catalog, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	c, err := ParseCatalog(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return c, nil
}

// ParseCatalog parses catalog YAML. Unknown fields, duplicate keys
// (including two keys that name the same repository, "node" and
// "docker.io/library/node"), invalid names and invalid tag rules are errors.
func ParseCatalog(data []byte) (*Catalog, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, err
	}
	if err := checkDuplicateKeys(&root); err != nil {
		return nil, err
	}
	var raw struct {
		Version    string                `yaml:"version"`
		Date       string                `yaml:"date"`
		Publishers []Publisher           `yaml:"publishers"`
		Images     map[string]*Image     `yaml:"images"`
		Mappings   map[string]*Mapping   `yaml:"mappings"`
		EndOfLife  map[string]*Lifecycle `yaml:"end-of-life"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&raw); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	c := &Catalog{Version: raw.Version, Date: raw.Date, Publishers: raw.Publishers}
	var err error
	if c.Images, err = normaliseRows("images", raw.Images, func(img *Image, key string) { img.Name = key }); err != nil {
		return nil, err
	}
	if c.Mappings, err = normaliseRows("mappings", raw.Mappings, func(m *Mapping, key string) { m.Name = key }); err != nil {
		return nil, err
	}
	if c.EndOfLifeRows, err = normaliseRows("end-of-life", raw.EndOfLife, func(lc *Lifecycle, key string) { lc.Name = key }); err != nil {
		return nil, err
	}
	if err := c.compile(); err != nil {
		return nil, err
	}
	if err := c.compileLifecycles(); err != nil {
		return nil, err
	}
	return c, nil
}

// checkDuplicateKeys walks a YAML document and reports a mapping that
// defines a key twice (aliases are not followed; merge keys are allowed).
func checkDuplicateKeys(n *yaml.Node) error {
	if n.Kind == yaml.MappingNode {
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			if k == "<<" {
				continue
			}
			if line, dup := seen[k]; dup {
				return fmt.Errorf("line %d: key %q already defined at line %d", n.Content[i].Line, k, line)
			}
			seen[k] = n.Content[i].Line
		}
	}
	if n.Kind == yaml.AliasNode {
		return nil
	}
	for _, c := range n.Content {
		if err := checkDuplicateKeys(c); err != nil {
			return err
		}
	}
	return nil
}

// compile checks the rows and compiles their tag rules.
func (c *Catalog) compile() error {
	for _, p := range c.Publishers {
		if p.Prefix == "" || p.Verification == "" {
			return fmt.Errorf("publishers: a row needs prefix and verification (%+v)", p)
		}
	}
	for _, img := range c.Images {
		for _, t := range img.Tags {
			if _, err := path.Match(t.Match, "x"); err != nil || t.Match == "" {
				return fmt.Errorf("images: %s: tag pattern %q is not a valid glob", img.Name, t.Match)
			}
		}
		if img.Deprecated != nil {
			if _, err := normaliseRepo(img.Deprecated.Successor); err != nil {
				return fmt.Errorf("images: %s: successor: %w", img.Name, err)
			}
			if err := compileRules(img.Deprecated.Tags); err != nil {
				return fmt.Errorf("images: %s: deprecated: %w", img.Name, err)
			}
			for _, n := range img.Deprecated.NoEquivalent {
				if _, err := regexp.Compile(n.Match); err != nil || n.Reason == "" {
					return fmt.Errorf("images: %s: deprecated: no-equivalent %q needs a valid regular expression and a reason", img.Name, n.Match)
				}
			}
		}
	}
	for _, m := range c.Mappings {
		if err := compileRules(m.Tags); err != nil {
			return fmt.Errorf("mappings: %s: %w", m.Name, err)
		}
	}
	return nil
}

func compileRules(rules []TagRule) error {
	for i := range rules {
		re, err := regexp.Compile(rules[i].Match)
		if err != nil {
			return fmt.Errorf("tag rule %q: %w", rules[i].Match, err)
		}
		rules[i].re = re
		if _, err := reference.ParseNormalizedNamed(placeholderExpand(rules[i].To)); err != nil {
			return fmt.Errorf("tag rule %q: target %q: %w", rules[i].Match, rules[i].To, err)
		}
	}
	return nil
}

// envName is what an ENV variable the catalog names may be called.
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

var groupRef = regexp.MustCompile(`\$\{?\d+\}?`)

// packageName is a Debian package name (Debian Policy 5.6.7), which apk
// and rpm names of the packages the catalog records also satisfy.
var packageName = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]+$`)

// placeholderExpand fills a rule target's group references with a value
// that keeps it a valid reference, to check its shape.
func placeholderExpand(to string) string { return groupRef.ReplaceAllString(to, "1") }

// Validate checks that the catalog is consistent: every row names a
// source, every mapping target, successor and non-root alternative is
// itself a catalog image that is not deprecated, and every value is one
// hardenfix knows.
func (c *Catalog) Validate() error {
	var errs []error
	families := map[string]bool{"": true, "unknown": true, "debian": true, "ubuntu": true, "alpine": true, "rhel": true, "fedora": true, "suse": true, "amazonlinux": true, "wolfi": true, "distroless": true, "scratch": true, "windows": true}
	libcs := map[string]bool{"": true, "unknown": true, "none": true, "glibc": true, "musl": true}
	pms := map[string]bool{"": true, "unknown": true, "none": true, "apt": true, "apk": true, "dnf": true, "microdnf": true, "yum": true, "zypper": true, "tdnf": true}
	roles := map[string]bool{"build": true, "runtime": true, "base": true}
	checkTraits := func(where string, t Traits) {
		if !families[t.Family] {
			errs = append(errs, fmt.Errorf("%s: unknown family %q", where, t.Family))
		}
		if !libcs[t.Libc] {
			errs = append(errs, fmt.Errorf("%s: unknown libc %q", where, t.Libc))
		}
		if !pms[t.PackageManager] {
			errs = append(errs, fmt.Errorf("%s: unknown package manager %q", where, t.PackageManager))
		}
		if t.NonRootAlt != "" {
			errs = append(errs, c.checkTarget(where+": non-root-alternative", t.NonRootAlt)...)
		}
		if e := t.AppUIDEnv; e != "" && e != "unknown" && !envName.MatchString(e) {
			errs = append(errs, fmt.Errorf("%s: app-uid-env must be a variable name, not %q", where, e))
		}
		if w := t.WorkingDir; w != "" && w != "unknown" && (!path.IsAbs(w) || path.Clean(w) != w) {
			errs = append(errs, fmt.Errorf("%s: working-dir must be a clean absolute path or unknown, not %q", where, w))
		}
		for _, p := range t.Ships {
			if !packageName.MatchString(p) {
				errs = append(errs, fmt.Errorf("%s: ships: %q is not a package name", where, p))
			}
		}
	}
	for _, name := range sortedKeys(c.Images) {
		img := c.Images[name]
		where := "images: " + img.Name
		if !strings.HasPrefix(img.Source, "https://") {
			errs = append(errs, fmt.Errorf("%s: source must be an https URL, not %q", where, img.Source))
		}
		if !roles[img.Role] {
			errs = append(errs, fmt.Errorf("%s: role must be build, runtime or base, not %q", where, img.Role))
		}
		if _, ok := c.publisherOf(name, img); !ok {
			errs = append(errs, fmt.Errorf("%s: no publisher (add one, or a publishers prefix)", where))
		}
		checkTraits(where, img.Traits)
		errs = append(errs, validateServer(where, img.Server)...)
		for _, t := range img.Tags {
			checkTraits(where+": tags "+t.Match, t.Traits)
		}
		if d := img.Deprecated; d != nil {
			if d.Reason == "" || !strings.HasPrefix(d.Link, "https://") {
				errs = append(errs, fmt.Errorf("%s: a deprecation needs a reason and an https link", where))
			}
			errs = append(errs, c.checkTarget(where+": successor", d.Successor)...)
			for _, r := range d.Tags {
				errs = append(errs, c.checkTarget(where+": tag rule "+r.Match, placeholderExpand(r.To))...)
				if to, _ := normaliseRepo(placeholderExpand(r.To)); to != mustNormalise(d.Successor) {
					errs = append(errs, fmt.Errorf("%s: tag rule %q leads to %s, not the successor %s", where, r.Match, r.To, d.Successor))
				}
			}
		}
	}
	for _, name := range sortedKeys(c.Mappings) {
		m := c.Mappings[name]
		where := "mappings: " + m.Name
		if !strings.HasPrefix(m.Source, "https://") || m.Reason == "" {
			errs = append(errs, fmt.Errorf("%s: a mapping needs a reason and an https source", where))
		}
		if len(m.Tags) == 0 {
			errs = append(errs, fmt.Errorf("%s: a mapping needs tag rules", where))
		}
		if !families[m.Family] || !libcs[m.Libc] {
			errs = append(errs, fmt.Errorf("%s: unknown family %q or libc %q", where, m.Family, m.Libc))
		}
		for _, r := range m.Tags {
			errs = append(errs, c.checkTarget(where+": tag rule "+r.Match, placeholderExpand(r.To))...)
		}
	}
	errs = append(errs, c.validateLifecycles()...)
	return errors.Join(errs...)
}

// checkTarget reports a replacement that is not a catalog image or is
// itself deprecated.
func (c *Catalog) checkTarget(where, ref string) []error {
	name, err := normaliseRepo(ref)
	if err != nil {
		return []error{fmt.Errorf("%s: %w", where, err)}
	}
	img, ok := c.Images[name]
	switch {
	case !ok:
		return []error{fmt.Errorf("%s: %s is not a catalog image", where, ref)}
	case img.Deprecated != nil:
		return []error{fmt.Errorf("%s: %s is itself deprecated", where, ref)}
	}
	return nil
}

// Merge returns a new catalog: c with over's rows laid on top. A row of over
// replaces the row of c with the same name whole (so a user can change a
// successor or a default user without inheriting stale values); publishers
// with the same prefix are replaced. Version and date are c's, with over's
// appended when it has them.
func (c *Catalog) Merge(over *Catalog) *Catalog {
	out := &Catalog{Version: c.Version, Date: c.Date, Images: map[string]*Image{}, Mappings: map[string]*Mapping{}, EndOfLifeRows: map[string]*Lifecycle{}}
	if over.Version != "" {
		out.Version += "+" + over.Version
	}
	if over.Date != "" && over.Date > out.Date {
		out.Date = over.Date
	}
	replaced := map[string]bool{}
	for _, p := range over.Publishers {
		replaced[p.Prefix] = true
	}
	for _, p := range c.Publishers {
		if !replaced[p.Prefix] {
			out.Publishers = append(out.Publishers, p)
		}
	}
	out.Publishers = append(out.Publishers, over.Publishers...)
	for k, v := range c.Images {
		out.Images[k] = v
	}
	for k, v := range over.Images {
		out.Images[k] = v
	}
	for k, v := range c.Mappings {
		out.Mappings[k] = v
	}
	for k, v := range over.Mappings {
		out.Mappings[k] = v
	}
	for k, v := range c.EndOfLifeRows {
		out.EndOfLifeRows[k] = v
	}
	for k, v := range over.EndOfLifeRows {
		out.EndOfLifeRows[k] = v
	}
	return out
}

// Encode writes the catalog as YAML, rows sorted by name, in the shape
// ParseCatalog reads.
func (c *Catalog) Encode(w io.Writer) error {
	images := &yaml.Node{Kind: yaml.MappingNode}
	for _, k := range sortedKeys(c.Images) {
		var v yaml.Node
		if err := v.Encode(c.Images[k]); err != nil {
			return err
		}
		images.Content = append(images.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: c.Images[k].Name}, &v)
	}
	mappings := &yaml.Node{Kind: yaml.MappingNode}
	for _, k := range sortedKeys(c.Mappings) {
		var v yaml.Node
		if err := v.Encode(c.Mappings[k]); err != nil {
			return err
		}
		mappings.Content = append(mappings.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: c.Mappings[k].Name}, &v)
	}
	eol := &yaml.Node{Kind: yaml.MappingNode}
	for _, k := range sortedKeys(c.EndOfLifeRows) {
		var v yaml.Node
		if err := v.Encode(c.EndOfLifeRows[k]); err != nil {
			return err
		}
		eol.Content = append(eol.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: c.EndOfLifeRows[k].Name}, &v)
	}
	doc := struct {
		Version    string      `yaml:"version"`
		Date       string      `yaml:"date"`
		Publishers []Publisher `yaml:"publishers"`
		Images     *yaml.Node  `yaml:"images"`
		Mappings   *yaml.Node  `yaml:"mappings"`
		EndOfLife  *yaml.Node  `yaml:"end-of-life,omitempty"`
	}{c.Version, c.Date, c.Publishers, images, mappings, eol}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return err
	}
	return enc.Close()
}

// Lookup returns the catalog row of image's repository. image is a
// reference as a Dockerfile writes it; tag and digest are ignored.
func (c *Catalog) Lookup(image string) (*Image, bool) {
	name, _, err := splitRef(image)
	if err != nil {
		return nil, false
	}
	img, ok := c.Images[name]
	return img, ok
}

// Mapping returns the mapping row for image's repository.
func (c *Catalog) Mapping(image string) (*Mapping, bool) {
	name, _, err := splitRef(image)
	if err != nil {
		return nil, false
	}
	m, ok := c.Mappings[name]
	return m, ok
}

// Verified returns the publisher of image when it is a verified publisher's:
// a catalog row, or a repository under a publisher prefix.
func (c *Catalog) Verified(image string) (Publisher, bool) {
	name, _, err := splitRef(image)
	if err != nil {
		return Publisher{}, false
	}
	return c.publisherOf(name, c.Images[name])
}

func (c *Catalog) publisherOf(name string, img *Image) (Publisher, bool) {
	var best Publisher
	for _, p := range c.Publishers {
		if strings.HasPrefix(name, p.Prefix) && len(p.Prefix) > len(best.Prefix) {
			best = p
		}
	}
	if img != nil && img.Verification != "" {
		return Publisher{Prefix: name, Name: img.Publisher, Verification: img.Verification, Source: img.Source}, true
	}
	return best, best.Prefix != ""
}

// Facts implements ImageInfo: what the catalog knows about image, with the
// overrides of every tag pattern its tag matches.
func (c *Catalog) Facts(image string) (ImageFacts, bool) {
	name, tag, err := splitRef(image)
	if err != nil {
		return ImageFacts{UID: -1}, false
	}
	img, ok := c.Images[name]
	if !ok {
		return ImageFacts{UID: -1}, false
	}
	t := img.TraitsFor(tag)
	f := ImageFacts{
		Repository:      name,
		Family:          clean(t.Family),
		Libc:            clean(t.Libc),
		HasShell:        t.Shell != nil && *t.Shell,
		PackageManager:  clean(t.PackageManager),
		HasShadowUtils:  t.ShadowUtils != nil && *t.ShadowUtils,
		User:            clean(t.User),
		UID:             -1,
		AppUID:          -1,
		DropsPrivileges: t.DropsPrivileges != nil && *t.DropsPrivileges,
		NeedsRoot:       t.NeedsRoot != nil && *t.NeedsRoot,
		NonRootAlt:      t.NonRootAlt,
		WorkingDir:      clean(t.WorkingDir),
		Ships:           []string(t.Ships),
	}
	if t.UID != nil && *t.UID >= 0 {
		f.UID = *t.UID
	}
	if t.AppUser != "" && t.AppUID != nil && *t.AppUID > 0 {
		f.AppUser, f.AppUID = t.AppUser, *t.AppUID
		f.AppUIDEnv = clean(t.AppUIDEnv)
	}
	if p, ok := c.publisherOf(name, img); ok {
		f.Publisher, f.Verification = p.Name, p.Verification
	}
	return f, true
}

// TraitsFor returns the row's traits with the overrides of every tag
// pattern tag matches applied in order ("" is "latest").
func (img *Image) TraitsFor(tag string) Traits {
	if tag == "" {
		tag = "latest"
	}
	t := img.Traits
	for _, o := range img.Tags {
		if ok, _ := path.Match(o.Match, tag); !ok {
			continue
		}
		if o.Family != "" {
			t.Family = o.Family
		}
		if o.Libc != "" {
			t.Libc = o.Libc
		}
		if o.Shell != nil {
			t.Shell = o.Shell
		}
		if o.PackageManager != "" {
			t.PackageManager = o.PackageManager
		}
		if o.ShadowUtils != nil {
			t.ShadowUtils = o.ShadowUtils
		}
		if o.User != "" {
			t.User = o.User
		}
		if o.UID != nil {
			t.UID = o.UID
		}
		if o.AppUser != "" {
			t.AppUser = o.AppUser
		}
		if o.AppUID != nil {
			t.AppUID = o.AppUID
		}
		if o.AppUIDEnv != "" {
			t.AppUIDEnv = o.AppUIDEnv
		}
		if o.DropsPrivileges != nil {
			t.DropsPrivileges = o.DropsPrivileges
		}
		if o.NeedsRoot != nil {
			t.NeedsRoot = o.NeedsRoot
		}
		if o.NonRootAlt != "" {
			t.NonRootAlt = o.NonRootAlt
		}
		if o.WorkingDir != "" {
			t.WorkingDir = o.WorkingDir
		}
		if o.Ships != nil {
			t.Ships = o.Ships
		}
	}
	return t
}

// clean maps the catalog's "unknown" and "none" to the empty string
// ImageFacts uses for both.
func clean(s string) string {
	if s == "unknown" || s == "none" {
		return ""
	}
	return s
}

// splitRef parses a reference as written in a Dockerfile and returns its
// normalised repository and its tag ("" when untagged).
// Every file of a tree asks about the same few references, so the answers
// are remembered (reference parsing is a regular expression match).
func splitRef(image string) (name, tag string, err error) {
	r := splitRefs.Get(image, func(image string) splitResult {
		ref, err := reference.ParseNormalizedNamed(image)
		if err != nil {
			return splitResult{err: err}
		}
		var r splitResult
		if t, ok := ref.(reference.Tagged); ok {
			r.tag = t.Tag()
		}
		r.name = ref.Name()
		return r
	})
	return r.name, r.tag, r.err
}

type splitResult struct {
	name, tag string
	err       error
}

var splitRefs memo.Map[splitResult]

// normaliseRepo returns the normalised name of a repository key or target;
// a tag or digest is dropped.
func normaliseRepo(s string) (string, error) {
	name, _, err := splitRef(s)
	if err != nil {
		return "", fmt.Errorf("%q is not an image name: %w", s, err)
	}
	return name, nil
}

func mustNormalise(s string) string {
	n, _ := normaliseRepo(s)
	return n
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// MajorVersion returns the leading number of a tag ("20" of "20.1-slim",
// "3" of "3.12-alpine"), or "" when the tag does not start with one.
func MajorVersion(tag string) string {
	i := 0
	for i < len(tag) && tag[i] >= '0' && tag[i] <= '9' {
		i++
	}
	if i == 0 {
		return ""
	}
	n, err := strconv.Atoi(tag[:i])
	if err != nil {
		return ""
	}
	return strconv.Itoa(n)
}

// normaliseRows keys the rows of one catalog section by normalised
// repository name, refusing two keys that name the same repository and
// empty rows; name records each row's key as the file spells it.
func normaliseRows[T any](section string, raw map[string]*T, name func(*T, string)) (map[string]*T, error) {
	out := make(map[string]*T, len(raw))
	for key, row := range raw {
		repo, err := normaliseRepo(key)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", section, err)
		}
		if _, dup := out[repo]; dup {
			return nil, fmt.Errorf("%s: %q and another key both name %s", section, key, repo)
		}
		if row == nil {
			return nil, fmt.Errorf("%s: %q is empty", section, key)
		}
		name(row, key)
		out[repo] = row
	}
	return out, nil
}
