// Package registrytest serves go-containerregistry's in-process registry
// on 127.0.0.1 for tests, seeds it with images built from a fixed seed, and
// counts and intercepts the requests it gets.
//
// Reach it from a registry.Remote as a mirror of the registry the test
// names, so Dockerfiles keep their real names:
//
//	srv := registrytest.New(t, false)
//	srv.Push(t, "library/node:20-slim", registrytest.Image(t, registrytest.Spec{Seed: 1, User: "node"}))
//	r := registry.NewRemote(
//		registry.WithMirror("docker.io", srv.Host),
//		registry.WithInsecure(srv.Host), // not needed with New(t, true)
//		registry.WithTransport(srv.Transport()),
//		registry.WithKeychain(authn.NewMultiKeychain()),
//	)
package registrytest

import (
	"io"
	"log"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Server is an in-process registry behind a counting, fault-injecting
// wrapper. It is closed when the test ends.
type Server struct {
	Srv  *httptest.Server
	Host string // 127.0.0.1:PORT
	TLS  bool
	// Registry is the registry handler itself, for faults that need to
	// call it with a changed request or a wrapped ResponseWriter.
	Registry http.Handler

	mu       sync.Mutex
	requests []Request
	fault    atomic.Pointer[func(http.ResponseWriter, *http.Request) bool]
}

// Request is what the server saw of one request.
type Request struct {
	Method, Path, Authorization, UserAgent string
}

// New starts a registry on 127.0.0.1, over TLS when useTLS (trusted by
// Transport only).
func New(tb testing.TB, useTLS bool) *Server {
	tb.Helper()
	s := &Server{Registry: ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))), TLS: useTLS}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests = append(s.requests, Request{r.Method, r.URL.Path, r.Header.Get("Authorization"), r.UserAgent()})
		s.mu.Unlock()
		if f := s.fault.Load(); f != nil && (*f)(w, r) {
			return
		}
		s.Registry.ServeHTTP(w, r)
	})
	if useTLS {
		s.Srv = httptest.NewTLSServer(h)
	} else {
		s.Srv = httptest.NewServer(h)
	}
	tb.Cleanup(s.Srv.Close)
	s.Host = strings.TrimPrefix(strings.TrimPrefix(s.Srv.URL, "http://"), "https://")
	return s
}

// Transport is an HTTP transport that reaches the server (and trusts its
// certificate when it serves TLS).
func (s *Server) Transport() http.RoundTripper { return s.Srv.Client().Transport }

// SetFault puts f in front of the registry: when f returns true it has
// answered the request itself. nil removes it.
func (s *Server) SetFault(f func(http.ResponseWriter, *http.Request) bool) {
	if f == nil {
		s.fault.Store(nil)
		return
	}
	s.fault.Store(&f)
}

// Reset forgets the requests seen so far (call it after seeding).
func (s *Server) Reset() {
	s.mu.Lock()
	s.requests = nil
	s.mu.Unlock()
}

// Requests returns a copy of the requests seen since the last Reset.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Count returns how many requests had method (any when "") and a path
// containing part.
func (s *Server) Count(method, part string) int {
	n := 0
	for _, r := range s.Requests() {
		if (method == "" || r.Method == method) && strings.Contains(r.Path, part) {
			n++
		}
	}
	return n
}

// Total is the number of requests seen since the last Reset.
func (s *Server) Total() int { return len(s.Requests()) }

func (s *Server) ref(tb testing.TB, repoTag string) name.Reference {
	tb.Helper()
	ref, err := name.ParseReference(s.Host+"/"+repoTag, name.Insecure)
	if err != nil {
		tb.Fatal(err)
	}
	return ref
}

// Push writes img under repo:tag as the mirror stores it, e.g.
// "library/node:20-slim" for Docker Hub's node:20-slim.
func (s *Server) Push(tb testing.TB, repoTag string, img v1.Image) {
	tb.Helper()
	if err := remote.Write(s.ref(tb, repoTag), img, remote.WithTransport(s.Transport())); err != nil {
		tb.Fatalf("push %s: %v", repoTag, err)
	}
}

// PushIndex writes idx under repo:tag.
func (s *Server) PushIndex(tb testing.TB, repoTag string, idx v1.ImageIndex) {
	tb.Helper()
	if err := remote.WriteIndex(s.ref(tb, repoTag), idx, remote.WithTransport(s.Transport())); err != nil {
		tb.Fatalf("push %s: %v", repoTag, err)
	}
}

// Spec describes an image to make.
type Spec struct {
	// Seed makes the random layers; the same Spec gives the same digest.
	Seed int64
	// Layers is how many random layers (default 2), added on top of Base
	// when Base is set.
	Layers int
	// Base, when set, is the image this one is built on: its layers come
	// first (use it for "built on the official image" cases).
	Base v1.Image
	// OS, Arch and Variant default to linux/amd64.
	OS, Arch, Variant string
	User              string
	Entrypoint, Cmd   []string
	Labels            map[string]string
	WorkingDir        string
}

// Image makes an image from spec: random layers from spec.Seed (on top of
// spec.Base when set) and a config saying what spec says.
func Image(tb testing.TB, spec Spec) v1.Image {
	tb.Helper()
	if spec.Layers == 0 {
		spec.Layers = 2
	}
	if spec.OS == "" {
		spec.OS = "linux"
	}
	if spec.Arch == "" {
		spec.Arch = "amd64"
	}
	img := spec.Base
	src := rand.NewSource(spec.Seed)
	if img == nil {
		var err error
		if img, err = random.Image(64, int64(spec.Layers), random.WithSource(src)); err != nil {
			tb.Fatal(err)
		}
	} else {
		for range spec.Layers {
			l, err := random.Layer(64, "application/vnd.docker.image.rootfs.diff.tar.gzip", random.WithSource(src))
			if err != nil {
				tb.Fatal(err)
			}
			if img, err = mutate.AppendLayers(img, l); err != nil {
				tb.Fatal(err)
			}
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		tb.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = spec.OS, spec.Arch, spec.Variant
	cf.Config.User = spec.User
	cf.Config.Entrypoint = spec.Entrypoint
	cf.Config.Cmd = spec.Cmd
	cf.Config.Labels = spec.Labels
	cf.Config.WorkingDir = spec.WorkingDir
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		tb.Fatal(err)
	}
	return img
}

// Index makes an index of imgs, each described with the platform its
// config names.
func Index(tb testing.TB, imgs ...v1.Image) v1.ImageIndex {
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

// Digest is the digest of an image or index, as the Resolver reports it.
func Digest(tb testing.TB, x interface{ Digest() (v1.Hash, error) }) string {
	tb.Helper()
	h, err := x.Digest()
	if err != nil {
		tb.Fatal(err)
	}
	return h.String()
}

// LayerDigests are an image's layer digests, base first.
func LayerDigests(tb testing.TB, img v1.Image) []string {
	tb.Helper()
	layers, err := img.Layers()
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, l := range layers {
		d, err := l.Digest()
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, d.String())
	}
	return out
}
