package rules

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/hardenfix/hardenfix/pkg/files"
	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/hardenfix/hardenfix/pkg/rewrite/rewritetest"
	"github.com/hardenfix/hardenfix/pkg/rules/nonroot"
)

// TestRealWorld runs the non-root rule over every Dockerfile under the
// folder HARDENFIX_REALWORLD names (skipped when unset: such trees are not
// part of the repository) and checks the invariants every fixture is held
// to, and that the final stage ends non-root unless a note says why not. It logs the share of final
// stages running as root before and after.
func TestRealWorld(t *testing.T) {
	root := os.Getenv("HARDENFIX_REALWORLD")
	if root == "" {
		t.Skip("set HARDENFIX_REALWORLD to a folder of Dockerfiles")
	}
	files, err := files.Discover([]string{root}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rules := []*rewrite.Rule{nonroot.Rule}
	var total, parsed, rootBefore, rootAfter, noted, changed, unknownAfter int
	reasons := map[string]int{}
	kinds := map[string]int{}
	type tally struct{ files, root, rootAfter int }
	perDir := map[string]*tally{}
	openContext := rewrite.OpenContext(t.TempDir())
	defer func() { openContext.Close() }()
	for _, p := range files {
		total++
		src, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		before, err := rewrite.Parse(p, src)
		if err != nil || len(before.Stages) == 0 {
			continue
		}
		parsed++
		rel, _ := filepath.Rel(root, p)
		top, _, _ := strings.Cut(filepath.ToSlash(rel), "/")
		if perDir[top] == nil {
			perDir[top] = &tally{}
		}
		perDir[top].files++
		// The context stays open for the invariants' runs and RunsAs
		// below (a closed one reads as empty); the next file closes it.
		openContext.Close()
		buildContext := rewrite.OpenContext(filepath.Dir(p))
		openContext = buildContext
		env := &rewrite.Env{BuildContext: buildContext}
		res, err := rewrite.Run(context.Background(), p, src, rules, env)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		after, err := rewrite.Parse(p, res.New)
		if err != nil {
			t.Errorf("%s: output does not parse: %v", p, err)
			continue
		}
		// The fixture invariants (DESIGN §5): parse, no new warnings, only
		// fixed instructions change, idempotence, git apply and patch -p1,
		// line endings, stage names, determinism.
		t.Run(p, func(t *testing.T) { rewritetest.CheckInvariants(t, src, res, rules, env) })
		if res.Changed() {
			changed++
		}
		for _, f := range res.Fixes {
			kinds[fixKind(f.Message)]++
		}
		wasRoot := nonroot.RunsAs(before, env)
		isRoot := nonroot.RunsAs(after, env)
		if wasRoot == "root" {
			rootBefore++
			perDir[top].root++
		}
		switch isRoot {
		case "root":
			rootAfter++
			perDir[top].rootAfter++
			if len(res.Notes) == 0 {
				t.Errorf("%s: final stage still runs as root and no note says why", p)
			}
			noted++
			for _, n := range res.Notes {
				reasons[firstWords(n.Message)]++
			}
		case "unknown":
			unknownAfter++
		}
	}
	t.Logf("%d files, %d parsed; final stage as root: %d before (%.0f%%), %d after (%.0f%%), all with a note: %d; unknown user after: %d; files changed: %d",
		total, parsed, rootBefore, pct(rootBefore, parsed), rootAfter, pct(rootAfter, parsed), noted, unknownAfter, changed)
	var dirs []string
	for k := range perDir {
		dirs = append(dirs, k)
	}
	sort.Strings(dirs)
	for _, k := range dirs {
		v := perDir[k]
		t.Logf("  %-45s %5d files, root before %5d, after %4d", k, v.files, v.root, v.rootAfter)
	}
	for _, k := range sortedKeys(kinds) {
		t.Logf("  fixes: %4d  %s", kinds[k], k)
	}
	var keys []string
	for k := range reasons {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return reasons[keys[i]] > reasons[keys[j]] })
	for _, k := range keys {
		t.Logf("  %4d  %s", reasons[k], k)
	}
}

func pct(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}

func firstWords(s string) string {
	f := strings.Fields(s)
	if len(f) > 7 {
		f = f[:7]
	}
	return strings.Join(f, " ")
}

// fixKind sorts the rule's fix messages into the decisions they report.
func fixKind(msg string) string {
	switch {
	case strings.HasPrefix(msg, "create the system user"):
		return "user created after FROM"
	case strings.Contains(msg, "no user needs creating"):
		return "numeric USER, no user created"
	case strings.Contains(msg, "state it"):
		return "implicit non-root user made explicit"
	case strings.Contains(msg, "creates the user"), strings.Contains(msg, "hands files to"), strings.Contains(msg, "switch back to"):
		return "existing user reused"
	case strings.Contains(msg, "nonroot user every distroless"):
		return "distroless nonroot user"
	}
	return "USER for a created user"
}

func sortedKeys(m map[string]int) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] || m[keys[i]] == m[keys[j]] && keys[i] < keys[j] })
	return keys
}
