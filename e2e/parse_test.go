package e2e

// The text handling of the suite, kept free of containers so that plain
// `go test ./...` checks it (the rest of the package needs the e2e tag).

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/distribution/reference"
)

var (
	fromLine  = regexp.MustCompile(`(?im)^[ \t]*FROM[ \t]+(?:--\S+[ \t]+)*(\S+)(?:[ \t]+AS[ \t]+(\S+))?`)
	stageName = regexp.MustCompile(`(?i)^[a-z][a-z0-9_.-]*$`)
)

// A fromImage is an external image a FROM line names.
type fromImage struct {
	text       string // the image token as written
	start, end int    // its byte range in the file
}

// fromImages returns the external images the FROM lines of a Dockerfile name:
// not earlier stages, not scratch, not ones still holding variables. It
// reads the simple Dockerfiles of fixtures/e2e, not every Dockerfile.
func fromImages(src []byte) []fromImage {
	var out []fromImage
	stages := map[string]bool{}
	for _, m := range fromLine.FindAllSubmatchIndex(src, -1) {
		tok := string(src[m[2]:m[3]])
		if !stages[strings.ToLower(tok)] && !strings.EqualFold(tok, "scratch") && !strings.Contains(tok, "$") {
			out = append(out, fromImage{tok, m[2], m[3]})
		}
		if m[4] >= 0 {
			if s := string(src[m[4]:m[5]]); stageName.MatchString(s) {
				stages[strings.ToLower(s)] = true
			}
		}
	}
	return out
}

// pinFroms appends @digest to every external FROM image that has none,
// keeping the spelling and the tag (debian:bookworm-slim ->
// debian:bookworm-slim@sha256:...), as the pin rule will. digestOf gets the
// full name with its tag (docker.io/library/debian:bookworm-slim).
func pinFroms(src []byte, digestOf func(image string) (string, error)) ([]byte, error) {
	ims := fromImages(src)
	out := append([]byte(nil), src...)
	for i := len(ims) - 1; i >= 0; i-- { // back to front: earlier offsets stay valid
		im := ims[i]
		n, err := reference.ParseNormalizedNamed(im.text)
		if err != nil {
			return nil, fmt.Errorf("FROM %s: %w", im.text, err)
		}
		if _, ok := n.(reference.Digested); ok {
			continue
		}
		d, err := digestOf(reference.TagNameOnly(n).String())
		if err != nil {
			return nil, err
		}
		out = append(out[:im.end:im.end], append([]byte("@"+d), out[im.end:]...)...)
	}
	return out, nil
}

// buildVerdict finds buildah's "Error: building at STEP ..." line in a failed
// build's output and adds the last line the failing step printed before it
// (apt-get's "E: ..." and the like): the one line that says why.
func buildVerdict(out string) string {
	lines := strings.Split(out, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if !strings.HasPrefix(l, "Error: ") {
			continue
		}
		for j := i - 1; j >= 0; j-- {
			cause := strings.TrimSpace(lines[j])
			if cause == "" || strings.HasPrefix(cause, "subprocess exited") || strings.HasPrefix(cause, "Error: ") {
				continue
			}
			return l + " (" + cause + ")"
		}
		return l
	}
	return ""
}

func TestFromImages(t *testing.T) {
	src := "ARG BASE=debian\n" +
		"FROM --platform=$BUILDPLATFORM golang:1.22-bookworm AS Build\n" +
		"from build as test\n" +
		"FROM ${BASE}:bookworm\n" +
		"FROM scratch\n" +
		"FROM gcr.io/distroless/static-debian12:nonroot\n" +
		"  FROM debian:bookworm-slim@sha256:" + strings.Repeat("a", 64) + "\n"
	var got []string
	for _, im := range fromImages([]byte(src)) {
		if src[im.start:im.end] != im.text {
			t.Errorf("%q: range %d-%d holds %q", im.text, im.start, im.end, src[im.start:im.end])
		}
		got = append(got, im.text)
	}
	want := []string{"golang:1.22-bookworm", "gcr.io/distroless/static-debian12:nonroot", "debian:bookworm-slim@sha256:" + strings.Repeat("a", 64)}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("fromImages = %q, want %q", got, want)
	}
}

func TestPinFroms(t *testing.T) {
	src := "FROM golang:1.22-bookworm AS build\n" +
		"RUN true\n" +
		"FROM build\n" +
		"FROM debian AS final\n" +
		"FROM gcr.io/distroless/static-debian12:nonroot\n"
	d1, d2, d3 := "sha256:"+strings.Repeat("1", 64), "sha256:"+strings.Repeat("2", 64), "sha256:"+strings.Repeat("3", 64)
	digests := map[string]string{
		"docker.io/library/golang:1.22-bookworm":    d1,
		"docker.io/library/debian:latest":           d2,
		"gcr.io/distroless/static-debian12:nonroot": d3,
	}
	got, err := pinFroms([]byte(src), func(image string) (string, error) {
		d, ok := digests[image]
		if !ok {
			return "", fmt.Errorf("unexpected lookup of %s", image)
		}
		return d, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "FROM golang:1.22-bookworm@" + d1 + " AS build\n" +
		"RUN true\n" +
		"FROM build\n" +
		"FROM debian@" + d2 + " AS final\n" +
		"FROM gcr.io/distroless/static-debian12:nonroot@" + d3 + "\n"
	if string(got) != want {
		t.Errorf("pinFroms:\n%s\nwant:\n%s", got, want)
	}
	again, err := pinFroms(got, func(image string) (string, error) { return "", fmt.Errorf("looked up %s again", image) })
	if err != nil || string(again) != want {
		t.Errorf("pinning pinned FROMs changed them or looked them up: %v\n%s", err, again)
	}
}

func TestBuildVerdict(t *testing.T) {
	out := `STEP 2/5: RUN apt-get update && apt-get install -y jq
E: List directory /var/lib/apt/lists/partial is missing. - Acquire (13: Permission denied)
subprocess exited with status 100
subprocess exited with status 100
Error: building at STEP "RUN apt-get update && apt-get install -y jq": exit status 100
`
	want := `Error: building at STEP "RUN apt-get update && apt-get install -y jq": exit status 100 (E: List directory /var/lib/apt/lists/partial is missing. - Acquire (13: Permission denied))`
	if got := buildVerdict(out); got != want {
		t.Errorf("buildVerdict = %q, want %q", got, want)
	}
	if got := buildVerdict("no verdict here\n"); got != "" {
		t.Errorf("buildVerdict without an Error line = %q, want empty", got)
	}
}
