// Package verify proves hardenfix's rewrites by building them: for every
// Dockerfile the rules change it builds the original and the rewritten
// file with the container engine on the machine (docker, podman or
// buildah), runs both images the same way for a short window with the
// network off and requires the same behaviour, compares the images (user,
// size, layers, ports, entrypoint, command, working directory,
// environment), scans both when a scanner is given, and heals a rewrite
// that does not build or behave by dropping the breaking rule (DESIGN §8).
//
// Every command it runs is a value (Engine's methods return Command), so
// the orchestration is tested against each engine's exact command lines
// with a fake Exec. It never pushes, never runs a container with the host
// network or privileges, kills a build or run past its time limit, and
// removes every image and container it made unless Options.KeepImages.
package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hardenfix/hardenfix/pkg/config"
	"github.com/hardenfix/hardenfix/pkg/files"
	"github.com/hardenfix/hardenfix/pkg/harden"
	"github.com/hardenfix/hardenfix/pkg/report"
	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/hardenfix/hardenfix/pkg/scan"
)

// Scanner scans an image archive (a docker-archive tar). Package
// verify/scanner's scanners (Trivy, Grype) satisfy it.
type Scanner interface {
	Name() string
	Scan(ctx context.Context, archive string) (*scan.Report, error)
}

// Options say how to verify. Zero durations take the defaults below.
type Options struct {
	// Harden are the rewrite's options; Write is ignored (Options.Write
	// writes only what verified).
	Harden harden.Options
	// Engine is docker, podman or buildah; "" finds one (DetectEngine).
	Engine string
	// Pull is the base image policy: missing (default), never, always.
	Pull string
	// Context is every file's build context (else verify.context of its
	// .hardenfix.yaml, else its folder).
	Context string
	// Build settings passed through to the engine.
	Target, Platform   string
	BuildArgs, Secrets []string
	// Jobs files are verified at once (default 1: builds are heavy).
	Jobs int
	// LogDir receives the build and run logs; "" makes a temporary folder
	// (kept: the report names the logs).
	LogDir string
	// KeepImages keeps the images it built (tagged
	// localhost/hardenfix-verify/NAME:original-RUN and :rewritten-RUN).
	KeepImages bool
	// RunWindow is how long both containers run before they are compared
	// (default 5s); BuildTimeout limits one build (default 15m) and
	// RunTimeout one probe or command in a container (default 1m).
	RunWindow, BuildTimeout, RunTimeout time.Duration
	// NoHeal reports a failing rewrite instead of dropping rules.
	NoHeal bool
	// Scanner, when set, scans both images.
	Scanner Scanner
	// Write writes each file that verified (with the fixes kept by heal).
	Write bool
	// Progress receives one line per file; nil: none.
	Progress io.Writer
	// Exec runs the commands; nil means ExecOS.
	Exec Exec
	// LookPath finds the engines; nil means exec.LookPath.
	LookPath LookPath
}

// Status is the outcome of one file.
type Status string

const (
	// Unchanged: no rule changes the file; nothing to verify.
	Unchanged Status = "unchanged"
	// Verified: the rewrite built and behaved like the original.
	Verified Status = "verified"
	// Healed: the full rewrite failed; the fixes kept (maybe none) did not.
	Healed Status = "healed"
	// Failed: the rewrite could not be verified (the original does not
	// build or run, the engine failed, or heal was off).
	Failed Status = "failed"
	// Error: the file could not be read or rewritten at all.
	Error Status = "error"
)

// Verifiable says whether the file needs no attention: it did not change,
// verified, or healed.
func (s Status) Verifiable() bool { return s == Unchanged || s == Verified || s == Healed }

// Build is one image build.
type Build struct {
	OK       bool          `json:"ok"`
	Error    string        `json:"error,omitempty"` // the first error lines
	Log      string        `json:"log,omitempty"`   // the build log file
	Duration time.Duration `json:"duration"`
	Image    *ImageInfo    `json:"image,omitempty"`
}

// Dropped is a rule heal took out, and why.
type Dropped struct {
	Rule   string   `json:"rule"`
	Reason string   `json:"reason"`
	Log    []string `json:"log,omitempty"` // the first error lines of the failing build or run
	// LogPath is the log those lines come from.
	LogPath string `json:"logPath,omitempty"`
}

// FileResult is the verification of one file.
type FileResult struct {
	Path, Name string
	Status     Status
	// Harden is the rewrite with every rule (as hardenfix without verify
	// makes it); Final is what verified (Harden, or heal's rewrite with
	// Dropped rules disabled); nil when Status is Error.
	Harden *rewrite.Result
	Final  *rewrite.Result
	Err    error
	// Reason says why the file Failed.
	Reason string
	// Original and Rewritten are the builds of the original and of the
	// full rewrite; Healed is the build of Final when heal changed it.
	Original, Rewritten, HealedBuild *Build
	// RunBefore and RunAfter are how the two containers behaved; RunOK
	// says they behaved alike.
	RunBefore, RunAfter RunState
	RunOK               bool
	RunReason           string
	// RewrittenRan says the full rewrite built and behaved (false for a
	// healed file: that is why it was healed).
	RewrittenRan bool
	// Differences compare the original and the verified image.
	Differences []Difference
	Dropped     []Dropped
	// Scan is the scanner's before → after comparison; ScanError why
	// there is none although a scanner was given.
	Scanner   string
	Scan      *scan.Diff
	ScanError string
	// Written is set when Options.Write wrote Final.
	Written  bool
	Duration time.Duration
	Index    int
	Total    int
}

// Verifier verifies trees with one set of options.
type Verifier struct {
	opts   Options
	engine Engine
	exec   Exec
	runID  string
	seq    atomic.Int64
	logDir string
	finder *config.Finder
	config *config.Config
	// hardeners caches one Hardener per set of disabled rules.
	mu        sync.Mutex
	hardeners map[string]*harden.Hardener
	// leftImages could not be removed yet (in use by another build).
	leftImages []string
}

// New detects the engine and prepares the log folder.
func New(ctx context.Context, opts Options) (*Verifier, error) {
	if opts.RunWindow <= 0 {
		opts.RunWindow = 5 * time.Second
	}
	if opts.BuildTimeout <= 0 {
		opts.BuildTimeout = 15 * time.Minute
	}
	if opts.RunTimeout <= 0 {
		opts.RunTimeout = time.Minute
	}
	if opts.Jobs < 1 {
		opts.Jobs = 1
	}
	switch opts.Pull {
	case "", "missing", "never", "always":
	default:
		return nil, fmt.Errorf("--pull must be missing, never or always, not %q", opts.Pull)
	}
	opts.Harden.Write = false
	if opts.Context != "" {
		opts.Harden.ContextDir = opts.Context
	}
	if opts.Target != "" && opts.Harden.Target == "" {
		opts.Harden.Target = opts.Target
	}
	v := &Verifier{opts: opts, exec: opts.Exec, hardeners: map[string]*harden.Hardener{}}
	if v.exec == nil {
		v.exec = ExecOS{}
	}
	probe := func(ctx context.Context, c Command) bool { _, err := v.exec.Run(ctx, c); return err == nil }
	var err error
	if v.engine, err = DetectEngine(ctx, opts.Engine, opts.LookPath, probe); err != nil {
		return nil, err
	}
	h, err := harden.New(opts.Harden)
	if err != nil {
		return nil, err
	}
	v.hardeners[""] = h
	if opts.Harden.ConfigFile != "" {
		if v.config, err = config.Load(opts.Harden.ConfigFile); err != nil {
			return nil, err
		}
	} else {
		v.finder = config.NewFinder()
	}
	v.logDir = opts.LogDir
	if v.logDir == "" {
		if v.logDir, err = os.MkdirTemp("", "hardenfix-verify-"); err != nil {
			return nil, err
		}
	} else if err := os.MkdirAll(v.logDir, 0o755); err != nil {
		return nil, err
	}
	v.runID = fmt.Sprintf("%d-%d", os.Getpid(), time.Now().UnixNano()%1e6)
	return v, nil
}

// Engine is the engine in use.
func (v *Verifier) Engine() Engine { return v.engine }

// LogDir is the folder of the build and run logs.
func (v *Verifier) LogDir() string { return v.logDir }

// Hardener is the hardener with every rule the options select (its
// Remote has the registry statistics).
func (v *Verifier) Hardener() *harden.Hardener { return v.hardeners[""] }

// Tree rewrites the Dockerfiles under paths, verifies every changed one
// (Options.Jobs at a time) and calls each with the results in path order.
func (v *Verifier) Tree(ctx context.Context, paths []string, each func(*FileResult) error) error {
	var results []harden.Result
	if err := v.Hardener().Tree(ctx, paths, func(r harden.Result) error {
		if !r.Skipped {
			results = append(results, r)
		}
		return nil
	}); err != nil {
		return err
	}
	done := make([]chan *FileResult, len(results))
	for i := range done {
		done[i] = make(chan *FileResult, 1)
	}
	sem := make(chan struct{}, v.opts.Jobs)
	go func() {
		for i, r := range results {
			sem <- struct{}{}
			go func() {
				defer func() { <-sem }()
				start := time.Now()
				fr := v.file(ctx, r)
				fr.Index, fr.Total, fr.Duration = i, len(results), time.Since(start)
				v.progress(fr)
				done[i] <- fr
			}()
		}
	}()
	var firstErr error
	for i := range results {
		fr := <-done[i]
		if firstErr == nil {
			firstErr = each(fr)
		}
	}
	// Images another file's build was still using when their own file
	// finished are removed now that every build is done.
	v.mu.Lock()
	left := v.leftImages
	v.leftImages = nil
	v.mu.Unlock()
	for _, image := range left {
		v.run(context.WithoutCancel(ctx), v.engine.RemoveImage(image))
	}
	return firstErr
}

// file verifies one file.
func (v *Verifier) file(ctx context.Context, hr harden.Result) *FileResult {
	fr := &FileResult{Path: hr.Path, Name: hr.Name, Harden: hr.Rewrite, Err: hr.Err}
	if hr.Err != nil {
		fr.Status = Error
		return fr
	}
	if !hr.Rewrite.Changed() {
		fr.Status, fr.Final = Unchanged, hr.Rewrite
		return fr
	}
	set, err := v.settings(hr.Path, hr.Context)
	if err != nil {
		fr.Status, fr.Err = Error, err
		return fr
	}
	f := &fileRun{v: v, fr: fr, set: set, slug: v.slug(hr.Name)}
	defer f.cleanup(ctx)
	f.verify(ctx)
	if ctx.Err() != nil {
		// What an interrupted build or run said is not the rewrite's
		// doing: nothing is healed, dropped or written.
		fr.Status, fr.Reason, fr.Dropped, fr.Final = Failed, "interrupted before it was verified", nil, nil
		return fr
	}
	if v.opts.Write && (fr.Status == Verified || fr.Status == Healed) && fr.Final.Changed() {
		if err := files.WriteAtomic(hr.Path, fr.Final.Old, fr.Final.New); err != nil {
			fr.Status, fr.Err = Error, err
		} else {
			fr.Written = true
		}
	}
	return fr
}

// settings are the file's verify settings; Options.Context wins over the
// configuration's context, and with neither the file is built in the
// context its rules read (chosen is harden.Result.Context).
func (v *Verifier) settings(path, chosen string) (config.VerifySettings, error) {
	cfg := v.config
	if cfg == nil {
		var err error
		if cfg, err = v.finder.For(path); err != nil {
			return config.VerifySettings{}, err
		}
	}
	set := cfg.VerifyFor(path)
	switch {
	case v.opts.Context != "":
		set.Context = v.opts.Context
	case set.Context == "" && chosen != "":
		set.Context = chosen
	case set.Context == "":
		set.Context = filepath.Dir(path)
	}
	return set, nil
}

// fileRun is the verification of one file in progress.
type fileRun struct {
	v      *Verifier
	fr     *FileResult
	set    config.VerifySettings
	slug   string
	images []string // built, removed by cleanup
	tmp    []string // files removed by cleanup
	// healedTag is the image of the attempt heal kept.
	healedTag string
}

func (f *fileRun) verify(ctx context.Context) {
	fr, v := f.fr, f.v
	fr.Original = f.build(ctx, "original", fr.Path)
	if !fr.Original.OK {
		fr.Status, fr.Reason = Failed, "the original does not build, so the rewrite cannot be compared with it: "+fr.Original.Error
		return
	}
	tag := f.tag("rewritten")
	fr.Rewritten = f.buildText(ctx, "rewritten", tag, fr.Harden.New)
	var a attempt
	if fr.Rewritten.OK {
		fr.RunBefore, fr.RunAfter = f.observePair(ctx, f.tag("original"), tag)
		if fr.RunBefore.StartErr != "" {
			fr.Status, fr.Reason = Failed, "the original container does not start: "+fr.RunBefore.StartErr
			return
		}
		a = f.judge(fr.Rewritten, fr.RunBefore, fr.RunAfter, "rewritten")
	} else {
		a = attempt{Reason: "the rewritten Dockerfile does not build", Log: strings.Split(fr.Rewritten.Error, "\n"), LogPath: fr.Rewritten.Log}
	}
	a.Result = fr.Harden
	if a.OK {
		fr.Status, fr.Final, fr.RunOK, fr.RewrittenRan = Verified, fr.Harden, true, true
		fr.Differences = Compare(fr.Original.Image, fr.Rewritten.Image, fr.Harden.Old)
		f.scan(ctx, tag)
		return
	}
	if !fr.Rewritten.OK && ctx.Err() == nil {
		// A build can fail for the engine's reasons (a full disk, a
		// mirror hiccup, a layer another build removed); a rule is only
		// blamed for a failure that happens twice.
		if again := f.buildText(ctx, "retry", f.tag("retry"), fr.Harden.New); again.OK {
			fr.Rewritten = again
			fr.RunBefore, fr.RunAfter = f.observePair(ctx, f.tag("original"), f.tag("retry"))
			a2 := f.judge(again, fr.RunBefore, fr.RunAfter, "retry")
			if a2.OK {
				fr.Status, fr.Final, fr.RunOK, fr.RewrittenRan = Verified, fr.Harden, true, true
				fr.Differences = Compare(fr.Original.Image, again.Image, fr.Harden.Old)
				f.scan(ctx, f.tag("retry"))
				return
			}
			a = a2 // it builds now, but does not behave: that is what heal must fix
			a.Result = fr.Harden
		}
	}
	fr.RunReason = a.Reason
	if ctx.Err() != nil {
		return
	}
	if v.opts.NoHeal {
		fr.Status, fr.Reason = Failed, a.Reason
		return
	}
	n := 0
	dropped, final, _ := heal(healCandidates(fr.Harden), func(disabled []string) attempt {
		n++
		return f.try(ctx, fmt.Sprintf("heal%d", n), disabled)
	})
	if !final.OK {
		fr.Status, fr.Reason = Failed, a.Reason+"; dropping the rules one by one did not help (the engine may be failing)"
		return
	}
	fr.Status, fr.Final, fr.RunOK = Healed, final.Result, true
	for _, r := range dropped {
		fr.Dropped = append(fr.Dropped, Dropped{Rule: r, Reason: a.Reason, Log: a.Log, LogPath: a.LogPath})
	}
	if fr.HealedBuild != nil && fr.HealedBuild.Image != nil {
		fr.Differences = Compare(fr.Original.Image, fr.HealedBuild.Image, fr.Harden.Old)
		f.scan(ctx, f.healedTag)
	} else {
		fr.Differences = nil // no fix kept: the original itself
	}
}

// judge turns a build and the two run states into an attempt.
func (f *fileRun) judge(b *Build, before, after RunState, label string) attempt {
	if why := sameBehaviour(before, after, f.v.opts.RunWindow); why != "" {
		return attempt{Reason: why, Log: firstErrors(after.full), LogPath: f.logPath(label + "-run")}
	}
	return attempt{OK: true}
}

// try rewrites the file with disabled rules off, builds and runs it.
func (f *fileRun) try(ctx context.Context, label string, disabled []string) attempt {
	res, err := f.v.rewrite(ctx, f.fr.Path, disabled)
	if err != nil {
		return attempt{Reason: err.Error()}
	}
	if !res.Changed() {
		return attempt{OK: true, Result: res}
	}
	tag := f.tag(label)
	b := f.buildText(ctx, label, tag, res.New)
	if !b.OK {
		return attempt{Reason: "does not build", Log: strings.Split(b.Error, "\n"), LogPath: b.Log, Result: res}
	}
	before, after := f.observePair(ctx, f.tag("original"), tag)
	a := f.judge(b, before, after, label)
	a.Result = res
	if a.OK {
		f.fr.HealedBuild, f.fr.RunBefore, f.fr.RunAfter = b, before, after
		f.healedTag = tag
	}
	return a
}

// observePair runs the two images side by side and writes their output to
// the run logs.
func (f *fileRun) observePair(ctx context.Context, before, after string) (RunState, RunState) {
	n := f.v.seq.Add(1)
	names := [2]string{
		fmt.Sprintf("hardenfix-verify-%s-%d-a", f.v.runID, n),
		fmt.Sprintf("hardenfix-verify-%s-%d-b", f.v.runID, n),
	}
	st := f.v.observe(ctx, names, [2]string{before, after}, f.set)
	for i, label := range []string{"original-run", labelOf(after) + "-run"} {
		_ = os.WriteFile(f.logPath(label), []byte(st[i].String()+"\n"+st[i].full+"\n"), 0o644)
	}
	return st[0], st[1]
}

// labelOf is the label part of a tag (…:rewritten-RUN → rewritten).
func labelOf(tag string) string {
	_, t, _ := strings.Cut(tag[strings.LastIndex(tag, "/")+1:], ":")
	l, _, _ := strings.Cut(t, "-")
	return l
}

// build builds the Dockerfile at path as the label's image.
func (f *fileRun) build(ctx context.Context, label, dockerfile string) *Build {
	tag := f.tag(label)
	v := f.v
	c := v.engine.Build(BuildSpec{
		Dockerfile: dockerfile, Context: f.set.Context, Tag: tag,
		Target: v.opts.Target, BuildArgs: v.opts.BuildArgs, Platform: v.opts.Platform, Secrets: v.opts.Secrets,
		Pull: v.opts.Pull, Log: f.logPath(label + "-build"), Timeout: v.opts.BuildTimeout,
	})
	start := time.Now()
	_, err := v.run(ctx, c)
	b := &Build{Log: c.Log, Duration: time.Since(start)}
	f.images = append(f.images, tag)
	if err != nil {
		b.Error = strings.Join(errorLines(c.Log), "\n")
		if errors.Is(err, ErrTimeout) {
			b.Error = fmt.Sprintf("the build ran longer than its limit (%s) and was killed", c.Timeout)
		} else if b.Error == "" {
			b.Error = shortError(err)
		}
		return b
	}
	b.OK = true
	if b.Image, err = f.inspect(ctx, tag); err != nil {
		b.Error = "built, but cannot be inspected: " + shortError(err)
	}
	return b
}

// buildText writes text to a temporary Dockerfile beside the logs and
// builds it in the file's context.
func (f *fileRun) buildText(ctx context.Context, label, tag string, text []byte) *Build {
	name := f.logPath(label) + ".Dockerfile"
	if err := os.WriteFile(name, text, 0o644); err != nil {
		return &Build{Error: err.Error()}
	}
	return f.build(ctx, label, name)
}

// inspect describes an image, with the UID `id -u` prints in it.
func (f *fileRun) inspect(ctx context.Context, image string) (*ImageInfo, error) {
	e := f.v.engine
	o, err := f.v.run(ctx, e.InspectImage(image))
	if err != nil {
		return nil, err
	}
	info, err := parseInspect([]byte(o.Stdout))
	if err != nil {
		return nil, err
	}
	if e.Runner != "" {
		c := e.RunOnce(image, "none", "id", "-u")
		c.Timeout = f.v.opts.RunTimeout
		if o, err := f.v.run(ctx, c); err == nil {
			if uid := strings.TrimSpace(o.Stdout); regexp.MustCompile(`^[0-9]+$`).MatchString(uid) {
				info.UID = uid
			}
		}
	}
	return info, nil
}

// scan saves and scans the original and the verified image.
func (f *fileRun) scan(ctx context.Context, after string) {
	s := f.v.opts.Scanner
	if s == nil {
		return
	}
	f.fr.Scanner = s.Name()
	var reps [2]*scan.Report
	for i, image := range []string{f.tag("original"), after} {
		archive := f.logPath(labelOf(image)) + ".tar"
		f.tmp = append(f.tmp, archive)
		if _, err := f.v.run(ctx, f.v.engine.Save(image, archive)); err != nil {
			f.fr.ScanError = "saving " + image + ": " + shortError(err)
			return
		}
		rep, err := s.Scan(ctx, archive)
		if err != nil {
			f.fr.ScanError = s.Name() + ": " + shortError(err)
			return
		}
		reps[i] = rep
	}
	f.fr.Scan = scan.Compare(reps[0], reps[1])
}

func (f *fileRun) cleanup(ctx context.Context) {
	ctx = context.WithoutCancel(ctx)
	for _, t := range f.tmp {
		os.Remove(t)
	}
	if f.v.opts.KeepImages {
		return
	}
	for _, image := range f.images {
		if _, err := f.v.run(ctx, f.v.engine.RemoveImage(image)); err != nil {
			f.v.mu.Lock()
			f.v.leftImages = append(f.v.leftImages, image)
			f.v.mu.Unlock()
		}
	}
}

func (f *fileRun) tag(label string) string {
	return "localhost/hardenfix-verify/" + f.slug + ":" + label + "-" + f.v.runID
}

func (f *fileRun) logPath(label string) string {
	return filepath.Join(f.v.logDir, f.slug+"-"+label+".log")
}

var nonName = regexp.MustCompile(`[^a-z0-9]+`)

// slug is a file's name as an image name and log file prefix: its
// folder's and its own name, lower case, only letters, digits and dashes,
// with the run's sequence number.
func (v *Verifier) slug(name string) string {
	short := filepath.Join(filepath.Base(filepath.Dir(name)), filepath.Base(name))
	s := strings.Trim(nonName.ReplaceAllString(strings.ToLower(short), "-"), "-")
	if len(s) > 60 {
		s = strings.TrimLeft(s[len(s)-60:], "-")
	}
	return fmt.Sprintf("%s-%d", s, v.seq.Add(1))
}

// rewrite hardens path again with the rules in disabled off.
func (v *Verifier) rewrite(ctx context.Context, path string, disabled []string) (*rewrite.Result, error) {
	key := strings.Join(disabled, ",")
	v.mu.Lock()
	h, ok := v.hardeners[key]
	if !ok {
		opts := v.opts.Harden
		opts.Disable = append(append([]string{}, opts.Disable...), disabled...)
		var err error
		if h, err = harden.New(opts); err != nil {
			v.mu.Unlock()
			return nil, err
		}
		v.hardeners[key] = h
	}
	v.mu.Unlock()
	var res *rewrite.Result
	err := h.Tree(ctx, []string{path}, func(r harden.Result) error {
		if r.Err != nil {
			return r.Err
		}
		if r.Rewrite == nil {
			return fmt.Errorf("%s: skipped by its configuration", path)
		}
		res = r.Rewrite
		return nil
	})
	return res, err
}

func (v *Verifier) run(ctx context.Context, c Command) (Output, error) { return v.exec.Run(ctx, c) }

// errorLines are firstErrors of a log file.
func errorLines(logPath string) []string {
	data, err := os.ReadFile(logPath)
	if err != nil {
		return nil
	}
	return firstErrors(string(data))
}

// firstErrors are the first lines of a build log or a container's output
// that say what failed (error, failed, exit status, not found, permission
// denied), at most 5; else its last 5 lines.
func firstErrors(text string) []string {
	var hits, all []string
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "$ ") || strings.HasPrefix(l, logNote) {
			continue
		}
		all = append(all, l)
		if errorLine.MatchString(l) && len(hits) < 5 {
			hits = append(hits, l)
		}
	}
	if len(hits) > 0 {
		return hits
	}
	if len(all) > 5 {
		all = all[len(all)-5:]
	}
	return all
}

var errorLine = regexp.MustCompile(`(?i)\berror\b|\bfailed\b|exit (status|code)|not found|permission denied|^E: |no such file`)

// progress prints one line per file.
func (v *Verifier) progress(fr *FileResult) {
	if v.opts.Progress == nil || fr.Status == Unchanged {
		return
	}
	fmt.Fprintf(v.opts.Progress, "verify: [%d/%d] %s: %s (%.0fs)\n", fr.Index+1, fr.Total, fr.Name, fr.Summary(), fr.Duration.Seconds())
}

// Summary is the file's outcome on one line.
func (fr *FileResult) Summary() string {
	var b strings.Builder
	b.WriteString(string(fr.Status))
	switch fr.Status {
	case Error:
		fmt.Fprintf(&b, ": %v", fr.Err)
		return b.String()
	case Failed:
		fmt.Fprintf(&b, ": %s", fr.Reason)
		return b.String()
	case Unchanged:
		return b.String()
	}
	for _, d := range fr.Dropped {
		fmt.Fprintf(&b, ", dropped %s (%s)", d.Rule, d.Reason)
	}
	before, after := fr.Images()
	if before != nil && after != nil {
		fmt.Fprintf(&b, ", size %s → %s, user %s → %s", report.HumanSize(before.Size), report.HumanSize(after.Size), before.EffectiveUser(), after.EffectiveUser())
	}
	return b.String()
}

// Images are the original image and the verified one (the full rewrite,
// or heal's; the original again when heal kept no fix).
func (fr *FileResult) Images() (before, after *ImageInfo) {
	if fr.Original != nil {
		before = fr.Original.Image
	}
	switch {
	case fr.Status == Healed && fr.HealedBuild != nil:
		after = fr.HealedBuild.Image
	case fr.Status == Healed:
		after = before
	case fr.Rewritten != nil:
		after = fr.Rewritten.Image
	}
	return before, after
}
