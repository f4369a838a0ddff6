package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
)

func verifiedReport() *Report {
	r := New("test")
	res := &rewrite.Result{Path: "app/Dockerfile", Old: []byte("FROM a\n"), New: []byte("FROM a\nUSER 10001\n"),
		Fixes: []rewrite.Fix{{Rule: "add-to-copy", Line: 2, Risk: rewrite.Safe, Message: "COPY", Before: "ADD a /a", After: "COPY a /a"}}}
	r.Add("app/Dockerfile", res, nil)
	r.AddVerification("app/Dockerfile", &Verification{
		Status: "healed", Engine: "buildah", OriginalBuilt: true, RewrittenBuilt: false, RunOK: true,
		Before: &VerifiedImage{Size: 79_900_000, User: "", UID: "0"}, After: &VerifiedImage{Size: 79_900_100, UID: "0"},
		Dropped:     []DroppedRule{{Rule: "non-root", Reason: "the rewritten Dockerfile does not build", Log: []string{"E: List directory /var/lib/apt/lists/partial is missing. - Acquire (13: Permission denied)"}, LogPath: "/tmp/l/app-rewritten-build.log"}},
		Differences: []ImageDifference{{What: "size", Bad: true, Message: "the rewritten image is larger: 79.9MB → 79.9MB (+100B)"}},
		CVEs:        &VerificationScans{Tool: "trivy", BeforeTotal: 12, AfterTotal: 3},
	})
	r.Add("run/Dockerfile", &rewrite.Result{Path: "run/Dockerfile", Old: []byte("FROM d\n"), New: []byte("FROM d\nUSER 1\n")}, nil)
	r.AddVerification("run/Dockerfile", &Verification{Status: "healed", Engine: "buildah", OriginalBuilt: true, RewrittenBuilt: true, RunOK: true,
		Dropped: []DroppedRule{{Rule: "non-root", Reason: "the rewritten container exited with code 2 within 5s; the original was still running"}}})
	r.Add("web/Dockerfile", &rewrite.Result{Path: "web/Dockerfile", Old: []byte("FROM b\n"), New: []byte("FROM b\n")}, nil)
	r.AddVerification("web/Dockerfile", &Verification{Status: "unchanged", Engine: "buildah"})
	r.Add("bad/Dockerfile", &rewrite.Result{Path: "bad/Dockerfile", Old: []byte("FROM c\n"), New: []byte("FROM c\nUSER 1\n")}, nil)
	r.AddVerification("bad/Dockerfile", &Verification{Status: "failed", Engine: "buildah", Reason: "the original does not build, so the rewrite cannot be compared with it: E: no such package"})
	return r
}

func TestMarkdownLeadsWithVerification(t *testing.T) {
	var b bytes.Buffer
	if err := verifiedReport().WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	table := strings.Index(md, "### Verification: built and run with buildah")
	if table < 0 || table > strings.Index(md, "**") {
		t.Fatalf("the body does not lead with the verification table:\n%s", md)
	}
	for _, want := range []string{
		"| `app/Dockerfile` | ✓ ✗ | - | 79.9MB → 79.9MB | 0 → 0 | 12 → 3 | healed: dropped non-root |",
		"| `bad/Dockerfile` | ✗ ✗ | - |",
		"| `run/Dockerfile` | ✓ ✓ | ✗ | - → - | - → - | - | healed: dropped non-root |",
		"**non-root dropped**: the rewritten Dockerfile does not build (log: `/tmp/l/app-rewritten-build.log`)",
		"  E: List directory /var/lib/apt/lists/partial is missing. - Acquire (13: Permission denied)",
		"**`bad/Dockerfile` could not be verified**: the original does not build",
		"⚠ the rewritten image is larger",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "`web/Dockerfile` |") {
		t.Error("an unchanged file has a verification row")
	}
}

func TestJSONVerification(t *testing.T) {
	var b bytes.Buffer
	if err := verifiedReport().WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	validateJSONSchema(t, "../../docs/report-schema.json", b.Bytes())
	var got struct {
		Summary Summary
		Files   []struct {
			Path         string
			Verification *Verification
		}
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Summary.Verified != 2 || got.Summary.Healed != 2 || got.Summary.Unverified != 1 {
		t.Errorf("summary %+v", got.Summary)
	}
	v := got.Files[0].Verification
	if v == nil || v.Status != "healed" || v.Dropped[0].Rule != "non-root" || v.Before.UID != "0" || v.CVEs.AfterTotal != 3 {
		t.Errorf("verification %+v", v)
	}
}

func TestSARIFVerification(t *testing.T) {
	var b bytes.Buffer
	if err := verifiedReport().WriteSARIF(&b); err != nil {
		t.Fatal(err)
	}
	validate(t, sarifSchema(t), b.Bytes())
	out := b.String()
	for _, want := range []string{`"ruleId": "verification"`, `"level": "error"`, "could not be verified: the original does not build", `"level": "warning"`, "healed: dropped non-root (the rewritten Dockerfile does not build)"} {
		if !strings.Contains(out, want) {
			t.Errorf("SARIF lacks %q", want)
		}
	}
}
