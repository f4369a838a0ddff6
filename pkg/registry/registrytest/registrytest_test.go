package registrytest

import (
	"testing"
)

// Golden fixtures write digests into expected Dockerfiles, so the same
// Spec must give the same digest in every run, and different seeds must
// not collide.
func TestImagesAreDeterministic(t *testing.T) {
	spec := Spec{Seed: 42, User: "node", Entrypoint: []string{"docker-entrypoint.sh"}}
	a, b := Image(t, spec), Image(t, spec)
	if Digest(t, a) != Digest(t, b) {
		t.Errorf("same spec, digests %s and %s", Digest(t, a), Digest(t, b))
	}
	if Digest(t, Index(t, a, Image(t, Spec{Seed: 43, Arch: "arm64"}))) != Digest(t, Index(t, b, Image(t, Spec{Seed: 43, Arch: "arm64"}))) {
		t.Error("same images, different index digests")
	}
	if Digest(t, Image(t, Spec{Seed: 43})) == Digest(t, a) {
		t.Error("different seeds, same digest")
	}
	on := Image(t, Spec{Seed: 44, Base: a, Layers: 1})
	if got := LayerDigests(t, on); len(got) != 3 || got[0] != LayerDigests(t, a)[0] || got[1] != LayerDigests(t, a)[1] {
		t.Errorf("image built on a: layers %v, want a's two then one more", got)
	}
}

func TestServerCountsAndFaults(t *testing.T) {
	s := New(t, true)
	s.Push(t, "library/node:20", Image(t, Spec{Seed: 1}))
	if s.Count("PUT", "/manifests/20") != 1 {
		t.Errorf("requests = %v, want one manifest PUT", s.Requests())
	}
	s.Reset()
	if s.Total() != 0 {
		t.Errorf("Total after Reset = %d", s.Total())
	}
}
