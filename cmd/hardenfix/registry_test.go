package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/urfave/cli/v2"

	"github.com/hardenfix/hardenfix/pkg/harden"
	"github.com/hardenfix/hardenfix/pkg/registry"
)

// remoteFrom parses args with the registry flags and returns the client
// package harden made of them.
func remoteFrom(t *testing.T, args ...string) (*registry.Remote, error) {
	t.Helper()
	var r *registry.Remote
	var rerr error
	app := &cli.App{
		Flags:          append([]cli.Flag{&cli.BoolFlag{Name: "offline"}}, registryFlags()...),
		Writer:         io.Discard,
		ErrWriter:      io.Discard,
		ExitErrHandler: func(*cli.Context, error) {},
		Action: func(c *cli.Context) error {
			reg, err := registryOptions(c)
			if err != nil {
				rerr = err
				return nil
			}
			h, err := harden.New(harden.Options{Offline: c.Bool("offline"), Registry: reg})
			if err != nil {
				rerr = err
				return nil
			}
			r = h.Remote()
			return nil
		},
	}
	if err := app.Run(append([]string{"hardenfix"}, args...)); err != nil {
		t.Fatal(err)
	}
	return r, rerr
}

func TestRegistryFlagsReachTheMirror(t *testing.T) {
	srv := httptest.NewServer(ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := name.ParseReference(host + "/library/node:20")
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	want, _ := img.Digest()

	cacheDir := t.TempDir()
	r, err := remoteFrom(t, "--registry-mirror", "docker.io="+host, "--insecure-registry", host,
		"--cache-dir", cacheDir, "--registry-timeout", "5s")
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.Digest(context.Background(), "node:20")
	if err != nil || got != want.String() {
		t.Fatalf("Digest = %q, %v; want %s", got, err, want)
	}
	entries, _ := filepath.Glob(filepath.Join(cacheDir, "*", "*", "*.json"))
	if len(entries) != 1 {
		t.Errorf("cache entries under --cache-dir = %v, want 1", entries)
	}
	if s := r.Stats(); s.Failures != 0 {
		t.Errorf("Failures = %d", s.Failures)
	}
	var stderr bytes.Buffer
	if registryOutcome(&options{strict: true}, r, &stderr) || stderr.Len() != 0 {
		t.Errorf("a run without failures must not exit 3 (stderr %q)", stderr.String())
	}

	// Without --insecure-registry the plain-HTTP mirror is refused.
	r, err = remoteFrom(t, "--registry-mirror", "docker.io="+host, "--no-cache")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Digest(context.Background(), "node:20"); !errors.Is(err, registry.ErrTLS) {
		t.Errorf("Digest without --insecure-registry: error = %v, want ErrTLS", err)
	}
}

func TestStrictExitsOnFailedLookups(t *testing.T) {
	srv := httptest.NewServer(nil)
	host := strings.TrimPrefix(srv.URL, "http://")
	srv.Close() // nothing listens there now

	r, err := remoteFrom(t, "--registry-mirror", "docker.io="+host, "--insecure-registry", host, "--no-cache")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Digest(context.Background(), "node:20"); !errors.Is(err, registry.ErrUnreachable) {
		t.Fatalf("error = %v, want ErrUnreachable", err)
	}
	var stderr bytes.Buffer
	if registryOutcome(&options{strict: false, quiet: true}, r, &stderr) || stderr.Len() != 0 {
		t.Errorf("without --strict (and quiet): exit 3 or output %q", stderr.String())
	}
	if !registryOutcome(&options{strict: true, quiet: true}, r, &stderr) {
		t.Error("--strict with a failed lookup must exit 3")
	}
	if !strings.Contains(stderr.String(), "1 registry lookup failed") {
		t.Errorf("stderr = %q, want the count of failed lookups", stderr.String())
	}
}

func TestRegistryFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{"--registry-mirror", "docker.io"},
		{"--registry-mirror", "=127.0.0.1:5000"},
		{"--registry-timeout", "0s"},
		{"--cache-ttl", "-1h"},
	} {
		if _, err := remoteFrom(t, args...); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
	if r, err := remoteFrom(t, "--offline", "--registry-mirror", "docker.io=127.0.0.1:5000"); r != nil || err != nil {
		t.Errorf("--offline: remote %v, error %v; want none", r, err)
	}
}

func TestOfflineStrictRunExitsZero(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM node:20\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := runMain(context.Background(), []string{"hardenfix", "--offline", "--strict", dir}, &stdout, &stderr); code != exitOK {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
}
