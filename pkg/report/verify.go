package report

import (
	"fmt"
	"strings"
)

// Verification is what `hardenfix verify` proved about one file by
// building it (package verify): both images built, the rewritten container
// behaved like the original, how the images compare, and the rules heal
// dropped to get there. The file's Fixes are then the verified ones.
type Verification struct {
	// Status is verified, healed (some rules dropped; the rest verified),
	// failed (could not be verified: Reason says why) or unchanged.
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
	Engine string `json:"engine"`
	// OriginalBuilt and RewrittenBuilt are the builds of the original and
	// of the full rewrite (every rule); RunOK says the verified rewrite's
	// container behaved like the original's (Run says how each behaved).
	OriginalBuilt  bool `json:"originalBuilt"`
	RewrittenBuilt bool `json:"rewrittenBuilt"`
	// RewrittenRan says the full rewrite's container behaved like the
	// original's (false for a healed file: that is why rules were dropped).
	RewrittenRan bool   `json:"rewrittenRan"`
	RunOK        bool   `json:"runOK"`
	Run          string `json:"run,omitempty"`
	// Before and After describe the original and the verified image.
	Before      *VerifiedImage     `json:"before,omitempty"`
	After       *VerifiedImage     `json:"after,omitempty"`
	Differences []ImageDifference  `json:"differences,omitempty"`
	Dropped     []DroppedRule      `json:"dropped,omitempty"`
	CVEs        *VerificationScans `json:"cves,omitempty"`
	// Logs is the folder of the build and run logs.
	Logs string `json:"logs,omitempty"`
	// Written says the verified fixes were written to the file (-w).
	Written bool `json:"written,omitempty"`
}

// VerifiedImage is one built image.
type VerifiedImage struct {
	Size   int64  `json:"size"`
	Layers int    `json:"layers"`
	User   string `json:"user"` // the config's User
	UID    string `json:"uid,omitempty"`
}

// ImageDifference is something the verified image does differently; Bad
// ones may break its users (a larger image, a lost port, a changed
// entrypoint).
type ImageDifference struct {
	What    string `json:"what"`
	Bad     bool   `json:"bad"`
	Message string `json:"message"`
}

// DroppedRule is a rule whose fixes heal took out, with the first error
// lines of the failing build or run.
type DroppedRule struct {
	Rule    string   `json:"rule"`
	Reason  string   `json:"reason"`
	Log     []string `json:"log,omitempty"`
	LogPath string   `json:"logPath,omitempty"`
}

// VerificationScans are a scanner's counts of the two images.
type VerificationScans struct {
	Tool        string     `json:"tool"`
	Before      VulnCounts `json:"before"`
	After       VulnCounts `json:"after"`
	BeforeTotal int        `json:"beforeTotal"`
	AfterTotal  int        `json:"afterTotal"`
	Fixed       int        `json:"fixed"`
	Remaining   int        `json:"remaining"`
	New         int        `json:"new"`
	Error       string     `json:"error,omitempty"`
}

// AddVerification attaches a verification to the file most recently added
// with path and counts it in the summary.
func (r *Report) AddVerification(path string, v *Verification) {
	f := r.file(path)
	if f == nil || v == nil {
		return
	}
	f.Verification = v
	switch v.Status {
	case "verified":
		r.Summary.Verified++
	case "healed":
		r.Summary.Verified++
		r.Summary.Healed++
	case "failed":
		r.Summary.Unverified++
	}
}

func (v *VerifiedImage) user() string {
	switch {
	case v == nil:
		return "-"
	case v.UID != "":
		return v.UID
	case v.User != "":
		return v.User
	}
	return "0"
}

func (v *VerifiedImage) size() string {
	if v == nil {
		return "-"
	}
	return HumanSize(v.Size)
}

// HumanSize prints n bytes in decimal units, as podman and docker do.
func HumanSize(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2fGB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1fMB", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1fkB", float64(n)/1e3)
	}
	return fmt.Sprintf("%dB", n)
}

func mark(ok bool) string {
	if ok {
		return "✓"
	}
	return "✗"
}

// Cells are the verification's columns, as the text and Markdown tables
// show them: built (original, full rewrite), run check (full rewrite),
// size and user (original → verified image), CVEs, result (with the rules
// dropped).
func (v *Verification) Cells() []string {
	if v.Status == "unchanged" {
		return []string{"-", "-", "-", "-", "-", "unchanged"}
	}
	// The run check of the full rewrite: "-" when there was nothing to
	// run (one of the two did not build).
	built := mark(v.OriginalBuilt) + " " + mark(v.RewrittenBuilt)
	run := mark(v.RewrittenRan)
	if !v.OriginalBuilt || !v.RewrittenBuilt {
		run = "-"
	}
	size := v.Before.size() + " → " + v.After.size()
	user := v.Before.user() + " → " + v.After.user()
	cves := "-"
	if c := v.CVEs; c != nil && c.Error == "" {
		cves = fmt.Sprintf("%d → %d", c.BeforeTotal, c.AfterTotal)
	}
	outcome := v.Status
	if v.Written {
		outcome += ", written"
	}
	if len(v.Dropped) > 0 {
		var rules []string
		for _, d := range v.Dropped {
			rules = append(rules, d.Rule)
		}
		outcome += ": dropped " + strings.Join(rules, ", ")
	}
	return []string{built, run, size, user, cves, outcome}
}

// writeVerification writes the verification table the Markdown body leads
// with, and under it why each dropped rule was dropped and why a file
// failed.
func writeVerification(b *strings.Builder, files []File) {
	var rows []File
	for _, f := range files {
		if f.Verification != nil && f.Verification.Status != "unchanged" {
			rows = append(rows, f)
		}
	}
	if len(rows) == 0 {
		return
	}
	b.WriteString("### Verification: built and run with " + cell(rows[0].Verification.Engine) + "\n\n")
	b.WriteString("| file | built (original, rewritten) | run check | size | user | CVEs | result |\n| --- | :---: | :---: | --- | --- | --- | --- |\n")
	for _, f := range rows {
		c := f.Verification.Cells()
		fmt.Fprintf(b, "| `%s` | %s | %s | %s | %s | %s | %s |\n", cell(f.Path), c[0], c[1], c[2], c[3], c[4], cell(c[5]))
	}
	b.WriteString("\n")
	for _, f := range rows {
		v := f.Verification
		if v.Status == "failed" {
			fmt.Fprintf(b, "- **`%s` could not be verified**: %s. It is not rewritten.\n", cell(f.Path), cell(v.Reason))
		}
		for _, d := range v.Dropped {
			fmt.Fprintf(b, "- `%s`: **%s dropped**: %s", cell(f.Path), d.Rule, cell(d.Reason))
			if d.LogPath != "" {
				fmt.Fprintf(b, " (log: `%s`)", cell(d.LogPath))
			}
			b.WriteString("\n")
			if len(d.Log) > 0 {
				b.WriteString("  ```\n")
				for _, l := range d.Log {
					b.WriteString("  " + strings.ReplaceAll(l, "```", "` ` `") + "\n")
				}
				b.WriteString("  ```\n")
			}
		}
		for _, d := range v.Differences {
			if d.Bad {
				fmt.Fprintf(b, "- `%s`: ⚠ %s\n", cell(f.Path), cell(d.Message))
			}
		}
	}
	b.WriteString("\n")
}
