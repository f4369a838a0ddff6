//go:build e2e

package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/hardenfix/hardenfix/pkg/rules/secrets"
)

// secretDockerfile is a build that needs a credential: its RUN checks the
// token it was given and records only its length.
const secretDockerfile = `FROM docker.io/library/debian:bookworm-slim
ARG API_TOKEN
RUN test -n "$API_TOKEN" && echo "token length ${#API_TOKEN}" > /token-info
CMD ["cat", "/token-info"]
`

// TestSecretMount proves what the secrets rule tells users to do. The
// original build passes the token as a build argument, and the token shows
// in the image history. The rule's rewrite mounts it with env=, which
// buildah reads from 1.44 on: on an older buildah (1.28 here) the build
// must fail on that option, and the same mount in the file form (id only,
// read from /run/secrets/ID), which every buildah with secrets takes, must
// build with both --secret sources (src=FILE and env=VAR), run, and leave
// the token out of the history and the config.
func TestSecretMount(t *testing.T) {
	ctx := context.Background()
	token := randomToken(t)
	dir := t.TempDir()
	write := func(name, text string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	buildWith := func(label, dockerfile string, env []string, args ...string) (string, error) {
		t.Helper()
		image := "localhost/hardenfix-e2e/secret:" + label
		full := append([]string{"bud", "--isolation", "chroot", "--pull=never", "--format", "docker",
			"--signature-policy", policyPath(), "-t", image, "-f", write("Dockerfile."+label, dockerfile)}, args...)
		full = append(full, dir)
		// Only this build sees the variables: buildah 1.28 mounts an empty
		// secret for --secret id=X,src=FILE when the environment also
		// has a variable X.
		for _, e := range env {
			k, v, _ := strings.Cut(e, "=")
			os.Setenv(k, v)
			defer os.Unsetenv(k)
		}
		_, err := exe(ctx, 5*time.Minute, filepath.Join(logDir, "secret-"+label+".log"), "buildah", full...)
		return image, err
	}

	res, err := rewrite.Run(ctx, "Dockerfile", []byte(secretDockerfile), []*rewrite.Rule{secrets.Rule}, &rewrite.Env{})
	if err != nil {
		t.Fatal(err)
	}
	rewritten := string(res.New)
	const envMount = "--mount=type=secret,id=API_TOKEN,env=API_TOKEN"
	if !strings.Contains(rewritten, envMount) || strings.Contains(rewritten, "ARG API_TOKEN") {
		t.Fatalf("the secrets rule did not move the ARG to a secret mount:\n%s", rewritten)
	}
	if len(res.Fixes) != 1 || !strings.Contains(res.Fixes[0].Message, "--secret id=API_TOKEN,env=API_TOKEN") {
		t.Fatalf("the fix message does not say how to pass the secret: %+v", res.Fixes)
	}

	// The leak the rule fixes: a build argument lands in the history.
	orig, err := buildWith("original", secretDockerfile, nil, "--build-arg", "API_TOKEN="+token)
	if err != nil {
		t.Fatalf("original build: %v", err)
	}
	if !imageMentions(ctx, t, orig, token) {
		t.Errorf("the original image's history does not show the build argument; the test proves nothing")
	}

	version, _ := exe(ctx, time.Minute, "", "buildah", "--version")
	_, err = buildWith("env-mount", rewritten, []string{"API_TOKEN=" + token}, "--secret", "id=API_TOKEN,env=API_TOKEN")
	envMountWorks := err == nil
	t.Logf("%s: RUN %s %s", strings.TrimSpace(version), envMount, map[bool]string{true: "builds", false: "is rejected"}[envMountWorks])
	if !envMountWorks && !strings.Contains(err.Error(), "secret should have syntax") {
		t.Errorf("the env= mount failed for another reason than the option: %v", err)
	}
	if envMountWorks {
		checkSecretImage(ctx, t, "localhost/hardenfix-e2e/secret:env-mount", token)
	}

	// The same mount in the file form, which buildah 1.28 takes.
	fileForm := strings.Replace(rewritten, envMount+" ",
		`--mount=type=secret,id=API_TOKEN API_TOKEN="$(cat /run/secrets/API_TOKEN)" && `, 1)
	secretFile := write("token.txt", token)
	for _, src := range []struct {
		label string
		env   []string
		flag  string
	}{
		{"file-src", nil, "id=API_TOKEN,src=" + secretFile},
		{"file-env", []string{"HARDENFIX_E2E_TOKEN=" + token}, "id=API_TOKEN,env=HARDENFIX_E2E_TOKEN"},
	} {
		image, err := buildWith(src.label, fileForm, src.env, "--secret", src.flag)
		if err != nil {
			t.Errorf("%s: the file-form secret mount does not build with --secret %s: %v", src.label, src.flag, err)
			continue
		}
		checkSecretImage(ctx, t, image, token)
	}
}

// checkSecretImage runs image (it must have seen the whole token) and
// checks the token is nowhere in its history or config.
func checkSecretImage(ctx context.Context, t *testing.T, image, token string) {
	t.Helper()
	out, err := podmanRun(ctx, time.Minute, image, "")
	if err != nil {
		t.Errorf("%s: %v", image, err)
	} else if want := "token length " + strconv.Itoa(len(token)); !strings.Contains(out, want) {
		t.Errorf("%s printed %q, want %q: the RUN did not get the secret", image, out, want)
	}
	if imageMentions(ctx, t, image, token) {
		t.Errorf("%s: the secret is in the image history or config", image)
	}
}

// imageMentions reports whether the token shows in the image's history
// (podman history --no-trunc) or its config and manifest (podman inspect).
func imageMentions(ctx context.Context, t *testing.T, image, token string) bool {
	t.Helper()
	history, err := exe(ctx, time.Minute, "", "podman", "history", "--no-trunc", "--format", "{{.CreatedBy}}", image)
	if err != nil {
		t.Fatal(err)
	}
	inspect, err := exe(ctx, time.Minute, "", "podman", "inspect", image)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Contains(history, token) || strings.Contains(inspect, token)
}

func randomToken(t *testing.T) string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "tok" + hex.EncodeToString(b)
}
