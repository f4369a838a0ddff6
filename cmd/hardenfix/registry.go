package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/hardenfix/hardenfix/pkg/registry"
)

// registryFlags are the flags that configure registry lookups.
func registryFlags() []cli.Flag {
	return []cli.Flag{
		&cli.DurationFlag{Name: "registry-timeout", Value: registry.DefaultTimeout, Usage: "give up on a registry request after `DURATION`"},
		&cli.StringFlag{Name: "cache-dir", Usage: "keep registry answers in `DIR` (default: the user cache dir's hardenfix folder)"},
		&cli.BoolFlag{Name: "no-cache", Usage: "do not read or write the registry cache"},
		&cli.DurationFlag{Name: "cache-ttl", Value: registry.DefaultCacheTTL, Usage: "trust a cached tag → digest answer for `DURATION`"},
		&cli.StringSliceFlag{Name: "registry-mirror", Usage: "send lookups for registry HOST to MIRROR (`HOST=MIRROR`, repeatable); names in files are unchanged"},
		&cli.StringSliceFlag{Name: "insecure-registry", Usage: "allow plain HTTP to `HOST` (repeatable)"},
		&cli.BoolFlag{Name: "strict", Usage: "exit 3 when a registry lookup failed"},
	}
}

// newRemote builds the registry resolver from the flags; nil with --offline.
func newRemote(c *cli.Context) (*registry.Remote, error) {
	if c.Bool("offline") {
		return nil, nil
	}
	if d := c.Duration("registry-timeout"); d <= 0 {
		return nil, fmt.Errorf("--registry-timeout must be positive, not %s", d)
	}
	opts := []registry.Option{
		registry.WithUserAgent("hardenfix/" + versionString()),
		registry.WithTimeout(c.Duration("registry-timeout")),
	}
	for _, m := range splitList(c.StringSlice("registry-mirror")) {
		host, mirror, ok := strings.Cut(m, "=")
		if !ok || strings.TrimSpace(host) == "" || strings.TrimSpace(mirror) == "" {
			return nil, fmt.Errorf("--registry-mirror wants HOST=MIRROR (e.g. docker.io=127.0.0.1:5000), not %q", m)
		}
		opts = append(opts, registry.WithMirror(strings.TrimSpace(host), strings.TrimSpace(mirror)))
	}
	for _, h := range splitList(c.StringSlice("insecure-registry")) {
		opts = append(opts, registry.WithInsecure(h))
	}
	if !c.Bool("no-cache") {
		if d := c.Duration("cache-ttl"); d <= 0 {
			return nil, fmt.Errorf("--cache-ttl must be positive, not %s", d)
		}
		cache, err := registry.NewDiskCache(c.String("cache-dir"), c.Duration("cache-ttl"))
		if err != nil {
			return nil, err
		}
		opts = append(opts, registry.WithCache(cache))
	}
	return registry.NewRemote(opts...), nil
}

// registryOutcome reports failed lookups on stderr and says whether the
// run must end with exitRegistry (--strict).
func registryOutcome(opts *options, stderr io.Writer) bool {
	if opts.remote == nil {
		return false
	}
	s := opts.remote.Stats()
	if s.Failures == 0 {
		return false
	}
	if !opts.quiet || opts.strict {
		fmt.Fprintf(stderr, "hardenfix: %d registry %s failed (%d answered from a stale cache); see the notes\n",
			s.Failures, plural(s.Failures, "lookup"), s.Stale)
	}
	return opts.strict
}
