package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/hardenfix/hardenfix/pkg/files"
	"github.com/hardenfix/hardenfix/pkg/harden"
	"github.com/hardenfix/hardenfix/pkg/report"
	"github.com/hardenfix/hardenfix/pkg/rewrite"
)

type mode int

const (
	modeDiff mode = iota
	modeList
	modeCheck
	modeWrite
)

type options struct {
	paths      []string
	mode       mode
	listAlso   bool // -w -l: list the files written
	quiet      bool
	verbose    bool   // print every note, not only those that ask for an action
	format     string // text, json, sarif, markdown
	reportPath string // write the report here instead of stdout
	progress   bool
	color      bool
	strict     bool    // exit 3 when a lookup failed
	extras     *extras // --scan-report, --sbom
	// harden finds, configures, rewrites and (with -w) writes the files.
	harden *harden.Hardener
}

// run hardens the tree through package harden, which hands the files'
// results over in path order as they complete, and prints them.
func run(ctx context.Context, opts *options, stdout, stderr io.Writer) int {
	out := &printer{opts: opts, stdout: stdout, stderr: stderr}
	if opts.format != "text" && opts.format != "" {
		out.report = report.New(versionString())
	}
	err := opts.harden.Tree(ctx, opts.paths, func(r harden.Result) error {
		if out.progress == nil && opts.progress && r.Total > 1 {
			out.progress = &progress{w: stderr, total: r.Total}
		}
		out.print(r)
		return nil
	})
	if err != nil { // discovery failed: nothing was processed
		fmt.Fprintln(stderr, "hardenfix:", err)
		return exitError
	}
	out.progress.clear()
	if err := opts.extras.finish(out); err != nil {
		fmt.Fprintln(stderr, "hardenfix:", err)
		out.sum.errors++
	}
	if out.report != nil {
		if err := writeReport(opts, out.report, stdout); err != nil {
			fmt.Fprintln(stderr, "hardenfix:", err)
			out.sum.errors++
		}
	}
	if !opts.quiet {
		fmt.Fprintln(stderr, out.sum.String(opts.mode))
	}
	strictFail := registryOutcome(opts, opts.harden.Remote(), stderr)
	switch {
	case out.sum.errors > 0:
		return exitError
	case strictFail:
		return exitRegistry
	case out.sum.changed > 0 && (opts.mode == modeCheck || opts.mode == modeList):
		return exitChanges
	}
	return exitOK
}

// printer prints outcomes in order and keeps the summary and report.
type printer struct {
	opts           *options
	stdout, stderr io.Writer
	sum            summary
	report         *report.Report
	progress       *progress
}

func (p *printer) print(o harden.Result) {
	defer p.progress.step()
	if o.Skipped {
		return
	}
	opts := p.opts
	p.sum.files++
	if p.report != nil {
		p.report.Add(o.Name, o.Rewrite, o.Err)
	}
	if o.Err != nil {
		p.sum.errors++
		p.progress.clear()
		fmt.Fprintln(p.stderr, "hardenfix:", o.Err)
		return
	}
	res := o.Rewrite
	opts.extras.file(p, o.Name, res)
	for _, n := range res.Notes {
		p.printNote(res.Path, n)
	}
	if !res.Changed() {
		return
	}
	p.sum.changed++
	for _, f := range res.Fixes {
		p.sum.addFix(f.Rule)
	}
	// A machine report on stdout replaces the diff and the list.
	reportOnStdout := p.report != nil && opts.reportPath == ""
	switch {
	case opts.mode == modeDiff && !reportOnStdout:
		diff := rewrite.UnifiedDiff(res.Path, res.Old, res.New)
		if opts.color {
			diff = colorDiff(diff)
		}
		io.WriteString(p.stdout, diff)
	case (opts.mode == modeList || opts.listAlso) && !reportOnStdout:
		fmt.Fprintln(p.stdout, res.Path)
	}
}

// printNote prints a rule's note on stderr when it asks for an action
// (all notes with --verbose) and counts it. A lookup that --offline
// skipped is only counted: the summary says how many in one place.
func (p *printer) printNote(path string, n rewrite.Note) {
	kind := report.KindOf(n.Rule, n.Message)
	switch {
	case kind == report.KindOffline:
		p.sum.offline++
	case kind.Action:
		p.sum.notes++
	default:
		p.sum.quietNotes++
	}
	show := kind.Action || p.opts.verbose
	if !show || p.opts.quiet || p.opts.mode == modeCheck {
		return
	}
	p.progress.clear()
	fmt.Fprintf(p.stderr, "%s:%d: %s: %s\n", path, n.Line, n.Rule, n.Message)
}

func writeReport(opts *options, r *report.Report, stdout io.Writer) error {
	var b strings.Builder
	var err error
	switch opts.format {
	case "json":
		err = r.WriteJSON(&b)
	case "sarif":
		err = r.WriteSARIF(&b)
	case "markdown":
		err = r.WriteMarkdown(&b)
	default:
		err = fmt.Errorf("unknown format %q", opts.format)
	}
	if err != nil {
		return err
	}
	if opts.reportPath == "" {
		_, err = io.WriteString(stdout, b.String())
		return err
	}
	return files.WriteNew(opts.reportPath, []byte(b.String()))
}

// colorDiff colours a unified diff for a terminal, the way git does.
func colorDiff(diff string) string {
	const reset = "\x1b[0m"
	var b strings.Builder
	for _, line := range strings.SplitAfter(diff, "\n") {
		color := ""
		switch {
		case strings.HasPrefix(line, "--- ") || strings.HasPrefix(line, "+++ "):
			color = "\x1b[1m"
		case strings.HasPrefix(line, "@@"):
			color = "\x1b[36m"
		case strings.HasPrefix(line, "-"):
			color = "\x1b[31m"
		case strings.HasPrefix(line, "+"):
			color = "\x1b[32m"
		}
		if color == "" || line == "" {
			b.WriteString(line)
			continue
		}
		body := strings.TrimSuffix(line, "\n")
		b.WriteString(color + body + reset)
		if len(body) < len(line) {
			b.WriteString("\n")
		}
	}
	return b.String()
}

// progress shows "hardenfix: N/M files" on one terminal line.
type progress struct {
	w           io.Writer
	done, total int
	last        time.Time
	shown       bool
}

func (p *progress) step() {
	if p == nil {
		return
	}
	p.done++
	if now := time.Now(); now.Sub(p.last) > 100*time.Millisecond || p.done == p.total {
		p.last = now
		fmt.Fprintf(p.w, "\r\x1b[Khardenfix: %d/%d files", p.done, p.total)
		p.shown = true
	}
}

func (p *progress) clear() {
	if p == nil || !p.shown {
		return
	}
	io.WriteString(p.w, "\r\x1b[K")
	p.shown = false
}

type summary struct {
	files, changed, errors int
	// notes ask for an action; quietNotes do not (shown with --verbose);
	// offline counts lookups that --offline skipped.
	notes, quietNotes, offline int
	fixes                      map[string]int
}

func (s *summary) addFix(rule string) {
	if s.fixes == nil {
		s.fixes = map[string]int{}
	}
	s.fixes[rule]++
}

func (s *summary) String(m mode) string {
	verb := "would change"
	if m == modeWrite {
		verb = "changed"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "hardenfix: %d %s scanned, %d %s", s.files, plural(s.files, "file"), s.changed, verb)
	if len(s.fixes) > 0 {
		var rules []string
		for r := range s.fixes {
			rules = append(rules, r)
		}
		sort.Strings(rules)
		var parts []string
		for _, r := range rules {
			parts = append(parts, fmt.Sprintf("%s %d", r, s.fixes[r]))
		}
		fmt.Fprintf(&b, " (fixes: %s)", strings.Join(parts, ", "))
	}
	fmt.Fprintf(&b, ", %d %s", s.notes, plural(s.notes, "note"))
	if s.quietNotes > 0 {
		fmt.Fprintf(&b, " (and %d more with --verbose)", s.quietNotes)
	}
	if s.offline > 0 {
		fmt.Fprintf(&b, ", %d image %s skipped (--offline)", s.offline, plural(s.offline, "lookup"))
	}
	if s.errors > 0 {
		fmt.Fprintf(&b, ", %d %s", s.errors, plural(s.errors, "error"))
	}
	return b.String()
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
