package registry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/hardenfix/hardenfix/pkg/registry/registrytest"
)

// seedNode pushes docker.io/library/node:20-slim as a two-platform index
// (linux/amd64 runs as node, linux/arm64/v8 as root) and
// library/node:20-single as a single linux/amd64 image.
func seedNode(t *testing.T, tr *testRegistry) (idxDigest string, amd64Layers []string) {
	t.Helper()
	amd := testImage(t, imageSpec{seed: 1, os: "linux", arch: "amd64", user: "node", workdir: "/home/node",
		entrypoint: []string{"docker-entrypoint.sh"}, labels: map[string]string{"org.opencontainers.image.vendor": "node"}})
	arm := testImage(t, imageSpec{seed: 2, os: "linux", arch: "arm64", variant: "v8", user: "root"})
	idx := testIndex(t, amd, arm)
	tr.pushIndex(t, "library/node:20-slim", idx)
	tr.push(t, "library/node:20-single", amd)
	layers, err := amd.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range layers {
		d, _ := l.Digest()
		amd64Layers = append(amd64Layers, d.String())
	}
	tr.reset()
	return digestOf(t, idx), amd64Layers
}

func TestRemoteAnswers(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "tls"}[useTLS], func(t *testing.T) {
			tr := newTestRegistry(t, useTLS)
			want, layers := seedNode(t, tr)
			r := tr.remote()
			ctx := context.Background()

			got, err := r.Digest(ctx, "node:20-slim")
			if err != nil || got != want {
				t.Fatalf("Digest = %q, %v; want %q", got, err, want)
			}
			if n := tr.count("HEAD", "/v2/library/node/manifests/20-slim"); n != 1 {
				t.Errorf("HEAD requests on the mirror = %d, want 1", n)
			}

			plats, err := r.Platforms(ctx, "node:20-slim")
			wantPlats := []Platform{{OS: "linux", Architecture: "amd64"}, {OS: "linux", Architecture: "arm64", Variant: "v8"}}
			if err != nil || !reflect.DeepEqual(plats, wantPlats) {
				t.Errorf("Platforms = %v, %v; want %v", plats, err, wantPlats)
			}

			cfg, err := r.Config(ctx, "node:20-slim", Platform{})
			if err != nil {
				t.Fatal(err)
			}
			if cfg.User != "node" || cfg.OS != "linux" || !reflect.DeepEqual(cfg.Entrypoint, []string{"docker-entrypoint.sh"}) || cfg.Labels["org.opencontainers.image.vendor"] != "node" || cfg.WorkingDir != "/home/node" {
				t.Errorf("Config(default platform) = %+v", cfg)
			}
			cfg, err = r.Config(ctx, "node:20-slim", Platform{OS: "linux", Architecture: "arm64"})
			if err != nil || cfg.User != "root" || cfg.WorkingDir != "" {
				t.Errorf("Config(linux/arm64) = %+v, %v; want user root and no WorkingDir", cfg, err)
			}

			gotLayers, err := r.Layers(ctx, "docker.io/library/node:20-slim", Platform{OS: "linux", Architecture: "amd64"})
			if err != nil || !reflect.DeepEqual(gotLayers, layers) {
				t.Errorf("Layers = %v, %v; want %v", gotLayers, err, layers)
			}

			_, err = r.Config(ctx, "node:20-slim", Platform{OS: "linux", Architecture: "s390x"})
			if !errors.Is(err, ErrPlatformNotFound) {
				t.Errorf("Config(linux/s390x) error = %v, want ErrPlatformNotFound", err)
			}

			// A single image: its platform, its config, and a refusal for
			// another platform.
			plats, err = r.Platforms(ctx, "node:20-single")
			if err != nil || !reflect.DeepEqual(plats, wantPlats[:1]) {
				t.Errorf("Platforms(single) = %v, %v", plats, err)
			}
			if _, err := r.Layers(ctx, "node:20-single", Platform{OS: "linux", Architecture: "arm64"}); !errors.Is(err, ErrPlatformNotFound) {
				t.Errorf("Layers(single, arm64) error = %v, want ErrPlatformNotFound", err)
			}

			// Everything was asked once: one HEAD per tag, each manifest
			// and config blob fetched once however many answers use it.
			if n := tr.count("HEAD", "/manifests/"); n != 2 {
				t.Errorf("HEAD manifest requests = %d, want 2 (one per tag)", n)
			}
			// The single image is the index's amd64 image: same digest,
			// same repository, fetched once.
			if n := tr.count("GET", "/manifests/"); n != 3 {
				t.Errorf("GET manifest requests = %d, want 3 (index, amd64, arm64)", n)
			}
			if n := tr.count("GET", "/blobs/"); n != 2 {
				t.Errorf("GET blob requests = %d, want 2 (the two configs)", n)
			}
		})
	}
}

func TestDigestOfReferenceWithDigest(t *testing.T) {
	tr := newTestRegistry(t, false)
	r := tr.remote()
	const d = "sha256:0123456789012345678901234567890123456789012345678901234567890123"
	got, err := r.Digest(context.Background(), "node:20@"+d)
	if err != nil || got != d {
		t.Fatalf("Digest = %q, %v", got, err)
	}
	if n := tr.total(); n != 0 {
		t.Errorf("requests = %d, want 0: the digest was in the reference", n)
	}
}

func TestOneRequestPerReference(t *testing.T) {
	tr := newTestRegistry(t, false)
	want, _ := seedNode(t, tr)
	r := tr.remote()

	// 20 concurrent callers, three spellings of one reference.
	spellings := []string{"node:20-slim", "docker.io/library/node:20-slim", "index.docker.io/library/node:20-slim"}
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		wg.Go(func() {
			got, err := r.Digest(context.Background(), spellings[i%len(spellings)])
			if err == nil && got != want {
				err = fmt.Errorf("got %s, want %s", got, want)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := tr.count("", "/manifests/"); n != 1 {
		t.Errorf("manifest requests = %d, want 1", n)
	}
	if n := tr.total(); n != 2 {
		t.Errorf("requests = %d, want 2 (one ping, one HEAD): %v", n, tr.Requests())
	}
	// Stats also counts the HTTPS ping the plain server cannot answer
	// (insecure hosts are tried with HTTPS first, as Docker does).
	if s := r.Stats(); s.Requests != 3 || s.Lookups != 1 || s.Failures != 0 {
		t.Errorf("Stats = %+v", s)
	}
}

func TestFiftyReferencesFiftyRequests(t *testing.T) {
	tr := newTestRegistry(t, false)
	refs := seedFifty(t, tr)
	r := tr.remote()
	var wg sync.WaitGroup
	for i := range 1000 {
		wg.Go(func() {
			if _, err := r.Digest(context.Background(), refs[i%len(refs)]); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := tr.count("HEAD", "/manifests/"); n != 50 {
		t.Errorf("HEAD manifest requests = %d, want 50", n)
	}
	if n := tr.total(); n != 51 {
		t.Errorf("requests = %d, want 51 (one ping of the host, 50 HEADs)", n)
	}
}

// seedFifty pushes 50 tags across 10 repositories, each a random.Index of
// two images from fixed seeds, and returns their short names.
func seedFifty(tb testing.TB, tr *testRegistry) []string {
	tb.Helper()
	var refs []string
	for i := range 50 {
		idx := seededIndex(tb, int64(100+i))
		repo := fmt.Sprintf("app%d", i%10)
		tag := fmt.Sprintf("1.%d", i)
		tr.pushIndex(tb, "library/"+repo+":"+tag, idx)
		refs = append(refs, repo+":"+tag)
	}
	tr.reset()
	return refs
}

func TestPerHostConcurrencyLimit(t *testing.T) {
	tr := newTestRegistry(t, false)
	refs := seedFifty(t, tr)[:12]
	var mu sync.Mutex
	inFlight, peak := 0, 0
	gate := make(chan struct{})
	var once sync.Once
	tr.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodHead {
			return false
		}
		mu.Lock()
		inFlight++
		peak = max(peak, inFlight)
		if inFlight == MaxRequestsPerHost {
			// Hold the limit's worth of requests a moment: a client
			// that allowed more would send the next one now. A correct
			// client passes however slow the machine; the grace period
			// only bounds how long a broken one is given to show itself.
			once.Do(func() { time.AfterFunc(100*time.Millisecond, func() { close(gate) }) })
		}
		mu.Unlock()
		select {
		case <-gate:
		case <-r.Context().Done():
		}
		mu.Lock()
		inFlight--
		mu.Unlock()
		return false
	})
	r := tr.remote()
	var wg sync.WaitGroup
	for _, ref := range refs {
		wg.Go(func() {
			if _, err := r.Digest(context.Background(), ref); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if peak != MaxRequestsPerHost {
		t.Errorf("peak requests in flight = %d, want %d", peak, MaxRequestsPerHost)
	}
}

func TestTagsPaginate(t *testing.T) {
	tr := newTestRegistry(t, false)
	img := testImage(t, imageSpec{seed: 7, os: "linux", arch: "amd64"})
	var want []string
	for _, tag := range []string{"18", "18-slim", "20", "20-alpine", "22"} {
		tr.push(t, "library/node:"+tag, img)
		want = append(want, tag)
	}
	sort.Strings(want)
	tr.reset()
	tr.setFault(linkPages(tr, ""))
	r := tr.remote()
	r.pageSize = 2
	got, err := r.Tags(context.Background(), "node:20")
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("Tags = %v, %v; want %v", got, err, want)
	}
	if n := tr.count("GET", "/tags/list"); n != 3 {
		t.Errorf("tag list requests = %d, want 3 pages", n)
	}

	// A Link to another host is not followed.
	tr2 := newTestRegistry(t, false)
	tr2.push(t, "library/node:18", img)
	tr2.push(t, "library/node:20", img)
	tr2.push(t, "library/node:22", img)
	tr2.setFault(linkPages(tr2, "http://198.51.100.7"))
	r2 := tr2.remote()
	r2.pageSize = 2
	if _, err := r2.Tags(context.Background(), "node"); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "another host") {
		t.Errorf("Tags with a foreign Link: error = %v, want ErrInvalid naming another host", err)
	}
}

// linkPages adds an RFC 5988 Link header (as Docker Hub sends) to full
// tag-list pages, which go-containerregistry's registry does not do.
func linkPages(tr *testRegistry, prefix string) func(http.ResponseWriter, *http.Request) bool {
	return func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.HasSuffix(r.URL.Path, "/tags/list") {
			return false
		}
		rec := &recorder{header: http.Header{}}
		tr.Registry.ServeHTTP(rec, r)
		var page struct{ Tags []string }
		if err := jsonUnmarshal(rec.body.Bytes(), &page); err == nil && r.URL.Query().Get("n") == fmt.Sprint(len(page.Tags)) {
			q := r.URL.Query()
			q.Set("last", page.Tags[len(page.Tags)-1])
			w.Header().Set("Link", fmt.Sprintf(`<%s%s?%s>; rel="next"`, prefix, r.URL.Path, q.Encode()))
		}
		w.WriteHeader(rec.status)
		w.Write(rec.body.Bytes())
		return true
	}
}

func TestNotFound(t *testing.T) {
	tr := newTestRegistry(t, false)
	seedNode(t, tr)
	r := tr.remote()
	ctx := context.Background()
	_, err := r.Digest(ctx, "node:19")
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("Digest(missing tag) error = %v, want ErrNotFound", err)
	}
	var e *Error
	if !errors.As(err, &e) || e.Ref != "node:19" || e.Host != tr.Host || e.Status != 404 {
		t.Errorf("error = %#v, want Ref node:19, Host %s, Status 404", e, tr.Host)
	}
	if _, err := r.Tags(ctx, "nosuchimage"); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "NAME_UNKNOWN") {
		t.Errorf("Tags(missing repository) error = %v, want ErrNotFound with NAME_UNKNOWN", err)
	}
	// Asking again costs nothing, and not-found is an answer, not a failure.
	before := tr.total()
	r.Digest(ctx, "node:19")
	if tr.total() != before {
		t.Errorf("a repeated not-found lookup sent %d requests", tr.total()-before)
	}
	if s := r.Stats(); s.Failures != 0 {
		t.Errorf("Failures = %d, want 0", s.Failures)
	}
}

func TestMirrorAndInsecureSpellings(t *testing.T) {
	tr := newTestRegistry(t, false)
	want, _ := seedNode(t, tr)
	tr.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		// Serve hub-proxy/library/node as library/node, as a proxy
		// project would.
		r.URL.Path = strings.Replace(r.URL.Path, "/v2/hub-proxy/", "/v2/", 1)
		return false
	})
	for name, opts := range map[string][]Option{
		"mirror as http URL":         {WithMirror("docker.io", "http://"+tr.Host+"/")},
		"insecure host without port": {WithMirror("index.docker.io", tr.Host), WithInsecure("127.0.0.1")},
		"mirror with a path":         {WithMirror("docker.io", "http://"+tr.Host+"/hub-proxy")},
	} {
		r := NewRemote(append(opts, WithTransport(tr.Srv.Client().Transport), WithKeychain(authn.NewMultiKeychain()))...)
		got, err := r.Digest(context.Background(), "docker.io/library/node:20-slim")
		if err != nil || got != want {
			t.Errorf("%s: Digest = %q, %v; want %q", name, got, err, want)
		}
	}
	if n := tr.count("HEAD", "/v2/hub-proxy/library/node/manifests/20-slim"); n != 1 {
		t.Errorf("HEAD requests under the mirror's path = %d, want 1", n)
	}
	// Another registry is not mirrored: the mirror never hears of it.
	r := tr.remote()
	before := tr.total()
	var e *Error
	if _, err := r.Digest(context.Background(), "127.0.0.2:1/node:20"); !errors.As(err, &e) || e.Host != "127.0.0.2:1" {
		t.Errorf("unmirrored registry: error = %v, want one naming 127.0.0.2:1", err)
	}
	if tr.total() != before {
		t.Errorf("the mirror got %d requests for another registry", tr.total()-before)
	}
}

func TestAnswersAreCopies(t *testing.T) {
	tr := newTestRegistry(t, false)
	seedNode(t, tr)
	r := tr.remote()
	ctx := context.Background()
	cfg, err := r.Config(ctx, "node:20-slim", Platform{})
	if err != nil {
		t.Fatal(err)
	}
	cfg.User, cfg.Entrypoint[0], cfg.Labels["x"] = "root", "sh", "y"
	tags, err := r.Tags(ctx, "node")
	if err != nil {
		t.Fatal(err)
	}
	tags[0] = "changed"
	cfg2, _ := r.Config(ctx, "node:20-slim", Platform{})
	tags2, _ := r.Tags(ctx, "node")
	if cfg2.User != "node" || cfg2.Entrypoint[0] != "docker-entrypoint.sh" || cfg2.Labels["x"] != "" || tags2[0] == "changed" {
		t.Errorf("a caller's changes leaked into the memo: %+v, %v", cfg2, tags2)
	}
}

func TestUserAgent(t *testing.T) {
	tr := newTestRegistry(t, false)
	seedNode(t, tr)
	var mu sync.Mutex
	agents := map[string]bool{}
	tr.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		mu.Lock()
		agents[r.UserAgent()] = true
		mu.Unlock()
		return false
	})
	if _, err := tr.remote(WithUserAgent("hardenfix/1.2.3")).Config(context.Background(), "node:20-slim", Platform{}); err != nil {
		t.Fatal(err)
	}
	if len(agents) != 1 || !agents["hardenfix/1.2.3"] {
		t.Errorf("User-Agent headers seen = %v, want only hardenfix/1.2.3", agents)
	}
}

// The facts rebase needs: a re-tag has the official image's layers, an
// image built on it has them first and then its own.
func TestLayersShowRetagAndBuiltOn(t *testing.T) {
	tr := newTestRegistry(t, false)
	official := registrytest.Image(t, registrytest.Spec{Seed: 31})
	tr.push(t, "library/python:3.11", official)
	tr.push(t, "someone/python:3.11", official)
	tr.push(t, "someone/python-s6:3.11", registrytest.Image(t, registrytest.Spec{Seed: 32, Base: official, Layers: 3, User: "app"}))
	tr.reset()
	r := tr.remote()
	ctx := context.Background()
	base, err := r.Layers(ctx, "python:3.11", Platform{})
	if err != nil || len(base) != 2 {
		t.Fatalf("Layers(python:3.11) = %v, %v", base, err)
	}
	retag, err := r.Layers(ctx, "someone/python:3.11", Platform{})
	if err != nil || !reflect.DeepEqual(retag, base) {
		t.Errorf("Layers(re-tag) = %v, %v; want %v", retag, err, base)
	}
	built, err := r.Layers(ctx, "someone/python-s6:3.11", Platform{OS: "linux", Architecture: "amd64"})
	if err != nil || len(built) != 5 || !reflect.DeepEqual(built[:2], base) {
		t.Errorf("Layers(built on) = %v, %v; want %v then 3 more", built, err, base)
	}
	cfg, err := r.Config(ctx, "someone/python-s6:3.11", Platform{})
	if err != nil || cfg.User != "app" {
		t.Errorf("Config(built on) = %+v, %v", cfg, err)
	}
}

func TestNextPage(t *testing.T) {
	req := &http.Request{URL: mustURL(t, "https://reg.example/v2/library/node/tags/list?n=2")}
	tests := []struct {
		links   []string
		want    string
		wantErr bool
	}{
		{nil, "", false},
		{[]string{`</v2/library/node/tags/list?n=2&last=20>; rel="next"`}, "https://reg.example/v2/library/node/tags/list?n=2&last=20", false},
		{[]string{`</v2/x?last=1>; rel="prev", </v2/x?last=9>; rel="next"`}, "https://reg.example/v2/x?last=9", false},
		{[]string{`</v2/x?last=1>; rel="prev"`}, "", false},
		{[]string{`<https://reg.example/v2/y?last=3>; rel=next`}, "https://reg.example/v2/y?last=3", false},
		{[]string{`<https://evil.example/v2/y>; rel="next"`}, "", true},
		{[]string{`<http://reg.example/v2/y>; rel="next"`}, "", true},
	}
	for _, tc := range tests {
		resp := &http.Response{Header: http.Header{"Link": tc.links}, Request: req}
		got, err := nextPage(resp)
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("Link %q: nextPage = %q, %v; want %q (error %v)", tc.links, got, err, tc.want, tc.wantErr)
		}
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
