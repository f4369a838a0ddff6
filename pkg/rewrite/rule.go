package rewrite

import (
	"context"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/hardenfix/hardenfix/pkg/registry"
)

// Risk says how much a reviewer needs to look at a fix.
type Risk string

const (
	// Safe fixes keep the meaning of the Dockerfile.
	Safe Risk = "safe"
	// Review fixes change behaviour on purpose; a human should look.
	Review Risk = "review"
)

// Rule is one rewrite rule: metadata plus a Check function, like an
// analysis.Analyzer. A rule only reads the Document and returns fixes made of
// byte-range edits and notes; the pipeline applies the edits. A rule never
// writes files, prints, or calls another rule.
type Rule struct {
	// Name is the identifier used on the command line and in ignore comments.
	Name string
	// Summary is one line for `hardenfix rules`.
	Summary string
	// Doc is the long help for `hardenfix explain` and SARIF's rule help. A
	// rule keeps it in doc/<Name>.md beside its code, embedded and passed
	// through DocFile.
	Doc string
	// Risk is the risk class of the rule's fixes.
	Risk Risk
	// URL points at the documentation the rule follows.
	URL string
	// OptIn rules run only when named (--enable NAME, or "default,NAME" for
	// the default rules plus this one): their fixes are sound, but they
	// change how the image must be built, so they are not made unasked.
	OptIn bool
	// Options are the settings the rule reads from Env.Options, declared
	// once for the configuration file, the command line, the fixture
	// harness and explain.
	Options []*Option
	// Reads, when set, lists the instructions (keywords in upper case) the
	// rule looks at: the pipeline skips the rule for a file that has none
	// of them (no ADD, no add-to-copy). A rule that reads the whole file
	// leaves it empty.
	Reads []string
	// Check inspects d and proposes fixes. Lines in the returned fixes and
	// notes refer to d.
	Check func(ctx context.Context, d *Document, env *Env) ([]Fix, []Note, error)
}

// DocFile returns the text of an embedded doc/<rule>.md file as a Rule.Doc:
// the file without the newline (or newlines) that end it.
func DocFile(text string) string { return strings.TrimRight(text, "\n") }

// Fix is one change a rule proposes: why, where, how risky, and the edits.
// A fix is atomic: the pipeline makes all its edits or none, and makes none
// when an ignore comment for the rule (see Document.Ignores) stands before
// the instruction at Line or any instruction the edits touch, so a rule
// returns one fix for one change, however many places it edits. An edit
// touches the instructions whose bytes it replaces or deletes, or the one
// it inserts into; a line inserted between two instructions touches both,
// the one before it and the one after it; a line appended at the end of
// the file touches the last one; an edit before the first instruction,
// where parser directives go, touches none.
type Fix struct {
	Rule    string
	Line    int
	Message string
	Risk    Risk
	Edits   []Edit
	// Notes are reported only when the fix is made: what a reader must
	// know or do because of it. The pipeline moves them to Result.Notes.
	Notes []Note
	// Before and After are the lines the fix touches, as they read before
	// and after it; the pipeline fills them in for reports.
	Before, After string
	// Image is set by rules that change an image reference (rebase, pin),
	// so reports can show the old and new reference and digest.
	Image *ImageChange
	// Touched lists the ranges of lines of the original file the fix's
	// edits fall on (an insertion falls on the line it is made at); the
	// pipeline fills it in.
	Touched []LineRange
}

// LineRange is an inclusive range of 1-based lines.
type LineRange struct{ Start, End int }

// ImageChange is an image reference a fix replaced.
type ImageChange struct {
	From, To string
	// Digest is the digest the new reference is pinned to, if any.
	Digest string
}

// Note is something a rule saw and did not fix, with the reason.
type Note struct {
	Rule    string
	Line    int
	Message string
}

func (n Note) String() string { return fmt.Sprintf("%d: %s: %s", n.Line, n.Rule, n.Message) }

// Env is what rules may know beyond the Dockerfile itself.
type Env struct {
	// BuildContext is the build context, used to look at source files
	// (for example to tell whether an ADD source is an archive). Its
	// reads cannot leave the context: no "..", no symbolic link out
	// (OpenContext gives one for a folder on disk). Nil when the context
	// is unknown.
	BuildContext fs.FS
	// Images tells what is known about base images; nil when nothing is.
	// It is the run's catalog of verified publishers (a *registry.Catalog),
	// or facts layered over it that give the catalog by a Catalog method
	// (as the fixture harness does); the rebase and pin rules consult that
	// catalog, the embedded one when there is none.
	Images registry.ImageInfo
	// Resolver looks images up in registries; nil when offline, so a rule
	// makes no network lookup when it is nil.
	Resolver registry.Resolver
	// Options are the values of the options the rules declare (see
	// Rule.Options); a rule reads its own with its Option's Bool, Int, …
	Options Options
}

// Select returns the rules of all that are enabled: every rule but the
// opt-in ones when enable is empty, else only those named ("default" names
// the rules that run when none is named), minus those in disable. Unknown
// names are an error, so a typo never silently disables nothing.
func Select(all []*Rule, enable, disable []string) ([]*Rule, error) {
	known := map[string]bool{}
	var names []string
	for _, r := range all {
		known[r.Name] = true
		names = append(names, r.Name)
	}
	check := func(list []string) (map[string]bool, error) {
		set := map[string]bool{}
		for _, n := range list {
			n = strings.TrimSpace(n)
			if n == "" {
				continue
			}
			if !known[n] {
				sort.Strings(names)
				return nil, fmt.Errorf("unknown rule %q (known rules: %s)", n, strings.Join(names, ", "))
			}
			set[n] = true
		}
		return set, nil
	}
	var named []string
	withDefaults := len(enable) == 0
	for _, n := range enable {
		if strings.TrimSpace(n) == defaultRules {
			withDefaults = true
			continue
		}
		named = append(named, n)
	}
	on, err := check(named)
	if err != nil {
		return nil, err
	}
	off, err := check(disable)
	if err != nil {
		return nil, err
	}
	var out []*Rule
	for _, r := range all {
		if (on[r.Name] || withDefaults && !r.OptIn) && !off[r.Name] {
			out = append(out, r)
		}
	}
	return out, nil
}

// defaultRules is the name that stands for the rules that run when none is
// named, so "--enable default,secrets" adds an opt-in rule to them.
const defaultRules = "default"
