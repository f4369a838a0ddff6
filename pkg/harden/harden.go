// Package harden is hardenfix's library entry point: it hardens every
// Dockerfile of a tree the way the hardenfix command does, for programs
// that run hardenfix as a subroutine (a bot, a platform team's service).
//
// Tree owns everything between a list of paths and one result per file:
// discovery (package files), the configuration of each file (the nearest
// .hardenfix.yaml, package config), the catalog (the embedded one, merged
// with Options.Catalog and with the catalog files configurations name), the
// registry client, the rewrite pipeline (package rewrite) and, with
// Options.Write, the atomic write. Results arrive in path order while later
// files are still being processed; memory holds a bounded window of them
// however large the tree is.
//
// The command cmd/hardenfix is a thin layer over this package: flags,
// output formats, progress, colours and exit codes.
package harden

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/hardenfix/hardenfix/pkg/config"
	"github.com/hardenfix/hardenfix/pkg/files"
	"github.com/hardenfix/hardenfix/pkg/registry"
	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/hardenfix/hardenfix/pkg/rules"
)

// Options say how to harden a tree. The zero value runs every rule with
// each file's nearest .hardenfix.yaml, the embedded catalog and registry
// lookups with the default timeout and disk cache, and writes nothing.
type Options struct {
	// Enable runs only these rules; it replaces a configuration's enable
	// list. Disable adds to a configuration's disable list.
	Enable, Disable []string
	// Exclude skips paths matching these globs (see files.Discover).
	Exclude []string
	// ContextDir is the build context of every file; "" means each
	// Dockerfile's folder.
	ContextDir string
	// Jobs is how many files are processed at once; 0 means the number
	// of CPUs.
	Jobs int
	// ConfigFile is used for every file instead of the nearest
	// .hardenfix.yaml.
	ConfigFile string
	// Catalog is the run's catalog (see LoadCatalog); nil means the
	// embedded one. Catalog files that configurations name are merged
	// over it.
	Catalog *registry.Catalog
	// Offline makes no network calls; Registry is then ignored.
	Offline  bool
	Registry Registry
	// RuleOptions set the options the rules declare (rules.Options; the
	// command line's --option NAME=VALUE), over each file's configuration.
	// An option left at its type's zero value keeps the configuration's.
	RuleOptions rewrite.Options
	// Non-root: the stage treated as final, the numeric user and the user
	// name; UpdateDigests refreshes digests already pinned (pin rule).
	// Shorthands for the RuleOptions target, uid, user-name and
	// update-digests; when set, they win over RuleOptions.
	Target        string
	UID           int
	UserName      string
	UpdateDigests bool
	// Write writes every changed file in place: a temporary file and a
	// rename in the same folder, mode and symbolic links kept.
	Write bool
}

// Registry configures registry lookups (see docs/registry.md).
type Registry struct {
	// Timeout gives up on one request; 0 means registry.DefaultTimeout.
	Timeout time.Duration
	// Mirrors send lookups for a registry host to a mirror; names in
	// files are unchanged.
	Mirrors []Mirror
	// Insecure hosts may be reached over plain HTTP.
	Insecure []string
	// CacheDir keeps registry answers ("" means the user cache dir's
	// hardenfix folder); NoCache neither reads nor writes the cache.
	CacheDir string
	NoCache  bool
	// CacheTTL is how long a cached tag → digest answer is trusted; 0
	// means registry.DefaultCacheTTL.
	CacheTTL time.Duration
	// UserAgent is sent with every request; "" means "hardenfix".
	UserAgent string
}

// Mirror sends lookups for Host to Mirror.
type Mirror struct{ Host, Mirror string }

// Result is what happened to one file.
type Result struct {
	// Path is the file as discovered; Name is how it is printed and named
	// in diffs: slash-separated, relative to the working directory when
	// the file is below it.
	Path, Name string
	// Rewrite is the pipeline's result; nil when Err is set before the
	// pipeline ran or when Skipped. With Options.Write a changed file has
	// been written unless Err is set.
	Rewrite *rewrite.Result
	Err     error
	// Context is the build context the rules read: Options.ContextDir,
	// the configuration's verify.context, the one context the
	// repository's build files name, or the folder contextDir chose.
	Context string
	// Skipped is true when the file's configuration excludes it.
	Skipped bool
	// Index is the file's place among the Total files discovered.
	Index, Total int
}

// Hardener hardens trees with one set of options. Its catalogs, the
// configurations it has read and the registry client (with its cache and
// statistics) are shared by all its runs.
type Hardener struct {
	opts    Options
	jobs    int
	rules   []*rewrite.Rule // the rules for files with no configuration
	config  *config.Config  // Options.ConfigFile, loaded
	finder  *config.Finder  // nearest .hardenfix.yaml, when no ConfigFile
	remote  *registry.Remote
	catalog *registry.Catalog
	options rewrite.Options // Options.RuleOptions and the shorthands
	// catalogs adds the catalog files .hardenfix.yaml files name.
	catalogs *catalogCache
	// refs are the builds compose, bake, Makefile, script and workflow
	// files name, read once per folder.
	refs *buildRefs
}

// New checks the options and prepares what every file shares: the rule
// selection, the catalog, the registry client and Options.ConfigFile.
func New(opts Options) (*Hardener, error) {
	h := &Hardener{opts: opts, jobs: opts.Jobs, catalog: opts.Catalog, options: ruleOptions(opts)}
	if h.jobs < 1 {
		h.jobs = runtime.NumCPU()
	}
	if h.catalog == nil {
		h.catalog = registry.Embedded()
	}
	h.catalogs = newCatalogCache(h.catalog)
	h.refs = newBuildRefs()
	var err error
	if h.rules, err = rules.Select(opts.Enable, opts.Disable); err != nil {
		return nil, err
	}
	if opts.UID < 0 {
		return nil, fmt.Errorf("UID must be positive, not %d", opts.UID)
	}
	for _, o := range rules.Options() {
		if v, ok := h.options[o.Name]; ok {
			if err := (rewrite.Options{}).Put(o, v); err != nil {
				return nil, err
			}
		}
	}
	if !opts.Offline {
		if h.remote, err = newRemote(opts.Registry); err != nil {
			return nil, err
		}
	}
	if name := opts.ConfigFile; name != "" {
		cfg, err := config.Load(name)
		if err != nil {
			return nil, err
		}
		if h.rules, err = h.rulesFor(cfg); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		h.config = cfg
	} else {
		h.finder = config.NewFinder()
	}
	return h, nil
}

// Tree hardens the Dockerfiles under paths with the options and calls each
// with every file's result, in path order. An error from each stops the
// run (files in flight finish first) and is returned; so is a discovery
// error, before any result. Errors of single files are in their Result.
func Tree(ctx context.Context, paths []string, opts Options, each func(Result) error) error {
	h, err := New(opts)
	if err != nil {
		return err
	}
	return h.Tree(ctx, paths, each)
}

// Tree is the package function Tree with h's options.
func (h *Hardener) Tree(ctx context.Context, paths []string, each func(Result) error) error {
	found, err := files.Discover(paths, h.opts.Exclude)
	if err != nil {
		return err
	}
	// window bounds the results held: a file starts only when the one
	// 2*jobs places before it has been handed to each.
	window := make(chan struct{}, 2*h.jobs)
	workers := make(chan struct{}, h.jobs)
	stop := make(chan struct{})
	var running sync.WaitGroup
	// done[i%len(done)] carries file i's result: the window never lets a
	// file start before the one len(done) places before it was handed
	// over, so a slot is free again when it is reused, and memory does not
	// grow with the number of files.
	done := make([]chan Result, 2*h.jobs)
	for i := range done {
		done[i] = make(chan Result, 1)
	}
	fed := make(chan struct{})
	go func() {
		defer close(fed)
		for i, p := range found {
			select {
			case window <- struct{}{}:
			case <-stop:
				return
			}
			workers <- struct{}{}
			select {
			case <-stop:
				return
			default:
			}
			running.Add(1)
			go func() {
				defer running.Done()
				defer func() { <-workers }()
				r := h.file(ctx, p, walkRoot(paths, p))
				r.Index, r.Total = i, len(found)
				done[i%len(done)] <- r
			}()
		}
	}()
	for i := range found {
		if err := each(<-done[i%len(done)]); err != nil {
			// No file starts after this; those in flight finish (a
			// write is never cut short) before Tree returns.
			close(stop)
			<-fed
			running.Wait()
			return err
		}
		<-window
	}
	return nil
}

// walkRoot is the path of paths under which Discover found file, when it
// found it by walking a folder; "" for a file named itself.
func walkRoot(paths []string, file string) string {
	best := ""
	for _, p := range paths {
		p = filepath.Clean(p)
		if p == filepath.Clean(file) {
			return ""
		}
		if within(file, p) && len(p) > len(best) {
			best = p
		}
	}
	return best
}

// Catalog is the run's catalog: Options.Catalog or the embedded one.
func (h *Hardener) Catalog() *registry.Catalog { return h.catalog }

// Remote is the registry client the rules ask; nil with Options.Offline.
// Its Stats say how many lookups failed.
func (h *Hardener) Remote() *registry.Remote { return h.remote }

// file reads, rewrites and (with Options.Write) writes one file.
func (h *Hardener) file(ctx context.Context, path, root string) Result {
	out := Result{Path: path, Name: DisplayPath(path)}
	cfg, err := h.configFor(path)
	if err != nil {
		out.Err = err
		return out
	}
	if cfg.Excludes(path) {
		out.Skipped = true
		return out
	}
	rules := h.rules
	if cfg.Path != "" && h.config == nil {
		if rules, err = h.rulesFor(cfg); err != nil {
			out.Err = fmt.Errorf("%s: %w", cfg.Path, err)
			return out
		}
	}
	catalog, err := h.catalogs.forFile(cfg.Catalog)
	if err != nil {
		out.Err = fmt.Errorf("%s: %w", cfg.Path, err)
		return out
	}
	src, err := files.Read(path)
	if err != nil {
		out.Err = err
		return out
	}
	out.Context = h.contextFor(path, root, src, cfg)
	env, buildContext := h.env(out.Context, cfg, catalog)
	res, err := rewrite.Run(ctx, out.Name, src, rules, env)
	buildContext.Close()
	if err != nil {
		out.Err = err
		return out
	}
	out.Rewrite = res
	if h.opts.Write && res.Changed() {
		out.Err = files.WriteAtomic(path, res.Old, res.New)
	}
	return out
}

// env is the rules' view of one file: the options over its configuration,
// and its build context dir, which the caller closes when the file is
// done.
func (h *Hardener) env(dir string, cfg *config.Config, catalog *registry.Catalog) (*rewrite.Env, *rewrite.DirContext) {
	buildContext := rewrite.OpenContext(dir)
	env := &rewrite.Env{
		BuildContext: buildContext,
		Images:       catalog,
		Options:      rewrite.Options(cfg.Options).Over(h.options),
	}
	if h.remote != nil {
		env.Resolver = h.remote
	}
	return env, buildContext
}

// contextFor is the build context of the file at path (found under root,
// see walkRoot): Options.ContextDir, else the configuration's
// verify.context for it, else the one context the repository's compose,
// bake, Makefile, script and workflow files name for it (see buildRefs),
// else the folder contextDir chooses.
func (h *Hardener) contextFor(path, root string, src []byte, cfg *config.Config) string {
	if h.opts.ContextDir != "" {
		return h.opts.ContextDir
	}
	if dir := cfg.VerifyFor(path).Context; dir != "" {
		return dir
	}
	if dir := h.refs.namedContext(path, root); dir != "" {
		return dir
	}
	return contextDir(path, root, src)
}

// ruleOptions are Options.RuleOptions with the shorthand fields over them.
func ruleOptions(opts Options) rewrite.Options {
	return opts.RuleOptions.Over(rewrite.Options{
		"target":         opts.Target,
		"uid":            opts.UID,
		"user-name":      opts.UserName,
		"update-digests": opts.UpdateDigests,
	})
}

// configFor is the configuration that applies to a file: ConfigFile, else
// the nearest .hardenfix.yaml (New sets one of the two).
func (h *Hardener) configFor(path string) (*config.Config, error) {
	if h.config != nil {
		return h.config, nil
	}
	return h.finder.For(path)
}

// rulesFor combines a configuration's rule selection with the options':
// Enable replaces the configuration's enable list, Disable adds to its
// disable list.
func (h *Hardener) rulesFor(cfg *config.Config) ([]*rewrite.Rule, error) {
	enable := cfg.Rules.Enable
	if len(h.opts.Enable) > 0 {
		enable = h.opts.Enable
	}
	return rules.Select(enable, append(append([]string{}, cfg.Rules.Disable...), h.opts.Disable...))
}

// DisplayPath is a path as printed and as named in diffs: slash-separated
// and relative to the working directory when the file is below it.
func DisplayPath(p string) string {
	if filepath.IsAbs(p) {
		if wd, err := os.Getwd(); err == nil {
			if rel, err := filepath.Rel(wd, p); err == nil && !strings.HasPrefix(rel, "..") {
				p = rel
			}
		}
	}
	return filepath.ToSlash(filepath.Clean(p))
}

// newRemote builds the registry client.
func newRemote(r Registry) (*registry.Remote, error) {
	var opts []registry.Option
	if r.UserAgent != "" {
		opts = append(opts, registry.WithUserAgent(r.UserAgent))
	}
	if r.Timeout > 0 {
		opts = append(opts, registry.WithTimeout(r.Timeout))
	}
	for _, m := range r.Mirrors {
		opts = append(opts, registry.WithMirror(m.Host, m.Mirror))
	}
	for _, host := range r.Insecure {
		opts = append(opts, registry.WithInsecure(host))
	}
	if !r.NoCache {
		cache, err := registry.NewDiskCache(r.CacheDir, r.CacheTTL)
		if err != nil {
			return nil, err
		}
		opts = append(opts, registry.WithCache(cache))
	}
	return registry.NewRemote(opts...), nil
}
