//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hardenfix/hardenfix/pkg/scan"
	"github.com/hardenfix/hardenfix/pkg/verify/scanner"
)

// The Trivy tests need a trivy binary in the work folder. e2e/run.sh puts
// one there when HARDENFIX_E2E_TRIVY is set: 1 builds trivy v0.74.0 from
// the Go module proxy (about 12 minutes on 2 cores, once), a path copies
// that binary. Without one the tests skip and say so.
const trivyVersion = "0.74.0"

// trivyBin is the work folder's trivy, wrapped to run without a network.
func trivyBin(t *testing.T) string {
	t.Helper()
	return offline(t, trivyPath(t))
}

// trivyPath is the work folder's trivy v0.74.0; the test skips without it.
func trivyPath(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(workDir, "tools", "trivy")
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("HARDENFIX_E2E_TRIVY") != "" {
			t.Fatalf("HARDENFIX_E2E_TRIVY is set but e2e/run.sh left no %s", bin)
		}
		t.Skipf("no trivy in the work folder (%s): run HARDENFIX_E2E_TRIVY=1 e2e/run.sh -run 'TestScan|TestDS0002' to build trivy v%s into it "+
			"(about 12 minutes on 2 cores, cached), or HARDENFIX_E2E_TRIVY=/path/to/trivy to copy one", bin, trivyVersion)
	}
	// The module version in the build info: a plain `go install` leaves
	// `trivy --version` at "dev".
	out, err := exe(context.Background(), time.Minute, "", "go", "version", "-m", bin)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "\tgithub.com/aquasecurity/trivy\tv"+trivyVersion+"\t") {
		t.Fatalf("%s is not trivy v%s:\n%s", bin, trivyVersion, tail(out, 3))
	}
	return bin
}

// offline wraps bin in a script that runs it in a network namespace of its
// own, which has no interfaces but loopback: whatever the flags say, a
// request to the internet (a database, checks bundle or version check)
// fails instead of quietly succeeding on a machine that has a network.
func offline(t *testing.T, bin string) string {
	t.Helper()
	if _, err := exe(context.Background(), time.Minute, "", "unshare", "--net", "true"); err != nil {
		t.Fatalf("cannot make a network namespace for trivy: %v", err)
	}
	w := filepath.Join(t.TempDir(), "trivy")
	script := fmt.Sprintf("#!/bin/sh\nexec unshare --net -- %q \"$@\"\n", bin)
	if err := os.WriteFile(w, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return w
}

// trivyDB builds the e2e vulnerability database (e2e/trivydb, a module of
// its own) into a fresh Trivy cache folder and returns the folder.
func trivyDB(t *testing.T) string {
	t.Helper()
	prog := filepath.Join(workDir, "bin", "trivydb")
	start := time.Now()
	if _, err := exe(context.Background(), 10*time.Minute, filepath.Join(logDir, "trivydb-build.log"),
		"go", "build", "-C", filepath.Join(repoRoot, "e2e", "trivydb"), "-o", prog, "."); err != nil {
		t.Fatalf("building e2e/trivydb: %v", err)
	}
	cache := filepath.Join(t.TempDir(), "trivy-cache")
	if _, err := exe(context.Background(), time.Minute, filepath.Join(logDir, "trivydb.log"), prog, cache); err != nil {
		t.Fatalf("writing the test database: %v", err)
	}
	t.Logf("test database in %s (built and written in %.1fs)", cache, time.Since(start).Seconds())
	return cache
}

func caseNamed(t *testing.T, name string) testCase {
	t.Helper()
	for _, tc := range cases {
		if tc.Name == name {
			return tc
		}
	}
	t.Fatalf("no case %s in the cases table", name)
	return testCase{}
}

// saveArchive writes image as a docker-archive tar, what `docker save`
// writes and what hardenfix verify hands the scanner.
func saveArchive(t *testing.T, ctx context.Context, image, path string) {
	t.Helper()
	if _, err := exe(ctx, 5*time.Minute, "", "buildah", "push", "--quiet", "--signature-policy", policyPath(),
		image, "docker-archive:"+path+":"+image); err != nil {
		t.Fatalf("saving %s: %v", image, err)
	}
}

// TestScan scans the original and the rewritten image of the python-ext
// case with a real Trivy, offline, against the test database, through
// pkg/verify/scanner, and checks the counts before and after. The split
// moves the app onto the slim python image, so the compilers (gcc-12's
// binaries, binutils) and the -dev packages go: their findings are fixed,
// those in what the runtime keeps (glibc's libc6, python3.11, gcc-12's
// libgcc-s1 and libstdc++6) remain.
func TestScan(t *testing.T) {
	bin := trivyBin(t)
	cache := trivyDB(t)
	ctx := context.Background()

	c := &caseRun{t: t, tc: caseNamed(t, "python-ext"), ctx: ctx}
	c.prepare()
	c.rewrite()
	tr := &scanner.Trivy{Bin: bin, CacheDir: cache}
	var reps [2]*scan.Report
	dir := t.TempDir()
	for i, v := range []*variant{&c.orig, &c.new} {
		c.buildVariant(v)
		archive := filepath.Join(dir, v.label+".tar")
		saveArchive(t, ctx, v.image, archive)
		start := time.Now()
		rep, err := tr.Scan(ctx, archive)
		if err != nil {
			t.Fatalf("scanning the %s image: %v", v.label, err)
		}
		reps[i] = rep
		t.Logf("%s image: %d findings in %.1fs: %s", v.label, len(rep.Findings), time.Since(start).Seconds(), findings(rep.Findings))
	}
	d := scan.Compare(reps[0], reps[1])
	t.Logf("fixed: %s\nremaining: %s\nnew: %s", findings(d.Fixed), findings(d.Remaining), findings(d.New))

	want := scanWant
	if got := countsOf(reps[0].Counts()); got != want.before {
		t.Errorf("original image: %s, want %s", got, want.before)
	}
	if got := countsOf(reps[1].Counts()); got != want.after {
		t.Errorf("rewritten image: %s, want %s", got, want.after)
	}
	if got := fmt.Sprintf("fixed %d remaining %d new %d", len(d.Fixed), len(d.Remaining), len(d.New)); got != want.diff {
		t.Errorf("comparison: %s, want %s", got, want.diff)
	}
	for _, f := range reps[0].Findings {
		switch {
		case f.ID == "CVE-2099-0003":
			t.Errorf("%s in %s is fixed in glibc 2.36-9+deb12u3, older than the installed %s: Trivy must not report it", f.ID, f.Package, f.Installed)
		case f.ID == "CVE-2099-0002" && f.Fixed != "2.36-9+deb12u99":
			t.Errorf("%s in %s: fixed version %q, want 2.36-9+deb12u99", f.ID, f.Package, f.Fixed)
		case f.ID == "CVE-2099-0004" && (f.Score.Value != 9.8 || f.Score.Source != "nvd"):
			t.Errorf("%s in %s: score %v (%s), want NVD's 9.8", f.ID, f.Package, f.Score.Value, f.Score.Label())
		}
	}
	if t.Failed() {
		for _, v := range []*variant{&c.orig, &c.new} {
			out, _ := podmanRun(ctx, time.Minute, v.image, "dpkg-query", "-W", "-f", "${binary:Package} ${source:Package} ${Version}\\n")
			t.Logf("packages of the %s image:\n%s", v.label, out)
		}
	}
}

// countsOf prints counts the way the expectations are written.
func countsOf(c scan.Counts) string {
	var parts []string
	for _, s := range scan.Severities {
		parts = append(parts, fmt.Sprintf("%s %d", s, c.Of(s)))
	}
	return strings.Join(parts, ", ")
}

func findings(fs []*scan.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "\n    %s %s %s %s fixed %q", f.Severity, f.ID, f.Package, f.Installed, f.Fixed)
	}
	return b.String()
}

// scanWant is what Trivy must find with the test database (e2e/trivydb) in
// python-ext's two images, the full python stand-in and the slim one under
// the rewritten runtime stage. Per source package of the advisories, the
// binary packages in each (dpkg-query in the stand-ins, bookworm):
//
//	gcc-12 (low): 15 in the full image (cpp-12, gcc-12, gcc-12-base, libasan8,
//	  libatomic1, libcc1-0, libgcc-12-dev, libgcc-s1, libgomp1, libitm1,
//	  liblsan0, libquadmath0, libstdc++6, libtsan2, libubsan1), 3 in the slim
//	  one (gcc-12-base, libgcc-s1, libstdc++6)
//	glibc (CVE-2099-0002, high; CVE-2099-0003 is fixed below the installed
//	  version): libc-bin, libc-dev-bin, libc6, libc6-dev / libc-bin, libc6
//	python3.11 (critical, from NVD): 8 (libpython3.11, -dev, -minimal,
//	  -stdlib, python3.11, -dev, -minimal, -venv) / 4 (the -minimal and
//	  -stdlib libraries, python3.11, python3.11-minimal)
//	binutils (medium): 7 (binutils, binutils-common,
//	  binutils-x86-64-linux-gnu, libbinutils, libctf-nobfd0, libctf0,
//	  libgprofng0) / none
//	libxcrypt (unknown): libcrypt-dev, libcrypt1 / libcrypt1
var scanWant = struct{ before, after, diff string }{
	before: "critical 8, high 4, medium 7, low 15, negligible 0, unknown 2",
	after:  "critical 4, high 2, medium 0, low 3, negligible 0, unknown 1",
	diff:   "fixed 26 remaining 10 new 0",
}
