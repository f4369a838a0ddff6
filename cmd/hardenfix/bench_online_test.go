package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/hardenfix/hardenfix/pkg/harden"
	"github.com/hardenfix/hardenfix/pkg/registry/registrytest"
)

// onlineTree is a generated tree of Dockerfiles and the in-process registry
// (go-containerregistry's, on 127.0.0.1) that holds every image they name,
// with the requests a cold run must make.
type onlineTree struct {
	srv  *registrytest.Server
	root string
	// want counts the requests of one run with no disk cache, by
	// "METHOD /path".
	want map[string]int
	// files is the number of Dockerfiles.
	files int
}

// newOnlineTree writes n files (n a multiple of 20) of the BenchmarkTree
// kind, whose final stages vary: the catalog's debian:bookworm-slim, images
// of a private registry the catalog does not know, a re-tag of the
// official python image (rebased) and an image built on the official node
// image (a note).
func newOnlineTree(tb testing.TB, n int) *onlineTree {
	tb.Helper()
	t := &onlineTree{srv: registrytest.New(tb, false), root: tb.TempDir(), want: map[string]int{}, files: n}
	writeBenchFiles(tb, t.root, n)
	final := func(i int) string {
		switch {
		case i%10 == 1:
			return "someone/python:3.12-slim"
		case i%10 == 3:
			return "otherorg/node:20"
		case i%4 == 0:
			return fmt.Sprintf("registry.example.com/apps/runtime%02d:2", i%10)
		}
		return ""
	}
	for i := range n {
		if f := final(i); f != "" {
			p := filepath.Join(t.root, fmt.Sprintf("svc%04d", i), "Dockerfile")
			src, err := os.ReadFile(p)
			if err != nil {
				tb.Fatal(err)
			}
			src = []byte(strings.Replace(string(src), "FROM debian:bookworm-slim", "FROM "+f, 1))
			if err := os.WriteFile(p, src, 0o644); err != nil {
				tb.Fatal(err)
			}
		}
	}

	push := func(repoTag string, img v1.Image) {
		t.srv.Push(tb, repoTag, img)
		repo, tag, _ := strings.Cut(repoTag, ":")
		// pin looks every reference up once, by a manifest HEAD.
		t.want["HEAD /v2/"+repo+"/manifests/"+tag] = 1
	}
	for i := range 50 {
		push(fmt.Sprintf("base/image%02d:1.%d", i, i), registrytest.Image(tb, registrytest.Spec{Seed: int64(i + 1)}))
	}
	push("library/debian:bookworm-slim", registrytest.Image(tb, registrytest.Spec{Seed: 100}))
	// Files i ≡ 0 (mod 4) with i%10 in {0, 2, 4, 6, 8} name five of these.
	// non-root reads the config of each (the catalog does not know them)
	// to learn the user it runs as.
	config := func(repo string, img v1.Image) {
		cfg, err := img.ConfigName()
		if err != nil {
			tb.Fatal(err)
		}
		t.want["GET /v2/"+repo+"/blobs/"+cfg.String()] = 1
	}
	for i := 0; i < 10; i += 2 {
		repo := fmt.Sprintf("apps/runtime%02d", i)
		img := registrytest.Image(tb, registrytest.Spec{Seed: int64(200 + i), User: "app"})
		push(repo+":2", img)
		t.want["GET /v2/"+repo+"/manifests/"+registrytest.Digest(tb, img)] = 1
		config(repo, img)
	}
	// rebase finds someone/python:3.12-slim to be python:3.12-slim by its
	// digest, and reads the manifest and config of the image it pins to
	// learn its platform.
	py := registrytest.Image(tb, registrytest.Spec{Seed: 300})
	push("library/python:3.12-slim", py)
	push("someone/python:3.12-slim", py)
	cfg, err := py.ConfigName()
	if err != nil {
		tb.Fatal(err)
	}
	t.want["GET /v2/someone/python/manifests/"+registrytest.Digest(tb, py)] = 1
	t.want["GET /v2/someone/python/blobs/"+cfg.String()] = 1
	// otherorg/node:20 adds layers to node:20: rebase compares the two
	// manifests' layers and leaves a note.
	node := registrytest.Image(tb, registrytest.Spec{Seed: 301, User: "node"})
	other := registrytest.Image(tb, registrytest.Spec{Seed: 302, Base: node})
	push("library/node:20", node)
	push("otherorg/node:20", other)
	t.want["GET /v2/library/node/manifests/"+registrytest.Digest(tb, node)] = 1
	t.want["GET /v2/otherorg/node/manifests/"+registrytest.Digest(tb, other)] = 1
	config("otherorg/node", other) // non-root: the user of an image the catalog does not know
	// The registry client pings the registry once.
	t.want["GET /v2/"] = 1
	t.srv.Reset()
	return t
}

// options runs every rule against the tree's registry, which stands in as
// a mirror of Docker Hub and of registry.example.com, with a disk cache in
// cacheDir ("" for none).
func (t *onlineTree) options(cacheDir string) harden.Options {
	return harden.Options{Jobs: runtime.GOMAXPROCS(0), Registry: harden.Registry{
		Mirrors: []harden.Mirror{
			{Host: "docker.io", Mirror: t.srv.Host},
			{Host: "registry.example.com", Mirror: t.srv.Host},
		},
		Insecure: []string{t.srv.Host},
		Timeout:  30 * time.Second,
		CacheDir: cacheDir,
		NoCache:  cacheDir == "",
	}}
}

// requests returns the requests since the last Reset by "METHOD /path",
// and resets.
func (t *onlineTree) requests() map[string]int {
	got := map[string]int{}
	for _, r := range t.srv.Requests() {
		got[r.Method+" "+r.Path]++
	}
	t.srv.Reset()
	return got
}

// checkRequests fails unless got is exactly want.
func checkRequests(tb testing.TB, got, want map[string]int) {
	tb.Helper()
	var diff []string
	for k, n := range want {
		if got[k] != n {
			diff = append(diff, fmt.Sprintf("%s: %d requests, want %d", k, got[k], n))
		}
	}
	for k, n := range got {
		if _, ok := want[k]; !ok {
			diff = append(diff, fmt.Sprintf("%s: %d requests, want none", k, n))
		}
	}
	if len(diff) > 0 {
		sort.Strings(diff)
		tb.Fatalf("requests of the run:\n%s", strings.Join(diff, "\n"))
	}
}

// runOnline runs the command over the tree with opts and returns its diff.
func (t *onlineTree) run(tb testing.TB, opts harden.Options) string {
	tb.Helper()
	h, err := harden.New(opts)
	if err != nil {
		tb.Fatal(err)
	}
	var out, errs strings.Builder
	if code := run(context.Background(), &options{paths: []string{t.root}, mode: modeDiff, quiet: true, harden: h}, &out, &errs); code != exitOK {
		tb.Fatalf("exit %d: %s", code, errs.String())
	}
	if s := h.Remote().Stats(); s.Failures != 0 {
		tb.Fatalf("%d lookups failed", s.Failures)
	}
	return out.String()
}

// TestOnlineRequests checks what BenchmarkTreeOnline measures: a cold run
// makes one manifest HEAD per unique reference plus the GETs rebase needs,
// a run with a warm disk cache makes none and prints the same diff, and
// every FROM is pinned.
func TestOnlineRequests(t *testing.T) {
	tree := newOnlineTree(t, 100)
	cold := tree.run(t, tree.options(""))
	checkRequests(t, tree.requests(), tree.want)
	if n := strings.Count(cold, "+FROM "); n != 2*tree.files {
		t.Errorf("%d FROM lines pinned, want %d", n, 2*tree.files)
	}

	cache := t.TempDir()
	if fill := tree.run(t, tree.options(cache)); fill != cold {
		t.Fatal("the run that fills the cache prints another diff than the cold run")
	}
	checkRequests(t, tree.requests(), tree.want)
	if warm := tree.run(t, tree.options(cache)); warm != cold {
		t.Fatal("the warm run prints another diff than the cold run")
	}
	checkRequests(t, tree.requests(), map[string]int{})
}

// BenchmarkTreeOnline runs the command with every rule over 1,000 generated
// files whose images are all in the in-process registry, with as many jobs
// as -cpu allows:
//
//   - offline: no registry at all, the baseline;
//   - warm: a disk cache that holds every answer; each run must make zero
//     requests (the target is within 1.2× the offline time);
//   - cold: no disk cache; each run must make exactly one manifest HEAD per
//     unique reference and the GETs rebase needs (TestOnlineRequests).
func BenchmarkTreeOnline(b *testing.B) {
	tree := newOnlineTree(b, 1000)
	b.Run("offline", func(b *testing.B) {
		opts := tree.options("")
		opts.Offline = true
		benchTree(b, tree.root, opts, nil)
	})
	cache := b.TempDir()
	tree.run(b, tree.options(cache))
	tree.requests()
	b.Run("warm", func(b *testing.B) {
		benchTree(b, tree.root, tree.options(cache), func(b *testing.B) {
			checkRequests(b, tree.requests(), map[string]int{})
		})
	})
	b.Run("cold", func(b *testing.B) {
		benchTree(b, tree.root, tree.options(""), func(b *testing.B) {
			checkRequests(b, tree.requests(), tree.want)
		})
	})
}
