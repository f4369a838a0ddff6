//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hardenfix/hardenfix/pkg/report"
	"github.com/hardenfix/hardenfix/pkg/rewrite"
)

// TestCases builds, rewrites, rebuilds and runs every case in cases, in
// order (the machines have two cores shared with others: one build at a
// time). Each case prints one line: name, result, build times and image
// sizes (original -> rewritten), and the user each image runs as.
func TestCases(t *testing.T) {
	seen := map[string]bool{}
	for _, tc := range cases {
		if seen[tc.Name] {
			t.Fatalf("case %s is in the table twice", tc.Name)
		}
		seen[tc.Name] = true
		t.Run(tc.Name, func(t *testing.T) { runCase(t, tc) })
	}
	entries, err := os.ReadDir(filepath.Join(repoRoot, "fixtures", "e2e"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() && !seen[e.Name()] {
			t.Errorf("fixtures/e2e/%s has no row in the cases table (e2e/cases_test.go)", e.Name())
		}
	}
}

// A variant is one of the two images of a case.
type variant struct {
	label string // "original" or "rewritten"
	dir   string // build context, with the Dockerfile
	image string
	build time.Duration
	size  int64
	uid   string // what `id -u` (or IDCmd) prints
	user  string // the image config's User
}

// caseRun carries one case through its steps; fail and check record the
// first problem for the case's line and fail the test with a message that
// names the case.
type caseRun struct {
	t      *testing.T
	tc     testCase
	ctx    context.Context
	orig   variant
	new    variant
	reason string
}

func (c *caseRun) fatal(format string, args ...any) {
	c.t.Helper()
	c.errorf(format, args...)
	c.t.FailNow()
}

func (c *caseRun) errorf(format string, args ...any) {
	c.t.Helper()
	msg := fmt.Sprintf(format, args...)
	if c.reason == "" {
		c.reason = strings.SplitN(msg, "\n", 2)[0]
	}
	c.t.Errorf("case %s: %s", c.tc.Name, msg)
}

func runCase(t *testing.T, tc testCase) {
	c := &caseRun{t: t, tc: tc, ctx: context.Background()}
	start := time.Now()
	defer func() { printLine(c.line(time.Since(start))) }()

	c.prepare()
	c.rewrite()
	for _, v := range []*variant{&c.orig, &c.new} {
		c.buildVariant(v)
	}
	for _, v := range []*variant{&c.orig, &c.new} {
		c.checkJob(v)
	}
	c.checkUser()
	c.checkSize()
}

// prepare copies the case's fixture into a temporary folder twice, the
// original and the one hardenfix rewrites, with the registry steps the
// case asks for.
func (c *caseRun) prepare() {
	c.t.Helper()
	tc := c.tc
	tmp := c.t.TempDir()
	c.orig = variant{label: "original", dir: filepath.Join(tmp, "original"), image: "localhost/hardenfix-e2e/" + tc.Name + ":original"}
	c.new = variant{label: "rewritten", dir: filepath.Join(tmp, "rewritten"), image: "localhost/hardenfix-e2e/" + tc.Name + ":rewritten"}
	if err := copyTree(filepath.Join(repoRoot, "fixtures", "e2e", tc.Name), c.orig.dir); err != nil {
		c.fatal("copying the fixture: %v", err)
	}
	origDF := filepath.Join(c.orig.dir, "Dockerfile")
	if tc.Registry || tc.PinByHand {
		if err := reg.pushBases(c.ctx, origDF); err != nil {
			c.fatal("%v", err)
		}
	}
	if tc.PinByHand {
		if err := reg.pinByHand(c.ctx, origDF); err != nil {
			c.fatal("pinning by hand: %v", err)
		}
	}
	if err := copyTree(c.orig.dir, c.new.dir); err != nil {
		c.fatal("copying the fixture: %v", err)
	}
}

// rewrite runs hardenfix --write on the rewritten copy and logs the diff of
// what it wrote, so a failure shows what changed.
func (c *caseRun) rewrite() {
	c.t.Helper()
	df := filepath.Join(c.new.dir, "Dockerfile")
	before, err := os.ReadFile(df)
	if err != nil {
		c.fatal("%v", err)
	}
	args := []string{}
	if len(c.tc.Rules) > 0 {
		args = append(args, "--enable", strings.Join(c.tc.Rules, ","))
	}
	args = append(args, expand(c.tc.Args, map[string]string{"REGISTRY": reg.host})...)
	args = append(args, "--write", ".")
	logPath := filepath.Join(logDir, c.tc.Name+"-hardenfix.log")
	if _, err := exeIn(c.ctx, c.new.dir, time.Minute, logPath, hardenfixBin, args...); err != nil {
		c.fatal("hardenfix failed: %v", err)
	}
	after, err := os.ReadFile(df)
	if err != nil {
		c.fatal("%v", err)
	}
	notes, _ := os.ReadFile(logPath) // its notes and summary
	c.t.Logf("hardenfix %s:\n%s%s", strings.Join(args, " "), notes, rewrite.UnifiedDiff("Dockerfile", before, after))
	// A second run must change nothing (DESIGN §2: idempotence).
	check := append(args[:len(args)-2:len(args)-2], "--check", ".")
	if _, err := exeIn(c.ctx, c.new.dir, time.Minute, "", hardenfixBin, check...); err != nil {
		c.errorf("hardenfix is not idempotent: a second run would change what it wrote: %v", err)
	}
	switch changed := !bytes.Equal(before, after); {
	case c.tc.Changed && !changed:
		c.fatal("hardenfix (rules %s) did not change the Dockerfile; the case expects a rewrite", strings.Join(c.tc.Rules, ","))
	case !c.tc.Changed && changed:
		c.fatal("hardenfix (rules %s) changed the Dockerfile; the case expects it unchanged (see the diff above)", strings.Join(c.tc.Rules, ","))
	}
	if err := reg.pullDigests(c.ctx, df); err != nil {
		c.fatal("%v", err)
	}
	if err := reg.pullDigests(c.ctx, filepath.Join(c.orig.dir, "Dockerfile")); err != nil {
		c.fatal("%v", err)
	}
}

func (c *caseRun) buildVariant(v *variant) {
	c.t.Helper()
	took, err := build(c.ctx, v.dir, v.image, "never", filepath.Join(logDir, c.tc.Name+"-"+v.label+".log"))
	v.build = took
	if err != nil {
		if v.label == "original" {
			c.fatal("the original image does not build (the fixture is broken): %v", err)
		}
		c.fatal("the rewritten image does not build (see the hardenfix diff above): %v", err)
	}
	if v.size, err = imageSize(c.ctx, v.image); err != nil {
		c.fatal("%v", err)
	}
	if v.user, err = configUser(c.ctx, v.image); err != nil {
		c.fatal("%v", err)
	}
	if c.tc.IDCmd != nil {
		v.uid, err = podmanRun(c.ctx, time.Minute, v.image, c.tc.IDCmd[0], c.tc.IDCmd[1:]...)
	} else {
		v.uid, err = podmanRun(c.ctx, time.Minute, v.image, "id", "-u")
	}
	v.uid = strings.TrimSpace(v.uid)
	if err != nil {
		c.errorf("cannot tell the user the %s image runs as (set IDCmd for images without `id`): %v", v.label, err)
	}
}

// checkJob runs the application in the image and checks that it prints
// what the case wants: once for a one-shot application, through a client
// inside the same container for a server.
func (c *caseRun) checkJob(v *variant) {
	c.t.Helper()
	var out string
	var err error
	if c.tc.Serve != nil {
		out, err = c.serve(v)
	} else {
		out, err = podmanRun(c.ctx, 2*time.Minute, v.image, "", c.tc.Run...)
	}
	switch {
	case err != nil:
		c.errorf("the app in the %s image does not do its job (runs as user %q, uid %s): %v", v.label, v.user, v.uid, err)
	case !strings.Contains(out, c.tc.Want):
		c.errorf("the app in the %s image does not do its job: its output lacks %q:\n%s", v.label, c.tc.Want, indent(tail(out, 15)))
	}
}

// serve runs the image's own command on no network, then asks it with the
// case's client over loopback inside the same container (podman exec) until
// it answers or the time is up.
func (c *caseRun) serve(v *variant) (string, error) {
	p := c.tc.Serve
	timeout := p.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	name := "hardenfix-e2e-" + c.tc.Name + "-" + v.label
	_, _ = exe(c.ctx, time.Minute, "", "podman", "rm", "-f", "-t", "0", name) // a leftover of an interrupted run

	var logs syncBuffer
	srv := exec.Command("podman", "run", "--rm", "--pull=never", "--network", "none",
		"--label", containerLabel, "--name", name, v.image)
	srv.Stdout, srv.Stderr = &logs, &logs
	if err := srv.Start(); err != nil {
		return "", err
	}
	exited := make(chan struct{})
	var exitErr error
	go func() { exitErr = srv.Wait(); close(exited) }()
	defer func() {
		_, _ = exe(c.ctx, time.Minute, "", "podman", "kill", name) // a server as PID 1 may ignore SIGTERM
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = srv.Process.Kill()
			<-exited
		}
	}()

	port := p.Port
	if v.label == "rewritten" && p.RewrittenPort != 0 {
		port = p.RewrittenPort
	}
	client := expand(p.Client, map[string]string{"PORT": strconv.Itoa(port)})
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-exited:
			return "", fmt.Errorf("the server exited (%v) before it answered; its output:\n%s", exitErr, indent(tail(logs.String(), 15)))
		default:
		}
		out, err := exe(c.ctx, 20*time.Second, "", "podman", append([]string{"exec", name}, client...)...)
		if err == nil {
			return out, nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("no answer on port %d within %s: %v\n    server output:\n%s", port, timeout, err, indent(tail(logs.String(), 15)))
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// checkUser: the rewritten image runs as the case's UID (numeric in the
// config too, so Kubernetes runAsNonRoot can verify it), or as the same user
// as the original when the case expects no change.
func (c *caseRun) checkUser() {
	c.t.Helper()
	if c.orig.uid == "" || c.new.uid == "" {
		return // already reported
	}
	if c.tc.UID == "" {
		if c.new.uid != c.orig.uid || c.new.user != c.orig.user {
			c.errorf("the rewritten image runs as uid %s (config User %q); the original runs as uid %s (User %q) and the case expects no change",
				c.new.uid, c.new.user, c.orig.uid, c.orig.user)
		}
		return
	}
	if c.new.uid != c.tc.UID {
		c.errorf("the rewritten image runs as uid %s (config User %q); want uid %s", c.new.uid, c.new.user, c.tc.UID)
	}
	if u, _, _ := strings.Cut(c.new.user, ":"); u != c.tc.UID {
		c.errorf("the rewritten image's config User is %q; want the numeric %s (Kubernetes runAsNonRoot can only verify numbers)", c.new.user, c.tc.UID)
	}
}

func (c *caseRun) checkSize() {
	c.t.Helper()
	if c.orig.size == 0 || c.new.size == 0 {
		return
	}
	if c.new.size > c.orig.size+c.tc.SizeSlack {
		c.errorf("the rewritten image is larger than the original: %s > %s (%d bytes more, %d allowed)",
			report.HumanSize(c.new.size), report.HumanSize(c.orig.size), c.new.size-c.orig.size, c.tc.SizeSlack)
	}
}

// line is the case's line in the output.
func (c *caseRun) line(took time.Duration) string {
	result := "PASS"
	switch {
	case c.t.Skipped():
		result = "SKIP"
	case c.t.Failed():
		result = "FAIL"
	}
	l := fmt.Sprintf("%-12s %-4s  build %s -> %s  size %s -> %s  uid %s -> %s  (%.0fs)",
		c.tc.Name, result,
		seconds(c.orig.build), seconds(c.new.build),
		sizeOrDash(c.orig.size), sizeOrDash(c.new.size),
		orDash(c.orig.uid), orDash(c.new.uid), took.Seconds())
	if c.reason != "" {
		l += "\n             " + c.reason
	}
	return l
}

func seconds(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1fs", d.Seconds())
}

func sizeOrDash(n int64) string {
	if n == 0 {
		return "-"
	}
	return report.HumanSize(n)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// syncBuffer is a bytes.Buffer safe for the two writers of a process.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
