package rewrite

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// render shows a script's commands as "depth:word word<sep>", one per
// command, with each word's source text taken from its span.
func render(d *Document, s *ShellScript) string {
	var parts []string
	for _, c := range s.Commands {
		var words []string
		for _, w := range c.Words {
			if w.Span.Text(d.Src) != w.Raw {
				return fmt.Sprintf("span of %q is %q", w.Raw, w.Span.Text(d.Src))
			}
			words = append(words, w.Value)
		}
		parts = append(parts, fmt.Sprintf("%d:%s%s", c.Depth, strings.Join(words, " "), c.Sep))
	}
	out := strings.Join(parts, " | ")
	if s.Unsupported != "" {
		out += " !" + s.Unsupported
	}
	return out
}

func TestShell(t *testing.T) {
	tests := []struct {
		name, run, want string
	}{
		{"chain", `RUN a && b || c; d | e |& f & g`, "0:a&& | 0:b|| | 0:c; | 0:d| | 0:e|& | 0:f& | 0:g"},
		{"flags", `RUN --mount=type=cache,target=/x --network=none apt-get update`, "0:apt-get update"},
		{"quotes", `RUN echo "a b" 'c;d' e\ f "x$(g "h")y"`, `0:echo a b c;d e f x$(g "h")y`},
		{"redirects", `RUN a > /dev/null 2>&1 && b &>log < in`, "0:a&& | 0:b"},
		{"continuation", "RUN a \\\n  # comment\n  && b \\\n\n  c", "0:a&& | 0:b c"},
		{"set preamble", "RUN set -eux; \\\n    apt-get update", "0:set -eux; | 0:apt-get update"},
		{"if", `RUN if [ -f x ]; then a; else b; fi; c`, "1:[ -f x ]; | 1:a; | 1:b; | 0:c"},
		{"for", `RUN for p in a b; do x $p; done && y`, "1:for p in a b; | 1:x $p; | 0:y"},
		{"subshell", `RUN (cd /x && make) && z`, "1:cd /x&& | 1:make&& | 0:z"},
		{"group", `RUN { a; b; } && c`, "1:a; | 1:b; | 0:c"},
		{"substitution", "RUN a=$(b; c) `d | e` && f", "0:a=$(b; c) `d | e`&& | 0:f"},
		{"comment", `RUN a # b && c`, "0:a !a shell comment"},
		{"case", `RUN case x in a) b;; esac`, "0:case x in a | 0:b;; | 0:esac !a case statement"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse("Dockerfile", []byte("FROM x\n"+tt.run+"\n"))
			if err != nil {
				t.Fatal(err)
			}
			s := d.Shell(d.Instructions[1])
			if s == nil {
				t.Fatal("no shell script")
			}
			if got := render(d, s); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestShellEscapeBacktick(t *testing.T) {
	d, err := Parse("Dockerfile", []byte("# escape=`\nFROM x\nRUN a \"b\\\"c\" && `\n  d\n"))
	if err != nil {
		t.Fatal(err)
	}
	s := d.Shell(d.Instructions[1])
	if got, want := render(d, s), `0:a b"c&& | 0:d`; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestShellNotShellForm(t *testing.T) {
	d, err := Parse("Dockerfile", []byte("FROM x\nRUN [\"a\", \"b\"]\nRUN <<-EOF\n\ta\n\tEOF\nRUN python3 <<EOF\nprint(1)\nEOF\nRUN <<A <<B\na\nA\nb\nB\nCMD a\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range d.Instructions[1:] {
		if s := d.Shell(in); s != nil {
			t.Errorf("line %d: got a script for a %s that has no shell text to edit", in.Line, in.Keyword)
		}
	}
}

func TestShellHeredoc(t *testing.T) {
	src := "FROM x\nRUN --mount=type=cache,target=/x <<EOF\nset -e\n# a comment \\\na \\\n  b && c\nd 'e\\\nf'\nEOF\n"
	d, err := Parse("Dockerfile", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	s := d.Shell(d.Instructions[1])
	if s == nil {
		t.Fatal("no script for RUN <<EOF")
	}
	if got, want := render(d, s), "0:set -e\n | 0:a b&& | 0:c\n | 0:d e\\\nf"; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if !strings.HasSuffix(string(d.Src[:s.End]), "f'") {
		t.Errorf("script ends at %d, want it to end after the last word", s.End)
	}
	if len(s.Mounts) != 1 || s.Mounts[0].Type != "cache" || s.Mounts[0].Target != "/x" {
		t.Errorf("mounts: %+v", s.Mounts)
	}
}

func TestArgv(t *testing.T) {
	tests := []struct{ run, want string }{
		{`RUN DEBIAN_FRONTEND=noninteractive apt-get install x`, "apt-get install x"},
		{`RUN sudo -E env A=1 apt-get install x`, "apt-get install x"},
		{`RUN sudo -u app apt-get install x`, "apt-get install x"},
		{`RUN sudo -uapp -g grp --chdir=/x -E apt-get install x`, "apt-get install x"},
		{`RUN sudo --user app --preserve-env=HOME,PATH -- apt-get install x`, "apt-get install x"},
		{`RUN /usr/bin/sudo -n /usr/bin/apt-get install x`, "/usr/bin/apt-get install x"},
		{`RUN env -u HOME -i A=1 B=2 make`, "make"},
		{`RUN env --unset=HOME --chdir /src make`, "make"},
		{`RUN exec -a name nginx -g x`, "nginx -g x"},
		{`RUN builtin cd /x`, "cd /x"},
		{`RUN xargs -r apt-get install`, "apt-get install"},
		{`RUN xargs -rt apt-get install`, ""},
		{`RUN sudo -EH apt-get install`, ""},
		// Options Argv does not know could take the next word.
		{`RUN xargs -n 1 rm`, ""},
		{`RUN nice -n 5 make`, ""},
		{`RUN sudo -h host make`, ""},
		{`RUN sudo -u`, ""},
		{`RUN env -S 'a b' make`, ""},
		{`RUN command -v gosu`, ""},
		{`RUN sudo`, ""},
		{`RUN A=1`, ""},
		// Only the base name of a wrapper counts, and only as a program.
		{`RUN /usr/bin/env python3 x.py`, "python3 x.py"},
		{`RUN echo sudo env`, "echo sudo env"},
	}
	for _, tt := range tests {
		d, err := Parse("Dockerfile", []byte("FROM x\n"+tt.run+"\n"))
		if err != nil {
			t.Fatal(err)
		}
		got := strings.Join(Values(d.ShellCommands(d.Instructions[1])[0].Argv()), " ")
		if got != tt.want {
			t.Errorf("%s: Argv = %q, want %q", tt.run, got, tt.want)
		}
	}
}

func TestSudo(t *testing.T) {
	tests := []struct {
		script string
		want   bool
	}{
		{"sudo apt-get install x", true},
		{"A=1 env B=2 /usr/bin/sudo -E make", true},
		{"sudo -u app -h host make", true}, // Argv cannot tell the program
		{"sudo", true},
		{"apt-get install sudo", false},
		{"echo sudo", false},
		{"SUDO=sudo make", false},
		{"xargs -n1 sudo rm", false}, // past an option xargs takes, unknown
	}
	for _, tt := range tests {
		if got := SplitScript(tt.script)[0].Sudo(); got != tt.want {
			t.Errorf("%q: Sudo() = %v, want %v", tt.script, got, tt.want)
		}
	}
}

func TestAssignments(t *testing.T) {
	tests := []struct{ script, want string }{
		{"CGO_ENABLED=0 GOOS=linux go build", "CGO_ENABLED=0 GOOS=linux"},
		{"sudo -E env -u B A='1 2' C=3 make D=4", "A=1 2 C=3"},
		{"go build", ""},
		{"A=1", ""},             // no program
		{"nice -n 1 A=1 x", ""}, // Argv cannot tell the program
		{`"A=1" x`, ""},         // a quoted word is a program, not an assignment
	}
	for _, tt := range tests {
		if got := strings.Join(Values(SplitScript(tt.script)[0].Assignments()), " "); got != tt.want {
			t.Errorf("%q: Assignments() = %q, want %q", tt.script, got, tt.want)
		}
	}
}

func TestSubstitutions(t *testing.T) {
	tests := []struct {
		raw  string
		want []string
	}{
		{"plain", nil},
		{"x=$(id -u)", []string{"id -u"}},
		{"$(a $(b))`c`", []string{"a $(b)", "c"}},
		{`"$(a)"'$(b)'\$(c)`, []string{"a"}},
		{"$(open", nil},
		{"${VAR}", nil},
	}
	for _, tt := range tests {
		if got := (Word{Raw: tt.raw}).Substitutions(); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q: Substitutions() = %q, want %q", tt.raw, got, tt.want)
		}
	}
}

func TestShellEnd(t *testing.T) {
	tests := []struct{ run, tail, trailing string }{
		{"RUN a && b  ", "b", ""},
		{"RUN a \\\n  && b \\\n  # c\n", "b", ""},
		{"RUN if x; then a; fi", "fi", ""},
		{"RUN (a; b)", ")", ""},
		{"RUN a;", ";", ";"},
		{"RUN a > /dev/null", "/dev/null", ""},
		{"RUN a b\\\n  c", "c", ""},
		{"RUN install\\\n  curl", "curl", ""},
		// In a heredoc script a newline or a comment after the last
		// operator does not end it: the text still ends with "&".
		{"RUN <<EOF\ndnf install &#00\nEOF", "&", "&"},
		{"RUN <<EOF\na &&\n\nEOF", "&&", "&&"},
		{"RUN <<EOF\na\n# done\nEOF", "a", ""},
	}
	for _, tt := range tests {
		d, err := Parse("Dockerfile", []byte("FROM x\n"+tt.run+"\n"))
		if err != nil {
			t.Fatal(err)
		}
		s := d.Shell(d.Instructions[1])
		if got := string(d.Src[s.End-len(tt.tail) : s.End]); got != tt.tail || s.Trailing != tt.trailing {
			t.Errorf("%q: text ends %q (trailing %q), want %q (%q)", tt.run, got, s.Trailing, tt.tail, tt.trailing)
		}
	}
	// A word written right before a line continuation ends before it.
	d, _ := Parse("Dockerfile", []byte("FROM x\nRUN apt-get install\\\n  curl\n"))
	w := d.ShellCommands(d.Instructions[1])[0].Words[1]
	if w.Raw != "install" {
		t.Errorf("word before a continuation: got %q, want %q", w.Raw, "install")
	}
}

func TestShellRedirects(t *testing.T) {
	d, err := Parse("Dockerfile", []byte("FROM alpine\nRUN echo x >> ~/.bashrc 2>/dev/null && cat < in.txt\n"))
	if err != nil {
		t.Fatal(err)
	}
	cmds := d.ShellCommands(d.Instructions[1])
	if len(cmds) != 2 {
		t.Fatalf("got %d commands", len(cmds))
	}
	var got [][]string
	for _, c := range cmds {
		var r []string
		for _, w := range c.Redirects {
			r = append(r, w.Value)
		}
		got = append(got, r)
	}
	if want := [][]string{{"~/.bashrc", "/dev/null"}, {"in.txt"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("redirects %q, want %q", got, want)
	}
	if w := cmds[0].Words; len(w) != 2 || w[1].Value != "x" {
		t.Errorf("redirection targets leaked into Words: %+v", w)
	}
}
