// Package baseimage lists the images a Dockerfile's FROM lines use, with the
// global ARG defaults expanded, and normalises image references so that
// "python:3.12" and "docker.io/library/python:3.12" compare equal.
//
// Reports (scanner results beside a run, the SBOM) use it; rules that
// rewrite FROM lines keep their own, spelling-preserving logic.
package baseimage

import (
	"strings"

	"github.com/distribution/reference"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
)

// Kind says what a FROM line names.
type Kind int

const (
	// Image is an external image reference.
	Image Kind = iota
	// Scratch is the empty image.
	Scratch
	// Stage is an earlier stage of the same Dockerfile.
	Stage
	// Variable is a reference that still holds a variable after the
	// global ARG defaults are expanded; its image is known only at build.
	Variable
	// Invalid is text that is not a valid image reference.
	Invalid
)

// From is one FROM line.
type From struct {
	// Line is the FROM's 1-based line; Stage its stage index and
	// StageName its AS name ("" when unnamed).
	Line      int
	Stage     int
	StageName string
	// Written is the image as written ("${BASE}", "python:3.12").
	Written string
	// Expanded is Written with the global ARG defaults expanded.
	Expanded string
	Kind     Kind
	// Ref is the parsed reference when Kind is Image.
	Ref Ref
	// Unset names the variables that stayed unexpanded (Kind Variable).
	Unset []string
}

// List returns the FROM lines of d in order.
func List(d *rewrite.Document) []From {
	var out []From
	stages := map[string]bool{}
	for _, in := range d.Instructions {
		st, ok := in.Command.(*instructions.Stage)
		if in.Keyword != "FROM" || !ok {
			continue
		}
		f := From{Line: in.Line, Stage: in.Stage, StageName: st.Name, Written: st.BaseName}
		expanded, unset, err := d.Expand(st.BaseName, d.GlobalArgs)
		switch {
		case err != nil:
			f.Kind, f.Expanded = Invalid, st.BaseName
		case len(unset) > 0:
			f.Kind, f.Expanded, f.Unset = Variable, expanded, unset
		case strings.EqualFold(expanded, "scratch"):
			f.Kind, f.Expanded = Scratch, expanded
		case stages[strings.ToLower(expanded)]:
			f.Kind, f.Expanded = Stage, expanded
		default:
			f.Expanded = expanded
			if f.Ref, err = Parse(expanded); err != nil {
				f.Kind = Invalid
			}
		}
		if st.Name != "" {
			stages[strings.ToLower(st.Name)] = true
		}
		out = append(out, f)
	}
	return out
}

// Ref is a normalised image reference.
type Ref struct {
	// Name is the full repository ("docker.io/library/python"); Familiar
	// the short form people write ("python").
	Name, Familiar string
	// Tag and Digest are "" when the reference has none.
	Tag, Digest string
}

// Parse normalises an image reference.
func Parse(s string) (Ref, error) {
	named, err := reference.ParseNormalizedNamed(s)
	if err != nil {
		return Ref{}, err
	}
	r := Ref{Name: named.Name(), Familiar: reference.FamiliarName(named)}
	if t, ok := named.(reference.Tagged); ok {
		r.Tag = t.Tag()
	}
	if d, ok := named.(reference.Digested); ok {
		r.Digest = d.Digest().String()
	}
	return r, nil
}

// String is the normalised reference: name, then :tag, then @digest.
func (r Ref) String() string {
	s := r.Name
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + r.Digest
	}
	return s
}

// FamiliarString is the reference in the short form people write.
func (r Ref) FamiliarString() string {
	s := r.Familiar
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + r.Digest
	}
	return s
}

// EffectiveTag is the tag a pull uses: the tag, or "latest" when the
// reference has neither tag nor digest.
func (r Ref) EffectiveTag() string {
	if r.Tag == "" && r.Digest == "" {
		return "latest"
	}
	return r.Tag
}
