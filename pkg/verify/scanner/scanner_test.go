package scanner

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hardenfix/hardenfix/pkg/scan"
)

// fakeBin writes an executable shell script called name into dir. The
// script records its arguments and the scanner environment it was given
// into name.args, one per line, then runs body.
func fakeBin(t *testing.T, dir, name, body string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	script := "#!/bin/sh\n" +
		`for a in "$@"; do echo "$a"; done > "$0.args"` + "\n" +
		`env | grep '^GRYPE_' | sort > "$0.env"` + "\n" +
		body + "\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

func archive(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "image.tar")
	if err := os.WriteFile(p, []byte("not read by the fake"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func testdata(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", "scan", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTrivyCommand(t *testing.T) {
	tr := &Trivy{Bin: "/opt/trivy", CacheDir: "/c"}
	got := tr.Command("/tmp/a.tar")
	want := Command{Path: "/opt/trivy", Args: []string{
		"image", "--input", "/tmp/a.tar", "--format", "json", "--scanners", "vuln",
		"--offline-scan", "--skip-db-update", "--skip-java-db-update",
		"--skip-version-check", "--disable-telemetry", "--no-progress", "--quiet",
		"--cache-dir", "/c",
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Command =\n%v\nwant\n%v", got, want)
	}
	if c := (&Trivy{}).Command("a.tar"); c.Path != "trivy" || contains(c.Args, "--cache-dir") {
		t.Errorf("default Command = %v, want trivy without --cache-dir", c)
	}
}

func TestGrypeCommand(t *testing.T) {
	got := (&Grype{Bin: "/opt/grype", CacheDir: "/g"}).Command("/tmp/a.tar")
	want := Command{
		Path: "/opt/grype",
		Args: []string{"docker-archive:/tmp/a.tar", "-o", "json", "-q"},
		Env: []string{"GRYPE_DB_AUTO_UPDATE=false", "GRYPE_DB_VALIDATE_AGE=false",
			"GRYPE_CHECK_FOR_APP_UPDATE=false", "GRYPE_DB_CACHE_DIR=/g"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Command =\n%v\nwant\n%v", got, want)
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func TestLookup(t *testing.T) {
	for _, tc := range []struct {
		name    string
		onPath  []string
		ask     string
		want    string // scanner name; "" means nil
		wantErr string
	}{
		{name: "none", want: ""},
		{name: "trivy first", onPath: []string{"grype", "trivy"}, want: "trivy"},
		{name: "grype alone", onPath: []string{"grype"}, want: "grype"},
		{name: "named grype", onPath: []string{"grype", "trivy"}, ask: "grype", want: "grype"},
		{name: "named missing", onPath: []string{"grype"}, ask: "trivy", wantErr: "scanner trivy:"},
		{name: "unknown", onPath: []string{"trivy"}, ask: "clair", wantErr: `unknown scanner "clair"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, n := range tc.onPath {
				fakeBin(t, dir, n, "exit 0")
			}
			t.Setenv("PATH", dir)
			s, err := Lookup(tc.ask)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Lookup(%q) error = %v, want %q", tc.ask, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == "" {
				if s != nil {
					t.Fatalf("Lookup = %v, want nil", s)
				}
				return
			}
			if s == nil || s.Name() != tc.want {
				t.Fatalf("Lookup(%q) = %v, want %s", tc.ask, s, tc.want)
			}
			var bin string
			switch s := s.(type) {
			case *Trivy:
				bin = s.Bin
			case *Grype:
				bin = s.Bin
			}
			if bin != filepath.Join(dir, tc.want) {
				t.Errorf("Bin = %q, want %q", bin, filepath.Join(dir, tc.want))
			}
		})
	}
}

func TestTrivyScan(t *testing.T) {
	dir := t.TempDir()
	bin := fakeBin(t, dir, "trivy", "cat "+testdata(t, "trivy-before.json"))
	a := archive(t)
	tr := &Trivy{Bin: bin, CacheDir: filepath.Join(dir, "cache")}
	rep, err := tr.Scan(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	want, err := scan.ReadFile(testdata(t, "trivy-before.json"))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Tool != scan.Trivy || rep.Counts() != want.Counts() || len(rep.Findings) != len(want.Findings) {
		t.Errorf("report: tool %s counts %v, want trivy %v", rep.Tool, rep.Counts(), want.Counts())
	}
	if got := readLines(t, bin+".args"); !reflect.DeepEqual(got, tr.Command(a).Args) {
		t.Errorf("trivy ran with %q, want %q", got, tr.Command(a).Args)
	}
}

func TestGrypeScan(t *testing.T) {
	dir := t.TempDir()
	bin := fakeBin(t, dir, "grype", "cat "+testdata(t, "grype-before.json"))
	a := archive(t)
	g := &Grype{Bin: bin}
	rep, err := g.Scan(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	want, err := scan.ReadFile(testdata(t, "grype-before.json"))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Tool != scan.Grype || rep.Counts() != want.Counts() {
		t.Errorf("report: tool %s counts %v, want grype %v", rep.Tool, rep.Counts(), want.Counts())
	}
	wantEnv := []string{"GRYPE_CHECK_FOR_APP_UPDATE=false", "GRYPE_DB_AUTO_UPDATE=false", "GRYPE_DB_VALIDATE_AGE=false"}
	if got := readLines(t, bin+".env"); !reflect.DeepEqual(got, wantEnv) {
		t.Errorf("grype env = %q, want %q", got, wantEnv)
	}
}

func TestScanErrors(t *testing.T) {
	dir := t.TempDir()
	a := archive(t)
	fail := fakeBin(t, dir, "trivy", "echo 'FATAL init error: --skip-db-update cannot be specified on the first run' >&2; exit 1")
	_, err := (&Trivy{Bin: fail}).Scan(context.Background(), a)
	if err == nil || !strings.Contains(err.Error(), "cannot be specified on the first run") {
		t.Errorf("failing trivy: error = %v, want its stderr", err)
	}
	wrong := fakeBin(t, dir, "grype", "cat "+testdata(t, "trivy-after.json"))
	if _, err := (&Grype{Bin: wrong}).Scan(context.Background(), a); err == nil || !strings.Contains(err.Error(), "Trivy report") {
		t.Errorf("grype writing a Trivy report: error = %v", err)
	}
	if _, err := (&Trivy{Bin: fail}).Scan(context.Background(), filepath.Join(dir, "missing.tar")); err == nil || !strings.Contains(err.Error(), "image archive") {
		t.Errorf("missing archive: error = %v", err)
	}
}
