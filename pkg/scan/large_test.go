package scan

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// writeLargeTrivy writes a Trivy report of at least size bytes: one OS
// result whose vulnerabilities carry the long descriptions and reference
// lists real reports have. It returns the number of vulnerabilities.
func writeLargeTrivy(tb testing.TB, path string, size int64) int {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprint(w, `{"SchemaVersion":2,"ArtifactName":"big:1","ArtifactType":"container_image","Metadata":{"RepoDigests":["big@sha256:`+strings.Repeat("ab", 32)+`"]},"Results":[{"Target":"big:1 (debian 12.7)","Class":"os-pkgs","Type":"debian","Vulnerabilities":[`)
	desc := strings.Repeat("A heap-based buffer overflow in the parser allows a remote attacker to execute code. ", 20)
	var refs strings.Builder
	for i := range 15 {
		fmt.Fprintf(&refs, `"https://security.example.org/advisories/%04d/details-and-discussion"`, i)
		if i < 14 {
			refs.WriteString(",")
		}
	}
	sevs := []string{"CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"}
	var written int64
	n := 0
	for ; written < size; n++ {
		if n > 0 {
			w.WriteString(",")
		}
		k, _ := fmt.Fprintf(w, `{"VulnerabilityID":"CVE-2024-%06d","PkgID":"pkg%d@1.0","PkgName":"pkg%d","InstalledVersion":"1.0-%d","FixedVersion":"1.1","Status":"fixed","Severity":"%s","Title":"issue %d","Description":"%s","CVSS":{"nvd":{"V3Vector":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H","V3Score":%d.5},"redhat":{"V3Score":%d.1}},"References":[%s],"PublishedDate":"2024-01-01T00:00:00Z"}`,
			n, n%500, n%500, n, sevs[n%5], n, desc, n%10, n%9, refs.String())
		written += int64(k)
	}
	w.WriteString(`]}]}`)
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return n
}

// TestLargeReportIsStreamed reads a generated 50 MB report and checks that
// the bytes allocated while reading it are a fraction of its size: the file
// is never held in memory whole, let alone twice.
func TestLargeReportIsStreamed(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 50 MB file")
	}
	path := filepath.Join(t.TempDir(), "big.json")
	const size = 50 << 20
	n := writeLargeTrivy(t, path, size)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	r, err := ReadFile(path)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Findings) != n {
		t.Fatalf("%d findings, want %d", len(r.Findings), n)
	}
	if c := r.Counts(); c[Critical] != (n+4)/5 || c.Total() != n {
		t.Errorf("counts %v for %d findings", c, n)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	runtime.GC()
	var kept runtime.MemStats
	runtime.ReadMemStats(&kept)
	retained := int64(kept.HeapAlloc) - int64(before.HeapAlloc)
	runtime.KeepAlive(r)
	t.Logf("%d bytes, %d vulnerabilities: %d bytes allocated in all (%.0f%% of the file) in %d allocations; %d bytes kept after reading (%.1f%%)",
		fi.Size(), n, alloc, 100*float64(alloc)/float64(fi.Size()), after.Mallocs-before.Mallocs, retained, 100*float64(retained)/float64(fi.Size()))
	// Everything allocated while reading, garbage included, stays well
	// under the file's size: it was never in memory whole.
	if alloc > uint64(fi.Size())/2 {
		t.Errorf("reading allocated %d bytes for a %d-byte file; it must stream", alloc, fi.Size())
	}
	// What is kept is the findings, not the descriptions and references.
	if retained > fi.Size()/5 {
		t.Errorf("%d bytes kept after reading a %d-byte file", retained, fi.Size())
	}
}

// BenchmarkReadLarge reads a generated 50 MB Trivy report.
func BenchmarkReadLarge(b *testing.B) {
	path := filepath.Join(b.TempDir(), "big.json")
	writeLargeTrivy(b, path, 50<<20)
	fi, _ := os.Stat(path)
	b.SetBytes(fi.Size())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ReadFile(path); err != nil {
			b.Fatal(err)
		}
	}
}
