package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hardenfix/hardenfix/pkg/files"
	"github.com/hardenfix/hardenfix/pkg/registry"
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
	rules      []*rewrite.Rule
	excludes   []string
	contextDir string
	jobs       int
	quiet      bool
	offline    bool
	// catalog is the embedded catalog merged with --catalog FILE.
	catalog       *registry.Catalog
	updateDigests bool
}

// outcome is what happened to one file.
type outcome struct {
	path   string
	result *rewrite.Result
	err    error
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
	var sum summary
	for i := range paths {
		o := <-done[i]
		report(opts, o, stdout, stderr, &sum)
		<-window
	}
	if !opts.quiet {
		fmt.Fprintln(stderr, sum.String(opts.mode))
	}
	switch {
	case sum.errors > 0:
		return exitError
	case sum.changed > 0 && (opts.mode == modeCheck || opts.mode == modeList):
		return exitChanges
	}
	return exitOK
}

// processFile reads, rewrites and (with -w) writes one file.
func processFile(ctx context.Context, opts *options, path string) outcome {
	src, err := files.Read(path)
	if err != nil {
		return outcome{path: path, err: err}
	}
	env := &rewrite.Env{ContextDir: opts.contextDir, Offline: opts.offline, Images: opts.catalog, Catalog: opts.catalog, UpdateDigests: opts.updateDigests}
	if env.ContextDir == "" {
		env.ContextDir = filepath.Dir(path)
	}
	res, err := rewrite.Run(ctx, displayPath(path), src, opts.rules, env)
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

func report(opts *options, o outcome, stdout, stderr io.Writer, sum *summary) {
	sum.files++
	if o.err != nil {
		sum.errors++
		fmt.Fprintln(stderr, "hardenfix:", o.err)
		return
	}
	res := o.result
	if !opts.quiet {
		for _, n := range res.Notes {
			fmt.Fprintf(stderr, "%s:%d: %s: %s\n", res.Path, n.Line, n.Rule, n.Message)
		}
	}
	sum.notes += len(res.Notes)
	if !res.Changed() {
		return
	}
	sum.changed++
	for _, f := range res.Fixes {
		sum.addFix(f.Rule)
	}
	switch opts.mode {
	case modeDiff:
		io.WriteString(stdout, rewrite.UnifiedDiff(res.Path, res.Old, res.New))
	case modeList:
		fmt.Fprintln(stdout, res.Path)
	case modeWrite:
		if opts.listAlso {
			fmt.Fprintln(stdout, res.Path)
		}
	}
}

type summary struct {
	files, changed, notes, errors int
	fixes                         map[string]int
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
