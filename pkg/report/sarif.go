package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// The subset of SARIF 2.1.0 hardenfix writes. Tests validate the output
// against the official schema.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri,omitempty"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID               string          `json:"id"`
	Name             string          `json:"name"`
	ShortDescription sarifText       `json:"shortDescription"`
	FullDescription  sarifText       `json:"fullDescription"`
	Help             sarifHelp       `json:"help"`
	HelpURI          string          `json:"helpUri,omitempty"`
	Properties       map[string]any  `json:"properties,omitempty"`
	DefaultConfig    *sarifRuleLevel `json:"defaultConfiguration,omitempty"`
}

type sarifRuleLevel struct {
	Level string `json:"level"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifHelp struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	RuleIndex int             `json:"ruleIndex"`
	Level     string          `json:"level"`
	Kind      string          `json:"kind,omitempty"`
	Message   sarifText       `json:"message"`
	Locations []sarifLocation `json:"locations"`
	Fixes     []sarifFix      `json:"fixes,omitempty"`
	// Properties carry the vulnerability counts of the FROM line's
	// image, from --scan-report.
	Properties map[string]any `json:"properties,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           sarifRegion   `json:"region"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
	EndLine   int `json:"endLine,omitempty"`
}

type sarifFix struct {
	Description     sarifText        `json:"description"`
	ArtifactChanges []sarifArtChange `json:"artifactChanges"`
}

type sarifArtChange struct {
	ArtifactLocation sarifArtifact      `json:"artifactLocation"`
	Replacements     []sarifReplacement `json:"replacements"`
}

type sarifReplacement struct {
	DeletedRegion   sarifRegion `json:"deletedRegion"`
	InsertedContent *sarifText  `json:"insertedContent,omitempty"`
}

// WriteSARIF writes the report as a SARIF 2.1.0 log: one rule per hardenfix
// rule (with its long doc as help), one result per fix (level warning: the
// file is not hardened yet) and per note (level note), each fix carrying its
// replacement. Files that failed to parse are results of the pseudo-rule
// "parse-error". Replacement regions are whole lines of the original file.
func (r *Report) WriteSARIF(w io.Writer) error {
	driver, ix := r.sarifDriver()
	results := []sarifResult{}
	for _, f := range r.Files {
		results = append(results, sarifFileResults(f, ix)...)
	}
	log := sarifLog{
		Schema:  "https://json.schemastore.org/sarif-2.1.0.json",
		Version: "2.1.0",
		Runs:    []sarifRun{{Tool: sarifTool{Driver: driver}, Results: results}},
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(log)
}

// sarifIndex says where the run's rules are in the driver's list.
type sarifIndex struct {
	rule                map[string]int // hardenfix's own rules
	parse, scan, verify int            // the pseudo-rules after them
}

// sarifDriver describes hardenfix and its rules: those of the report's
// results, then parse-error and, when the report has scan counts or
// verifications, a pseudo-rule for each.
func (r *Report) sarifDriver() (sarifDriver, sarifIndex) {
	rules, idx := r.ruleIndex()
	ix := sarifIndex{rule: idx}
	driver := sarifDriver{Name: "hardenfix", Version: r.Tool.Version, InformationURI: "https://github.com/hardenfix/hardenfix"}
	for _, rule := range rules {
		level := "warning"
		if rule.Risk == "review" {
			level = "note"
		}
		driver.Rules = append(driver.Rules, sarifRule{
			ID:               rule.Name,
			Name:             rule.Name,
			ShortDescription: sarifText{rule.Summary},
			FullDescription:  sarifText{firstParagraph(rule.Doc)},
			Help:             sarifHelp{Text: rule.Doc, Markdown: "**" + rule.Summary + "**\n\n" + rule.Doc},
			HelpURI:          rule.URL,
			Properties:       map[string]any{"risk": string(rule.Risk), "tags": []string{"security", "dockerfile"}},
			DefaultConfig:    &sarifRuleLevel{Level: level},
		})
	}
	ix.parse = len(driver.Rules)
	driver.Rules = append(driver.Rules, sarifRule{
		ID: "parse-error", Name: "parse-error",
		ShortDescription: sarifText{"The file could not be read, parsed or written."},
		FullDescription:  sarifText{"hardenfix left the file as it was because it could not read, parse or write it."},
		Help:             sarifHelp{Text: "Fix the error named in the message; hardenfix changes nothing in a file it cannot parse."},
		DefaultConfig:    &sarifRuleLevel{Level: "error"},
	})
	ix.scan = len(driver.Rules)
	if r.hasScans() {
		driver.Rules = append(driver.Rules, sarifRule{
			ID: "base-image-vulnerabilities", Name: "base-image-vulnerabilities",
			ShortDescription: sarifText{"Vulnerability counts of a FROM line's image, from a scanner report."},
			FullDescription:  sarifText{"A Trivy or Grype report given with --scan-report matched the image of this FROM line; the counts are in the result's properties."},
			Help:             sarifHelp{Text: "Compare the counts before and after the run; a lower count is what the new base image buys."},
			DefaultConfig:    &sarifRuleLevel{Level: "note"},
		})
	}
	ix.verify = len(driver.Rules)
	if r.hasVerification() {
		driver.Rules = append(driver.Rules, sarifRule{
			ID: "verification", Name: "verification",
			ShortDescription: sarifText{"hardenfix verify built and ran the file before and after the rewrite."},
			FullDescription:  sarifText{"The original and the rewritten Dockerfile were built and run side by side; the result says whether the rewrite behaved like the original, and which rules were dropped to make it so."},
			Help:             sarifHelp{Text: "A file that could not be verified is not rewritten; a dropped rule's fixes broke the build or the container (the log excerpt says how)."},
			DefaultConfig:    &sarifRuleLevel{Level: "note"},
		})
	}
	return driver, ix
}

// sarifFileResults are the results of one file: its error, fixes and
// notes, with the scan counts attached, then its verification.
func sarifFileResults(f File, ix sarifIndex) []sarifResult {
	var results []sarifResult
	loc := func(line, end int) []sarifLocation {
		return []sarifLocation{{PhysicalLocation: sarifPhysical{ArtifactLocation: sarifArtifact{f.Path}, Region: sarifRegion{StartLine: max(line, 1), EndLine: end}}}}
	}
	if f.Error != "" {
		results = append(results, sarifResult{RuleID: "parse-error", RuleIndex: ix.parse, Level: "error", Message: sarifText{f.Error}, Locations: loc(1, 0)})
	}
	for _, x := range f.Fixes {
		end := max(x.Line, 1) + max(strings.Count(strings.TrimSuffix(x.Before, "\n"), "\n"), 0)
		results = append(results, sarifResult{
			RuleID: x.Rule, RuleIndex: ix.rule[x.Rule], Level: "warning",
			Message:   sarifText{x.Message + " (risk: " + x.Risk + ")"},
			Locations: loc(x.Line, end),
			Fixes: []sarifFix{{
				Description: sarifText{x.Message},
				ArtifactChanges: []sarifArtChange{{
					ArtifactLocation: sarifArtifact{f.Path},
					Replacements: []sarifReplacement{{
						DeletedRegion:   sarifRegion{StartLine: max(x.Line, 1), EndLine: end},
						InsertedContent: &sarifText{x.After},
					}},
				}},
			}},
		})
	}
	for _, n := range f.Notes {
		results = append(results, sarifResult{RuleID: n.Rule, RuleIndex: ix.rule[n.Rule], Level: "note", Message: sarifText{n.Message}, Locations: loc(n.Line, 0)})
	}
	results = attachScans(results, f, ix.scan, loc)
	if v := f.Verification; v != nil && v.Status != "unchanged" {
		results = append(results, verificationResult(v, ix.verify, loc(1, 0)))
	}
	return results
}

func firstParagraph(doc string) string {
	p, _, _ := strings.Cut(doc, "\n\n")
	return strings.Join(strings.Fields(p), " ")
}

// attachScans puts each image scan of f on the results of its FROM line
// (property "vulnerabilities"); a FROM line without a result gets one of
// the pseudo-rule base-image-vulnerabilities, so every count is shown. A
// scan of a stage the run added (line 0) goes with the fixes whose new
// text uses the image.
func attachScans(results []sarifResult, f File, ruleIdx int, loc func(line, end int) []sarifLocation) []sarifResult {
	for _, sc := range f.Scans {
		props := map[string]any{
			"image": sc.Image, "when": sc.When, "report": sc.Report, "tool": sc.Tool,
			"matchedBy": sc.MatchedBy, "total": sc.Total, "counts": sc.Counts,
		}
		attached := false
		for i := range results {
			r := &results[i]
			if !scanBelongs(r, f, sc) {
				continue
			}
			if r.Properties == nil {
				r.Properties = map[string]any{}
			}
			list, _ := r.Properties["vulnerabilities"].([]map[string]any)
			r.Properties["vulnerabilities"] = append(list, props)
			attached = true
		}
		if attached {
			continue
		}
		c := sc.Counts
		msg := fmt.Sprintf("%s (%s): %d vulnerabilities (%d critical, %d high, %d medium, %d low) in %s (%s)",
			sc.Image, sc.When, sc.Total, c.Critical, c.High, c.Medium, c.Low, sc.Report, sc.Tool)
		results = append(results, sarifResult{
			RuleID: "base-image-vulnerabilities", RuleIndex: ruleIdx, Level: "note",
			Message: sarifText{msg}, Locations: loc(max(sc.Line, 1), 0),
			Properties: map[string]any{"vulnerabilities": []map[string]any{props}},
		})
	}
	return results
}

func (r *Report) hasScans() bool {
	for _, f := range r.Files {
		if len(f.Scans) > 0 {
			return true
		}
	}
	return false
}

// scanBelongs reports whether result r (of file f) is about the FROM line
// scan sc matched.
func scanBelongs(r *sarifResult, f File, sc ImageScan) bool {
	if len(r.Locations) == 0 || r.Locations[0].PhysicalLocation.ArtifactLocation.URI != f.Path || r.RuleID == "base-image-vulnerabilities" {
		return false
	}
	if sc.Line > 0 {
		return r.Locations[0].PhysicalLocation.Region.StartLine == sc.Line
	}
	for _, fx := range r.Fixes {
		for _, ch := range fx.ArtifactChanges {
			for _, rep := range ch.Replacements {
				if rep.InsertedContent != nil && strings.Contains(rep.InsertedContent.Text, sc.Image) {
					return true
				}
			}
		}
	}
	return false
}

func (r *Report) hasVerification() bool {
	for _, f := range r.Files {
		if f.Verification != nil && f.Verification.Status != "unchanged" {
			return true
		}
	}
	return false
}

// verificationResult is a file's verification as a SARIF result: an
// error when it could not be verified, a warning when rules were dropped,
// else a note; the figures are in its properties.
func verificationResult(v *Verification, idx int, loc []sarifLocation) sarifResult {
	level, msg := "note", "verified: the rewrite builds and behaves like the original"
	switch {
	case v.Status == "failed":
		level, msg = "error", "could not be verified: "+v.Reason
	case len(v.Dropped) > 0:
		var parts []string
		for _, d := range v.Dropped {
			parts = append(parts, d.Rule+" ("+d.Reason+")")
		}
		level, msg = "warning", "healed: dropped "+strings.Join(parts, ", ")
	}
	c := v.Cells()
	msg += fmt.Sprintf("; size %s, user %s", c[2], c[3])
	return sarifResult{RuleID: "verification", RuleIndex: idx, Level: level, Message: sarifText{msg}, Locations: loc,
		Properties: map[string]any{"verification": v}}
}
