package report

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/hardenfix/hardenfix/pkg/rules/addtocopy"
)

// bigReport is a run over n files whose diffs are long: each has many
// ADD lines that add-to-copy changes.
func bigReport(t *testing.T, n, adds int) *Report {
	t.Helper()
	r := New("test")
	r.Rules = []*rewrite.Rule{addtocopy.Rule}
	for i := range n {
		var src strings.Builder
		src.WriteString("FROM alpine:3.20\n")
		for j := range adds {
			fmt.Fprintf(&src, "ADD file-%d-%d.txt /srv/data/file-%d-%d.txt\n", i, j, i, j)
		}
		path := fmt.Sprintf("svc/%03d/Dockerfile", i)
		res, err := rewrite.Run(context.Background(), path, []byte(src.String()), r.Rules, &rewrite.Env{})
		r.Add(path, res, err)
	}
	return r
}

func TestMarkdownUnderLimit(t *testing.T) {
	small := bigReport(t, 2, 3).markdown(GitHubBodyLimit)
	if strings.Contains(small, "left out to keep the body") {
		t.Error("a small body was cut")
	}
	for _, limit := range []int{GitHubBodyLimit, 20000, 6000} {
		md := bigReport(t, 40, 60).markdown(limit)
		if len(md) > limit {
			t.Errorf("limit %d: body is %d bytes", limit, len(md))
		}
		if !strings.Contains(md, "-character limit; the full report is the JSON report (`--format json --report FILE`)") {
			t.Errorf("limit %d: no line says what was left out and where the rest is", limit)
		}
		// Every file keeps its heading, or a line counts the files left out.
		headings := strings.Count(md, "<code>svc/")
		if headings < 40 && !strings.Contains(md, fmt.Sprintf("*%d more changed files left out", 40-headings)) {
			t.Errorf("limit %d: %d of 40 files shown and no line counts the rest", limit, headings)
		}
		if limit == GitHubBodyLimit && headings != 40 {
			t.Errorf("at GitHub's limit only %d of 40 files are shown", headings)
		}
		// Every opened diff is closed.
		if o, c := strings.Count(md, "<details>"), strings.Count(md, "</details>"); o != c {
			t.Errorf("limit %d: %d <details> but %d </details>", limit, o, c)
		}
		if strings.Count(md, "\n```")%2 != 0 {
			t.Errorf("limit %d: a code fence is left open", limit)
		}
		if !strings.HasSuffix(md, "behaviour changes on purpose.</sub>\n") {
			t.Errorf("limit %d: the footer was cut", limit)
		}
	}
}

func TestFixLinesShareAMessage(t *testing.T) {
	got := fixLines([]Fix{
		{Rule: "add-to-copy", Line: 4, Message: "same"},
		{Rule: "non-root", Line: 5, Risk: "review", Message: "other"},
		{Rule: "add-to-copy", Line: 6, Message: "same"},
	})
	want := []string{"- `add-to-copy` lines 4, 6: same\n", "- `non-root` line 5 **(review)**: other\n"}
	if strings.Join(got, "") != strings.Join(want, "") {
		t.Errorf("fixLines = %q, want %q", got, want)
	}
}

func TestNoteKinds(t *testing.T) {
	for _, c := range []struct {
		rule, msg string
		kind      string
		action    bool
	}{
		{"pin", "not pinned: golang:1.22 was not looked up (offline)", "offline", false},
		{"rebase", "non-standard base image someone/python:3.11: its name suggests python:3.11, but telling whether it is a re-tag needs a registry lookup (offline)", "offline", false},
		{"pin", "not pinned: python:3.12-slim: registry server error (127.0.0.1:5000, HTTP 500)", "lookup-failed", true},
		{"pin", "not pinned: node:20-slim is node:20-slim@sha256:ab, but ARG BASE feeds 2 FROM instructions; pin it by hand", "by-hand", true},
		{"apt-hygiene", "apt-get inside a heredoc RUN is not edited; fix it by hand", "by-hand", true},
		{"add-to-copy", `ADD kept: source "x.tgz" is a file named like an archive, which ADD unpacks`, "unchanged", false},
		{"add-to-copy", "remote ADD without --checksum: add --checksum=sha256:<digest> so the download is verified", "checksum", true},
		{"exec-form", "shell-form CMD kept: the stage sets SHELL, so the shell form runs in that shell", "unchanged", false},
		{"multi-stage", "not split into build and runtime stages: cargo build without --release makes a debug binary", "unchanged", false},
		{"multi-stage", "the final stage holds only /app; if the application reads other files at run time, add COPY --from=build lines for them", "runtime-files", true},
		{"non-root", "WORKDIR /app is owned by root: the process, now running as 10001:10001, cannot write there", "writable-paths", true},
		{"non-root", "EXPOSE 80: as 10001:10001 the process may not bind ports below 1024", "privileged-ports", true},
		{"non-root", "RUN calls sudo: the runtime user 10001:10001 has no sudo rights; drop it", "sudo", true},
		{"non-root", "the image uses gosu: its entrypoint probably starts as root and drops privileges itself, so no USER was added; check that it does", "runtime-user", true},
		{"non-root", "postgres:16 starts as root and switches to its own service user in its entrypoint (gosu, su-exec, s6-overlay); a USER would break that, so none was added", "unchanged", false},
		{"rebase", "non-standard base image acme/webapp:1.4: no verified replacement known", "unverified-base", false},
		{"rebase", "non-standard base image someone/node-base:18 is built on the verified node:18 and adds 2 layer(s) on linux/amd64; not rebased: rebuild those additions on node:18", "base-image", true},
		{"non-root", "VOLUME /data: a new volume takes the owner of /data in the image, root here; if the process writes to it, create it owned by 10001:10001 before VOLUME", "writable-paths", true},
		{"pin", `not pinned: "REPLACE-ME" is not a valid image reference: invalid reference format`, "unchanged", false},
		{"pin", `not pinned: the reference "$REGISTRY/node:20-slim" uses $REGISTRY, whose value is only known at build time`, "unchanged", false},
		{"some-new-rule", "something never seen", "other", true},
	} {
		n := NewNote(c.rule, 1, c.msg)
		if n.Kind != c.kind || n.Action != c.action {
			t.Errorf("%s: %q: kind %s action %v, want %s %v", c.rule, c.msg, n.Kind, n.Action, c.kind, c.action)
		}
	}
}

// TestMarkdownManyNotes: thousands of notes that ask for an action must
// not push the body past GitHub's limit either.
func TestMarkdownManyNotes(t *testing.T) {
	r := bigReport(t, 3, 2)
	for i := range 3000 {
		r.AddFileNote("svc/000/Dockerfile", Note{Rule: "add-to-copy", Line: i + 1, Message: "remote ADD without --checksum: add --checksum=sha256:<digest> so the download is verified"})
	}
	md := r.markdown(GitHubBodyLimit)
	if len(md) > GitHubBodyLimit {
		t.Fatalf("body is %d bytes", len(md))
	}
	if !strings.Contains(md, "**Verify downloads with --checksum** (3000)") || !strings.Contains(md, "more: see the JSON report") {
		t.Error("the group lost its count or the line that says the rest is in the JSON report")
	}
	if strings.Count(md, "<details>") != 3 {
		t.Error("the files were crowded out by the notes")
	}
}
