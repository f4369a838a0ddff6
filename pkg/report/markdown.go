package report

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/hardenfix/hardenfix/pkg/rules"
)

// GitHubBodyLimit is the most characters GitHub accepts in a pull-request
// body (and an issue or comment body).
const GitHubBodyLimit = 65536

// WriteMarkdown writes the report as a pull-request body a reviewer reads
// in a minute, after the bodies Renovate and Dependabot write: a title, a
// table of fixes by rule with what each means for security, the notes that
// ask for an action grouped by kind, one line for lookups --offline
// skipped, then per file a heading naming its rules and a collapsed
// <details> with one line per fix and the diff. It stays under GitHub's limit: when the files would not fit,
// each file's section is cut with a line that says so.
func (r *Report) WriteMarkdown(w io.Writer) error {
	_, err := io.WriteString(w, r.markdown(GitHubBodyLimit))
	return err
}

// markdown renders the body in at most limit bytes (bytes, not characters,
// so the count can only err on the safe side).
func (r *Report) markdown(limit int) string {
	// The head may take half the body; beyond that each group of notes
	// shows its first few and counts the rest.
	head := r.mdHead(-1)
	for _, most := range []int{20, 10, 5, 3, 1, 0} {
		if len(head) <= limit/2 {
			break
		}
		head = r.mdHead(most)
	}
	foot := r.mdFoot()
	var files []File
	for _, f := range r.Files {
		if len(f.Fixes) > 0 || len(f.Scans) > 0 || f.Diff != "" {
			files = append(files, f)
		}
	}
	sections := make([]string, len(files))
	total := 0
	for i, f := range files {
		sections[i] = fileSection(f, -1)
		total += len(sections[i])
	}
	if len(files) > 0 {
		head += "### Files\n\n"
	}
	if budget := limit - len(head) - len(foot); total > budget {
		sections = fairShares(files, sections, budget)
		sections = dropFiles(sections, budget)
	}
	return head + strings.Join(sections, "") + foot
}

// dropFiles keeps the sections that fit in budget, even cut ones, and
// replaces the rest with one line: with thousands of files even their
// headings would not fit.
func dropFiles(sections []string, budget int) []string {
	total := 0
	for _, s := range sections {
		total += len(s)
	}
	if total <= budget {
		return sections
	}
	line := func(n int) string {
		return fmt.Sprintf("*%d more changed %s left out to keep the body under GitHub's %d-character limit; %s.*\n\n",
			n, plural(n, "file", "files"), GitHubBodyLimit, fullReport)
	}
	used := 0
	for i, s := range sections {
		if used+len(s)+len(line(len(sections)-i)) > budget {
			return append(sections[:i:i], line(len(sections)-i))
		}
		used += len(s)
	}
	return sections
}

// fullReport says where a cut body's missing parts are.
const fullReport = "the full report is the JSON report (`--format json --report FILE`), the full diff is `hardenfix` without `--write`"

// fairShares cuts the file sections to fit budget: the smallest sections
// are kept whole, and the rest share what is left equally.
func fairShares(files []File, sections []string, budget int) []string {
	order := make([]int, len(files))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return len(sections[order[a]]) < len(sections[order[b]]) })
	out := make([]string, len(files))
	left := max(budget, 0)
	for n, i := range order {
		share := max(left/(len(order)-n), 0)
		if len(sections[i]) > share {
			out[i] = fileSection(files[i], share)
		} else {
			out[i] = sections[i]
		}
		left -= len(out[i])
	}
	return out
}

// mdHead is everything above the per-file sections: what a reviewer reads
// before deciding. most >= 0 lists at most that many items per group of
// notes.
func (r *Report) mdHead(most int) string {
	var b strings.Builder
	s := r.Summary
	fixes := 0
	for _, n := range s.Fixes {
		fixes += n
	}
	if s.Changed > 0 {
		fmt.Fprintf(&b, "## hardenfix: %d %s hardened\n\n", s.Changed, plural(s.Changed, "Dockerfile", "Dockerfiles"))
	} else {
		b.WriteString("## hardenfix: nothing to change\n\n")
	}
	writeVerification(&b, r.Files)
	action, offline, _ := r.splitNotes()
	fmt.Fprintf(&b, "**%d of %d %s changed** by %d %s", s.Changed, s.Files, plural(s.Files, "file", "files"), fixes, plural(fixes, "fix", "fixes"))
	if n := len(action); n > 0 {
		fmt.Fprintf(&b, "; %d %s below %s for a check", n, plural(n, "note", "notes"), plural(n, "asks", "ask"))
	}
	if s.Errors > 0 {
		fmt.Fprintf(&b, "; %d %s could not be processed and %s left as %s", s.Errors, plural(s.Errors, "file", "files"), plural(s.Errors, "was", "were"), plural(s.Errors, "it was", "they were"))
	}
	b.WriteString(".")
	if len(offline) > 0 {
		fmt.Fprintf(&b, " %d image %s skipped (`--offline`): nothing was pinned.",
			len(offline), plural(len(offline), "lookup was", "lookups were"))
	}
	b.WriteString("\n\n")
	writeRuleTable(&b, r.Files, s.Fixes)
	writeActionNotes(&b, r.Files, action, most)
	return b.String()
}

func (r *Report) mdFoot() string {
	var b strings.Builder
	_, _, quiet := r.splitNotes()
	b.WriteString("---\n<sub>")
	if n := len(quiet); n > 0 {
		fmt.Fprintf(&b, "%d more %s for nothing (what a rule left as it was, and why): see the JSON report (`--format json --report FILE`) or `--verbose`. ",
			n, plural(n, "note asks", "notes ask"))
	}
	fmt.Fprintf(&b, "Made by hardenfix %s", r.Tool.Version)
	if r.Catalog.Version != "" {
		fmt.Fprintf(&b, " with catalog %s (%s)", r.Catalog.Version, r.Catalog.Date)
	}
	b.WriteString(". Risk `safe`: meaning kept; `review`: behaviour changes on purpose.</sub>\n")
	return b.String()
}

// placedNote is a note with the file it is about ("" for the run).
type placedNote struct {
	path string
	Note
}

// splitNotes sorts the report's notes into those that ask for an action,
// those that only say --offline skipped a lookup, and the rest.
func (r *Report) splitNotes() (action, offline, quiet []placedNote) {
	add := func(path string, n Note) {
		n = n.withKind()
		p := placedNote{path, n}
		switch {
		case n.Kind == KindOffline.ID:
			offline = append(offline, p)
		case n.Action:
			action = append(action, p)
		default:
			quiet = append(quiet, p)
		}
	}
	for _, n := range r.Notes {
		add("", n)
	}
	for _, f := range r.Files {
		for _, n := range f.Notes {
			add(f.Path, n)
		}
	}
	return action, offline, quiet
}

// securityMeaning says, per rule, what its fixes mean for the image; n is
// the number of fixes, files the number of files it changed.
var securityMeaning = map[string]func(n, files int) string{
	"non-root": func(_, files int) string {
		return fmt.Sprintf("%d %s now %s as a non-root user", files, plural(files, "image", "images"), plural(files, "runs", "run"))
	},
	"multi-stage": func(_, files int) string {
		return fmt.Sprintf("build tools left behind in %d %s: the final stage holds only what runs", files, plural(files, "image", "images"))
	},
	"rebase": func(n, _ int) string {
		return fmt.Sprintf("%d base %s moved to a verified publisher", n, plural(n, "image", "images"))
	},
	"pin": func(n, _ int) string {
		return fmt.Sprintf("%d image %s pinned to a digest: rebuilds use the same bytes", n, plural(n, "reference", "references"))
	},
	"add-to-copy": func(n, _ int) string {
		return fmt.Sprintf("%d `ADD` %s `COPY`: nothing is fetched or unpacked behind the reader's back", n, plural(n, "is now", "are now"))
	},
	"apt-hygiene": hygieneMeaning, "apk-hygiene": hygieneMeaning, "pip-hygiene": hygieneMeaning, "rpm-hygiene": hygieneMeaning,
	"exec-form": func(int, int) string { return "the process runs as PID 1 and gets `docker stop`'s SIGTERM" },
	"maintainer": func(int, int) string {
		return "deprecated `MAINTAINER` becomes the OCI authors label"
	},
}

func hygieneMeaning(int, int) string {
	return "fewer packages, no package caches or lists left in the layers"
}

// ruleOrder puts the rules that change what runs first, then the others
// by name.
var ruleOrder = []string{"non-root", "multi-stage", "rebase", "pin", "add-to-copy"}

// writeRuleTable writes the fixes by rule with what they mean.
func writeRuleTable(b *strings.Builder, files []File, counts map[string]int) {
	if len(counts) == 0 {
		return
	}
	changedFiles := map[string]int{}
	for _, f := range files {
		seen := map[string]bool{}
		for _, x := range f.Fixes {
			if !seen[x.Rule] {
				seen[x.Rule] = true
				changedFiles[x.Rule]++
			}
		}
	}
	var names []string
	for _, n := range ruleOrder {
		if counts[n] > 0 {
			names = append(names, n)
		}
	}
	var rest []string
	for n := range counts {
		if !slices.Contains(ruleOrder, n) {
			rest = append(rest, n)
		}
	}
	sort.Strings(rest)
	names = append(names, rest...)
	// Rules whose fixes mean the same (the package-manager hygiene rules)
	// share a row.
	type row struct {
		rules   []string
		fixes   int
		meaning string
	}
	var rows []*row
	byMeaning := map[string]*row{}
	for _, n := range names {
		meaning := ""
		if m, ok := securityMeaning[n]; ok {
			meaning = m(counts[n], changedFiles[n])
		} else if rule, ok := rules.Lookup(n); ok {
			meaning = cell(rule.Summary)
		}
		if r, ok := byMeaning[meaning]; ok && meaning != "" {
			r.rules = append(r.rules, n)
			r.fixes += counts[n]
			continue
		}
		r := &row{rules: []string{n}, fixes: counts[n], meaning: meaning}
		byMeaning[meaning] = r
		rows = append(rows, r)
	}
	b.WriteString("| rule | fixes | what it means |\n| --- | ---: | --- |\n")
	for _, r := range rows {
		fmt.Fprintf(b, "| `%s` | %d | %s |\n", strings.Join(r.rules, "`, `"), r.fixes, r.meaning)
	}
	b.WriteString("\n")
}

// writeActionNotes writes the files that could not be processed and the
// notes that ask for an action, grouped by kind in the order kinds first
// appear.
func writeActionNotes(b *strings.Builder, files []File, notes []placedNote, most int) {
	var broken []File
	for _, f := range files {
		if f.Error != "" {
			broken = append(broken, f)
		}
	}
	if len(notes) == 0 && len(broken) == 0 {
		return
	}
	b.WriteString("### Needs your attention\n\n")
	if len(broken) > 0 {
		fmt.Fprintf(b, "**Not processed, left as %s** (%d)\n", plural(len(broken), "it was", "they were"), len(broken))
		for i, f := range broken {
			if i == most {
				writeMore(b, len(broken)-i)
				break
			}
			fmt.Fprintf(b, "- `%s`: %s\n", f.Path, cell(f.Error))
		}
		b.WriteString("\n")
	}
	var kinds []string
	byKind := map[string][]placedNote{}
	titles := map[string]string{}
	for _, n := range notes {
		if _, ok := byKind[n.Kind]; !ok {
			kinds = append(kinds, n.Kind)
		}
		byKind[n.Kind] = append(byKind[n.Kind], n)
		titles[n.Kind] = kindTitle(n.Kind)
	}
	for _, k := range kinds {
		group := byKind[k]
		shared := sharedAdvice(group)
		fmt.Fprintf(b, "**%s** (%d)", titles[k], len(group))
		if shared != "" {
			fmt.Fprintf(b, ": %s", cell(shared))
		}
		b.WriteString("\n")
		for i, n := range group {
			if i == most {
				writeMore(b, len(group)-i)
				break
			}
			msg := n.Message
			if fact, advice, ok := splitAdvice(msg); ok && advice == shared {
				msg = fact
			}
			fmt.Fprintf(b, "- %s %s\n", noteWhere(n), cell(msg))
		}
		b.WriteString("\n")
	}
}

// writeMore ends a list that was cut to keep the body under GitHub's limit.
func writeMore(b *strings.Builder, n int) {
	fmt.Fprintf(b, "- … and %d more: see the JSON report (`--format json --report FILE`)\n", n)
}

// splitAdvice splits a note into its fact and its advice, at the first
// "; ". When the advice ends with a word the fact names (the directory in
// "WORKDIR /app is owned by root; … RUN chown 10001:10001 /app"), that word
// is dropped from the advice, so notes that differ only there share it.
func splitAdvice(msg string) (fact, advice string, ok bool) {
	fact, advice, ok = strings.Cut(msg, "; ")
	if i := strings.LastIndexByte(advice, ' '); ok && i > 0 && strings.Contains(fact, advice[i+1:]) {
		advice = advice[:i]
	}
	return fact, advice, ok
}

// sharedAdvice is the advice (the part of a note after its first "; ")
// that most notes of a group share, when at least two do: the group then
// says it once and each note only its own fact.
func sharedAdvice(group []placedNote) string {
	count := map[string]int{}
	best := ""
	for _, n := range group {
		if _, advice, ok := splitAdvice(n.Message); ok {
			count[advice]++
			if count[advice] > count[best] {
				best = advice
			}
		}
	}
	if count[best] < 2 {
		return ""
	}
	return best
}

func kindTitle(id string) string {
	for _, k := range noteKinds {
		if k.kind.ID == id {
			return k.kind.Title
		}
	}
	return KindOther.Title
}

// noteWhere names a note's place: `path:line`, or the rule for a note
// about the run.
func noteWhere(n placedNote) string {
	switch {
	case n.path == "":
		return fmt.Sprintf("(`%s`)", n.Rule)
	case n.Line > 0:
		return fmt.Sprintf("`%s:%d`", n.path, n.Line)
	}
	return fmt.Sprintf("`%s`", n.path)
}

// fileSection is one file's part of the body: a heading that names the
// rules that changed it, the scans table, and one collapsed block holding
// a line per fix (what changed and why; fixes of one rule with the same
// message share a line) and the diff. Collapsed, a file takes two lines,
// so a body for a few files fits on one screen. With budget >= 0 the
// section is cut to fit it, diff lines first, and says what it left out.
func fileSection(f File, budget int) string {
	fixes := fixLines(f.Fixes)
	var sb strings.Builder
	writeScans(&sb, f.Scans)
	scans := sb.String()
	diff := strings.SplitAfter(strings.TrimSuffix(f.Diff, "\n"), "\n")
	if f.Diff == "" {
		diff = nil
	}
	full := assembleFile(f, fixes, scans, diff, 0)
	if budget < 0 || len(full) <= budget {
		return full
	}
	total := len(fixes) + len(diff)
	// Keep every fix line if the section without its diff fits, and as
	// many diff lines as then fit; else as many fix lines as fit.
	withoutDiff := assembleFile(f, fixes, scans, nil, len(diff))
	if len(withoutDiff) <= budget {
		keep := len(withoutDiff) + diffFrameLen(f, fixes, scans, len(diff))
		n := 0
		for n < len(diff) && keep+len(diff[n])+1 <= budget {
			keep += len(diff[n]) + 1
			n++
		}
		return assembleFile(f, fixes, scans, diff[:n], len(diff)-n)
	}
	keep := len(assembleFile(f, nil, "", nil, total)) + len(assembleFile(f, []string{""}, "", nil, 0))
	n := 0
	for n < len(fixes) && keep+len(fixes[n]) <= budget {
		keep += len(fixes[n])
		n++
	}
	return assembleFile(f, fixes[:n], "", nil, total-n)
}

// diffFrameLen is what the fence around a diff adds to a section.
func diffFrameLen(f File, fixes []string, scans string, omitted int) int {
	return len(assembleFile(f, fixes, scans, []string{""}, omitted)) - len(assembleFile(f, fixes, scans, nil, omitted))
}

// rulesLine names the rules that changed a file, as HTML for its
// summary line: each with its count when above one, and marked when a fix
// needs review.
func rulesLine(fixes []Fix) string {
	var order []string
	count, review := map[string]int{}, map[string]bool{}
	for _, x := range fixes {
		if count[x.Rule] == 0 {
			order = append(order, x.Rule)
		}
		count[x.Rule]++
		review[x.Rule] = review[x.Rule] || x.Risk == "review"
	}
	parts := make([]string, len(order))
	for i, r := range order {
		parts[i] = "<code>" + htmlEscape(r) + "</code>"
		if count[r] > 1 {
			parts[i] += fmt.Sprintf(" ×%d", count[r])
		}
		if review[r] {
			parts[i] += " <b>(review)</b>"
		}
	}
	return strings.Join(parts, ", ")
}

// fileTitle is the line that names a file: its path and its rules.
func fileTitle(f File) string {
	t := "<code>" + htmlEscape(f.Path) + "</code>"
	if rules := rulesLine(f.Fixes); rules != "" {
		t += ": " + rules
	}
	return t
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// assembleFile joins a file section's parts; omitted > 0 adds the line
// that says how many lines were left out and where the rest is.
func assembleFile(f File, fixes []string, scans string, diff []string, omitted int) string {
	var b strings.Builder
	folded := len(fixes) > 0 || len(diff) > 0
	if !folded || scans != "" {
		// With no block to name the file, or a visible scans table
		// under it, the file gets a line of its own.
		fmt.Fprintf(&b, "<p>%s</p>\n\n", fileTitle(f))
	}
	b.WriteString(scans)
	if folded {
		plus, minus := diffStat(f.Diff)
		fmt.Fprintf(&b, "<details><summary>%s — %d %s and the diff (+%d −%d)</summary>\n\n", fileTitle(f), len(f.Fixes), plural(len(f.Fixes), "fix", "fixes"), plus, minus)
		for _, l := range fixes {
			b.WriteString(l)
		}
		if len(fixes) > 0 {
			b.WriteString("\n")
		}
		if len(diff) > 0 {
			body := strings.Join(diff, "")
			fence := "```"
			for strings.Contains(body, fence) {
				fence += "`"
			}
			fmt.Fprintf(&b, "%sdiff\n%s\n%s\n\n", fence, strings.TrimSuffix(body, "\n"), fence)
		}
		b.WriteString("</details>\n\n")
	}
	if omitted > 0 {
		fmt.Fprintf(&b, "*%d %s of this file's fixes and diff left out to keep the body under GitHub's %d-character limit; %s.*\n\n",
			omitted, plural(omitted, "line", "lines"), GitHubBodyLimit, fullReport)
	}
	return b.String()
}

// fixLines lists a file's fixes, one line each, without instruction text
// (that is in the diff); fixes of one rule with the same message (two ADDs
// made COPY) share a line that names all their lines.
func fixLines(fixes []Fix) []string {
	type group struct {
		fix   Fix
		lines []int
	}
	var groups []*group
	index := map[string]*group{}
	for _, x := range fixes {
		key := x.Rule + "\x00" + x.Message
		if g, ok := index[key]; ok {
			g.lines = append(g.lines, x.Line)
			continue
		}
		g := &group{fix: x, lines: []int{x.Line}}
		index[key] = g
		groups = append(groups, g)
	}
	out := make([]string, 0, len(groups))
	for _, g := range groups {
		risk := ""
		if g.fix.Risk == "review" {
			risk = " **(review)**"
		}
		out = append(out, fmt.Sprintf("- `%s` %s%s: %s\n", g.fix.Rule, lineList(g.lines), risk, cell(g.fix.Message)))
	}
	return out
}

func lineList(lines []int) string {
	parts := make([]string, len(lines))
	for i, l := range lines {
		parts[i] = fmt.Sprint(l)
	}
	return plural(len(lines), "line ", "lines ") + strings.Join(parts, ", ")
}

// diffStat counts the added and removed lines of a unified diff.
func diffStat(diff string) (plus, minus int) {
	for _, l := range strings.Split(diff, "\n") {
		switch {
		case strings.HasPrefix(l, "+++"), strings.HasPrefix(l, "---"):
		case strings.HasPrefix(l, "+"):
			plus++
		case strings.HasPrefix(l, "-"):
			minus++
		}
	}
	return plus, minus
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// cell makes text safe inside a Markdown table cell or a one-line list
// item.
func cell(s string) string {
	s = strings.TrimRight(s, "\r\n")
	// <digest> or <jane@example.com> would be raw HTML or an autolink.
	s = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
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
