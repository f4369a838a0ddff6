package rewritetest

import (
	"context"
	"sort"
	"testing"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
)

// OfflineImages answers BuildKit's base-image lookups with an empty Linux
// image, so its linter runs with no network.
type OfflineImages struct{}

func (OfflineImages) ResolveImageConfig(_ context.Context, ref string, _ sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	return ref, digest.FromString(ref), []byte(`{"architecture":"amd64","os":"linux","config":{}}`), nil
}

// BuildkitLint runs BuildKit's own Dockerfile linter (what `docker build
// --check` runs) over src and returns its warnings as "Rule: detail", sorted.
// It fails the test when the linter cannot run.
func BuildkitLint(t testing.TB, src []byte) []string {
	t.Helper()
	ctx := context.Background()
	scratch := llb.Scratch()
	def, err := scratch.Marshal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sourceMap := llb.NewSourceMap(&scratch, "Dockerfile", "Dockerfile", src)
	sourceMap.Definition = def
	// The capabilities of a current BuildKit: without them the converter
	// dereferences a nil set on a read-write bind mount.
	caps := pb.Caps.CapSet(pb.Caps.All())
	res, err := dockerfile2llb.DockerfileLint(ctx, src, dockerfile2llb.ConvertOpt{
		MetaResolver: OfflineImages{},
		SourceMap:    sourceMap,
		LLBCaps:      &caps,
	})
	if err != nil {
		t.Fatalf("BuildKit linter: %v", err)
	}
	var out []string
	for _, w := range res.Warnings {
		out = append(out, w.RuleName+": "+w.Detail)
	}
	sort.Strings(out)
	return out
}
