package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/hardenfix/hardenfix/pkg/harden"
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

// registryOptions checks the registry flags and turns them into the
// library's options; package harden builds the client (none --offline).
func registryOptions(c *cli.Context) (harden.Registry, error) {
	r := harden.Registry{
		UserAgent: "hardenfix/" + versionString(),
		Timeout:   c.Duration("registry-timeout"),
		CacheDir:  c.String("cache-dir"),
		NoCache:   c.Bool("no-cache"),
		CacheTTL:  c.Duration("cache-ttl"),
		Insecure:  splitList(c.StringSlice("insecure-registry")),
	}
	if c.Bool("offline") {
		return r, nil
	}
	if d := r.Timeout; d <= 0 {
		return r, fmt.Errorf("--registry-timeout must be positive, not %s", d)
	}
	for _, m := range splitList(c.StringSlice("registry-mirror")) {
		host, mirror, ok := strings.Cut(m, "=")
		if !ok || strings.TrimSpace(host) == "" || strings.TrimSpace(mirror) == "" {
			return r, fmt.Errorf("--registry-mirror wants HOST=MIRROR (e.g. docker.io=127.0.0.1:5000), not %q", m)
		}
		r.Mirrors = append(r.Mirrors, harden.Mirror{Host: strings.TrimSpace(host), Mirror: strings.TrimSpace(mirror)})
	}
	if d := r.CacheTTL; !r.NoCache && d <= 0 {
		return r, fmt.Errorf("--cache-ttl must be positive, not %s", d)
	}
	return r, nil
}

// registryOutcome reports failed lookups on stderr and says whether the
// run must end with exitRegistry (--strict).
func registryOutcome(opts *options, remote *registry.Remote, stderr io.Writer) bool {
	if remote == nil {
		return false
	}
	s := remote.Stats()
	if s.Failures == 0 {
		return false
	}
	if !opts.quiet || opts.strict {
		fmt.Fprintf(stderr, "hardenfix: %d registry %s failed (%d answered from a stale cache); see the notes\n",
			s.Failures, plural(s.Failures, "lookup"), s.Stale)
	}
	return opts.strict
}
