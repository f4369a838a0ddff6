package report

import (
	"encoding/json"
	"io"
)

// WriteJSON writes the report as indented JSON (schema: docs/report-schema.json).
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}
