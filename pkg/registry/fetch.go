package registry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

var manifestAccept = strings.Join([]string{
	string(types.OCIImageIndex),
	string(types.DockerManifestList),
	string(types.OCIManifestSchema1),
	string(types.DockerManifestSchema2),
}, ", ")

// DefaultPlatform is the platform Config and Layers use when given the
// zero Platform.
var DefaultPlatform = Platform{OS: "linux", Architecture: "amd64"}

// Digest returns the digest ref points at: the index digest for a
// multi-platform image. A reference that already holds a digest is
// answered without a request.
func (r *Remote) Digest(ctx context.Context, ref string) (string, error) {
	t, err := r.target(ref)
	if err != nil {
		return "", err
	}
	if d, ok := t.ref.(name.Digest); ok {
		return d.DigestStr(), nil
	}
	return lookup(ctx, r, "digest "+t.ref.Name(), true, func(ctx context.Context) (string, error) {
		d, err := r.headDigest(ctx, t)
		if err != nil {
			return "", r.wrap(ref, t, err)
		}
		return d, nil
	})
}

// clone returns a copy that shares nothing with c (nil for nil).
func (c *ImageConfig) clone() *ImageConfig {
	if c == nil {
		return nil
	}
	out := *c
	out.Entrypoint = slices.Clone(c.Entrypoint)
	out.Cmd = slices.Clone(c.Cmd)
	out.Labels = maps.Clone(c.Labels)
	out.Env = slices.Clone(c.Env)
	return &out
}

// Tags lists every tag of ref's repository, following pagination.
func (r *Remote) Tags(ctx context.Context, ref string) ([]string, error) {
	t, err := r.target(ref)
	if err != nil {
		return nil, err
	}
	tags, err := lookup(ctx, r, "tags "+t.repo.Name(), true, func(ctx context.Context) ([]string, error) {
		tags, err := r.listTags(ctx, t)
		if err != nil {
			return nil, r.wrap(ref, t, err)
		}
		return tags, nil
	})
	return slices.Clone(tags), err // callers may sort what they get
}

// Platforms lists the platforms of ref's index, in index order, leaving
// out attestation manifests; a single image gives its own platform.
func (r *Remote) Platforms(ctx context.Context, ref string) ([]Platform, error) {
	t, dgst, staleErr := r.digestTarget(ctx, ref)
	if dgst == "" {
		return nil, staleErr
	}
	v, err := lookup(ctx, r, "platforms "+dgst, false, func(ctx context.Context) ([]Platform, error) {
		m, err := r.manifest(ctx, t, dgst)
		if err != nil {
			return nil, r.wrap(ref, t, err)
		}
		if m.index != nil {
			var out []Platform
			seen := map[Platform]bool{}
			for _, d := range m.index.Manifests {
				if d.Platform == nil || d.Platform.OS == "unknown" || d.Annotations["vnd.docker.reference.type"] == "attestation-manifest" {
					continue
				}
				p := Platform{OS: d.Platform.OS, Architecture: d.Platform.Architecture, Variant: d.Platform.Variant}
				if !seen[p] {
					seen[p] = true
					out = append(out, p)
				}
			}
			return out, nil
		}
		cf, err := r.configFile(ctx, t, m.image)
		if err != nil {
			return nil, r.wrap(ref, t, err)
		}
		return []Platform{{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant}}, nil
	})
	return keepStale(slices.Clone(v), err, staleErr)
}

// Config returns the config of ref's image for platform. The zero
// platform means DefaultPlatform in an index, and the image itself when
// ref is a single image.
func (r *Remote) Config(ctx context.Context, ref string, platform Platform) (*ImageConfig, error) {
	t, dgst, staleErr := r.digestTarget(ctx, ref)
	if dgst == "" {
		return nil, staleErr
	}
	// "config3": entries cached before WorkingDir (config2) and Env
	// were read lack them, and an empty WorkingDir means "/", so they
	// must not be served.
	v, err := lookup(ctx, r, "config3 "+dgst+" "+platformKey(platform), false, func(ctx context.Context) (*ImageConfig, error) {
		img, cf, err := r.image(ctx, t, dgst, platform, true)
		if err != nil {
			return nil, r.wrap(ref, t, err)
		}
		if cf == nil {
			if cf, err = r.configFile(ctx, t, img); err != nil {
				return nil, r.wrap(ref, t, err)
			}
		}
		c := &ImageConfig{
			User:       cf.Config.User,
			Entrypoint: cf.Config.Entrypoint,
			Cmd:        cf.Config.Cmd,
			Labels:     cf.Config.Labels,
			OS:         cf.OS,
			WorkingDir: cf.Config.WorkingDir,
			Env:        cf.Config.Env,
		}
		return c, nil
	})
	return keepStale(v.clone(), err, staleErr)
}

// Layers returns the layer digests of ref's image for platform (the zero
// platform as for Config), base layer first.
func (r *Remote) Layers(ctx context.Context, ref string, platform Platform) ([]string, error) {
	t, dgst, staleErr := r.digestTarget(ctx, ref)
	if dgst == "" {
		return nil, staleErr
	}
	v, err := lookup(ctx, r, "layers "+dgst+" "+platformKey(platform), false, func(ctx context.Context) ([]string, error) {
		img, _, err := r.image(ctx, t, dgst, platform, false)
		if err != nil {
			return nil, r.wrap(ref, t, err)
		}
		out := make([]string, len(img.Layers))
		for i, l := range img.Layers {
			out[i] = l.Digest.String()
		}
		return out, nil
	})
	return keepStale(slices.Clone(v), err, staleErr)
}

// digestTarget resolves ref to its digest (one memoised lookup) so that
// everything else is addressed by digest and can be cached for good.
func (r *Remote) digestTarget(ctx context.Context, ref string) (target, string, error) {
	t, err := r.target(ref)
	if err != nil {
		return target{}, "", err
	}
	d, err := r.Digest(ctx, ref)
	if _, stale := IsStale(err); err != nil && !stale {
		return target{}, "", err
	}
	return t, d, err
}

// keepStale returns v with staleErr when the lookup that used a stale
// digest succeeded, so the caller still learns the digest was stale.
func keepStale[T any](v T, err, staleErr error) (T, error) {
	if err == nil && staleErr != nil {
		return v, staleErr
	}
	return v, err
}

// headDigest asks for the digest with HEAD; when the answer lacks
// Docker-Content-Digest (or HEAD is not allowed) it GETs the manifest and
// hashes it.
func (r *Remote) headDigest(ctx context.Context, t target) (string, error) {
	c, err := r.client(ctx, t.repo)
	if err != nil {
		return "", err
	}
	u := r.url(t.repo, "manifests", t.ref.Identifier())
	resp, err := r.do(ctx, c, http.MethodHead, u, manifestAccept)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusOK:
		if h, err := v1.NewHash(resp.Header.Get("Docker-Content-Digest")); err == nil {
			return h.String(), nil
		}
	case resp.StatusCode == http.StatusMethodNotAllowed || resp.StatusCode == http.StatusNotImplemented:
	default:
		return "", responseError(resp)
	}
	body, _, err := r.getManifest(ctx, c, u, "")
	if err != nil {
		return "", err
	}
	return sha256Digest(body), nil
}

func sha256Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// getManifest GETs a manifest, refusing one above the size limit, and
// checks its hash: against want when given (fetch by digest), else against
// the Docker-Content-Digest the registry sent, if any.
func (r *Remote) getManifest(ctx context.Context, c *http.Client, u, want string) ([]byte, string, error) {
	resp, err := r.do(ctx, c, http.MethodGet, u, manifestAccept)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, "", responseError(resp)
	}
	body, err := r.readLimited(resp, "manifest")
	if err != nil {
		return nil, "", err
	}
	got := sha256Digest(body)
	if want == "" {
		want = resp.Header.Get("Docker-Content-Digest")
		if want != "" && !strings.HasPrefix(want, "sha256:") {
			want = "" // another algorithm: nothing to compare with
		}
	}
	if want != "" && got != want {
		return nil, "", &Error{Kind: ErrInvalid, Status: resp.StatusCode, Err: fmt.Errorf("manifest body hashes to %s, the registry said %s", got, want)}
	}
	return body, resp.Header.Get("Content-Type"), nil
}

func (r *Remote) readLimited(resp *http.Response, what string) ([]byte, error) {
	if resp.ContentLength > r.maxManifest {
		return nil, &Error{Kind: ErrInvalid, Status: resp.StatusCode, Err: fmt.Errorf("%s of %d bytes is above the %d-byte limit", what, resp.ContentLength, r.maxManifest)}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, r.maxManifest+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > r.maxManifest {
		return nil, &Error{Kind: ErrInvalid, Status: resp.StatusCode, Err: fmt.Errorf("%s is above the %d-byte limit", what, r.maxManifest)}
	}
	return body, nil
}

// manifestDoc is a parsed manifest: an index or an image manifest.
type manifestDoc struct {
	index *v1.IndexManifest
	image *v1.Manifest
}

// manifest fetches the manifest dgst of t's repository once per run.
func (r *Remote) manifest(ctx context.Context, t target, dgst string) (*manifestDoc, error) {
	return lookupMem(ctx, r, "manifest "+t.repo.Name()+"@"+dgst, func(ctx context.Context) (*manifestDoc, error) {
		c, err := r.client(ctx, t.repo)
		if err != nil {
			return nil, err
		}
		body, ctype, err := r.getManifest(ctx, c, r.url(t.repo, "manifests", dgst), dgst)
		if err != nil {
			return nil, err
		}
		var probe struct {
			MediaType types.MediaType `json:"mediaType"`
			Manifests json.RawMessage `json:"manifests"`
		}
		if err := json.Unmarshal(body, &probe); err != nil {
			return nil, &Error{Kind: ErrInvalid, Err: fmt.Errorf("manifest %s: %w", dgst, err)}
		}
		mt := types.MediaType(ctype)
		if probe.MediaType != "" {
			mt = probe.MediaType
		}
		if mt.IsIndex() || (mt == "" && probe.Manifests != nil) {
			im, err := v1.ParseIndexManifest(bytes.NewReader(body))
			if err != nil {
				return nil, &Error{Kind: ErrInvalid, Err: fmt.Errorf("index %s: %w", dgst, err)}
			}
			return &manifestDoc{index: im}, nil
		}
		m, err := v1.ParseManifest(bytes.NewReader(body))
		if err != nil {
			return nil, &Error{Kind: ErrInvalid, Err: fmt.Errorf("manifest %s: %w", dgst, err)}
		}
		return &manifestDoc{image: m}, nil
	})
}

// image finds the image manifest for platform under dgst. The zero
// platform means DefaultPlatform in an index, and whatever the image is
// for a single image. A single image's config is read (and returned, so
// the caller need not fetch it again) when needConfig or when a platform
// was named, to check it.
func (r *Remote) image(ctx context.Context, t target, dgst string, platform Platform, needConfig bool) (*v1.Manifest, *v1.ConfigFile, error) {
	m, err := r.manifest(ctx, t, dgst)
	if err != nil {
		return nil, nil, err
	}
	if m.index == nil {
		if !needConfig && platform == (Platform{}) {
			return m.image, nil, nil
		}
		cf, err := r.configFile(ctx, t, m.image)
		if err != nil {
			return nil, nil, err
		}
		if platform != (Platform{}) && !platformMatches(Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant}, platform) {
			return nil, nil, &Error{Kind: ErrPlatformNotFound, Err: fmt.Errorf("the image is %s/%s, not %s", cf.OS, cf.Architecture, platform)}
		}
		return m.image, cf, nil
	}
	if platform == (Platform{}) {
		platform = DefaultPlatform
	}
	for _, d := range m.index.Manifests {
		if d.Platform == nil || !d.MediaType.IsImage() && d.MediaType != "" {
			continue
		}
		if platformMatches(Platform{OS: d.Platform.OS, Architecture: d.Platform.Architecture, Variant: d.Platform.Variant}, platform) {
			child, err := r.manifest(ctx, t, d.Digest.String())
			if err != nil {
				return nil, nil, err
			}
			if child.image == nil {
				return nil, nil, &Error{Kind: ErrInvalid, Err: fmt.Errorf("index entry %s for %s is not an image manifest", d.Digest, platform)}
			}
			return child.image, nil, nil
		}
	}
	return nil, nil, &Error{Kind: ErrPlatformNotFound, Err: fmt.Errorf("the index has no %s image", platform)}
}

func platformKey(p Platform) string {
	if p == (Platform{}) {
		return "default"
	}
	return p.String()
}

// platformMatches compares OS and architecture, and the variant when the
// wanted platform names one (arm64's "v8" is the same as no variant).
func platformMatches(have, want Platform) bool {
	if have.OS != want.OS || have.Architecture != want.Architecture {
		return false
	}
	norm := func(p Platform) string {
		if p.Architecture == "arm64" && p.Variant == "v8" {
			return ""
		}
		return p.Variant
	}
	return want.Variant == "" || norm(have) == norm(want)
}

// configFile fetches and verifies an image's config blob.
func (r *Remote) configFile(ctx context.Context, t target, m *v1.Manifest) (*v1.ConfigFile, error) {
	dgst := m.Config.Digest.String()
	return lookupMem(ctx, r, "configblob "+t.repo.Name()+"@"+dgst, func(ctx context.Context) (*v1.ConfigFile, error) {
		c, err := r.client(ctx, t.repo)
		if err != nil {
			return nil, err
		}
		resp, err := r.do(ctx, c, http.MethodGet, r.url(t.repo, "blobs", dgst), "")
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, responseError(resp)
		}
		body, err := r.readLimited(resp, "config")
		if err != nil {
			return nil, err
		}
		if got := sha256Digest(body); m.Config.Digest.Algorithm == "sha256" && got != dgst {
			return nil, &Error{Kind: ErrInvalid, Err: fmt.Errorf("config blob hashes to %s, the manifest said %s", got, dgst)}
		}
		cf, err := v1.ParseConfigFile(bytes.NewReader(body))
		if err != nil {
			return nil, &Error{Kind: ErrInvalid, Err: fmt.Errorf("config %s: %w", dgst, err)}
		}
		return cf, nil
	})
}

// listTags reads /tags/list, following the Link header page by page
// (same scheme and host only, at most maxTagPages pages).
func (r *Remote) listTags(ctx context.Context, t target) ([]string, error) {
	const maxTagPages = 100
	c, err := r.client(ctx, t.repo)
	if err != nil {
		return nil, err
	}
	u := r.url(t.repo, "tags", "list") + fmt.Sprintf("?n=%d", r.pageSize)
	var tags []string
	for page := 0; ; page++ {
		if page == maxTagPages {
			return nil, &Error{Kind: ErrInvalid, Err: fmt.Errorf("more than %d pages of tags", maxTagPages)}
		}
		next, err := r.tagPage(ctx, c, u, &tags)
		if err != nil {
			return nil, err
		}
		if next == "" {
			return tags, nil
		}
		u = next
	}
}

func (r *Remote) tagPage(ctx context.Context, c *http.Client, u string, tags *[]string) (string, error) {
	resp, err := r.do(ctx, c, http.MethodGet, u, "application/json")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", responseError(resp)
	}
	body, err := r.readLimited(resp, "tag list")
	if err != nil {
		return "", err
	}
	var page struct {
		Tags []string `json:"tags"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		return "", &Error{Kind: ErrInvalid, Err: fmt.Errorf("tag list: %w", err)}
	}
	*tags = append(*tags, page.Tags...)
	return nextPage(resp)
}

// nextPage returns the rel="next" URL of a Link header, resolved against
// the request and required to stay on the same scheme and host, so a
// registry cannot send us (and our credentials) elsewhere.
func nextPage(resp *http.Response) (string, error) {
	var target string
	for _, link := range resp.Header.Values("Link") {
		for part := range strings.SplitSeq(link, ",") {
			uri, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			if !strings.HasPrefix(uri, "<") || !strings.HasSuffix(uri, ">") {
				continue
			}
			for p := range strings.SplitSeq(params, ";") {
				k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
				if strings.EqualFold(k, "rel") && slices.Contains(strings.Fields(strings.Trim(v, `"`)), "next") {
					target = uri[1 : len(uri)-1]
				}
			}
		}
	}
	if target == "" {
		return "", nil
	}
	next, err := url.Parse(target)
	if err != nil {
		return "", &Error{Kind: ErrInvalid, Err: fmt.Errorf("bad Link target %q: %w", target, err)}
	}
	next = resp.Request.URL.ResolveReference(next)
	if next.Scheme != resp.Request.URL.Scheme || next.Host != resp.Request.URL.Host {
		return "", &Error{Kind: ErrInvalid, Err: fmt.Errorf("tag list pagination points to another host (%s)", next.Host)}
	}
	return next.String(), nil
}

func (r *Remote) url(repo name.Repository, resource, id string) string {
	return fmt.Sprintf("%s://%s/v2/%s/%s/%s", repo.Scheme(), repo.RegistryStr(), repo.RepositoryStr(), resource, id)
}

func (r *Remote) do(ctx context.Context, c *http.Client, method, u, accept string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return nil, err
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	return c.Do(req)
}

// responseError turns a non-2xx answer into an *Error, reading the
// registry's error codes from the body (GET answers have one).
func responseError(resp *http.Response) error {
	e := &Error{Status: resp.StatusCode}
	var codes []string
	var msg string
	if resp.Request == nil || resp.Request.Method != http.MethodHead {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		var parsed struct {
			Errors []transport.Diagnostic `json:"errors"`
		}
		if json.Unmarshal(body, &parsed) == nil {
			for _, d := range parsed.Errors {
				codes = append(codes, string(d.Code))
				if msg == "" {
					msg = d.Message
				}
			}
		}
	}
	e.Kind = kindOf(resp.StatusCode, codes)
	if e.Kind == ErrRateLimited || e.Kind == ErrServer {
		e.RetryAfter, _ = retryAfter(resp.Header, timeNow())
	}
	if len(codes) > 0 { // the status alone is already in the message
		text := strings.Join(codes, ", ")
		if msg != "" {
			text += ": " + msg
		}
		e.Err = errors.New(text)
	}
	return e
}

func kindOf(status int, codes []string) error {
	for _, c := range codes {
		switch transport.ErrorCode(c) {
		case transport.ManifestUnknownErrorCode, transport.NameUnknownErrorCode, transport.BlobUnknownErrorCode:
			return ErrNotFound
		case transport.TooManyRequestsErrorCode:
			return ErrRateLimited
		}
	}
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return ErrAuth
	case status == http.StatusNotFound:
		return ErrNotFound
	case status == http.StatusTooManyRequests:
		return ErrRateLimited
	case status >= 500:
		return ErrServer
	}
	return ErrInvalid
}

// wrap turns any failure of a lookup into an *Error naming ref and the
// host asked.
func (r *Remote) wrap(ref string, t target, err error) error {
	var e *Error
	if errors.As(err, &e) {
		out := *e
		out.Ref, out.Host = ref, t.host
		return &out
	}
	var te *transport.Error
	if errors.As(err, &te) {
		var codes []string
		for _, d := range te.Errors {
			codes = append(codes, string(d.Code))
		}
		return &Error{Kind: kindOf(te.StatusCode, codes), Ref: ref, Host: t.host, Status: te.StatusCode, Err: err}
	}
	return &Error{Kind: classifyNetErr(err), Ref: ref, Host: t.host, Err: err}
}
