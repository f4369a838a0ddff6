package registry

import (
	"context"
	"sync"
	"testing"
	"time"
)

// BenchmarkLookups makes 1,000 Digest lookups over 50 unique references
// (as 1,000 Dockerfiles sharing 50 base images would) against the
// in-process registry, 8 callers at a time. One op is one run of 1,000
// lookups with a new Remote.
//
//   - cold: no disk cache; exactly 50 manifest requests per run.
//   - warm-disk: a disk cache filled by an earlier run; 0 requests.
//
// Each run checks its request count and fails the benchmark if it is not
// the expected one; the counts are reported as metrics.
func BenchmarkLookups(b *testing.B) {
	tr := newTestRegistry(b, false)
	refs := seedFifty(b, tr)

	run := func(b *testing.B, r *Remote) {
		b.Helper()
		work := make(chan string)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for ref := range work {
					if _, err := r.Digest(context.Background(), ref); err != nil {
						b.Error(err)
					}
				}
			})
		}
		for i := range 1000 {
			work <- refs[i%len(refs)]
		}
		close(work)
		wg.Wait()
	}
	bench := func(b *testing.B, newRemote func() *Remote, wantDigest int) {
		var manifests, total int
		for b.Loop() {
			b.StopTimer()
			tr.reset()
			r := newRemote()
			b.StartTimer()
			run(b, r)
			b.StopTimer()
			m := tr.count("", "/manifests/")
			if m != wantDigest {
				b.Fatalf("manifest requests = %d, want %d", m, wantDigest)
			}
			manifests += m
			total += tr.total()
			b.StartTimer()
		}
		b.ReportMetric(float64(manifests)/float64(b.N), "digest-requests/op")
		b.ReportMetric(float64(total)/float64(b.N), "requests/op")
	}
	opts := func(extra ...Option) func() *Remote {
		return func() *Remote { return tr.remote(append([]Option{WithTimeout(5 * time.Second)}, extra...)...) }
	}

	b.Run("cold", func(b *testing.B) { bench(b, opts(), 50) })

	cache, err := NewDiskCache(b.TempDir(), time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	run(b, tr.remote(WithCache(cache)))
	b.Run("warm-disk", func(b *testing.B) { bench(b, opts(WithCache(cache)), 0) })
}
