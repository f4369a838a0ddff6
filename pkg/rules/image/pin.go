package image

import (
	"context"
	_ "embed"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/hardenfix/hardenfix/pkg/rules/internal/imageref"
)

//go:embed doc/pin.md
var pinDoc string

// Pin appends the multi-arch index digest to every external image reference.
var Pin = &rewrite.Rule{
	Name:    "pin",
	Summary: "Pin every external image to its digest, keeping the tag.",
	Doc:     rewrite.DocFile(pinDoc),
	Risk:    rewrite.Safe,
	URL:     "https://docs.docker.com/build/building/best-practices/#pin-base-image-versions",
	Options: []*rewrite.Option{updateDigests},
	Check:   checkPin,
}

// updateDigests makes pin refresh digests that are already written.
var updateDigests = &rewrite.Option{
	Name:  "update-digests",
	Type:  rewrite.BoolOption,
	Doc:   "Refresh the digests already written in image references instead of keeping them.",
	Flag:  true,
	Usage: "refresh the digests already written in image references (pin rule)",
}

// maxLatestLookups bounds the digest lookups spent finding latest's
// version tag.
const maxLatestLookups = 5

func checkPin(ctx context.Context, d *rewrite.Document, env *rewrite.Env) ([]rewrite.Fix, []rewrite.Note, error) {
	var fixes []rewrite.Fix
	var notes []rewrite.Note
	refs := append(imageref.FromRefs(d), imageref.OtherRefs(d)...)
	sort.SliceStable(refs, func(i, j int) bool { return refs[i].In.Line < refs[j].In.Line })
	for _, r := range refs {
		if r.Skip {
			continue
		}
		if r.Problem != "" {
			notes = append(notes, imageref.Note(r, "not pinned: "+r.Problem))
			continue
		}
		p, err := imageref.Parse(r.Image)
		if err != nil {
			notes = append(notes, imageref.Note(r, fmt.Sprintf("not pinned: %q is not a valid image reference: %v", r.Image, err)))
			continue
		}
		if p.Digest != "" && !updateDigests.Bool(env) {
			continue
		}
		if env.Resolver == nil {
			notes = append(notes, imageref.Note(r, fmt.Sprintf("not pinned: %s was not looked up (%s)", r.Image, imageref.NoLookupReason(env))))
			continue
		}
		if p.Digest != "" && p.Tag == "" {
			notes = append(notes, imageref.Note(r, fmt.Sprintf("digest not refreshed: %s has no tag to look up", r.Image)))
			continue
		}
		tag, latestNote, err := pinTag(ctx, env, p)
		if err != nil {
			notes = append(notes, imageref.Note(r, fmt.Sprintf("not pinned: %s: %s", r.Image, imageref.LookupErr(r.Image, err))))
			continue
		}
		digest, err := env.Resolver.Digest(ctx, p.WithTag(tag))
		if err != nil {
			notes = append(notes, imageref.Note(r, fmt.Sprintf("not pinned: %s: %s", r.Image, imageref.LookupErr(r.Image, err))))
			continue
		}
		if digest == p.Digest {
			continue
		}
		newText := p.WithTag(tag) + "@" + digest
		if !r.Editable {
			notes = append(notes, imageref.Note(r, fmt.Sprintf("not pinned: %s is %s, but %s; pin it by hand", r.Image, newText, r.Why)))
			continue
		}
		if latestNote != "" {
			notes = append(notes, imageref.Note(r, latestNote))
		}
		var msg string
		switch {
		case p.Digest != "":
			msg = fmt.Sprintf("%s: refreshed the digest of %s (--update-digests)", r.Where, p.WithTag(tag))
		case tag != p.Tag && latestNote == "":
			msg = fmt.Sprintf("%s: %s → %s, the version latest points at, pinned to its digest so rebuilds use the same image", r.Where, r.Image, p.WithTag(tag))
		default:
			msg = fmt.Sprintf("%s: pinned %s to its digest so rebuilds use the same image", r.Where, p.WithTag(tag))
		}
		if r.ViaArg != "" {
			msg += fmt.Sprintf(" (in the default of ARG %s)", r.ViaArg)
		}
		fixes = append(fixes, rewrite.Fix{Line: r.EditLine, Message: msg, Edits: []rewrite.Edit{rewrite.Replace(r.Edit, newText)}})
	}
	return fixes, notes, nil
}

// pinTag returns the tag to pin: p's own, or for latest and untagged
// references the highest version tag that shares latest's digest. When no
// version tag does, it returns "latest" and a note.
func pinTag(ctx context.Context, env *rewrite.Env, p imageref.Parsed) (string, string, error) {
	if p.Tag != "" && p.Tag != "latest" {
		return p.Tag, "", nil
	}
	latest, err := env.Resolver.Digest(ctx, p.WithTag("latest"))
	if err != nil {
		return "", "", err
	}
	tags, err := env.Resolver.Tags(ctx, p.Name)
	if err != nil {
		return "latest", fmt.Sprintf("%s pinned as latest: its tags could not be listed (%v), so the version latest points at is not known", p.Name, err), nil
	}
	versions := versionTags(tags)
	tried := 0
	for _, v := range versions {
		if tried == maxLatestLookups {
			break
		}
		tried++
		dg, err := env.Resolver.Digest(ctx, p.WithTag(v))
		if err != nil {
			continue
		}
		if dg == latest {
			return v, "", nil
		}
	}
	if tried == 0 {
		return "latest", fmt.Sprintf("%s pinned as latest: the repository has no version tags; name a version tag so updates show in diffs", p.Name), nil
	}
	return "latest", fmt.Sprintf("%s pinned as latest: none of the %d highest version tags shares latest's digest; name a version tag so updates show in diffs", p.Name, tried), nil
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
