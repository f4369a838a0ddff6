package sbom

import (
	"encoding/json"
	"testing"

	"github.com/hardenfix/hardenfix/pkg/scan"
)

// scanReports are the scans of svc/api/Dockerfile's two builds: the
// rewrite fixed CVE-2024-0001 in openssl, kept CVE-2023-0002 in zlib and
// brought a GHSA advisory in pip.
func scanReports() (before, after *scan.Report) {
	openssl := &scan.Finding{ID: "CVE-2024-0001", Package: "openssl", Severity: scan.Critical, Installed: "3.0.11-1", Fixed: "3.0.13-1", Score: scan.Score{Value: 9.8, Version: 3, Source: "nvd"}}
	zlib := &scan.Finding{ID: "CVE-2023-0002", Package: "zlib1g", Severity: scan.Negligible, Installed: "1:1.2.13"}
	pip := &scan.Finding{ID: "GHSA-aaaa-bbbb-cccc", Package: "pip", Severity: scan.Medium, Installed: "23.0", Fixed: "23.3", Score: scan.Score{Value: 5.5, Version: 2, Source: "ghsa"}}
	before = &scan.Report{Tool: scan.Trivy, ImageID: "sha256:1111", Findings: []*scan.Finding{openssl, zlib}}
	after = &scan.Report{Tool: scan.Trivy, ImageID: "sha256:2222", Findings: []*scan.Finding{zlib, pip}}
	return before, after
}

func TestBOMWithScans(t *testing.T) {
	b, _ := build(t, testCatalog)
	before, after := scanReports()
	b.AddScan("svc/api/Dockerfile", before, after)
	got := encode(t, b)
	checkGolden(t, "bom-scanned.json", got)
	validate(t, got)

	var bom struct {
		Metadata struct {
			Tools struct{ Components []struct{ Name string } }
		}
		Components []struct {
			BOMRef     string `json:"bom-ref"`
			Name, Type string
			Properties []struct{ Name, Value string }
		}
		Vulnerabilities []struct {
			BOMRef  string `json:"bom-ref"`
			ID      string
			Source  struct{ Name, URL string }
			Ratings []struct {
				Source   struct{ Name string }
				Score    float64
				Severity string
				Method   string
			}
			Recommendation string
			Affects        []struct{ Ref string }
		}
		Dependencies []struct {
			Ref       string
			DependsOn []string
		}
	}
	if err := json.Unmarshal(got, &bom); err != nil {
		t.Fatal(err)
	}
	// Every reference resolves to a component, and bom-refs are unique
	// over components and vulnerabilities.
	refs := map[string]bool{}
	for _, c := range bom.Components {
		if refs[c.BOMRef] {
			t.Errorf("bom-ref %q twice", c.BOMRef)
		}
		refs[c.BOMRef] = true
	}
	for _, v := range bom.Vulnerabilities {
		if refs[v.BOMRef] {
			t.Errorf("bom-ref %q twice", v.BOMRef)
		}
		for _, a := range v.Affects {
			if !refs[a.Ref] {
				t.Errorf("%s affects %q, which is no component", v.ID, a.Ref)
			}
		}
	}
	for _, d := range bom.Dependencies {
		for _, r := range append([]string{d.Ref}, d.DependsOn...) {
			if !refs[r] {
				t.Errorf("dependency on %q, which is no component", r)
			}
		}
	}

	// Base images first, as without scans, then the two builds.
	if len(bom.Components) != 5 || bom.Components[3].BOMRef != "build:svc/api/Dockerfile#original" || bom.Components[4].BOMRef != "build:svc/api/Dockerfile#rewritten" {
		t.Fatalf("components %+v", bom.Components)
	}
	counts := map[string]string{}
	for _, c := range bom.Components[3:] {
		for _, p := range c.Properties {
			if p.Name == PropVulnerabilities {
				counts[c.BOMRef] = p.Value
			}
		}
	}
	if counts["build:svc/api/Dockerfile#original"] != "2 (1 critical, 0 high, 0 medium, 0 low, 1 negligible, 0 unknown)" ||
		counts["build:svc/api/Dockerfile#rewritten"] != "2 (0 critical, 0 high, 1 medium, 0 low, 1 negligible, 0 unknown)" {
		t.Errorf("counts %v", counts)
	}

	affects := map[string][]string{}
	for _, v := range bom.Vulnerabilities {
		for _, a := range v.Affects {
			affects[v.ID] = append(affects[v.ID], a.Ref)
		}
	}
	want := map[string][]string{
		"CVE-2024-0001":       {"build:svc/api/Dockerfile#original"}, // fixed
		"CVE-2023-0002":       {"build:svc/api/Dockerfile#original", "build:svc/api/Dockerfile#rewritten"},
		"GHSA-aaaa-bbbb-cccc": {"build:svc/api/Dockerfile#rewritten"}, // new
	}
	for id, w := range want {
		if g := affects[id]; len(g) != len(w) || g[0] != w[0] || len(g) > 1 && g[1] != w[1] {
			t.Errorf("%s affects %v, want %v", id, g, w)
		}
	}
	for _, v := range bom.Vulnerabilities {
		switch v.ID {
		case "CVE-2024-0001":
			if v.Source.Name != "NVD" || len(v.Ratings) != 2 || v.Ratings[0].Severity != "critical" || v.Ratings[0].Source.Name != "trivy" ||
				v.Ratings[1].Score != 9.8 || v.Ratings[1].Method != "CVSSv3" || v.Ratings[1].Source.Name != "nvd" || v.Recommendation != "upgrade openssl to 3.0.13-1" {
				t.Errorf("openssl finding %+v", v)
			}
		case "CVE-2023-0002":
			if len(v.Ratings) != 1 || v.Ratings[0].Severity != "info" || v.Recommendation != "" {
				t.Errorf("zlib finding %+v", v)
			}
		case "GHSA-aaaa-bbbb-cccc":
			if v.Source.Name != "GitHub" || v.Ratings[1].Method != "CVSSv2" {
				t.Errorf("pip finding %+v", v)
			}
		}
	}
	if len(bom.Dependencies) != 1 || bom.Dependencies[0].Ref != "build:svc/api/Dockerfile#rewritten" || len(bom.Dependencies[0].DependsOn) != 2 {
		t.Errorf("dependencies %+v", bom.Dependencies)
	}
	if tools := bom.Metadata.Tools.Components; len(tools) != 2 || tools[1].Name != "trivy" {
		t.Errorf("tools %+v", tools)
	}

	// Scans change the serial number; the same scans give the same bytes.
	b2, _ := build(t, testCatalog)
	before2, after2 := scanReports()
	b2.AddScan("svc/api/Dockerfile", before2, after2)
	if string(encode(t, b2)) != string(got) {
		t.Error("the BOM with scans is not deterministic")
	}
	plain, _ := build(t, testCatalog)
	var s1, s2 struct{ SerialNumber string }
	json.Unmarshal(got, &s1)
	json.Unmarshal(encode(t, plain), &s2)
	if s1.SerialNumber == s2.SerialNumber {
		t.Error("the scans do not change the serial number")
	}
}
