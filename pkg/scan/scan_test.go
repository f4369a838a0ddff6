package scan

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hardenfix/hardenfix/internal/golden"
)

func read(t *testing.T, name string) *Report {
	t.Helper()
	r, err := ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", "golden", name), got)
}

// The fixtures are a Debian-based python:3.12-bookworm image before and
// its python:3.12-slim-bookworm replacement after, as both scanners report
// them. The expected numbers are what testdata/make-fixtures.py, which
// lays the fixtures out from a hand-written table, counts from that table,
// independently of this package.
func TestCountsAreExact(t *testing.T) {
	type want struct {
		tool                    Tool
		artifact                string
		before, after           JSONCounts
		fixed, remaining, added int
	}
	for _, tc := range []struct {
		prefix string
		want   want
	}{
		{"trivy", want{Trivy, "python:3.12-bookworm",
			JSONCounts{Critical: 8, High: 22, Medium: 26, Low: 34, Unknown: 1},
			JSONCounts{Critical: 1, High: 14, Medium: 15, Low: 31},
			36, 55, 6}},
		{"grype", want{Grype, "python:3.12-bookworm",
			JSONCounts{Critical: 8, High: 22, Medium: 26, Low: 5, Negligible: 29, Unknown: 1},
			JSONCounts{Critical: 1, High: 14, Medium: 15, Low: 5, Negligible: 26},
			36, 55, 6}},
	} {
		t.Run(tc.prefix, func(t *testing.T) {
			before, after := read(t, tc.prefix+"-before.json"), read(t, tc.prefix+"-after.json")
			if before.Tool != tc.want.tool || after.Tool != tc.want.tool || before.Artifact != tc.want.artifact {
				t.Errorf("tool %s/%s artifact %q", before.Tool, after.Tool, before.Artifact)
			}
			if got := before.Counts().JSON(); got != tc.want.before {
				t.Errorf("before counts %+v, want %+v", got, tc.want.before)
			}
			if got := after.Counts().JSON(); got != tc.want.after {
				t.Errorf("after counts %+v, want %+v", got, tc.want.after)
			}
			d := Compare(before, after)
			if len(d.Fixed) != tc.want.fixed || len(d.Remaining) != tc.want.remaining || len(d.New) != tc.want.added {
				t.Errorf("fixed/remaining/new = %d/%d/%d, want %d/%d/%d", len(d.Fixed), len(d.Remaining), len(d.New), tc.want.fixed, tc.want.remaining, tc.want.added)
			}
			if len(d.Fixed)+len(d.Remaining) != before.Counts().Total() || len(d.Remaining)+len(d.New) != after.Counts().Total() {
				t.Error("fixed+remaining or remaining+new does not add up to the totals")
			}
		})
	}
}

func TestDigestsAndNames(t *testing.T) {
	tr, gr := read(t, "trivy-after.json"), read(t, "grype-after.json")
	const repoDigest = "python@sha256:2b8e6f0a4c1d7e3f9a5b2c8d4e0f6a1b7c3d9e5f0a6b2c8d4e1f7a3b9c5d0e6f"
	if len(tr.Digests) != 1 || tr.Digests[0] != repoDigest || tr.Names[0] != "python:3.12-slim-bookworm" {
		t.Errorf("trivy digests %v names %v", tr.Digests, tr.Names)
	}
	if len(gr.Digests) != 2 || gr.Digests[0] != repoDigest || !strings.HasPrefix(gr.Digests[1], "sha256:5e5e") || gr.ToolVersion != "0.84.0" {
		t.Errorf("grype digests %v version %q", gr.Digests, gr.ToolVersion)
	}
}

// Scores follow the documented order: highest vendor v3, else NVD v3,
// else highest vendor v2, else NVD v2.
func TestScoreOrder(t *testing.T) {
	find := func(r *Report, id, pkg string) *Finding {
		for _, f := range r.Findings {
			if f.ID == id && f.Package == pkg {
				return f
			}
		}
		t.Fatalf("%s %s not found", id, pkg)
		return nil
	}
	for _, prefix := range []string{"trivy", "grype"} {
		r := read(t, prefix+"-before.json")
		vendor := "redhat"
		if prefix == "grype" {
			vendor = "secalert@redhat.com"
		}
		for _, tc := range []struct {
			id, pkg string
			want    Score
		}{
			// Red Hat 7.5 beats NVD's 9.8: NVD is only the fallback.
			{"CVE-2023-38545", "curl", Score{7.5, 3, vendor}},
			// No vendor score: NVD v3.
			{"CVE-2019-1010022", "libc6", Score{9.8, 3, "nvd"}},
			// Only an NVD v2 score.
			{"CVE-2005-2541", "tar", Score{10, 2, "nvd"}},
			// No score at all.
			{"TEMP-0841856-B18BAF", "bash", Score{}},
		} {
			if got := find(r, tc.id, tc.pkg).Score; got != tc.want {
				t.Errorf("%s %s %s: score %+v, want %+v", prefix, tc.id, tc.pkg, got, tc.want)
			}
		}
	}
	// The highest of several vendors wins (ghsa 9.0 = redhat 9.0: the
	// alphabetically first source is kept for a stable label).
	if got := find(read(t, "trivy-before.json"), "CVE-2024-32002", "git").Score; got != (Score{9.0, 3, "ghsa"}) {
		t.Errorf("CVE-2024-32002 score %+v", got)
	}
}

func TestMergeDuplicates(t *testing.T) {
	src := `{"SchemaVersion":2,"ArtifactName":"x:1","Results":[
	 {"Target":"a","Vulnerabilities":[{"VulnerabilityID":"CVE-1","PkgName":"p","InstalledVersion":"1","Severity":"LOW","CVSS":{"nvd":{"V3Score":5}}}]},
	 {"Target":"b","Vulnerabilities":[{"VulnerabilityID":"CVE-1","PkgName":"p","InstalledVersion":"2","FixedVersion":"3","Severity":"HIGH","CVSS":{"redhat":{"V3Score":7}}}]}]}`
	r, err := Read("dup.json", strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Findings) != 1 {
		t.Fatalf("%d findings, want 1", len(r.Findings))
	}
	f := r.Findings[0]
	if f.Installed != "1, 2" || f.Fixed != "3" || f.Severity != High || f.Score != (Score{7, 3, "redhat"}) {
		t.Errorf("merged finding %+v", f)
	}
}

func TestGoldenOutputs(t *testing.T) {
	for _, prefix := range []string{"trivy", "grype"} {
		d := Compare(read(t, prefix+"-before.json"), read(t, prefix+"-after.json"))
		for _, format := range []struct {
			ext   string
			write func(*bytes.Buffer) error
		}{
			{"txt", func(b *bytes.Buffer) error { return d.WriteText(b, 10) }},
			{"md", func(b *bytes.Buffer) error { return d.WriteMarkdown(b, 10) }},
			{"json", func(b *bytes.Buffer) error { return d.WriteJSON(b, 10) }},
		} {
			var b bytes.Buffer
			if err := format.write(&b); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, prefix+"-diff."+format.ext, b.Bytes())
		}
	}
	// Mixed scanners compare, with a warning.
	d := Compare(read(t, "trivy-before.json"), read(t, "grype-after.json"))
	var b bytes.Buffer
	d.WriteText(&b, 3)
	checkGolden(t, "mixed-diff.txt", b.Bytes())
	if !strings.Contains(b.String(), "warning: the reports come from different scanners") {
		t.Error("no warning for mixed scanners")
	}
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
	}{
		{"empty", "", "empty.json: empty file"},
		{"blank", " \n\t\n", "blank.json: empty file"},
		{"array", "[]", "array.json: $: not a Trivy or Grype report: the top level is an array"},
		{"scalar", `"x"`, "scalar.json: $: not a Trivy or Grype report: the top level is a string"},
		{"sarif", `{"version":"2.1.0","$schema":"https://json.schemastore.org/sarif-2.1.0.json","runs":[]}`, "sarif.json: $: not a Trivy or Grype report: none of SchemaVersion"},
		{"cyclonedx", `{"bomFormat":"CycloneDX","specVersion":"1.5","version":1}`, "cyclonedx.json: $: not a Trivy or Grype report"},
		{"other-descriptor", `{"descriptor":{"name":"syft","version":"1.0"},"artifacts":[]}`, `other-descriptor.json: $.descriptor.name: not a Trivy or Grype report: written by "syft"`},
		{"both", `{"SchemaVersion":2,"ArtifactName":"x","matches":[]}`, "both.json: $: not a Trivy or Grype report: it has both"},
		{"trivy-v1", `{"SchemaVersion":1,"ArtifactName":"x"}`, "trivy-v1.json: $.SchemaVersion: Trivy SchemaVersion 1 is not supported; want 2"},
		{"trivy-no-version", `{"ArtifactName":"x","Results":[]}`, "trivy-no-version.json: $: Trivy report without SchemaVersion"},
		{"trivy-no-name", `{"SchemaVersion":2,"Results":[]}`, "trivy-no-name.json: $: Trivy report without ArtifactName"},
		{"trivy-no-pkg", `{"SchemaVersion":2,"ArtifactName":"x","Results":[{"Target":"t","Vulnerabilities":[{"VulnerabilityID":"CVE-1","PkgName":"a","Severity":"LOW"},{"VulnerabilityID":"CVE-2","Severity":"LOW"}]}]}`,
			"trivy-no-pkg.json: $.Results[0].Vulnerabilities[1]: vulnerability without PkgName"},
		{"trivy-bad-severity", `{"SchemaVersion":2,"ArtifactName":"x","Results":[{"Vulnerabilities":[{"VulnerabilityID":"CVE-1","PkgName":"a","Severity":"SEVERE"}]}]}`,
			`trivy-bad-severity.json: $.Results[0].Vulnerabilities[0].Severity: unknown Trivy severity "SEVERE"`},
		{"trivy-score-string", `{"SchemaVersion":2,"ArtifactName":"x","Results":[{"Vulnerabilities":[{"VulnerabilityID":"CVE-1","PkgName":"a","Severity":"LOW","CVSS":{"nvd":{"V3Score":"9.8"}}}]}]}`,
			"trivy-score-string.json: $.Results[0].Vulnerabilities[0].CVSS.nvd.V3Score: got a JSON string, want a number"},
		{"trivy-results-object", `{"SchemaVersion":2,"ArtifactName":"x","Results":{}}`, "trivy-results-object.json: $.Results: got an object, want an array"},
		{"trivy-truncated", `{"SchemaVersion":2,"ArtifactName":"x","Results":[{"Target":"t","Vulnerabilities":[{"VulnerabilityID":"CVE-1","PkgName":"a","Sev`,
			"trivy-truncated.json: $.Results[0].Vulnerabilities[0]: truncated JSON"},
		{"trivy-truncated-between", `{"SchemaVersion":2,"ArtifactName":"x","Results":[{"Target":"t",`, "trivy-truncated-between.json: $.Results[0]: truncated JSON"},
		{"trivy-syntax", `{"SchemaVersion":2,"ArtifactName":"x","Results":[{"Target":"t",,}]}`, "trivy-syntax.json: $.Results[0]: invalid JSON at byte"},
		{"trailing", `{"SchemaVersion":2,"ArtifactName":"x"} {}`, "trailing.json: unexpected data after the report's closing brace"},
		{"grype-no-source", `{"matches":[]}`, "grype-no-source.json: $: Grype report without source"},
		{"grype-no-artifact", `{"matches":[{"vulnerability":{"id":"CVE-1","severity":"High"}}],"source":{"type":"image","target":{"userInput":"x"}}}`,
			"grype-no-artifact.json: $.matches[0]: match without artifact"},
		{"grype-no-id", `{"matches":[{"vulnerability":{"severity":"High"},"artifact":{"name":"a","version":"1"}}],"source":{"target":"dir"}}`,
			"grype-no-id.json: $.matches[0].vulnerability: vulnerability without id"},
		{"grype-bad-severity", `{"matches":[{"vulnerability":{"id":"CVE-1","severity":"Severe"},"artifact":{"name":"a"}}],"source":{"target":"dir"}}`,
			`grype-bad-severity.json: $.matches[0].vulnerability.severity: unknown Grype severity "Severe"`},
		{"grype-bad-target", `{"matches":[],"source":{"target":42}}`, "grype-bad-target.json: $.source.target: got 42, want an object or a string"},
		{"grype-cvss-not-array", `{"matches":[{"vulnerability":{"id":"CVE-1","severity":"High","cvss":{}},"artifact":{"name":"a"}}],"source":{"target":"dir"}}`,
			"grype-cvss-not-array.json: $.matches[0].vulnerability.cvss: got a JSON object, want an array"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read(tc.name+".json", strings.NewReader(tc.src))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

// The bad/ folder holds whole broken report files, as a user would pass
// them; each must fail with the error its name promises.
func TestBadFiles(t *testing.T) {
	for name, want := range map[string]string{
		"empty.json":                  "empty file",
		"trivy-truncated.json":        "truncated JSON",
		"trivy-missing-pkgname.json":  "$.Results[0].Vulnerabilities[2]: vulnerability without PkgName",
		"grype-missing-artifact.json": "$.matches[1]: match without artifact",
		"snyk.json":                   "not a Trivy or Grype report",
	} {
		_, err := ReadFile(filepath.Join("testdata", "bad", name))
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: error = %v, want it to name the file and contain %q", name, err, want)
		}
	}
}
