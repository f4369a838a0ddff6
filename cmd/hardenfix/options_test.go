package main

import (
	"os"
	"strings"
	"testing"

	"github.com/hardenfix/hardenfix/pkg/rules"
)

// TestOptionOnTheCommandLine sets through --option what .hardenfix.yaml
// sets (TestConfigRuleOptions), and checks a flag of an option wins over it.
func TestOptionOnTheCommandLine(t *testing.T) {
	root := writeTree(t, map[string]string{
		".git/HEAD":       "",
		"go/Dockerfile":   "FROM golang:1.22\nWORKDIR /src\nCOPY . .\nRUN CGO_ENABLED=0 go build -o /app .\nCMD [\"/app\"]\n",
		"java/Dockerfile": "FROM openjdk:17-jdk-slim\nCMD [\"java\", \"-version\"]\n",
	})
	_, stdout, stderr := hardenfix(t, "--enable", "multi-stage,rebase", "--option", "runtime-images=go=cgr.dev/chainguard/static:latest",
		"--option", "allowed-publishers=redhat,microsoft", root)
	if !strings.Contains(stdout, "+FROM cgr.dev/chainguard/static:latest") {
		t.Errorf("--option runtime-images not used:\n%s", stdout)
	}
	if strings.Contains(stdout, "eclipse-temurin") || !strings.Contains(stderr, "not among the allowed publishers (redhat, microsoft)") {
		t.Errorf("--option allowed-publishers not applied as a list of two:\n%s\n%s", stdout, stderr)
	}

	df := "FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y curl\nCMD [\"curl\", \"--version\"]\n"
	root = writeTree(t, map[string]string{".git/HEAD": "", "Dockerfile": df})
	_, stdout, _ = hardenfix(t, "--enable", "non-root", "--option", "uid=20000", "--option", "user-name=web", root)
	if !strings.Contains(stdout, "+USER 20000:20000") || !strings.Contains(stdout, "--gid web") {
		t.Errorf("--option uid and user-name not used:\n%s", stdout)
	}
	_, stdout, _ = hardenfix(t, "--enable", "non-root", "--option", "uid=20000", "--uid", "30000", root)
	if !strings.Contains(stdout, "+USER 30000:30000") {
		t.Errorf("--uid must win over --option uid:\n%s", stdout)
	}
	for _, bad := range []string{"uids=1", "uid", "uid=ten", "uid=-1", "update-digests=maybe"} {
		if code, _, stderr := hardenfix(t, "--option", bad, root); code != exitError || !strings.Contains(stderr, "option") {
			t.Errorf("--option %s: exit %d, %s", bad, code, stderr)
		}
		// verify reads the same settings, and refuses the same mistakes
		// before it builds anything.
		if code, _, stderr := hardenfix(t, "verify", "--option", bad, root); code != exitError || !strings.Contains(stderr, "option") {
			t.Errorf("verify --option %s: exit %d, %s", bad, code, stderr)
		}
	}
}

// TestOptionSurfacesReadTheDeclarations checks that every option a rule
// declares is shown by explain, is a flag when it says so, and is in the
// README's .hardenfix.yaml example, and that the example names no other.
func TestOptionSurfacesReadTheDeclarations(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, yamlBlock, _ := strings.Cut(string(readme), "## Configuration: `.hardenfix.yaml`")
	yamlBlock, _, _ = strings.Cut(yamlBlock, "\n```\n")
	_, optionsBlock, _ := strings.Cut(yamlBlock, "\noptions:\n")
	documented := map[string]bool{}
	for _, line := range strings.Split(optionsBlock, "\n") {
		if strings.HasPrefix(line, "  ") && !strings.HasPrefix(line, "   ") {
			key, _, _ := strings.Cut(strings.TrimSpace(line), ":")
			documented[key] = true
		} else if line != "" && !strings.HasPrefix(line, " ") {
			break
		}
	}
	_, help, _ := hardenfix(t, "--help")
	for _, r := range rules.All() {
		_, explain, _ := hardenfix(t, "explain", r.Name)
		for _, o := range r.Options {
			if !strings.Contains(explain, "\n  "+o.Name+" ("+string(o.Type)) {
				t.Errorf("explain %s does not list its option %s:\n%s", r.Name, o.Name, explain)
			}
			if o.Flag && !strings.Contains(help, "--"+o.Name+" ") {
				t.Errorf("option %s is declared a flag, --help lacks --%s", o.Name, o.Name)
			}
			if !documented[o.Name] {
				t.Errorf("README's .hardenfix.yaml example lacks the option %s of %s", o.Name, r.Name)
			}
			delete(documented, o.Name)
		}
	}
	for key := range documented {
		t.Errorf("README's .hardenfix.yaml example names the option %q, which no rule declares", key)
	}
}
