package report

import (
	"regexp"

	"github.com/hardenfix/hardenfix/internal/memo"
)

// A NoteKind groups notes that ask the reader the same thing. The kind is
// derived here from a note's rule and wording, so the rules stay plain
// producers of text and the grouping lives in one table a reviewer can read.
type NoteKind struct {
	// ID is the kind's stable name in the JSON report.
	ID string
	// Title is the Markdown group heading: what the reader should do.
	Title string
	// Action is true when the note asks the reader to do or check
	// something concrete. Only those are shown by default (Markdown body,
	// stderr); the others are in the JSON report and behind --verbose.
	Action bool
}

// Note kinds. KindOffline is special: all its notes become one summary line.
var (
	KindOffline = NoteKind{ID: "offline", Title: "lookups skipped by --offline"}
	// KindUnchanged notes explain why a rule left something as it was
	// (ADD kept for a URL or an archive, no split, shell form kept, a
	// reference only known at build time, an image that drops privileges
	// in its own entrypoint). Nothing is asked of the reader.
	KindUnchanged = NoteKind{ID: "unchanged", Title: "left as it was, with the reason"}
	// KindOther is every note the table does not know: shown, so a new
	// note is never hidden by accident.
	KindOther = NoteKind{ID: "other", Title: "Other notes", Action: true}
)

var (
	kindRuntimeFiles = NoteKind{ID: "runtime-files", Title: "Check that the runtime stage has everything the app reads", Action: true}
	kindWritable     = NoteKind{ID: "writable-paths", Title: "Give the non-root user the paths it writes", Action: true}
	kindPorts        = NoteKind{ID: "privileged-ports", Title: "Ports below 1024 under a non-root user", Action: true}
	kindSudo         = NoteKind{ID: "sudo", Title: "Drop sudo", Action: true}
	kindRuntimeUser  = NoteKind{ID: "runtime-user", Title: "Check or choose the runtime user", Action: true}
	kindChecksum     = NoteKind{ID: "checksum", Title: "Verify downloads with --checksum", Action: true}
	kindByHand       = NoteKind{ID: "by-hand", Title: "Finish by hand", Action: true}
	kindBaseImage    = NoteKind{ID: "base-image", Title: "Check base images hardenfix could not replace", Action: true}
	kindLookup       = NoteKind{ID: "lookup-failed", Title: "Registry lookups that failed (run again to pin)", Action: true}
	// kindUnverified: a base image not from a verified publisher with no
	// known replacement. Nothing to do in the pull request, and on real
	// trees hundreds of lines, so it is in the JSON report (by this kind).
	kindUnverified = NoteKind{ID: "unverified-base", Title: "non-standard base images with no verified replacement known"}
	kindScanReport = NoteKind{ID: "scan-report", Title: "Scanner reports to check", Action: true}
	kindSBOM       = NoteKind{ID: "sbom", Title: "Gaps in the bill of base images", Action: true}
)

// noteKinds maps a note's rule ("" = any) and wording to its kind; the
// first match wins, so specific wordings come before general ones.
var noteKinds = []struct {
	rule string
	re   *regexp.Regexp
	kind NoteKind
}{
	{"", regexp.MustCompile(`\(offline\)`), KindOffline},
	{"scan-report", regexp.MustCompile(``), kindScanReport},
	{"sbom", regexp.MustCompile(``), kindSBOM},
	{"", regexp.MustCompile(`HTTP \d{3}\)|could not be looked up|registry server error`), kindLookup},
	{"", regexp.MustCompile(`by hand|name a version tag|run hardenfix again`), kindByHand},
	{"", regexp.MustCompile(`is not a valid image reference|cannot be expanded`), KindUnchanged},
	{"add-to-copy", regexp.MustCompile(`without --checksum`), kindChecksum},
	{"add-to-copy", regexp.MustCompile(`^ADD kept`), KindUnchanged},
	{"exec-form", regexp.MustCompile(`^shell-form \w+ kept`), KindUnchanged},
	{"multi-stage", regexp.MustCompile(`^not split`), KindUnchanged},
	{"multi-stage", regexp.MustCompile(`holds only|lacks libraries|devDependencies`), kindRuntimeFiles},
	{"", regexp.MustCompile(`whose value is only known at build time|variables only known at build time|left as it is$`), KindUnchanged},
	{"pin", regexp.MustCompile(`^FROM: pinned|^digest not refreshed`), KindUnchanged},
	{"non-root", regexp.MustCompile(`sudo`), kindSudo},
	{"non-root", regexp.MustCompile(`below 1024`), kindPorts},
	{"non-root", regexp.MustCompile(`owned by root|writable by everyone|root's home|changes file owners|^VOLUME |files are handed to`), kindWritable},
	{"non-root", regexp.MustCompile(`; check that it does$|by design|Windows|is not known|without a fixed uid|no stage is named|switches to root|^ONBUILD RUN`), kindRuntimeUser},
	{"non-root", regexp.MustCompile(`none was added$`), KindUnchanged},
	{"rebase", regexp.MustCompile(`no verified replacement known`), kindUnverified},
	{"rebase", regexp.MustCompile(``), kindBaseImage},
}

// KindOf returns the kind of a note of rule with message.
//
// The same notes come back in file after file, so the answers are
// remembered (matching is a run of regular expressions).
func KindOf(rule, message string) NoteKind {
	return kinds.Get(rule+"\x00"+message, func(string) NoteKind { return kindOf(rule, message) })
}

var kinds = memo.Map[NoteKind]{Max: 1024}

func kindOf(rule, message string) NoteKind {
	for _, k := range noteKinds {
		if (k.rule == "" || k.rule == rule) && k.re.MatchString(message) {
			return k.kind
		}
	}
	return KindOther
}
