package rewrite

import (
	"context"
	"testing"

	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/opencontainers/go-digest"
)

// buildkitVarsAtEnd converts src with BuildKit's own dockerfile2llb (base
// images resolved offline, with no ENV) and returns the value of each key
// in the build environment at the end of the last stage.
func buildkitVarsAtEnd(t *testing.T, src string, keys []string) map[string]string {
	t.Helper()
	res, err := dockerfile2llb.Dockerfile2LLB(context.Background(), []byte(src), dockerfile2llb.ConvertOpt{MetaResolver: offlineImages{}})
	if err != nil {
		t.Fatalf("BuildKit: %v", err)
	}
	env, err := res.State.Env(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, k := range keys {
		if v, ok := env.Get(k); ok {
			out[k] = v
		}
	}
	return out
}

// TestVarsAtAgreesWithBuildKit checks VarsAt at the last instruction of
// each file against the environment BuildKit computes there. VarsAt may
// leave a variable out (the classic builder and buildah compute another
// value, or the value is only known at build time) but never reports a
// value BuildKit does not compute; known lists what it must know.
func TestVarsAtAgreesWithBuildKit(t *testing.T) {
	cases := []struct {
		name, src string
		known     map[string]string // VarsAt must report exactly these
		unknown   []string          // and must leave these out
	}{
		{"env after arg", "FROM a\nARG X=arg\nENV X=env\nRUN true\n", map[string]string{"X": "env"}, nil},
		// BuildKit: the later ARG wins; classic/buildah: the ENV.
		{"arg after env", "FROM a\nENV X=env\nARG X=arg\nRUN true\n", nil, []string{"X"}},
		{"arg without default after env", "FROM a\nENV X=env\nARG X\nRUN true\n", map[string]string{"X": "env"}, nil},
		{"arg after env, same value", "FROM a\nENV X=v\nARG X=v\nRUN true\n", map[string]string{"X": "v"}, nil},
		{"global arg not redeclared", "ARG X=glob\nFROM a\nRUN true\n", nil, []string{"X"}},
		{"global arg redeclared", "ARG X=glob\nFROM a\nARG X\nARG Y=$X-y\nRUN true\n", map[string]string{"X": "glob", "Y": "glob-y"}, nil},
		{"global arg redeclared after env", "ARG X=glob\nFROM a\nENV X=env\nARG X\nRUN true\n", nil, []string{"X"}},
		{"global args chained", "ARG A=1\nARG B=${A}2\nFROM a\nARG B\nRUN true\n", map[string]string{"B": "12"}, nil},
		{"arg without default", "FROM a\nARG X\nRUN true\n", nil, []string{"X"}},
		{"arg redeclared without default", "FROM a\nARG X=1\nARG X\nRUN true\n", nil, []string{"X"}},
		{"env uses earlier values", "FROM a\nARG V=1.2\nENV D=/opt/app-$V E=${V:-none}\nRUN true\n", map[string]string{"V": "1.2", "D": "/opt/app-1.2", "E": "1.2"}, nil},
		{"env uses base image env", "FROM a\nENV P=/x:$PATH\nRUN true\n", nil, []string{"P"}},
		{"arg env arg", "FROM a\nARG X=1\nENV X=2\nARG X=3\nRUN true\n", nil, []string{"X"}},
		{"stage inherits env", "FROM a AS p\nENV X=penv\nFROM p AS c\nRUN true\n", map[string]string{"X": "penv"}, nil},
		{"stage inherits env through two", "FROM a AS p\nENV X=1\nFROM p AS q\nENV Y=$X-2\nFROM q\nRUN true\n", map[string]string{"X": "1", "Y": "1-2"}, nil},
		// BuildKit carries a parent's ARG values on; the classic builder ends them.
		{"stage inherits arg", "FROM a AS p\nARG X=parg\nFROM p\nRUN true\n", nil, []string{"X"}},
		{"child arg over parent env", "FROM a AS p\nENV X=penv\nFROM p\nARG X=carg\nRUN true\n", nil, []string{"X"}},
		{"stage on image starts empty", "FROM a AS p\nENV X=1\nFROM b\nRUN true\n", nil, []string{"X"}},
		{"stage name case-insensitive", "FROM a AS Build\nENV X=1\nFROM build\nRUN true\n", map[string]string{"X": "1"}, nil},
		{"from through global arg", "ARG BASE=p\nFROM a AS p\nENV X=1\nFROM ${BASE}\nRUN true\n", map[string]string{"X": "1"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := Parse("Dockerfile", []byte(c.src))
			if err != nil {
				t.Fatal(err)
			}
			got := d.VarsAt(d.Instructions[len(d.Instructions)-1])
			keys := append(got.Keys(), c.unknown...)
			for k := range c.known {
				keys = append(keys, k)
			}
			bk := buildkitVarsAtEnd(t, c.src, keys)
			for k, v := range got {
				if bv, ok := bk[k]; !ok || bv != v {
					t.Errorf("VarsAt %s=%q, BuildKit %q (set %v)", k, v, bv, ok)
				}
			}
			for k, v := range c.known {
				if g, ok := got[k]; !ok || g != v {
					t.Errorf("VarsAt %s=%q (set %v), want %q", k, g, ok, v)
				}
			}
			for _, k := range c.unknown {
				if _, ok := got[k]; ok {
					t.Errorf("VarsAt knows %s=%q; builders disagree or it is only known at build time", k, got[k])
				}
			}
		})
	}
}

// offlineImages answers BuildKit's base-image lookups with an empty Linux
// image, so it converts with no network.
type offlineImages struct{}

func (offlineImages) ResolveImageConfig(_ context.Context, ref string, _ sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	return ref, digest.FromString(ref), []byte(`{"architecture":"amd64","os":"linux","config":{}}`), nil
}
