package maintainer

import (
	"context"
	_ "embed"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
)

//go:embed doc/maintainer.md
var maintainerDoc string

// Rule replaces the deprecated MAINTAINER instruction with the OCI
// authors label.
var Rule = &rewrite.Rule{
	Name:    "maintainer",
	Summary: "Replace the deprecated MAINTAINER with LABEL org.opencontainers.image.authors.",
	Doc:     rewrite.DocFile(maintainerDoc),
	Risk:    rewrite.Safe,
	URL:     "https://github.com/hadolint/hadolint/wiki/DL4000",
	Check:   checkMaintainer,
	Reads:   []string{"MAINTAINER"},
}

const authorsLabel = "org.opencontainers.image.authors"

func checkMaintainer(_ context.Context, d *rewrite.Document, _ *rewrite.Env) ([]rewrite.Fix, []rewrite.Note, error) {
	var fixes []rewrite.Fix
	var notes []rewrite.Note
	for _, in := range d.Instructions {
		cmd, ok := in.Command.(*instructions.MaintainerCommand)
		if !ok || in.Keyword != "MAINTAINER" {
			continue
		}
		who := cmd.Maintainer
		if strings.TrimSpace(who) == "" {
			continue
		}
		if d.EndsInContinuation(in) {
			notes = append(notes, rewrite.Note{Line: in.Line, Message: "MAINTAINER kept: the file ends inside its line continuation; end the line, then run hardenfix again"})
			continue
		}
		if stageHasLabel(d, in.Stage, authorsLabel) {
			notes = append(notes, rewrite.Note{Line: in.Line, Message: "MAINTAINER kept: the stage already sets " + authorsLabel + "; remove one of the two by hand"})
			continue
		}
		quoted := quoteLabelValue(who, byte(d.Escape))
		if got, unset, err := d.Expand(quoted, rewrite.Vars{}); err != nil || len(unset) > 0 || got != who {
			notes = append(notes, rewrite.Note{Line: in.Line, Message: "MAINTAINER kept: its text cannot be written as a LABEL value that reads back the same"})
			continue
		}
		kw := in.KeywordSpan.Text(d.Src)
		fixes = append(fixes, rewrite.Fix{
			Line:    in.Line,
			Message: "MAINTAINER is deprecated; the OCI label " + authorsLabel + " holds the same information",
			Edits:   []rewrite.Edit{rewrite.Replace(rewrite.Span{Start: in.KeywordSpan.Start, End: in.ArgsSpan.End}, rewrite.MatchCase(kw, "LABEL")+" "+authorsLabel+"="+quoted)},
		})
	}
	return fixes, notes, nil
}

// quoteLabelValue double-quotes s for a LABEL value, escaping the double
// quote, $ and the escape character with esc.
func quoteLabelValue(s string, esc byte) string {
	if esc == 0 {
		esc = '\\'
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '"' || c == '$' || c == esc {
			b.WriteByte(esc)
		}
		b.WriteByte(c)
	}
	b.WriteByte('"')
	return b.String()
}

// stageHasLabel reports whether a LABEL of the stage sets key.
func stageHasLabel(d *rewrite.Document, stage int, key string) bool {
	for _, in := range d.Instructions {
		if in.Stage != stage {
			continue
		}
		if c, ok := in.Command.(*instructions.LabelCommand); ok {
			for _, kv := range c.Labels {
				if kv.Key == key {
					return true
				}
			}
		}
	}
	return false
}
