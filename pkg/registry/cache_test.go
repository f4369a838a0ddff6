package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a settable time source for the cache.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func testCache(t *testing.T, ttl time.Duration) (*DiskCache, *clock) {
	t.Helper()
	c, err := NewDiskCache(t.TempDir(), ttl)
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	c.now = clk.now
	return c, clk
}

// answers asks everything the Resolver answers about node:20-slim.
type answers struct {
	Digest    string
	Tags      []string
	Platforms []Platform
	Config    *ImageConfig
	Layers    []string
}

func askAll(t *testing.T, r *Remote) (answers, error) {
	t.Helper()
	ctx := context.Background()
	var a answers
	var errs []error
	var err error
	a.Digest, err = r.Digest(ctx, "node:20-slim")
	errs = append(errs, err)
	a.Tags, err = r.Tags(ctx, "node:20-slim")
	errs = append(errs, err)
	a.Platforms, err = r.Platforms(ctx, "node:20-slim")
	errs = append(errs, err)
	a.Config, err = r.Config(ctx, "node:20-slim", Platform{OS: "linux", Architecture: "arm64"})
	errs = append(errs, err)
	a.Layers, err = r.Layers(ctx, "node:20-slim", Platform{})
	errs = append(errs, err)
	return a, errors.Join(errs...)
}

func TestWarmCacheSendsNothing(t *testing.T) {
	tr := newTestRegistry(t, false)
	seedNode(t, tr)
	cache, _ := testCache(t, time.Hour)

	cold, err := askAll(t, tr.remote(WithCache(cache)))
	if err != nil {
		t.Fatal(err)
	}
	if tr.total() == 0 {
		t.Fatal("the cold run sent no requests")
	}
	tr.reset()
	r := tr.remote(WithCache(cache)) // a new run
	warm, err := askAll(t, r)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cold, warm) {
		t.Errorf("warm answers differ:\ncold %+v\nwarm %+v", cold, warm)
	}
	if n := tr.total(); n != 0 {
		t.Errorf("warm run sent %d requests, want 0: %v", n, tr.Requests())
	}
	if s := r.Stats(); s.CacheHits != 5 || s.Lookups != 5 || s.Requests != 0 {
		t.Errorf("Stats = %+v, want 5 lookups, all cache hits", s)
	}
}

func TestTagEntriesExpireDigestEntriesDoNot(t *testing.T) {
	tr := newTestRegistry(t, false)
	seedNode(t, tr)
	cache, clk := testCache(t, time.Hour)
	if _, err := askAll(t, tr.remote(WithCache(cache))); err != nil {
		t.Fatal(err)
	}
	clk.add(59 * time.Minute)
	tr.reset()
	if _, err := askAll(t, tr.remote(WithCache(cache))); err != nil {
		t.Fatal(err)
	}
	if n := tr.total(); n != 0 {
		t.Errorf("within the TTL: %d requests, want 0", n)
	}

	clk.add(2 * time.Minute)
	tr.reset()
	if _, err := askAll(t, tr.remote(WithCache(cache))); err != nil {
		t.Fatal(err)
	}
	// The tag's digest and the tag list are asked again; the platforms,
	// config and layers of that digest are not.
	if h, l, g := tr.count("HEAD", "/manifests/"), tr.count("GET", "/tags/list"), tr.count("GET", "/manifests/")+tr.count("GET", "/blobs/"); h != 1 || l != 1 || g != 0 {
		t.Errorf("past the TTL: HEAD %d, tag list %d, manifest+blob GETs %d; want 1, 1, 0", h, l, g)
	}
}

func TestStaleEntryServedWhenRegistryFails(t *testing.T) {
	tr := newTestRegistry(t, false)
	seedNode(t, tr)
	cache, clk := testCache(t, time.Hour)
	fresh, err := askAll(t, tr.remote(WithCache(cache)))
	if err != nil {
		t.Fatal(err)
	}
	stored := clk.now()
	clk.add(2 * time.Hour)
	tr.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		w.WriteHeader(http.StatusServiceUnavailable)
		return true
	})

	r := tr.remote(WithCache(cache))
	ctx := context.Background()
	got, err := r.Digest(ctx, "node:20-slim")
	if got != fresh.Digest {
		t.Errorf("Digest = %q, want the cached %q", got, fresh.Digest)
	}
	se, ok := IsStale(err)
	if !ok || !errors.Is(err, ErrStale) || !errors.Is(err, ErrServer) {
		t.Fatalf("error = %v, want a StaleError wrapping ErrServer", err)
	}
	if !se.Stored.Equal(stored) || !strings.Contains(err.Error(), "served from cache") {
		t.Errorf("StaleError = %v (stored %v), want stored %v", err, se.Stored, stored)
	}
	// What depends on the stale digest is still answered, and still
	// marked stale.
	cfg, err := r.Config(ctx, "node:20-slim", Platform{OS: "linux", Architecture: "arm64"})
	if _, ok := IsStale(err); !ok || cfg == nil || cfg.User != fresh.Config.User {
		t.Errorf("Config = %+v, %v; want the cached config marked stale", cfg, err)
	}
	tags, err := r.Tags(ctx, "node")
	if _, ok := IsStale(err); !ok || !reflect.DeepEqual(tags, fresh.Tags) {
		t.Errorf("Tags = %v, %v; want the cached tags marked stale", tags, err)
	}
	if s := r.Stats(); s.Stale != 2 || s.Failures != 2 {
		t.Errorf("Stats = %+v, want 2 stale answers (digest, tags) and 2 failures", s)
	}
}

func TestNotFoundIsNotServedStale(t *testing.T) {
	tr := newTestRegistry(t, false)
	seedNode(t, tr)
	cache, clk := testCache(t, time.Hour)
	if _, err := tr.remote(WithCache(cache)).Digest(context.Background(), "node:20-slim"); err != nil {
		t.Fatal(err)
	}
	clk.add(2 * time.Hour)
	tr.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodHead {
			return false
		}
		w.WriteHeader(http.StatusNotFound)
		return true
	})
	got, err := tr.remote(WithCache(cache)).Digest(context.Background(), "node:20-slim")
	if got != "" || !errors.Is(err, ErrNotFound) || errors.Is(err, ErrStale) {
		t.Errorf("Digest = %q, %v; want ErrNotFound and no stale answer: the tag is gone", got, err)
	}
}

func TestCorruptEntriesAreIgnored(t *testing.T) {
	tr := newTestRegistry(t, false)
	want, _ := seedNode(t, tr)
	cache, _ := testCache(t, time.Hour)
	key := "digest " + tr.Host + "/library/node:20-slim"
	for _, garbage := range []string{"", "{not json", `{"key":"another key","stored":"2026-01-02T03:04:05Z","value":"\"sha256:00\""}`, `{"key":"` + key + `"}`} {
		p := cache.path(key)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(garbage), 0o600); err != nil {
			t.Fatal(err)
		}
		tr.reset()
		got, err := tr.remote(WithCache(cache)).Digest(context.Background(), "node:20-slim")
		if err != nil || got != want {
			t.Fatalf("with entry %q: Digest = %q, %v; want %q", garbage, got, err, want)
		}
		if n := tr.count("HEAD", "/manifests/"); n != 1 {
			t.Errorf("with entry %q: HEAD requests = %d, want 1", garbage, n)
		}
		if e, fresh, ok := cache.get(key, true); !ok || !fresh || string(e.Value) != fmt.Sprintf("%q", want) {
			t.Errorf("with entry %q: the entry was not replaced by a good one", garbage)
		}
	}
}

// Writers in separate DiskCache values (as separate processes would be;
// atomicity comes from rename on one file system, not from anything the
// process shares) never leave a reader with half an entry.
func TestConcurrentWritersAndReaders(t *testing.T) {
	dir := t.TempDir()
	const key = "tags index.docker.io/library/node"
	values := make([][]byte, 8)
	for i := range values {
		tags := make([]string, 50*(i+1))
		for j := range tags {
			tags[j] = fmt.Sprintf("%d.%d", i, j)
		}
		values[i], _ = json.Marshal(tags)
	}
	var wg sync.WaitGroup
	for i := range values {
		wg.Go(func() {
			c, _ := NewDiskCache(dir, time.Hour)
			for range 30 {
				if err := c.put(key, values[i]); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for range 4 {
		wg.Go(func() {
			c, _ := NewDiskCache(dir, time.Hour)
			for range 200 {
				e, _, ok := c.get(key, true)
				if !ok {
					continue
				}
				found := false
				for _, v := range values {
					found = found || string(e.Value) == string(v)
				}
				if !found {
					t.Errorf("read an entry no writer wrote (%d bytes)", len(e.Value))
					return
				}
			}
		})
	}
	wg.Wait()
	if _, _, ok := (&DiskCache{dir: dir, now: time.Now}).get(key, false); !ok {
		t.Error("no entry after the writers finished")
	}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".tmp-") {
			t.Errorf("temporary file left behind: %s", p)
		}
		return nil
	})
}

func TestDefaultCacheDir(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("XDG_CACHE_HOME is a Linux convention")
	}
	dir := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", dir)
	c, err := NewDiskCache("", 0)
	if err != nil {
		t.Fatal(err)
	}
	if c.Dir() != filepath.Join(dir, "hardenfix") || c.ttl != DefaultCacheTTL {
		t.Errorf("NewDiskCache(\"\", 0) = dir %s, ttl %v", c.Dir(), c.ttl)
	}
}
