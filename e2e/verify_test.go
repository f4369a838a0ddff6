//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hardenfix/hardenfix/pkg/report"
)

// verifyCases are fixtures/verify/<name>: rewrites that really break, which
// `hardenfix verify` must catch and heal by dropping the rule named.
var verifyCases = []struct {
	Name  string
	Rules []string
	// Dropped is the rule heal must drop, Reason what the failure says
	// and Log what its log excerpt shows.
	Dropped, Reason, Log string
	// Kept is a rule whose fixes must survive heal; UID the user of the
	// healed image.
	Kept, UID string
}{
	{
		// non-root makes /app unwritable: the container exits at once
		// while the original keeps running (the run check's catch).
		Name: "writes-app-dir", Rules: []string{"add-to-copy", "non-root"},
		Dropped: "non-root", Reason: "exited with code", Log: "Permission denied",
		Kept: "add-to-copy", UID: "0",
	},
	{
		// multi-stage moves the app onto the slim image, which lacks the
		// npm it shells out to.
		Name: "npm-at-runtime", Rules: []string{"multi-stage", "non-root"},
		Dropped: "multi-stage", Reason: "exited with code", Log: "ENOENT",
		Kept: "non-root", UID: "1000",
	},
}

// TestVerify runs `hardenfix verify` once over a copy of fixtures/e2e
// (each case folder gets a .hardenfix.yaml enabling the case's rules) and
// fixtures/verify, with buildah building and podman running as in the
// rest of the suite, and checks its JSON report: every e2e case built
// (both images), ran alike and reports sizes and users (the case's UID);
// every fixtures/verify case was caught and healed by dropping its rule,
// with the log excerpt that shows why.
func TestVerify(t *testing.T) {
	if os.Getenv("HARDENFIX_E2E_BIN") != "" {
		t.Skip("HARDENFIX_E2E_BIN stands in for hardenfix; verify needs the real one")
	}
	tmp := t.TempDir()
	tree := filepath.Join(tmp, "tree")
	if err := copyTree(filepath.Join(repoRoot, "fixtures", "e2e"), filepath.Join(tree, "e2e")); err != nil {
		t.Fatal(err)
	}
	if err := copyTree(filepath.Join(repoRoot, "fixtures", "verify"), filepath.Join(tree, "verify")); err != nil {
		t.Fatal(err)
	}
	writeRules := func(dir string, rules []string) {
		t.Helper()
		yaml := fmt.Sprintf("rules:\n  enable: [%s]\n", strings.Join(rules, ", "))
		if err := os.WriteFile(filepath.Join(dir, ".hardenfix.yaml"), []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range cases {
		writeRules(filepath.Join(tree, "e2e", tc.Name), tc.Rules)
	}
	for _, vc := range verifyCases {
		writeRules(filepath.Join(tree, "verify", vc.Name), vc.Rules)
	}
	reportPath := filepath.Join(tmp, "verify.json")
	logs := filepath.Join(logDir, "verify")
	os.RemoveAll(logs)
	args := []string{"verify", "--engine", "buildah", "--pull", "never", "--offline", "--no-cache", "-j", "2",
		"--run-window", "3s", "--format", "json", "--report", reportPath, "--logs", logs, tree}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, hardenfixBin, args...)
	// buildah's isolation on these machines (DESIGN §7); the rest of the
	// environment (storage, containers.conf) is e2e/run.sh's.
	cmd.Env = append(os.Environ(), "BUILDAH_ISOLATION=chroot")
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("hardenfix %s (%.0fs):\n%s", strings.Join(args, " "), time.Since(start).Seconds(), out)
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 4) {
		t.Fatalf("hardenfix verify: %v", err)
	}
	if err != nil {
		t.Errorf("hardenfix verify exited 4: some file could not be verified")
	}
	data, err := os.ReadFile(reportPath)
	if err != nil {
		t.Fatal(err)
	}
	var rep report.Report
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	byCase := map[string]*report.File{}
	for i, f := range rep.Files {
		rel, _ := filepath.Rel(tree, filepath.Dir(f.Path))
		byCase[filepath.ToSlash(rel)] = &rep.Files[i]
	}
	line := func(name string, v *report.Verification) {
		c := v.Cells()
		printLine(fmt.Sprintf("verify %-16s built %s  run %s  size %s  user %s  %s", name, c[0], c[1], c[2], c[3], c[5]))
	}
	for _, tc := range cases {
		f := byCase["e2e/"+tc.Name]
		if f == nil || f.Verification == nil {
			t.Errorf("verify: no verification of case %s in the report", tc.Name)
			continue
		}
		v := f.Verification
		line(tc.Name, v)
		if v.Status != "verified" || !v.OriginalBuilt || !v.RewrittenBuilt || !v.RunOK {
			t.Errorf("verify: case %s: %s (built %v/%v, run ok %v, %s): %s", tc.Name, v.Status, v.OriginalBuilt, v.RewrittenBuilt, v.RunOK, v.Run, v.Reason)
			continue
		}
		if v.Before == nil || v.After == nil || v.Before.Size == 0 || v.After.Size == 0 {
			t.Errorf("verify: case %s: no sizes: %+v → %+v", tc.Name, v.Before, v.After)
			continue
		}
		if want := tc.UID; want != "" && v.After.UID != want && strings.Split(v.After.User, ":")[0] != want {
			t.Errorf("verify: case %s: the rewritten image runs as %q (uid %q), want %s", tc.Name, v.After.User, v.After.UID, want)
		}
	}
	for _, vc := range verifyCases {
		f := byCase["verify/"+vc.Name]
		if f == nil || f.Verification == nil {
			t.Errorf("verify: no verification of %s in the report", vc.Name)
			continue
		}
		v := f.Verification
		line(vc.Name, v)
		if v.Status != "healed" || len(v.Dropped) != 1 || v.Dropped[0].Rule != vc.Dropped {
			t.Errorf("verify: %s: %s, dropped %+v; want healed by dropping %s (%s)", vc.Name, v.Status, v.Dropped, vc.Dropped, v.Reason)
			continue
		}
		d := v.Dropped[0]
		if !strings.Contains(d.Reason, vc.Reason) || !strings.Contains(strings.Join(d.Log, "\n"), vc.Log) {
			t.Errorf("verify: %s: dropped %s because %q with log %q; want %q and %q in them", vc.Name, d.Rule, d.Reason, d.Log, vc.Reason, vc.Log)
		}
		printLine(fmt.Sprintf("       %-16s dropped %s: %s: %s", "", d.Rule, d.Reason, strings.Join(d.Log, " | ")))
		kept := false
		for _, x := range f.Fixes {
			kept = kept || x.Rule == vc.Kept
			if x.Rule == vc.Dropped {
				t.Errorf("verify: %s: the report still lists a %s fix", vc.Name, vc.Dropped)
			}
		}
		if !kept {
			t.Errorf("verify: %s: heal did not keep the %s fixes", vc.Name, vc.Kept)
		}
		if v.After == nil || (v.After.UID != vc.UID && v.After.User != vc.UID) {
			t.Errorf("verify: %s: healed image user %+v, want %s", vc.Name, v.After, vc.UID)
		}
	}
	// verify removes what it made: no image of its own is left.
	if out, err := exe(context.Background(), time.Minute, "", "podman", "images", "--format", "{{.Repository}}:{{.Tag}}"); err == nil && strings.Contains(out, "hardenfix-verify") {
		t.Errorf("verify left images behind:\n%s", out)
	}
	if out, err := exe(context.Background(), time.Minute, "", "podman", "ps", "-a", "--filter", "label=hardenfix.verify", "--format", "{{.Names}}"); err == nil && strings.TrimSpace(out) != "" {
		t.Errorf("verify left containers behind: %s", out)
	}
}

// TestVerifyScan runs `hardenfix verify --scanner trivy` over the
// python-ext case with the real Trivy of the scan tests (offline, in a
// network namespace of its own) and their test database, and checks the
// report's CVE counts before → after: verify saves both images, scans them
// and compares them as TestScan does by hand.
func TestVerifyScan(t *testing.T) {
	bin := trivyBin(t)
	cache := trivyDB(t)
	tc := caseNamed(t, "python-ext")
	tmp := t.TempDir()
	dir := filepath.Join(tmp, tc.Name)
	if err := copyTree(filepath.Join(repoRoot, "fixtures", "e2e", tc.Name), dir); err != nil {
		t.Fatal(err)
	}
	yaml := fmt.Sprintf("rules:\n  enable: [%s]\n", strings.Join(tc.Rules, ", "))
	if err := os.WriteFile(filepath.Join(dir, ".hardenfix.yaml"), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	reportPath := filepath.Join(tmp, "verify.json")
	args := []string{"verify", "--engine", "buildah", "--pull", "never", "--offline", "--no-cache", "--scanner", "trivy",
		"--run-window", "3s", "--format", "json", "--report", reportPath, "--logs", filepath.Join(logDir, "verify-scan"), dir}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, hardenfixBin, args...)
	// The offline trivy wrapper is named trivy: first on the PATH, it is
	// what --scanner trivy finds; TRIVY_CACHE_DIR holds the test database.
	cmd.Env = append(os.Environ(), "BUILDAH_ISOLATION=chroot", "TRIVY_CACHE_DIR="+cache,
		"PATH="+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	t.Logf("hardenfix %s:\n%s", strings.Join(args, " "), out)
	if err != nil {
		t.Fatalf("hardenfix verify: %v", err)
	}
	data, err := os.ReadFile(reportPath)
	if err != nil {
		t.Fatal(err)
	}
	var rep report.Report
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Files) != 1 || rep.Files[0].Verification == nil || rep.Files[0].Verification.CVEs == nil {
		t.Fatalf("no CVE counts in the report:\n%s", data)
	}
	v := rep.Files[0].Verification
	c := v.CVEs
	if c.Error != "" || c.Tool != "trivy" {
		t.Fatalf("scan: tool %q, error %q", c.Tool, c.Error)
	}
	// TestScan's expectations (scanWant): 36 findings before, 10 after.
	got := fmt.Sprintf("before %d (critical %d, high %d) after %d (critical %d, high %d), fixed %d remaining %d new %d",
		c.BeforeTotal, c.Before.Critical, c.Before.High, c.AfterTotal, c.After.Critical, c.After.High, c.Fixed, c.Remaining, c.New)
	want := "before 36 (critical 8, high 4) after 10 (critical 4, high 2), fixed 26 remaining 10 new 0"
	if got != want {
		t.Errorf("CVEs: %s\nwant %s", got, want)
	}
	cells := v.Cells()
	printLine(fmt.Sprintf("verify %-16s built %s  run %s  size %s  user %s  CVEs %s  %s (trivy, test database)", tc.Name, cells[0], cells[1], cells[2], cells[3], cells[4], cells[5]))
}
