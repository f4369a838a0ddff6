package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hardenfix/hardenfix/internal/golden"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/hardenfix/hardenfix/internal/cdxschema"
	"github.com/hardenfix/hardenfix/pkg/report"
	"github.com/hardenfix/hardenfix/pkg/rewrite"
)

const (
	slimIndex = "sha256:2b8e6f0a4c1d7e3f9a5b2c8d4e0f6a1b7c3d9e5f0a6b2c8d4e1f7a3b9c5d0e6f" // RepoDigests of the *-after.json fixtures
	redisOnly = `{"SchemaVersion":2,"ArtifactName":"redis:7","Metadata":{"RepoDigests":["redis@sha256:1111111111111111111111111111111111111111111111111111111111111111"]},"Results":[]}`
)

// scanTree is a repository whose FROM lines use the images of pkg/scan's
// fixtures: by name, through an ARG default, and pinned by digest.
func scanTree(t *testing.T) string {
	t.Helper()
	fixtures, err := filepath.Abs(filepath.Join("..", "..", "pkg", "scan", "testdata"))
	if err != nil {
		t.Fatal(err)
	}
	root := writeTree(t, map[string]string{
		"svc/api/Dockerfile":    "FROM python:3.12-bookworm AS build\nADD . /app\nFROM build\n",
		"svc/worker/Dockerfile": "ARG BASE=python:3.12-slim-bookworm\nFROM ${BASE}\nCOPY . /app\n",
		"svc/pinned/Dockerfile": "FROM docker.io/library/python:3.12-slim@" + slimIndex + "\n",
		"tools/Dockerfile":      "ARG REG\nFROM ${REG}/tool:1\nFROM scratch\n",
		"redis.json":            redisOnly,
	})
	for _, name := range []string{"trivy-before.json", "trivy-after.json", "grype-after.json"} {
		data, err := os.ReadFile(filepath.Join(fixtures, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestScanReportsInRunReport(t *testing.T) {
	t.Chdir(scanTree(t))
	t.Setenv("SOURCE_DATE_EPOCH", "1795000000")
	args := []string{"--format", "json", "--report", "report.json", "--sbom", "bom.json",
		"--scan-report", "trivy-before.json", "--scan-report", "trivy-after.json,grype-after.json", "--scan-report", "redis.json", "."}
	code, _, stderr := hardenfix(t, args...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"hardenfix: scan-report: redis.json (Trivy report of redis:7) matches no image a FROM line uses; ignored",
		"tools/Dockerfile:2: sbom: FROM ${REG}/tool:1 is not in the SBOM: REG has no default",
		"hardenfix: sbom: 2 of 3 base images in the SBOM have no digest, so no hash: python:3.12-bookworm, python:3.12-slim-bookworm; pin them",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	data, err := os.ReadFile("report.json")
	if err != nil {
		t.Fatal(err)
	}
	validateReport(t, data)
	var rep report.Report
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	scans := map[string][]report.ImageScan{}
	for _, f := range rep.Files {
		scans[f.Path] = f.Scans
	}
	api := scans["svc/api/Dockerfile"]
	if len(api) != 1 || api[0].Line != 1 || api[0].Image != "python:3.12-bookworm" || api[0].When != "unchanged" || api[0].Report != "trivy-before.json" ||
		api[0].MatchedBy != "name" || api[0].Total != 91 || api[0].Counts.Critical != 8 || api[0].Counts.High != 22 {
		t.Errorf("svc/api scans %+v", api)
	}
	// The ARG-built FROM matches both reports of the slim image.
	worker := scans["svc/worker/Dockerfile"]
	if len(worker) != 2 || worker[0].Report != "trivy-after.json" || worker[1].Report != "grype-after.json" || worker[1].Tool != "grype" ||
		worker[0].Line != 2 || worker[0].Total != 61 || worker[1].Counts.Negligible != 26 {
		t.Errorf("svc/worker scans %+v", worker)
	}
	// A pinned reference matches by digest even under another tag.
	pinned := scans["svc/pinned/Dockerfile"]
	if len(pinned) != 2 || pinned[0].MatchedBy != "digest" || pinned[1].MatchedBy != "digest" {
		t.Errorf("svc/pinned scans %+v", pinned)
	}
	if len(scans["tools/Dockerfile"]) != 0 {
		t.Errorf("tools scans %+v", scans["tools/Dockerfile"])
	}
	if len(rep.Notes) != 2 || rep.Notes[0].Rule != "scan-report" || rep.Notes[1].Rule != "sbom" {
		t.Errorf("run notes %+v", rep.Notes)
	}
	bom, err := os.ReadFile("bom.json")
	if err != nil {
		t.Fatal(err)
	}
	bomSchema, err := cdxschema.BOM15()
	if err != nil {
		t.Fatal(err)
	}
	var bomDoc any
	if err := json.Unmarshal(bom, &bomDoc); err != nil {
		t.Fatal(err)
	}
	if err := bomSchema.Validate(bomDoc); err != nil {
		t.Errorf("bom.json does not validate against CycloneDX 1.5: %v", err)
	}
	for _, want := range []string{`"specVersion": "1.5"`, `"timestamp": "2026-11-18T`, `"bom-ref": "docker.io/library/python:3.12-slim@` + slimIndex, `"value": "svc/api/Dockerfile:1 stage build"`} {
		if !bytes.Contains(bom, []byte(want)) {
			t.Errorf("bom.json lacks %s:\n%s", want, bom)
		}
	}

	// The same run as Markdown, for a pull-request body.
	code, md, stderr := hardenfix(t, append([]string{"--format", "markdown", "-q", "--enable", "add-to-copy"}, args[4:]...)...)
	if code != exitOK {
		t.Fatalf("markdown: exit %d: %s", code, stderr)
	}
	goldenFile(t, "scan-run.md", []byte(strings.ReplaceAll(md, versionString(), "VERSION")))
}

// Once rebase and pin rewrite FROM lines, a file has an image before and
// after the run; each gets the counts of its own report.
func TestScansBeforeAndAfterRewrite(t *testing.T) {
	t.Chdir(scanTree(t))
	x, err := newExtras([]string{"trivy-before.json", "trivy-after.json"}, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	rep := report.New("test")
	var stderr bytes.Buffer
	p := &printer{opts: &options{}, stdout: io.Discard, stderr: &stderr, report: rep}
	res := &rewrite.Result{
		Path: "Dockerfile",
		Old:  []byte("FROM python:3.12-bookworm AS build\nRUN make\nFROM python:3.12-bookworm\n"),
		New:  []byte("FROM python:3.12-slim-bookworm@" + slimIndex + " AS build\nRUN make\nFROM python:3.12-bookworm\nFROM python:3.12-slim-bookworm\n"),
	}
	rep.Add("Dockerfile", res, nil)
	x.file(p, "Dockerfile", res)
	var got []string
	for _, s := range rep.Files[0].Scans {
		got = append(got, strings.Join([]string{s.When, s.Image, s.Report, s.MatchedBy}, " "))
	}
	want := []string{
		"before python:3.12-bookworm trivy-before.json name",
		"after python:3.12-slim-bookworm@" + slimIndex + " trivy-after.json digest",
		"unchanged python:3.12-bookworm trivy-before.json name",
		"after python:3.12-slim-bookworm trivy-after.json name", // a stage the run added: line 0
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("scans:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if s := rep.Files[0].Scans; s[0].Line != 1 || s[1].Line != 1 || s[2].Line != 3 || s[3].Line != 0 {
		t.Errorf("lines %d %d %d %d", s[0].Line, s[1].Line, s[2].Line, s[3].Line)
	}
	if err := x.finish(p); err != nil || len(rep.Notes) != 0 {
		t.Errorf("finish: %v, notes %+v", err, rep.Notes)
	}
}

func TestScanReportErrors(t *testing.T) {
	t.Chdir(scanTree(t))
	os.WriteFile("empty.json", nil, 0o644)
	code, stdout, stderr := hardenfix(t, "--scan-report", "empty.json", ".")
	if code != exitError || stdout != "" || !strings.Contains(stderr, "hardenfix: --scan-report: empty.json: empty file") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	// Text mode prints the matches on stderr.
	code, _, stderr = hardenfix(t, "--scan-report", "trivy-before.json", ".")
	if code != exitOK || !strings.Contains(stderr, "svc/api/Dockerfile:1: scan-report: python:3.12-bookworm (unchanged): 91 vulnerabilities (8 critical, 22 high, 26 medium, 34 low, 1 other) in trivy-before.json") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
}

func validateReport(t *testing.T, doc []byte) {
	t.Helper()
	schema, err := jsonschema.NewCompiler().Compile(filepath.Join(wd(t), "..", "..", "docs", "report-schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatal(err)
	}
	if err := schema.Validate(v); err != nil {
		t.Errorf("report does not match docs/report-schema.json: %v", err)
	}
}

var startDir, _ = os.Getwd()

func wd(t *testing.T) string { return startDir }

func goldenFile(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Check(t, filepath.Join(startDir, "testdata", name), got)
}
