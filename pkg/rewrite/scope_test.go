package rewrite

import "testing"

// TestGlobalDefaults checks the values rules read for global ARGs: a
// default is expanded with the ARGs before it, and one that uses an ARG
// with no value is unknown (only the build knows it), not what an empty
// value would give.
func TestGlobalDefaults(t *testing.T) {
	d, err := Parse("Dockerfile", []byte("ARG REG=docker.io\nARG TAG\nARG IMAGE=${REG}/library/debian\nARG FULL=${IMAGE}:${TAG}\nARG SUITE=${SUITE:-bookworm}\nARG BARE=v$TAG\nARG OWN=${TAG:-1}\nARG LONGER=${REG}x\nFROM ${FULL}\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"REG": "docker.io", "IMAGE": "docker.io/library/debian", "SUITE": "bookworm", "OWN": "1", "LONGER": "docker.iox"}
	for name, v := range want {
		if got, ok := d.GlobalArgs.Get(name); !ok || got != v {
			t.Errorf("%s = %q (%v), want %q", name, got, ok, v)
		}
	}
	for _, name := range []string{"TAG", "FULL", "BARE"} {
		if got, ok := d.GlobalArgs.Get(name); ok {
			t.Errorf("%s = %q, want no known value", name, got)
		}
	}
	if _, unset, _ := d.Expand(d.Stages[0].BaseName, d.GlobalArgs); len(unset) == 0 {
		t.Errorf("FROM ${FULL} expands with nothing unset, want FULL unknown")
	}
}
