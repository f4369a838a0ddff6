package report

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	sarif "github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/hardenfix/hardenfix/internal/golden"
	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/hardenfix/hardenfix/pkg/rules/addtocopy"
)

// sample runs the real pipeline over a few files, one of them broken, and
// returns the report of that run.
func sample(t *testing.T) *Report {
	t.Helper()
	inputs := []struct{ path, src string }{
		{"svc/api/Dockerfile", "FROM golang:1.22\nADD . /src\nADD https://example.com/x.tgz /tmp/\n"},
		{"svc/web/Dockerfile", "FROM node:20\n# pipes | and `ticks` in text\nADD [\"a|b\", \"/x\"]\n"},
		{"clean/Dockerfile", "FROM alpine:3.20\nCOPY . /app\n"},
		{"broken/Dockerfile", "FROM alpine:3.20\nRUN <<EOF\n"},
	}
	r := New("test")
	// The SARIF rule table of the golden describes only the rule the
	// sample exercises, so other rules' docs can change freely.
	r.Rules = []*rewrite.Rule{addtocopy.Rule}
	r.Catalog = Catalog{Version: "2026.11.1", Date: "2026-11-20"}
	for _, in := range inputs {
		res, err := rewrite.Run(context.Background(), in.path, []byte(in.src), r.Rules, &rewrite.Env{})
		r.Add(in.path, res, err)
	}
	r.Sort()
	return r
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", name), got)
}

func TestJSON(t *testing.T) {
	var b bytes.Buffer
	if err := sample(t).WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "report.json", b.Bytes())
	validateJSONSchema(t, "../../docs/report-schema.json", b.Bytes())
}

func TestSummaryCounts(t *testing.T) {
	r := sample(t)
	s := r.Summary
	if s.Files != 4 || s.Changed != 2 || s.Errors != 1 || s.Fixes["add-to-copy"] != 2 || s.Notes != 2 {
		t.Errorf("summary = %+v", s)
	}
	if r.Files[0].Path != "broken/Dockerfile" || !strings.Contains(r.Files[0].Error, "broken/Dockerfile:2: unterminated heredoc") {
		t.Errorf("broken file entry = %+v", r.Files[0])
	}
}

func TestSARIF(t *testing.T) {
	var b bytes.Buffer
	if err := sample(t).WriteSARIF(&b); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "report.sarif", b.Bytes())
	// Validate against the official SARIF 2.1.0 schema, as embedded in the
	// go-sarif module (its typed model adds defaults on a round trip, so the
	// raw bytes are validated instead).
	if _, err := sarif.FromBytes(b.Bytes()); err != nil {
		t.Fatal(err)
	}
	schema := sarifSchema(t)
	validate(t, schema, b.Bytes())
	// A deliberately broken log must fail, or the check proves nothing.
	broken := bytes.Replace(b.Bytes(), []byte(`"level": "warning"`), []byte(`"level": "loud"`), 1)
	var v any
	json.Unmarshal(broken, &v)
	if schema.Validate(v) == nil {
		t.Error("an invalid SARIF level passed validation")
	}
}

// sarifSchema compiles the SARIF 2.1.0 schema shipped in the go-sarif
// module's source, found through the go command.
func sarifSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/owenrumney/go-sarif/v3").Output()
	if err != nil {
		t.Fatalf("locating go-sarif: %v", err)
	}
	src, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "pkg", "report", "v210", "sarif", "schema.go"))
	if err != nil {
		t.Fatal(err)
	}
	start, end := bytes.IndexByte(src, '`'), bytes.LastIndexByte(src, '`')
	if start < 0 || end <= start {
		t.Fatal("no schema literal in go-sarif's schema.go")
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(src[start+1 : end]))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("sarif-schema-2.1.0.json", doc); err != nil {
		t.Fatal(err)
	}
	schema, err := c.Compile("sarif-schema-2.1.0.json")
	if err != nil {
		t.Fatal(err)
	}
	return schema
}

func validate(t *testing.T, schema *jsonschema.Schema, doc []byte) {
	t.Helper()
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatal(err)
	}
	if err := schema.Validate(v); err != nil {
		t.Errorf("does not validate: %v", err)
	}
}

func TestMarkdown(t *testing.T) {
	var b bytes.Buffer
	if err := sample(t).WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "report.md", b.Bytes())
	md := b.String()
	for _, want := range []string{
		"## hardenfix: 2 Dockerfiles hardened",
		"| `add-to-copy` | 2 | 2 `ADD` are now `COPY`",
		"<details><summary><code>svc/api/Dockerfile</code>: <code>add-to-copy</code> — 1 fix and the diff (+1 −1)</summary>\n\n- `add-to-copy` line 2: ADD of local files",
		"### Needs your attention",
		"- `broken/Dockerfile`: broken/Dockerfile:2: unterminated heredoc",
		"**Verify downloads with --checksum** (1)\n- `svc/api/Dockerfile:3` remote ADD without --checksum",
		"unpacked\n\n```diff\n--- a/svc/api/Dockerfile\n",
		"1 more note asks for nothing (what a rule left as it was, and why)",
		"catalog 2026.11.1 (2026-11-20)",
		"+COPY [\"a|b\", \"/x\"]", // the diff shows the text as it is
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	if strings.Contains(md, "ADD kept") {
		t.Error("a note that asks nothing is in the default body")
	}
}

func TestCodeCell(t *testing.T) {
	for in, want := range map[string]string{
		"RUN a\n":          "`RUN a`",
		"RUN `x`":          "`` RUN `x` ``",
		"a | b\r\nc":       "`a \\| b`<br>`c`",
		"":                 "*(nothing)*",
		"ADD a \\\n  b\n":  "`ADD a \\`<br>`  b`",
		"FROM a\n\nFROM b": "`FROM a`<br><br>`FROM b`",
	} {
		if got := codeCell(in); got != want {
			t.Errorf("codeCell(%q) = %q, want %q", in, got, want)
		}
	}
}

func validateJSONSchema(t *testing.T, schemaPath string, doc []byte) {
	t.Helper()
	c := jsonschema.NewCompiler()
	schema, err := c.Compile(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatal(err)
	}
	if err := schema.Validate(v); err != nil {
		t.Errorf("report does not match %s: %v", schemaPath, err)
	}
	// The schema must reject a report with a wrong field, or it checks nothing.
	var bad map[string]any
	json.Unmarshal(doc, &bad)
	bad["schemaVersion"] = 99
	if schema.Validate(bad) == nil {
		t.Error("the schema accepted schemaVersion 99")
	}
}
