package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
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
// in order) over a generated tree of 1,000 Dockerfiles.
func BenchmarkTree(b *testing.B) {
	for _, jobs := range []int{1, 2} {
		b.Run(fmt.Sprintf("files=1000/jobs=%d", jobs), func(b *testing.B) {
			root := writeBenchTree(b, 1000)
			opts := &options{paths: []string{root}, mode: modeDiff, rules: rewrite.All(), jobs: jobs, offline: true}
			b.ReportAllocs()
			for b.Loop() {
				var errs strings.Builder
				if code := run(context.Background(), opts, io.Discard, &errs); code != exitOK {
					b.Fatalf("exit %d: %s", code, errs.String())
				}
			}
			b.ReportMetric(float64(1000*b.N)/b.Elapsed().Seconds(), "files/s")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(1000*b.N), "ns/file")
		})
	}
}
