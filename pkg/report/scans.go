package report

import (
	"fmt"
	"strings"

	"github.com/hardenfix/hardenfix/pkg/scan"
)

// ImageScan is a scanner report's vulnerability counts for an image a FROM
// line uses, as written (before the run) or as rewritten (after it), so a
// reviewer sees why a new base image is better.
type ImageScan struct {
	// Line is the FROM's line in the original file; 0 for a stage the
	// run added.
	Line int `json:"line"`
	// Image is the reference with the global ARG defaults expanded.
	Image string `json:"image"`
	// When is "before" (the reference as written, replaced by the run),
	// "after" (the reference the run wrote) or "unchanged".
	When string `json:"when"`
	// Report is the scanner report file, Tool the scanner (trivy, grype).
	Report string `json:"report"`
	Tool   string `json:"tool"`
	// MatchedBy is "digest" or "name".
	MatchedBy string     `json:"matchedBy"`
	Total     int        `json:"total"`
	Counts    VulnCounts `json:"counts"`
}

// VulnCounts are vulnerabilities by severity, as scan-diff writes them.
type VulnCounts = scan.JSONCounts

// AddScans attaches image scans to the file most recently added with path.
func (r *Report) AddScans(path string, scans []ImageScan) {
	if f := r.file(path); f != nil {
		f.Scans = append(f.Scans, scans...)
	}
}

// AddFileNote adds a note that is not a rule's (rule names the feature,
// e.g. "sbom") to the file most recently added with path.
func (r *Report) AddFileNote(path string, n Note) {
	if f := r.file(path); f != nil {
		f.Notes = append(f.Notes, n.withKind())
		r.Summary.Notes++
	}
}

// AddNote adds a note about the run rather than one file (a scanner report
// that matched no image, for example).
func (r *Report) AddNote(n Note) {
	r.Notes = append(r.Notes, n.withKind())
	r.Summary.Notes++
}

func (r *Report) file(path string) *File {
	for i := len(r.Files) - 1; i >= 0; i-- {
		if r.Files[i].Path == path {
			return &r.Files[i]
		}
	}
	return nil
}

// writeScans renders a file's image scans as a table under its fixes.
func writeScans(b *strings.Builder, scans []ImageScan) {
	if len(scans) == 0 {
		return
	}
	b.WriteString("Base image vulnerabilities (from scanner reports):\n\n")
	b.WriteString("| line | image | when | critical | high | medium | low | other | total | report |\n| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n")
	for _, s := range scans {
		c := s.Counts
		fmt.Fprintf(b, "| %d | %s | %s | %d | %d | %d | %d | %d | **%d** | `%s` (%s, by %s) |\n",
			s.Line, codeCell(s.Image), s.When, c.Critical, c.High, c.Medium, c.Low, c.Negligible+c.Unknown, s.Total, cell(s.Report), s.Tool, s.MatchedBy)
	}
	b.WriteString("\n")
}
