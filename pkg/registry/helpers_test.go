package registry

import (
	"bytes"
	"encoding/json"
	"io"
	"log"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// testRegistry is go-containerregistry's in-process registry on
// 127.0.0.1, behind a wrapper that counts requests and can inject faults.
type testRegistry struct {
	srv  *httptest.Server
	host string
	tls  bool
	reg  http.Handler

	mu       sync.Mutex
	requests []string // "METHOD path" of every request, in order
	auths    []string // Authorization header of every request ("" when none)
	fault    atomic.Pointer[func(http.ResponseWriter, *http.Request) bool]
}

func newTestRegistry(tb testing.TB, useTLS bool) *testRegistry {
	tb.Helper()
	tr := &testRegistry{reg: ggcrregistry.New(ggcrregistry.Logger(nilLogger())), tls: useTLS}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tr.mu.Lock()
		tr.requests = append(tr.requests, r.Method+" "+r.URL.Path)
		tr.auths = append(tr.auths, r.Header.Get("Authorization"))
		tr.mu.Unlock()
		if f := tr.fault.Load(); f != nil && (*f)(w, r) {
			return
		}
		tr.reg.ServeHTTP(w, r)
	})
	if useTLS {
		tr.srv = httptest.NewTLSServer(h)
	} else {
		tr.srv = httptest.NewServer(h)
	}
	tb.Cleanup(tr.srv.Close)
	tr.host = strings.TrimPrefix(strings.TrimPrefix(tr.srv.URL, "http://"), "https://")
	return tr
}

// setFault installs f in front of the registry: when it returns true it
// has answered the request itself.
func (tr *testRegistry) setFault(f func(http.ResponseWriter, *http.Request) bool) {
	tr.fault.Store(&f)
}

// reset forgets the requests seen so far (after seeding).
func (tr *testRegistry) reset() {
	tr.mu.Lock()
	tr.requests, tr.auths = nil, nil
	tr.mu.Unlock()
}

// count returns how many requests matched method (any when "") and had a
// path containing part.
func (tr *testRegistry) count(method, part string) int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	n := 0
	for _, r := range tr.requests {
		m, p, _ := strings.Cut(r, " ")
		if (method == "" || m == method) && strings.Contains(p, part) {
			n++
		}
	}
	return n
}

func (tr *testRegistry) total() int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return len(tr.requests)
}

func (tr *testRegistry) pushOpts() []remote.Option {
	return []remote.Option{remote.WithTransport(tr.srv.Client().Transport)}
}

func (tr *testRegistry) ref(tb testing.TB, s string) name.Reference {
	tb.Helper()
	ref, err := name.ParseReference(tr.host+"/"+s, name.Insecure)
	if err != nil {
		tb.Fatal(err)
	}
	return ref
}

// push writes img under repo:tag (e.g. "library/node:20-slim").
func (tr *testRegistry) push(tb testing.TB, s string, img v1.Image) {
	tb.Helper()
	if err := remote.Write(tr.ref(tb, s), img, tr.pushOpts()...); err != nil {
		tb.Fatalf("push %s: %v", s, err)
	}
}

func (tr *testRegistry) pushIndex(tb testing.TB, s string, idx v1.ImageIndex) {
	tb.Helper()
	if err := remote.WriteIndex(tr.ref(tb, s), idx, tr.pushOpts()...); err != nil {
		tb.Fatalf("push %s: %v", s, err)
	}
}

// remote returns a Remote that reaches this registry as docker.io's
// mirror, over its own client transport (which trusts the TLS server).
func (tr *testRegistry) remote(opts ...Option) *Remote {
	base := []Option{
		WithMirror("docker.io", tr.host),
		WithTransport(tr.srv.Client().Transport),
		WithKeychain(authn.NewMultiKeychain()),
		WithTimeout(5 * time.Second),
		WithRetryPolicy(RetryPolicy{Retries: 2, MaxWait: time.Second, Backoff: time.Millisecond}),
	}
	if !tr.tls {
		base = append(base, WithInsecure(tr.host))
	}
	return NewRemote(append(base, opts...)...)
}

type imageSpec struct {
	seed       int64
	os, arch   string
	variant    string
	user       string
	entrypoint []string
	labels     map[string]string
}

// testImage is a random image (fixed seed, so the same spec gives the
// same digest) whose config says what spec says.
func testImage(tb testing.TB, s imageSpec) v1.Image {
	tb.Helper()
	img, err := random.Image(64, 2, random.WithSource(rand.NewSource(s.seed)))
	if err != nil {
		tb.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		tb.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = s.os, s.arch, s.variant
	cf.Config.User = s.user
	cf.Config.Entrypoint = s.entrypoint
	cf.Config.Labels = s.labels
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		tb.Fatal(err)
	}
	return img
}

// testIndex is an index of images, each described with its platform.
func testIndex(tb testing.TB, imgs ...v1.Image) v1.ImageIndex {
	tb.Helper()
	var adds []mutate.IndexAddendum
	for _, img := range imgs {
		cf, err := img.ConfigFile()
		if err != nil {
			tb.Fatal(err)
		}
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{
			Platform: &v1.Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant},
		}})
	}
	return mutate.AppendManifests(empty.Index, adds...)
}

func digestOf(tb testing.TB, x interface{ Digest() (v1.Hash, error) }) string {
	tb.Helper()
	h, err := x.Digest()
	if err != nil {
		tb.Fatal(err)
	}
	return h.String()
}

// keychain gives fixed credentials per registry host.
type keychain map[string]authn.Basic

func (k keychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	if b, ok := k[r.RegistryStr()]; ok {
		return &b, nil
	}
	return authn.Anonymous, nil
}

func nilLogger() *log.Logger { return log.New(io.Discard, "", 0) }

// seededIndex is random.Index with a fixed seed: the same seed gives the
// same digest.
func seededIndex(tb testing.TB, seed int64) v1.ImageIndex {
	tb.Helper()
	idx, err := random.Index(64, 1, 2, random.WithSource(rand.NewSource(seed)))
	if err != nil {
		tb.Fatal(err)
	}
	return idx
}

// recorder is a minimal http.ResponseWriter that keeps the answer.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(s int)   { r.status = s }
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
