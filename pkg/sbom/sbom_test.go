package sbom

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hardenfix/hardenfix/internal/golden"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/hardenfix/hardenfix/internal/cdxschema"
	"github.com/hardenfix/hardenfix/pkg/baseimage"
	"github.com/hardenfix/hardenfix/pkg/registry"
	"github.com/hardenfix/hardenfix/pkg/rewrite"
)

const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// catalog is a stand-in for the catalog of verified images.
type catalog map[string]registry.ImageFacts

func (c catalog) Facts(image string) (registry.ImageFacts, bool) {
	ref, err := baseimage.Parse(image)
	if err != nil {
		return registry.ImageFacts{}, false
	}
	f, ok := c[ref.Name]
	return f, ok
}

var testCatalog = catalog{
	"docker.io/library/python":           {Publisher: "Docker Official Images", Verification: "official"},
	"gcr.io/distroless/python3-debian12": {Publisher: "Google Distroless", Verification: "distroless"},
}

var dockerfiles = []struct{ path, src string }{
	{"svc/api/Dockerfile", "ARG PY=python:3.12-slim-bookworm@" + digest + "\nFROM ${PY} AS build\nRUN pip install -r requirements.txt\nFROM gcr.io/distroless/python3-debian12:nonroot@" + digest + "\nCOPY --from=build /app /app\n"},
	{"svc/web/Dockerfile", "FROM python:3.12-slim-bookworm@" + digest + " AS build\nFROM build\n"},
	{"tools/Dockerfile", "ARG REG\nFROM ${REG}/tools:1 AS t\nFROM scratch\nFROM someorg/helper\nFROM docker.io/library/python:3.12-slim-bookworm@" + digest + " AS again\n"},
}

func build(t *testing.T, images registry.ImageInfo) (*Builder, []Note) {
	t.Helper()
	b := New(images)
	var notes []Note
	for _, f := range dockerfiles {
		d, err := rewrite.Parse(f.path, []byte(f.src))
		if err != nil {
			t.Fatal(err)
		}
		notes = append(notes, b.Add(f.path, baseimage.List(d))...)
	}
	return b, notes
}

func encode(t *testing.T, b *Builder) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := Write(&out, b.BOM("test", time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC))); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func TestBOM(t *testing.T) {
	b, notes := build(t, testCatalog)
	// A LookupFunc gives the same as the interface.
	lb, _ := build(t, LookupFunc(testCatalog.Facts))
	if !bytes.Equal(encode(t, lb), encode(t, b)) {
		t.Error("LookupFunc and ImageInfo give different BOMs")
	}
	got := encode(t, b)
	checkGolden(t, "bom.json", got)
	validate(t, got)

	var bom struct {
		SpecVersion string `json:"specVersion"`
		Components  []struct {
			Type, Name, Version, Publisher, Purl string
			BOMRef                               string `json:"bom-ref"`
			Hashes                               []struct{ Alg, Content string }
			Properties                           []struct{ Name, Value string }
			Evidence                             struct{ Occurrences []struct{ Location string } }
		}
	}
	if err := json.Unmarshal(got, &bom); err != nil {
		t.Fatal(err)
	}
	if bom.SpecVersion != "1.5" {
		t.Errorf("specVersion %q", bom.SpecVersion)
	}
	// python (three spellings, one reference), distroless, someorg/helper.
	if len(bom.Components) != 3 {
		t.Fatalf("%d components, want 3: %s", len(bom.Components), got)
	}
	py := bom.Components[0]
	if py.BOMRef != "docker.io/library/python:3.12-slim-bookworm@"+digest || py.Type != "container" || py.Name != "python" || py.Version != "3.12-slim-bookworm" || py.Publisher != "Docker Official Images" {
		t.Errorf("python component %+v", py)
	}
	if len(py.Hashes) != 1 || py.Hashes[0].Alg != "SHA-256" || py.Hashes[0].Content != strings.TrimPrefix(digest, "sha256:") {
		t.Errorf("python hashes %+v", py.Hashes)
	}
	if py.Purl != "pkg:oci/python@sha256%3A"+strings.TrimPrefix(digest, "sha256:")+"?repository_url=docker.io/library/python&tag=3.12-slim-bookworm" {
		t.Errorf("python purl %s", py.Purl)
	}
	var uses []string
	for _, p := range py.Properties {
		if p.Name == PropUsedBy {
			uses = append(uses, p.Value)
		}
	}
	if strings.Join(uses, "; ") != "svc/api/Dockerfile:2 stage build; svc/web/Dockerfile:1 stage build; tools/Dockerfile:5 stage again" {
		t.Errorf("python used by %q", uses)
	}
	if len(py.Evidence.Occurrences) != 3 {
		t.Errorf("python occurrences %+v", py.Evidence.Occurrences)
	}
	helper := bom.Components[1] // components are ordered by full reference

	if helper.Name != "someorg/helper" || helper.Version != "latest" || helper.Hashes != nil || helper.Purl != "" || helper.Publisher != "" {
		t.Errorf("unverified, unpinned component %+v", helper)
	}
	if len(notes) != 1 || notes[0].Path != "tools/Dockerfile" || notes[0].Line != 2 || !strings.Contains(notes[0].Message, "REG has no default") {
		t.Errorf("notes %+v", notes)
	}
	if w := b.WithoutDigest(); len(w) != 1 || w[0] != "someorg/helper" {
		t.Errorf("without digest %v", w)
	}
	// The same input gives the same bytes, serial number included.
	b2, _ := build(t, testCatalog)
	if !bytes.Equal(encode(t, b2), got) {
		t.Error("the BOM is not deterministic")
	}
}

func TestBOMWithoutCatalog(t *testing.T) {
	b, _ := build(t, nil)
	got := encode(t, b)
	validate(t, got)
	if bytes.Contains(got, []byte(PropVerification)) || bytes.Contains(got, []byte(`"publisher"`)) {
		t.Errorf("publisher or verification without a catalog:\n%s", got)
	}
}

func TestEmptyBOM(t *testing.T) {
	got := encode(t, New(nil))
	validate(t, got)
	var bom struct{ Components []any }
	if err := json.Unmarshal(got, &bom); err != nil || len(bom.Components) != 0 {
		t.Errorf("an empty BOM has components (%v):\n%s", err, got)
	}
}

// validate checks doc against the CycloneDX 1.5 JSON schema shipped in the
// cyclonedx-go module, offline: the schemas it refers to (SPDX license IDs,
// JSF signatures) are loaded from the same folder.
func validate(t *testing.T, doc []byte) {
	t.Helper()
	schema := bomSchema(t)
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatal(err)
	}
	if err := schema.Validate(v); err != nil {
		t.Errorf("BOM does not validate against CycloneDX 1.5: %v", err)
	}
	// A broken BOM must fail, or the check proves nothing.
	var bad map[string]any
	json.Unmarshal(doc, &bad)
	bad["components"] = []any{map[string]any{"type": "docker-image", "name": "x"}}
	if schema.Validate(bad) == nil {
		t.Error("a component of type docker-image passed validation")
	}
}

func bomSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	s, err := cdxschema.BOM15()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", name), got)
}
