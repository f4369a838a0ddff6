package baseimage

import (
	"testing"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
)

func TestList(t *testing.T) {
	src := "ARG BASE=python:3.12\nARG REG\nFROM ${BASE} AS build\nFROM build AS test\nFROM scratch\nFROM ${REG}/app:1\nFROM gcr.io/distroless/python3-debian12:nonroot@sha256:" + digest + "\nFROM Not_Valid:x\nFROM docker.io/library/python:3.12\n"
	d, err := rewrite.Parse("Dockerfile", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	got := List(d)
	want := []struct {
		line  int
		kind  Kind
		stage string
		ref   string
	}{
		{3, Image, "build", "docker.io/library/python:3.12"},
		{4, Stage, "test", ""},
		{5, Scratch, "", ""},
		{6, Variable, "", ""},
		{7, Image, "", "gcr.io/distroless/python3-debian12:nonroot@sha256:" + digest},
		{8, Invalid, "", ""},
		{9, Image, "", "docker.io/library/python:3.12"},
	}
	if len(got) != len(want) {
		t.Fatalf("%d FROMs, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Line != w.line || g.Kind != w.kind || g.StageName != w.stage || g.Stage != i {
			t.Errorf("FROM %d = %+v, want line %d kind %d stage %q", i, g, w.line, w.kind, w.stage)
		}
		if w.ref != "" && g.Ref.String() != w.ref {
			t.Errorf("FROM %d ref %q, want %q", i, g.Ref.String(), w.ref)
		}
	}
	if got[0].Written != "${BASE}" || got[0].Expanded != "python:3.12" || got[0].Ref.FamiliarString() != "python:3.12" {
		t.Errorf("ARG-built FROM %+v", got[0])
	}
	if len(got[3].Unset) != 1 || got[3].Unset[0] != "REG" {
		t.Errorf("unset variables %v, want [REG]", got[3].Unset)
	}
}

const digest = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestEffectiveTag(t *testing.T) {
	for in, want := range map[string]string{"alpine": "latest", "alpine:3.20": "3.20", "alpine@sha256:" + digest: "", "alpine:3.20@sha256:" + digest: "3.20"} {
		r, err := Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.EffectiveTag(); got != want {
			t.Errorf("%s: %q, want %q", in, got, want)
		}
	}
}
