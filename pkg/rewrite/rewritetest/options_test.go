package rewritetest

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
)

// TestFixtureOptions checks that a fixture's options section sets the
// options the rules run declare, by their declared type, and names an
// option no rule run declares as an error.
func TestFixtureOptions(t *testing.T) {
	list := &rewrite.Option{Name: "kinds", Type: rewrite.ListOption, Doc: "d"}
	num := &rewrite.Option{Name: "uid", Type: rewrite.IntOption, Doc: "d"}
	m := &rewrite.Option{Name: "runtime-images", Type: rewrite.MapOption, Doc: "d"}
	rule := &rewrite.Rule{Name: "r", Options: []*rewrite.Option{list, num, m}}
	load := func(options string) *Fixture {
		p := filepath.Join(t.TempDir(), "f.txtar")
		if err := os.WriteFile(p, []byte("-- options --\n"+options+"-- Dockerfile --\nFROM scratch\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := LoadFixture(p, []*rewrite.Rule{rule})
		if err != nil {
			t.Fatal(err)
		}
		f.Rules = []*rewrite.Rule{rule}
		return f
	}
	env, err := load("rules r\ncrlf\nkinds a,b\nkinds c\nuid 7\nruntime-image go=x\nruntime-images node=y\n").Env(t)
	if err != nil {
		t.Fatal(err)
	}
	want := rewrite.Options{"kinds": []string{"a", "b", "c"}, "uid": 7, "runtime-images": map[string]string{"go": "x", "node": "y"}}
	if !reflect.DeepEqual(env.Options, want) {
		t.Errorf("options %#v, want %#v", env.Options, want)
	}
	for _, bad := range []string{"uids 7\n", "uid seven\n"} {
		if _, err := load(bad).Env(t); err == nil || !strings.HasPrefix(err.Error(), "options: ") {
			t.Errorf("%q: err %v, want an options error", bad, err)
		}
	}
}
