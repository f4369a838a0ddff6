package rules

import (
	"bytes"
	"context"
	"hash/fnv"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/distribution/reference"
	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/hardenfix/hardenfix/pkg/registry"
	"github.com/hardenfix/hardenfix/pkg/registry/registrytest"
	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/hardenfix/hardenfix/pkg/rewrite/rewritetest"
	"github.com/hardenfix/hardenfix/pkg/rules/image"
	"github.com/hardenfix/hardenfix/pkg/rules/internal/imageref"
)

// mirroredRegistries are the registries the stability test serves from its
// in-process registry, besides those the fixtures name: where the rules'
// replacements and runtime images live.
var mirroredRegistries = []string{"docker.io", "gcr.io", "mcr.microsoft.com", "ghcr.io", "quay.io",
	"registry.access.redhat.com", "cgr.dev", "public.ecr.aws", "registry.k8s.io"}

// TestDecisionsIgnoreDigests runs every fixture (of every rule) with pin
// enabled against an in-process registry that holds every image it names,
// then runs the same rules on the output: the second run must change
// nothing. A rule whose checks read `name:tag@sha256:…` differently from
// `name:tag` fails here, because the first run's pin is what the second
// run sees. Fixtures with their own registry section are online already
// and checked by TestFixtures' idempotence invariant.
func TestDecisionsIgnoreDigests(t *testing.T) {
	pinned := 0
	t.Cleanup(func() {
		if pinned == 0 {
			t.Error("no fixture's first run pinned anything: the registry is not reached")
		}
	})
	for _, f := range rewritetest.LoadFixtures(t, ".", All()) {
		if f.Online {
			continue
		}
		if _, ok := f.Section("want/error"); ok {
			continue
		}
		rel, _ := filepath.Rel(".", f.Path)
		t.Run(filepath.ToSlash(strings.TrimSuffix(rel, ".txtar")), func(t *testing.T) {
			rules := withPin(t, f.Rules)
			env, err := f.Env(t)
			if err != nil {
				t.Fatal(err)
			}
			srv := registrytest.New(t, false)
			seeded := map[string]bool{}
			ctx := context.Background()
			// Seed what the input names, run, and seed what the output
			// newly names (runtime images, replacements) until the first
			// run sees every image it writes.
			var first *rewrite.Result
			src := f.Input
			for round := 0; ; round++ {
				if !seedImages(t, srv, seeded, src) && first != nil {
					break
				}
				if round == 4 {
					t.Fatal("the output keeps naming new images")
				}
				env.Resolver = stabilityRemote(srv, f.Input)
				if first, err = rewrite.Run(ctx, "Dockerfile", f.Input, rules, env); err != nil {
					t.Fatal(err)
				}
				src = first.New
			}
			if bytes.Contains(first.New, []byte("@sha256:")) && !bytes.Contains(f.Input, []byte("@sha256:")) {
				pinned++
			}
			env.Resolver = stabilityRemote(srv, f.Input)
			second, err := rewrite.Run(ctx, "Dockerfile", first.New, rules, env)
			if err != nil {
				t.Fatalf("second run: %v", err)
			}
			if !bytes.Equal(second.New, first.New) {
				t.Errorf("the second run, on the pinned output, changed it:\n%s", rewrite.UnifiedDiff("Dockerfile", first.New, second.New))
			}
		})
	}
}

// withPin returns rules with pin added in its pipeline place.
func withPin(t *testing.T, rules []*rewrite.Rule) []*rewrite.Rule {
	names := []string{image.Pin.Name}
	for _, r := range rules {
		names = append(names, r.Name)
	}
	out, err := Select(names, nil)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// seedImages pushes to srv every tagged image src names that is not
// seeded yet, as a two-platform index of random images whose seed comes
// from the reference (the same image, the same digest, every run). It
// reports whether it pushed anything.
func seedImages(t *testing.T, srv *registrytest.Server, seeded map[string]bool, src []byte) bool {
	d, err := rewrite.Parse("Dockerfile", src)
	if err != nil {
		t.Fatal(err)
	}
	pushed := false
	for _, r := range append(imageref.FromRefs(d), imageref.OtherRefs(d)...) {
		if r.Skip || r.Problem != "" || r.Image == "" {
			continue
		}
		n, err := reference.ParseNormalizedNamed(r.Image)
		if err != nil {
			continue
		}
		tag := "latest"
		if tg, ok := n.(reference.Tagged); ok {
			tag = tg.Tag()
		} else if _, ok := n.(reference.Digested); ok {
			continue // only a digest: nothing to push under a tag
		}
		key := reference.Domain(n) + "/" + reference.Path(n) + ":" + tag
		if seeded[key] {
			continue
		}
		seeded[key] = true
		h := fnv.New64a()
		h.Write([]byte(key))
		seed := int64(h.Sum64() >> 1)
		idx := registrytest.Index(t,
			registrytest.Image(t, registrytest.Spec{Seed: seed, Arch: "amd64"}),
			registrytest.Image(t, registrytest.Spec{Seed: seed + 1, Arch: "arm64"}),
		)
		srv.PushIndex(t, key, idx)
		pushed = true
	}
	return pushed
}

// stabilityRemote is a registry client that finds every registry the
// input names, and the usual public ones, under srv.
func stabilityRemote(srv *registrytest.Server, input []byte) registry.Resolver {
	domains := append([]string{}, mirroredRegistries...)
	if d, err := rewrite.Parse("Dockerfile", input); err == nil {
		for _, r := range append(imageref.FromRefs(d), imageref.OtherRefs(d)...) {
			if n, err := reference.ParseNormalizedNamed(r.Image); err == nil && !slices.Contains(domains, reference.Domain(n)) {
				domains = append(domains, reference.Domain(n))
			}
		}
	}
	opts := []registry.Option{
		registry.WithInsecure(srv.Host),
		registry.WithTimeout(10 * time.Second),
		registry.WithRetryPolicy(registry.RetryPolicy{Retries: 1, MaxWait: 50 * time.Millisecond, Backoff: time.Millisecond}),
		registry.WithTransport(rewritetest.LoopbackOnly(srv.Transport())),
		registry.WithKeychain(authn.NewMultiKeychain()),
	}
	for _, dom := range domains {
		opts = append(opts, registry.WithMirror(dom, srv.Host+"/"+dom))
	}
	return registry.NewRemote(opts...)
}
