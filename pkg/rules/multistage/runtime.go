package multistage

import (
	"context"
	"fmt"
	"strings"

	"github.com/distribution/reference"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/hardenfix/hardenfix/pkg/rules/internal/imageref"
)

// These decide about the runtime image a split would use, compared with
// the build image: whether it is smaller at all, and how a digest the
// user pinned the build image to carries over. Both read references as
// name and tag, so `node:20` and `node:20@sha256:…` are decided alike (a
// pin rule run in between must not change the decision).

// sameImageTag reports whether a and b name the same repository and tag,
// whatever their digests and spelling (node:20 is docker.io/library/node:20;
// no tag is latest).
func sameImageTag(a, b string) bool {
	pa, errA := imageref.Parse(a)
	pb, errB := imageref.Parse(b)
	if errA != nil || errB != nil {
		return a == b
	}
	tag := func(p imageref.Parsed) string {
		if p.Tag == "" {
			return "latest"
		}
		return p.Tag
	}
	return pa.Named.Name() == pb.Named.Name() && tag(pa) == tag(pb)
}

// sameImageRuntime says why a split onto the build image itself is not
// worth it ("" when the runtime is another, smaller image). silent is true
// when the split would leave nothing behind, so there is nothing to say.
func sameImageRuntime(image string, steps []stageStep, rec *recipe) (why string, silent bool) {
	if !sameImageTag(image, rec.runtime) {
		return "", false
	}
	var instead []string
	if installsPackages(steps) {
		instead = append(instead, "remove the build-only packages in the RUN that installs them")
	}
	if rec.buildEdit != nil && rec.ecosystem == "Node.js" {
		instead = append(instead, "install production dependencies only (npm ci --omit=dev)")
	}
	if len(instead) == 0 {
		return "", true
	}
	return fmt.Sprintf("the runtime image would be %s, the build image itself, so a split only adds a stage; to shed what only the build needs, %s", rec.runtime, strings.Join(instead, ", and ")), false
}

// carryPin gives the runtime image the pin of the build image: the same
// digest when it is the same repository and tag, else the digest the
// registry reports for it. It returns the runtime reference to write, and
// why the pin could not be carried ("" when it was, or there was none).
func carryPin(ctx context.Context, image, runtime string, env *rewrite.Env) (string, string) {
	p, err := imageref.Parse(image)
	if err != nil || p.Digest == "" {
		return runtime, ""
	}
	if rp, err := imageref.Parse(runtime); err != nil || rp.Digest != "" {
		return runtime, "" // the configuration's runtime image carries its own pin
	}
	if sameImageTag(image, runtime) {
		return runtime + "@" + p.Digest, ""
	}
	if env.Resolver == nil {
		return runtime, imageref.NoLookupReason(env)
	}
	digest, err := env.Resolver.Digest(ctx, runtime)
	if err != nil {
		return runtime, imageref.LookupErr(runtime, err)
	}
	if _, err := reference.Parse(runtime + "@" + digest); err != nil {
		return runtime, fmt.Sprintf("the registry's digest %q is not valid", digest)
	}
	return runtime + "@" + digest, ""
}

// pinNotCarried is the note for a runtime image that stays unpinned while
// the build image was pinned.
func pinNotCarried(runtime, why string) string {
	return fmt.Sprintf("the build image is pinned to a digest, but the runtime image %s could not be pinned (%s); pin it by hand", runtime, why)
}
