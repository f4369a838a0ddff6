// Package scan reads vulnerability scanners' JSON reports (Trivy's
// SchemaVersion 2 and Grype's) into one small model, compares a report taken
// before hardening with one taken after, and matches reports to the images a
// Dockerfile's FROM lines name.
//
// hardenfix does not scan images. It reads what the scanners wrote and keeps
// only what a comparison needs (vulnerability ID, package, versions,
// severity, CVSS base score), streaming the JSON so a large report is never
// held in memory as a whole.
package scan

import (
	"fmt"
	"sort"
	"strings"
)

// Tool is the scanner that wrote a report.
type Tool string

const (
	Trivy Tool = "trivy"
	Grype Tool = "grype"
)

// Title is the tool's name as its authors write it.
func (t Tool) Title() string {
	switch t {
	case Trivy:
		return "Trivy"
	case Grype:
		return "Grype"
	}
	return string(t)
}

// Severity is a scanner's severity, normalised over both tools. Trivy
// writes CRITICAL, HIGH, MEDIUM, LOW, UNKNOWN; Grype writes Critical, High,
// Medium, Low, Negligible, Unknown.
type Severity int

const (
	Unknown Severity = iota
	Negligible
	Low
	Medium
	High
	Critical
	numSeverities
)

// Severities lists the severities from the most to the least severe, the
// order tables use.
var Severities = []Severity{Critical, High, Medium, Low, Negligible, Unknown}

var severityNames = [numSeverities]string{"unknown", "negligible", "low", "medium", "high", "critical"}

func (s Severity) String() string { return severityNames[s] }

// ParseSeverity reads a severity as either scanner writes it (any case).
func ParseSeverity(s string) (Severity, bool) {
	for i, n := range severityNames {
		if strings.EqualFold(s, n) {
			return Severity(i), true
		}
	}
	return Unknown, false
}

// Counts is a number of vulnerabilities per severity.
type Counts [numSeverities]int

// Of returns the count for one severity.
func (c Counts) Of(s Severity) int { return c[s] }

// Total is the number of vulnerabilities over all severities.
func (c Counts) Total() int {
	n := 0
	for _, v := range c {
		n += v
	}
	return n
}

// Score is a CVSS base score and where it came from.
type Score struct {
	// Value is the base score, 0 to 10; meaningless when Version is 0.
	Value float64
	// Version is the CVSS major version the score is in: 3 or 2; 0 when
	// the report gives no score.
	Version int
	// Source is who gave the score: a vendor ("redhat", "ghsa",
	// "debian", a Grype cvss source such as "secalert@redhat.com") or "nvd".
	Source string
}

func (s Score) String() string {
	if s.Version == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f", s.Value)
}

// Label says where the score came from, e.g. "nvd v3".
func (s Score) Label() string {
	if s.Version == 0 {
		return "no score"
	}
	return fmt.Sprintf("%s v%d", s.Source, s.Version)
}

// scoreCandidates collects every CVSS base score a report gives for one
// finding and picks the one hardenfix orders by. See PickScore.
type scoreCandidates struct {
	vendorV3, nvdV3, vendorV2, nvdV2 Score
}

func (c *scoreCandidates) add(source string, nvd bool, version int, value float64) {
	if value <= 0 || value > 10 {
		return
	}
	s := Score{Value: value, Version: version, Source: source}
	var slot *Score
	switch {
	case version == 3 && !nvd:
		slot = &c.vendorV3
	case version == 3:
		slot = &c.nvdV3
	case version == 2 && !nvd:
		slot = &c.vendorV2
	case version == 2:
		slot = &c.nvdV2
	default:
		return
	}
	// Highest wins; equal scores keep the alphabetically first source so
	// the result does not depend on map or file order.
	if slot.Version == 0 || value > slot.Value || value == slot.Value && source < slot.Source {
		*slot = s
	}
}

// pick applies the documented order: the highest CVSS v3.x base score any
// vendor gives; else NVD's v3.x score; else the highest vendor v2 score;
// else NVD's v2 score; else no score. CVSS v4 scores are ignored so that
// every finding is ranked on the same scale.
func (c *scoreCandidates) pick() Score {
	for _, s := range []Score{c.vendorV3, c.nvdV3, c.vendorV2, c.nvdV2} {
		if s.Version != 0 {
			return s
		}
	}
	return Score{}
}

// Finding is one vulnerability in one package. Its identity is the
// vulnerability ID plus the package name: the same vulnerability found in
// the same package at several paths or versions is one finding.
type Finding struct {
	ID       string
	Package  string
	Severity Severity
	// Installed and Fixed are the installed and fixed versions; several
	// values are joined with ", ". Fixed is "" when no fix is known.
	Installed string
	Fixed     string
	Score     Score
}

// Key is the finding's identity.
func (f *Finding) Key() string { return f.ID + "\x00" + f.Package }

// Report is what hardenfix keeps of one scanner report.
type Report struct {
	// Path is the file the report was read from.
	Path string
	Tool Tool
	// ToolVersion is Grype's descriptor.version; Trivy does not write one.
	ToolVersion string
	// Artifact is what was scanned, as the user named it: Trivy's
	// ArtifactName, Grype's source.target.userInput.
	Artifact string
	// Names are further references of the image: Trivy's
	// Metadata.RepoTags, Grype's source.target.tags.
	Names []string
	// Digests are the image's repository digests ("name@sha256:…" from
	// Trivy's Metadata.RepoDigests and Grype's source.target.repoDigests)
	// and Grype's source.target.manifestDigest ("sha256:…").
	Digests []string
	// ImageID is the image's config digest (Trivy Metadata.ImageID, Grype
	// source.target.imageID); it is shown, never matched against FROM lines.
	ImageID string
	// Findings are the unique findings in the order they first appear.
	Findings []*Finding

	byKey map[string]*Finding
	id    *identity // names and digests, parsed on the first Match
}

// Counts returns the number of findings per severity.
func (r *Report) Counts() Counts {
	var c Counts
	for _, f := range r.Findings {
		c[f.Severity]++
	}
	return c
}

// add records a finding, merging it into an earlier one with the same
// identity: versions are joined, the highest severity and score are kept.
func (r *Report) add(f *Finding) {
	if r.byKey == nil {
		r.byKey = map[string]*Finding{}
	}
	old, ok := r.byKey[f.Key()]
	if !ok {
		r.byKey[f.Key()] = f
		r.Findings = append(r.Findings, f)
		return
	}
	old.Installed = joinDistinct(old.Installed, f.Installed)
	old.Fixed = joinDistinct(old.Fixed, f.Fixed)
	if f.Severity > old.Severity {
		old.Severity = f.Severity
	}
	if better(f.Score, old.Score) {
		old.Score = f.Score
	}
}

// better reports whether score a ranks above b: a v3 score above a v2 one,
// then the higher value.
func better(a, b Score) bool {
	if a.Version != b.Version {
		return a.Version > b.Version
	}
	return a.Value > b.Value
}

func joinDistinct(a, b string) string {
	if b == "" || a == b {
		return a
	}
	if a == "" {
		return b
	}
	for _, x := range strings.Split(a, ", ") {
		if x == b {
			return a
		}
	}
	return a + ", " + b
}

// SortByScore orders findings by CVSS base score, highest first. CVSS v2
// and v3 are different scales (v2 rates most old flaws far higher), so
// findings scored in v3 come first, then those with only a v2 score, then
// those with none. Ties go by severity, then vulnerability ID, then package
// name.
func SortByScore(fs []*Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.Score.Version != b.Score.Version {
			return a.Score.Version > b.Score.Version
		}
		if a.Score.Value != b.Score.Value {
			return a.Score.Value > b.Score.Value
		}
		if a.Severity != b.Severity {
			return a.Severity > b.Severity
		}
		if a.ID != b.ID {
			return a.ID < b.ID
		}
		return a.Package < b.Package
	})
}
