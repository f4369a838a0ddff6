package rewritetest

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/distribution/reference"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/hardenfix/hardenfix/pkg/registry"
)

// seedRef is where the in-process registry at host keeps the image a
// Dockerfile calls s: under "<registry>/<path>", the layout FixtureRemote
// mirrors to.
func seedRef(host, s string) (name.Reference, error) {
	n, err := reference.ParseNormalizedNamed(s)
	if err != nil {
		return nil, err
	}
	mirrored := host + "/" + reference.Domain(n) + "/" + reference.Path(n)
	if d, ok := n.(reference.Digested); ok {
		return name.NewDigest(mirrored+"@"+d.Digest().String(), name.Insecure)
	}
	return name.NewTag(mirrored+":"+reference.TagNameOnly(n).(reference.Tagged).Tag(), name.Insecure)
}

// StartRegistry serves go-containerregistry's registry on 127.0.0.1, seeded
// as spec says, and returns its host:port. spec has one image a line:
//
//	IMAGE [layers=A,B,...] [platforms=OS/ARCH[/VARIANT],...] [user=U] [workdir=DIR]
//	      [entrypoint=W,W,...] [cmd=W,W,...] [env=K=V,K=V,...] [single]
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
func StartRegistry(t testing.TB, spec string) string {
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
	for _, line := range strings.Split(spec, "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		ref, err := seedRef(host, fields[0])
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
			p := registry.ParsePlatform(plat)
			cfg := v1.Config{User: opts["user"], WorkingDir: opts["workdir"]}
			if e, ok := opts["entrypoint"]; ok {
				cfg.Entrypoint = strings.Split(e, ",")
			}
			if c, ok := opts["cmd"]; ok {
				cfg.Cmd = strings.Split(c, ",")
			}
			if e, ok := opts["env"]; ok {
				cfg.Env = strings.Split(e, ",")
			}
			img, err := mutate.ConfigFile(empty.Image, &v1.ConfigFile{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant, Config: cfg})
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

// FixtureRemote is the real registry client pointed at the in-process
// registry at host: every registry the spec's images live on is mirrored to
// host/<registry>, and any request for another host fails at once, so a
// Fixture can never reach the network.
func FixtureRemote(host, spec string) *registry.Remote {
	opts := []registry.Option{
		registry.WithInsecure(host),
		registry.WithTimeout(10 * time.Second),
		registry.WithRetryPolicy(registry.RetryPolicy{Retries: 1, MaxWait: 50 * time.Millisecond, Backoff: time.Millisecond}),
		registry.WithTransport(loopbackOnly{http.DefaultTransport}),
		registry.WithKeychain(authn.NewMultiKeychain()),
	}
	mirrored := map[string]bool{}
	for _, line := range strings.Split(spec, "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		if n, err := reference.ParseNormalizedNamed(fields[0]); err == nil && !mirrored[reference.Domain(n)] {
			mirrored[reference.Domain(n)] = true
			opts = append(opts, registry.WithMirror(reference.Domain(n), host+"/"+reference.Domain(n)))
		}
	}
	return registry.NewRemote(opts...)
}

// LoopbackOnly wraps base so that it refuses every request that is not for
// 127.0.0.1.
func LoopbackOnly(base http.RoundTripper) http.RoundTripper { return loopbackOnly{base} }

type loopbackOnly struct{ base http.RoundTripper }

func (l loopbackOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Hostname() != "127.0.0.1" {
		return nil, fmt.Errorf("tests reach no host but 127.0.0.1, not %s", req.URL.Host)
	}
	return l.base.RoundTrip(req)
}
