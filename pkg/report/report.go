// Package report turns hardenfix's per-file results into machine reports:
// JSON for scripts, SARIF 2.1.0 for code-scanning UIs, and Markdown for a
// pull-request body. A Report holds the fixes and notes of every file, never
// the files' contents, so it stays small however large the tree.
package report

import (
	"sort"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/hardenfix/hardenfix/pkg/rules"
)

// SchemaVersion is the version of the JSON report's schema. It changes only
// when a field changes meaning or disappears; new fields may appear in any
// version.
const SchemaVersion = 1

// Report is the outcome of one hardenfix run.
type Report struct {
	SchemaVersion int     `json:"schemaVersion"`
	Tool          Tool    `json:"tool"`
	Catalog       Catalog `json:"catalog,omitzero"`
	Summary       Summary `json:"summary"`
	Files         []File  `json:"files"`
	// Notes are about the run rather than one file.
	Notes []Note `json:"notes,omitempty"`

	// Rules are the rules described in SARIF's rule table (default: all).
	Rules []*rewrite.Rule `json:"-"`
}

// Tool names the program that made the report.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Catalog identifies the catalog of verified images the run used.
type Catalog struct {
	Version string `json:"version,omitempty"`
	Date    string `json:"date,omitempty"`
}

// Summary counts what the run did.
type Summary struct {
	Files   int            `json:"files"`
	Changed int            `json:"changed"`
	Errors  int            `json:"errors"`
	Notes   int            `json:"notes"`
	Fixes   map[string]int `json:"fixes"`
	// Verified counts the files `hardenfix verify` built and ran (Healed of
	// them with some rules dropped); Unverified those it could not verify.
	Verified   int `json:"verified,omitempty"`
	Healed     int `json:"healed,omitempty"`
	Unverified int `json:"unverified,omitempty"`
}

// File is what happened to one Dockerfile.
type File struct {
	Path    string `json:"path"`
	Changed bool   `json:"changed"`
	Error   string `json:"error,omitempty"`
	Fixes   []Fix  `json:"fixes"`
	Notes   []Note `json:"notes"`
	// Scans are scanner reports' counts for the file's base images.
	Scans []ImageScan `json:"scans,omitempty"`
	// Verification is what `hardenfix verify` proved by building the file.
	Verification *Verification `json:"verification,omitempty"`

	// Diff is the unified diff of the file, for the Markdown body only:
	// the JSON report holds no file contents.
	Diff string `json:"-"`
}

// Fix is one change made to a file.
type Fix struct {
	Rule    string `json:"rule"`
	Line    int    `json:"line"`
	Risk    string `json:"risk"`
	Message string `json:"message"`
	Before  string `json:"before"`
	After   string `json:"after"`
	Image   *Image `json:"image,omitempty"`
}

// Image is the old and new reference of a fix that changed a base image.
type Image struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Digest string `json:"digest,omitempty"`
}

// Note is something a rule saw and did not fix.
type Note struct {
	Rule    string `json:"rule"`
	Line    int    `json:"line"`
	Message string `json:"message"`
	// Kind groups notes that ask the same thing (KindOf); Action says
	// whether the note asks the reader to do or check something.
	Kind   string `json:"kind"`
	Action bool   `json:"action"`
}

// NewNote returns a note with its kind filled in.
func NewNote(rule string, line int, message string) Note {
	k := KindOf(rule, message)
	return Note{Rule: rule, Line: line, Message: message, Kind: k.ID, Action: k.Action}
}

// withKind fills in the kind of a note made without NewNote.
func (n Note) withKind() Note {
	if n.Kind == "" {
		n = NewNote(n.Rule, n.Line, n.Message)
	}
	return n
}

// New returns an empty report for the given tool version.
func New(version string) *Report {
	return &Report{
		SchemaVersion: SchemaVersion,
		Tool:          Tool{Name: "hardenfix", Version: version},
		Summary:       Summary{Fixes: map[string]int{}},
		Files:         []File{},
	}
}

// Add records one file's result, or the error that stopped it.
func (r *Report) Add(path string, res *rewrite.Result, err error) {
	f := File{Path: path, Fixes: []Fix{}, Notes: []Note{}}
	r.Summary.Files++
	if err != nil {
		f.Error = err.Error()
		r.Summary.Errors++
		r.Files = append(r.Files, f)
		return
	}
	f.Changed = res.Changed()
	if f.Changed {
		r.Summary.Changed++
		f.Diff = rewrite.UnifiedDiff(path, res.Old, res.New)
	}
	for _, x := range res.Fixes {
		fix := Fix{Rule: x.Rule, Line: x.Line, Risk: string(x.Risk), Message: x.Message, Before: x.Before, After: x.After}
		if x.Image != nil {
			fix.Image = &Image{From: x.Image.From, To: x.Image.To, Digest: x.Image.Digest}
		}
		f.Fixes = append(f.Fixes, fix)
		r.Summary.Fixes[x.Rule]++
	}
	for _, n := range res.Notes {
		f.Notes = append(f.Notes, NewNote(n.Rule, n.Line, n.Message))
	}
	r.Summary.Notes += len(res.Notes)
	r.Files = append(r.Files, f)
}

// Sort orders files by path, so a report does not depend on the order
// files finished in.
func (r *Report) Sort() {
	sort.SliceStable(r.Files, func(i, j int) bool { return r.Files[i].Path < r.Files[j].Path })
}

// ruleIndex returns the report's rules in pipeline order with their
// position, for SARIF's rule table.
func (r *Report) ruleIndex() ([]*rewrite.Rule, map[string]int) {
	list := r.Rules
	if list == nil {
		list = rules.All()
	}
	idx := map[string]int{}
	for i, r := range list {
		idx[r.Name] = i
	}
	return list, idx
}
