package harden

import (
	"fmt"
	"sync"

	"github.com/hardenfix/hardenfix/pkg/registry"
)

// LoadCatalog returns the embedded catalog, merged with file when one is
// given (see docs/catalog.md). A merged catalog whose targets do not
// resolve is an error; errors start with "catalog".
func LoadCatalog(file string) (*registry.Catalog, error) {
	return mergeCatalog(registry.Embedded(), file)
}

// mergeCatalog merges the catalog file over base; base when file is "".
func mergeCatalog(base *registry.Catalog, file string) (*registry.Catalog, error) {
	if file == "" {
		return base, nil
	}
	user, err := registry.LoadCatalog(file)
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	merged := base.Merge(user)
	if err := merged.Validate(); err != nil {
		return nil, fmt.Errorf("catalog %s: %w", file, err)
	}
	return merged, nil
}

// catalogCache merges the catalog files that configuration files name over
// the run's catalog, reading each file once however many Dockerfiles use it.
type catalogCache struct {
	base   *registry.Catalog
	mu     sync.Mutex
	byFile map[string]func() (*registry.Catalog, error) // each file's merge, run once
}

func newCatalogCache(base *registry.Catalog) *catalogCache {
	return &catalogCache{base: base, byFile: map[string]func() (*registry.Catalog, error){}}
}

// forFile returns the run's catalog with file (from a .hardenfix.yaml
// catalog key) merged over it; the run's catalog itself when file is "".
func (c *catalogCache) forFile(file string) (*registry.Catalog, error) {
	if file == "" {
		return c.base, nil
	}
	c.mu.Lock()
	merge, ok := c.byFile[file]
	if !ok {
		merge = sync.OnceValues(func() (*registry.Catalog, error) { return mergeCatalog(c.base, file) })
		c.byFile[file] = merge
	}
	c.mu.Unlock()
	return merge()
}
