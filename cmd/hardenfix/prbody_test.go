package main

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	gmhtml "github.com/yuin/goldmark/renderer/html"
	"golang.org/x/net/html"
)

// TestPRBodyRendersOnGitHub renders the pull-request body of the README's
// example tree the way GitHub does (CommonMark + GFM tables, raw HTML for
// <details>) and checks what a reviewer sees: the rules table, the action
// notes, one collapsed block per changed file holding a diff fence. With
// HARDENFIX_PR_HTML=FILE it writes the page `task screenshot` photographs.
func TestPRBodyRendersOnGitHub(t *testing.T) {
	t.Chdir("../..")
	code, body, stderr := hardenfix(t, "--format", "markdown", "examples/demo")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var out bytes.Buffer
	md := goldmark.New(goldmark.WithExtensions(extension.GFM), goldmark.WithRendererOptions(gmhtml.WithUnsafe()))
	if err := md.Convert([]byte(body), &out); err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(bytes.NewReader(out.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	var details []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			count[n.Data]++
			if n.Data == "details" {
				details = append(details, n)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)

	if count["h2"] != 1 || count["table"] != 1 || count["th"] != 3 {
		t.Errorf("want one title and one 3-column rules table, got %d h2, %d tables, %d th", count["h2"], count["table"], count["th"])
	}
	if len(details) != 3 {
		t.Errorf("want a collapsed block per changed file (3), got %d", len(details))
	}
	for _, d := range details {
		if attr(d, "open") {
			t.Error("a diff block is open; it must start collapsed")
		}
		summary, pre := find(d, "summary"), find(d, "pre")
		var code *html.Node
		if pre != nil {
			code = find(pre, "code")
		}
		if summary == nil || code == nil || classOf(code) != "language-diff" {
			t.Errorf("a details block lacks a summary or a diff fence")
			continue
		}
		// The summary names the file and its rules; the diff is that file's.
		path := textOf(find(summary, "code"))
		if !strings.HasPrefix(path, "examples/demo/") || !strings.Contains(textOf(summary), "non-root") {
			t.Errorf("summary %q does not name the file and its rules", textOf(summary))
		}
		if text := textOf(code); !strings.HasPrefix(text, "--- a/"+path+"\n") || !strings.Contains(text, "\n+USER ") {
			t.Errorf("diff fence does not hold the diff of %s:\n%s", path, text)
		}
		// One line per fix, inside the block, above the diff.
		if items := all(d, "li"); len(items) < 3 {
			t.Errorf("%s: %d fix lines in its block", path, len(items))
		}
	}
	// Nothing of the Dockerfiles is outside the diff blocks: the per-file
	// lists say what changed and why, without instruction text.
	for _, li := range all(doc, "li") {
		if strings.Contains(textOf(li), "RUN groupadd") || strings.Contains(textOf(li), "<br>") {
			t.Errorf("a list line carries instruction text: %q", textOf(li))
		}
	}
	if !strings.Contains(body, "lookups were skipped (`--offline`)") || strings.Contains(body, "was not looked up (offline)") {
		t.Error("offline lookups are not one summary line")
	}
	if path := os.Getenv("HARDENFIX_PR_HTML"); path != "" {
		if err := os.WriteFile(path, []byte(page(out.String())), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func attr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Key == key {
			return true
		}
	}
	return false
}

func classOf(n *html.Node) string {
	for _, a := range n.Attr {
		if a.Key == "class" {
			return a.Val
		}
	}
	return ""
}

func all(n *html.Node, tag string) []*html.Node {
	var out []*html.Node
	if n.Type == html.ElementNode && n.Data == tag {
		out = append(out, n)
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		out = append(out, all(c, tag)...)
	}
	return out
}

func find(n *html.Node, tag string) *html.Node {
	if found := all(n, tag); len(found) > 0 {
		return found[0]
	}
	return nil
}

func textOf(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

// page wraps the rendered body in a page styled like a pull-request
// description (GitHub's sizes and colours, written here, not copied).
func page(body string) string {
	return `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>hardenfix pull-request body</title>
<style>
body { margin: 0; background: #f6f8fa; font: 14px/1.5 -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif; color: #1f2328; }
.box { max-width: 1012px; margin: 16px auto; background: #fff; border: 1px solid #d1d9e0; border-radius: 6px; }
.head { padding: 8px 16px; background: #f6f8fa; border-bottom: 1px solid #d1d9e0; border-radius: 6px 6px 0 0; color: #59636e; }
.body { padding: 16px; }
h2 { font-size: 1.5em; margin: 0 0 12px; padding-bottom: .3em; border-bottom: 1px solid #d1d9e0b3; }
h3 { font-size: 1.25em; margin: 20px 0 10px; }
h4 { font-size: 1em; margin: 16px 0 6px; }
p, ul, table, blockquote, details { margin: 0 0 10px; }
ul { padding-left: 2em; }
li + li { margin-top: .15em; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #818b981f; padding: .2em .4em; border-radius: 6px; }
pre { background: #f6f8fa; padding: 16px; border-radius: 6px; overflow: auto; }
pre code { background: none; padding: 0; }
table { border-collapse: collapse; }
th, td { border: 1px solid #d1d9e0; padding: 4px 12px; }
tr:nth-child(2n) { background: #f6f8fa; }
blockquote { color: #59636e; border-left: .25em solid #d1d9e0; padding: 0 1em; }
summary { cursor: pointer; }
hr { border: 0; height: .25em; background: #d1d9e0; }
sub { color: #59636e; }
</style></head>
<body><div class="box"><div class="head"><b>hardenfix-bot</b> opened this pull request</div><div class="body">
` + body + `</div></div></body></html>
`
}
