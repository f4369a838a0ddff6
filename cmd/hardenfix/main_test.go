package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// hardenfix runs the command in-process. Runs are offline (tests never
// reach a registry) unless the arguments start with a subcommand.
func hardenfix(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	subcommand := len(args) > 0 && (args[0] == "rules" || args[0] == "explain" || args[0] == "completion" || args[0] == "--generate-bash-completion")
	if !subcommand {
		args = append([]string{"--offline"}, args...)
	}
	var out, errOut bytes.Buffer
	code = runMain(context.Background(), append([]string{"hardenfix"}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for rel, data := range files {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

const addDockerfile = "FROM alpine:3.20\nADD . /app\nADD https://example.com/x /x\n"

func TestDiffIsDefaultAndAppliesWithGit(t *testing.T) {
	root := writeTree(t, map[string]string{
		"Dockerfile":         addDockerfile,
		"svc/Dockerfile.dev": "from alpine:3.20\r\nadd src /src\r\n",
		"clean/Dockerfile":   "FROM alpine:3.20\nCOPY . /app\n",
	})
	t.Chdir(root)
	code, stdout, stderr := hardenfix(t, "--enable", "add-to-copy", ".")
	if code != exitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	if !strings.HasPrefix(stdout, "--- a/Dockerfile\n+++ b/Dockerfile\n") || !strings.Contains(stdout, "--- a/svc/Dockerfile.dev") {
		t.Errorf("diff headers wrong:\n%s", stdout)
	}
	if strings.Contains(stdout, "clean/Dockerfile") {
		t.Errorf("an unchanged file appears in the diff")
	}
	if !strings.Contains(stderr, "Dockerfile:3: add-to-copy: remote ADD without --checksum") {
		t.Errorf("notes not printed as PATH:LINE: rule: message:\n%s", stderr)
	}
	// A note that asks for nothing is counted, and printed only with --verbose.
	if strings.Contains(stderr, "ADD kept") {
		t.Errorf("a note that asks for nothing was printed without --verbose:\n%s", stderr)
	}
	if !strings.Contains(stderr, "hardenfix: 3 files scanned, 2 would change (fixes: add-to-copy 2), 1 note (and 1 more with --verbose)") {
		t.Errorf("summary wrong:\n%s", stderr)
	}
	if _, _, verbose := hardenfix(t, "--enable", "add-to-copy", "--verbose", "."); !strings.Contains(verbose, "Dockerfile:3: add-to-copy: ADD kept") {
		t.Errorf("--verbose did not print every note:\n%s", verbose)
	}
	// The printed diff applies with git apply and gives what --write writes.
	if err := os.WriteFile(filepath.Join(t.TempDir(), "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	applied := t.TempDir()
	copyTree(t, root, applied)
	cmd := exec.Command("git", "apply", "-")
	cmd.Dir = applied
	cmd.Stdin = strings.NewReader(stdout)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git apply: %v\n%s", err, out)
	}
	if code, _, stderr := hardenfix(t, "--enable", "add-to-copy", "-w", "-q", "."); code != exitOK {
		t.Fatalf("--write exit %d: %s", code, stderr)
	}
	for _, rel := range []string{"Dockerfile", "svc/Dockerfile.dev", "clean/Dockerfile"} {
		a, _ := os.ReadFile(filepath.Join(applied, rel))
		w, _ := os.ReadFile(filepath.Join(root, rel))
		if !bytes.Equal(a, w) {
			t.Errorf("%s: git apply gave %q, --write gave %q", rel, a, w)
		}
	}
	// A second run changes nothing.
	if code, stdout, _ := hardenfix(t, "--enable", "add-to-copy", "."); code != exitOK || stdout != "" {
		t.Errorf("second run: exit %d, diff:\n%s", code, stdout)
	}
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		dst := filepath.Join(to, rel)
		os.MkdirAll(filepath.Dir(dst), 0o755)
		return os.WriteFile(dst, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestListAndCheck(t *testing.T) {
	root := writeTree(t, map[string]string{"a/Dockerfile": addDockerfile, "b/Dockerfile": "FROM alpine:3.20\n"})
	code, stdout, _ := hardenfix(t, "--enable", "add-to-copy", "-l", root)
	if code != exitChanges || strings.TrimSpace(stdout) != filepath.ToSlash(filepath.Join(root, "a", "Dockerfile")) {
		t.Errorf("--list: exit %d, stdout %q", code, stdout)
	}
	code, stdout, stderr := hardenfix(t, "--enable", "add-to-copy", "--check", root)
	if code != exitChanges || stdout != "" || !strings.Contains(stderr, "1 would change") {
		t.Errorf("--check: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	code, stdout, stderr = hardenfix(t, "--enable", "add-to-copy", "--check", "-q", filepath.Join(root, "b"))
	if code != exitOK || stdout != "" || stderr != "" {
		t.Errorf("--check -q on a clean tree: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if got, _ := os.ReadFile(filepath.Join(root, "a", "Dockerfile")); string(got) != addDockerfile {
		t.Error("--list or --check wrote a file")
	}
}

func TestParseErrorIsExit2AndOtherFilesStillProcessed(t *testing.T) {
	bad := "FROM alpine:3.20\nRUN <<EOF\necho never ends\n"
	root := writeTree(t, map[string]string{"bad/Dockerfile": bad, "good/Dockerfile": addDockerfile})
	code, _, stderr := hardenfix(t, "-w", root)
	if code != exitError {
		t.Errorf("exit %d, want %d", code, exitError)
	}
	want := filepath.ToSlash(filepath.Join(root, "bad", "Dockerfile")) + ":2: unterminated heredoc"
	if !strings.Contains(stderr, want) {
		t.Errorf("stderr does not name file and line (%q):\n%s", want, stderr)
	}
	if got, _ := os.ReadFile(filepath.Join(root, "bad", "Dockerfile")); string(got) != bad {
		t.Error("the unparsable file was changed")
	}
	if got, _ := os.ReadFile(filepath.Join(root, "good", "Dockerfile")); !strings.Contains(string(got), "COPY . /app") {
		t.Error("the good file was not written")
	}
}

func TestBadFilesLeaveDiskAsItWas(t *testing.T) {
	binary := "FROM alpine\x00\x01\x02ADD . /\n"
	huge := addDockerfile + strings.Repeat("# padding padding padding\n", 400_000) // ~10 MB
	root := writeTree(t, map[string]string{"bin/Dockerfile": binary, "ro/Dockerfile": addDockerfile, "huge/Dockerfile": huge})
	ro := filepath.Join(root, "ro", "Dockerfile")
	if err := os.Chmod(ro, 0o444); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := hardenfix(t, "-w", root)
	if code != exitError {
		t.Errorf("exit %d, want %d", code, exitError)
	}
	for _, want := range []string{"bin/Dockerfile:1: file contains a NUL byte", "ro/Dockerfile: file is read-only", "huge/Dockerfile: larger than"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if got, _ := os.ReadFile(filepath.Join(root, "bin", "Dockerfile")); string(got) != binary {
		t.Error("binary file changed")
	}
	if got, _ := os.ReadFile(ro); string(got) != addDockerfile {
		t.Error("read-only file changed")
	}
	if got, _ := os.ReadFile(filepath.Join(root, "huge", "Dockerfile")); string(got) != huge {
		t.Error("huge file changed")
	}
}

func TestDeterministicAcrossJobs(t *testing.T) {
	files := map[string]string{}
	for i := 0; i < 40; i++ {
		files[fmt.Sprintf("s%02d/Dockerfile", i)] = fmt.Sprintf("FROM alpine:3.%d\nADD f%d /f\nADD https://e.com/%d /x\n", i, i, i)
	}
	root := writeTree(t, files)
	_, out1, err1 := hardenfix(t, "-j", "1", root)
	_, out8, err8 := hardenfix(t, "-j", "8", root)
	if out1 != out8 || err1 != err8 {
		t.Error("-j 1 and -j 8 printed different output")
	}
	if strings.Count(out1, "--- a/") != 40 {
		t.Errorf("want 40 diffs, got %d", strings.Count(out1, "--- a/"))
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"--enable", "no-such-rule", "."},
		{"--check", "--write", "."},
		{"-j", "0", "."},
		{"/no/such/path"},
		{"explain", "no-such-rule"},
	} {
		if code, _, stderr := hardenfix(t, args...); code != exitError || stderr == "" {
			t.Errorf("%q: exit %d, stderr %q", args, code, stderr)
		}
	}
}

func TestDisableRule(t *testing.T) {
	root := writeTree(t, map[string]string{"Dockerfile": addDockerfile})
	code, stdout, _ := hardenfix(t, "--enable", "add-to-copy", "--disable", "add-to-copy", root)
	if code != exitOK || stdout != "" {
		t.Errorf("disabled rule still changed the file: exit %d\n%s", code, stdout)
	}
}

func TestRulesAndExplain(t *testing.T) {
	code, stdout, _ := hardenfix(t, "rules")
	if code != exitOK || !strings.Contains(stdout, "add-to-copy") || !strings.Contains(stdout, "safe") {
		t.Errorf("rules: exit %d\n%s", code, stdout)
	}
	code, stdout, _ = hardenfix(t, "explain", "add-to-copy")
	if code != exitOK || !strings.Contains(stdout, "Before:") || !strings.Contains(stdout, "risk: safe") {
		t.Errorf("explain: exit %d\n%s", code, stdout)
	}
}

func TestReportFormats(t *testing.T) {
	root := writeTree(t, map[string]string{"Dockerfile": addDockerfile})
	// A machine format replaces the diff on stdout.
	code, stdout, _ := hardenfix(t, "--format", "json", root)
	if code != exitOK || !strings.HasPrefix(stdout, "{\n  \"schemaVersion\": 1,") || strings.Contains(stdout, "--- a/") {
		t.Errorf("--format json: exit %d\n%s", code, stdout)
	}
	// With --report the diff stays on stdout and the report goes to the file.
	pr := filepath.Join(t.TempDir(), "pr.md")
	code, stdout, _ = hardenfix(t, "--format", "markdown", "--report", pr, root)
	if code != exitOK || !strings.HasPrefix(stdout, "--- a/") {
		t.Errorf("--report: exit %d, stdout:\n%s", code, stdout)
	}
	md, err := os.ReadFile(pr)
	if err != nil || !strings.Contains(string(md), "## hardenfix: 1 Dockerfile hardened") {
		t.Errorf("report file: %v\n%s", err, md)
	}
	// The bot flow: write, and the report describes what was written.
	code, stdout, _ = hardenfix(t, "-w", "--format", "sarif", "--report", filepath.Join(t.TempDir(), "x.sarif"), root)
	if code != exitOK || stdout != "" {
		t.Errorf("-w --report: exit %d, stdout %q", code, stdout)
	}
	for _, args := range [][]string{{"--format", "xml", root}, {"--report", pr, root}} {
		if code, _, _ := hardenfix(t, args...); code != exitError {
			t.Errorf("%q: exit %d, want %d", args, code, exitError)
		}
	}
}

func TestConfigFile(t *testing.T) {
	root := writeTree(t, map[string]string{
		".git/HEAD":              "ref: refs/heads/main\n",
		"a/Dockerfile":           addDockerfile,
		"b/Dockerfile":           addDockerfile,
		"b/.hardenfix.yaml":      "rules:\n  disable: [add-to-copy]\n",
		"legacy/Dockerfile":      addDockerfile,
		".hardenfix.yaml":        "exclude: [legacy]\n",
		"broken/Dockerfile":      addDockerfile,
		"broken/.hardenfix.yaml": "rules:\n  enabel: [x]\n",
	})
	code, stdout, stderr := hardenfix(t, "--enable", "add-to-copy", "-l", root)
	if got := strings.Fields(stdout); len(got) != 1 || !strings.HasSuffix(got[0], "a/Dockerfile") {
		t.Errorf("listed %q, want only a/Dockerfile", got)
	}
	if code != exitError || !strings.Contains(stderr, `broken/.hardenfix.yaml:2: unknown key "enabel"`) {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
	// --config overrides every .hardenfix.yaml.
	cfg := filepath.Join(t.TempDir(), "strict.yaml")
	os.WriteFile(cfg, []byte("rules:\n  enable: [add-to-copy]\n"), 0o644)
	code, stdout, _ = hardenfix(t, "-l", "--config", cfg, root)
	if code != exitChanges || len(strings.Fields(stdout)) != 4 {
		t.Errorf("--config: exit %d, listed %q", code, stdout)
	}
	os.WriteFile(cfg, []byte("nope: true\n"), 0o644)
	if code, _, stderr := hardenfix(t, "--config", cfg, root); code != exitError || !strings.Contains(stderr, "strict.yaml:1:") {
		t.Errorf("bad --config: exit %d, %s", code, stderr)
	}
}

func TestColorAndProgress(t *testing.T) {
	root := writeTree(t, map[string]string{"a/Dockerfile": addDockerfile, "b/Dockerfile": addDockerfile})
	_, stdout, stderr := hardenfix(t, root)
	if strings.Contains(stdout, "\x1b[") || strings.Contains(stderr, "\x1b[") || strings.Contains(stderr, "\r") {
		t.Error("colour or progress written to a pipe")
	}
	_, stdout, _ = hardenfix(t, "--color", "always", root)
	if !strings.Contains(stdout, "\x1b[31m-ADD . /app\x1b[0m\n") || !strings.Contains(stdout, "\x1b[32m+COPY . /app\x1b[0m\n") {
		t.Errorf("--color always did not colour the diff:\n%q", stdout)
	}
	_, _, stderr = hardenfix(t, "--progress", "always", root)
	if !strings.Contains(stderr, "hardenfix: 2/2 files") {
		t.Errorf("--progress always printed no progress:\n%q", stderr)
	}
	if code, _, _ := hardenfix(t, "--color", "sometimes", root); code != exitError {
		t.Error("a bad --color value was accepted")
	}
}

func TestCompletion(t *testing.T) {
	for _, shell := range []string{"bash", "zsh"} {
		code, stdout, _ := hardenfix(t, "completion", shell)
		if code != exitOK || !strings.Contains(stdout, "--generate-bash-completion") {
			t.Errorf("completion %s: exit %d", shell, code)
		}
	}
	// urfave/cli reads os.Args for completion, not the arguments it is given.
	saved := os.Args
	os.Args = []string{"hardenfix", "--generate-bash-completion"}
	defer func() { os.Args = saved }()
	code, stdout, _ := hardenfix(t, "--generate-bash-completion")
	if code != exitOK || !strings.Contains(stdout, "rules") || !strings.Contains(stdout, "explain") {
		t.Errorf("urfave completion: exit %d\n%s", code, stdout)
	}
}

func TestNonRootOptions(t *testing.T) {
	df := "FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y curl\nCMD [\"curl\", \"--version\"]\n"
	root := writeTree(t, map[string]string{".git/HEAD": "", "Dockerfile": df, "sub/Dockerfile": df, "sub/.hardenfix.yaml": "options:\n  uid: 30000\n  user-name: svc\n"})
	_, stdout, _ := hardenfix(t, "--enable", "non-root", root)
	for _, want := range []string{"+USER 10001:10001", "+USER 30000:30000", "--uid 30000 --gid svc"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("defaults and .hardenfix.yaml options: diff lacks %q:\n%s", want, stdout)
		}
	}
	_, stdout, _ = hardenfix(t, "--enable", "non-root", "--uid", "20000", "--user-name", "web", root)
	if strings.Count(stdout, "+USER 20000:20000") != 2 || !strings.Contains(stdout, "--gid web") {
		t.Errorf("--uid and --user-name must win over the defaults and the configuration:\n%s", stdout)
	}
	if code, _, _ := hardenfix(t, "--uid", "-5", root); code != exitError {
		t.Errorf("a negative --uid was accepted")
	}
}

// TestReadmeListsTheRules keeps the README's rule table equal to what
// `hardenfix rules` prints, so the docs are generated, not written twice.
func TestReadmeListsTheRules(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, stdout, _ := hardenfix(t, "rules")
	if !strings.Contains(string(readme), "```\n"+stdout+"```\n") {
		t.Errorf("README.md does not hold the output of `hardenfix rules`; paste it:\n%s", stdout)
	}
}

func TestConfigRuleOptions(t *testing.T) {
	root := writeTree(t, map[string]string{
		".git/HEAD":       "",
		".hardenfix.yaml": "options:\n  runtime-images:\n    go: cgr.dev/chainguard/static:latest\n  allowed-publishers: [redhat]\n",
		"go/Dockerfile":   "FROM golang:1.22\nWORKDIR /src\nCOPY . .\nRUN CGO_ENABLED=0 go build -o /app .\nCMD [\"/app\"]\n",
		"java/Dockerfile": "FROM openjdk:17-jdk-slim\nCMD [\"java\", \"-version\"]\n",
	})
	_, stdout, stderr := hardenfix(t, "--enable", "multi-stage,rebase", root)
	if !strings.Contains(stdout, "+FROM cgr.dev/chainguard/static:latest") {
		t.Errorf("runtime-images from .hardenfix.yaml not used:\n%s", stdout)
	}
	if strings.Contains(stdout, "eclipse-temurin") || !strings.Contains(stderr, "not among the allowed publishers (redhat)") {
		t.Errorf("allowed-publishers from .hardenfix.yaml not applied:\n%s\n%s", stdout, stderr)
	}
}
