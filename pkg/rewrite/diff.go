package rewrite

import (
	"fmt"
	"strings"

	"github.com/sergi/go-diff/diffmatchpatch"
)

// contextLines is the number of unchanged lines around each hunk, as in
// `diff -u` and `git diff`.
const contextLines = 3

type diffLine struct {
	op   byte // ' ', '-' or '+'
	text string
}

// UnifiedDiff returns a unified diff from old to new for the file at path,
// with `a/` and `b/` prefixes, 3 lines of context and `\ No newline at end
// of file` markers, in the form `git apply` and `patch -p1` accept. It
// returns "" when the texts are equal. Line endings (CRLF included) are
// kept byte for byte.
func UnifiedDiff(path string, old, new []byte) string {
	if string(old) == string(new) {
		return ""
	}
	lines := diffLines(string(old), string(new))
	var b strings.Builder
	path = strings.TrimLeft(strings.TrimPrefix(path, "./"), "/")
	fmt.Fprintf(&b, "--- a/%s\n+++ b/%s\n", path, path)
	oldNo, newNo := 1, 1 // line numbers at lines[i]
	i := 0
	for i < len(lines) {
		// Find the next change.
		j := i
		for j < len(lines) && lines[j].op == ' ' {
			j++
		}
		if j == len(lines) {
			break
		}
		start := max(i, j-contextLines)
		oldNo += start - i
		newNo += start - i
		// Extend the hunk while the gap between changes is small enough
		// to share context.
		end := j
		for {
			for end < len(lines) && lines[end].op != ' ' {
				end++
			}
			k := end
			for k < len(lines) && lines[k].op == ' ' {
				k++
			}
			if k < len(lines) && k-end <= 2*contextLines {
				end = k
				continue
			}
			end = min(end+contextLines, len(lines))
			break
		}
		var oldCount, newCount int
		for _, l := range lines[start:end] {
			if l.op != '+' {
				oldCount++
			}
			if l.op != '-' {
				newCount++
			}
		}
		fmt.Fprintf(&b, "@@ -%s +%s @@\n", hunkRange(oldNo, oldCount), hunkRange(newNo, newCount))
		for _, l := range lines[start:end] {
			b.WriteByte(l.op)
			b.WriteString(l.text)
			if !strings.HasSuffix(l.text, "\n") {
				b.WriteString("\n\\ No newline at end of file\n")
			}
		}
		oldNo += oldCount
		newNo += newCount
		i = end
	}
	return b.String()
}

func hunkRange(start, count int) string {
	switch count {
	case 0:
		return fmt.Sprintf("%d,0", start-1)
	case 1:
		return fmt.Sprintf("%d", start)
	}
	return fmt.Sprintf("%d,%d", start, count)
}

// diffLines computes a line diff with go-diff's line mode.
func diffLines(old, new string) []diffLine {
	dmp := diffmatchpatch.New()
	dmp.DiffTimeout = 0 // a minimal diff, the same on every run
	a, b, table := dmp.DiffLinesToRunes(old, new)
	diffs := dmp.DiffCharsToLines(dmp.DiffMainRunes(a, b, false), table)
	var out []diffLine
	for _, d := range diffs {
		op := byte(' ')
		switch d.Type {
		case diffmatchpatch.DiffDelete:
			op = '-'
		case diffmatchpatch.DiffInsert:
			op = '+'
		}
		for _, l := range strings.SplitAfter(d.Text, "\n") {
			if l != "" {
				out = append(out, diffLine{op, l})
			}
		}
	}
	return out
}
