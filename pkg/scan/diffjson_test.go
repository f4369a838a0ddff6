package scan

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// TestJSONListsByID checks that scan-diff's JSON names every fixed,
// remaining and new vulnerability, exactly the sets Compare found, and
// that it matches docs/scan-diff-schema.json.
func TestJSONListsByID(t *testing.T) {
	schema, err := jsonschema.NewCompiler().Compile("../../docs/scan-diff-schema.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, pair := range [][2]string{{"trivy-before.json", "trivy-after.json"}, {"grype-before.json", "grype-after.json"}, {"trivy-before.json", "grype-after.json"}} {
		d := Compare(read(t, pair[0]), read(t, pair[1]))
		var b bytes.Buffer
		if err := d.WriteJSON(&b, 3); err != nil {
			t.Fatal(err)
		}
		var doc any
		if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		if err := schema.Validate(doc); err != nil {
			t.Errorf("%v: does not match the schema: %v", pair, err)
		}
		var out struct {
			Fixed, Remaining, New int
			Vulnerabilities       struct {
				Fixed, Remaining, New []struct{ ID, Package string }
			}
		}
		json.Unmarshal(b.Bytes(), &out)
		for _, c := range []struct {
			name  string
			count int
			got   []struct{ ID, Package string }
			want  []*Finding
		}{
			{"fixed", out.Fixed, out.Vulnerabilities.Fixed, d.Fixed},
			{"remaining", out.Remaining, out.Vulnerabilities.Remaining, d.Remaining},
			{"new", out.New, out.Vulnerabilities.New, d.New},
		} {
			if len(c.got) != c.count || len(c.got) != len(c.want) {
				t.Errorf("%v %s: %d listed, count %d, Compare found %d", pair, c.name, len(c.got), c.count, len(c.want))
				continue
			}
			for i, f := range c.want {
				if c.got[i].ID != f.ID || c.got[i].Package != f.Package {
					t.Errorf("%v %s[%d] = %v, want %s %s", pair, c.name, i, c.got[i], f.ID, f.Package)
				}
			}
		}
		if len(out.Vulnerabilities.Fixed) == 0 {
			t.Errorf("%v: the fixtures fix nothing, so the test proves nothing", pair)
		}
	}
	// The schema must reject a broken document, or it checks nothing.
	bad := map[string]any{"before": map[string]any{}, "fixed": "36"}
	if schema.Validate(bad) == nil {
		t.Error("the schema accepted a broken document")
	}
}
