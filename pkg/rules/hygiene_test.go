package rules

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/hardenfix/hardenfix/pkg/rewrite/rewritetest"
	"github.com/hardenfix/hardenfix/pkg/rules/execform"
	"github.com/hardenfix/hardenfix/pkg/rules/hygiene"
	"github.com/hardenfix/hardenfix/pkg/rules/maintainer"
)

// BenchmarkHygiene runs the six hygiene rules over a 40-stage Dockerfile
// with long continued RUNs, the shape of generated official-image files.
func BenchmarkHygiene(b *testing.B) {
	rewritetest.WithoutReparseCheck(b)
	var src strings.Builder
	for i := range 40 {
		fmt.Fprintf(&src, "FROM debian:bookworm-slim AS s%d\nMAINTAINER Jane Doe <jane@example.com>\n", i)
		src.WriteString("RUN set -eux; \\\n    apt-get update; \\\n    apt install \\\n")
		for j := range 20 {
			fmt.Fprintf(&src, "        pkg%d \\\n        # comment %d\n", j, j)
		}
		src.WriteString("    ; \\\n    pip install -r /req.txt && apk add curl && yum install git\nCMD app serve --port=80\n")
	}
	rules := []*rewrite.Rule{hygiene.AptHygiene, hygiene.ApkHygiene, hygiene.PipHygiene, hygiene.RpmHygiene, maintainer.Rule, execform.Rule}
	in := []byte(src.String())
	b.SetBytes(int64(len(in)))
	b.ResetTimer()
	for b.Loop() {
		res, err := rewrite.Run(context.Background(), "Dockerfile", in, rules, &rewrite.Env{})
		if err != nil || !res.Changed() {
			b.Fatalf("run: %v, changed %v", err, res != nil && res.Changed())
		}
	}
}

// FuzzHygiene runs the hygiene rules on arbitrary RUN, CMD and MAINTAINER
// text: no panic, word spans that match their text, and — when the input
// parses — an output that parses and a second run that changes nothing.
func FuzzHygiene(f *testing.F) {
	for _, seed := range []string{
		"RUN apt-get update && apt-get install curl",
		"RUN set -eux; \\\n  apt update; \\\n  # c\n  apt install -y x | tee l || true; echo",
		"RUN <<EOF\napt-get update\napt-get install \\\n  git\nEOF",
		"RUN --mount=type=cache,target=/root/.cache pip install -r r.txt && python3 -m pip install x",
		"RUN if [ -n \"$X\" ]; then yum install x; fi; zypper in y",
		"RUN apk add --virtual .b gcc && sh -c 'apk add x'",
		"MAINTAINER a \"b\" $c \\d",
		"CMD exec app --x=1 'a b'",
		"ENTRYPOINT app serve",
		"RUN a `b` $(c; d) ${e} > f 2>&1 &",
	} {
		f.Add(seed)
	}
	rules := []*rewrite.Rule{hygiene.AptHygiene, hygiene.ApkHygiene, hygiene.PipHygiene, hygiene.RpmHygiene, maintainer.Rule, execform.Rule}
	f.Fuzz(func(t *testing.T, text string) {
		src := []byte("FROM debian:bookworm-slim\n" + text + "\n")
		d, err := rewrite.Parse("Dockerfile", src)
		if err != nil {
			return
		}
		for _, in := range d.Instructions {
			s := d.Shell(in)
			if s == nil {
				continue
			}
			for _, c := range s.Commands {
				for _, w := range c.Words {
					if w.Span.Start < s.Span.Start || w.Span.End > s.Span.End || w.Span.Text(d.Src) != w.Raw {
						t.Fatalf("word %q has span %v outside or unlike the text %v", w.Raw, w.Span, s.Span)
					}
				}
			}
		}
		res, err := rewrite.Run(context.Background(), "Dockerfile", src, rules, &rewrite.Env{})
		if err != nil {
			t.Fatalf("run: %v", err)
		}
		again, err := rewrite.Run(context.Background(), "Dockerfile", res.New, rules, &rewrite.Env{})
		if err != nil {
			t.Fatalf("second run: %v\ninput:\n%s\noutput:\n%s", err, src, res.New)
		}
		if again.Changed() {
			t.Fatalf("second run changed the output:\n%s", rewrite.UnifiedDiff("Dockerfile", res.New, again.New))
		}
	})
}
