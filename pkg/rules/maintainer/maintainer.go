package maintainer

import (
	"context"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
)

// Rule replaces the deprecated MAINTAINER instruction with the OCI
// authors label.
var Rule = &rewrite.Rule{
	Name:    "maintainer",
	Summary: "Replace the deprecated MAINTAINER with LABEL org.opencontainers.image.authors.",
	Doc: `MAINTAINER has been deprecated since Docker 1.13 (hadolint DL4000, BuildKit
warns about it too). The OCI annotation org.opencontainers.image.authors is
where the same information belongs, and every registry and scanner shows it.

The whole MAINTAINER instruction is replaced with one LABEL instruction in
the keyword case it was written in (maintainer → label). The text is kept
exactly: it is put in double quotes, and the characters a LABEL value would
otherwise interpret — the double quote, $ (LABEL expands variables,
MAINTAINER does not) and the escape character — are escaped. The rule
checks that the label reads back as the original text and leaves the
instruction with a note when it does not. One difference remains: MAINTAINER
also set the image config's legacy Author field, which LABEL does not;
nothing reads that field any more.

Skipped, with a note, when the stage already sets
org.opencontainers.image.authors (the two would disagree; delete one by
hand).

Before:  MAINTAINER Jane Doe <jane@example.com>
After:   LABEL org.opencontainers.image.authors="Jane Doe <jane@example.com>"`,
	Risk:  rewrite.Safe,
	URL:   "https://github.com/hadolint/hadolint/wiki/DL4000",
	Check: checkMaintainer,
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
