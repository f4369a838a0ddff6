//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// containerLabel marks every container the suite starts, so e2e/run.sh can
// remove leftovers of an interrupted run (and only those).
const containerLabel = "hardenfix.e2e=1"

// exe runs a command with a timeout and returns its standard output. On
// failure the error names the command and ends with the last lines of its
// output. When logPath is not empty the whole output is also written there.
func exe(ctx context.Context, timeout time.Duration, logPath string, name string, args ...string) (string, error) {
	return exeIn(ctx, "", timeout, logPath, name, args...)
}

// exeIn is exe in the folder dir.
func exeIn(ctx context.Context, dir string, timeout time.Duration, logPath string, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.WaitDelay = 5 * time.Second
	var stdout, both bytes.Buffer
	cmd.Stdout = &teeBuffer{&stdout, &both}
	cmd.Stderr = &both
	err := cmd.Run()
	if logPath != "" {
		_ = os.WriteFile(logPath, both.Bytes(), 0o644)
	}
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			err = fmt.Errorf("timed out after %s", timeout)
		}
		msg := fmt.Sprintf("%s: %v", commandLine(name, args), err)
		if t := tail(both.String(), 15); t != "" {
			msg += "\n" + indent(t)
		}
		if logPath != "" {
			msg += "\n    (full log: " + logPath + ")"
		}
		return stdout.String(), errors.New(msg)
	}
	return stdout.String(), nil
}

type teeBuffer struct{ a, b *bytes.Buffer }

func (t *teeBuffer) Write(p []byte) (int, error) {
	t.a.Write(p)
	return t.b.Write(p)
}

func commandLine(name string, args []string) string {
	var b strings.Builder
	b.WriteString(name)
	for _, a := range args {
		b.WriteByte(' ')
		if a == "" || strings.ContainsAny(a, " \t\n'\"$*?;&|<>()") {
			b.WriteString(strconv.Quote(a))
		} else {
			b.WriteString(a)
		}
	}
	return b.String()
}

// tail returns the last n non-empty lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}

// buildah and podman wrap the two tools with the flags DESIGN §7 says work
// on these machines. Their storage and config come from the environment
// e2e/run.sh sets (CONTAINERS_STORAGE_CONF, CONTAINERS_CONF,
// REGISTRIES_CONFIG_PATH), never from the machine's defaults.

// build builds the Dockerfile in dir as image and returns how long it took.
// pull is buildah's --pull policy: "never" except where a test proves that
// images come from the local registry.
func build(ctx context.Context, dir, image, pull, logPath string) (time.Duration, error) {
	start := time.Now()
	// --layers keeps each step's layer, so TestVerify's builds of the same
	// files (hardenfix verify reuses the engine's cache) take seconds.
	out, err := exe(ctx, 10*time.Minute, logPath, "buildah", "bud",
		"--isolation", "chroot",
		"--layers",
		"--pull="+pull,
		"--format", "docker",
		"--signature-policy", policyPath(),
		"-t", image,
		"-f", filepath.Join(dir, "Dockerfile"),
		dir)
	took := time.Since(start)
	if err != nil {
		// Lead with buildah's own verdict (the step that failed), then the
		// rest: the output's tail, the command and the log.
		if v := buildVerdict(out + "\n" + err.Error()); v != "" {
			err = fmt.Errorf("%s\n%w", v, err)
		}
	}
	return took, err
}

// podmanRun runs image once on no network and returns its standard output.
// entrypoint, when not empty, replaces the image's entrypoint.
func podmanRun(ctx context.Context, timeout time.Duration, image string, entrypoint string, args ...string) (string, error) {
	full := []string{"run", "--rm", "--pull=never", "--network", "none", "--label", containerLabel}
	if entrypoint != "" {
		full = append(full, "--entrypoint", entrypoint)
	}
	full = append(full, image)
	full = append(full, args...)
	return exe(ctx, timeout, "", "podman", full...)
}

// imageSize is the size in bytes of the image's content: the sum of its
// uncompressed layers. Unlike podman's image Size it leaves out the config
// and manifest, whose history names each instruction (COPY is one byte
// longer than ADD).
func imageSize(ctx context.Context, image string) (int64, error) {
	out, err := exe(ctx, time.Minute, "", "podman", "history", "--format", "json", image)
	if err != nil {
		return 0, err
	}
	var history []struct {
		Size int64 `json:"size"`
	}
	if err := json.Unmarshal([]byte(out), &history); err != nil {
		return 0, fmt.Errorf("podman history of %s: %w", image, err)
	}
	var n int64
	for _, h := range history {
		n += h.Size
	}
	return n, nil
}

// configUser is the User of the image's config ("" means root).
func configUser(ctx context.Context, image string) (string, error) {
	out, err := exe(ctx, time.Minute, "", "buildah", "inspect", "--type", "image", "--format", "{{.OCIv1.Config.User}}", image)
	return strings.TrimSpace(out), err
}

func hasImage(ctx context.Context, image string) bool {
	_, err := exe(ctx, time.Minute, "", "buildah", "inspect", "--type", "image", "--format", "{{.FromImageID}}", image)
	return err == nil
}

func policyPath() string { return filepath.Join(workDir, "etc", "policy.json") }
