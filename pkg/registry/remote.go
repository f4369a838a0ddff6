package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"golang.org/x/sync/singleflight"

	"github.com/hardenfix/hardenfix/internal/memo"
)

// Defaults of a Remote.
const (
	DefaultTimeout = 15 * time.Second
	// DefaultMaxManifestSize is the largest manifest, config or tag-list
	// page a Remote reads; a registry that sends more is refused.
	DefaultMaxManifestSize = 4 << 20
	// MaxRequestsPerHost is how many requests a Remote keeps in flight to
	// one host.
	MaxRequestsPerHost = 4
)

// Remote is the Resolver that asks registries, through
// go-containerregistry's auth transport. One Remote serves one run: it
// remembers every answer (and every failure) for the rest of the run, and
// concurrent callers asking the same thing share one request. Use NewRemote.
type Remote struct {
	keychain    authn.Keychain
	userAgent   string
	timeout     time.Duration
	mirrors     map[string]string // canonical registry → mirror host
	insecure    map[string]bool
	base        http.RoundTripper
	cache       *DiskCache
	retry       RetryPolicy
	maxManifest int64
	pageSize    int

	rt *hostTransport

	clientsMu sync.Mutex
	clients   map[string]*clientEntry

	// targets remembers what target made of each reference.
	targets memo.Map[targetResult]

	flight  singleflight.Group
	memoMu  sync.Mutex
	memo    map[string]memoEntry
	statsMu sync.Mutex
	stats   Stats
}

// Stats says what a Remote did during the run.
type Stats struct {
	// Requests is the number of HTTP requests sent (retries included;
	// pings answered from the first ping of a host are not sent).
	Requests int64
	// Lookups is the number of unique questions asked (one per
	// reference and kind of question, however many callers asked).
	Lookups int
	// CacheHits is how many of them the disk cache answered while fresh.
	CacheHits int
	// Failures is how many of them failed because the registry could not
	// answer (everything but ErrNotFound and ErrPlatformNotFound), stale
	// answers included; --strict turns this into exit code 3.
	Failures int
	// Stale is how many were answered from a stale cache entry.
	Stale int
}

// Option configures a Remote.
type Option func(*Remote)

// WithKeychain sets where credentials come from (default
// authn.DefaultKeychain: the docker config and its credential helpers).
// Credentials are looked up for the host a request goes to, so a mirror
// gets its own credentials, never those of the registry it mirrors.
func WithKeychain(k authn.Keychain) Option { return func(r *Remote) { r.keychain = k } }

// WithUserAgent sets the User-Agent, e.g. "hardenfix/1.2.0".
func WithUserAgent(ua string) Option { return func(r *Remote) { r.userAgent = ua } }

// WithTimeout bounds each HTTP request, body included (default 15s).
func WithTimeout(d time.Duration) Option {
	return func(r *Remote) {
		if d > 0 {
			r.timeout = d
		}
	}
}

// WithMirror sends every lookup for registry host (e.g. "docker.io") to
// mirror (e.g. "127.0.0.1:5000") instead. Names given to and returned by
// the Resolver are unchanged: only the network calls go elsewhere.
//
// A mirror written as a URL ("http://127.0.0.1:5000") is taken as its host;
// an http:// URL also allows plain HTTP to it, as WithInsecure does. A
// mirror with a path ("harbor.example/hub-proxy", as Harbor's proxy
// projects are) puts the repository under that path.
func WithMirror(host, mirror string) Option {
	return func(r *Remote) {
		mirror = strings.TrimSuffix(mirror, "/")
		if h, ok := strings.CutPrefix(mirror, "http://"); ok {
			mirror = h
			mhost, _, _ := strings.Cut(h, "/")
			r.insecure[canonicalHost(mhost)] = true
		}
		r.mirrors[canonicalHost(host)] = strings.TrimPrefix(mirror, "https://")
	}
}

// WithInsecure allows plain HTTP to host, as written in references or
// mirrors: "myreg:5000" for that port, "myreg" for any port. Every other
// host must speak HTTPS. HTTPS is still tried first, as Docker does.
func WithInsecure(host string) Option {
	return func(r *Remote) { r.insecure[canonicalHost(host)] = true }
}

// WithTransport sets the HTTP transport under the Remote's own layer
// (default: go-containerregistry's remote.DefaultTransport settings).
func WithTransport(t http.RoundTripper) Option { return func(r *Remote) { r.base = t } }

// WithCache answers from and stores into c; nil disables the disk cache.
func WithCache(c *DiskCache) Option { return func(r *Remote) { r.cache = c } }

// WithRetryPolicy bounds retries of 429 and 5xx answers.
func WithRetryPolicy(p RetryPolicy) Option { return func(r *Remote) { r.retry = p } }

// WithMaxManifestSize sets the largest manifest, config or tag page read
// (default 4 MiB).
func WithMaxManifestSize(n int64) Option {
	return func(r *Remote) {
		if n > 0 {
			r.maxManifest = n
		}
	}
}

// NewRemote returns a Resolver that asks registries.
func NewRemote(opts ...Option) *Remote {
	r := &Remote{
		keychain:    authn.DefaultKeychain,
		userAgent:   "hardenfix",
		timeout:     DefaultTimeout,
		mirrors:     map[string]string{},
		insecure:    map[string]bool{},
		retry:       DefaultRetryPolicy,
		maxManifest: DefaultMaxManifestSize,
		pageSize:    1000,
		clients:     map[string]*clientEntry{},
		memo:        map[string]memoEntry{},
	}
	for _, o := range opts {
		o(r)
	}
	if r.base == nil {
		r.base = newBaseTransport()
	}
	r.rt = &hostTransport{
		next:      r.base,
		userAgent: r.userAgent,
		timeout:   r.timeout,
		insecure:  r.allowsPlainHTTP,
		retry:     r.retry,
		perHost:   MaxRequestsPerHost,
		sems:      map[string]chan struct{}{},
		pings:     map[string]*cachedPing{},
	}
	return r
}

func (r *Remote) allowsPlainHTTP(host string) bool {
	host = canonicalHost(host)
	if r.insecure[host] {
		return true
	}
	hostname, _, err := net.SplitHostPort(host)
	return err == nil && r.insecure[strings.Trim(hostname, "[]")]
}

func newBaseTransport() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = MaxRequestsPerHost
	return t
}

// Stats returns what the Remote did so far.
func (r *Remote) Stats() Stats {
	r.statsMu.Lock()
	s := r.stats
	r.statsMu.Unlock()
	s.Requests = r.rt.requests.Load()
	return s
}

// canonicalHost spells Docker Hub one way, as go-containerregistry does.
func canonicalHost(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	switch h {
	case "docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com":
		return name.DefaultRegistry
	}
	return h
}

// target is a reference as the network sees it: the mirror's registry when
// one is configured, marked insecure when allowed.
type target struct {
	ref  name.Reference  // for the network call
	repo name.Repository // ref's repository
	host string          // the host asked
}

// target returns the target of ref. Every file of a tree asks about the
// same few references; the answers are remembered.
func (r *Remote) target(ref string) (target, error) {
	t := r.targets.Get(ref, func(ref string) targetResult {
		t, err := r.target1(ref)
		return targetResult{t, err}
	})
	return t.t, t.err
}

type targetResult struct {
	t   target
	err error
}

func (r *Remote) target1(ref string) (target, error) {
	parsed, err := name.ParseReference(ref)
	if err != nil {
		return target{}, fmt.Errorf("registry: %q is not an image reference: %w", ref, err)
	}
	host := parsed.Context().RegistryStr()
	repoPath := parsed.Context().RepositoryStr()
	if m, ok := r.mirrors[canonicalHost(host)]; ok {
		var prefix string
		host, prefix, _ = strings.Cut(m, "/")
		if prefix != "" {
			repoPath = prefix + "/" + repoPath
		}
	}
	var opts []name.Option
	if r.allowsPlainHTTP(host) {
		opts = append(opts, name.Insecure)
	}
	reg, err := name.NewRegistry(host, append(opts, name.StrictValidation)...)
	if err != nil {
		return target{}, fmt.Errorf("registry: bad registry host %q for %q: %w", host, ref, err)
	}
	repo := reg.Repo(repoPath)
	var out name.Reference
	switch p := parsed.(type) {
	case name.Digest:
		out = repo.Digest(p.DigestStr())
	case name.Tag:
		out = repo.Tag(p.TagStr())
	}
	return target{ref: out, repo: repo, host: host}, nil
}

type clientEntry struct {
	done   chan struct{}
	client *http.Client
	err    error
}

// client returns an authenticated client for repo, made once per run per
// repository (go-containerregistry's bearer tokens are scoped to one). A
// failure is kept for the run too: the ping and token exchange do not
// change their mind within seconds, and retries already happened below.
func (r *Remote) client(ctx context.Context, repo name.Repository) (*http.Client, error) {
	key := repo.String()
	r.clientsMu.Lock()
	e, ok := r.clients[key]
	if !ok {
		e = &clientEntry{done: make(chan struct{})}
		r.clients[key] = e
	}
	r.clientsMu.Unlock()
	if ok {
		<-e.done
		return e.client, e.err
	}
	e.client, e.err = r.newClient(ctx, repo)
	close(e.done)
	return e.client, e.err
}

func (r *Remote) newClient(ctx context.Context, repo name.Repository) (*http.Client, error) {
	auth, err := authn.Resolve(ctx, r.keychain, repo)
	if err != nil {
		return nil, &Error{Kind: ErrAuth, Err: fmt.Errorf("reading credentials for %s: %w", repo.RegistryStr(), err)}
	}
	tr, err := transport.NewWithContext(ctx, repo.Registry, auth, r.rt, []string{repo.Scope(transport.PullScope)})
	if err != nil {
		return nil, err
	}
	return &http.Client{Transport: tr}, nil
}

type memoEntry struct {
	value any
	err   error
}

// lookup answers key once per run: from the memo, else from the disk cache
// (fresh), else with fetch, sharing one fetch among concurrent callers.
// mutable entries (tag → digest, tag lists) expire after the cache's TTL;
// the others are addressed by digest and never expire. When fetch fails
// and the cache holds a stale entry, that entry is returned with a
// *StaleError.
func lookup[T any](ctx context.Context, r *Remote, key string, mutable bool, fetch func(context.Context) (T, error)) (T, error) {
	r.memoMu.Lock()
	m, ok := r.memo[key]
	r.memoMu.Unlock()
	if !ok {
		ch := r.flight.DoChan(key, func() (any, error) {
			r.memoMu.Lock()
			m, ok := r.memo[key]
			r.memoMu.Unlock()
			if ok {
				return m, nil
			}
			m = r.resolve(context.WithoutCancel(ctx), key, mutable, func(ctx context.Context) (any, error) { return fetch(ctx) }, func(data []byte) (any, error) {
				var v T
				err := json.Unmarshal(data, &v)
				return v, err
			})
			r.memoMu.Lock()
			r.memo[key] = m
			r.memoMu.Unlock()
			return m, nil
		})
		select {
		case res := <-ch:
			m = res.Val.(memoEntry)
		case <-ctx.Done():
			var zero T
			return zero, ctx.Err()
		}
	}
	v, _ := m.value.(T)
	return v, m.err
}

func (r *Remote) resolve(ctx context.Context, key string, mutable bool, fetch func(context.Context) (any, error), decode func([]byte) (any, error)) memoEntry {
	r.count(func(s *Stats) { s.Lookups++ })
	var stale *cacheEntry
	if r.cache != nil {
		if e, fresh, ok := r.cache.get(key, mutable); ok {
			if v, err := decode(e.Value); err == nil {
				if fresh {
					r.count(func(s *Stats) { s.CacheHits++ })
					return memoEntry{value: v}
				}
				stale = e
			}
		}
	}
	v, err := fetch(ctx)
	if err == nil {
		if r.cache != nil {
			if data, err := json.Marshal(v); err == nil {
				r.cache.put(key, data) // best effort: a failed write costs a request next run
			}
		}
		return memoEntry{value: v}
	}
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrPlatformNotFound) {
		return memoEntry{err: err}
	}
	r.count(func(s *Stats) { s.Failures++ })
	if stale != nil {
		if sv, derr := decode(stale.Value); derr == nil {
			r.count(func(s *Stats) { s.Stale++ })
			return memoEntry{value: sv, err: &StaleError{Err: err, Stored: stale.Stored}}
		}
	}
	return memoEntry{err: err}
}

func (r *Remote) count(f func(*Stats)) {
	r.statsMu.Lock()
	f(&r.stats)
	r.statsMu.Unlock()
}

var _ Resolver = (*Remote)(nil)

// lookupMem is lookup without the disk cache and without counting: for
// the intermediate documents (manifests, config blobs) that several
// answers share within a run.
func lookupMem[T any](ctx context.Context, r *Remote, key string, fetch func(context.Context) (T, error)) (T, error) {
	r.memoMu.Lock()
	m, ok := r.memo[key]
	r.memoMu.Unlock()
	if !ok {
		res, _, _ := r.flight.Do(key, func() (any, error) {
			r.memoMu.Lock()
			m, ok := r.memo[key]
			r.memoMu.Unlock()
			if ok {
				return m, nil
			}
			v, err := fetch(ctx)
			m = memoEntry{value: v, err: err}
			r.memoMu.Lock()
			r.memo[key] = m
			r.memoMu.Unlock()
			return m, nil
		})
		m = res.(memoEntry)
	}
	v, _ := m.value.(T)
	return v, m.err
}

// timeNow is time.Now, replaced in tests.
var timeNow = time.Now
