package main

import (
	"fmt"
	"io"
	"sync"

	"github.com/urfave/cli/v2"

	"github.com/hardenfix/hardenfix/pkg/registry"
)

// catalogFlags are the flags of the catalog and of the rules that consult it.
func catalogFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "catalog", Usage: "merge the catalog `FILE` over the embedded one (see docs/catalog.md)"},
		&cli.BoolFlag{Name: "update-digests", Usage: "refresh the digests already written in image references (pin rule)"},
	}
}

// loadCatalog returns the embedded catalog, merged with file when one is
// given. A merged catalog whose targets do not resolve is a usage error.
func loadCatalog(file string) (*registry.Catalog, error) {
	c := registry.Embedded()
	if file == "" {
		return c, nil
	}
	user, err := registry.LoadCatalog(file)
	if err != nil {
		return nil, fmt.Errorf("--catalog: %w", err)
	}
	merged := c.Merge(user)
	if err := merged.Validate(); err != nil {
		return nil, fmt.Errorf("--catalog %s: %w", file, err)
	}
	return merged, nil
}

// catalogCommand prints the effective catalog as YAML.
func catalogCommand(stdout io.Writer) *cli.Command {
	return &cli.Command{
		Name:  "catalog",
		Usage: "print the effective catalog (the embedded one merged with --catalog FILE)",
		Flags: []cli.Flag{&cli.StringFlag{Name: "catalog", Usage: "merge the catalog `FILE` over the embedded one"}},
		Action: func(c *cli.Context) error {
			file := c.String("catalog")
			if lineage := c.Lineage(); file == "" && len(lineage) > 1 {
				file = lineage[1].String("catalog") // hardenfix --catalog FILE catalog
			}
			cat, err := loadCatalog(file)
			if err != nil {
				return cli.Exit(err.Error(), exitError)
			}
			return cat.Encode(stdout)
		},
	}
}

// catalogCache merges the catalog files that configuration files name over
// the run's catalog, reading each file once however many Dockerfiles use it.
type catalogCache struct {
	base   *registry.Catalog
	mu     sync.Mutex
	byFile map[string]*catalogResult
}

type catalogResult struct {
	once sync.Once
	cat  *registry.Catalog
	err  error
}

func newCatalogCache(base *registry.Catalog) *catalogCache {
	return &catalogCache{base: base, byFile: map[string]*catalogResult{}}
}

// forFile returns the run's catalog with file (from a .hardenfix.yaml
// catalog key) merged over it; the run's catalog itself when file is "".
func (c *catalogCache) forFile(file string) (*registry.Catalog, error) {
	if c == nil {
		return registry.Embedded(), nil
	}
	if file == "" {
		return c.base, nil
	}
	c.mu.Lock()
	r, ok := c.byFile[file]
	if !ok {
		r = &catalogResult{}
		c.byFile[file] = r
	}
	c.mu.Unlock()
	r.once.Do(func() {
		user, err := registry.LoadCatalog(file)
		if err != nil {
			r.err = fmt.Errorf("catalog: %w", err)
			return
		}
		merged := c.base.Merge(user)
		if err := merged.Validate(); err != nil {
			r.err = fmt.Errorf("catalog %s: %w", file, err)
			return
		}
		r.cat = merged
	})
	return r.cat, r.err
}
