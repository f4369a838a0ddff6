package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hardenfix/hardenfix/pkg/baseimage"
	"github.com/hardenfix/hardenfix/pkg/files"
	"github.com/hardenfix/hardenfix/pkg/registry"
	"github.com/hardenfix/hardenfix/pkg/report"
	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/hardenfix/hardenfix/pkg/sbom"
	"github.com/hardenfix/hardenfix/pkg/scan"
)

// extras are a run's outputs beside the rewrite: scanner reports matched
// to the images FROM lines use (--scan-report) and the bill of materials
// of those images (--sbom). The printer hands them every file's result.
type extras struct {
	reports []*scan.Report
	counts  []scan.Counts
	matched []bool
	// otherBuild explains, per report, a FROM that names the report's
	// image but pins a digest the report does not list.
	otherBuild []string

	bom      *sbom.Builder
	sbomPath string
}

// newExtras reads the scanner reports up front, so a bad one is a usage
// error before any file is touched. images is the catalog lookup for the
// SBOM's publisher and verification kind; nil until the catalog is wired.
func newExtras(reportPaths []string, sbomPath string, images registry.ImageInfo) (*extras, error) {
	if len(reportPaths) == 0 && sbomPath == "" {
		return nil, nil
	}
	x := &extras{sbomPath: sbomPath}
	for _, p := range reportPaths {
		r, err := scan.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("--scan-report: %w", err)
		}
		x.reports = append(x.reports, r)
		x.counts = append(x.counts, r.Counts())
	}
	x.matched = make([]bool, len(x.reports))
	x.otherBuild = make([]string, len(x.reports))
	if sbomPath != "" {
		x.bom = sbom.New(images)
	}
	return x, nil
}

// file matches the reports to one file's FROM lines, as written and as
// rewritten, and records its images for the SBOM.
func (x *extras) file(p *printer, path string, res *rewrite.Result) {
	if x == nil || res == nil {
		return
	}
	oldDoc, err := rewrite.Parse(path, res.Old)
	if err != nil {
		return // Run parsed it; cannot happen
	}
	newDoc := oldDoc
	if res.Changed() {
		if newDoc, err = rewrite.Parse(path, res.New); err != nil {
			return
		}
	}
	oldFroms, newFroms := baseimage.List(oldDoc), baseimage.List(newDoc)
	// Rules keep the stages in order and may only add stages at the end
	// (a multi-stage split), so stage i before is stage i after.
	origLine := func(i int) int {
		if i < len(oldFroms) {
			return oldFroms[i].Line
		}
		return 0
	}
	if len(x.reports) > 0 {
		var scans []report.ImageScan
		for i := 0; i < max(len(oldFroms), len(newFroms)); i++ {
			var before, after *baseimage.From
			if i < len(oldFroms) && oldFroms[i].Kind == baseimage.Image {
				before = &oldFroms[i]
			}
			if i < len(newFroms) && newFroms[i].Kind == baseimage.Image {
				after = &newFroms[i]
			}
			if before != nil && after != nil && before.Ref.String() == after.Ref.String() {
				scans = append(scans, x.match(path, origLine(i), before, "unchanged")...)
				continue
			}
			if before != nil {
				scans = append(scans, x.match(path, origLine(i), before, "before")...)
			}
			if after != nil {
				scans = append(scans, x.match(path, origLine(i), after, "after")...)
			}
		}
		if p.report != nil {
			p.report.AddScans(path, scans)
		} else if !p.opts.quiet {
			p.progress.clear()
			for _, s := range scans {
				fmt.Fprintf(p.stderr, "%s:%d: scan-report: %s (%s): %d %s (%s) in %s\n", path, s.Line, s.Image, s.When, s.Total, plural2(s.Total, "vulnerability", "vulnerabilities"), countsText(s.Counts), s.Report)
			}
		}
	}
	if x.bom != nil {
		for _, n := range sbomAdd(x.bom, path, oldFroms, newFroms) {
			p.note(path, n)
		}
	}
}

// sbomAdd records a file's FROM lines as rewritten for the SBOM and
// returns the notes on the lines it leaves out, numbered as in the
// original file (stage i before is stage i after, see file).
func sbomAdd(bom *sbom.Builder, path string, oldFroms, newFroms []baseimage.From) []rewrite.Note {
	var notes []rewrite.Note
	for _, n := range bom.Add(path, newFroms) {
		for i, f := range newFroms {
			if f.Line == n.Line {
				n.Line = 0
				if i < len(oldFroms) {
					n.Line = oldFroms[i].Line
				}
			}
		}
		notes = append(notes, rewrite.Note{Rule: "sbom", Line: n.Line, Message: n.Message})
	}
	return notes
}

// sbomFile is sbomAdd for a rewrite result.
func sbomFile(bom *sbom.Builder, path string, res *rewrite.Result) []rewrite.Note {
	if res == nil {
		return nil
	}
	oldDoc, err := rewrite.Parse(path, res.Old)
	if err != nil {
		return nil
	}
	newDoc := oldDoc
	if res.Changed() {
		if newDoc, err = rewrite.Parse(path, res.New); err != nil {
			return nil
		}
	}
	return sbomAdd(bom, path, baseimage.List(oldDoc), baseimage.List(newDoc))
}

func (x *extras) match(path string, line int, f *baseimage.From, when string) []report.ImageScan {
	var out []report.ImageScan
	for j, r := range x.reports {
		m := r.Match(f.Ref)
		if m == scan.OtherBuild && x.otherBuild[j] == "" {
			x.otherBuild[j] = fmt.Sprintf("%s:%d names %s but pins %s, a digest the report does not list: it is of another build", path, line, f.Ref.FamiliarString(), f.Ref.Digest)
		}
		if m != scan.ByDigest && m != scan.ByName {
			continue
		}
		x.matched[j] = true
		c := x.counts[j]
		out = append(out, report.ImageScan{
			Line: line, Image: f.Expanded, When: when, Report: r.Path, Tool: string(r.Tool), MatchedBy: m.String(),
			Total:  c.Total(),
			Counts: c.JSON(),
		})
	}
	return out
}

// finish notes the reports that matched nothing and writes the SBOM.
func (x *extras) finish(p *printer) error {
	if x == nil {
		return nil
	}
	for j, r := range x.reports {
		if x.matched[j] {
			continue
		}
		msg := fmt.Sprintf("%s (%s report of %s) matches no image a FROM line uses; ignored", r.Path, r.Tool.Title(), r.Artifact)
		if x.otherBuild[j] != "" {
			msg += " (" + x.otherBuild[j] + ")"
		}
		p.runNote(rewrite.Note{Rule: "scan-report", Message: msg})
	}
	if x.bom == nil {
		return nil
	}
	if msg := sbomDigestNote(x.bom); msg != "" {
		p.runNote(rewrite.Note{Rule: "sbom", Message: msg})
	}
	return writeSBOM(x.sbomPath, x.bom)
}

// sbomDigestNote says which base images in the SBOM pin no digest; "" when
// all do.
func sbomDigestNote(bom *sbom.Builder) string {
	missing := bom.WithoutDigest()
	if len(missing) == 0 {
		return ""
	}
	return fmt.Sprintf("%d of %d base %s in the SBOM %s no digest, so no hash: %s; pin them to record what was built", len(missing), bom.Len(), plural(bom.Len(), "image"), plural2(len(missing), "has", "have"), strings.Join(missing, ", "))
}

// writeSBOM writes the BOM to path.
func writeSBOM(path string, bom *sbom.Builder) error {
	var b bytes.Buffer
	if err := sbom.Write(&b, bom.BOM(versionString(), sbomTime())); err != nil {
		return fmt.Errorf("--sbom: %w", err)
	}
	if err := files.WriteNew(path, b.Bytes()); err != nil {
		return fmt.Errorf("--sbom: %w", err)
	}
	return nil
}

// sbomTime is the BOM's timestamp: SOURCE_DATE_EPOCH when set, for
// reproducible output, else now.
func sbomTime() time.Time {
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return time.Unix(n, 0).UTC()
		}
	}
	return time.Now().UTC()
}

// note prints a file note (unless quiet or checking) and adds it to the
// report, like the rules' notes.
func (p *printer) note(path string, n rewrite.Note) {
	p.sum.notes++
	if p.report != nil {
		p.report.AddFileNote(path, report.Note{Rule: n.Rule, Line: n.Line, Message: n.Message})
	}
	if !p.opts.quiet && p.opts.mode != modeCheck {
		p.progress.clear()
		fmt.Fprintf(p.stderr, "%s:%d: %s: %s\n", path, n.Line, n.Rule, n.Message)
	}
}

// runNote is a note about the run rather than one file.
func (p *printer) runNote(n rewrite.Note) {
	p.sum.notes++
	if p.report != nil {
		p.report.AddNote(report.Note{Rule: n.Rule, Message: n.Message})
	}
	if !p.opts.quiet {
		fmt.Fprintf(p.stderr, "hardenfix: %s: %s\n", n.Rule, n.Message)
	}
}

func countsText(c report.VulnCounts) string {
	parts := []string{fmt.Sprintf("%d critical", c.Critical), fmt.Sprintf("%d high", c.High), fmt.Sprintf("%d medium", c.Medium), fmt.Sprintf("%d low", c.Low)}
	if other := c.Negligible + c.Unknown; other > 0 {
		parts = append(parts, fmt.Sprintf("%d other", other))
	}
	return strings.Join(parts, ", ")
}

func plural2(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
