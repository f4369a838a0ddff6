package scan

import (
	"strings"

	"github.com/hardenfix/hardenfix/pkg/baseimage"
)

// Match is how a report relates to an image reference.
type Match int

const (
	// NoMatch: the report is of another image.
	NoMatch Match = iota
	// ByDigest: the reference pins a digest the report lists.
	ByDigest
	// ByName: the report names the same repository and tag, and the
	// reference pins no digest (or the report lists none).
	ByName
	// OtherBuild: the report names the same repository and tag, but the
	// reference pins a digest the report does not list: it is of another
	// build of that tag.
	OtherBuild
)

func (m Match) String() string {
	return [...]string{"none", "digest", "name", "other build"}[m]
}

// identity is what a report says about the image it scanned.
type identity struct {
	names   map[string]bool // "docker.io/library/python:3.12"
	digests map[string]bool // "sha256:…"
}

func (r *Report) identity() identity {
	id := identity{names: map[string]bool{}, digests: map[string]bool{}}
	for _, n := range append([]string{r.Artifact}, r.Names...) {
		ref, err := baseimage.Parse(n)
		if err != nil {
			continue // a tar file or a directory, not an image name
		}
		if t := ref.EffectiveTag(); t != "" {
			id.names[ref.Name+":"+t] = true
		}
		if ref.Digest != "" {
			id.digests[ref.Digest] = true
		}
	}
	for _, d := range r.Digests {
		if strings.HasPrefix(d, "sha256:") {
			id.digests[d] = true
			continue
		}
		if ref, err := baseimage.Parse(d); err == nil && ref.Digest != "" {
			id.digests[ref.Digest] = true
		}
	}
	return id
}

// Match says whether the report is of the image ref names. A digest is
// content: a reference pinned to a digest the report lists matches
// whatever the names. Otherwise the repository and tag must be the same
// after normalisation ("python" is "docker.io/library/python:latest").
// Grype's manifestDigest is a platform manifest's digest while FROM lines
// pin the index's, so a pinned reference usually matches through the
// repository digests instead.
func (r *Report) Match(ref baseimage.Ref) Match {
	if r.id == nil {
		id := r.identity()
		r.id = &id
	}
	id := r.id
	if ref.Digest != "" && id.digests[ref.Digest] {
		return ByDigest
	}
	t := ref.EffectiveTag()
	if t == "" || !id.names[ref.Name+":"+t] {
		return NoMatch
	}
	if ref.Digest != "" && len(id.digests) > 0 {
		return OtherBuild
	}
	return ByName
}
