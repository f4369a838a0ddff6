package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
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
		"#### `a/Dockerfile`\n\nBase image vulnerabilities", // a file with scans and no fixes is shown
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
