package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/hardenfix/hardenfix/pkg/rules/image"
)

func TestScansAndRunNotes(t *testing.T) {
	r := New("test")
	r.Add("a/Dockerfile", &rewrite.Result{Path: "a/Dockerfile", Old: []byte("FROM x\n"), New: []byte("FROM x\n")}, nil)
	r.AddScans("a/Dockerfile", []ImageScan{{Line: 1, Image: "x", When: "unchanged", Report: "x.json", Tool: "trivy", MatchedBy: "name", Total: 3, Counts: VulnCounts{High: 2, Unknown: 1}}})
	r.AddScans("missing/Dockerfile", []ImageScan{{Line: 1}})
	r.AddFileNote("a/Dockerfile", Note{Rule: "sbom", Line: 1, Message: "left out"})
	r.AddNote(Note{Rule: "scan-report", Message: "y.json matches nothing"})
	if len(r.Files[0].Scans) != 1 || len(r.Files[0].Notes) != 1 || len(r.Notes) != 1 || r.Summary.Notes != 2 {
		t.Fatalf("report %+v", r)
	}
	var md bytes.Buffer
	if err := r.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"<p><code>a/Dockerfile</code></p>\n\nBase image vulnerabilities", // a file with scans and no fixes is shown
		"| 1 | `x` | unchanged | 0 | 2 | 0 | 0 | 1 | **3** | `x.json` (trivy, by name) |",
		"- (`scan-report`) y.json matches nothing",
		"- `a/Dockerfile:1` left out",
		"2 notes below ask for a check",
	} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.String())
		}
	}
	var js bytes.Buffer
	r.WriteJSON(&js)
	validateJSONSchema(t, "../../docs/report-schema.json", js.Bytes())
}

// TestSARIFScans checks that --scan-report counts ride on the results of
// the FROM line they match, and that a FROM line without a result gets one.
func TestSARIFScans(t *testing.T) {
	r := New("test")
	r.Rules = []*rewrite.Rule{image.Rebase}
	res := &rewrite.Result{Path: "a/Dockerfile", Old: []byte("FROM openjdk:17\nFROM alpine:3.20\n"), New: []byte("FROM eclipse-temurin:17\nFROM alpine:3.20\n"),
		Fixes: []rewrite.Fix{{Rule: "rebase", Line: 1, Risk: rewrite.Review, Message: "rebased", Before: "FROM openjdk:17\n", After: "FROM eclipse-temurin:17\n"}}}
	r.Add("a/Dockerfile", res, nil)
	r.AddScans("a/Dockerfile", []ImageScan{
		{Line: 1, Image: "openjdk:17", When: "before", Report: "b.json", Tool: "trivy", MatchedBy: "name", Total: 40, Counts: VulnCounts{Critical: 2, High: 38}},
		{Line: 1, Image: "eclipse-temurin:17", When: "after", Report: "a.json", Tool: "trivy", MatchedBy: "name", Total: 4, Counts: VulnCounts{High: 4}},
		{Line: 2, Image: "alpine:3.20", When: "unchanged", Report: "c.json", Tool: "grype", MatchedBy: "name", Total: 0},
	})
	var b bytes.Buffer
	if err := r.WriteSARIF(&b); err != nil {
		t.Fatal(err)
	}
	validate(t, sarifSchema(t), b.Bytes())
	var log struct {
		Runs []struct {
			Tool struct {
				Driver struct{ Rules []struct{ ID string } }
			}
			Results []struct {
				RuleID    string
				RuleIndex int
				Locations []struct {
					PhysicalLocation struct{ Region struct{ StartLine int } }
				}
				Properties struct {
					Vulnerabilities []struct {
						Image, When string
						Total       int
					}
				}
			}
		}
	}
	if err := json.Unmarshal(b.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	run := log.Runs[0]
	var fix, extra int
	for _, res := range run.Results {
		if run.Tool.Driver.Rules[res.RuleIndex].ID != res.RuleID {
			t.Errorf("result of %s points at rule %d", res.RuleID, res.RuleIndex)
		}
		v := res.Properties.Vulnerabilities
		switch {
		case res.RuleID == "rebase":
			fix++
			if len(v) != 2 || v[0].When != "before" || v[0].Total != 40 || v[1].Image != "eclipse-temurin:17" || v[1].Total != 4 {
				t.Errorf("rebase result's vulnerabilities = %+v", v)
			}
		case res.RuleID == "base-image-vulnerabilities":
			extra++
			if len(v) != 1 || v[0].Image != "alpine:3.20" || res.Locations[0].PhysicalLocation.Region.StartLine != 2 {
				t.Errorf("line 2's scan result = %+v", res)
			}
		}
	}
	if fix != 1 || extra != 1 {
		t.Errorf("%d rebase results and %d scan results, want 1 and 1:\n%s", fix, extra, b.String())
	}
}
