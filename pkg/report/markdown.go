package report

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// WriteMarkdown writes the report as a pull-request body: summary counts, a
// table per changed file (line, rule, before → after, why, risk), a "needs
// a human" section listing every review-risk fix and every note, and a
// footer with the tool and catalog versions.
func (r *Report) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	s := r.Summary
	fixes := 0
	for _, n := range s.Fixes {
		fixes += n
	}
	fmt.Fprintf(&b, "## hardenfix: %d %s hardened\n\n", s.Changed, plural(s.Changed, "Dockerfile", "Dockerfiles"))
	fmt.Fprintf(&b, "hardenfix scanned %d %s and made %d %s in %d of them.", s.Files, plural(s.Files, "file", "files"), fixes, plural(fixes, "change", "changes"), s.Changed)
	if s.Notes > 0 {
		fmt.Fprintf(&b, " %d %s below %s a human.", s.Notes, plural(s.Notes, "note", "notes"), plural(s.Notes, "needs", "need"))
	}
	if s.Errors > 0 {
		fmt.Fprintf(&b, " %d %s could not be processed and %s left as %s.", s.Errors, plural(s.Errors, "file", "files"), plural(s.Errors, "was", "were"), plural(s.Errors, "it was", "they were"))
	}
	b.WriteString("\n\n")
	if len(s.Fixes) > 0 {
		b.WriteString("| rule | changes |\n| --- | ---: |\n")
		var names []string
		for n := range s.Fixes {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(&b, "| `%s` | %d |\n", n, s.Fixes[n])
		}
		b.WriteString("\n")
	}
	for _, f := range r.Files {
		if len(f.Fixes) == 0 && len(f.Scans) == 0 {
			continue
		}
		fmt.Fprintf(&b, "### `%s`\n\n", f.Path)
		if len(f.Fixes) > 0 {
			b.WriteString("| line | rule | before → after | why | risk |\n| ---: | --- | --- | --- | --- |\n")
			for _, x := range f.Fixes {
				fmt.Fprintf(&b, "| %d | `%s` | %s → %s | %s | %s |\n", x.Line, x.Rule, codeCell(x.Before), codeCell(x.After), cell(x.Message), x.Risk)
			}
			b.WriteString("\n")
		}
		writeScans(&b, f.Scans)
	}
	var human []string
	for _, n := range r.Notes {
		human = append(human, fmt.Sprintf("- (`%s`): %s", n.Rule, cell(n.Message)))
	}
	for _, f := range r.Files {
		if f.Error != "" {
			human = append(human, fmt.Sprintf("- `%s`: not processed: %s", f.Path, cell(f.Error)))
		}
		for _, x := range f.Fixes {
			if x.Risk == "review" {
				human = append(human, fmt.Sprintf("- `%s:%d` (`%s`, review): %s", f.Path, x.Line, x.Rule, cell(x.Message)))
			}
		}
		for _, n := range f.Notes {
			human = append(human, fmt.Sprintf("- `%s:%d` (`%s`): %s", f.Path, n.Line, n.Rule, cell(n.Message)))
		}
	}
	if len(human) > 0 {
		b.WriteString("### Needs a human\n\n")
		b.WriteString(strings.Join(human, "\n"))
		b.WriteString("\n\n")
	}
	b.WriteString("---\n")
	fmt.Fprintf(&b, "<sub>Made by hardenfix %s", r.Tool.Version)
	if r.Catalog.Version != "" {
		fmt.Fprintf(&b, " with catalog %s (%s)", r.Catalog.Version, r.Catalog.Date)
	}
	b.WriteString(". Risk `safe`: meaning kept; `review`: behaviour changes on purpose.</sub>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// cell makes text safe inside a Markdown table cell.
func cell(s string) string {
	s = strings.TrimRight(s, "\r\n")
	s = strings.ReplaceAll(s, "|", `\|`)
	s = strings.ReplaceAll(s, "\r\n", "<br>")
	return strings.ReplaceAll(s, "\n", "<br>")
}

// codeCell shows Dockerfile text as code inside a table cell. Backticks in
// the text get a longer fence, as CommonMark allows.
func codeCell(s string) string {
	s = strings.TrimRight(s, "\r\n")
	if s == "" {
		return "*(nothing)*"
	}
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	for i, l := range lines {
		if strings.TrimSpace(l) == "" {
			lines[i] = "" // a blank line stays blank, not an empty code span
			continue
		}
		fence := "`"
		for strings.Contains(l, fence) {
			fence += "`"
		}
		l = strings.ReplaceAll(l, "|", `\|`)
		pad := ""
		if strings.HasPrefix(l, "`") || strings.HasSuffix(l, "`") {
			pad = " "
		}
		lines[i] = fence + pad + l + pad + fence
	}
	return strings.Join(lines, "<br>")
}
