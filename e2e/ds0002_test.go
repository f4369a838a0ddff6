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
)

// TestDS0002 runs Trivy's Dockerfile check DS-0002 ("Image user should not
// be 'root'") offline, through scripts/trivy-config.sh, over every case's
// original Dockerfile and the one hardenfix wrote, and requires every
// rewrite whose image the case expects to run as a non-root UID to pass.
// Nothing is built: the check reads the Dockerfiles only.
func TestDS0002(t *testing.T) {
	bin := trivyPath(t) // trivy-config.sh runs it in a network namespace of its own
	ctx := context.Background()
	dir := t.TempDir()
	var paths []string
	for _, tc := range cases {
		c := &caseRun{t: t, tc: tc, ctx: ctx}
		c.prepare()
		c.rewrite()
		for _, v := range []*variant{&c.orig, &c.new} {
			p := filepath.Join(dir, tc.Name+"."+v.label+".Dockerfile")
			data, err := os.ReadFile(filepath.Join(v.dir, "Dockerfile"))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
			paths = append(paths, p)
		}
	}
	script := filepath.Join(repoRoot, "scripts", "trivy-config.sh")
	cmd := append([]string{"TRIVY=" + bin, script}, paths...)
	out, err := exe(ctx, 5*time.Minute, filepath.Join(logDir, "ds0002.log"), "env", cmd...)
	t.Logf("scripts/trivy-config.sh:\n%s", out)
	if err != nil && !strings.Contains(out, "DS-0002:") {
		t.Fatalf("trivy-config.sh: %v", err)
	}
	status := map[string]string{} // file name -> PASS/FAIL line
	for _, l := range strings.Split(out, "\n") {
		st, rest, ok := strings.Cut(l, "  ")
		if !ok || (st != "PASS" && st != "FAIL" && st != "NONE") {
			continue
		}
		path, _, _ := strings.Cut(rest, ": ")
		status[filepath.Base(path)] = l
	}
	word := func(l string) string { return strings.Fields(l + " -")[0] }
	for _, tc := range cases {
		var got [2]string
		for i, label := range []string{"original", "rewritten"} {
			name := tc.Name + "." + label + ".Dockerfile"
			l, ok := status[name]
			got[i] = word(l)
			switch {
			case !ok:
				t.Errorf("%s: no DS-0002 result", name)
			case label == "rewritten" && tc.UID != "" && tc.UID != "0" && got[i] != "PASS":
				t.Errorf("%s: the case runs as uid %s, yet Trivy's DS-0002 says: %s", name, tc.UID, l)
			}
		}
		printLine(fmt.Sprintf("%-12s DS-0002 %s -> %s", tc.Name, got[0], got[1]))
	}
}
