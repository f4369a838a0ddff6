// Command trivydb writes a small Trivy vulnerability database for the e2e
// suite: trivy.db and metadata.json in DIR/db, where DIR is what `trivy
// --cache-dir DIR` reads.
//
//	go run . DIR
//
// The database is built the way Aqua Security builds the real one, with
// trivy-db's own packages: the advisories below are written as files in the
// layout of the vuln-list-debian and vuln-list-nvd repositories (the Debian
// security tracker's data and NVD's API records, which the official builder
// reads), then trivy-db's Debian and NVD sources parse them and its vulndb
// builder stores them, normalises severities and writes the metadata with
// the schema version of the trivy-db that trivy v0.74.0 requires.
//
// The advisories are made up (IDs CVE-2099-*) and name source packages that
// really are in the e2e suite's Debian bookworm stand-ins: some only in the
// images that build (gcc-12's compilers, binutils, the -dev packages), some
// also in the runtime images (glibc, python3.11, gcc-12's libgcc-s1 and
// libstdc++6), so that a scan before and after a multi-stage split shows
// both fixed and remaining findings. See e2e/README.md.
//
// It lives in a module of its own so that trivy-db and its dependencies stay
// out of hardenfix's go.mod.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aquasecurity/trivy-db/pkg/db"
	"github.com/aquasecurity/trivy-db/pkg/types"
	"github.com/aquasecurity/trivy-db/pkg/vulndb"
	"github.com/aquasecurity/trivy-db/pkg/vulnsrc"
	"github.com/aquasecurity/trivy-db/pkg/vulnsrc/debian"
	"github.com/aquasecurity/trivy-db/pkg/vulnsrc/nvd"
	"github.com/aquasecurity/trivy-db/pkg/vulnsrc/vulnerability"
)

// advisory is one made-up security tracker entry for bookworm.
type advisory struct {
	ID      string
	Source  string // Debian source package
	Urgency string // the tracker's per-package urgency ("low", "high"); "" is none
	// Fixed is the bookworm version that fixes it; "" means unfixed
	// (<no-dsa> in bookworm, <unfixed> in sid).
	Fixed string
	// CVSS3 is NVD's CVSS v3.1 base score and vector; 0 means NVD has no
	// record. Trivy takes the severity from Debian's urgency when there is
	// one, else from NVD.
	CVSS3  float64
	Vector string
}

// bookwormSources are the source package versions the tracker's
// source/bookworm lists give: a fix at or below one of these has been
// released.
var bookwormSources = map[string]string{
	"glibc":      "2.36-9+deb12u99",
	"gcc-12":     "12.2.0-14+deb12u1",
	"binutils":   "2.40-2",
	"python3.11": "3.11.2-6+deb12u6",
	"libxcrypt":  "1:4.4.33-2",
}

// Advisories are the database's contents; the e2e test's expected counts
// follow from them and the stand-ins' packages.
var Advisories = []advisory{
	// In every gcc-12 binary: the compilers, their libraries (build
	// stage only) and libgcc-s1/libstdc++6 (also in the runtime).
	{ID: "CVE-2099-0001", Source: "gcc-12", Urgency: "low"},
	// glibc: libc6 and libc-bin everywhere, libc6-dev and libc-dev-bin
	// where gcc is. Fixed in a bookworm update above what is installed.
	{ID: "CVE-2099-0002", Source: "glibc", Urgency: "high", Fixed: "2.36-9+deb12u99"},
	// glibc again, fixed in an update older than the installed version:
	// Trivy must not report it.
	{ID: "CVE-2099-0003", Source: "glibc", Urgency: "medium", Fixed: "2.36-9+deb12u3"},
	// python3.11, in both images; no Debian urgency, NVD says critical.
	{ID: "CVE-2099-0004", Source: "python3.11", CVSS3: 9.8, Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"},
	// binutils, pulled in by gcc: build stage only.
	{ID: "CVE-2099-0005", Source: "binutils", Urgency: "medium", CVSS3: 5.5, Vector: "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H"},
	// libxcrypt (libcrypt1 everywhere, libcrypt-dev with gcc): no
	// urgency, no NVD record, so Trivy says UNKNOWN.
	{ID: "CVE-2099-0006", Source: "libxcrypt"},
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: trivydb CACHE-DIR (writes CACHE-DIR/db/trivy.db and metadata.json)")
		os.Exit(2)
	}
	if err := build(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "trivydb:", err)
		os.Exit(1)
	}
}

func build(cacheDir string) error {
	dbDir := filepath.Join(cacheDir, "db")
	if err := os.RemoveAll(dbDir); err != nil {
		return err
	}
	lists, err := os.MkdirTemp("", "trivydb-vuln-list-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(lists)
	if err := writeLists(lists); err != nil {
		return err
	}

	if err := db.Init(dbDir); err != nil {
		return err
	}
	srcs := map[types.SourceID]vulnsrc.VulnSrc{
		vulnerability.Debian: debian.NewVulnSrc(),
		vulnerability.NVD:    nvd.NewVulnSrc(),
	}
	b := vulndb.New(lists, dbDir, 10*365*24*time.Hour, vulndb.WithVulnSrcs(srcs))
	if err := b.Build([]string{string(vulnerability.Debian), string(vulnerability.NVD)}); err != nil {
		db.Close()
		return err
	}
	if err := db.Close(); err != nil {
		return err
	}
	return markDownloaded(dbDir)
}

// markDownloaded sets DownloadedAt, which Trivy's own download writes, so
// that a Trivy run without --skip-db-update does not call the database
// corrupt; with it (as hardenfix runs Trivy) it makes no difference.
func markDownloaded(dbDir string) error {
	p := filepath.Join(dbDir, "metadata.json")
	b, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	m["DownloadedAt"] = time.Now().UTC()
	out, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return os.WriteFile(p, out, 0o644)
}

// writeLists writes the advisories as vuln-list-debian and vuln-list-nvd
// files under dir.
func writeLists(dir string) error {
	tracker := filepath.Join(dir, "vuln-list-debian", "tracker")
	// sid has no major version; the Debian source skips it.
	if err := writeJSON(filepath.Join(tracker, "distributions.json"), map[string]any{
		"bookworm": map[string]string{"major-version": "12", "support": "security", "contact": "team@security.debian.org"},
		"sid":      map[string]string{"major-version": "", "support": "", "contact": ""},
	}); err != nil {
		return err
	}
	// The Debian source walks these folders; the advisories here are all
	// CVEs.
	for _, d := range []string{"DLA", "DSA"} {
		if err := os.MkdirAll(filepath.Join(tracker, d), 0o755); err != nil {
			return err
		}
	}
	for src, ver := range bookwormSources {
		p := filepath.Join(tracker, "source", "bookworm", "main", src[:1], src+".json")
		if err := writeJSON(p, map[string][]string{"Package": {src}, "Version": {ver}}); err != nil {
			return err
		}
	}
	for _, a := range Advisories {
		if _, ok := bookwormSources[a.Source]; !ok {
			return fmt.Errorf("%s: no bookworm version for source %s", a.ID, a.Source)
		}
		if err := writeJSON(filepath.Join(tracker, "CVE", a.ID+".json"), trackerEntry(a)); err != nil {
			return err
		}
		if a.CVSS3 > 0 {
			year := strings.Split(a.ID, "-")[1]
			if err := writeJSON(filepath.Join(dir, "vuln-list-nvd", "api", year, a.ID+".json"), nvdRecord(a)); err != nil {
				return err
			}
		}
	}
	return nil
}

// trackerEntry is a CVE in the security tracker's list, as vuln-list-debian
// stores it: a sid line ("- gcc-12 <unfixed> (low)") and a bookworm line.
func trackerEntry(a advisory) map[string]any {
	sev := ""
	if a.Urgency != "" {
		sev = " (" + a.Urgency + ")"
	}
	sid := map[string]any{"Type": "package", "Package": a.Source, "Severity": a.Urgency}
	rel := map[string]any{"Type": "package", "Release": "bookworm", "Package": a.Source}
	if a.Fixed == "" {
		sid["Kind"] = "unfixed"
		sid["Original"] = "- " + a.Source + " <unfixed>" + sev
		rel["Kind"] = "no-dsa"
		rel["Description"] = "Minor issue"
		rel["Original"] = "[bookworm] - " + a.Source + " <no-dsa> (Minor issue)"
	} else {
		// Fixed in sid at a later upstream release, in bookworm by an
		// update.
		sid["Kind"] = "fixed"
		sid["Version"] = "99.0-1"
		sid["Original"] = "- " + a.Source + " 99.0-1" + sev
		rel["Kind"] = "fixed"
		rel["Version"] = a.Fixed
		rel["Original"] = "[bookworm] - " + a.Source + " " + a.Fixed
	}
	desc := "(hardenfix e2e test advisory for " + a.Source + ", not a real vulnerability)"
	return map[string]any{
		"Header":      map[string]any{"ID": a.ID, "Description": desc, "Original": a.ID + " " + desc},
		"Annotations": []any{sid, rel},
	}
}

// nvdRecord is an NVD API 2.0 CVE record with one CVSS v3.1 metric.
func nvdRecord(a advisory) map[string]any {
	return map[string]any{
		"id":               a.ID,
		"sourceIdentifier": "cve@mitre.org",
		"published":        "2099-01-01T00:00:00.000",
		"lastModified":     "2099-01-02T00:00:00.000",
		"vulnStatus":       "Analyzed",
		"descriptions": []any{map[string]string{
			"lang": "en", "value": "hardenfix e2e test advisory for " + a.Source + ", not a real vulnerability.",
		}},
		"metrics": map[string]any{"cvssMetricV31": []any{map[string]any{
			"source": "nvd@nist.gov",
			"type":   "Primary",
			"cvssData": map[string]any{
				"version":      "3.1",
				"vectorString": a.Vector,
				"baseScore":    a.CVSS3,
				"baseSeverity": severity(a.CVSS3),
			},
		}}},
		"references": []any{},
	}
}

func severity(score float64) string {
	switch {
	case score >= 9:
		return "CRITICAL"
	case score >= 7:
		return "HIGH"
	case score >= 4:
		return "MEDIUM"
	}
	return "LOW"
}

func writeJSON(path string, v any) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}
