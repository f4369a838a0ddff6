//go:build e2e

package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/distribution/reference"
	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// A localRegistry is go-containerregistry's in-memory registry on
// 127.0.0.1, standing in for every public registry: registries.conf sends
// docker.io (and the other registries fixtures may name) there, so a
// FROM name:tag@sha256:... resolves against images pushed from local storage.
type localRegistry struct {
	host string // 127.0.0.1:PORT
	srv  *http.Server

	mu      sync.Mutex
	digests map[string]string // full image name (with tag) -> digest of the pushed manifest
}

// mirrored are the registries registries.conf sends to the local registry:
// docker.io to its root (docker.io/library/debian -> HOST/library/debian),
// the others under their own name (gcr.io/distroless/x -> HOST/gcr.io/distroless/x).
var mirrored = []string{"docker.io", "gcr.io", "ghcr.io", "quay.io", "cgr.dev", "mcr.microsoft.com",
	"registry.access.redhat.com", "registry.k8s.io", "public.ecr.aws"}

func startRegistry() (*localRegistry, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &localRegistry{
		host:    l.Addr().String(),
		srv:     &http.Server{Handler: ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)))},
		digests: map[string]string{},
	}
	go r.srv.Serve(l)
	return r, nil
}

func (r *localRegistry) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = r.srv.Shutdown(ctx)
}

// writeConf writes a registries.conf that resolves short names on docker.io
// and sends every mirrored registry to the local one, and returns its path.
func (r *localRegistry) writeConf(dir string) (string, error) {
	var b strings.Builder
	b.WriteString("# Written by the e2e tests: every registry below is the local test registry.\n")
	b.WriteString("unqualified-search-registries = [\"docker.io\"]\nshort-name-mode = \"permissive\"\n")
	for _, reg := range mirrored {
		loc := r.host + "/" + reg
		if reg == "docker.io" {
			loc = r.host
		}
		fmt.Fprintf(&b, "\n[[registry]]\nprefix = %q\nlocation = %q\ninsecure = true\n", reg, loc)
	}
	p := filepath.Join(dir, "registries-local.conf")
	return p, os.WriteFile(p, []byte(b.String()), 0o644)
}

// remoteName is where an image lives in the local registry.
func (r *localRegistry) remoteName(n reference.Named) string {
	p := reference.Path(n)
	if d := reference.Domain(n); d != "docker.io" {
		p = d + "/" + p
	}
	return r.host + "/" + p
}

// push pushes a local image (a full name with a tag) to the local registry,
// once per run, and returns the digest the registry serves it under.
func (r *localRegistry) push(ctx context.Context, image string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if d, ok := r.digests[image]; ok {
		return d, nil
	}
	n, err := reference.ParseNormalizedNamed(image)
	if err != nil {
		return "", err
	}
	tagged, ok := reference.TagNameOnly(n).(reference.NamedTagged)
	if !ok {
		return "", fmt.Errorf("%s: need a tag to push", image)
	}
	dest := r.remoteName(n) + ":" + tagged.Tag()
	if _, err := exe(ctx, 5*time.Minute, "", "buildah", "push", "--quiet", "--tls-verify=false",
		"--signature-policy", policyPath(), tagged.String(), "docker://"+dest); err != nil {
		return "", fmt.Errorf("pushing %s to the local registry: %w", image, err)
	}
	ref, err := name.ParseReference(dest, name.Insecure)
	if err != nil {
		return "", err
	}
	desc, err := remote.Head(ref, remote.WithContext(ctx))
	if err != nil {
		return "", fmt.Errorf("digest of %s: %w", dest, err)
	}
	r.digests[image] = desc.Digest.String()
	return desc.Digest.String(), nil
}

// pushBases pushes every base image of the Dockerfile at path.
func (r *localRegistry) pushBases(ctx context.Context, path string) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	for _, im := range fromImages(src) {
		n, err := reference.ParseNormalizedNamed(im.text)
		if err != nil {
			return fmt.Errorf("FROM %s: %w", im.text, err)
		}
		if _, ok := n.(reference.Digested); ok {
			continue
		}
		if _, err := r.push(ctx, reference.TagNameOnly(n).String()); err != nil {
			return err
		}
	}
	return nil
}

// pinByHand does what the pin rule will do, for the images of the local
// registry: every base image of the Dockerfile at path gets the digest the
// registry serves it under, keeping the user's spelling and tag
// (FROM debian:bookworm-slim -> FROM debian:bookworm-slim@sha256:...).
func (r *localRegistry) pinByHand(ctx context.Context, path string) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	pinned, err := pinFroms(src, func(image string) (string, error) { return r.push(ctx, image) })
	if err != nil {
		return err
	}
	return os.WriteFile(path, pinned, 0o644)
}

// pullDigests makes every digest-pinned base image of the Dockerfile at path
// known to local storage by pulling it by digest through registries.conf
// (from the local registry; the layers are already here), so that builds
// with --pull=never resolve name:tag@sha256:... references.
func (r *localRegistry) pullDigests(ctx context.Context, path string) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	for _, im := range fromImages(src) {
		n, err := reference.ParseNormalizedNamed(im.text)
		if err != nil {
			return fmt.Errorf("FROM %s: %w", im.text, err)
		}
		d, ok := n.(reference.Digested)
		if !ok {
			continue
		}
		byDigest, err := reference.WithDigest(reference.TrimNamed(n), d.Digest())
		if err != nil {
			return err
		}
		if _, err := exe(ctx, 5*time.Minute, "", "buildah", "pull", "--quiet",
			"--signature-policy", policyPath(), byDigest.String()); err != nil {
			return fmt.Errorf("FROM %s is pinned to a digest the local registry does not serve "+
				"(was the image pushed? set Registry in the case): %w", im.text, err)
		}
	}
	return nil
}

// TestRegistryPath proves the path pinned images take: a FROM pinned by
// digest (name:tag@sha256:..., the form the pin rule writes) builds with
// --pull=always, so the base image really comes from the local registry
// through registries.conf; and a digest the registry does not have fails.
func TestRegistryPath(t *testing.T) {
	ctx := context.Background()
	var took time.Duration
	reason := ""
	defer func() {
		result := "PASS"
		if t.Failed() {
			result = "FAIL"
		}
		l := fmt.Sprintf("%-12s %-4s  build %s with --pull=always from %s; a digest it does not have fails", "registry", result, seconds(took), reg.host)
		if reason != "" {
			l += "\n             " + reason
		}
		printLine(l)
	}()
	fatal := func(format string, args ...any) {
		t.Helper()
		msg := fmt.Sprintf(format, args...)
		reason = strings.SplitN(msg, "\n", 2)[0]
		t.Fatalf("registry path: %s", msg)
	}
	dir := t.TempDir()
	if err := copyTree(filepath.Join(repoRoot, "fixtures", "e2e", "pinned"), dir); err != nil {
		fatal("%v", err)
	}
	df := filepath.Join(dir, "Dockerfile")
	if err := reg.pinByHand(ctx, df); err != nil {
		fatal("pinning by hand: %v", err)
	}
	src, err := os.ReadFile(df)
	if err != nil {
		fatal("%v", err)
	}
	pinned := regexp.MustCompile(`(?m)^FROM debian:bookworm-slim@sha256:[0-9a-f]{64}$`).Find(src)
	if pinned == nil {
		fatal("the pinned Dockerfile has no FROM debian:bookworm-slim@sha256:...:\n%s", src)
	}
	t.Logf("pinned: %s", pinned)

	image := "localhost/hardenfix-e2e/registry-path:latest"
	took, err = build(ctx, dir, image, "always", filepath.Join(logDir, "registry-path.log"))
	if err != nil {
		fatal("a FROM pinned by digest does not build from the local registry: %v", err)
	}
	out, err := podmanRun(ctx, time.Minute, image, "")
	if err != nil || !strings.Contains(out, "built from a pinned base image") {
		fatal("the image built on the pinned base does not run: %q, %v", out, err)
	}

	bogus := regexp.MustCompile(`sha256:[0-9a-f]{64}`).ReplaceAll(src, []byte("sha256:"+strings.Repeat("0", 64)))
	if err := os.WriteFile(df, bogus, 0o644); err != nil {
		fatal("%v", err)
	}
	_, err = build(ctx, dir, image+"-bogus", "always", filepath.Join(logDir, "registry-path-bogus.log"))
	if err == nil {
		fatal("a FROM pinned to a digest the registry does not have built anyway: the pin is not honoured")
	}
	if !strings.Contains(err.Error(), reg.host) && !errors.Is(err, context.DeadlineExceeded) {
		t.Logf("the build failed, but its message does not name the local registry %s:\n%v", reg.host, err)
	}
}
