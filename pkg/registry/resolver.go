// Package registry knows about container images: it looks them up in
// registries (digests, tags, platforms, configs, layers), caches what it
// learns, and holds the catalog of verified publishers.
//
// Rules depend on the Resolver interface, never on the network, so tests
// hand them a resolver backed by an in-process registry.
package registry

import (
	"context"
	"strings"
)

// Platform is an OS/architecture pair such as linux/amd64 or linux/arm64/v8.
type Platform struct {
	OS, Architecture, Variant string
}

func (p Platform) String() string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// ImageConfig is the part of an image's config hardenfix reads.
type ImageConfig struct {
	User       string
	Entrypoint []string
	Cmd        []string
	Labels     map[string]string
	OS         string
	// WorkingDir is the config's WorkingDir as the image sets it: ""
	// means the image sets none, so containers and builds start in "/".
	WorkingDir string
	// Env is the config's Env, KEY=VALUE a string, as the image sets it.
	Env []string
}

// Resolver answers questions about image references as written in a
// Dockerfile ("node:20-slim", "ghcr.io/org/app@sha256:..."). Implementations
// must be safe for concurrent use.
//
// Errors: a failed lookup returns an error that matches one of ErrAuth,
// ErrNotFound, ErrPlatformNotFound, ErrRateLimited, ErrTimeout, ErrTLS,
// ErrServer, ErrUnreachable or ErrInvalid with errors.Is, and is an *Error
// (errors.As) carrying the host asked and, for rate limits, the wait the
// registry asked for; its message is fit for a Note. When the registry
// failed but an older answer was cached, the method returns that answer
// together with a *StaleError (errors.Is(err, ErrStale); IsStale gives
// when it was fetched). A caller that treats every non-nil error as "no
// answer" is therefore always on the safe side; one that wants to use
// stale answers checks IsStale first and says so in its Note.
type Resolver interface {
	// Digest returns the digest of what ref points at: the index digest
	// for a multi-platform image, else the manifest digest. A ref that
	// already holds a digest gives that digest.
	Digest(ctx context.Context, ref string) (string, error)
	// Tags lists the tags of ref's repository.
	Tags(ctx context.Context, ref string) ([]string, error)
	// Platforms lists the platforms of ref's index (one entry for a
	// single-platform image).
	Platforms(ctx context.Context, ref string) ([]Platform, error)
	// Config returns the config of ref's image for platform (the default
	// platform, linux/amd64, when platform is the zero value and ref is an
	// index; the image itself when ref is a single image). An index
	// without that platform gives ErrPlatformNotFound.
	Config(ctx context.Context, ref string, platform Platform) (*ImageConfig, error)
	// Layers returns the layer digests of ref's image for platform, base
	// layer first.
	Layers(ctx context.Context, ref string, platform Platform) ([]string, error)
}

// ParsePlatform parses an os[/arch[/variant]] platform string.
func ParsePlatform(s string) Platform {
	parts := strings.SplitN(s, "/", 3)
	p := Platform{OS: parts[0]}
	if len(parts) > 1 {
		p.Architecture = parts[1]
	}
	if len(parts) > 2 {
		p.Variant = parts[2]
	}
	return p
}
