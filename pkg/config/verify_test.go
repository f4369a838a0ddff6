package config

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseVerify(t *testing.T) {
	c, err := Parse("/repo/.hardenfix.yaml", []byte(`
verify:
  context: ..
  run: myapp --version
  http: {port: 8080, path: /healthz}
  files:
    "api/*":
      context: api/ctx
      run: [sh, -c, "myapp serve --check"]
    web/Dockerfile:
      http: {port: 3000}
`))
	if err != nil {
		t.Fatal(err)
	}
	all := c.VerifyFor("/repo/svc/Dockerfile")
	if all.Context != "/" || !slices.Equal(all.Run, []string{"myapp", "--version"}) || all.HTTP == nil || all.HTTP.URL() != "http://127.0.0.1:8080/healthz" {
		t.Errorf("folder-wide settings: %+v", all)
	}
	api := c.VerifyFor("/repo/api/Dockerfile")
	if api.Context != filepath.Join("/repo", "api", "ctx") || !slices.Equal(api.Run, []string{"sh", "-c", "myapp serve --check"}) || api.HTTP.Port != 8080 {
		t.Errorf("api settings (context and run replaced, http kept): %+v", api)
	}
	web := c.VerifyFor("/repo/web/Dockerfile")
	if web.HTTP.URL() != "http://127.0.0.1:3000/" || web.Context != "/" || web.Run[0] != "myapp" {
		t.Errorf("web settings (only http replaced): %+v %+v", web, web.HTTP)
	}
}

func TestParseVerifyErrors(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"verify:\n  http: {port: 0}\n", "verify.http.port must be 1 to 65535"},
		{"verify:\n  files:\n    '[x': {}\n", "bad verify.files pattern"},
		{"verify:\n  runn: x\n", `.hardenfix.yaml:2: unknown key "runn"`},
		{"verify:\n  files:\n    a: {http: {port: 70000}}\n", "verify.files.a.http.port"},
	} {
		_, err := Parse(".hardenfix.yaml", []byte(tc.text))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want it to contain %q", tc.text, err, tc.want)
		}
	}
}

func TestVerifyForWithoutConfig(t *testing.T) {
	var c Config
	if s := c.VerifyFor("Dockerfile"); s.Context != "" || s.Run != nil || s.HTTP != nil {
		t.Errorf("zero config gave %+v", s)
	}
}
