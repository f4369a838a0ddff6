package secrets

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/hardenfix/hardenfix/pkg/rewrite/rewritetest"
)

// TestSecretsSilenceBuildKit checks, on every secrets fixture, that BuildKit's
// SecretsUsedInArgOrEnv warning for each ARG the rule moved to a secret
// mount is gone from the output, and that it stays for the ones left alone.
func TestSecretsSilenceBuildKit(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("testdata", "secrets", "*.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	moved := 0
	for _, p := range paths {
		f, err := rewritetest.LoadFixture(p, nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := rewrite.Run(context.Background(), "Dockerfile", f.Input, []*rewrite.Rule{Rule}, &rewrite.Env{})
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		before, after := argSecretWarnings(t, f.Input), argSecretWarnings(t, res.New)
		out, err := rewrite.Parse("Dockerfile", res.New)
		if err != nil {
			t.Fatal(err)
		}
		declared := map[string]bool{}
		for _, in := range out.Instructions {
			if in.Keyword == "ARG" && in.Stage >= 0 {
				for _, a := range declaredArgs(in) {
					declared[a.name] = true
				}
			}
		}
		for name := range before {
			switch {
			case !declared[name] && after[name]:
				t.Errorf("%s: ARG %s was removed but BuildKit still warns about it", filepath.Base(p), name)
			case !declared[name]:
				moved++
			case !after[name]:
				t.Errorf("%s: ARG %s is still declared but BuildKit's warning went away", filepath.Base(p), name)
			}
		}
	}
	if moved == 0 {
		t.Fatal("no fixture moved a secret ARG; the test checks nothing")
	}
}

// argSecretWarnings returns the ARG names BuildKit's linter flags with
// SecretsUsedInArgOrEnv in src.
func argSecretWarnings(t *testing.T, src []byte) map[string]bool {
	out := map[string]bool{}
	for _, w := range rewritetest.BuildkitLint(t, src) {
		if !strings.HasPrefix(w, "SecretsUsedInArgOrEnv") {
			continue
		}
		if _, rest, ok := strings.Cut(w, `(ARG "`); ok {
			name, _, _ := strings.Cut(rest, `"`)
			out[name] = true
		}
	}
	return out
}

func TestIsSecretName(t *testing.T) {
	for name, want := range map[string]bool{
		"GITHUB_TOKEN": true, "npm_token": true, "DB_PASSWORD": true, "API_KEY": true, "AUTH": true,
		"aws_secret_access_key": true, "APIKEY": true, "REGISTRY_CREDENTIALS": true,
		"PUBLIC_KEY": false, "KEY_FILE": false, "KEY_VERSION": false, "KEYCLOAK_URL": false,
		"TOKENIZER": false, "MONKEY": false, "VERSION": false,
	} {
		if got := IsSecretName(name); got != want {
			t.Errorf("IsSecretName(%q) = %v, want %v", name, got, want)
		}
	}
}
