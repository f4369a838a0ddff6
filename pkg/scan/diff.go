package scan

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Diff is what changed between a report taken before hardening and one
// taken after.
type Diff struct {
	Before, After *Report
	// Fixed are in Before only, New in After only, Remaining in both
	// (taken from After, so versions are the current ones). Each is
	// ordered by SortByScore.
	Fixed, Remaining, New []*Finding
}

// Compare compares two reports by finding identity (vulnerability ID and
// package name).
func Compare(before, after *Report) *Diff {
	d := &Diff{Before: before, After: after}
	inAfter := make(map[string]bool, len(after.Findings))
	for _, f := range after.Findings {
		inAfter[f.Key()] = true
	}
	inBefore := make(map[string]bool, len(before.Findings))
	for _, f := range before.Findings {
		inBefore[f.Key()] = true
		if !inAfter[f.Key()] {
			d.Fixed = append(d.Fixed, f)
		}
	}
	for _, f := range after.Findings {
		if inBefore[f.Key()] {
			d.Remaining = append(d.Remaining, f)
		} else {
			d.New = append(d.New, f)
		}
	}
	SortByScore(d.Fixed)
	SortByScore(d.Remaining)
	SortByScore(d.New)
	return d
}

// Warnings are what a reader should know before trusting the comparison.
func (d *Diff) Warnings() []string {
	var w []string
	if d.Before.Tool != d.After.Tool {
		w = append(w, fmt.Sprintf("the reports come from different scanners (%s before, %s after); their databases and IDs differ (Grype reports GitHub advisories as GHSA-…, Trivy as CVE-…), so fixed and new counts are not comparable", d.Before.Tool.Title(), d.After.Tool.Title()))
	}
	return w
}

func top(fs []*Finding, n int) []*Finding {
	if n > 0 && len(fs) > n {
		return fs[:n]
	}
	return fs
}

// WriteText writes the comparison for a terminal: the severity table,
// fixed/remaining/new counts, and the n highest-scored fixed, remaining
// and new findings (n <= 0: all).
func (d *Diff) WriteText(w io.Writer, n int) error {
	var b strings.Builder
	for _, x := range []struct {
		label string
		r     *Report
	}{{"before", d.Before}, {"after ", d.After}} {
		fmt.Fprintf(&b, "%s: %s (%s report of %s)\n", x.label, x.r.Path, x.r.Tool.Title(), x.r.Artifact)
	}
	for _, s := range d.Warnings() {
		fmt.Fprintf(&b, "warning: %s\n", s)
	}
	b.WriteString("\n")
	rows := [][]string{{"severity", "before", "after", "change"}}
	for _, r := range d.severityRows() {
		rows = append(rows, []string{r.name, fmt.Sprint(r.before), fmt.Sprint(r.after), change(r.before, r.after)})
	}
	writeColumns(&b, rows, []bool{false, true, true, true})
	fmt.Fprintf(&b, "\nfixed %d, remaining %d, new %d\n", len(d.Fixed), len(d.Remaining), len(d.New))
	for _, list := range []struct {
		title string
		fs    []*Finding
	}{{"fixed", d.Fixed}, {"remaining", d.Remaining}, {"new", d.New}} {
		if len(list.fs) == 0 {
			continue
		}
		shown := top(list.fs, n)
		fmt.Fprintf(&b, "\n%s, by CVSS base score (%d of %d):\n", list.title, len(shown), len(list.fs))
		rows := [][]string{{"score", "source", "severity", "vulnerability", "package", "installed", "fixed"}}
		if list.title == "fixed" {
			rows[0][5], rows[0][6] = "was", "fix known"
		}
		for _, f := range shown {
			rows = append(rows, []string{f.Score.String(), f.Score.Label(), f.Severity.String(), f.ID, f.Package, dash(f.Installed), fixedText(f.Fixed)})
		}
		writeColumns(&b, rows, []bool{true})
	}
	_, err := io.WriteString(w, b.String())
	return err
}

type sevRow struct {
	name          string
	before, after int
}

// severityRows are the table's rows: every severity either report has, or
// the usual four when both are empty, then the total. Negligible (Grype
// only) shows only when counted.
func (d *Diff) severityRows() []sevRow {
	bc, ac := d.Before.Counts(), d.After.Counts()
	var rows []sevRow
	for _, s := range Severities {
		if (s == Negligible || s == Unknown) && bc[s] == 0 && ac[s] == 0 {
			continue
		}
		rows = append(rows, sevRow{s.String(), bc[s], ac[s]})
	}
	return append(rows, sevRow{"total", bc.Total(), ac.Total()})
}

func change(before, after int) string {
	switch {
	case after > before:
		return fmt.Sprintf("+%d", after-before)
	case after < before:
		return fmt.Sprintf("%d", after-before)
	}
	return "0"
}

func dash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

func fixedText(s string) string {
	if s == "" {
		return "no fix"
	}
	return s
}

// writeColumns writes rows as aligned columns; right[i] right-aligns
// column i.
func writeColumns(b *strings.Builder, rows [][]string, right []bool) {
	width := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	for _, r := range rows {
		var line strings.Builder
		for i, c := range r {
			pad := strings.Repeat(" ", width[i]-len([]rune(c)))
			if i > 0 {
				line.WriteString("  ")
			}
			if i < len(right) && right[i] {
				line.WriteString(pad + c)
			} else {
				line.WriteString(c + pad)
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " ") + "\n")
	}
}

// WriteMarkdown writes the comparison as the "Vulnerabilities" section of
// a pull-request body or a CI summary: the severity table, then the n
// highest-scored fixed, remaining and new vulnerabilities (n <= 0: all).
func (d *Diff) WriteMarkdown(w io.Writer, n int) error {
	var b strings.Builder
	bt, at := d.Before.Counts().Total(), d.After.Counts().Total()
	fmt.Fprintf(&b, "## Vulnerabilities: %d → %d\n\n", bt, at)
	fmt.Fprintf(&b, "Before: `%s` (%s report of `%s`). After: `%s` (%s report of `%s`).\n\n",
		d.Before.Path, d.Before.Tool.Title(), d.Before.Artifact, d.After.Path, d.After.Tool.Title(), d.After.Artifact)
	for _, s := range d.Warnings() {
		fmt.Fprintf(&b, "> **Warning:** %s.\n\n", s)
	}
	b.WriteString("| severity | before | after | change |\n| --- | ---: | ---: | ---: |\n")
	for _, r := range d.severityRows() {
		name := r.name
		if name == "total" {
			name = "**total**"
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %s |\n", name, r.before, r.after, change(r.before, r.after))
	}
	fmt.Fprintf(&b, "\n**%d fixed**, %d remaining, %d new.\n", len(d.Fixed), len(d.Remaining), len(d.New))
	for _, list := range []struct {
		title string
		fs    []*Finding
	}{{"Fixed", d.Fixed}, {"Remaining", d.Remaining}, {"New", d.New}} {
		if len(list.fs) == 0 {
			continue
		}
		shown := top(list.fs, n)
		fmt.Fprintf(&b, "\n### %s, by CVSS base score (%d of %d)\n\n", list.title, len(shown), len(list.fs))
		// A fixed vulnerability is gone from the image: its versions are
		// the ones it had before.
		installed, fixed := "installed", "fixed"
		if list.title == "Fixed" {
			installed, fixed = "was", "fix known"
		}
		fmt.Fprintf(&b, "| score | vulnerability | severity | package | %s | %s |\n| ---: | --- | --- | --- | --- | --- |\n", installed, fixed)
		for _, f := range shown {
			fmt.Fprintf(&b, "| %s | %s | %s | `%s` | %s | %s |\n", scoreCell(f.Score), mdCell(f.ID), f.Severity, mdCell(f.Package), mdCell(dash(f.Installed)), mdCell(fixedText(f.Fixed)))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func scoreCell(s Score) string {
	if s.Version == 0 {
		return "–"
	}
	return fmt.Sprintf("%s <sub>%s</sub>", s, s.Label())
}

func mdCell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "`", "'").Replace(s)
}

// JSON shapes of the comparison (WriteJSON).
type (
	jsonDiff struct {
		Before    jsonSide `json:"before"`
		After     jsonSide `json:"after"`
		Warnings  []string `json:"warnings,omitempty"`
		Fixed     int      `json:"fixed"`
		Remaining int      `json:"remaining"`
		New       int      `json:"new"`
		// Vulnerabilities lists every fixed, remaining and new finding;
		// Top only the n highest-scored.
		Vulnerabilities jsonLists `json:"vulnerabilities"`
		Top             jsonTop   `json:"top"`
	}
	jsonLists struct {
		Fixed     []jsonFinding `json:"fixed"`
		Remaining []jsonFinding `json:"remaining"`
		New       []jsonFinding `json:"new"`
	}
	jsonSide struct {
		File       string     `json:"file"`
		Tool       Tool       `json:"tool"`
		Artifact   string     `json:"artifact"`
		Total      int        `json:"total"`
		BySeverity JSONCounts `json:"bySeverity"`
	}
	jsonTop struct {
		Remaining []jsonFinding `json:"remaining"`
		New       []jsonFinding `json:"new"`
	}
	jsonFinding struct {
		ID          string   `json:"id"`
		Package     string   `json:"package"`
		Installed   string   `json:"installed"`
		Fixed       string   `json:"fixed"`
		Severity    string   `json:"severity"`
		Score       *float64 `json:"score"`
		ScoreSource string   `json:"scoreSource,omitempty"`
		CVSSVersion int      `json:"cvssVersion,omitempty"`
	}
)

// JSONCounts is Counts as a JSON object with one key per severity.
type JSONCounts struct {
	Critical   int `json:"critical"`
	High       int `json:"high"`
	Medium     int `json:"medium"`
	Low        int `json:"low"`
	Negligible int `json:"negligible"`
	Unknown    int `json:"unknown"`
}

// JSON returns the counts as a JSONCounts.
func (c Counts) JSON() JSONCounts {
	return JSONCounts{Critical: c[Critical], High: c[High], Medium: c[Medium], Low: c[Low], Negligible: c[Negligible], Unknown: c[Unknown]}
}

// WriteJSON writes the comparison as JSON for scripts (schema:
// docs/scan-diff-schema.json): counts, every fixed, remaining and new
// finding by ID, and top lists of at most n findings each (n <= 0: all).
func (d *Diff) WriteJSON(w io.Writer, n int) error {
	side := func(r *Report) jsonSide {
		c := r.Counts()
		return jsonSide{File: r.Path, Tool: r.Tool, Artifact: r.Artifact, Total: c.Total(), BySeverity: c.JSON()}
	}
	list := func(fs []*Finding, n int) []jsonFinding {
		out := []jsonFinding{}
		for _, f := range top(fs, n) {
			j := jsonFinding{ID: f.ID, Package: f.Package, Installed: f.Installed, Fixed: f.Fixed, Severity: f.Severity.String()}
			if f.Score.Version != 0 {
				v := f.Score.Value
				j.Score, j.ScoreSource, j.CVSSVersion = &v, f.Score.Source, f.Score.Version
			}
			out = append(out, j)
		}
		return out
	}
	out := jsonDiff{
		Before: side(d.Before), After: side(d.After), Warnings: d.Warnings(),
		Fixed: len(d.Fixed), Remaining: len(d.Remaining), New: len(d.New),
		Vulnerabilities: jsonLists{Fixed: list(d.Fixed, 0), Remaining: list(d.Remaining, 0), New: list(d.New, 0)},
		Top:             jsonTop{Remaining: list(d.Remaining, n), New: list(d.New, n)},
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}
