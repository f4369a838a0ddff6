package rewrite

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Pin appends the multi-arch index digest to every external image reference.
var Pin = &Rule{
	Name:    "pin",
	Summary: "Pin every external image to its digest, keeping the tag.",
	Doc: `A tag moves; a digest does not. Pinning makes a build use the image it
was reviewed with, and makes base-image updates visible as a diff (Dependabot
and Renovate update pinned digests).

Every external image reference — FROM, COPY --from=<image> and
RUN --mount=...,from=<image> — gets the digest of its multi-platform index
appended, keeping the tag for readers: node:20-slim@sha256:…. Stage
references and scratch are not images.

A digest already written is kept (with --update-digests it is refreshed from
the tag). A reference without a tag or with latest is first moved to the
version tag latest points at: the tags of the repository are listed and the
highest version-like tags are tried (at most 5 lookups); if none shares
latest's digest, latest@sha256:… is pinned and a note says so.

References built from ARGs are pinned inside the ARG default only when that
ARG holds the whole reference and feeds exactly one FROM; otherwise a note
gives the digest to write by hand. With --offline, or when a lookup fails,
nothing is pinned and a note says why (naming the registry's error).

Before:  FROM node:20-slim
After:   FROM node:20-slim@sha256:…`,
	Risk:  Safe,
	URL:   "https://docs.docker.com/build/building/best-practices/#pin-base-image-versions",
	Check: checkPin,
}

// maxLatestLookups bounds the digest lookups spent finding latest's
// version tag.
const maxLatestLookups = 5

func checkPin(ctx context.Context, d *Document, env *Env) ([]Fix, []Note, error) {
	var fixes []Fix
	var notes []Note
	refs := append(fromRefs(d), otherRefs(d)...)
	sort.SliceStable(refs, func(i, j int) bool { return refs[i].in.Line < refs[j].in.Line })
	for _, r := range refs {
		if r.skip {
			continue
		}
		if r.problem != "" {
			notes = append(notes, refNote(r, "not pinned: "+r.problem))
			continue
		}
		p, err := parseRef(r.image)
		if err != nil {
			notes = append(notes, refNote(r, fmt.Sprintf("not pinned: %q is not a valid image reference: %v", r.image, err)))
			continue
		}
		if p.digest != "" && !env.UpdateDigests {
			continue
		}
		if env.Offline || env.Resolver == nil {
			notes = append(notes, refNote(r, fmt.Sprintf("not pinned: %s was not looked up (%s)", r.image, noLookupReason(env))))
			continue
		}
		if p.digest != "" && p.tag == "" {
			notes = append(notes, refNote(r, fmt.Sprintf("digest not refreshed: %s has no tag to look up", r.image)))
			continue
		}
		tag, latestNote, err := pinTag(ctx, env, p)
		if err != nil {
			notes = append(notes, refNote(r, fmt.Sprintf("not pinned: %s: %s", r.image, lookupErr(r.image, err))))
			continue
		}
		digest, err := env.Resolver.Digest(ctx, p.withTag(tag))
		if err != nil {
			notes = append(notes, refNote(r, fmt.Sprintf("not pinned: %s: %s", r.image, lookupErr(r.image, err))))
			continue
		}
		if digest == p.digest {
			continue
		}
		newText := p.withTag(tag) + "@" + digest
		if !r.editable {
			notes = append(notes, refNote(r, fmt.Sprintf("not pinned: %s is %s, but %s; pin it by hand", r.image, newText, r.why)))
			continue
		}
		if latestNote != "" {
			notes = append(notes, refNote(r, latestNote))
		}
		var msg string
		switch {
		case p.digest != "":
			msg = fmt.Sprintf("%s: refreshed the digest of %s (--update-digests)", r.where, p.withTag(tag))
		case tag != p.tag && latestNote == "":
			msg = fmt.Sprintf("%s: %s → %s, the version latest points at, pinned to its digest so rebuilds use the same image", r.where, r.image, p.withTag(tag))
		default:
			msg = fmt.Sprintf("%s: pinned %s to its digest so rebuilds use the same image", r.where, p.withTag(tag))
		}
		if r.viaArg != "" {
			msg += fmt.Sprintf(" (in the default of ARG %s)", r.viaArg)
		}
		fixes = append(fixes, Fix{Line: r.editLine, Message: msg, Edits: []Edit{Replace(r.edit, newText)}})
	}
	return fixes, notes, nil
}

// pinTag returns the tag to pin: p's own, or for latest and untagged
// references the highest version tag that shares latest's digest. When no
// version tag does, it returns "latest" and a note.
func pinTag(ctx context.Context, env *Env, p parsedRef) (string, string, error) {
	if p.tag != "" && p.tag != "latest" {
		return p.tag, "", nil
	}
	latest, err := env.Resolver.Digest(ctx, p.withTag("latest"))
	if err != nil {
		return "", "", err
	}
	tags, err := env.Resolver.Tags(ctx, p.name)
	if err != nil {
		return "latest", fmt.Sprintf("%s pinned as latest: its tags could not be listed (%v), so the version latest points at is not known", p.name, err), nil
	}
	versions := versionTags(tags)
	tried := 0
	for _, v := range versions {
		if tried == maxLatestLookups {
			break
		}
		tried++
		dg, err := env.Resolver.Digest(ctx, p.withTag(v))
		if err != nil {
			continue
		}
		if dg == latest {
			return v, "", nil
		}
	}
	if tried == 0 {
		return "latest", fmt.Sprintf("%s pinned as latest: the repository has no version tags; name a version tag so updates show in diffs", p.name), nil
	}
	return "latest", fmt.Sprintf("%s pinned as latest: none of the %d highest version tags shares latest's digest; name a version tag so updates show in diffs", p.name, tried), nil
}

var versionTag = regexp.MustCompile(`^v?\d+(\.\d+)*$`)

// versionTags returns the plain version tags (1, 1.2, v1.2.3; no variant
// suffix, like latest) from highest to lowest, the most specific first among
// equals (1.2.3 before 1.2 before 1).
func versionTags(tags []string) []string {
	var out []string
	for _, t := range tags {
		if versionTag.MatchString(t) {
			out = append(out, t)
		}
	}
	parse := func(s string) []int {
		var n []int
		for _, f := range strings.Split(strings.TrimPrefix(s, "v"), ".") {
			i, _ := strconv.Atoi(f)
			n = append(n, i)
		}
		return n
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := parse(out[i]), parse(out[j])
		for k := 0; k < len(a) && k < len(b); k++ {
			if a[k] != b[k] {
				return a[k] > b[k]
			}
		}
		if len(a) != len(b) {
			return len(a) > len(b)
		}
		return out[i] < out[j]
	})
	return out
}
