package sbom

import (
	"fmt"
	"sort"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/hardenfix/hardenfix/pkg/scan"
)

// Property names of the images verify built and scanned, and of their
// findings.
const (
	PropBuild           = "hardenfix:build"           // original or rewritten
	PropImageID         = "hardenfix:image-id"        // the image's config digest, as the scanner read it
	PropScanner         = "hardenfix:scanner"         // trivy or grype
	PropVulnerabilities = "hardenfix:vulnerabilities" // "12 (1 critical, 3 high, …)"
	PropPackage         = "hardenfix:package"         // the package a finding is in
	PropInstalled       = "hardenfix:installed"       // its installed version(s)
)

// The two builds of a verified Dockerfile.
const (
	Original  = "original"
	Rewritten = "rewritten"
)

// scanned is one image verify built and scanned.
type scanned struct {
	path, build string
	report      *scan.Report
}

func (s *scanned) ref() string { return "build:" + s.path + "#" + s.build }

// AddScan records the scans of the two images verify built from the
// Dockerfile at path: before is the original's report, after the
// rewritten (verified) one's; either may be nil. Each becomes a container
// component, and every finding a vulnerability that affects the images it
// was found in.
func (b *Builder) AddScan(path string, before, after *scan.Report) {
	if before != nil {
		b.scans = append(b.scans, &scanned{path, Original, before})
	}
	if after != nil {
		b.scans = append(b.scans, &scanned{path, Rewritten, after})
	}
}

// scanned returns the image components, the vulnerabilities, the
// scanners (as tools) and the dependencies of the rewritten images on
// their base images, all in a fixed order.
func (b *Builder) scanned() ([]cdx.Component, []cdx.Vulnerability, []cdx.Component, []cdx.Dependency) {
	scans := append([]*scanned(nil), b.scans...)
	sort.SliceStable(scans, func(i, j int) bool { return scans[i].ref() < scans[j].ref() })
	var (
		components []cdx.Component
		deps       []cdx.Dependency
		tools      = map[string]string{}
		vulns      = map[string]*cdx.Vulnerability{}
	)
	for _, s := range scans {
		r := s.report
		tools[string(r.Tool)] = r.ToolVersion
		how := "as written"
		if s.build == Rewritten {
			how = "as hardenfix rewrote it (the verified rewrite)"
		}
		props := []cdx.Property{
			{Name: PropBuild, Value: s.build},
			{Name: PropScanner, Value: string(r.Tool)},
			{Name: PropVulnerabilities, Value: countsText(r.Counts())},
		}
		if r.ImageID != "" {
			props = append(props, cdx.Property{Name: PropImageID, Value: r.ImageID})
		}
		components = append(components, cdx.Component{
			BOMRef:      s.ref(),
			Type:        cdx.ComponentTypeContainer,
			Name:        s.path,
			Description: fmt.Sprintf("the image %s builds %s, scanned by %s", s.path, how, r.Tool.Title()),
			Properties:  &props,
			Evidence:    &cdx.Evidence{Occurrences: &[]cdx.EvidenceOccurrence{{Location: s.path}}},
		})
		if s.build == Rewritten {
			if on := b.basesOf(s.path); len(on) > 0 {
				deps = append(deps, cdx.Dependency{Ref: s.ref(), Dependencies: &on})
			}
		}
		for _, f := range r.Findings {
			key := f.ID + ":" + f.Package + "@" + f.Installed
			v := vulns[key]
			if v == nil {
				v = vulnerability(f, r.Tool)
				v.BOMRef = "vulnerability:" + key
				vulns[key] = v
			}
			*v.Affects = append(*v.Affects, cdx.Affects{Ref: s.ref()})
		}
	}
	keys := make([]string, 0, len(vulns))
	for k := range vulns {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]cdx.Vulnerability, 0, len(keys))
	for _, k := range keys {
		out = append(out, *vulns[k])
	}
	names := make([]string, 0, len(tools))
	for n := range tools {
		names = append(names, n)
	}
	sort.Strings(names)
	var toolComponents []cdx.Component
	for _, n := range names {
		toolComponents = append(toolComponents, cdx.Component{Type: cdx.ComponentTypeApplication, Name: n, Version: tools[n]})
	}
	return components, out, toolComponents, deps
}

// basesOf lists the base-image components the Dockerfile at path uses.
func (b *Builder) basesOf(path string) []string {
	var refs []string
	for k, e := range b.entries {
		for _, u := range e.uses {
			if u.path == path {
				refs = append(refs, k)
				break
			}
		}
	}
	sort.Strings(refs)
	return refs
}

// vulnerability is a finding in CycloneDX's model: its ID and where the ID
// is defined, the scanner's severity and the CVSS base score hardenfix
// ranks it by, each as a rating, the package and a recommendation.
func vulnerability(f *scan.Finding, tool scan.Tool) *cdx.Vulnerability {
	ratings := []cdx.VulnerabilityRating{{Source: &cdx.Source{Name: string(tool)}, Severity: severity(f.Severity)}}
	if f.Score.Version != 0 {
		score := f.Score.Value
		method := cdx.ScoringMethodCVSSv3
		if f.Score.Version == 2 {
			method = cdx.ScoringMethodCVSSv2
		}
		ratings = append(ratings, cdx.VulnerabilityRating{Source: &cdx.Source{Name: f.Score.Source}, Score: &score, Method: method})
	}
	props := []cdx.Property{{Name: PropPackage, Value: f.Package}}
	if f.Installed != "" {
		props = append(props, cdx.Property{Name: PropInstalled, Value: f.Installed})
	}
	v := &cdx.Vulnerability{
		ID:         f.ID,
		Source:     source(f.ID),
		Ratings:    &ratings,
		Affects:    &[]cdx.Affects{},
		Properties: &props,
	}
	if f.Fixed != "" {
		v.Recommendation = fmt.Sprintf("upgrade %s to %s", f.Package, f.Fixed)
	}
	return v
}

// source is the database that defines a vulnerability ID, for the two
// kinds of ID whose home is certain; nil for the rest (distribution
// advisories and the like).
func source(id string) *cdx.Source {
	switch {
	case strings.HasPrefix(id, "CVE-"):
		return &cdx.Source{Name: "NVD", URL: "https://nvd.nist.gov/vuln/detail/" + id}
	case strings.HasPrefix(id, "GHSA-"):
		return &cdx.Source{Name: "GitHub", URL: "https://github.com/advisories/" + id}
	}
	return nil
}

// severity maps a scanner severity onto CycloneDX's; Grype's negligible is
// CycloneDX's info.
func severity(s scan.Severity) cdx.Severity {
	switch s {
	case scan.Critical:
		return cdx.SeverityCritical
	case scan.High:
		return cdx.SeverityHigh
	case scan.Medium:
		return cdx.SeverityMedium
	case scan.Low:
		return cdx.SeverityLow
	case scan.Negligible:
		return cdx.SeverityInfo
	}
	return cdx.SeverityUnknown
}

// countsText is a total and its split by severity, the most severe first:
// "12 (1 critical, 3 high, 5 medium, 3 low, 0 negligible, 0 unknown)".
func countsText(c scan.Counts) string {
	parts := make([]string, 0, len(scan.Severities))
	for _, s := range scan.Severities {
		parts = append(parts, fmt.Sprintf("%d %s", c.Of(s), s))
	}
	return fmt.Sprintf("%d (%s)", c.Total(), strings.Join(parts, ", "))
}
