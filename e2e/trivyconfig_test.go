package e2e

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestTrivyConfigScript runs scripts/trivy-config.sh with a fake trivy that
// writes a report shaped like trivy v0.74.0's `config --format json`
// (captured from a real run): the script must stage every file as a
// Dockerfile, pass the offline flags, map the results back to the paths it
// was given, and exit 1 when a file fails. Kept free of containers so plain
// `go test ./...` runs it; TestDS0002 runs the script with the real trivy.
func TestTrivyConfigScript(t *testing.T) {
	if _, err := exec.LookPath("jq"); err != nil {
		t.Skip("scripts/trivy-config.sh needs jq")
	}
	dir := t.TempDir()
	fake := filepath.Join(dir, "trivy")
	// The fake reads the staged files: a Dockerfile whose last USER is
	// root fails, one with another USER passes, one without USER fails
	// as Trivy's DS-0002 does, and a file named skip.me is left out of the
	// report (Trivy did not read it as a Dockerfile).
	script := `#!/bin/sh
echo "$@" > "$(dirname "$0")/args"
out= target=
while [ $# -gt 0 ]; do
	case $1 in --output) out=$2; shift ;; esac
	target=$1
	shift
done
cd "$target" || exit 3
{
	echo '{"SchemaVersion":2,"ArtifactName":"x","ArtifactType":"filesystem","Results":['
	sep=
	for f in */Dockerfile; do
		grep -q SKIP "$f" && continue
		user=$(sed -n 's/^USER //p' "$f" | tail -1)
		line=$(grep -n '^USER' "$f" | tail -1 | cut -d: -f1)
		case $user in
		root|0) m='{"ID":"DS-0002","Status":"FAIL","Message":"Last USER command in Dockerfile should not be '"'root'"'","CauseMetadata":{"StartLine":'$line'}}' ;;
		"") m='{"ID":"DS-0002","Status":"FAIL","Message":"Specify at least 1 USER command in Dockerfile with non-root user as argument","CauseMetadata":{}}' ;;
		*) m='{"ID":"DS-0002","Status":"PASS","Message":"No issues found","CauseMetadata":{}}' ;;
		esac
		printf '%s{"Target":"%s","Class":"config","Type":"dockerfile","Misconfigurations":[{"ID":"DS-0001","Status":"PASS","CauseMetadata":{}},%s]}' "$sep" "$f" "$m"
		sep=,
	done
	echo ']}'
} > "$out"
`
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"app/Dockerfile":      "FROM alpine\nUSER 10001:10001\n",
		"app/Containerfile":   "FROM alpine\nUSER root\n",
		"odd-name.txt":        "FROM alpine\nRUN true\n",
		"app/notes.md":        "USER root\n", // not a Dockerfile name: not picked from the folder
		"web/prod.Dockerfile": "FROM nginx\nUSER 0\nUSER 101\n",
		"skip.me":             "SKIP\n",
	}
	for name, body := range files {
		p := filepath.Join(dir, "in", name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	in := func(p string) string { return filepath.Join(dir, "in", p) }

	run := func(args ...string) (string, int) {
		cmd := exec.Command("bash", append([]string{filepath.Join("..", "scripts", "trivy-config.sh")}, args...)...)
		cmd.Env = append(os.Environ(), "TRIVY="+fake)
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return string(out), ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), 0
	}

	out, code := run(in("app"), in("web"), in("odd-name.txt"))
	for _, want := range []string{
		"FAIL  " + in("app/Containerfile") + ": Last USER command in Dockerfile should not be 'root' (line 2)",
		"PASS  " + in("app/Dockerfile"),
		"PASS  " + in("web/prod.Dockerfile"),
		"FAIL  " + in("odd-name.txt") + ": Specify at least 1 USER command",
		"DS-0002: 2 pass, 2 fail, 0 not checked, of 4 files",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "notes.md") {
		t.Errorf("the script scanned a file whose name is not a Dockerfile's:\n%s", out)
	}
	if code != 1 {
		t.Errorf("exit code %d with failing files, want 1", code)
	}
	args, err := os.ReadFile(filepath.Join(dir, "args"))
	if err != nil {
		t.Fatal(err)
	}
	for _, flag := range []string{"config ", "--skip-check-update", "--skip-version-check", "--disable-telemetry", "--include-non-failures", "--cache-dir "} {
		if !strings.Contains(string(args), flag) {
			t.Errorf("trivy ran without %s: %s", flag, args)
		}
	}

	if out, code := run(in("app/Dockerfile")); code != 0 || !strings.Contains(out, "DS-0002: 1 pass, 0 fail") {
		t.Errorf("one passing file: exit %d\n%s", code, out)
	}
	if out, code := run(in("skip.me")); code != 1 || !strings.Contains(out, "NONE  "+in("skip.me")) {
		t.Errorf("a file Trivy did not check: exit %d, want 1 and a NONE line\n%s", code, out)
	}
	if _, code := run(filepath.Join(dir, "missing")); code != 2 {
		t.Errorf("a missing path: exit %d, want 2", code)
	}
}
