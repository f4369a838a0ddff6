package registry

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// DefaultCacheTTL is how long a tag's digest (and a repository's tag list)
// is trusted before the registry is asked again.
const DefaultCacheTTL = 6 * time.Hour

// DiskCache keeps registry answers between runs, one JSON file per answer.
// Answers about tags expire after the TTL; answers addressed by digest
// (platforms, configs and layers of a digest) never do, since a digest
// names its content for good. Expired entries are kept: when the registry
// fails, a Remote serves them and says so (StaleError).
//
// Writes go to a temporary file in the same directory and are renamed into
// place, so concurrent processes see either the old or the new entry,
// never half of one. An entry that does not decode is ignored.
type DiskCache struct {
	dir string
	ttl time.Duration
	now func() time.Time
}

// NewDiskCache returns a cache under dir (DefaultCacheDir when empty)
// whose tag entries expire after ttl (DefaultCacheTTL when not positive).
// The directory is created on the first write.
func NewDiskCache(dir string, ttl time.Duration) (*DiskCache, error) {
	if dir == "" {
		d, err := DefaultCacheDir()
		if err != nil {
			return nil, err
		}
		dir = d
	}
	if ttl <= 0 {
		ttl = DefaultCacheTTL
	}
	return &DiskCache{dir: dir, ttl: ttl, now: time.Now}, nil
}

// DefaultCacheDir is hardenfix's folder in the user cache dir
// ($XDG_CACHE_HOME/hardenfix, ~/.cache/hardenfix, ~/Library/Caches/hardenfix).
func DefaultCacheDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no user cache directory (use --cache-dir or --no-cache): %w", err)
	}
	return filepath.Join(d, "hardenfix"), nil
}

// Dir is where the cache lives.
func (c *DiskCache) Dir() string { return c.dir }

// cacheEntry is one file's content.
type cacheEntry struct {
	Key    string          `json:"key"`
	Stored time.Time       `json:"stored"`
	Value  json.RawMessage `json:"value"`
}

// cacheVersion names the layout; bump it when entries change meaning.
const cacheVersion = "v1"

func (c *DiskCache) path(key string) string {
	sum := sha256.Sum256([]byte(key))
	h := hex.EncodeToString(sum[:])
	return filepath.Join(c.dir, cacheVersion, h[:2], h+".json")
}

// get returns the entry for key, if there is one that decodes, and whether
// it is fresh: always for digest-addressed entries, within the TTL for
// mutable ones.
func (c *DiskCache) get(key string, mutable bool) (e *cacheEntry, fresh, ok bool) {
	data, err := os.ReadFile(c.path(key))
	if err != nil {
		return nil, false, false
	}
	e = new(cacheEntry)
	if err := json.Unmarshal(data, e); err != nil || e.Key != key || len(e.Value) == 0 {
		return nil, false, false
	}
	return e, !mutable || c.now().Sub(e.Stored) < c.ttl, true
}

// put stores value under key atomically.
func (c *DiskCache) put(key string, value []byte) error {
	data, err := json.Marshal(cacheEntry{Key: key, Stored: c.now().UTC(), Value: value})
	if err != nil {
		return err
	}
	p := c.path(key)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return err
	}
	_, werr := f.Write(data)
	cerr := f.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(f.Name(), p)
	}
	if werr != nil {
		os.Remove(f.Name())
	}
	return werr
}
