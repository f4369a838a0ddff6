package rules

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"github.com/hardenfix/hardenfix/pkg/files"
	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/hardenfix/hardenfix/pkg/rewrite/rewritetest"
)

// typical is a 30-line Dockerfile of the everyday kind: two stages, ADD and
// COPY, continuations and comments.
const typical = `# syntax=docker/dockerfile:1
ARG GO_VERSION=1.22
FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
ADD go.mod go.sum ./
RUN go mod download
ADD . .
# build a static binary
RUN CGO_ENABLED=0 go build \
      -trimpath \
      -ldflags="-s -w" \
      -o /out/server ./cmd/server

FROM debian:bookworm-slim
LABEL org.opencontainers.image.source="https://example.com/app"
RUN apt-get update && \
    apt-get install -y --no-install-recommends ca-certificates tzdata && \
    rm -rf /var/lib/apt/lists/*
ENV APP_HOME=/srv/app \
    APP_PORT=8080
WORKDIR ${APP_HOME}
ADD config/ ./config/
ADD https://example.com/GeoLite2-City.mmdb /usr/share/geoip/
COPY --from=build /out/server /usr/local/bin/server
EXPOSE 8080
HEALTHCHECK --interval=30s CMD ["/usr/local/bin/server", "-health"]
VOLUME /srv/app/data
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/server"]
CMD ["--port", "8080"]
`

// BenchmarkPipelineTypical runs one typical file through parse, every rule,
// the re-parse and the diff.
func BenchmarkPipelineTypical(b *testing.B) {
	rewritetest.WithoutReparseCheck(b)
	rules := All()
	env := &rewrite.Env{}
	ctx := context.Background()
	src := []byte(typical)
	b.ReportAllocs()
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		res, err := rewrite.Run(ctx, "Dockerfile", src, rules, env)
		if err != nil {
			b.Fatal(err)
		}
		if !res.Changed() {
			b.Fatal("the typical file should change")
		}
		_ = rewrite.UnifiedDiff("Dockerfile", res.Old, res.New)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "files/s")
}

// BenchmarkParse measures parsing alone, the floor under every rule.
func BenchmarkParse(b *testing.B) {
	rewritetest.WithoutReparseCheck(b)
	src := []byte(typical)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rewrite.Parse("Dockerfile", src); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLargeStage runs every rule over one stage of 4,000 instructions
// (ADD and ENV lines between a go build): rules that ask for the variables
// in scope at each instruction must stay linear in the file's length.
func BenchmarkLargeStage(b *testing.B) {
	rewritetest.WithoutReparseCheck(b)
	var src strings.Builder
	src.WriteString("FROM golang:1.22\nWORKDIR /src\n")
	for i := range 4000 {
		if i%2 == 0 {
			fmt.Fprintf(&src, "ADD f%d /x/\n", i)
		} else {
			fmt.Fprintf(&src, "ENV V%d=%d\n", i, i)
		}
	}
	src.WriteString("RUN CGO_ENABLED=0 go build -o /app .\nCMD [\"/app\"]\n")
	rules := All()
	env := &rewrite.Env{}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rewrite.Run(context.Background(), "Dockerfile", []byte(src.String()), rules, env); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCorpus measures, over the Dockerfiles under the folder
// HARDENFIX_BENCH_TREE names (read into memory first; files BuildKit
// rejects are left out), the floor and the whole of the per-file work on
// one goroutine:
//
//   - buildkit: BuildKit's parser alone, the one parse every file needs;
//
//   - parse: Parse, which adds the typed stages and the instruction table;
//
//   - rules: Run with every rule, offline (parse, rules, re-parses).
//
//     HARDENFIX_BENCH_TREE=/work/corpus go test ./pkg/rules -run '^$' -bench Corpus -count 3
func BenchmarkCorpus(b *testing.B) {
	rewritetest.WithoutReparseCheck(b)
	root := os.Getenv("HARDENFIX_BENCH_TREE")
	if root == "" {
		b.Skip("set HARDENFIX_BENCH_TREE to a folder of Dockerfiles")
	}
	paths, err := files.Discover([]string{root}, nil)
	if err != nil {
		b.Fatal(err)
	}
	var srcs [][]byte
	for _, p := range paths {
		src, err := files.Read(p)
		if err != nil {
			continue
		}
		if _, err := rewrite.Parse(p, src); err == nil {
			srcs = append(srcs, src)
		}
	}
	bench := func(name string, f func(src []byte)) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			var cpu time.Duration
			for b.Loop() {
				start := cpuTime()
				for _, src := range srcs {
					f(src)
				}
				cpu += cpuTime() - start
			}
			n := float64(len(srcs) * b.N)
			b.ReportMetric(n/b.Elapsed().Seconds(), "files/s")
			b.ReportMetric(n/cpu.Seconds(), "files/cpu-s")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/file")
		})
	}
	bench("buildkit", func(src []byte) {
		if _, err := parser.Parse(bytes.NewReader(src)); err != nil {
			b.Fatal(err)
		}
	})
	bench("parse", func(src []byte) {
		if _, err := rewrite.Parse("Dockerfile", src); err != nil {
			b.Fatal(err)
		}
	})
	rules := All()
	env := &rewrite.Env{}
	bench("rules", func(src []byte) {
		if _, err := rewrite.Run(context.Background(), "Dockerfile", src, rules, env); err != nil {
			b.Fatal(err)
		}
	})
}
