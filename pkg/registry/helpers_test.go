package registry

import (
	"bytes"
	"encoding/json"
	"math/rand"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/hardenfix/hardenfix/pkg/registry/registrytest"
)

// testRegistry is registrytest's server with the short method names these
// tests use.
type testRegistry struct {
	*registrytest.Server
}

func newTestRegistry(tb testing.TB, useTLS bool) *testRegistry {
	tb.Helper()
	return &testRegistry{registrytest.New(tb, useTLS)}
}

func (tr *testRegistry) setFault(f func(http.ResponseWriter, *http.Request) bool) { tr.SetFault(f) }
func (tr *testRegistry) reset()                                                   { tr.Reset() }
func (tr *testRegistry) count(method, part string) int                            { return tr.Count(method, part) }
func (tr *testRegistry) total() int                                               { return tr.Total() }
func (tr *testRegistry) push(tb testing.TB, s string, img v1.Image)               { tr.Push(tb, s, img) }
func (tr *testRegistry) pushIndex(tb testing.TB, s string, idx v1.ImageIndex) {
	tr.PushIndex(tb, s, idx)
}

// remote returns a Remote that reaches this registry as docker.io's
// mirror, over its own client transport (which trusts the TLS server).
func (tr *testRegistry) remote(opts ...Option) *Remote {
	base := []Option{
		WithMirror("docker.io", tr.Host),
		WithTransport(tr.Transport()),
		WithKeychain(authn.NewMultiKeychain()),
		WithTimeout(5 * time.Second),
		WithRetryPolicy(RetryPolicy{Retries: 2, MaxWait: time.Second, Backoff: time.Millisecond}),
	}
	if !tr.TLS {
		base = append(base, WithInsecure(tr.Host))
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
	workdir    string
}

// testImage is a random image (fixed seed, so the same spec gives the
// same digest) whose config says what spec says.
func testImage(tb testing.TB, s imageSpec) v1.Image {
	return registrytest.Image(tb, registrytest.Spec{Seed: s.seed, OS: s.os, Arch: s.arch, Variant: s.variant,
		User: s.user, Entrypoint: s.entrypoint, Labels: s.labels, WorkingDir: s.workdir})
}

func testIndex(tb testing.TB, imgs ...v1.Image) v1.ImageIndex { return registrytest.Index(tb, imgs...) }

func digestOf(tb testing.TB, x interface{ Digest() (v1.Hash, error) }) string {
	return registrytest.Digest(tb, x)
}

// keychain gives fixed credentials per registry host.
type keychain map[string]authn.Basic

func (k keychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	if b, ok := k[r.RegistryStr()]; ok {
		return &b, nil
	}
	return authn.Anonymous, nil
}

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
