package image

import (
	"reflect"
	"testing"

	"github.com/hardenfix/hardenfix/pkg/rules/internal/imageref"
)

func TestVersionTags(t *testing.T) {
	got := versionTags([]string{"latest", "3", "3.19", "3.20.3", "3.20", "edge", "3.20.3-alpine", "v3.21.0", "3.9", "20240101", "3.20.10"})
	want := []string{"20240101", "v3.21.0", "3.20.10", "3.20.3", "3.20", "3.19", "3.9", "3"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("versionTags:\n got %q\nwant %q", got, want)
	}
}

func TestSpellLike(t *testing.T) {
	for _, tc := range []struct{ orig, target, want string }{
		{"mhart/alpine-node:18", "node:18-alpine", "node:18-alpine"},
		{"docker.io/mhart/alpine-node:18", "node:18-alpine", "docker.io/node:18-alpine"},
		{"docker.io/mhart/alpine-node:18", "mcr.microsoft.com/dotnet/sdk:8.0", "mcr.microsoft.com/dotnet/sdk:8.0"},
		{"gcr.io/distroless/static-debian11", "gcr.io/distroless/static-debian12:latest", "gcr.io/distroless/static-debian12"},
		{"gcr.io/distroless/static-debian11:latest", "gcr.io/distroless/static-debian12:latest", "gcr.io/distroless/static-debian12:latest"},
	} {
		p, err := imageref.Parse(tc.orig)
		if err != nil {
			t.Fatal(err)
		}
		if got := spellLike(p, tc.target); got != tc.want {
			t.Errorf("spellLike(%s, %s) = %s, want %s", tc.orig, tc.target, got, tc.want)
		}
	}
}

func TestParseRefKeepsSpelling(t *testing.T) {
	for in, want := range map[string][3]string{
		"node":                                        {"node", "", ""},
		"node:20-slim":                                {"node", "20-slim", ""},
		"localhost:5000/team/app:1.2":                 {"localhost:5000/team/app", "1.2", ""},
		"index.docker.io/library/node:20":             {"index.docker.io/library/node", "20", ""},
		"node@sha256:" + sixtyFourZeros:               {"node", "", "sha256:" + sixtyFourZeros},
		"node:20@sha256:" + sixtyFourZeros:            {"node", "20", "sha256:" + sixtyFourZeros},
		"localhost:5000/app@sha256:" + sixtyFourZeros: {"localhost:5000/app", "", "sha256:" + sixtyFourZeros},
	} {
		p, err := imageref.Parse(in)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if got := [3]string{p.Name, p.Tag, p.Digest}; got != want {
			t.Errorf("parseRef(%s) = %q, want %q", in, got, want)
		}
	}
}

const sixtyFourZeros = "0000000000000000000000000000000000000000000000000000000000000000"
