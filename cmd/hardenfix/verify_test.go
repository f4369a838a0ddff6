package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeEngine puts buildah and podman scripts first on the PATH: buildah
// fails to build a Dockerfile that says FAILME and builds any other;
// podman describes every image as root-run, keeps every container
// running and saves an empty archive. Each call is appended to calls.log.
func fakeEngine(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	log := filepath.Join(dir, "calls.log")
	buildah := `#!/bin/sh
echo "buildah $*" >> ` + log + `
df=; prev=
for a in "$@"; do [ "$prev" = -f ] && df=$a; prev=$a; done
if grep -q FAILME "$df"; then echo "E: Unable to locate package nosuchpackage" >&2; echo "Error: building at STEP \"RUN apt-get install nosuchpackage\": exit status 100" >&2; exit 1; fi
echo "COMMIT"
`
	podman := `#!/bin/sh
echo "podman $*" >> ` + log + `
if [ "$1" = save ]; then prev=; for a in "$@"; do [ "$prev" = -o ] && : > "$a"; prev=$a; done; fi
case "$1 $2" in
"image inspect") echo '[{"Id":"sha256:1","Size":1000,"Config":{"Cmd":["/a.sh"]},"RootFS":{"Layers":["a"]}}]' ;;
"inspect --type") echo "true 0" ;;
"run --rm") echo 0 ;;
esac
exit 0
`
	for name, text := range map[string]string{"buildah": buildah, "podman": podman} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return log
}

func writeApp(t *testing.T, dir, extra string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "a.sh"), []byte("#!/bin/sh\n"), 0o755)
	df := filepath.Join(dir, "Dockerfile")
	if err := os.WriteFile(df, []byte(extra+"FROM debian:bookworm-slim\nADD a.sh /a.sh\nCMD [\"/a.sh\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return df
}

func TestVerifyCommand(t *testing.T) {
	calls := fakeEngine(t)
	root := t.TempDir()
	good := writeApp(t, filepath.Join(root, "good"), "")
	code, stdout, stderr := hardenfix(t, "verify", "--scanner", "none", "--engine", "buildah", "--pull", "never", "--offline", "--enable", "add-to-copy",
		"--run-window", "1ms", "--logs", filepath.Join(root, "logs"), "--format", "markdown", "-w", root)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "### Verification: built and run with buildah") || !strings.Contains(stdout, "| `"+filepath.ToSlash(good)) {
		t.Errorf("markdown:\n%s", stdout)
	}
	if !strings.Contains(stderr, "verify: [1/1] ") || !strings.Contains(stderr, "verified") {
		t.Errorf("no progress line:\n%s", stderr)
	}
	if !strings.Contains(stdout, "| verified, written |") {
		t.Errorf("the table does not say the file was written:\n%s", stdout)
	}
	if data, _ := os.ReadFile(good); !strings.Contains(string(data), "COPY a.sh") {
		t.Errorf("-w did not write the verified fix:\n%s", data)
	}
	log, _ := os.ReadFile(calls)
	if !strings.Contains(string(log), "buildah bud --pull=never --layers --format docker -f "+good) {
		t.Errorf("the original was not built with buildah bud --pull=never:\n%s", log)
	}
	for _, l := range strings.Split(string(log), "\n") {
		if strings.HasPrefix(l, "podman run") && !strings.Contains(l, "--network none") {
			t.Errorf("a container ran with a network: %s", l)
		}
	}

	// A file whose original does not build cannot be verified: exit 4,
	// the file is left as it was.
	bad := writeApp(t, filepath.Join(root, "bad"), "# FAILME\n")
	before, _ := os.ReadFile(bad)
	code, stdout, _ = hardenfix(t, "verify", "--scanner", "none", "--engine", "buildah", "--offline", "--enable", "add-to-copy", "--run-window", "1ms", "-w", bad)
	if code != exitUnverified {
		t.Errorf("exit %d, want %d", code, exitUnverified)
	}
	if !strings.Contains(stdout, "could not be verified: the original does not build") || !strings.Contains(stdout, "Unable to locate package") {
		t.Errorf("text output:\n%s", stdout)
	}
	if after, _ := os.ReadFile(bad); string(after) != string(before) {
		t.Error("an unverified file was written")
	}

	// --verify on the main command does the same.
	code, _, _ = hardenfix(t, "--verify", "--scanner", "none", "--engine", "buildah", "--offline", "--enable", "add-to-copy", "--run-window", "1ms", bad)
	if code != exitUnverified {
		t.Errorf("--verify: exit %d, want %d", code, exitUnverified)
	}
}
