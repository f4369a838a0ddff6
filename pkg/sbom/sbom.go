// Package sbom writes a CycloneDX 1.5 bill of materials of the base images
// a set of Dockerfiles use: one container component per distinct image
// reference, with its tag, digest, publisher and verification kind, and the
// Dockerfiles and stages that use it.
//
// When hardenfix verify scanned the images it built (AddScan), the BOM also
// records what the scan found, in CycloneDX's own model:
//
//   - one container component per scanned image, bom-ref
//     "build:PATH#original" (the Dockerfile as written) or
//     "build:PATH#rewritten" (the verified rewrite), named by the
//     Dockerfile's path, with properties hardenfix:build, hardenfix:scanner,
//     hardenfix:image-id and hardenfix:vulnerabilities (the total and its
//     split by severity);
//   - one vulnerability per finding (ID, package, installed version), bom-ref
//     "vulnerability:ID:PACKAGE@VERSION", whose affects refer to the image
//     components it was found in: a CVE the rewrite fixed affects only
//     #original, a new one only #rewritten. Its ratings are the scanner's
//     severity (Grype's negligible is CycloneDX's info) and, when the report
//     gives one, the CVSS base score hardenfix ranks by, with its source; its
//     source is NVD for CVE IDs and GitHub for GHSA IDs; the package and
//     installed version are properties, the fixed version a recommendation;
//   - the scanner as a tool in the metadata, and a dependency of each
//     rewritten image on the base-image components its Dockerfile uses.
//
// Findings attach to the built images, not to the base-image components:
// the scanner scanned what was built, packages the Dockerfile installs
// included. Without scans the BOM holds the base images only.
package sbom

import (
	"crypto/sha256"
	"fmt"
	"io"
	"net/url"
	"path"
	"sort"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/google/uuid"

	"github.com/hardenfix/hardenfix/pkg/baseimage"
	"github.com/hardenfix/hardenfix/pkg/registry"
)

// Property names hardenfix writes on components, in its own namespace as
// the CycloneDX property taxonomy asks.
const (
	PropReference    = "hardenfix:reference"    // the image as written in FROM, before ARG expansion
	PropUsedBy       = "hardenfix:used-by"      // "PATH:LINE stage NAME"
	PropVerification = "hardenfix:verification" // official, verified-publisher, redhat, distroless, chainguard, microsoft
)

// LookupFunc adapts a function to registry.ImageInfo, for callers whose
// catalog lookup is a plain function.
type LookupFunc func(image string) (registry.ImageFacts, bool)

// Facts implements registry.ImageInfo.
func (f LookupFunc) Facts(image string) (registry.ImageFacts, bool) { return f(image) }

// Builder collects the base images of Dockerfiles.
type Builder struct {
	images  registry.ImageInfo
	entries map[string]*entry
	scans   []*scanned
}

type entry struct {
	ref     baseimage.Ref
	written map[string]bool
	uses    []use
}

type use struct {
	path      string
	line      int
	stage     int
	stageName string
}

// Note is a FROM line the BOM leaves out, and why.
type Note struct {
	Path    string
	Line    int
	Message string
}

// New returns a Builder. images tells the publisher and verification kind
// of an image (the catalog); nil when nothing is known. It is asked with
// the familiar reference ("python:3.12-slim@sha256:…",
// "gcr.io/distroless/static-debian12:nonroot").
func New(images registry.ImageInfo) *Builder {
	return &Builder{images: images, entries: map[string]*entry{}}
}

// Add records the FROM lines of the Dockerfile at path (as it reads after
// the run). Scratch and stage references are not images and are skipped
// silently; references that stay variable after the global ARG defaults,
// and invalid ones, are skipped with a Note.
func (b *Builder) Add(path string, froms []baseimage.From) []Note {
	var notes []Note
	for _, f := range froms {
		switch f.Kind {
		case baseimage.Scratch, baseimage.Stage:
			continue
		case baseimage.Variable:
			notes = append(notes, Note{path, f.Line, fmt.Sprintf("FROM %s is not in the SBOM: %s %s no default before the first FROM, so the image is known only at build time", f.Written, strings.Join(f.Unset, ", "), plural(len(f.Unset), "has", "have"))})
			continue
		case baseimage.Invalid:
			notes = append(notes, Note{path, f.Line, fmt.Sprintf("FROM %s is not in the SBOM: %q is not a valid image reference", f.Written, f.Expanded)})
			continue
		}
		key := f.Ref.String()
		e := b.entries[key]
		if e == nil {
			e = &entry{ref: f.Ref, written: map[string]bool{}}
			b.entries[key] = e
		}
		e.written[f.Written] = true
		e.uses = append(e.uses, use{path, f.Line, f.Stage, f.StageName})
	}
	return notes
}

// Len is the number of distinct image references recorded.
func (b *Builder) Len() int { return len(b.entries) }

// WithoutDigest lists the recorded references that pin no digest; the BOM
// can give them no hash.
func (b *Builder) WithoutDigest() []string {
	var out []string
	for _, e := range b.entries {
		if e.ref.Digest == "" {
			out = append(out, e.ref.FamiliarString())
		}
	}
	sort.Strings(out)
	return out
}

// BOM returns the bill of materials, made by the given tool version at
// the given time. Components are ordered by reference; the serial number is
// derived from the content, so the same input gives the same BOM.
func (b *Builder) BOM(version string, at time.Time) *cdx.BOM {
	keys := make([]string, 0, len(b.entries))
	for k := range b.entries {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	components := []cdx.Component{}
	for _, k := range keys {
		components = append(components, b.component(b.entries[k]))
	}
	bom := cdx.NewBOM()
	bom.Metadata = &cdx.Metadata{
		Timestamp: at.UTC().Format(time.RFC3339),
		Tools: &cdx.ToolsChoice{Components: &[]cdx.Component{{
			Type:    cdx.ComponentTypeApplication,
			Name:    "hardenfix",
			Version: version,
		}}},
	}
	images, vulns, scanners, deps := b.scanned()
	components = append(components, images...)
	bom.Components = &components
	if len(vulns) > 0 {
		bom.Vulnerabilities = &vulns
	}
	if len(deps) > 0 {
		bom.Dependencies = &deps
	}
	*bom.Metadata.Tools.Components = append(*bom.Metadata.Tools.Components, scanners...)
	h := sha256.New()
	fmt.Fprintln(h, version, bom.Metadata.Timestamp)
	for _, c := range components {
		fmt.Fprintln(h, c.BOMRef)
		for _, p := range *c.Properties {
			fmt.Fprintln(h, p.Name, p.Value)
		}
	}
	for _, v := range vulns {
		fmt.Fprintln(h, v.BOMRef)
		for _, a := range *v.Affects {
			fmt.Fprintln(h, a.Ref)
		}
	}
	bom.SerialNumber = uuid.NewSHA1(uuid.NameSpaceURL, h.Sum(nil)).URN()
	return bom
}

func (b *Builder) component(e *entry) cdx.Component {
	r := e.ref
	c := cdx.Component{
		BOMRef:  r.String(),
		Type:    cdx.ComponentTypeContainer,
		Name:    r.Familiar,
		Version: r.EffectiveTag(),
	}
	if alg, hex, ok := strings.Cut(r.Digest, ":"); ok && alg == "sha256" {
		c.Hashes = &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: hex}}
		c.PackageURL = purl(r)
	}
	var props []cdx.Property
	if b.images != nil {
		if facts, ok := b.images.Facts(r.FamiliarString()); ok {
			c.Publisher = facts.Publisher
			if facts.Verification != "" {
				props = append(props, cdx.Property{Name: PropVerification, Value: facts.Verification})
			}
		}
	}
	var written []string
	for w := range e.written {
		written = append(written, w)
	}
	sort.Strings(written)
	for _, w := range written {
		props = append(props, cdx.Property{Name: PropReference, Value: w})
	}
	uses := append([]use(nil), e.uses...)
	sort.Slice(uses, func(i, j int) bool {
		if uses[i].path != uses[j].path {
			return uses[i].path < uses[j].path
		}
		return uses[i].line < uses[j].line
	})
	var occurrences []cdx.EvidenceOccurrence
	for i, u := range uses {
		stage := fmt.Sprintf("stage %d", u.stage)
		if u.stageName != "" {
			stage = "stage " + u.stageName
		}
		props = append(props, cdx.Property{Name: PropUsedBy, Value: fmt.Sprintf("%s:%d %s", u.path, u.line, stage)})
		if i == 0 || uses[i-1].path != u.path {
			occurrences = append(occurrences, cdx.EvidenceOccurrence{Location: u.path})
		}
	}
	c.Properties = &props
	c.Evidence = &cdx.Evidence{Occurrences: &occurrences}
	return c
}

// purl is the reference as a package URL of type oci, which names the
// content by digest: pkg:oci/NAME@sha256%3AHEX?repository_url=REPO&tag=TAG.
func purl(r baseimage.Ref) string {
	s := "pkg:oci/" + url.PathEscape(strings.ToLower(path.Base(r.Name))) + "@" + strings.Replace(r.Digest, ":", "%3A", 1)
	q := "?repository_url=" + r.Name
	if r.Tag != "" {
		q += "&tag=" + url.QueryEscape(r.Tag)
	}
	return s + q
}

// Write writes bom as CycloneDX 1.5 JSON.
func Write(w io.Writer, bom *cdx.BOM) error {
	enc := cdx.NewBOMEncoder(w, cdx.BOMFileFormatJSON)
	enc.SetPretty(true).SetEscapeHTML(false)
	return enc.EncodeVersion(bom, cdx.SpecVersion1_5)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
