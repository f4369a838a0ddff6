package rewrite

import (
	"path"
	"strings"

	"github.com/hardenfix/hardenfix/internal/memo"
)

// ShellScript is the shell text of a RUN split into simple commands, each
// with the byte spans of its words, so a rule can insert a flag after one
// word or append a command at the end of the RUN without touching anything
// else of it. Build it with Document.Shell; the non-root and multi-stage
// rules read their commands with it too (useradd, go build, npm ci, …).
//
// The splitter knows what rules that edit package-manager commands need:
// words with quotes and escapes, `$(…)`, `${…}` and backquotes kept inside
// their word, line continuations and the comment lines BuildKit drops inside
// them (also with `# escape=“`), the operators `&&`, `||`, `;`, `|`, `|&`,
// `&`, redirections (kept out of Words), subshells `( … )`, brace groups
// and the reserved words of if/while/until/for, which only change a
// command's Depth. A heredoc RUN whose body is the script is split as a
// script (newlines end commands). What it does not model (case
// statements, here-documents inside the text, a shell comment on a RUN
// line, an unterminated quote) is named in Unsupported; a rule that needs
// the whole structure should leave such a RUN alone.
type ShellScript struct {
	// Span is the shell text: the RUN's arguments after its --flags, or
	// the heredoc body.
	Span Span
	// Commands are the simple commands in order.
	Commands []ShellCommand
	// Mounts are the RUN's --mount flags.
	Mounts []RunMount
	// Unsupported says what shell syntax the splitter met and does not
	// model; empty when Commands describe the whole text.
	Unsupported string
	// End is the offset just after the text's last token (a word, or a
	// closing fi, done, } or ")"), before any trailing blanks; a command
	// appended there runs after everything else the RUN does.
	End int
	// Trailing is the operator the text ends with (";", "&", "&&", …), or
	// "" when it ends with a command or a closing keyword.
	Trailing string
}

// ShellCommand is one simple command of a ShellScript or of a script
// SplitScript splits: the one model every rule reads shell commands with.
type ShellCommand struct {
	// Words are the command's words as written, assignments and wrapper
	// commands (sudo, env, …) included, redirections excluded.
	Words []Word
	// Span runs from the command's first token to its last, redirections
	// included.
	Span Span
	// Sep is the operator that ends the command: "&&", "||", ";", "|",
	// "|&", "&", ";;", a newline in a script, or "" for the last command
	// of the text. A "(" or ")" next to the command is not a separator
	// (see Depth); the last command of a subshell or group carries the
	// operator that follows the group.
	Sep string
	// Depth is how deeply the command is nested in subshells, brace
	// groups and if/while/until/for bodies; 0 is the top level of the RUN.
	Depth int
	// Redirects are the files the command's redirections name
	// (`>> ~/.bashrc`), which Words leave out.
	Redirects []Word

	// prog is where Argv starts, worked out once by the splitter (rules
	// ask for it again and again): 1 + its index in Words, -1 when there
	// is no program, 0 when not worked out (a command a rule put
	// together). sudo is Sudo's answer when prog is not 0.
	prog int32
	sudo bool
}

// Argv returns the command's words from the program on: it skips variable
// assignments (`DEBIAN_FRONTEND=noninteractive apt-get …`) and the
// wrappers that run their arguments as a command (sudo, env, nice, time,
// eatmydata, exec, command, builtin, nohup, xargs), named by their base
// name, with their options (`sudo -u app`, `env -u VAR`, `exec -a name`).
// It returns nil when there is no program, and when a wrapper takes an
// option the splitter does not know, which could swallow the next word.
func (c ShellCommand) Argv() []Word {
	argv, _ := c.unwrapped()
	return argv
}

// Sudo reports whether sudo runs the command: a sudo wrapper comes before
// its program (`sudo apt-get …`, `env X=1 sudo -E make`), or the command is
// sudo alone. It is true also where Argv cannot tell the program.
func (c ShellCommand) Sudo() bool {
	_, sudo := c.unwrapped()
	return sudo
}

// unwrapped is unwrap(c.Words), as the splitter worked it out when it did.
func (c ShellCommand) unwrapped() ([]Word, bool) {
	switch {
	case c.prog > 0:
		return c.Words[int(c.prog)-1:], c.sudo
	case c.prog < 0:
		return nil, c.sudo
	}
	return unwrap(c.Words)
}

// settle works out where c's program starts, for Argv and Sudo.
func (c *ShellCommand) settle() {
	argv, sudo := unwrap(c.Words)
	c.prog, c.sudo = -1, sudo
	if argv != nil {
		c.prog = int32(len(c.Words) - len(argv) + 1)
	}
}

// Assignments returns the NAME=value words before the command's program:
// its own and those given to env or sudo (`CGO_ENABLED=0 go build`,
// `sudo -E env A=1 make`). It is nil when Argv finds no program.
func (c ShellCommand) Assignments() []Word {
	argv := c.Argv()
	if argv == nil {
		return nil
	}
	var out []Word
	for _, w := range c.Words[:len(c.Words)-len(argv)] {
		if IsAssignment(w) {
			out = append(out, w)
		}
	}
	return out
}

// unwrap skips the assignments and wrappers before a command's program
// (see Argv) and tells whether one of the wrappers is sudo.
func unwrap(w []Word) (argv []Word, sudo bool) {
	for len(w) > 0 {
		if IsAssignment(w[0]) {
			w = w[1:]
			continue
		}
		opts, ok := wrappers[path.Base(w[0].Value)]
		if !ok {
			return w, sudo
		}
		sudo = sudo || path.Base(w[0].Value) == "sudo"
		w = w[1:]
		for len(w) > 0 && strings.HasPrefix(w[0].Value, "-") {
			n := opts.skip(w)
			if n == 0 {
				return nil, sudo
			}
			if n < 0 { // "--" ends the options
				w = w[1:]
				break
			}
			w = w[n:]
		}
	}
	return nil, sudo
}

// wrapperOptions are the options of a wrapper: flags alone, and options
// that take a value (attached, `-uapp`, `--user=app`, or the next word).
// Each is its own word: grouped flags (-EH) are not read.
type wrapperOptions struct {
	flags, valued []string
	// dashDash is set when "--" ends the options.
	dashDash bool
}

// wrappers are the commands Argv looks through, with their options.
var wrappers = map[string]wrapperOptions{
	"sudo": {
		flags: []string{"-E", "-H", "-n", "-S", "-i", "-s", "-k", "-P", "--preserve-env", "--login",
			"--shell", "--non-interactive", "--stdin", "--set-home", "--reset-timestamp", "--preserve-groups"},
		valued: []string{"-u", "-g", "-C", "-D", "-p", "-r", "-t", "-T", "--user", "--group",
			"--close-from", "--chdir", "--prompt", "--role", "--type", "--command-timeout"},
		dashDash: true,
	},
	"env": {
		flags:    []string{"-i", "-", "-0", "-v", "--ignore-environment", "--null", "--debug"},
		valued:   []string{"-u", "-C", "--unset", "--chdir"},
		dashDash: true,
	},
	"xargs":     {flags: []string{"-r", "--no-run-if-empty", "-0", "--null", "-t", "--verbose"}},
	"time":      {flags: []string{"-p"}},
	"exec":      {flags: []string{"-c", "-l"}, valued: []string{"-a"}},
	"command":   {flags: []string{"-p"}},
	"nice":      {},
	"eatmydata": {},
	"nohup":     {},
	"builtin":   {},
}

// skip returns how many words the option at w[0] takes: 1 for a flag or
// a value attached to its option, 2 for an option and its value, -1 for
// a "--" that ends the options, 0 for an option it does not know.
func (o wrapperOptions) skip(w []Word) int {
	opt := w[0].Value
	has := func(list []string, s string) bool {
		for _, x := range list {
			if x == s {
				return true
			}
		}
		return false
	}
	switch {
	case has(o.flags, opt):
		return 1
	case opt == "--":
		if o.dashDash {
			return -1
		}
	case strings.HasPrefix(opt, "--"):
		name, _, attached := strings.Cut(opt, "=")
		switch {
		case attached && (has(o.valued, name) || has(o.flags, name)):
			return 1 // --user=app, --preserve-env=HOME
		case !attached && has(o.valued, name) && len(w) > 1:
			return 2
		}
	case len(opt) > 2 && has(o.valued, opt[:2]):
		return 1 // -uapp
	case has(o.valued, opt) && len(w) > 1:
		return 2
	}
	// Grouped flags (-EH, xargs -rt) are not read.
	return 0
}

// IsAssignment reports whether w is NAME=value.
func IsAssignment(w Word) bool {
	name, _, ok := strings.Cut(w.Raw, "=")
	if !ok || name == "" {
		return false
	}
	for i, r := range name {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// Program returns the base name of the command's program ("apt-get" for
// `/usr/bin/apt-get`), or "" when there is none.
func (c ShellCommand) Program() string {
	argv := c.Argv()
	if len(argv) == 0 {
		return ""
	}
	return path.Base(argv[0].Value)
}

// Shell splits the shell text of a RUN. For a heredoc RUN whose one
// heredoc is the script (RUN <<EOF, RUN bash <<EOF) the text is the
// heredoc body, split as a script: newlines end commands, comments run to
// the end of their line, and the escape is the shell's backslash. It
// returns nil for other instructions, for the JSON (exec) form, and for
// other heredoc RUNs.
//
// The result is worked out once per instruction and shared by every rule
// that asks (the hygiene rules each walk every RUN): callers must not
// change it.
func (d *Document) Shell(in *Instruction) *ShellScript {
	if in.Keyword != "RUN" || in.Node == nil || in.Node.Attributes["json"] {
		return nil
	}
	if in.Index >= len(d.Instructions) || d.Instructions[in.Index] != in {
		return d.splitShell(in) // not one of d's instructions
	}
	d.shellMu.Lock()
	defer d.shellMu.Unlock()
	if d.shells == nil {
		d.shells = make(map[int]*ShellScript)
	}
	s, ok := d.shells[in.Index]
	if !ok {
		s = d.splitShell(in)
		d.shells[in.Index] = s
	}
	return s
}

// splitShell splits the shell text of a RUN (see Shell).
func (d *Document) splitShell(in *Instruction) *ShellScript {
	flags := d.FlagWords(in.ArgsSpan)
	s := &ShellScript{Mounts: d.runMounts(in, flags)}
	lx := shellLexer{src: d.Src, esc: byte(d.Escape)}
	if lx.esc == 0 {
		lx.esc = '\\'
	}
	if len(in.Node.Heredocs) > 0 {
		body, ok := d.HeredocScript(in)
		if !ok {
			return nil
		}
		s.Span = body
		lx.esc, lx.script = '\\', true
	} else {
		s.Span = Span{skipFlags(flags, in.ArgsSpan), in.ArgsSpan.End}
	}
	lx.end = s.Span.End
	lx.base, lx.text = s.Span.Start, string(d.Src[s.Span.Start:s.Span.End])
	s.Commands, s.Unsupported, s.End, s.Trailing = lx.split(s.Span.Start)
	if d.EndsInContinuation(in) {
		// The file ends inside a line continuation: text appended there
		// would join the escaped line ending and change what it means.
		s.Unsupported = "a line continuation at the end of the file"
	}
	return s
}

// HeredocScript returns the body of a heredoc RUN whose single heredoc is
// the shell script, when its bytes in the file are exactly the content
// BuildKit runs (not for <<- bodies, whose tabs BuildKit strips).
func (d *Document) HeredocScript(in *Instruction) (Span, bool) {
	if len(in.Node.Heredocs) != 1 || in.Node.Heredocs[0].Chomp || !heredocIsScript(d, in) {
		return Span{}, false
	}
	first := d.LineOf(in.ArgsSpan.End) + 1
	if first > in.EndLine {
		return Span{}, false
	}
	body := Span{d.LineStart(first), d.LineStart(in.EndLine)}
	if body.Text(d.Src) != in.Node.Heredocs[0].Content {
		return Span{}, false
	}
	return body, true
}

// ShellCommands is Shell(in).Commands, or nil.
func (d *Document) ShellCommands(in *Instruction) []ShellCommand {
	if s := d.Shell(in); s != nil {
		return s.Commands
	}
	return nil
}

// RunMount is one --mount flag of a RUN: its type (bind when not given)
// and target, with the variables of the stage expanded where known.
type RunMount struct {
	Type, Target string
}

// runMounts reads the --mount flags of a RUN. (BuildKit's parsed mounts
// are only complete after its expansion step, which would change the
// shared typed command.)
func (d *Document) runMounts(in *Instruction, flags []Word) []RunMount {
	var out []RunMount
	var vars Vars
	for _, w := range flags {
		if !strings.HasPrefix(w.Raw, "--") {
			break
		}
		spec, ok := strings.CutPrefix(w.Value, "--mount=")
		if !ok {
			continue
		}
		m := RunMount{Type: "bind"}
		for _, field := range strings.Split(spec, ",") {
			key, value, _ := strings.Cut(field, "=")
			value = strings.Trim(value, `"'`)
			if strings.Contains(value, "$") {
				if vars == nil {
					vars = d.VarsAt(in)
				}
				if x, unset, err := d.Expand(value, vars); err == nil && len(unset) == 0 {
					value = x
				}
			}
			switch strings.ToLower(key) {
			case "type":
				m.Type = value
			case "target", "dst", "destination":
				m.Target = value
			}
		}
		out = append(out, m)
	}
	return out
}

// SkipFlags returns the offset after the leading --flag words of span.
func (d *Document) SkipFlags(span Span) int { return skipFlags(d.FlagWords(span), span) }

// skipFlags is SkipFlags with the FlagWords of span.
func skipFlags(flags []Word, span Span) int {
	for _, w := range flags {
		if !strings.HasPrefix(w.Raw, "--") {
			return w.Span.Start
		}
	}
	return span.End
}

type shellLexer struct {
	src []byte
	esc byte
	end int
	// script is set for the text of a script (a heredoc body, the
	// argument of sh -c), where a newline ends a command and # starts a
	// comment that ends with the line.
	script bool
	// open is set when a quote, backquote or $( … ) runs to the end of
	// the text.
	open bool
	// text is src[base:end] as a string: words' Raw texts (and the Values
	// of words written without quotes or escapes) are slices of it.
	text string
	base int
	// val spells out the value of the word being lexed once it differs
	// from its raw text; plain is true until then.
	val   []byte
	plain bool
}

// SplitScript splits the text of a shell script: a heredoc body or the
// script of `sh -c '…'`. The words' spans point into text; rules use them
// to look, not to edit.
//
// Several rules (and several checks of one rule) split the same scripts,
// so results for texts up to a few kilobytes are remembered in a small
// shared map: callers must not change them.
func SplitScript(text string) []ShellCommand {
	if len(text) > maxRememberedScript {
		return splitScript1(text)
	}
	return scripts.Get(text, splitScript1)
}

// scripts holds SplitScript's recent results: the scripts of the files
// being worked on. Its size bounds the memory it holds.
var scripts = memo.Map[[]ShellCommand]{Max: 256}

const maxRememberedScript = 4 << 10

func splitScript1(text string) []ShellCommand {
	lx := shellLexer{src: []byte(text), esc: '\\', end: len(text), script: true, text: text}
	cmds, _, _, _ := lx.split(0)
	return cmds
}

// skipBlank skips blanks and line continuations from i.
func (lx *shellLexer) skipBlank(i int) int {
	for i < lx.end {
		c := lx.src[i]
		switch {
		case c == '\n' && lx.script:
			return i
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
		case c == lx.esc:
			next, ok := continuation(lx.src, i+1, lx.end)
			if !ok {
				return i
			}
			i = lx.afterContinuation(next)
		default:
			return i
		}
	}
	return i
}

// afterContinuation returns where the text goes on after a line
// continuation whose next line starts at next: BuildKit drops comment and
// blank lines there, a shell script does not.
func (lx *shellLexer) afterContinuation(next int) int {
	if lx.script {
		return next
	}
	return skipContinuationLines(lx.src, next, lx.end)
}

// shellSplit is what split has lexed so far: the commands, the one being
// lexed (its Span.Start is -1 until it has a token), the depth of the
// compound commands around it and the first thing not modelled.
type shellSplit struct {
	cmds []ShellCommand
	cur  ShellCommand
	// words holds the words of all the commands, those of cur from
	// curWords on: a command's Words is its stretch of it, so a script
	// costs a few growing slices, not a few per command.
	words       []Word
	curWords    int
	depth       int
	unsupported string
	atStart     bool // the next word starts a command: reserved words count
}

func newShellSplit(text string, script bool) *shellSplit {
	words, cmds := estimateSplit(text, script)
	s := &shellSplit{atStart: true, words: make([]Word, 0, words), cmds: make([]ShellCommand, 0, cmds)}
	s.reset()
	return s
}

// estimateSplit guesses cheaply how many words and commands text splits
// into: its runs of bytes that are not blanks (quotes kept together, an
// escape before a blank taken as none), and its runs of operator and
// parenthesis bytes (and, in a script, its lines), plus one. Over the
// corpus it is within a few percent for commands and over by about a
// tenth for words; sized to it, the splitter's slices are made once.
func estimateSplit(text string, script bool) (words, cmds int) {
	cmds = 1
	inWord, inOp := false, false
	var quote byte
	for i := 0; i < len(text); i++ {
		c := text[i]
		if quote != 0 {
			if c == quote {
				quote = 0
			}
			continue
		}
		switch c {
		case ' ', '\t', '\r', '\n':
			inWord, inOp = false, false
			if c == '\n' && script {
				cmds++
			}
		case '&', '|', ';', '(', ')':
			if !inOp {
				cmds++
			}
			inWord, inOp = false, true
		default:
			if c == '\\' || c == '`' {
				if i+1 == len(text) || isBlank(text[i+1]) {
					continue // a line continuation, most likely
				}
				i++ // an escaped byte
			} else if c == '\'' || c == '"' {
				quote = c
			}
			if !inWord {
				words++
			}
			inWord, inOp = true, false
		}
	}
	return words, cmds
}

// reset drops the command being lexed.
func (s *shellSplit) reset() {
	s.cur = ShellCommand{}
	s.cur.Span.Start = -1
	s.words = s.words[:s.curWords]
}

// finish ends the command being lexed with the separator sep; with no
// command, sep goes to the previous one when it has none.
func (s *shellSplit) finish(sep string) {
	if s.cur.Span.Start >= 0 {
		s.cur.Sep = sep
		s.cur.Depth = s.depth
		if n := len(s.words); n > s.curWords {
			// Capped, so that appending to one command's words cannot
			// write over the next one's.
			s.cur.Words = s.words[s.curWords:n:n]
			s.curWords = n
		}
		s.cur.settle()
		s.cmds = append(s.cmds, s.cur)
	} else if sep != "" && len(s.cmds) > 0 && s.cmds[len(s.cmds)-1].Sep == "" {
		s.cmds[len(s.cmds)-1].Sep = sep
	}
	s.reset()
	s.atStart = true
}

// note records what is not modelled, the first time.
func (s *shellSplit) note(what string) {
	if s.unsupported == "" {
		s.unsupported = what
	}
}

// extend makes the command being lexed run over sp.
func (s *shellSplit) extend(sp Span) {
	if s.cur.Span.Start < 0 {
		s.cur.Span.Start = sp.Start
	}
	s.cur.Span.End = sp.End
}

func (s *shellSplit) redirect(w Word) { s.cur.Redirects = append(s.cur.Redirects, w) }

// word adds w to the command being lexed, or takes it as the reserved
// word of a compound command when it starts one.
func (s *shellSplit) word(w Word) {
	if s.atStart {
		switch w.Raw {
		case "if", "while", "until", "{":
			s.depth++
			return
		case "for", "select":
			s.depth++
			s.atStart = false
			s.extend(w.Span)
			s.words = append(s.words, w)
			return
		case "then", "do", "else", "elif", "!":
			return
		case "fi", "done", "}":
			s.depth = max(s.depth-1, 0)
			return
		case "case", "function":
			s.note("a " + w.Raw + " statement")
		}
	}
	s.atStart = false
	s.extend(w.Span)
	s.words = append(s.words, w)
}

// split lexes the text from start into commands; it also returns what
// it did not model, the end of the last token and the operator the text
// ends with.
func (lx *shellLexer) split(start int) ([]ShellCommand, string, int, string) {
	s := newShellSplit(lx.text[start-lx.base:], lx.script)
	i := start
	lastEnd, lastOp := start, ""
	token := false // the previous step lexed a token (not a newline or comment)
	for {
		if token {
			lastEnd = i
		}
		token = true
		i = lx.skipBlank(i)
		if i >= lx.end {
			break
		}
		// A newline or a comment after an operator leaves the text ending
		// with that operator (`a &` then `# …`): only a token clears it.
		prevOp := lastOp
		lastOp = ""
		switch c := lx.src[i]; {
		case c == '\n':
			if s.cur.Span.Start >= 0 {
				s.finish("\n")
			}
			i++
			token = false
			lastOp = prevOp
			continue
		case c == '#' && lx.script:
			for i < lx.end && lx.src[i] != '\n' {
				i++
			}
			token = false
			lastOp = prevOp
			continue
		case c == '#':
			s.note("a shell comment")
			i = lx.end
			continue
		}
		if next, op, ok := lx.operator(s, i); ok {
			i, lastOp = next, op
			continue
		}
		w, next := lx.word(i)
		i = next
		if lx.open {
			// The quote runs to the end of the text: what the shell makes
			// of this command is not modelled, so it is not handed to the
			// rules (which would edit words inside the quote), and no
			// command after it is either.
			s.reset()
			break
		}
		// A word followed directly by < or > is a file descriptor (2>&1).
		if i < lx.end && (lx.src[i] == '<' || lx.src[i] == '>') && isDigits(w.Raw) {
			s.extend(w.Span)
			continue
		}
		s.word(w)
	}
	s.finish("")
	if lx.open {
		s.note("an unterminated quote")
	}
	if n := len(s.cmds); n > 0 && s.cmds[n-1].Sep == "\n" {
		s.cmds[n-1].Sep = ""
	}
	return s.cmds, s.unsupported, lastEnd, lastOp
}

// operator lexes the control or redirection operator at i, if there is
// one, into s: it returns where the text goes on and the control operator
// the text would end with there ("" after a redirection or ")").
func (lx *shellLexer) operator(s *shellSplit, i int) (next int, op string, ok bool) {
	c := lx.src[i]
	two := ""
	if i+1 < lx.end {
		two = operator2(c, lx.src[i+1])
	}
	switch {
	case two == "&&" || two == "||" || two == ";;" || two == "|&":
		s.finish(two)
		return i + 2, two, true
	case two == "&>":
		end := i + 2
		if end < lx.end && lx.src[end] == '>' {
			end++
		}
		s.extend(Span{i, end})
		return lx.redirectTarget(end, s), "", true
	case c == ';' || c == '|' || c == '&':
		op := operator1(c)
		s.finish(op)
		return i + 1, op, true
	case c == '(':
		s.finish("")
		s.depth++
		return i + 1, "(", true
	case c == ')':
		s.finish("")
		s.depth = max(s.depth-1, 0)
		return i + 1, "", true
	case c == '<' || c == '>':
		end := i + 1
		for end < lx.end && (lx.src[end] == '<' || lx.src[end] == '>' || lx.src[end] == '&' || lx.src[end] == '|' || lx.src[end] == '-') {
			end++
		}
		if op := string(lx.src[i:end]); strings.HasPrefix(op, "<<") && op != "<<<" {
			s.note("a here-document")
		}
		s.extend(Span{i, end})
		return lx.redirectTarget(end, s), "", true
	}
	return i, "", false
}

// operator2 is the two-byte operator a and b spell ("&&", "||", ";;",
// "|&" or "&>"), or "".
func operator2(a, b byte) string {
	switch {
	case a == '&' && b == '&':
		return "&&"
	case a == '|' && b == '|':
		return "||"
	case a == ';' && b == ';':
		return ";;"
	case a == '|' && b == '&':
		return "|&"
	case a == '&' && b == '>':
		return "&>"
	}
	return ""
}

// operator1 is the one-byte operator c (";", "|" or "&") as a string.
func operator1(c byte) string {
	switch c {
	case ';':
		return ";"
	case '|':
		return "|"
	}
	return "&"
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// redirectTarget consumes the word after a redirection operator into the
// command s is lexing.
func (lx *shellLexer) redirectTarget(i int, s *shellSplit) int {
	i = lx.skipBlank(i)
	if i >= lx.end || strings.IndexByte(";&|()<>", lx.src[i]) >= 0 {
		return i
	}
	w, next := lx.word(i)
	s.extend(w.Span)
	s.redirect(w)
	return next
}

// word lexes one word from i, which is not a blank or an operator.
func (lx *shellLexer) word(i int) (Word, int) {
	src, end := lx.src, lx.end
	start := i
	lx.val, lx.plain = lx.val[:0], true
	for i < end {
		c := src[i]
		switch {
		case c == lx.esc:
			if next, ok := continuation(src, i+1, end); ok {
				// The word goes on only when the next line starts
				// right away with more of it; else it ends before
				// the escape, so an edit after the word stays on its
				// line.
				j := lx.afterContinuation(next)
				if j >= end || isBlank(src[j]) || strings.IndexByte(";&|()<>", src[j]) >= 0 {
					return lx.word1(start, i), i
				}
				lx.spell(start, i)
				i = j
				continue
			}
			lx.spell(start, i)
			if c == '\\' && i+1 < end {
				lx.val = append(lx.val, src[i+1])
				i += 2
				continue
			}
			if c == '`' {
				i = lx.backquote(i)
				continue
			}
			lx.val = append(lx.val, c)
			i++
		case c == '\\':
			// With `# escape=“` the backslash still escapes for the shell.
			lx.spell(start, i)
			if i+1 < end {
				lx.val = append(lx.val, src[i+1])
				i += 2
			} else {
				lx.val = append(lx.val, c)
				i++
			}
		case c == ' ' || c == '\t' || c == '\r' || c == '\n' || strings.IndexByte(";&|()<>", c) >= 0:
			return lx.word1(start, i), i
		case c == '\'':
			lx.spell(start, i)
			i = lx.singleQuoted(i + 1)
		case c == '"':
			lx.spell(start, i)
			i = lx.doubleQuoted(i + 1)
		case c == '$' && i+1 < end && (src[i+1] == '(' || src[i+1] == '{'):
			// Kept as written: a plain word stays plain.
			k := lx.nested(i + 1)
			if !lx.plain {
				lx.val = append(lx.val, src[i:k]...)
			}
			i = k
		case c == '`':
			lx.spell(start, i)
			i = lx.backquote(i)
		default:
			if !lx.plain {
				lx.val = append(lx.val, c)
			}
			i++
		}
	}
	return lx.word1(start, i), i
}

// singleQuoted adds to the word's value the text of the single quotes
// that open before j and returns where the word goes on after them.
func (lx *shellLexer) singleQuoted(j int) int {
	src, end := lx.src, lx.end
	for j < end && src[j] != '\'' {
		if src[j] == lx.esc && !lx.script {
			if next, ok := continuation(src, j+1, end); ok {
				j = skipContinuationLines(src, next, end)
				continue
			}
		}
		lx.val = append(lx.val, src[j])
		j++
	}
	lx.open = lx.open || j >= end
	return min(j+1, end)
}

// doubleQuoted adds to the word's value the text of the double quotes
// that open before j (backslash escapes taken out, $(…) and ${…} kept as
// written) and returns where the word goes on after them.
func (lx *shellLexer) doubleQuoted(j int) int {
	src, end := lx.src, lx.end
	for j < end && src[j] != '"' {
		switch {
		case src[j] == lx.esc || src[j] == '\\':
			if next, ok := continuation(src, j+1, end); ok && src[j] == lx.esc {
				j = skipContinuationLines(src, next, end)
				continue
			}
			if src[j] == '\\' && j+1 < end {
				lx.val = append(lx.val, src[j+1])
				j += 2
				continue
			}
		case src[j] == '$' && j+1 < end && (src[j+1] == '(' || src[j+1] == '{'):
			k := lx.nested(j + 1)
			lx.val = append(lx.val, src[j:k]...)
			j = k
			continue
		}
		lx.val = append(lx.val, src[j])
		j++
	}
	lx.open = lx.open || j >= end
	return min(j+1, end)
}

// spell starts spelling out the value of the word that starts at start,
// from i on: the bytes before i are their own value.
func (lx *shellLexer) spell(start, i int) {
	if lx.plain {
		lx.val = append(lx.val[:0], lx.src[start:i]...)
		lx.plain = false
	}
}

// word1 is the word from start to end, with the value lexed so far.
func (lx *shellLexer) word1(start, end int) Word {
	raw := lx.text[start-lx.base : end-lx.base]
	value := raw
	if !lx.plain {
		value = string(lx.val)
	}
	return Word{Span: Span{start, end}, Raw: raw, Value: value}
}

// nested returns the offset after the bracket group that opens at i ("(" or
// "{"), honouring quotes and nesting.
func (lx *shellLexer) nested(i int) int {
	open := lx.src[i]
	closer := byte(')')
	if open == '{' {
		closer = '}'
	}
	depth := 0
	for i < lx.end {
		switch c := lx.src[i]; c {
		case open:
			depth++
		case closer:
			depth--
			if depth == 0 {
				return i + 1
			}
		case '\'':
			if open == '(' {
				j := i + 1
				for j < lx.end && lx.src[j] != '\'' {
					j++
				}
				i = j
			}
		case '\\':
			i++
		}
		i++
	}
	lx.open = true
	return lx.end
}

// backquote returns the offset after the `…` command substitution at i.
func (lx *shellLexer) backquote(i int) int {
	j := i + 1
	for j < lx.end && lx.src[j] != '`' {
		if lx.src[j] == '\\' {
			j++
		}
		j++
	}
	lx.open = lx.open || j >= lx.end
	j = min(j+1, lx.end)
	lx.val = append(lx.val, lx.src[i:j]...)
	return j
}

// ShellWrapperScript returns the script of a `sh -c 'script'` command
// (sh, bash, dash, ash, zsh with -c or a flag cluster ending in c), or "".
func ShellWrapperScript(c ShellCommand) string {
	argv := c.Argv()
	if len(argv) < 2 {
		return ""
	}
	switch path.Base(argv[0].Value) {
	case "sh", "bash", "dash", "ash", "zsh", "ksh":
	default:
		return ""
	}
	for k := 1; k < len(argv)-1; k++ {
		f := argv[k].Value
		if !strings.HasPrefix(f, "-") || strings.HasPrefix(f, "--") {
			return ""
		}
		if strings.Contains(f, "c") {
			return argv[k+1].Value
		}
	}
	return ""
}

// HasCacheMount reports whether a cache or tmpfs mount of s has one of the
// targets (compared without trailing slashes).
func (s *ShellScript) HasCacheMount(targets ...string) bool {
	for _, m := range s.Mounts {
		if m.Type != "cache" && m.Type != "tmpfs" {
			continue
		}
		t := path.Clean("/" + m.Target)
		for _, want := range targets {
			if t == want {
				return true
			}
		}
	}
	return false
}

// heredocIsScript reports whether a heredoc RUN hands its bodies to a
// shell: its command is only heredoc markers and at most a shell name
// (RUN <<EOF, RUN bash <<EOF, RUN <<EOF sh).
func heredocIsScript(d *Document, in *Instruction) bool {
	words := d.Words(Span{d.SkipFlags(in.ArgsSpan), in.ArgsSpan.End})
	shells := 0
	for _, w := range words {
		switch {
		case strings.HasPrefix(w.Raw, "<<"):
		case isShell(path.Base(w.Value)):
			shells++
		default:
			return false
		}
	}
	return len(words) > shells && shells <= 1
}

func isShell(name string) bool {
	switch name {
	case "sh", "bash", "dash", "ash", "zsh", "ksh":
		return true
	}
	return false
}

// Substitutions returns the scripts of the command substitutions in the
// word as written, `$( … )` (with nested parentheses) and backquotes, in
// order; text in single quotes is skipped. The splitter keeps them inside
// their word; a rule that looks for the programs a RUN runs splits them
// with SplitScript (`x=$(id -u)` runs id).
func (w Word) Substitutions() []string {
	raw := w.Raw
	if !strings.ContainsAny(raw, "$`") {
		return nil
	}
	var out []string
	for i := 0; i < len(raw); i++ {
		switch {
		case raw[i] == '\\':
			i++
		case raw[i] == '\'':
			if j := strings.IndexByte(raw[i+1:], '\''); j >= 0 {
				i += j + 1
			}
		case raw[i] == '`':
			if j := strings.IndexByte(raw[i+1:], '`'); j >= 0 {
				out = append(out, raw[i+1:i+1+j])
				i += j + 1
			}
		case raw[i] == '$' && i+1 < len(raw) && raw[i+1] == '(':
			depth, j := 1, i+2
			for ; j < len(raw) && depth > 0; j++ {
				switch raw[j] {
				case '(':
					depth++
				case ')':
					depth--
				}
			}
			if depth == 0 {
				out = append(out, raw[i+2:j-1])
			}
			i = j - 1
		}
	}
	return out
}

// Values returns the values of words (quotes and escapes removed), for
// rules that read a command's arguments as strings.
func Values(words []Word) []string {
	out := make([]string, len(words))
	for i, w := range words {
		out[i] = w.Value
	}
	return out
}
