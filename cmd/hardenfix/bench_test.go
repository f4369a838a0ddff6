package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hardenfix/hardenfix/pkg/files"
	"github.com/hardenfix/hardenfix/pkg/harden"
)

// writeBenchTree writes n Dockerfiles sharing 50 base image references, one
// in three with an ADD to rewrite.
func writeBenchTree(b *testing.B, n int) string {
	root := b.TempDir()
	for i := range n {
		dir := filepath.Join(root, fmt.Sprintf("svc%04d", i))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		add := "COPY"
		if i%3 == 0 {
			add = "ADD"
		}
		src := fmt.Sprintf(`FROM registry.example.com/base/image%02d:1.%d AS build
WORKDIR /src
%s . .
RUN make build
FROM debian:bookworm-slim
COPY --from=build /src/out /app
CMD ["/app"]
`, i%50, i%50, add)
		if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(src), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return root
}

// BenchmarkTree runs the whole command (discover, read, rewrite, diff, print
// in order) over a generated tree of 1,000 Dockerfiles, and over the folder
// HARDENFIX_BENCH_TREE names when it is set (a corpus of real files).
func BenchmarkTree(b *testing.B) {
	if dir := os.Getenv("HARDENFIX_BENCH_TREE"); dir != "" {
		b.Run("real", func(b *testing.B) { benchTree(b, dir, 2) })
	}
	for _, jobs := range []int{1, 2} {
		b.Run(fmt.Sprintf("files=1000/jobs=%d", jobs), func(b *testing.B) {
			benchTree(b, writeBenchTree(b, 1000), jobs)
		})
	}
}

// benchTree runs the command over root with every rule, offline, and reports
// files per second and nanoseconds per file. A tree of real files may hold
// files BuildKit cannot parse (exit 2); those count as processed files.
func benchTree(b *testing.B, root string, jobs int) {
	files, err := countDockerfiles(root)
	if err != nil {
		b.Fatal(err)
	}
	h, err := harden.New(harden.Options{Jobs: jobs, Offline: true})
	if err != nil {
		b.Fatal(err)
	}
	opts := &options{paths: []string{root}, mode: modeDiff, quiet: true, harden: h}
	b.ReportAllocs()
	for b.Loop() {
		var errs strings.Builder
		if code := run(context.Background(), opts, io.Discard, &errs); code != exitOK && code != exitError {
			b.Fatalf("exit %d: %s", code, errs.String())
		}
	}
	b.ReportMetric(float64(files*b.N)/b.Elapsed().Seconds(), "files/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(files*b.N), "ns/file")
}

// countDockerfiles counts the files the command's discovery finds.
func countDockerfiles(root string) (int, error) {
	paths, err := files.Discover([]string{root}, nil)
	return len(paths), err
}
