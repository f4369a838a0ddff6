package registry

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
)

// bearerAuth makes the registry demand a bearer token, which its /token
// endpoint gives for user:pass only (as Docker Hub's auth service does).
func bearerAuth(tr *testRegistry, user, pass string) func(http.ResponseWriter, *http.Request) bool {
	return func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/token" {
			u, p, ok := r.BasicAuth()
			if !ok || u != user || p != pass {
				w.WriteHeader(http.StatusUnauthorized)
				return true
			}
			json.NewEncoder(w).Encode(map[string]string{"token": "tok-" + user})
			return true
		}
		if r.Header.Get("Authorization") != "Bearer tok-"+user {
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="%s/token",service="test"`, tr.Srv.URL))
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`))
			return true
		}
		return false
	}
}

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

func TestBearerAuth(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "tls"}[useTLS], func(t *testing.T) {
			tr := newTestRegistry(t, useTLS)
			want, _ := seedNode(t, tr)
			tr.setFault(bearerAuth(tr, "alice", "s3cret"))

			// Without credentials: auth required, and said so.
			r := tr.remote()
			_, err := r.Digest(context.Background(), "node:20-slim")
			if !errors.Is(err, ErrAuth) {
				t.Fatalf("anonymous Digest error = %v, want ErrAuth", err)
			}
			if n := tr.count("HEAD", "/manifests/"); n != 0 {
				t.Errorf("manifest requests without a token = %d, want 0", n)
			}

			// With the mirror's credentials (and Docker Hub's, which must
			// never reach the mirror).
			tr.reset()
			r = tr.remote(WithKeychain(keychain{
				tr.Host:           {Username: "alice", Password: "s3cret"},
				"index.docker.io": {Username: "hub", Password: "hubsecret"},
			}))
			got, err := r.Digest(context.Background(), "node:20-slim")
			if err != nil || got != want {
				t.Fatalf("Digest = %q, %v; want %q", got, err, want)
			}
			if _, err := r.Config(context.Background(), "node:20-slim", Platform{}); err != nil {
				t.Fatal(err)
			}
			sawToken := false
			for _, req := range tr.Requests() {
				a := req.Authorization
				if strings.Contains(a, basic("hub", "hubsecret")[6:]) {
					t.Errorf("request %s %s carried Docker Hub's credentials to the mirror", req.Method, req.Path)
				}
				if req.Method == "GET" && req.Path == "/token" && a == basic("alice", "s3cret") {
					sawToken = true
				}
				if strings.Contains(req.Path, "/manifests/") && a != "Bearer tok-alice" {
					t.Errorf("request %s %s had Authorization %q, want the bearer token", req.Method, req.Path, a)
				}
			}
			if !sawToken {
				t.Errorf("no token request with the mirror's credentials: %v", tr.Requests())
			}
		})
	}
}

// A registry that redirects blob downloads to another host (as registries
// backed by object storage do) must not get our credentials forwarded.
func TestCredentialsStayOnTheirHost(t *testing.T) {
	tr := newTestRegistry(t, false)
	seedNode(t, tr)
	var mu sync.Mutex
	var otherAuth []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		otherAuth = append(otherAuth, r.Header.Get("Authorization"))
		mu.Unlock()
		tr.Registry.ServeHTTP(w, r)
	}))
	defer other.Close()
	otherHost := strings.TrimPrefix(other.URL, "http://")

	auth := bearerAuth(tr, "alice", "s3cret")
	tr.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		if auth(w, r) {
			return true
		}
		if strings.Contains(r.URL.Path, "/blobs/") {
			http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
			return true
		}
		return false
	})
	r := tr.remote(WithInsecure(otherHost), WithKeychain(keychain{
		tr.Host:   {Username: "alice", Password: "s3cret"},
		otherHost: {Username: "eve", Password: "other"},
	}))
	cfg, err := r.Config(context.Background(), "node:20-slim", Platform{})
	if err != nil || cfg.User != "node" {
		t.Fatalf("Config = %+v, %v", cfg, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(otherAuth) != 1 {
		t.Fatalf("requests to the blob host = %d, want 1", len(otherAuth))
	}
	if otherAuth[0] != "" {
		t.Errorf("the blob host got Authorization %q, want none", otherAuth[0])
	}
}

func TestRateLimited(t *testing.T) {
	tests := []struct {
		name       string
		answers    []string // Retry-After of each 429 in turn ("-" for none); then success
		always     bool     // 429 forever
		wantHeads  int
		wantErr    bool
		retryAfter time.Duration
	}{
		{name: "retry-after 0, then success", answers: []string{"0", "0"}, wantHeads: 3},
		{name: "no retry-after, retries exhausted", answers: []string{"-"}, always: true, wantHeads: 3, wantErr: true},
		{name: "retry-after beyond the budget is not waited for", answers: []string{"30"}, always: true, wantHeads: 1, wantErr: true, retryAfter: 30 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTestRegistry(t, false)
			want, _ := seedNode(t, tr)
			var n atomic.Int32
			tr.setFault(func(w http.ResponseWriter, r *http.Request) bool {
				if r.Method != http.MethodHead {
					return false
				}
				i := int(n.Add(1)) - 1
				if i >= len(tc.answers) && !tc.always {
					return false
				}
				if ra := tc.answers[min(i, len(tc.answers)-1)]; ra != "-" {
					w.Header().Set("Retry-After", ra)
				}
				w.WriteHeader(http.StatusTooManyRequests)
				return true
			})
			r := tr.remote()
			got, err := r.Digest(context.Background(), "node:20-slim")
			if heads := tr.count("HEAD", "/manifests/"); heads != tc.wantHeads {
				t.Errorf("HEAD requests = %d, want %d", heads, tc.wantHeads)
			}
			if !tc.wantErr {
				if err != nil || got != want {
					t.Fatalf("Digest = %q, %v; want %q", got, err, want)
				}
				return
			}
			var e *Error
			if !errors.Is(err, ErrRateLimited) || !errors.As(err, &e) {
				t.Fatalf("error = %v, want ErrRateLimited", err)
			}
			if e.RetryAfter != tc.retryAfter {
				t.Errorf("RetryAfter = %v, want %v", e.RetryAfter, tc.retryAfter)
			}
			if tc.retryAfter > 0 && !strings.Contains(err.Error(), "asked to wait "+tc.retryAfter.String()) {
				t.Errorf("message %q does not say how long the registry asked to wait", err)
			}
			if s := r.Stats(); s.Failures != 1 {
				t.Errorf("Failures = %d, want 1", s.Failures)
			}
		})
	}
}

func TestRetryWait(t *testing.T) {
	tt := &hostTransport{retry: RetryPolicy{Retries: 2, MaxWait: 10 * time.Second, Backoff: 500 * time.Millisecond}}
	resp := func(status int, retryAfter string) *http.Response {
		h := http.Header{}
		if retryAfter != "" {
			h.Set("Retry-After", retryAfter)
		}
		return &http.Response{StatusCode: status, Header: h}
	}
	date := time.Now().Add(4 * time.Second).UTC().Format(http.TimeFormat)
	tests := []struct {
		name    string
		resp    *http.Response
		attempt int
		waited  time.Duration
		want    time.Duration
		ok      bool
	}{
		{"429 says 3s", resp(429, "3"), 0, 0, 3 * time.Second, true},
		{"429 says an HTTP date", resp(429, date), 0, 0, 4 * time.Second, true},
		{"429 silent: backoff", resp(429, ""), 0, 0, 500 * time.Millisecond, true},
		{"429 silent, second retry: doubled", resp(429, ""), 1, 0, time.Second, true},
		{"retries used up", resp(429, "1"), 2, 0, 0, false},
		{"over the total wait", resp(429, "8"), 1, 3 * time.Second, 0, false},
		{"503 says 2s", resp(503, "2"), 0, 0, 2 * time.Second, true},
		{"500 backoff", resp(500, ""), 0, 0, 500 * time.Millisecond, true},
		{"404 is not retried", resp(404, ""), 0, 0, 0, false},
		{"401 is not retried", resp(401, "1"), 0, 0, 0, false},
	}
	for _, tc := range tests {
		got, ok := tt.retryWait(tc.resp, tc.attempt, tc.waited)
		// An HTTP date has one-second resolution.
		if ok != tc.ok || (got != tc.want && !(tc.want-got < time.Second && got <= tc.want)) {
			t.Errorf("%s: retryWait = %v, %v; want %v, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

func TestServerErrors(t *testing.T) {
	tests := []struct {
		name      string
		failures  int // 5xx answers before the registry recovers; -1 forever
		status    int
		wantHeads int
		wantErr   error
	}{
		{"503 once, then success", 1, http.StatusServiceUnavailable, 2, nil},
		{"500 forever", -1, http.StatusInternalServerError, 3, ErrServer},
		{"502 forever", -1, http.StatusBadGateway, 3, ErrServer},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTestRegistry(t, false)
			want, _ := seedNode(t, tr)
			var n atomic.Int32
			tr.setFault(func(w http.ResponseWriter, r *http.Request) bool {
				if r.Method != http.MethodHead || (tc.failures >= 0 && int(n.Add(1)) > tc.failures) {
					return false
				}
				w.WriteHeader(tc.status)
				return true
			})
			r := tr.remote()
			got, err := r.Digest(context.Background(), "node:20-slim")
			if heads := tr.count("HEAD", "/manifests/"); heads != tc.wantHeads {
				t.Errorf("HEAD requests = %d, want %d", heads, tc.wantHeads)
			}
			if tc.wantErr == nil {
				if err != nil || got != want {
					t.Errorf("Digest = %q, %v; want %q", got, err, want)
				}
				return
			}
			var e *Error
			if !errors.Is(err, tc.wantErr) || !errors.As(err, &e) || e.Status != tc.status {
				t.Errorf("error = %v, want %v with status %d", err, tc.wantErr, tc.status)
			}
		})
	}
}

func TestTimeout(t *testing.T) {
	tests := []struct {
		name string
		// hang is where the handler stops: before the headers, or in the
		// middle of the body.
		hang func(w http.ResponseWriter, r *http.Request) bool
	}{
		{"no answer", func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method != http.MethodHead {
				return false
			}
			<-r.Context().Done()
			return true
		}},
		{"body stalls", func(w http.ResponseWriter, r *http.Request) bool {
			if strings.Contains(r.URL.Path, "/manifests/") && r.Method == http.MethodHead {
				w.Header().Set("Content-Type", "application/vnd.oci.image.index.v1+json")
				w.Header().Set("Content-Length", "1000")
				return true // no digest: the client falls back to GET
			}
			if strings.Contains(r.URL.Path, "/manifests/") {
				w.Header().Set("Content-Length", "1000")
				w.Write([]byte(`{"schemaVersion":2,`))
				w.(http.Flusher).Flush()
				<-r.Context().Done()
				return true
			}
			return false
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTestRegistry(t, false)
			seedNode(t, tr)
			tr.setFault(tc.hang)
			r := tr.remote(WithTimeout(100 * time.Millisecond))
			_, err := r.Digest(context.Background(), "node:20-slim")
			if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "100ms") {
				t.Fatalf("error = %v, want ErrTimeout naming the 100ms timeout", err)
			}
			if n := tr.count("", "/manifests/"); n > 2 {
				t.Errorf("manifest requests = %d: a timeout must not be retried", n)
			}
		})
	}
}

func TestHeadWithoutDigestFallsBackToGet(t *testing.T) {
	tr := newTestRegistry(t, false)
	want, _ := seedNode(t, tr)
	tr.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodHead {
			return false
		}
		tr.Registry.ServeHTTP(stripDigest{w}, r)
		return true
	})
	r := tr.remote()
	got, err := r.Digest(context.Background(), "node:20-slim")
	if err != nil || got != want {
		t.Fatalf("Digest = %q, %v; want %q", got, err, want)
	}
	if h, g := tr.count("HEAD", "/manifests/"), tr.count("GET", "/manifests/"); h != 1 || g != 1 {
		t.Errorf("HEAD, GET = %d, %d; want 1, 1", h, g)
	}
}

// stripDigest drops Docker-Content-Digest from an answer.
type stripDigest struct{ http.ResponseWriter }

func (s stripDigest) WriteHeader(code int) {
	s.Header().Del("Docker-Content-Digest")
	s.ResponseWriter.WriteHeader(code)
}

func TestDigestMismatch(t *testing.T) {
	tr := newTestRegistry(t, false)
	seedNode(t, tr)
	const lie = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	tr.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.Contains(r.URL.Path, "/manifests/") {
			return false
		}
		if r.Method == http.MethodHead {
			tr.Registry.ServeHTTP(stripDigest{w}, r)
			return true
		}
		tr.Registry.ServeHTTP(setDigest{w, lie}, r)
		return true
	})
	r := tr.remote()
	_, err := r.Digest(context.Background(), "node:20-slim")
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), lie) {
		t.Fatalf("error = %v, want ErrInvalid naming the digest the registry claimed", err)
	}
}

type setDigest struct {
	http.ResponseWriter
	digest string
}

func (s setDigest) WriteHeader(code int) {
	s.Header().Set("Docker-Content-Digest", s.digest)
	s.ResponseWriter.WriteHeader(code)
}

func TestOversizedManifest(t *testing.T) {
	for _, declared := range []bool{true, false} {
		t.Run(fmt.Sprintf("content-length=%v", declared), func(t *testing.T) {
			tr := newTestRegistry(t, false)
			seedNode(t, tr)
			big := `{"schemaVersion":2,"pad":"` + strings.Repeat("x", DefaultMaxManifestSize) + `"}`
			tr.setFault(func(w http.ResponseWriter, r *http.Request) bool {
				if !strings.Contains(r.URL.Path, "/manifests/") {
					return false
				}
				w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
				if r.Method == http.MethodHead {
					return true // no digest: the client falls back to GET
				}
				if declared {
					w.Header().Set("Content-Length", fmt.Sprint(len(big)))
				}
				w.Write([]byte(big))
				return true
			})
			r := tr.remote()
			_, err := r.Digest(context.Background(), "node:20-slim")
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "limit") {
				t.Fatalf("error = %v, want ErrInvalid about the size limit", err)
			}
		})
	}
}

func TestTLSFailures(t *testing.T) {
	t.Run("untrusted certificate", func(t *testing.T) {
		tr := newTestRegistry(t, true)
		seedNode(t, tr)
		// The default transport does not trust httptest's certificate.
		r := NewRemote(WithMirror("docker.io", tr.Host), WithKeychain(authn.NewMultiKeychain()))
		_, err := r.Digest(context.Background(), "node:20-slim")
		if !errors.Is(err, ErrTLS) {
			t.Fatalf("error = %v, want ErrTLS", err)
		}
		if n := tr.total(); n != 0 {
			t.Errorf("the registry answered %d requests over an untrusted connection", n)
		}
	})
	t.Run("plain HTTP not allowed", func(t *testing.T) {
		tr := newTestRegistry(t, false)
		seedNode(t, tr)
		r := NewRemote(WithMirror("docker.io", tr.Host), WithTransport(tr.Srv.Client().Transport), WithKeychain(authn.NewMultiKeychain()))
		_, err := r.Digest(context.Background(), "node:20-slim")
		if !errors.Is(err, ErrTLS) || !strings.Contains(err.Error(), "--insecure-registry "+tr.Host) {
			t.Fatalf("error = %v, want ErrTLS suggesting --insecure-registry", err)
		}
		if n := tr.total(); n != 0 {
			t.Errorf("the registry answered %d plain-HTTP requests", n)
		}
	})
}

func TestUnreachable(t *testing.T) {
	tr := newTestRegistry(t, false)
	tr.Srv.Close()
	r := tr.remote()
	_, err := r.Digest(context.Background(), "node:20-slim")
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("error = %v, want ErrUnreachable", err)
	}
	if s := r.Stats(); s.Failures != 1 {
		t.Errorf("Failures = %d, want 1", s.Failures)
	}
}

func TestCallerCancelDoesNotPoisonOthers(t *testing.T) {
	tr := newTestRegistry(t, false)
	want, _ := seedNode(t, tr)
	release := make(chan struct{})
	tr.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodHead {
			<-release
		}
		return false
	})
	r := tr.remote()
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() {
		_, err := r.Digest(ctx, "node:20-slim")
		first <- err
	}()
	for tr.count("HEAD", "/manifests/") == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-first; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller got %v", err)
	}
	close(release)
	got, err := r.Digest(context.Background(), "node:20-slim")
	if err != nil || got != want {
		t.Fatalf("second caller: Digest = %q, %v; want %q", got, err, want)
	}
	if n := tr.count("HEAD", "/manifests/"); n != 1 {
		t.Errorf("HEAD requests = %d, want 1: the shared request carried on", n)
	}
}

type brokenKeychain struct{}

func (brokenKeychain) Resolve(authn.Resource) (authn.Authenticator, error) {
	return nil, errors.New("config.json: unexpected end of JSON input")
}

func TestBrokenCredentialStoreIsAnAuthError(t *testing.T) {
	tr := newTestRegistry(t, false)
	seedNode(t, tr)
	_, err := tr.remote(WithKeychain(brokenKeychain{})).Digest(context.Background(), "node:20-slim")
	if !errors.Is(err, ErrAuth) || !strings.Contains(err.Error(), "config.json") {
		t.Errorf("error = %v, want ErrAuth naming the broken store", err)
	}
}

// A stopped or hung registry costs one failed request per run, not one per
// reference: the run must finish quickly and say why for every reference.
func TestDownHostFailsFast(t *testing.T) {
	refs := []string{"node:20", "python:3.12", "golang:1.23"}
	t.Run("stopped", func(t *testing.T) {
		tr := newTestRegistry(t, false)
		tr.Srv.Close()
		r := tr.remote()
		for _, ref := range refs {
			if _, err := r.Digest(context.Background(), ref); !errors.Is(err, ErrUnreachable) {
				t.Errorf("%s: error = %v, want ErrUnreachable", ref, err)
			}
		}
		// One HTTPS and one plain-HTTP attempt at the ping, then nothing.
		if s := r.Stats(); s.Requests != 2 || s.Failures != 3 {
			t.Errorf("Stats = %+v, want 2 requests and 3 failures", s)
		}
	})
	t.Run("hung", func(t *testing.T) {
		tr := newTestRegistry(t, false)
		seedNode(t, tr)
		tr.setFault(func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method == http.MethodHead {
				<-r.Context().Done()
				return true
			}
			return false
		})
		r := tr.remote(WithTimeout(100 * time.Millisecond))
		for _, ref := range refs {
			if _, err := r.Digest(context.Background(), ref); !errors.Is(err, ErrTimeout) {
				t.Errorf("%s: error = %v, want ErrTimeout", ref, err)
			}
		}
		if n := tr.count("HEAD", "/manifests/"); n != 1 {
			t.Errorf("HEAD requests = %d, want 1", n)
		}
	})
}
