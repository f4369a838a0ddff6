package registry

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestEmbeddedCatalogLoadsAndIsConsistent(t *testing.T) {
	c, err := ParseCatalog(embeddedCatalog)
	if err != nil {
		t.Fatal(err)
	}
	if c.Version == "" || c.Date == "" {
		t.Errorf("catalog needs a version and a date, has %q and %q", c.Version, c.Date)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("catalog is inconsistent:\n%v", err)
	}
	// Issue 3 item 3: the rows the catalog must have.
	for _, name := range []string{
		"node", "python", "golang", "rust", "ruby", "php", "eclipse-temurin", "amazoncorretto",
		"debian", "ubuntu", "alpine", "busybox", "nginx", "httpd", "postgres", "mysql", "mariadb",
		"redis", "mongo", "almalinux", "oraclelinux", "amazonlinux", "rockylinux/rockylinux",
		"registry.access.redhat.com/ubi9/ubi", "registry.access.redhat.com/ubi9/ubi-minimal",
		"registry.access.redhat.com/ubi9/ubi-micro", "registry.access.redhat.com/ubi9/python-312",
		"registry.access.redhat.com/ubi9/nodejs-22", "registry.access.redhat.com/ubi9/openjdk-17",
		"registry.access.redhat.com/ubi9/openjdk-17-runtime", "registry.access.redhat.com/ubi9/openjdk-21",
		"registry.access.redhat.com/ubi9/openjdk-21-runtime",
		"gcr.io/distroless/static-debian12", "gcr.io/distroless/base-debian12", "gcr.io/distroless/cc-debian12",
		"gcr.io/distroless/java17-debian12", "gcr.io/distroless/nodejs22-debian12", "gcr.io/distroless/python3-debian12",
		"cgr.dev/chainguard/static", "cgr.dev/chainguard/wolfi-base", "cgr.dev/chainguard/node",
		"cgr.dev/chainguard/python", "cgr.dev/chainguard/go", "cgr.dev/chainguard/jdk",
		"mcr.microsoft.com/dotnet/sdk", "mcr.microsoft.com/dotnet/aspnet", "mcr.microsoft.com/dotnet/runtime",
		"nginxinc/nginx-unprivileged",
	} {
		img, ok := c.Lookup(name)
		if !ok {
			t.Errorf("%s: missing", name)
			continue
		}
		if img.Deprecated != nil {
			t.Errorf("%s: must not be deprecated", name)
		}
	}
	for _, name := range []string{"java", "openjdk", "adoptopenjdk", "centos", "iojs", "django", "celery", "rails", "consul", "vault"} {
		img, ok := c.Lookup(name)
		if !ok || img.Deprecated == nil {
			t.Errorf("%s: want a deprecated row", name)
		}
	}
	if len(c.Mappings) < 15 {
		t.Errorf("want at least 15 mapping rows, have %d", len(c.Mappings))
	}
}

// Every mapping target and successor must itself be a (non-deprecated)
// catalog image. Validate checks this; here it is checked directly so the
// test says so even if Validate changes.
func TestEveryTargetIsACatalogImage(t *testing.T) {
	c := Embedded()
	n := 0
	check := func(from, to string) {
		n++
		img, ok := c.Lookup(placeholderExpand(to))
		if !ok {
			t.Errorf("%s → %s: target is not a catalog image", from, to)
		} else if img.Deprecated != nil {
			t.Errorf("%s → %s: target is deprecated", from, to)
		}
	}
	for _, img := range c.Images {
		if d := img.Deprecated; d != nil {
			check(img.Name, d.Successor)
			for _, r := range d.Tags {
				check(img.Name+":"+r.Match, r.To)
			}
		}
		if img.NonRootAlt != "" {
			check(img.Name, img.NonRootAlt)
		}
	}
	for _, m := range c.Mappings {
		for _, r := range m.Tags {
			check(m.Name+":"+r.Match, r.To)
		}
	}
	if n < 40 {
		t.Errorf("checked only %d targets; the catalog lost rows", n)
	}
}

// The embedded file must not define any key twice, at any level: yaml.v3
// would silently keep one of them in some positions, so the raw node tree is
// walked.
func TestCatalogHasNoDuplicateKeys(t *testing.T) {
	var root yaml.Node
	if err := yaml.Unmarshal(embeddedCatalog, &root); err != nil {
		t.Fatal(err)
	}
	if err := checkDuplicateKeys(&root); err != nil {
		t.Fatal(err)
	}
	// And the check works.
	for name, doc := range map[string]string{
		"same key":        "images:\n  node: {source: x}\n  node: {source: y}\n",
		"nested key":      "images:\n  node:\n    source: x\n    source: y\n",
		"normalised name": "images:\n  node: {source: x, role: base}\n  docker.io/library/node: {source: y, role: base}\n",
		"unknown field":   "images:\n  node: {source: x, colour: red}\n",
		"bad regexp":      "mappings:\n  a/b: {source: x, reason: r, tags: [{match: '(', to: 'node:1'}]}\n",
	} {
		if _, err := ParseCatalog([]byte(doc)); err == nil {
			t.Errorf("%s: ParseCatalog accepted %q", name, doc)
		}
	}
}

func TestFactsAreTagAware(t *testing.T) {
	c := Embedded()
	for _, tc := range []struct {
		image                    string
		family, libc, pm, user   string
		uid                      int
		shell, shadow, dropsPriv bool
		needsRoot                bool
		verification             string
	}{
		{image: "node:20", family: "debian", libc: "glibc", pm: "apt", user: "root", uid: 0, shell: true, shadow: true, verification: "official"},
		{image: "node:20-alpine", family: "alpine", libc: "musl", pm: "apk", user: "root", uid: 0, shell: true, verification: "official"},
		{image: "docker.io/library/python:3.12-slim", family: "debian", libc: "glibc", pm: "apt", user: "root", uid: 0, shell: true, shadow: true, verification: "official"},
		{image: "gcr.io/distroless/static-debian12", family: "distroless", user: "root", uid: 0, verification: "distroless"},
		{image: "gcr.io/distroless/static-debian12:nonroot", family: "distroless", user: "nonroot", uid: 65532, verification: "distroless"},
		{image: "gcr.io/distroless/base-debian12:debug-nonroot", family: "distroless", libc: "glibc", user: "nonroot", uid: 65532, shell: true, verification: "distroless"},
		{image: "gcr.io/distroless/base-debian12:debug", family: "distroless", libc: "glibc", user: "root", uid: 0, shell: true, verification: "distroless"},
		{image: "registry.access.redhat.com/ubi9/ubi-minimal", family: "rhel", libc: "glibc", pm: "microdnf", user: "root", uid: 0, shell: true, verification: "redhat"},
		{image: "registry.access.redhat.com/ubi9/ubi:9.4", family: "rhel", libc: "glibc", pm: "dnf", user: "root", uid: 0, shell: true, shadow: true, verification: "redhat"},
		{image: "registry.access.redhat.com/ubi9/python-312", family: "rhel", libc: "glibc", pm: "dnf", user: "default", uid: 1001, shell: true, shadow: true, verification: "redhat"},
		{image: "registry.access.redhat.com/ubi9/openjdk-21-runtime:1.20", family: "rhel", libc: "glibc", pm: "microdnf", user: "jboss", uid: 185, shell: true, verification: "redhat"},
		{image: "cgr.dev/chainguard/python:latest", family: "wolfi", libc: "glibc", user: "nonroot", uid: 65532, verification: "chainguard"},
		{image: "cgr.dev/chainguard/python:latest-dev", family: "wolfi", libc: "glibc", pm: "apk", user: "nonroot", uid: 65532, shell: true, verification: "chainguard"},
		{image: "mcr.microsoft.com/dotnet/aspnet:8.0", family: "debian", libc: "glibc", pm: "apt", user: "root", uid: 0, shell: true, shadow: true, verification: "microsoft"},
		{image: "mcr.microsoft.com/dotnet/aspnet:10.0", family: "ubuntu", libc: "glibc", pm: "apt", user: "root", uid: 0, shell: true, shadow: true, verification: "microsoft"},
		{image: "mcr.microsoft.com/dotnet/aspnet:8.0-jammy-chiseled", family: "ubuntu", libc: "glibc", user: "app", uid: 1654, verification: "microsoft"},
		{image: "postgres:16-alpine", family: "alpine", libc: "musl", pm: "apk", user: "root", uid: 0, shell: true, dropsPriv: true, verification: "official"},
		{image: "nginx", family: "debian", libc: "glibc", pm: "apt", user: "root", uid: 0, shell: true, shadow: true, needsRoot: true, verification: "official"},
		{image: "nginxinc/nginx-unprivileged:stable-alpine", family: "alpine", libc: "musl", pm: "apk", user: "101", uid: 101, shell: true, verification: "verified-publisher"},
		{image: "openjdk:17", family: "rhel", libc: "glibc", pm: "microdnf", user: "root", uid: 0, shell: true, shadow: true, verification: "official"},
		{image: "openjdk:17-jdk-slim", family: "debian", libc: "glibc", pm: "apt", user: "root", uid: 0, shell: true, shadow: true, verification: "official"},
		{image: "centos:centos7.8.2003", family: "rhel", libc: "glibc", pm: "yum", user: "root", uid: 0, shell: true, shadow: true, verification: "official"},
		{image: "centos:8", family: "rhel", libc: "glibc", pm: "dnf", user: "root", uid: 0, shell: true, shadow: true, verification: "official"},
		{image: "oraclelinux:7-slim", family: "rhel", libc: "glibc", pm: "yum", user: "root", uid: 0, shell: true, verification: "official"},
		{image: "oraclelinux:9-slim", family: "rhel", libc: "glibc", pm: "microdnf", user: "root", uid: 0, shell: true, verification: "official"},
		{image: "mcr.microsoft.com/dotnet/runtime:10.0-azurelinux3.0-distroless", libc: "glibc", pm: "", user: "app", uid: 1654, verification: "microsoft"},
		{image: "celery:4", family: "debian", libc: "glibc", pm: "apt", user: "user", uid: -1, shell: true, shadow: true, verification: "official"},
	} {
		f, ok := c.Facts(tc.image)
		if !ok {
			t.Errorf("%s: no facts", tc.image)
			continue
		}
		got := []any{f.Family, f.Libc, f.PackageManager, f.User, f.UID, f.HasShell, f.HasShadowUtils, f.DropsPrivileges, f.NeedsRoot, f.Verification}
		want := []any{tc.family, tc.libc, tc.pm, tc.user, tc.uid, tc.shell, tc.shadow, tc.dropsPriv, tc.needsRoot, tc.verification}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%s: facts (family libc pm user uid shell shadow drops needs-root verification)\n got %v\nwant %v", tc.image, got, want)
				break
			}
		}
	}
	if f, ok := c.Facts("nginx:1.27"); !ok || f.NonRootAlt != "nginxinc/nginx-unprivileged" {
		t.Errorf("nginx: want the unprivileged alternative, got %+v", f)
	}
	if _, ok := c.Facts("someone/thing:1"); ok {
		t.Errorf("an unknown image must have no facts")
	}
	if _, ok := c.Facts("Not A Reference"); ok {
		t.Errorf("an invalid reference must have no facts")
	}
	var _ ImageInfo = c
}

func TestVerified(t *testing.T) {
	c := Embedded()
	for image, want := range map[string]string{
		"haproxy:3":                            "official", // no row, but under docker.io/library/
		"docker.io/library/node:20":            "official",
		"registry.access.redhat.com/ubi8/ubi":  "redhat",
		"gcr.io/distroless/java25-debian13":    "distroless",
		"mcr.microsoft.com/dotnet/nightly/sdk": "microsoft",
		"nginxinc/nginx-unprivileged":          "verified-publisher",
		"someone/python:3.11":                  "",
		"ghcr.io/library/node":                 "",
		"gcr.io/distrolessx/static":            "",
	} {
		p, ok := c.Verified(image)
		if ok != (want != "") || p.Verification != want {
			t.Errorf("%s: verified %v %q, want %q", image, ok, p.Verification, want)
		}
	}
}

func TestTargets(t *testing.T) {
	c := Embedded()
	for _, tc := range []struct{ image, want string }{
		{"openjdk:17-jdk-slim", "eclipse-temurin:17-jdk"},
		{"openjdk:11-jre-slim", "eclipse-temurin:11-jre"},
		{"openjdk:8u342-jre", "eclipse-temurin:8-jre"},
		{"openjdk:17-jdk-alpine", "eclipse-temurin:17-jdk-alpine"},
		{"openjdk:17-oraclelinux8", "eclipse-temurin:17-jdk-ubi9-minimal"},
		{"openjdk:17", "eclipse-temurin:17-jdk"},
		{"java:8-jre", "eclipse-temurin:8-jre"},
		{"java:openjdk-8-jdk-alpine", "eclipse-temurin:8-jdk-alpine"},
		{"adoptopenjdk:11-jre-hotspot", "eclipse-temurin:11-jre"},
		{"adoptopenjdk:11-jdk-openj9", ""},
		{"centos:7", ""},
		{"centos:centos8.4.2105", "rockylinux/rockylinux:8"},
		{"centos", "rockylinux/rockylinux:8"},
		{"consul:1.15.4", "hashicorp/consul:1.15.4"},
		{"rails:5", ""},
		{"gcr.io/distroless/static-debian11:nonroot", "gcr.io/distroless/static-debian12:nonroot"},
		{"gcr.io/distroless/static-debian11", "gcr.io/distroless/static-debian12:latest"},
	} {
		img, ok := c.Lookup(tc.image)
		if !ok || img.Deprecated == nil {
			t.Errorf("%s: not deprecated", tc.image)
			continue
		}
		_, tag, _ := splitRef(tc.image)
		got, _ := img.Deprecated.Target(tag)
		if got != tc.want {
			t.Errorf("%s: successor %q, want %q", tc.image, got, tc.want)
		}
	}
	for _, tc := range []struct{ image, want string }{
		{"mhart/alpine-node:18", "node:18-alpine"},
		{"mhart/alpine-node:18.1.0", "node:18.1.0-alpine"},
		{"mhart/alpine-node:slim-18", ""},
		{"microsoft/dotnet:2.1-sdk", "mcr.microsoft.com/dotnet/sdk:2.1"},
		{"mcr.microsoft.com/dotnet/core/aspnet:3.1-alpine", "mcr.microsoft.com/dotnet/aspnet:3.1-alpine"},
		{"jenkins/jnlp-slave:4.3-4", "jenkins/inbound-agent:4.3-4"},
		{"adoptopenjdk/openjdk11:jdk-11.0.11_9", "eclipse-temurin:11-jdk"},
		{"adoptopenjdk/openjdk11:jre-11.0.11_9", "eclipse-temurin:11-jre"},
		{"adoptopenjdk/openjdk11:jdk-11.0.11_9-alpine", ""},
		{"adoptopenjdk/openjdk11:alpine-jre", ""},
		{"adoptopenjdk/openjdk8:jdk8u292-b10", "eclipse-temurin:8-jdk"},
		{"adoptopenjdk/openjdk8:jdk8u292-b10-jre", "eclipse-temurin:8-jre"},
		{"adoptopenjdk/openjdk8:jdk8u292-b10-openj9", ""},
		{"anapsix/alpine-java:8u172b11_server-jre", "eclipse-temurin:8-jre-alpine"},
		{"anapsix/alpine-java:8_jdk_unlimited", "eclipse-temurin:8-jdk-alpine"},
		{"gliderlabs/alpine:3.4", "alpine:3.4"},
		{"jenkinsci/jenkins:2.60.3-alpine", "jenkins/jenkins:2.60.3-alpine"},
	} {
		m, ok := c.Mapping(tc.image)
		if !ok {
			t.Errorf("%s: no mapping", tc.image)
			continue
		}
		_, tag, _ := splitRef(tc.image)
		got, _ := m.Target(tag)
		if got != tc.want {
			t.Errorf("%s: target %q, want %q", tc.image, got, tc.want)
		}
	}
}

func TestMergeUserCatalog(t *testing.T) {
	user := `
version: "acme-1"
images:
  centos:
    source: https://intranet.example/centos
    role: base
    family: rhel
    libc: glibc
    package-manager: yum
    deprecated:
      successor: registry.access.redhat.com/ubi9/ubi
      reason: we standardise on UBI
      link: https://intranet.example/ubi
      tags:
        - match: '.*'
          to: registry.access.redhat.com/ubi9/ubi:latest
  registry.example.com/base/python:
    source: https://intranet.example/python
    publisher: ACME platform team
    verification: internal
    role: runtime
    family: debian
    libc: glibc
    package-manager: apt
    user: app
    uid: 10001
mappings:
  someone/node:
    source: https://intranet.example/node
    reason: our fork of node, identical since 2024
    tags:
      - match: '^(\d+)$'
        to: node:${1}
`
	file := filepath.Join(t.TempDir(), "catalog.yaml")
	if err := os.WriteFile(file, []byte(user), 0o644); err != nil {
		t.Fatal(err)
	}
	over, err := LoadCatalog(file)
	if err != nil {
		t.Fatal(err)
	}
	base := Embedded()
	merged := base.Merge(over)
	if err := merged.Validate(); err != nil {
		t.Fatalf("merged catalog: %v", err)
	}
	if merged.Version != base.Version+"+acme-1" {
		t.Errorf("version %q", merged.Version)
	}
	img, _ := merged.Lookup("centos:7")
	if got, _ := img.Deprecated.Target("7"); got != "registry.access.redhat.com/ubi9/ubi:latest" {
		t.Errorf("user successor not used: %q", got)
	}
	if f, ok := merged.Facts("registry.example.com/base/python:3.12"); !ok || f.UID != 10001 || f.Verification != "internal" {
		t.Errorf("user row: %+v %v", f, ok)
	}
	if _, ok := merged.Mapping("someone/node:20"); !ok {
		t.Errorf("user mapping missing")
	}
	// The embedded catalog is untouched.
	if img, _ := base.Lookup("centos"); img.Deprecated.Successor != "rockylinux/rockylinux" {
		t.Errorf("Merge modified the embedded catalog")
	}
	if _, ok := base.Mapping("someone/node"); ok {
		t.Errorf("Merge modified the embedded catalog's mappings")
	}
	// A user file that points at a missing image is caught by Validate.
	bad, err := ParseCatalog([]byte("mappings:\n  a/b: {source: 'https://x', reason: r, tags: [{match: '.*', to: 'nosuch/image:1'}]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := base.Merge(bad).Validate(); err == nil || !strings.Contains(err.Error(), "not a catalog image") {
		t.Errorf("want a not-a-catalog-image error, got %v", err)
	}
}

func TestEncodeRoundTrips(t *testing.T) {
	var buf bytes.Buffer
	if err := Embedded().Encode(&buf); err != nil {
		t.Fatal(err)
	}
	again, err := ParseCatalog(buf.Bytes())
	if err != nil {
		t.Fatalf("encoded catalog does not parse: %v\n%s", err, buf.String())
	}
	if len(again.Images) != len(Embedded().Images) || len(again.Mappings) != len(Embedded().Mappings) {
		t.Errorf("round trip lost rows")
	}
	if err := again.Validate(); err != nil {
		t.Error(err)
	}
	for _, image := range []string{"gcr.io/distroless/cc-debian12:nonroot", "python:3.12-alpine", "python:3.12"} {
		f1, _ := Embedded().Facts(image)
		f2, _ := again.Facts(image)
		if !reflect.DeepEqual(f1, f2) {
			t.Errorf("%s: round trip changed facts: %+v vs %+v", image, f1, f2)
		}
	}
}

// TestShips checks the packages images are known to ship, as their
// Dockerfiles install them, per variant: a tag override's list replaces
// the row's and "ships: []" clears it.
func TestShips(t *testing.T) {
	c := Embedded()
	for image, want := range map[string]bool{
		"python:3":                            true,
		"python:3.12":                         true,
		"python:3.13.7-slim-trixie":           true,
		"python:3.12-alpine":                  false,
		"python:3.12-windowsservercore":       false,
		"golang:1.16-buster":                  true,
		"golang:1.3":                          false,
		"golang:1.3.3-onbuild":                false,
		"golang:1.22-alpine":                  false,
		"golang:1.30":                         true,
		"rust:1.64":                           true,
		"rust:1-slim-bookworm":                true,
		"node:20":                             true,
		"node:20-bookworm-slim":               false,
		"node:slim":                           false,
		"ruby:3.3-slim":                       true,
		"php:8.3-apache":                      true,
		"eclipse-temurin:21-jdk":              true,
		"eclipse-temurin:21-jdk-ubi9-minimal": false,
		"eclipse-temurin:21-jdk-nanoserver":   false,
		"debian:bookworm":                     false,
		"ubuntu:24.04":                        false,
		"example.com/unknown:1":               false,
	} {
		f, _ := c.Facts(image)
		if got := f.HasPackage("ca-certificates"); got != want {
			t.Errorf("%s ships ca-certificates = %v, want %v (Ships %q)", image, got, want, f.Ships)
		}
	}
	bad, err := ParseCatalog([]byte("images:\n  python:\n    source: https://example.com/x\n    role: runtime\n    ships: [\"Not A Package\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := Embedded().Merge(bad).Validate(); err == nil || !strings.Contains(err.Error(), "ships") {
		t.Errorf("Validate = %v, want a ships error", err)
	}
}

// TestBuildImageWorkingDirs checks the WORKDIR of every toolchain image the
// multi-stage recipes build on, as their real Dockerfiles set it: relative
// paths before a Dockerfile's first absolute WORKDIR resolve against it.
func TestBuildImageWorkingDirs(t *testing.T) {
	c := Embedded()
	for image, want := range map[string]string{
		"gradle:8.5-jdk17":                 "/home/gradle",
		"gradle:8-jdk21-alpine":            "/home/gradle",
		"maven:3.9-eclipse-temurin-17":     "/",
		"golang:1.22":                      "/go",
		"golang:1.22-alpine":               "/go",
		"node:20":                          "/",
		"python:3.12-bookworm":             "/",
		"rust:1-bookworm":                  "/",
		"eclipse-temurin:21-jdk":           "/",
		"amazoncorretto:21":                "/",
		"openjdk:17-jdk-slim":              "/",
		"mcr.microsoft.com/dotnet/sdk:8.0": "/",
		// The runtime images share the sdk row's anchor but their WORKDIR
		// is not claimed.
		"mcr.microsoft.com/dotnet/aspnet:8.0": "",
	} {
		f, ok := c.Facts(image)
		if !ok || f.WorkingDir != want {
			t.Errorf("%s: WorkingDir = %q (known %v), want %q", image, f.WorkingDir, ok, want)
		}
	}
}

func TestWorkingDirMustBeAbsolute(t *testing.T) {
	c, err := ParseCatalog([]byte("images:\n  gradle:\n    source: https://example.com/x\n    role: build\n    working-dir: home/gradle\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := Embedded().Merge(c).Validate(); err == nil || !strings.Contains(err.Error(), "working-dir") {
		t.Errorf("Validate = %v, want a working-dir error", err)
	}
}

// The non-root accounts images have without running as them: the rule
// runs as these instead of creating a user that would clash.
func TestAppUsers(t *testing.T) {
	c := Embedded()
	for _, tc := range []struct {
		image string
		user  string
		uid   int
	}{
		{"mcr.microsoft.com/dotnet/aspnet:8.0", "app", 1654},
		{"mcr.microsoft.com/dotnet/runtime:9.0-alpine", "app", 1654},
		{"mcr.microsoft.com/dotnet/sdk:10.0-noble", "app", 1654},
		{"mcr.microsoft.com/dotnet/aspnet", "app", 1654},
		{"mcr.microsoft.com/dotnet/aspnet:6.0", "", 0},
		{"node:20-bookworm-slim", "node", 1000},
		{"node:22-alpine3.20", "node", 1000},
		{"ubuntu:24.04", "ubuntu", 1000},
		{"ubuntu:noble-20240605", "ubuntu", 1000},
		{"ubuntu", "ubuntu", 1000},
		{"ubuntu:22.04", "", 0},
		{"ubuntu:jammy", "", 0},
		{"php:8.3-fpm", "www-data", 33},
		{"php:8.3-fpm-alpine", "www-data", 82},
		{"python:3.12", "", 0},
	} {
		f, ok := c.Facts(tc.image)
		if !ok {
			t.Errorf("%s: no facts", tc.image)
			continue
		}
		if f.AppUser != tc.user || (tc.user != "" && f.AppUID != tc.uid) {
			t.Errorf("%s: app user %q (%d), want %q (%d)", tc.image, f.AppUser, f.AppUID, tc.user, tc.uid)
		}
	}
	for _, image := range []string{
		"mcr.microsoft.com/dotnet/framework/aspnet:4.8",
		"mcr.microsoft.com/dotnet/framework/sdk:4.8-windowsservercore-ltsc2022",
		"mcr.microsoft.com/windows/servercore:ltsc2022",
		"mcr.microsoft.com/windows/nanoserver:ltsc2022",
		"mcr.microsoft.com/dotnet/aspnet:8.0-nanoserver-ltsc2022",
	} {
		if f, ok := c.Facts(image); !ok || f.Family != "windows" {
			t.Errorf("%s: want family windows, got %+v", image, f)
		}
	}
}

func TestCentOSKeepsTheMajorRelease(t *testing.T) {
	img, _ := Embedded().Lookup("centos")
	for _, tag := range []string{"7", "centos7", "7.9.2009", "6.10"} {
		if why, ok := img.Deprecated.NoEquivalentFor(tag); !ok || !strings.Contains(why, "EL7") {
			t.Errorf("centos:%s: no-equivalent %v %q", tag, ok, why)
		}
	}
	for _, tag := range []string{"8", "", "latest", "centos8.4.2105"} {
		if why, ok := img.Deprecated.NoEquivalentFor(tag); ok {
			t.Errorf("centos:%s: has no equivalent (%s), want rockylinux 8", tag, why)
		}
	}
}

func TestEndOfLife(t *testing.T) {
	c := Embedded()
	for _, tc := range []struct {
		ref     string
		eol     bool
		never   bool
		instead string
	}{
		{"eclipse-temurin:16-jdk", true, false, "eclipse-temurin:17-jdk"},
		{"eclipse-temurin:13-jre-alpine", true, true, "eclipse-temurin:17-jre-alpine"},
		{"eclipse-temurin:20-jdk", true, false, "eclipse-temurin:21-jdk"},
		{"eclipse-temurin:24-jre", true, false, "eclipse-temurin:25-jre"},
		{"eclipse-temurin:17-jdk", false, false, ""},
		{"eclipse-temurin:8-jre", false, false, ""},
		{"eclipse-temurin:11-jdk", false, false, ""},
		{"mcr.microsoft.com/dotnet/aspnet:3.1-alpine", true, false, "mcr.microsoft.com/dotnet/aspnet:10.0"},
		{"mcr.microsoft.com/dotnet/sdk:8.0", true, false, "mcr.microsoft.com/dotnet/sdk:10.0"},
		{"mcr.microsoft.com/dotnet/sdk:10.0", false, false, ""},
		{"node:8.9.4-alpine", true, false, "node:22-alpine"},
		{"node:22-alpine", false, false, ""},
		{"python:2", true, false, "python:3.11"},
		{"python:3", false, false, ""},
		{"python:3.12-slim", false, false, ""},
		{"alpine:3.4", true, false, "alpine:3.22"},
		{"alpine:3.22", false, false, ""},
		{"hashicorp/consul:1.15.4", true, false, ""},
		{"hashicorp/consul:1.21.0", false, false, ""},
		{"jenkins/jenkins:2.60.3-alpine", true, false, "jenkins/jenkins:lts"},
		{"jenkins/jenkins:lts", false, false, ""},
	} {
		u, eol := c.EndOfLife(tc.ref)
		if eol != tc.eol || u.Never != tc.never || u.Instead != tc.instead {
			t.Errorf("%s: EndOfLife = %+v, %v; want eol %v never %v instead %q", tc.ref, u, eol, tc.eol, tc.never, tc.instead)
		}
		if eol && !strings.HasPrefix(u.Source, "https://") {
			t.Errorf("%s: no source", tc.ref)
		}
	}
	// A release whose date is after the catalog's is still supported.
	future := &Catalog{Date: "2026-01-01", EndOfLifeRows: c.EndOfLifeRows}
	if _, eol := future.EndOfLife("mcr.microsoft.com/dotnet/sdk:8.0"); eol {
		t.Errorf(".NET 8 end of life before its date")
	}
}

// The unprivileged nginx row says which tags exist, so the non-root rule
// only moves an official nginx tag onto one that is published.
func TestPublishedTags(t *testing.T) {
	img, ok := Embedded().Lookup("nginxinc/nginx-unprivileged")
	if !ok || img.Server == nil {
		t.Fatal("no server facts for nginxinc/nginx-unprivileged")
	}
	if errs := validateServer("unprivileged", img.Server); len(errs) > 0 {
		t.Fatal(errs)
	}
	for tag, want := range map[string]bool{
		"": true, "latest": true, "1.27": true, "1.27.3": true, "1": true, "1.27-alpine": true,
		"stable-alpine": true, "alpine-slim": true, "1.25-alpine-slim": true, "1.27.3-bookworm": true,
		"mainline-alpine3.21-slim": true, "1.29-otel": true, "1.27-perl": true, "1.16": true,
		"1.15": false, "1.14-alpine": false, "1.21-alpine-slim": false, "1.22-bookworm": false,
		"1.27-otel": false, "1.25.3-alpine-otel": false, "windows": false, "1.27-bullseye": false,
	} {
		if got := img.Server.Publishes(tag); got != want {
			t.Errorf("Publishes(%q) = %v, want %v", tag, got, want)
		}
	}
}

// Every server row of the embedded catalog is well formed.
func TestServerFactsValidate(t *testing.T) {
	n := 0
	for name, img := range Embedded().Images {
		if img.Server == nil {
			continue
		}
		n++
		if errs := validateServer(name, img.Server); len(errs) > 0 {
			t.Error(errs)
		}
	}
	if n < 4 {
		t.Errorf("%d server rows; want nginx, nginx-unprivileged, php and httpd", n)
	}
	php, _ := Embedded().Lookup("php")
	if !php.Server.For("8.3-apache") || php.Server.For("8.3-fpm") {
		t.Error("php's server facts must hold for the apache tags only")
	}
}

// The variable .NET 8+ images set to their app uid (ENV APP_UID=1654),
// which Microsoft's samples end on (USER $APP_UID); not on Windows tags,
// which have no app user, nor before .NET 8.
func TestAppUIDEnv(t *testing.T) {
	c := Embedded()
	for _, tc := range []struct{ image, env string }{
		{"mcr.microsoft.com/dotnet/aspnet:8.0", "APP_UID"},
		{"mcr.microsoft.com/dotnet/runtime-deps:10.0-alpine", "APP_UID"},
		{"mcr.microsoft.com/dotnet/sdk", "APP_UID"},
		{"mcr.microsoft.com/dotnet/aspnet:8.0-nanoserver-ltsc2022", ""},
		{"mcr.microsoft.com/dotnet/runtime:9.0-windowsservercore-ltsc2022", ""},
		{"mcr.microsoft.com/dotnet/aspnet:6.0", ""},
		{"node:22", ""},
	} {
		f, ok := c.Facts(tc.image)
		if !ok {
			t.Errorf("%s: no facts", tc.image)
			continue
		}
		if f.AppUIDEnv != tc.env {
			t.Errorf("%s: app-uid-env %q, want %q", tc.image, f.AppUIDEnv, tc.env)
		}
	}
	bad, err := ParseCatalog([]byte("images:\n  example.org/x:\n    source: https://example.com/x\n    role: runtime\n    verification: official\n    app-uid-env: APP-UID\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := Embedded().Merge(bad).Validate(); err == nil || !strings.Contains(err.Error(), "app-uid-env") {
		t.Errorf("Validate = %v, want an app-uid-env error", err)
	}
}
