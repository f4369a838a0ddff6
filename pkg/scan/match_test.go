package scan

import (
	"testing"

	"github.com/hardenfix/hardenfix/pkg/baseimage"
)

func TestMatch(t *testing.T) {
	trivy, grype := read(t, "trivy-after.json"), read(t, "grype-after.json")
	const (
		index    = "sha256:2b8e6f0a4c1d7e3f9a5b2c8d4e0f6a1b7c3d9e5f0a6b2c8d4e1f7a3b9c5d0e6f" // RepoDigests
		manifest = "sha256:5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e" // Grype's manifestDigest
		other    = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
	)
	for _, tc := range []struct {
		ref          string
		trivy, grype Match
	}{
		{"python:3.12-slim-bookworm", ByName, ByName},
		{"docker.io/library/python:3.12-slim-bookworm", ByName, ByName},
		{"index.docker.io/library/python:3.12-slim-bookworm", ByName, ByName}, // Docker Hub's legacy host name
		{"python:3.12-slim-bookworm@" + index, ByDigest, ByDigest},
		{"python:3.12-slim@" + index, ByDigest, ByDigest}, // same content under another tag
		{"python@" + manifest, NoMatch, ByDigest},
		{"python:3.12-slim-bookworm@" + other, OtherBuild, OtherBuild},
		{"python:3.12-bookworm", NoMatch, NoMatch},
		{"python", NoMatch, NoMatch},
		{"someone/python:3.12-slim-bookworm", NoMatch, NoMatch},
	} {
		ref, err := baseimage.Parse(tc.ref)
		if err != nil {
			t.Fatal(err)
		}
		if got := trivy.Match(ref); got != tc.trivy {
			t.Errorf("trivy report vs %s: %v, want %v", tc.ref, got, tc.trivy)
		}
		if got := grype.Match(ref); got != tc.grype {
			t.Errorf("grype report vs %s: %v, want %v", tc.ref, got, tc.grype)
		}
	}
	// A bare name is latest.
	latest := &Report{Artifact: "alpine"}
	ref, _ := baseimage.Parse("alpine:latest")
	if latest.Match(ref) != ByName {
		t.Error("alpine does not match alpine:latest")
	}
	// A file-system scan's artifact is a path, never an image.
	dir := &Report{Artifact: "./build/Output Dir"}
	if dir.Match(ref) != NoMatch {
		t.Error("a path matched an image")
	}
}
