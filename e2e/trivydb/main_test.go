package main

import (
	"testing"

	"github.com/aquasecurity/trivy-db/pkg/db"
	"github.com/aquasecurity/trivy-db/pkg/metadata"
	"github.com/aquasecurity/trivy-db/pkg/types"
)

// TestBuild reads the database back with trivy-db's own getters, the ones
// Trivy's Debian detector and severity lookup call.
func TestBuild(t *testing.T) {
	cache := t.TempDir()
	if err := build(cache); err != nil {
		t.Fatal(err)
	}
	dbDir := cache + "/db"
	m, err := metadata.NewClient(dbDir).Get()
	if err != nil {
		t.Fatal(err)
	}
	if m.Version != db.SchemaVersion || m.DownloadedAt.IsZero() || !m.NextUpdate.After(m.UpdatedAt) {
		t.Errorf("metadata = %+v, want schema %d, a download time and a next update after the update", m, db.SchemaVersion)
	}

	if err := db.Init(dbDir); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	dbc := db.Config{}

	type adv struct {
		id, fixed string
		sev       types.Severity
	}
	for src, want := range map[string][]adv{
		"gcc-12":     {{"CVE-2099-0001", "", types.SeverityLow}},
		"glibc":      {{"CVE-2099-0002", "2.36-9+deb12u99", types.SeverityHigh}, {"CVE-2099-0003", "2.36-9+deb12u3", types.SeverityMedium}},
		"python3.11": {{"CVE-2099-0004", "", types.SeverityUnknown}},
		"binutils":   {{"CVE-2099-0005", "", types.SeverityMedium}},
		"libxcrypt":  {{"CVE-2099-0006", "", types.SeverityUnknown}},
		"openssl":    nil,
	} {
		got, err := dbc.GetAdvisories("debian 12", src)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Errorf("%s: %d advisories %+v, want %d", src, len(got), got, len(want))
			continue
		}
		for _, w := range want {
			found := false
			for _, g := range got {
				if g.VulnerabilityID == w.id {
					found = true
					if g.FixedVersion != w.fixed || g.Severity != w.sev {
						t.Errorf("%s %s: fixed %q severity %s, want %q %s", src, w.id, g.FixedVersion, g.Severity, w.fixed, w.sev)
					}
					if g.DataSource == nil || g.DataSource.ID != "debian" {
						t.Errorf("%s %s: data source %+v, want debian", src, w.id, g.DataSource)
					}
				}
			}
			if !found {
				t.Errorf("%s: no %s in %+v", src, w.id, got)
			}
		}
	}

	v, err := dbc.GetVulnerability("CVE-2099-0004")
	if err != nil {
		t.Fatal(err)
	}
	if v.VendorSeverity["nvd"] != types.SeverityCritical || v.CVSS["nvd"].V3Score != 9.8 {
		t.Errorf("CVE-2099-0004 = %+v, want NVD critical 9.8", v)
	}
	if v, err := dbc.GetVulnerability("CVE-2099-0006"); err != nil || len(v.VendorSeverity) != 0 || v.Title == "" {
		t.Errorf("CVE-2099-0006 = %+v, %v; want a title and no severity", v, err)
	}
}
