package rules

import (
	"bytes"
	"context"
	"testing"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/hardenfix/hardenfix/pkg/rewrite/rewritetest"
)

// FuzzPipeline feeds arbitrary text through parse → rules → re-parse and
// checks that whatever parses comes out parseable, idempotent, and with its
// BOM, final newline and escape directive kept. Seeds are the fixture
// inputs. Run with:
//
//	go test ./pkg/rules -run '^$' -fuzz FuzzPipeline -fuzztime 5m
func FuzzPipeline(f *testing.F) {
	for _, fx := range rewritetest.LoadFixtures(f, ".", All()) {
		f.Add(fx.Input)
	}
	rules := All()
	env := &rewrite.Env{}
	f.Fuzz(func(t *testing.T, src []byte) {
		ctx := context.Background()
		if _, err := rewrite.Parse("Dockerfile", src); err != nil {
			return // BuildKit rejects it; hardenfix reports it and changes nothing
		}
		res, err := rewrite.Run(ctx, "Dockerfile", src, rules, env)
		if err != nil {
			t.Fatalf("input parses but the pipeline failed: %v", err)
		}
		if !res.Changed() {
			return
		}
		after, err := rewrite.Parse("Dockerfile", res.New)
		if err != nil {
			t.Fatalf("output does not parse: %v", err)
		}
		again, err := rewrite.Run(ctx, "Dockerfile", res.New, rules, env)
		if err != nil {
			t.Fatalf("second run failed: %v", err)
		}
		if again.Changed() {
			t.Fatalf("not idempotent:\n%s", rewrite.UnifiedDiff("Dockerfile", res.New, again.New))
		}
		if bytes.HasPrefix(src, []byte(rewrite.BOM)) != bytes.HasPrefix(res.New, []byte(rewrite.BOM)) ||
			bytes.HasSuffix(src, []byte("\n")) != bytes.HasSuffix(res.New, []byte("\n")) {
			t.Fatalf("BOM or final newline not kept")
		}
		before, _ := rewrite.Parse("Dockerfile", src)
		if before.Escape != after.Escape {
			t.Fatalf("escape changed")
		}
		if len(before.Stages) != len(after.Stages) && len(res.Fixes) == 0 {
			t.Fatalf("stages changed with no fix")
		}
	})
}
