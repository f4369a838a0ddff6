// Package cdxschema compiles the CycloneDX 1.5 JSON schema, for tests that
// validate the BOMs hardenfix writes. The schema and the schemas it refers
// to (SPDX license IDs, JSF signatures) are read from the cyclonedx-go
// module's source in the module cache, found through the go command, so
// nothing is fetched from the network and nothing is copied into this
// repository.
package cdxschema

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

const bomID = "http://cyclonedx.org/schema/bom-1.5.schema.json"

var (
	once     sync.Once
	compiled *jsonschema.Schema
	err      error
)

// BOM15 returns the compiled CycloneDX 1.5 schema, with format assertions
// on.
func BOM15() (*jsonschema.Schema, error) {
	once.Do(func() { compiled, err = compile() })
	return compiled, err
}

func compile() (*jsonschema.Schema, error) {
	// Ask from this package's folder, so tests that changed their working
	// directory still find the module.
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/CycloneDX/cyclonedx-go")
	if _, file, _, ok := runtime.Caller(0); ok {
		cmd.Dir = filepath.Dir(file)
	}
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("locating cyclonedx-go: %w", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "schema")
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	// Resources go in under their $id, so the schema's relative $refs
	// resolve to them. The module names the JSF file *.schemax.json.
	for file, id := range map[string]string{
		"bom-1.5.schema.json":   bomID,
		"spdx.schema.json":      "http://cyclonedx.org/schema/spdx.schema.json",
		"jsf-0.82.schemax.json": "http://cyclonedx.org/schema/jsf-0.82.schema.json",
	} {
		f, err := os.Open(filepath.Join(dir, file))
		if err != nil {
			return nil, err
		}
		doc, err := jsonschema.UnmarshalJSON(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		if err := c.AddResource(id, doc); err != nil {
			return nil, err
		}
	}
	return c.Compile(bomID)
}
