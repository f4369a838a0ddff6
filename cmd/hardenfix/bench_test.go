package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hardenfix/hardenfix/pkg/files"
	"github.com/hardenfix/hardenfix/pkg/harden"
)

// writeBenchTree writes n Dockerfiles sharing 50 base image references, one
// in three with an ADD to rewrite.
func writeBenchTree(b *testing.B, n int) string {
	root := b.TempDir()
	writeBenchFiles(b, root, n)
	return root
}

func writeBenchFiles(b testing.TB, root string, n int) {
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
}

// BenchmarkTree runs the whole command (discover, read, rewrite, diff, print
// in order) over a generated tree of 1,000 Dockerfiles, and over the folder
// HARDENFIX_BENCH_TREE names when it is set (a corpus of real files) with
// as many jobs as -cpu allows:
//
//	HARDENFIX_BENCH_TREE=/work/corpus go test ./cmd/hardenfix -run '^$' -bench 'Tree/real' -cpu 1,2 -count 3
func BenchmarkTree(b *testing.B) {
	if dir := os.Getenv("HARDENFIX_BENCH_TREE"); dir != "" {
		b.Run("real", func(b *testing.B) {
			benchTree(b, dir, harden.Options{Jobs: runtime.GOMAXPROCS(0), Offline: true}, nil)
		})
	}
	for _, jobs := range []int{1, 2} {
		b.Run(fmt.Sprintf("files=1000/jobs=%d", jobs), func(b *testing.B) {
			benchTree(b, writeBenchTree(b, 1000), harden.Options{Jobs: jobs, Offline: true}, nil)
		})
	}
}

// benchTree runs the command over root with every rule and opts (a new
// Hardener each time, as each run of the command has), and reports per
// file: wall and CPU time (the process's user and system time, which on a
// machine shared with other work says more than the wall clock), files per
// second of each, heap allocations and bytes. check, when set, runs after
// each run with the timer stopped. A tree of real files may hold files
// BuildKit cannot parse (exit 2); those count as processed files.
func benchTree(b *testing.B, root string, opts harden.Options, check func(b *testing.B)) {
	files, err := countDockerfiles(root)
	if err != nil {
		b.Fatal(err)
	}
	var cpu time.Duration
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for b.Loop() {
		start := cpuTime()
		h, err := harden.New(opts)
		if err != nil {
			b.Fatal(err)
		}
		o := &options{paths: []string{root}, mode: modeDiff, quiet: true, harden: h}
		var errs strings.Builder
		if code := run(context.Background(), o, io.Discard, &errs); code != exitOK && code != exitError {
			b.Fatalf("exit %d: %s", code, errs.String())
		}
		cpu += cpuTime() - start
		if check != nil {
			b.StopTimer()
			check(b)
			b.StartTimer()
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	n := float64(files * b.N)
	b.ReportMetric(n/b.Elapsed().Seconds(), "files/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/file")
	b.ReportMetric(n/cpu.Seconds(), "files/cpu-s")
	b.ReportMetric(float64(cpu.Nanoseconds())/n, "cpu-ns/file")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/n, "allocs/file")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/n, "B/file")
}

// countDockerfiles counts the files the command's discovery finds.
func countDockerfiles(root string) (int, error) {
	paths, err := files.Discover([]string{root}, nil)
	return len(paths), err
}
