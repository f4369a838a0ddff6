package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/hardenfix/hardenfix/pkg/files"
)

// These tests keep the integrations (pre-commit hooks, the GitHub Action and
// the example workflows) true to the command they wrap.

type hook struct {
	ID            string `yaml:"id"`
	Entry         string `yaml:"entry"`
	Language      string `yaml:"language"`
	Files         string `yaml:"files"`
	Exclude       string `yaml:"exclude"`
	PassFilenames bool   `yaml:"pass_filenames"`
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func TestPreCommitHooks(t *testing.T) {
	var hooks []hook
	readYAML(t, "../../.pre-commit-hooks.yaml", &hooks)
	if len(hooks) != 2 {
		t.Fatalf("want 2 hooks, got %d", len(hooks))
	}
	names := []string{"Dockerfile", "svc/Dockerfile.prod", "a/b/app.Dockerfile", "x.containerfile", "Containerfile",
		"dockerfile", "Dockerfile.dockerignore", "README.md", "docker-compose.yml", "Dockerfiles/x", "mydockerfile"}
	for _, h := range hooks {
		files_, exclude := regexp.MustCompile(h.Files), regexp.MustCompile(h.Exclude)
		for _, n := range names {
			matched := files_.MatchString(n) && !exclude.MatchString(n)
			if want := files.IsDockerfileName(filepath.Base(n)); matched != want {
				t.Errorf("hook %s: %q matched=%v, but hardenfix's discovery says %v", h.ID, n, matched, want)
			}
		}
		if h.Language != "golang" || !h.PassFilenames || !strings.HasPrefix(h.Entry, "hardenfix ") {
			t.Errorf("hook %s: %+v", h.ID, h)
		}
		// Run the entry as pre-commit would, on one file.
		root := writeTree(t, map[string]string{"Dockerfile": addDockerfile})
		args := append(strings.Fields(h.Entry)[1:], filepath.Join(root, "Dockerfile"))
		code, _, stderr := hardenfix(t, args...)
		got, _ := os.ReadFile(filepath.Join(root, "Dockerfile"))
		switch h.ID {
		case "hardenfix-check":
			if code != exitChanges || string(got) != addDockerfile {
				t.Errorf("check hook: exit %d (want 1), file changed: %v; %s", code, string(got) != addDockerfile, stderr)
			}
		case "hardenfix":
			if code != exitOK || !strings.Contains(string(got), "COPY . /app") {
				t.Errorf("write hook: exit %d, file %q; %s", code, got, stderr)
			}
		default:
			t.Errorf("unexpected hook %q", h.ID)
		}
	}
}

func TestGitHubAction(t *testing.T) {
	var action struct {
		Inputs map[string]struct {
			Default string `yaml:"default"`
		} `yaml:"inputs"`
		Runs struct {
			Using string `yaml:"using"`
			Steps []struct {
				Run string            `yaml:"run"`
				Env map[string]string `yaml:"env"`
			} `yaml:"steps"`
		} `yaml:"runs"`
	}
	readYAML(t, "../../action.yml", &action)
	for _, in := range []string{"mode", "args", "report"} {
		if _, ok := action.Inputs[in]; !ok {
			t.Errorf("action input %q missing", in)
		}
	}
	if action.Runs.Using != "composite" || !strings.Contains(action.Runs.Steps[len(action.Runs.Steps)-1].Run, "scripts/action.sh") {
		t.Fatalf("the action does not run scripts/action.sh: %+v", action.Runs)
	}

	// Run the action's script with a real hardenfix binary on the PATH.
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "hardenfix"), ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	script, _ := filepath.Abs("../../scripts/action.sh")
	for _, tc := range []struct {
		mode, report string
		wantCode     int
		wantChanged  string
		wantWritten  bool
	}{
		{"check", "", 1, "true", false},
		{"diff", "", 0, "true", false},
		{"write", "pr.md", 0, "true", true},
		{"check", "findings.sarif", 1, "true", false},
		{"loud", "", 2, "", false},
	} {
		root := writeTree(t, map[string]string{"Dockerfile": addDockerfile})
		output := filepath.Join(t.TempDir(), "github_output")
		cmd := exec.Command("bash", script)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
			"INPUT_MODE="+tc.mode, "INPUT_ARGS=--offline .", "INPUT_REPORT="+tc.report, "GITHUB_OUTPUT="+output)
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != tc.wantCode {
			t.Errorf("mode %s: exit %d, want %d\n%s", tc.mode, code, tc.wantCode, out)
		}
		gh, _ := os.ReadFile(output)
		if tc.wantChanged != "" && strings.TrimSpace(string(gh)) != "changed="+tc.wantChanged {
			t.Errorf("mode %s: GITHUB_OUTPUT %q", tc.mode, gh)
		}
		got, _ := os.ReadFile(filepath.Join(root, "Dockerfile"))
		if written := string(got) != addDockerfile; written != tc.wantWritten {
			t.Errorf("mode %s: file written = %v", tc.mode, written)
		}
		if tc.report != "" {
			if _, err := os.Stat(filepath.Join(root, tc.report)); err != nil {
				t.Errorf("mode %s: report not written: %v", tc.mode, err)
			}
		}
	}
}

func TestExampleWorkflows(t *testing.T) {
	type step struct {
		Uses string            `yaml:"uses"`
		ID   string            `yaml:"id"`
		With map[string]string `yaml:"with"`
	}
	var bot struct {
		Jobs map[string]struct {
			Steps []step `yaml:"steps"`
		} `yaml:"jobs"`
	}
	readYAML(t, "../../examples/github/hardenfix-bot.yml", &bot)
	var hardenfixStep, prStep *step
	for _, job := range bot.Jobs {
		for i := range job.Steps {
			s := &job.Steps[i]
			switch {
			case strings.HasPrefix(s.Uses, "hardenfix/hardenfix"):
				hardenfixStep = s
			case strings.HasPrefix(s.Uses, "peter-evans/create-pull-request"):
				prStep = s
			}
		}
	}
	if hardenfixStep == nil || prStep == nil {
		t.Fatal("the bot workflow must run hardenfix and create-pull-request")
	}
	if hardenfixStep.With["mode"] != "write" || !strings.HasSuffix(hardenfixStep.With["report"], ".md") {
		t.Errorf("the bot must write and produce a Markdown report: %v", hardenfixStep.With)
	}
	if prStep.With["body-path"] != hardenfixStep.With["report"] {
		t.Errorf("the pull request body (%q) is not hardenfix's report (%q)", prStep.With["body-path"], hardenfixStep.With["report"])
	}
	var gate map[string]any
	readYAML(t, "../../examples/github/hardenfix-gate.yml", &gate)
	if gate["jobs"] == nil {
		t.Error("the gate workflow has no jobs")
	}
}
