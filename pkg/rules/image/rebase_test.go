package image

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hardenfix/hardenfix/pkg/registry"
	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/hardenfix/hardenfix/pkg/rewrite/rewritetest"
)

// With the registry gone, the run still finishes, every FROM stays as it
// was, and each reference has a note that says why.
func TestRegistryDownLeavesEveryFromAlone(t *testing.T) {
	srv := httptest.NewServer(nil)
	host := strings.TrimPrefix(srv.URL, "http://")
	srv.Close() // nothing listens there any more
	src := []byte(`FROM adoptopenjdk/openjdk11:jdk AS build
RUN ./gradlew build
FROM openjdk:17-jdk-slim AS java
FROM someone/python:3.11
COPY --from=nginx:1.27 /etc/nginx/nginx.conf /etc/nginx/nginx.conf
FROM node:20-slim
`)
	env := &rewrite.Env{Resolver: rewritetest.FixtureRemote(host, "docker.io/x/y:1"), Images: registry.Embedded()}
	res, err := rewrite.Run(context.Background(), "Dockerfile", src, []*rewrite.Rule{Rebase, Pin}, env)
	if err != nil {
		t.Fatal(err)
	}
	if res.Changed() {
		t.Fatalf("a run without a registry changed the file:\n%s", rewrite.UnifiedDiff("Dockerfile", res.Old, res.New))
	}
	byLine := map[int][]string{}
	for _, n := range res.Notes {
		byLine[n.Line] = append(byLine[n.Line], n.Rule+": "+n.Message)
	}
	for line, want := range map[int][]string{
		1: {"rebase: not rebased onto eclipse-temurin:11-jdk: the platforms of adoptopenjdk/openjdk11:jdk could not be looked up", "pin: not pinned: adoptopenjdk/openjdk11:jdk"},
		3: {"rebase: not rebased onto eclipse-temurin:17-jdk: the platforms of openjdk:17-jdk-slim could not be looked up", "pin: not pinned: openjdk:17-jdk-slim"},
		4: {"rebase: non-standard base image someone/python:3.11: not compared with python:3.11", "pin: not pinned: someone/python:3.11"},
		5: {"pin: not pinned: nginx:1.27"},
		6: {"pin: not pinned: node:20-slim"},
	} {
		got := byLine[line]
		if len(got) != len(want) {
			t.Errorf("line %d: notes %q, want %d", line, got, len(want))
			continue
		}
		for i := range want {
			if !strings.HasPrefix(got[i], want[i]) || !strings.Contains(got[i], "connect") {
				t.Errorf("line %d: note %q, want it to start %q and name the connection error", line, got[i], want[i])
			}
		}
	}
}

// A platform-specific FROM is compared on its own platform: the layers of
// linux/arm64 decide, not the default linux/amd64.
func TestRetagComparesTheNamedPlatform(t *testing.T) {
	host := rewritetest.StartRegistry(t, `
someone/python:3.11 layers=deb12,py311 platforms=linux/arm64
python:3.11 layers=deb12,py311 platforms=linux/amd64,linux/arm64
`)
	env := &rewrite.Env{Resolver: rewritetest.FixtureRemote(host, "python:3.11")}
	for _, tc := range []struct{ from, want string }{
		{"FROM --platform=linux/arm64 someone/python:3.11\n", "FROM --platform=linux/arm64 python:3.11\n"},
		// Without --platform the default (linux/amd64) is compared, which
		// someone/python does not have: a note, no edit.
		{"FROM someone/python:3.11\n", "FROM someone/python:3.11\n"},
	} {
		res, err := rewrite.Run(context.Background(), "Dockerfile", []byte(tc.from), []*rewrite.Rule{Rebase}, env)
		if err != nil {
			t.Fatal(err)
		}
		if string(res.New) != tc.want {
			t.Errorf("%q → %q, want %q (notes %v)", tc.from, res.New, tc.want, res.Notes)
		}
	}
}
