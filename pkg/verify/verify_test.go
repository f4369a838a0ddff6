package verify

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hardenfix/hardenfix/pkg/config"
	"github.com/hardenfix/hardenfix/pkg/harden"
	"github.com/hardenfix/hardenfix/pkg/scan"
)

// fakeEngine answers buildah's and podman's commands from the Dockerfiles
// it is asked to build: a build fails when the file matches failBuild; a
// container started from an image whose file matches exitEarly exits with
// code 3, others keep running.
type fakeEngine struct {
	mu        sync.Mutex
	failBuild string
	// failOnce fails only the first build that matches failBuild (an
	// engine hiccup, not a broken rewrite).
	failOnce  bool
	failed    int
	exitEarly string
	images    map[string]string // tag → Dockerfile text
	running   map[string]string // container → tag
	removed   []string          // containers and images removed
	calls     []Command
}

func newFake() *fakeEngine {
	return &fakeEngine{images: map[string]string{}, running: map[string]string{}}
}

func (f *fakeEngine) Run(_ context.Context, c Command) (Output, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, c)
	a := c.Argv
	fail := func(code int, out string) (Output, error) {
		if c.Log != "" {
			os.WriteFile(c.Log, []byte(out), 0o644)
		}
		return Output{Combined: out, ExitCode: code}, &CommandError{Command: c, Err: fmt.Errorf("exit status %d", code), Output: out}
	}
	ok := func(out string) (Output, error) {
		if c.Log != "" {
			os.WriteFile(c.Log, []byte(out), 0o644)
		}
		return Output{Stdout: out, Combined: out}, nil
	}
	switch {
	case a[0] == "buildah" && a[1] == "bud":
		df := a[slices.Index(a, "-f")+1]
		tag := a[slices.Index(a, "-t")+1]
		text, err := os.ReadFile(df)
		if err != nil {
			return fail(1, err.Error())
		}
		if f.failBuild != "" && strings.Contains(string(text), f.failBuild) && !(f.failOnce && f.failed > 0) {
			f.failed++
			return fail(1, "STEP 3/5: RUN apt-get update\nE: List directory /var/lib/apt/lists/partial is missing. - Acquire (13: Permission denied)\nError: building at STEP \"RUN apt-get update\": exit status 100\n")
		}
		f.images[tag] = string(text)
		return ok("STEP 1/4: FROM debian:bookworm-slim\nCOMMIT " + tag + "\n")
	case a[0] == "podman" && a[1] == "image" && a[2] == "inspect":
		text := f.images[a[3]]
		user := ""
		if strings.Contains(text, "USER 10001") {
			user = "10001:10001"
		}
		return ok(fmt.Sprintf(`[{"Id":"sha256:%x","Size":%d,"Config":{"User":%q,"Cmd":["/app.sh"],"Env":["PATH=/usr/bin"],"ExposedPorts":{"8080/tcp":{}}},"RootFS":{"Layers":["a","b"]}}]`, len(text), 1000+len(text), user))
	case a[0] == "podman" && a[1] == "run" && slices.Contains(a, "-d"):
		f.running[a[slices.Index(a, "--name")+1]] = a[len(a)-1]
		return ok("id\n")
	case a[0] == "podman" && a[1] == "run" && slices.Contains(a, "--entrypoint") && a[slices.Index(a, "--network")+1] == "none":
		if strings.Contains(f.images[a[slices.Index(a, "--entrypoint")+2]], "USER 10001") {
			return ok("10001\n")
		}
		return ok("0\n")
	case a[0] == "podman" && a[1] == "inspect":
		tag := f.running[a[len(a)-1]]
		if f.exitEarly != "" && strings.Contains(f.images[tag], f.exitEarly) {
			return ok("false 3\n")
		}
		return ok("true 0\n")
	case a[0] == "podman" && a[1] == "logs":
		if f.exitEarly != "" && strings.Contains(f.images[f.running[a[2]]], f.exitEarly) {
			// The first error comes before a stack trace longer than the
			// output a report keeps.
			return ok("/app.sh: cannot write /app/cache: Permission denied\n" + strings.Repeat("    at frame\n", 30))
		}
		return ok("serving on :8080\n")
	case a[0] == "podman" && a[1] == "exec":
		rewritten := strings.Contains(f.images[f.running[a[2]]], "USER 10001")
		switch a[3] {
		case "curl": // the original image has curl, the rewritten one not
			if rewritten {
				return fail(127, "OCI runtime attempted to invoke a command that was not found: executable file not found in $PATH")
			}
			return ok("200")
		case "wget":
			return fail(127, "executable file not found in $PATH")
		case "python3":
			return fail(127, "executable file not found in $PATH")
		case "node":
			return fail(127, "executable file not found in $PATH")
		case "/app.sh":
			if rewritten && f.exitEarly == "verify.run" {
				return fail(1, "cannot open /app/config")
			}
			return ok("version 1\n")
		}
		return fail(127, "executable file not found in $PATH")
	case a[0] == "podman" && a[1] == "run" && slices.Contains(a, "--rm") && a[slices.Index(a, "--network")+1] != "none":
		// A probe in another container's namespace, with the original's curl.
		if a[slices.Index(a, "--entrypoint")+1] == "curl" && !strings.Contains(f.images[a[slices.Index(a, "--entrypoint")+2]], "USER 10001") {
			return ok("200")
		}
		return fail(127, "executable file not found in $PATH")
	case a[0] == "podman" && a[1] == "save":
		archive := a[slices.Index(a, "-o")+1]
		os.WriteFile(archive, []byte(f.images[a[len(a)-1]]), 0o644)
		return ok("")
	case a[0] == "podman" && (a[1] == "rm" || a[1] == "rmi"):
		f.removed = append(f.removed, a[len(a)-1])
		return ok("")
	}
	return fail(125, "unexpected command "+c.String())
}

func (f *fakeEngine) argvs(prefix ...string) [][]string {
	var out [][]string
	for _, c := range f.calls {
		if len(c.Argv) >= len(prefix) && slices.Equal(c.Argv[:len(prefix)], prefix) {
			out = append(out, c.Argv)
		}
	}
	return out
}

const appDockerfile = `FROM debian:bookworm-slim
ADD app.sh /app.sh
RUN apt-get update && apt-get install -y --no-install-recommends jq && rm -rf /var/lib/apt/lists/*
CMD ["/app.sh"]
`

func setup(t *testing.T, f *fakeEngine, mod func(*Options)) (*Verifier, string) {
	t.Helper()
	dir := t.TempDir()
	df := filepath.Join(dir, "Dockerfile")
	if err := os.WriteFile(df, []byte(appDockerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "app.sh"), []byte("#!/bin/sh\necho hi\n"), 0o755)
	opts := Options{
		Harden:    harden.Options{Enable: []string{"add-to-copy", "non-root"}, Offline: true},
		Engine:    "buildah",
		Pull:      "never",
		LogDir:    filepath.Join(dir, "logs"),
		RunWindow: time.Millisecond,
		Exec:      f,
		LookPath:  func(string) (string, error) { return "/usr/bin/x", nil },
	}
	if mod != nil {
		mod(&opts)
	}
	v, err := New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return v, df
}

func verifyOne(t *testing.T, v *Verifier, path string) *FileResult {
	t.Helper()
	var got []*FileResult
	if err := v.Tree(context.Background(), []string{path}, func(r *FileResult) error { got = append(got, r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("%d results", len(got))
	}
	return got[0]
}

func TestVerifyPasses(t *testing.T) {
	f := newFake()
	v, df := setup(t, f, nil)
	r := verifyOne(t, v, df)
	if r.Status != Verified || !r.RunOK || r.Final != r.Harden {
		t.Fatalf("status %s (%s), run ok %v", r.Status, r.Reason, r.RunOK)
	}
	builds := f.argvs("buildah", "bud")
	want := []string{"buildah", "bud", "--pull=never", "--layers", "--format", "docker", "-f", df, "-t", "localhost/hardenfix-verify/" + filepath.Base(filepath.Dir(df)), "", filepath.Dir(df)}
	if len(builds) != 2 {
		t.Fatalf("builds %q", builds)
	}
	// The original is built from its own file, in its folder.
	if b := builds[0]; !slices.Equal(b[:8], want[:8]) || b[len(b)-1] != want[len(want)-1] || !strings.Contains(b[9], ":original-") {
		t.Errorf("original build %q", b)
	}
	// The rewritten text is built from a file beside the logs, in the
	// same context.
	if b := builds[1]; !strings.HasPrefix(b[7], v.LogDir()) || b[len(b)-1] != filepath.Dir(df) || !strings.Contains(b[9], ":rewritten-") {
		t.Errorf("rewritten build %q", b)
	}
	before, after := r.Images()
	if before.EffectiveUser() != "0" || after.EffectiveUser() != "10001" || after.User != "10001:10001" {
		t.Errorf("users %+v → %+v", before, after)
	}
	if !slices.ContainsFunc(r.Differences, func(d Difference) bool { return d.What == "size" && !d.Bad }) {
		t.Errorf("a slightly larger image (a user in /etc) is not reported as information: %+v", r.Differences)
	}
	checkCleanedUp(t, f)
	if data, _ := os.ReadFile(df); string(data) != appDockerfile {
		t.Error("the file was written without Options.Write")
	}
}

// verify.context in .hardenfix.yaml is the build context of both builds;
// --context wins over it.
func TestVerifyBuildContext(t *testing.T) {
	for _, flag := range []string{"", "/ctx/from/flag"} {
		f := newFake()
		v, df := setup(t, f, func(o *Options) { o.Context = flag })
		os.WriteFile(filepath.Join(filepath.Dir(df), ".hardenfix.yaml"), []byte("verify:\n  context: ..\n"), 0o644)
		verifyOne(t, v, df)
		want := filepath.Dir(filepath.Dir(df))
		if flag != "" {
			want = flag
		}
		for _, b := range f.argvs("buildah", "bud") {
			if b[len(b)-1] != want {
				t.Errorf("context flag %q: built in %s, want %s", flag, b[len(b)-1], want)
			}
		}
	}
}

// checkCleanedUp: every container started and every image built was
// removed.
func checkCleanedUp(t *testing.T, f *fakeEngine) {
	t.Helper()
	for name := range f.running {
		if !slices.Contains(f.removed, name) {
			t.Errorf("container %s was not removed", name)
		}
	}
	for _, b := range f.argvs("buildah", "bud") {
		if tag := b[slices.Index(b, "-t")+1]; !slices.Contains(f.removed, tag) {
			t.Errorf("image %s was not removed", tag)
		}
	}
}

func TestVerifyHealsABrokenBuild(t *testing.T) {
	f := newFake()
	f.failBuild = "USER 10001"
	v, df := setup(t, f, func(o *Options) { o.Write = true })
	r := verifyOne(t, v, df)
	if r.Status != Healed || len(r.Dropped) != 1 || r.Dropped[0].Rule != "non-root" {
		t.Fatalf("status %s (%s), dropped %+v", r.Status, r.Reason, r.Dropped)
	}
	d := r.Dropped[0]
	if d.Reason != "the rewritten Dockerfile does not build" || len(d.Log) == 0 || !strings.Contains(d.Log[0], "Permission denied") {
		t.Errorf("dropped non-root with reason %q and log %q", d.Reason, d.Log)
	}
	written, _ := os.ReadFile(df)
	if !r.Written || !strings.Contains(string(written), "COPY app.sh") || strings.Contains(string(written), "USER") {
		t.Errorf("written %v:\n%s", r.Written, written)
	}
	if _, after := r.Images(); after == nil || after.EffectiveUser() != "0" {
		t.Errorf("healed image %+v", after)
	}
	if n := len(f.argvs("buildah", "bud")); n != 4 {
		t.Errorf("%d builds, want 4 (original, rewritten, rewritten again, without non-root)", n)
	}
	checkCleanedUp(t, f)
}

// A build that fails once and then passes is the engine's hiccup: no rule
// is blamed.
func TestVerifyRetriesAFailedBuildBeforeBlamingARule(t *testing.T) {
	f := newFake()
	f.failBuild, f.failOnce = "USER 10001", true
	v, df := setup(t, f, nil)
	r := verifyOne(t, v, df)
	if r.Status != Verified || len(r.Dropped) != 0 || r.Final != r.Harden {
		t.Errorf("status %s, dropped %+v", r.Status, r.Dropped)
	}
	checkCleanedUp(t, f)
}

// A rewrite that fails to build once and then builds but misbehaves is
// healed for what it does wrong when it runs.
func TestVerifyRetryThatMisbehaves(t *testing.T) {
	f := newFake()
	f.failBuild, f.failOnce, f.exitEarly = "USER 10001", true, "USER 10001"
	v, df := setup(t, f, nil)
	r := verifyOne(t, v, df)
	if r.Status != Healed || len(r.Dropped) != 1 || !strings.Contains(r.Dropped[0].Reason, "exited with code 3") {
		t.Errorf("status %s, dropped %+v", r.Status, r.Dropped)
	}
}

func TestVerifyRunCheckCatchesAnEarlyExit(t *testing.T) {
	f := newFake()
	f.exitEarly = "USER 10001"
	v, df := setup(t, f, func(o *Options) { o.NoHeal = true; o.Write = true })
	r := verifyOne(t, v, df)
	if r.Status != Failed || r.RunOK || !strings.Contains(r.Reason, "exited with code 3") || !strings.Contains(r.Reason, "the original was still running") {
		t.Fatalf("status %s, reason %q", r.Status, r.Reason)
	}
	if r.Written {
		t.Error("a file that did not verify was written")
	}
	if data, _ := os.ReadFile(df); string(data) != appDockerfile {
		t.Error("the file changed")
	}
	// With heal, non-root is dropped and the log excerpt is the
	// container's output.
	f2 := newFake()
	f2.exitEarly = "USER 10001"
	v2, df2 := setup(t, f2, nil)
	r2 := verifyOne(t, v2, df2)
	if r2.Status != Healed || r2.Dropped[0].Rule != "non-root" || !strings.Contains(strings.Join(r2.Dropped[0].Log, "\n"), "Permission denied") {
		t.Errorf("status %s dropped %+v", r2.Status, r2.Dropped)
	}
	checkCleanedUp(t, f2)
}

func TestVerifyOriginalDoesNotBuild(t *testing.T) {
	f := newFake()
	f.failBuild = "FROM"
	v, df := setup(t, f, nil)
	r := verifyOne(t, v, df)
	if r.Status != Failed || !strings.Contains(r.Reason, "the original does not build") || r.Status.Verifiable() {
		t.Errorf("status %s, reason %q", r.Status, r.Reason)
	}
	if n := len(f.argvs("buildah", "bud")); n != 1 {
		t.Errorf("%d builds after the original failed", n)
	}
}

// slowEngine's builds of the rewrite never end; ExecOS would kill them at
// the limit, which is what it answers.
type slowEngine struct{ *fakeEngine }

func (s slowEngine) Run(ctx context.Context, c Command) (Output, error) {
	if c.Argv[0] == "buildah" && (strings.Contains(c.String(), ":rewritten-") || strings.Contains(c.String(), ":retry-")) {
		return Output{ExitCode: -1}, &CommandError{Command: c, Err: fmt.Errorf("%w (%s): killed", ErrTimeout, c.Timeout)}
	}
	return s.fakeEngine.Run(ctx, c)
}

func TestVerifyBuildTimeLimit(t *testing.T) {
	f := newFake()
	v, df := setup(t, f, func(o *Options) { o.Exec = slowEngine{f}; o.BuildTimeout = 7 * time.Minute; o.NoHeal = true })
	r := verifyOne(t, v, df)
	if r.Status != Failed || r.Rewritten.Error != "the build ran longer than its limit (7m0s) and was killed" {
		t.Errorf("status %s, build error %q", r.Status, r.Rewritten.Error)
	}
	if !strings.Contains(r.Reason, "does not build") {
		t.Errorf("reason %q", r.Reason)
	}
}

// cancelEngine cancels the run when the rewrite's build starts, as an
// interrupt does; the build then fails as a killed one would.
type cancelEngine struct {
	*fakeEngine
	cancel context.CancelFunc
}

func (c cancelEngine) Run(ctx context.Context, cmd Command) (Output, error) {
	if cmd.Argv[0] == "buildah" && strings.Contains(cmd.String(), ":rewritten-") {
		c.cancel()
		return Output{ExitCode: -1}, &CommandError{Command: cmd, Err: context.Canceled}
	}
	return c.fakeEngine.Run(ctx, cmd)
}

func TestVerifyInterrupted(t *testing.T) {
	f := newFake()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	v, df := setup(t, f, func(o *Options) { o.Exec = cancelEngine{f, cancel}; o.Write = true })
	var got []*FileResult
	if err := v.Tree(ctx, []string{df}, func(r *FileResult) error { got = append(got, r); return nil }); err != nil {
		t.Fatal(err)
	}
	r := got[0]
	if r.Status != Failed || r.Reason != "interrupted before it was verified" || len(r.Dropped) != 0 || r.Written {
		t.Errorf("status %s, reason %q, dropped %+v, written %v", r.Status, r.Reason, r.Dropped, r.Written)
	}
	if data, _ := os.ReadFile(df); string(data) != appDockerfile {
		t.Error("an interrupted file was written")
	}
	if n := len(f.argvs("buildah", "bud")); n != 1 {
		t.Errorf("%d builds after the interrupt", n-1)
	}
	checkCleanedUp(t, f)
}

func TestVerifyKeepImages(t *testing.T) {
	f := newFake()
	v, df := setup(t, f, func(o *Options) { o.KeepImages = true })
	verifyOne(t, v, df)
	for _, b := range f.argvs("buildah", "bud") {
		if tag := b[slices.Index(b, "-t")+1]; slices.Contains(f.removed, tag) {
			t.Errorf("image %s removed despite KeepImages", tag)
		}
	}
}

// verify.run and verify.http from .hardenfix.yaml: the command is exec'd
// in both running containers; the HTTP probe uses the container's own
// curl, else the other image's curl in the container's network namespace.
func TestVerifyRunAndHTTPChecks(t *testing.T) {
	f := newFake()
	v, df := setup(t, f, nil)
	os.WriteFile(filepath.Join(filepath.Dir(df), ".hardenfix.yaml"), []byte("verify:\n  run: /app.sh --version\n  http: {port: 8080, path: /healthz}\n"), 0o644)
	r := verifyOne(t, v, df)
	if r.Status != Verified {
		t.Fatalf("status %s: %s %s %+v %+v", r.Status, r.Reason, r.RunReason, r.RunBefore, r.RunAfter)
	}
	if r.RunBefore.HTTP != "200" || r.RunAfter.HTTP != "200" || r.RunBefore.Exec == nil || r.RunAfter.Exec.ExitCode != 0 {
		t.Errorf("before %+v after %+v", r.RunBefore, r.RunAfter)
	}
	var probe []string
	for _, c := range f.calls {
		if slices.Contains(c.Argv, "container:"+c.Argv[len(c.Argv)-1]) || slices.ContainsFunc(c.Argv, func(s string) bool { return strings.HasPrefix(s, "container:") }) {
			probe = c.Argv
		}
	}
	if len(probe) == 0 || probe[len(probe)-1] != "http://127.0.0.1:8080/healthz" || !strings.Contains(probe[slices.Index(probe, "--entrypoint")+2], ":original-") {
		t.Errorf("the rewritten container was not probed with the original image's curl: %q", probe)
	}

	// A verify.run that fails only in the rewrite is a behaviour change.
	f2 := newFake()
	f2.exitEarly = "verify.run"
	v2, df2 := setup(t, f2, func(o *Options) { o.NoHeal = true })
	os.WriteFile(filepath.Join(filepath.Dir(df2), ".hardenfix.yaml"), []byte("verify:\n  run: [/app.sh, --version]\n"), 0o644)
	r2 := verifyOne(t, v2, df2)
	if r2.Status != Failed || !strings.Contains(r2.Reason, "verify.run exited with code 1 in the rewritten container; 0 in the original") {
		t.Errorf("status %s, reason %q", r2.Status, r2.Reason)
	}
}

// fakeScanner finds two vulnerabilities in an archive of the original
// (root) image and one of them in the rewritten one.
type fakeScanner struct{ archives []string }

func (*fakeScanner) Name() string { return "trivy" }

func (s *fakeScanner) Scan(_ context.Context, archive string) (*scan.Report, error) {
	s.archives = append(s.archives, archive)
	text, err := os.ReadFile(archive)
	if err != nil {
		return nil, err
	}
	r := &scan.Report{Tool: scan.Trivy, Findings: []*scan.Finding{{ID: "CVE-2024-1", Package: "libc6", Severity: scan.High}}}
	if !strings.Contains(string(text), "USER 10001") {
		r.Findings = append(r.Findings, &scan.Finding{ID: "CVE-2024-2", Package: "jq", Severity: scan.Critical})
	}
	return r, nil
}

func TestVerifyScansBothImages(t *testing.T) {
	f := newFake()
	s := &fakeScanner{}
	v, df := setup(t, f, func(o *Options) { o.Scanner = s })
	r := verifyOne(t, v, df)
	if r.Status != Verified || r.Scan == nil || r.ScanError != "" {
		t.Fatalf("status %s, scan %+v, error %q", r.Status, r.Scan, r.ScanError)
	}
	if len(r.Scan.Fixed) != 1 || len(r.Scan.Remaining) != 1 || len(r.Scan.New) != 0 {
		t.Errorf("fixed %d remaining %d new %d", len(r.Scan.Fixed), len(r.Scan.Remaining), len(r.Scan.New))
	}
	rep := r.Verification(v)
	if rep.CVEs == nil || rep.CVEs.BeforeTotal != 2 || rep.CVEs.AfterTotal != 1 || rep.CVEs.Before.Critical != 1 || rep.CVEs.Tool != "trivy" {
		t.Errorf("report CVEs %+v", rep.CVEs)
	}
	for _, a := range s.archives {
		if _, err := os.Stat(a); err == nil {
			t.Errorf("archive %s left behind", a)
		}
	}
	if n := len(f.argvs("podman", "save", "--format", "docker-archive")); n != 2 {
		t.Errorf("%d saves, want 2", n)
	}
}

func TestHTTPStatusParsing(t *testing.T) {
	for _, tc := range []struct{ out, want string }{
		{"200", "200"},
		{"200\n", "200"},
		{"  HTTP/1.1 404 Not Found\n  Content-Type: text/plain", "404"},
		{"urllib.error.URLError: <urlopen error [Errno 111] Connection refused>", ""},
		{"000", ""},
	} {
		var got string
		if m := statusLine.FindStringSubmatch(tc.out); m != nil {
			got = m[1]
		} else if m := statusCode.FindStringSubmatch(tc.out); m != nil {
			got = m[1]
		}
		if got != tc.want {
			t.Errorf("%q: %q, want %q", tc.out, got, tc.want)
		}
	}
}

func TestSameBehaviour(t *testing.T) {
	w := 5 * time.Second
	run := RunState{Running: true}
	exit0 := RunState{ExitCode: 0, Output: "took 12ms\nthe answer is 42"}
	for _, tc := range []struct {
		before, after RunState
		want          string
	}{
		{run, run, ""},
		{exit0, RunState{Output: "took 9ms\nthe answer is 42"}, ""},
		{run, RunState{ExitCode: 1}, "exited with code 1 within 5s"},
		{exit0, run, "still running after 5s"},
		{exit0, RunState{ExitCode: 2, Output: exit0.Output}, "exited with code 2; the original with 0"},
		{exit0, RunState{Output: "permission denied"}, "printed something else"},
		// The new user shows in what the app prints: still the same job.
		{RunState{Output: "user root, home /root\nthe worker says 42"}, RunState{Output: "user app, home /home/app\nthe worker says 42"}, ""},
		{RunState{Output: "/root/.cache/answer: cached the answer 42"}, RunState{Output: "/home/app/.cache/answer: cached the answer 42"}, ""},
		{RunState{Output: "the answer is 42"}, RunState{Output: "node:internal/modules/cjs/loader:1080\nError: spawnSync npm ENOENT"}, "printed something else"},
		{run, RunState{StartErr: "no such user"}, "did not start"},
		{RunState{Running: true, Exec: &ExecResult{}}, RunState{Running: true, Exec: &ExecResult{ExitCode: 1}}, "verify.run exited with code 1"},
		{RunState{Running: true, HTTP: "200"}, RunState{Running: true, HTTPNote: "no answer: connection refused"}, "verify.http answered no answer"},
	} {
		got := sameBehaviour(tc.before, tc.after, w)
		if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
			t.Errorf("%+v → %+v: %q, want %q", tc.before, tc.after, got, tc.want)
		}
	}
}

func TestParseInspect(t *testing.T) {
	podman := `[{"Id":"abc","Size":79900000,"Config":{"User":"10001:10001","ExposedPorts":{"8080/tcp":{},"80/tcp":{}},"Env":["PATH=/bin"],"Entrypoint":["/entry"],"Cmd":["serve"],"WorkingDir":"/app"},"RootFS":{"Layers":["sha256:1","sha256:2","sha256:3"]}}]`
	i, err := parseInspect([]byte(podman))
	if err != nil || i.Size != 79900000 || i.Layers != 3 || i.User != "10001:10001" || !slices.Equal(i.Ports, []string{"80/tcp", "8080/tcp"}) || i.WorkingDir != "/app" || i.Entrypoint[0] != "/entry" {
		t.Errorf("podman: %+v %v", i, err)
	}
	buildah := `{"FromImageID":"def","OCIv1":{"config":{"User":"65532","Cmd":["/answer"]},"rootfs":{"diff_ids":["sha256:1"]}},"History":[{"Size":100},{"Size":23}]}`
	i, err = parseInspect([]byte(buildah))
	if err != nil || i.ID != "def" || i.Size != 123 || i.Layers != 1 || i.EffectiveUser() != "65532" {
		t.Errorf("buildah: %+v %v", i, err)
	}
	if _, err := parseInspect([]byte(`[]`)); err == nil {
		t.Error("no error for an empty inspect")
	}
}

func TestCompare(t *testing.T) {
	before := &ImageInfo{Size: 2e8, Layers: 5, Ports: []string{"80/tcp"}, Cmd: []string{"nginx"}, Env: []string{"A=1", "PATH=/bin"}}
	after := &ImageInfo{Size: 1e8, Layers: 2, UID: "101", Ports: []string{"8080/tcp"}, Cmd: []string{"nginx"}, Env: []string{"PATH=/usr/bin"}}
	got := map[string]bool{}
	for _, d := range Compare(before, after, nil) {
		got[d.What+fmt.Sprint(d.Bad)] = true
	}
	for _, want := range []string{"portstrue", "portsfalse", "userfalse", "layersfalse", "envtrue"} {
		if !got[want] {
			t.Errorf("missing %s in %v", want, got)
		}
	}
	if got["sizetrue"] || got["cmdtrue"] {
		t.Errorf("a smaller image or an unchanged command reported: %v", got)
	}
	// GOPATH came from the build image; APP_MODE from the Dockerfile.
	env := Compare(&ImageInfo{Env: []string{"GOPATH=/go"}}, &ImageInfo{}, []byte("FROM golang\nENV CGO_ENABLED=0\n"))
	if len(env) != 1 || env[0].Bad {
		t.Errorf("a lost build-image variable: %+v", env)
	}
	env = Compare(&ImageInfo{Env: []string{"APP_MODE=prod"}}, &ImageInfo{}, []byte("FROM golang\nENV APP_MODE=prod\n"))
	if len(env) != 1 || !env[0].Bad {
		t.Errorf("a lost variable the Dockerfile sets: %+v", env)
	}
	bigger := Compare(&ImageInfo{Size: 100e6}, &ImageInfo{Size: 120e6}, nil)
	if len(bigger) != 1 || !bigger[0].Bad || bigger[0].What != "size" {
		t.Errorf("a 20%% larger image: %+v", bigger)
	}
}

func TestExecOSKillsAtTheTimeLimit(t *testing.T) {
	_, err := ExecOS{}.Run(context.Background(), Command{Argv: []string{"sh", "-c", "sleep 30 & sleep 30"}, Timeout: 50 * time.Millisecond})
	if !errors.Is(err, ErrTimeout) {
		t.Errorf("err = %v, want ErrTimeout", err)
	}
	out, err := ExecOS{}.Run(context.Background(), Command{Argv: []string{"sh", "-c", "echo out; echo err >&2; exit 3"}})
	if err == nil || out.ExitCode != 3 || out.Stdout != "out\n" || !strings.Contains(out.Combined, "err") {
		t.Errorf("out %+v err %v", out, err)
	}
}

// TestSettingsContext checks which context a file is built in: --context,
// else the configuration's, else the one hardenfix's rules read
// (harden.Result.Context), else the Dockerfile's folder.
func TestSettingsContext(t *testing.T) {
	df := filepath.Join("repo", "docker", "Dockerfile")
	for _, tc := range []struct {
		name, opt, cfg, chosen, want string
	}{
		{"flag wins", "/ctx", "/cfg", "/chosen", "/ctx"},
		{"configuration next", "", "/cfg", "/chosen", "/cfg"},
		{"then the rules' context", "", "", "repo", "repo"},
		{"else the Dockerfile's folder", "", "", "", filepath.Join("repo", "docker")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := &Verifier{opts: Options{Context: tc.opt}, config: &config.Config{}}
			v.config.Verify.Context = tc.cfg
			set, err := v.settings(df, tc.chosen)
			if err != nil {
				t.Fatal(err)
			}
			if set.Context != tc.want {
				t.Errorf("context %q, want %q", set.Context, tc.want)
			}
		})
	}
}
