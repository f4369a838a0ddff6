package multistage

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
)

func TestParseRequirement(t *testing.T) {
	for _, tc := range []struct {
		in, name string
		extras   []string
		ok       bool
	}{
		{in: "psycopg2==2.9.9", name: "psycopg2", ok: true},
		{in: "psycopg[binary,pool]>=3.1", name: "psycopg", extras: []string{"binary", "pool"}, ok: true},
		{in: `uWSGI==2.0.23 ; python_version >= "3"`, name: "uwsgi", ok: true},
		{in: "python_ldap", name: "python-ldap", ok: true},
		{in: "Python.LDAP~=3.4", name: "python-ldap", ok: true},
		{in: "  lxml", name: "lxml", ok: true},
		{in: "./local/pkg", ok: false},
		{in: "", ok: false},
	} {
		r, ok := parseRequirement(tc.in)
		if ok != tc.ok || r.name != tc.name || len(r.extras) != len(tc.extras) {
			t.Errorf("parseRequirement(%q) = %+v, %v; want %q %v, %v", tc.in, r, ok, tc.name, tc.extras, tc.ok)
			continue
		}
		for _, e := range tc.extras {
			if !r.extras[e] {
				t.Errorf("parseRequirement(%q): extra %q missing", tc.in, e)
			}
		}
	}
}

func TestPackageName(t *testing.T) {
	for in, want := range map[string]string{"curl=7.88.1-10": "curl", "curl": "curl", "py3-pip>=23": "py3-pip", "git~2": "git"} {
		if got := packageName(in); got != want {
			t.Errorf("packageName(%q) = %q, want %q", in, got, want)
		}
	}
}

// A requirements file that is a symbolic link out of the build context is
// not read: the context reader never leaves the context.
func TestPipRequirementsStayInContext(t *testing.T) {
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret.txt"), []byte("psycopg2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := t.TempDir()
	buildContext := rewrite.OpenContext(ctx)
	defer buildContext.Close()
	if err := os.Symlink(filepath.Join(outside, "secret.txt"), filepath.Join(ctx, "requirements.txt")); err != nil {
		t.Skip("no symlinks here:", err)
	}
	cmd := rewrite.SplitScript("pip install -r requirements.txt")[0]
	if got := pipRequirements(&rewrite.Env{BuildContext: buildContext}, []rewrite.ShellCommand{cmd}); len(got) != 0 {
		t.Errorf("read %v through a symlink out of the context", got)
	}
	// The same file inside the context is read.
	if err := os.Remove(filepath.Join(ctx, "requirements.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ctx, "requirements.txt"), []byte("psycopg2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := pipRequirements(&rewrite.Env{BuildContext: buildContext}, []rewrite.ShellCommand{cmd}); len(got) != 1 || got[0].name != "psycopg2" {
		t.Errorf("pipRequirements = %v, want psycopg2", got)
	}
}

func TestIsPackageFile(t *testing.T) {
	for w, want := range map[string]bool{
		"/tmp/x.deb": true, "./x.deb": true, "x.rpm": true, "https://example.com/x.rpm": true,
		"curl": false, "curl/bookworm-backports": false, "libpq5=15.4-0+deb12u1": false,
	} {
		if got := isPackageFile(w); got != want {
			t.Errorf("isPackageFile(%q) = %v, want %v", w, got, want)
		}
	}
}
