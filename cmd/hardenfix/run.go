package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/hardenfix/hardenfix/pkg/config"
	"github.com/hardenfix/hardenfix/pkg/files"
	"github.com/hardenfix/hardenfix/pkg/registry"
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
	enable     []string
	disable    []string
	rules      []*rewrite.Rule // the rules for files with no configuration
	excludes   []string
	contextDir string
	jobs       int
	quiet      bool
	verbose    bool // print every note, not only those that ask for an action
	offline    bool
	format     string // text, json, sarif, markdown
	reportPath string // write the report here instead of stdout
	config     *config.Config
	finder     *config.Finder
	progress   bool
	color      bool
	remote     *registry.Remote // nil with --offline
	strict     bool             // exit 3 when a lookup failed
	extras     *extras          // --scan-report, --sbom
	// catalog is the embedded catalog merged with --catalog FILE;
	// catalogs adds the catalog files .hardenfix.yaml files name.
	catalog  *registry.Catalog
	catalogs *catalogCache
	// Non-root options; zero values leave the configuration's or the
	// rule's defaults.
	target        string
	uid           int
	userName      string
	updateDigests bool
}

// outcome is what happened to one file.
type outcome struct {
	path    string
	result  *rewrite.Result
	err     error
	skipped bool // excluded by its configuration
}

// run discovers the files, processes them on a bounded worker pool, and
// prints the outcomes in path order as they complete, so memory holds at
// most a window of results however many files there are.
func run(ctx context.Context, opts *options, stdout, stderr io.Writer) int {
	paths, err := files.Discover(opts.paths, opts.excludes)
	if err != nil {
		fmt.Fprintln(stderr, "hardenfix:", err)
		return exitError
	}
	window := make(chan struct{}, 2*opts.jobs)
	workers := make(chan struct{}, opts.jobs)
	done := make([]chan outcome, len(paths))
	for i := range done {
		done[i] = make(chan outcome, 1)
	}
	go func() {
		for i, p := range paths {
			window <- struct{}{}
			workers <- struct{}{}
			go func() {
				defer func() { <-workers }()
				done[i] <- processFile(ctx, opts, p)
			}()
		}
	}()
	out := &printer{opts: opts, stdout: stdout, stderr: stderr}
	if opts.format != "text" && opts.format != "" {
		out.report = report.New(versionString())
	}
	if opts.progress && len(paths) > 1 {
		out.progress = &progress{w: stderr, total: len(paths)}
	}
	for i := range paths {
		out.print(<-done[i])
		<-window
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
	strictFail := registryOutcome(opts, stderr)
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

// processFile reads, rewrites and (with -w) writes one file.
func processFile(ctx context.Context, opts *options, path string) outcome {
	cfg, err := opts.configFor(path)
	if err != nil {
		return outcome{path: path, err: err}
	}
	if cfg.Excludes(path) {
		return outcome{path: path, skipped: true}
	}
	rules := opts.rules
	if cfg.Path != "" && opts.config == nil {
		if rules, err = rulesFor(cfg, opts); err != nil {
			return outcome{path: path, err: fmt.Errorf("%s: %w", cfg.Path, err)}
		}
	}
	catalog, err := opts.catalogs.forFile(cfg.Catalog)
	if err != nil {
		return outcome{path: path, err: fmt.Errorf("%s: %w", cfg.Path, err)}
	}
	src, err := files.Read(path)
	if err != nil {
		return outcome{path: path, err: err}
	}
	env := &rewrite.Env{
		ContextDir:    opts.contextDir,
		Offline:       opts.offline,
		Images:        catalog,
		Catalog:       catalog,
		UpdateDigests: opts.updateDigests,
	}
	if opts.remote != nil {
		env.Resolver = opts.remote
	}
	env.AllowedPublishers = cfg.Options.AllowedPublishers
	env.RuntimeImages = cfg.Options.RuntimeImages
	env.Target = firstOf(opts.target, cfg.Options.Target)
	env.UserName = firstOf(opts.userName, cfg.Options.UserName)
	env.Role = cfg.Options.Role
	env.UID = opts.uid
	if env.UID == 0 {
		env.UID = cfg.Options.UID
	}
	if env.ContextDir == "" {
		env.ContextDir = filepath.Dir(path)
	}
	res, err := rewrite.Run(ctx, displayPath(path), src, rules, env)
	if err != nil {
		return outcome{path: path, err: err}
	}
	if opts.mode == modeWrite && res.Changed() {
		if err := files.WriteAtomic(path, res.Old, res.New); err != nil {
			return outcome{path: path, result: res, err: err}
		}
	}
	return outcome{path: path, result: res}
}

// configFor is the configuration that applies to a file: --config, else
// the nearest .hardenfix.yaml, else the zero configuration.
func (opts *options) configFor(path string) (*config.Config, error) {
	switch {
	case opts.config != nil:
		return opts.config, nil
	case opts.finder != nil:
		return opts.finder.For(path)
	}
	return &config.Config{}, nil
}

// rulesFor combines a configuration's rule selection with the command
// line's: --enable replaces the configuration's enable list, --disable adds
// to its disable list.
func rulesFor(cfg *config.Config, opts *options) ([]*rewrite.Rule, error) {
	enable := cfg.Rules.Enable
	if len(opts.enable) > 0 {
		enable = opts.enable
	}
	return rewrite.Select(enable, append(append([]string{}, cfg.Rules.Disable...), opts.disable...))
}

// displayPath is the path as printed and as named in diffs: slash-separated
// and relative to the working directory when the file is below it.
func displayPath(p string) string {
	if filepath.IsAbs(p) {
		if wd, err := os.Getwd(); err == nil {
			if rel, err := filepath.Rel(wd, p); err == nil && !strings.HasPrefix(rel, "..") {
				p = rel
			}
		}
	}
	return filepath.ToSlash(filepath.Clean(p))
}

// printer prints outcomes in order and keeps the summary and report.
type printer struct {
	opts           *options
	stdout, stderr io.Writer
	sum            summary
	report         *report.Report
	progress       *progress
}

func (p *printer) print(o outcome) {
	defer p.progress.step()
	if o.skipped {
		return
	}
	opts := p.opts
	p.sum.files++
	if p.report != nil {
		p.report.Add(displayPath(o.path), o.result, o.err)
	}
	if o.err != nil {
		p.sum.errors++
		p.progress.clear()
		fmt.Fprintln(p.stderr, "hardenfix:", o.err)
		return
	}
	res := o.result
	opts.extras.file(p, displayPath(o.path), res)
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

// firstOf returns the first non-empty value: a flag over a configuration.
func firstOf(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
