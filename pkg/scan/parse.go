package scan

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Error is a report hardenfix cannot read. It names the file and the JSON
// path of what is missing or malformed ("$" is the top-level value).
type Error struct {
	File string
	Path string
	Msg  string
}

func (e *Error) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("%s: %s: %s", e.File, e.Path, e.Msg)
}

// ReadFile reads the Trivy or Grype JSON report at path.
func ReadFile(path string) (*Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Read(path, f)
}

// Read reads a Trivy (SchemaVersion 2) or Grype JSON report from r; name is
// the file name errors give. The format is told from the content: a
// top-level SchemaVersion or Results means Trivy, matches or a descriptor
// named grype means Grype. The JSON is streamed: vulnerabilities are decoded
// one at a time and only the fields a comparison needs are kept.
func Read(name string, r io.Reader) (*Report, error) {
	p := &parser{dec: json.NewDecoder(bufio.NewReaderSize(r, 64<<10)), file: name}
	p.dec.UseNumber()
	rep, err := p.report()
	if err != nil {
		return nil, err
	}
	rep.Path = name
	return rep, nil
}

// parser walks the JSON with Decoder tokens, keeping the JSON path of
// where it is for error messages.
type parser struct {
	dec  *json.Decoder
	file string
	path []string // "$", ".Results", "[3]", ...
	any  bool     // a token was read
}

func (p *parser) at() string {
	if len(p.path) == 0 {
		return "$"
	}
	return "$" + strings.Join(p.path, "")
}

func (p *parser) push(s string) { p.path = append(p.path, s) }
func (p *parser) pop()          { p.path = p.path[:len(p.path)-1] }

func (p *parser) errorf(format string, args ...any) error {
	return &Error{File: p.file, Path: p.at(), Msg: fmt.Sprintf(format, args...)}
}

// readErr turns a decoder error into one that names the file and path.
func (p *parser) readErr(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var ve *vendorError
	switch {
	case errors.As(err, &ve):
		p.push(".CVSS." + ve.vendor)
		return p.readErr(ve.err)
	case errors.Is(err, io.EOF) && !p.any:
		return &Error{File: p.file, Msg: "empty file: not a Trivy or Grype JSON report"}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return p.errorf("truncated JSON: the file ends inside this value (offset %d)", p.dec.InputOffset())
	case errors.As(err, &syn):
		return p.errorf("invalid JSON at byte %d: %v", syn.Offset, err)
	case errors.As(err, &typ):
		path := p.at()
		if typ.Field != "" {
			path += "." + typ.Field
		}
		return &Error{File: p.file, Path: path, Msg: fmt.Sprintf("got a JSON %s, want %s", typ.Value, jsonKind(typ.Type.String()))}
	}
	return p.errorf("%v", err)
}

func jsonKind(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	case strings.HasPrefix(goType, "map[") || strings.Contains(goType, "struct") || strings.HasPrefix(goType, "scan."):
		return "an object"
	case goType == "string":
		return "a string"
	case strings.HasPrefix(goType, "float") || strings.HasPrefix(goType, "int") || goType == "json.Number":
		return "a number"
	}
	return goType
}

func (p *parser) token() (json.Token, error) {
	t, err := p.dec.Token()
	if err != nil {
		return nil, p.readErr(err)
	}
	p.any = true
	return t, nil
}

// decode decodes the next value into v.
func (p *parser) decode(v any) error {
	if err := p.dec.Decode(v); err != nil {
		return p.readErr(err)
	}
	p.any = true
	return nil
}

// skip reads past the next value without keeping it.
func (p *parser) skip() error { return p.decode(&skipValue{}) }

type skipValue struct{}

func (*skipValue) UnmarshalJSON([]byte) error { return nil }

// object reads an object, calling field for each key with the decoder
// positioned at its value; field must consume the value. A null is an
// empty object.
func (p *parser) object(field func(key string) error) error {
	t, err := p.token()
	if err != nil {
		return err
	}
	if t == nil {
		return nil
	}
	if d, ok := t.(json.Delim); !ok || d != '{' {
		return p.errorf("got %s, want an object", describe(t))
	}
	for p.dec.More() {
		t, err := p.token()
		if err != nil {
			return err
		}
		key := t.(string)
		p.push("." + key)
		if err := field(key); err != nil {
			return err
		}
		p.pop()
	}
	_, err = p.token()
	return err
}

// array reads an array, calling elem for each element with the decoder
// positioned at it. A null is an empty array.
func (p *parser) array(elem func(i int) error) error {
	t, err := p.token()
	if err != nil {
		return err
	}
	if t == nil {
		return nil
	}
	if d, ok := t.(json.Delim); !ok || d != '[' {
		return p.errorf("got %s, want an array", describe(t))
	}
	for i := 0; p.dec.More(); i++ {
		p.push("[" + strconv.Itoa(i) + "]")
		if err := elem(i); err != nil {
			return err
		}
		p.pop()
	}
	_, err = p.token()
	return err
}

func describe(t json.Token) string {
	switch v := t.(type) {
	case json.Delim:
		if v == '{' {
			return "an object"
		}
		return "an array"
	case string:
		return "a string"
	case json.Number, float64:
		return "a number"
	case bool:
		return "a boolean"
	}
	return "null"
}

// seen records the top-level keys that tell the formats apart.
type seen struct {
	schemaVersion, results, artifactName bool // Trivy
	matches, source, descriptor          bool // Grype
	descriptorName                       string
	version                              json.Number
}

func (p *parser) report() (*Report, error) {
	rep := &Report{}
	var s seen
	t, err := p.token()
	if err != nil {
		return nil, err
	}
	switch d, _ := t.(json.Delim); {
	case d == '[':
		return nil, p.errorf("not a Trivy or Grype report: the top level is an array (Trivy's SchemaVersion 1 output, from before Trivy 0.20, is not read; re-run a current Trivy with --format json)")
	case d != '{':
		return nil, p.errorf("not a Trivy or Grype report: the top level is %s, want an object", describe(t))
	}
	for p.dec.More() {
		t, err := p.token()
		if err != nil {
			return nil, err
		}
		key := t.(string)
		p.push("." + key)
		if err := p.topLevel(key, rep, &s); err != nil {
			return nil, err
		}
		p.pop()
	}
	if _, err := p.token(); err != nil {
		return nil, err
	}
	if _, err := p.dec.Token(); err != io.EOF {
		return nil, &Error{File: p.file, Msg: fmt.Sprintf("unexpected data after the report's closing brace (offset %d)", p.dec.InputOffset())}
	}
	if err := p.tellTool(rep, s); err != nil {
		return nil, err
	}
	return rep, nil
}

// topLevel decodes the value of the report's top-level key into rep, and
// records in s the keys that tell the formats apart.
func (p *parser) topLevel(key string, rep *Report, s *seen) error {
	var err error
	switch key {
	case "SchemaVersion":
		s.schemaVersion = true
		err = p.decode(&s.version)
	case "ArtifactName":
		s.artifactName = true
		err = p.decode(&rep.Artifact)
	case "Metadata":
		var m struct {
			ImageID     string
			RepoTags    []string
			RepoDigests []string
		}
		if err = p.decode(&m); err == nil {
			rep.ImageID, rep.Names, rep.Digests = m.ImageID, append(rep.Names, m.RepoTags...), append(rep.Digests, m.RepoDigests...)
		}
	case "Results":
		s.results = true
		err = p.array(func(int) error {
			return p.object(func(k string) error {
				if k != "Vulnerabilities" {
					return p.skip()
				}
				return p.array(func(int) error { return p.trivyVuln(rep) })
			})
		})
	case "matches":
		s.matches = true
		err = p.array(func(int) error { return p.grypeMatch(rep) })
	case "source":
		s.source = true
		err = p.grypeSource(rep)
	case "descriptor":
		s.descriptor = true
		var d struct{ Name, Version string }
		if err = p.decode(&d); err == nil {
			s.descriptorName, rep.ToolVersion = d.Name, d.Version
		}
	default:
		err = p.skip()
	}
	return err
}

// tellTool sets rep.Tool from the top-level keys seen, or says why the
// report is neither Trivy's nor Grype's, or lacks what its format needs.
func (p *parser) tellTool(rep *Report, s seen) error {
	trivy := s.schemaVersion || s.results || s.artifactName
	grype := s.matches || s.descriptor && strings.EqualFold(s.descriptorName, "grype")
	switch {
	case trivy && grype:
		return p.errorf("not a Trivy or Grype report: it has both Trivy fields (SchemaVersion, ArtifactName, Results) and Grype fields (matches, descriptor)")
	case s.descriptor && s.descriptorName != "" && !strings.EqualFold(s.descriptorName, "grype"):
		return &Error{File: p.file, Path: "$.descriptor.name", Msg: fmt.Sprintf("not a Trivy or Grype report: written by %q", s.descriptorName)}
	case trivy:
		rep.Tool = Trivy
		if !s.schemaVersion {
			return p.errorf("Trivy report without SchemaVersion; want SchemaVersion 2 (trivy image --format json)")
		}
		if s.version.String() != "2" {
			return &Error{File: p.file, Path: "$.SchemaVersion", Msg: fmt.Sprintf("Trivy SchemaVersion %s is not supported; want 2", s.version)}
		}
		if !s.artifactName || rep.Artifact == "" {
			return p.errorf("Trivy report without ArtifactName")
		}
	case grype:
		rep.Tool = Grype
		if !s.matches {
			return p.errorf("Grype report without matches")
		}
		if !s.source {
			return p.errorf("Grype report without source")
		}
	default:
		return p.errorf("not a Trivy or Grype report: none of SchemaVersion, ArtifactName, Results (Trivy) or matches, descriptor (Grype) at the top level")
	}
	return nil
}

// trivyVuln decodes one element of Results[].Vulnerabilities.
func (p *parser) trivyVuln(rep *Report) error {
	var v struct {
		VulnerabilityID  string
		PkgName          string
		InstalledVersion string
		FixedVersion     string
		Severity         string
		CVSS             trivyCVSS
	}
	if err := p.decode(&v); err != nil {
		return err
	}
	for _, req := range []struct{ name, val string }{{"VulnerabilityID", v.VulnerabilityID}, {"PkgName", v.PkgName}, {"Severity", v.Severity}} {
		if req.val == "" {
			return p.errorf("vulnerability without %s", req.name)
		}
	}
	sev, ok := ParseSeverity(v.Severity)
	if !ok || sev == Negligible {
		return &Error{File: p.file, Path: p.at() + ".Severity", Msg: fmt.Sprintf("unknown Trivy severity %q (want CRITICAL, HIGH, MEDIUM, LOW or UNKNOWN)", v.Severity)}
	}
	var sc scoreCandidates
	for vendor, c := range v.CVSS {
		nvd := vendor == "nvd"
		sc.add(vendor, nvd, 3, c.V3Score)
		sc.add(vendor, nvd, 2, c.V2Score)
	}
	rep.add(&Finding{ID: v.VulnerabilityID, Package: v.PkgName, Severity: sev, Installed: v.InstalledVersion, Fixed: v.FixedVersion, Score: sc.pick()})
	return nil
}

// trivyCVSS is Trivy's CVSS map: vendor → scores.
type trivyCVSS map[string]struct{ V2Score, V3Score float64 }

// vendorError is a malformed entry of a CVSS map, with its vendor key
// (encoding/json's errors leave map keys out of their path).
type vendorError struct {
	vendor string
	err    error
}

func (e *vendorError) Error() string { return e.vendor + ": " + e.err.Error() }

func (m *trivyCVSS) UnmarshalJSON(b []byte) error {
	var fast map[string]struct{ V2Score, V3Score float64 }
	if err := json.Unmarshal(b, &fast); err == nil {
		*m = fast
		return nil
	}
	// Slow path, for the error only: find the vendor whose entry is bad.
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	for vendor, r := range raw {
		var c struct{ V2Score, V3Score float64 }
		if err := json.Unmarshal(r, &c); err != nil {
			return &vendorError{vendor, err}
		}
	}
	return nil
}

type grypeCVSS struct {
	Source  string `json:"source"`
	Version string `json:"version"`
	Metrics struct {
		BaseScore float64 `json:"baseScore"`
	}
}

type grypeVuln struct {
	ID         string      `json:"id"`
	Namespace  string      `json:"namespace"`
	DataSource string      `json:"dataSource"`
	Severity   string      `json:"severity"`
	CVSS       []grypeCVSS `json:"cvss"`
	Fix        struct {
		Versions []string `json:"versions"`
		State    string   `json:"state"`
	} `json:"fix"`
}

// grypeMatch decodes one element of matches.
func (p *parser) grypeMatch(rep *Report) error {
	var m struct {
		Vulnerability          *grypeVuln  `json:"vulnerability"`
		RelatedVulnerabilities []grypeVuln `json:"relatedVulnerabilities"`
		Artifact               *struct {
			Name    string `json:"name"`
			Version string `json:"version"`
		} `json:"artifact"`
	}
	if err := p.decode(&m); err != nil {
		return err
	}
	switch {
	case m.Vulnerability == nil:
		return p.errorf("match without vulnerability")
	case m.Artifact == nil:
		return p.errorf("match without artifact")
	case m.Vulnerability.ID == "":
		return &Error{File: p.file, Path: p.at() + ".vulnerability", Msg: "vulnerability without id"}
	case m.Vulnerability.Severity == "":
		return &Error{File: p.file, Path: p.at() + ".vulnerability", Msg: "vulnerability without severity"}
	case m.Artifact.Name == "":
		return &Error{File: p.file, Path: p.at() + ".artifact", Msg: "artifact without name"}
	}
	sev, ok := ParseSeverity(m.Vulnerability.Severity)
	if !ok {
		return &Error{File: p.file, Path: p.at() + ".vulnerability.severity", Msg: fmt.Sprintf("unknown Grype severity %q (want Critical, High, Medium, Low, Negligible or Unknown)", m.Vulnerability.Severity)}
	}
	var sc scoreCandidates
	for _, v := range append([]grypeVuln{*m.Vulnerability}, m.RelatedVulnerabilities...) {
		vulnNVD := strings.HasPrefix(v.Namespace, "nvd:") || strings.Contains(v.DataSource, "nvd.nist.gov")
		for _, c := range v.CVSS {
			// NVD's record lists other scorers too (CNAs such as
			// secalert@redhat.com): the entry's source decides.
			nvd := strings.HasSuffix(c.Source, "nist.gov") || c.Source == "" && vulnNVD
			source := c.Source
			if nvd {
				source = "nvd"
			} else if source == "" {
				source = v.Namespace
			}
			major, _, _ := strings.Cut(c.Version, ".")
			n, _ := strconv.Atoi(major)
			sc.add(source, nvd, n, c.Metrics.BaseScore)
		}
	}
	fixed := ""
	if m.Vulnerability.Fix.State == "fixed" {
		fixed = strings.Join(m.Vulnerability.Fix.Versions, ", ")
	}
	rep.add(&Finding{ID: m.Vulnerability.ID, Package: m.Artifact.Name, Severity: sev, Installed: m.Artifact.Version, Fixed: fixed, Score: sc.pick()})
	return nil
}

// grypeSource decodes source; its target is an object for images and a
// string for directories and files.
func (p *parser) grypeSource(rep *Report) error {
	var src struct {
		Type   string          `json:"type"`
		Target json.RawMessage `json:"target"`
	}
	if err := p.decode(&src); err != nil {
		return err
	}
	target := strings.TrimSpace(string(src.Target))
	switch {
	case strings.HasPrefix(target, "{"):
		var t struct {
			UserInput      string   `json:"userInput"`
			ImageID        string   `json:"imageID"`
			ManifestDigest string   `json:"manifestDigest"`
			Tags           []string `json:"tags"`
			RepoDigests    []string `json:"repoDigests"`
		}
		if err := json.Unmarshal(src.Target, &t); err != nil {
			p.push(".target")
			return p.readErr(err)
		}
		rep.Artifact, rep.ImageID = t.UserInput, t.ImageID
		rep.Names = append(rep.Names, t.Tags...)
		rep.Digests = append(rep.Digests, t.RepoDigests...)
		if t.ManifestDigest != "" {
			rep.Digests = append(rep.Digests, t.ManifestDigest)
		}
	case strings.HasPrefix(target, `"`):
		json.Unmarshal(src.Target, &rep.Artifact)
	case target == "" || target == "null":
		return p.errorf("source without target")
	default:
		p.push(".target")
		return p.errorf("got %s, want an object or a string", target)
	}
	return nil
}
