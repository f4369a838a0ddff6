package main

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionFrom(t *testing.T) {
	for _, c := range []struct {
		name string
		bi   debug.BuildInfo
		want string
	}{
		{"go install @v1.2.3", debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}, "v1.2.3"},
		{"go build in a clone (pseudo-version)", debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261201221717-ff017335bfbd+dirty"}}, "v0.0.0-20261201221717-ff017335bfbd+dirty"},
		{"local build with VCS settings", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "ff017335bfbd0123456789abcdef0123456789ab"}, {Key: "vcs.modified", Value: "true"}}}, "dev (commit ff017335bfbd, modified)"},
		{"no information", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "dev"},
	} {
		if got := versionFrom(&c.bi); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

func TestUnknownFlagIsOneLine(t *testing.T) {
	for _, args := range [][]string{{"--bogus", "."}, {"scan-diff", "--bogus"}} {
		code, stdout, stderr := hardenfix(t, args...)
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		if code != exitError || stdout != "" || len(lines) != 2 ||
			!strings.Contains(lines[0], "flag provided but not defined: -bogus") || !strings.HasPrefix(lines[1], "usage: hardenfix ") {
			t.Errorf("%v: exit %d, stdout %q, stderr:\n%s", args, code, stdout, stderr)
		}
	}
}

func TestUIDHelpSaysItsDefaultOnce(t *testing.T) {
	_, stdout, _ := hardenfix(t, "--help")
	for _, l := range strings.Split(stdout, "\n") {
		if strings.Contains(l, "--uid") && strings.Count(l, "default") != 1 {
			t.Errorf("--uid help: %q", l)
		}
	}
	if !strings.Contains(stdout, "(default: 10001)") {
		t.Error("--uid help does not say its default")
	}
}
