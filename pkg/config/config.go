// Package config reads .hardenfix.yaml, the per-repository configuration:
// which rules run, their options, paths to skip and a catalog overlay.
//
// A file's configuration is the first .hardenfix.yaml found walking up from
// the file's folder, stopping at the repository root (the folder holding
// .git) — so a monorepo can give a sub-tree its own file. Unknown keys are
// errors that name the file and line, so a typo never silently does nothing.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"github.com/hardenfix/hardenfix/pkg/files"
	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/hardenfix/hardenfix/pkg/rules"

	"gopkg.in/yaml.v3"
)

// FileName is the configuration file hardenfix looks for.
const FileName = ".hardenfix.yaml"

// Config is the content of a .hardenfix.yaml.
type Config struct {
	// Path is the file it was read from; empty for the zero config.
	Path string `yaml:"-"`

	Rules struct {
		// Enable, when not empty, is the only rules that run.
		Enable []string `yaml:"enable"`
		// Disable lists rules that do not run.
		Disable []string `yaml:"disable"`
	} `yaml:"rules"`

	// Options are the rules' settings.
	Options Options `yaml:"options"`

	// Exclude lists globs, relative to the configuration file's folder,
	// of paths to skip.
	Exclude []string `yaml:"exclude"`

	// Catalog is a catalog file (relative to the configuration file) merged
	// over the embedded catalog.
	Catalog string `yaml:"catalog"`

	// Verify configures `hardenfix verify` (see Verify).
	Verify Verify `yaml:"verify"`
}

// Options are the rules' settings by name: the options the rules declare
// (rules.Options), each decoded as its type. A name not set means the
// rule's default.
type Options rewrite.Options

// UnmarshalYAML decodes the options: mapping by the rules' declarations; an
// undeclared key is an unknown key, and a value of the wrong type is a type
// error on its line, like any other key of the file.
func (o *Options) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		var none struct{}
		return n.Decode(&none) // null is no options; anything else, yaml's own type error
	}
	*o = Options{}
	var typeErrs []string
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		opt, ok := rewrite.FindOption(rules.All(), key.Value)
		if !ok {
			return fmt.Errorf("line %d: field %s not found in type config.Options", key.Line, key.Value)
		}
		if line, dup := seen[key.Value]; dup {
			return fmt.Errorf("line %d: mapping key %q already defined at line %d", key.Line, key.Value, line)
		}
		seen[key.Value] = key.Line
		v, err := decodeOption(opt, val)
		var te *yaml.TypeError
		if errors.As(err, &te) {
			typeErrs = append(typeErrs, te.Errors...)
			continue
		} else if err != nil {
			return err
		}
		(*o)[opt.Name] = v
	}
	if len(typeErrs) > 0 {
		return &yaml.TypeError{Errors: typeErrs}
	}
	return nil
}

// decodeOption decodes one option's value as its declared type.
func decodeOption(opt *rewrite.Option, n *yaml.Node) (any, error) {
	switch opt.Type {
	case rewrite.BoolOption:
		var v bool
		return v, n.Decode(&v)
	case rewrite.IntOption:
		var v int
		return v, n.Decode(&v)
	case rewrite.StringOption:
		var v string
		return v, n.Decode(&v)
	case rewrite.ListOption:
		var v []string
		return v, n.Decode(&v)
	case rewrite.MapOption:
		var v map[string]string
		return v, n.Decode(&v)
	}
	return nil, fmt.Errorf("line %d: option %s has unknown type %q", n.Line, opt.Name, opt.Type)
}

// Load reads and checks one configuration file.
func Load(name string) (*Config, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return Parse(name, data)
}

// Parse decodes configuration text; name is used in error messages.
func Parse(name string, data []byte) (*Config, error) {
	c := &Config{Path: name}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return nil, yamlError(name, err)
	}
	for _, g := range c.Exclude {
		if _, err := path.Match(g, ""); err != nil {
			return nil, fmt.Errorf("%s: bad exclude pattern %q: %v", name, g, err)
		}
	}
	for _, o := range rules.Options() {
		if v, ok := c.Options[o.Name]; ok {
			if err := rewrite.Options(c.Options).Put(o, v); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
		}
	}
	if err := c.Verify.check(name); err != nil {
		return nil, err
	}
	if c.Catalog != "" && !filepath.IsAbs(c.Catalog) {
		c.Catalog = filepath.Join(filepath.Dir(name), c.Catalog)
	}
	return c, nil
}

var (
	unknownKey = regexp.MustCompile(`^line (\d+): field (\S+) not found in type`)
	lineError  = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
)

// yamlError rewrites yaml.v3's errors as "FILE:LINE: what", the form
// editors and CI logs link to.
func yamlError(name string, err error) error {
	var msgs []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{err.Error()}
	}
	var out []string
	for _, m := range msgs {
		if g := unknownKey.FindStringSubmatch(m); g != nil {
			out = append(out, fmt.Sprintf("%s:%s: unknown key %q", name, g[1], g[2]))
		} else if g := lineError.FindStringSubmatch(m); g != nil {
			out = append(out, fmt.Sprintf("%s:%s: %s", name, g[1], g[2]))
		} else {
			out = append(out, fmt.Sprintf("%s: %s", name, strings.TrimPrefix(m, "yaml: ")))
		}
	}
	return errors.New(strings.Join(out, "; "))
}

// Excludes reports whether file (a path to a Dockerfile) is excluded by the
// configuration's globs, matched against its path relative to the
// configuration's folder and against each element of that path.
func (c *Config) Excludes(file string) bool {
	if c.Path == "" || len(c.Exclude) == 0 {
		return false
	}
	rel, err := filepath.Rel(filepath.Dir(c.Path), file)
	if err != nil {
		return false
	}
	return files.Excluded(filepath.ToSlash(rel), c.Exclude)
}

// Finder finds the configuration of each file, reading every
// .hardenfix.yaml once however many files share it. It is safe for
// concurrent use.
type Finder struct {
	mu    sync.Mutex
	byDir map[string]func() (*Config, error) // each folder's lookup, run once
}

// NewFinder returns an empty Finder.
func NewFinder() *Finder { return &Finder{byDir: map[string]func() (*Config, error){}} }

// For returns the configuration that applies to file: the nearest
// .hardenfix.yaml in its folder or above, up to the repository root. It
// returns the zero Config (Path "") when there is none.
func (f *Finder) For(file string) (*Config, error) {
	dir, err := filepath.Abs(filepath.Dir(file))
	if err != nil {
		return nil, err
	}
	return f.forDir(dir)
}

func (f *Finder) forDir(dir string) (*Config, error) {
	f.mu.Lock()
	lookup, ok := f.byDir[dir]
	if !ok {
		lookup = sync.OnceValues(func() (*Config, error) {
			name := filepath.Join(dir, FileName)
			if _, err := os.Stat(name); err == nil {
				return Load(name)
			}
			parent := filepath.Dir(dir)
			if isRepoRoot(dir) || parent == dir {
				return &Config{}, nil
			}
			return f.forDir(parent)
		})
		f.byDir[dir] = lookup
	}
	f.mu.Unlock()
	return lookup()
}

func isRepoRoot(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, ".git"))
	return err == nil
}
