package rewrite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/distribution/reference"
	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/hardenfix/hardenfix/pkg/registry"
)

// testResolver is a small registry.Resolver over go-containerregistry for
// tests only: every reference, whatever its registry, is looked up in the
// in-process registry at host under "<registry>/<path>" (a mirror), so
// fixtures use real names. The real client replaces it after merging.
type testResolver struct{ host string }

func (r testResolver) ref(s string) (name.Reference, error) {
	n, err := reference.ParseNormalizedNamed(s)
	if err != nil {
		return nil, err
	}
	mirrored := r.host + "/" + reference.Domain(n) + "/" + reference.Path(n)
	if d, ok := n.(reference.Digested); ok {
		return name.NewDigest(mirrored+"@"+d.Digest().String(), name.Insecure)
	}
	return name.NewTag(mirrored+":"+reference.TagNameOnly(n).(reference.Tagged).Tag(), name.Insecure)
}

// get fetches s's manifest; registry errors lose the test server's port so
// goldens are stable.
func (r testResolver) get(ctx context.Context, s string, p registry.Platform) (*remote.Descriptor, error) {
	ref, err := r.ref(s)
	if err != nil {
		return nil, err
	}
	desc, err := remote.Get(ref, remote.WithContext(ctx), remote.WithPlatform(v1.Platform{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant}))
	var te *transport.Error
	if errors.As(err, &te) {
		return nil, fmt.Errorf("registry answered %d %s", te.StatusCode, http.StatusText(te.StatusCode))
	}
	return desc, err
}

func (r testResolver) Digest(ctx context.Context, s string) (string, error) {
	desc, err := r.get(ctx, s, registry.Platform{})
	if err != nil {
		return "", err
	}
	return desc.Digest.String(), nil
}

func (r testResolver) Tags(ctx context.Context, s string) ([]string, error) {
	ref, err := r.ref(s)
	if err != nil {
		return nil, err
	}
	return remote.List(ref.Context(), remote.WithContext(ctx))
}

func (r testResolver) Platforms(ctx context.Context, s string) ([]registry.Platform, error) {
	desc, err := r.get(ctx, s, registry.Platform{})
	if err != nil {
		return nil, err
	}
	if !desc.MediaType.IsIndex() {
		cfg, err := r.configFile(ctx, s, registry.Platform{})
		if err != nil {
			return nil, err
		}
		return []registry.Platform{{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant}}, nil
	}
	im, err := v1.ParseIndexManifest(bytes.NewReader(desc.Manifest))
	if err != nil {
		return nil, err
	}
	var out []registry.Platform
	for _, m := range im.Manifests {
		out = append(out, registry.Platform{OS: m.Platform.OS, Architecture: m.Platform.Architecture, Variant: m.Platform.Variant})
	}
	return out, nil
}

func (r testResolver) image(ctx context.Context, s string, p registry.Platform) (v1.Image, error) {
	if p.OS == "" {
		p = registry.Platform{OS: "linux", Architecture: "amd64"}
	}
	desc, err := r.get(ctx, s, p)
	if err != nil {
		return nil, err
	}
	return desc.Image()
}

func (r testResolver) configFile(ctx context.Context, s string, p registry.Platform) (*v1.ConfigFile, error) {
	img, err := r.image(ctx, s, p)
	if err != nil {
		return nil, err
	}
	return img.ConfigFile()
}

func (r testResolver) Config(ctx context.Context, s string, p registry.Platform) (*registry.ImageConfig, error) {
	cf, err := r.configFile(ctx, s, p)
	if err != nil {
		return nil, err
	}
	return &registry.ImageConfig{User: cf.Config.User, Entrypoint: cf.Config.Entrypoint, Cmd: cf.Config.Cmd, Labels: cf.Config.Labels, OS: cf.OS}, nil
}

func (r testResolver) Layers(ctx context.Context, s string, p registry.Platform) ([]string, error) {
	img, err := r.image(ctx, s, p)
	if err != nil {
		return nil, err
	}
	m, err := img.Manifest()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, l := range m.Layers {
		out = append(out, l.Digest.String())
	}
	return out, nil
}

// startRegistry serves go-containerregistry's registry on 127.0.0.1, seeded
// as spec says, and returns its host:port. spec has one image a line:
//
//	IMAGE [layers=A,B,...] [platforms=OS/ARCH[/VARIANT],...] [user=U] [single]
//	IMAGE status=CODE
//
// IMAGE is a reference as Dockerfiles write it (node:20, gcr.io/x/y:1).
// Layers are named; a layer's bytes are "NAME PLATFORM", so two images that
// list the same layers share them, platform by platform, and every digest is
// the same on every run (images are built from fixed bytes with static and
// mutate, never random). platforms defaults to linux/amd64,linux/arm64 and
// layers to the image's own name; single pushes a single-platform image
// instead of an index. status=CODE makes every request for that manifest
// answer CODE.
func startRegistry(t testing.TB, spec string) string {
	t.Helper()
	failures := map[string]int{}
	handler := ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if code, ok := failures[req.URL.Path]; ok {
			http.Error(w, http.StatusText(code), code)
			return
		}
		handler.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	res := testResolver{host: host}
	var _ registry.Resolver = res
	for _, line := range strings.Split(spec, "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		ref, err := res.ref(fields[0])
		if err != nil {
			t.Fatalf("registry: %q: %v", line, err)
		}
		opts := map[string]string{"layers": fields[0], "platforms": "linux/amd64,linux/arm64"}
		for _, f := range fields[1:] {
			k, v, _ := strings.Cut(f, "=")
			opts[k] = v
		}
		if code, ok := opts["status"]; ok {
			var n int
			fmt.Sscanf(code, "%d", &n)
			failures["/v2/"+ref.Context().RepositoryStr()+"/manifests/"+ref.Identifier()] = n
			continue
		}
		var adds []mutate.IndexAddendum
		for _, plat := range strings.Split(opts["platforms"], ",") {
			p := parsePlatform(plat)
			img, err := mutate.ConfigFile(empty.Image, &v1.ConfigFile{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant, Config: v1.Config{User: opts["user"]}})
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range strings.Split(opts["layers"], ",") {
				if img, err = mutate.AppendLayers(img, static.NewLayer([]byte(l+" "+plat), types.DockerLayer)); err != nil {
					t.Fatal(err)
				}
			}
			adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant}}})
		}
		if _, single := opts["single"]; single {
			err = remote.Write(ref, adds[0].Add.(v1.Image))
		} else {
			err = remote.WriteIndex(ref, mutate.IndexMediaType(mutate.AppendManifests(empty.Index, adds...), types.DockerManifestList))
		}
		if err != nil {
			t.Fatalf("registry: seeding %s: %v", fields[0], err)
		}
	}
	return host
}
