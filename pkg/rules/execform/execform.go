package execform

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/distribution/reference"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/hardenfix/hardenfix/pkg/rules/internal/buildctx"
)

//go:embed doc/exec-form.md
var execFormDoc string

// Rule writes shell-form CMD and ENTRYPOINT in the JSON exec form when
// the shell adds nothing.
var Rule = &rewrite.Rule{
	Name:    "exec-form",
	Summary: "Shell-form CMD/ENTRYPOINT without shell syntax → JSON exec form, so signals reach the process.",
	Doc:     rewrite.DocFile(execFormDoc),
	Risk:    rewrite.Review,
	URL:     "https://github.com/hadolint/hadolint/wiki/DL3025",
	Check:   checkExecForm,
	Reads:   []string{"CMD", "ENTRYPOINT"},
}

// shellOnly are the commands that only exist inside a shell.
var shellOnly = map[string]bool{"cd": true, "source": true, ".": true, "export": true, "set": true,
	"unset": true, "ulimit": true, "umask": true, "alias": true, "eval": true, "trap": true, "wait": true,
	"read": true, "shift": true, "exit": true, "return": true, "local": true, "declare": true,
	"typeset": true, "readonly": true, "if": true, "then": true, "for": true, "while": true, "until": true,
	"case": true, "function": true, "{": true, "!": true, "time": true, "command": true, "builtin": true,
	"type": true, "hash": true, "times": true, "jobs": true, "fg": true, "bg": true, "exec": true, "[[": true}

func checkExecForm(_ context.Context, d *rewrite.Document, env *rewrite.Env) ([]rewrite.Fix, []rewrite.Note, error) {
	var fixes []rewrite.Fix
	var notes []rewrite.Note
	if d.Escape == '`' {
		return nil, nil, nil
	}
	for _, in := range d.Instructions {
		if (in.Keyword != "CMD" && in.Keyword != "ENTRYPOINT") || in.Stage < 0 || in.Node.Attributes["json"] {
			continue
		}
		argv, why := plainArgv(d, in)
		if why == "" {
			why = withoutInterpreterLine(d, env, in, argv[0])
		}
		if why == "" && d.EndsInContinuation(in) {
			why = "the file ends inside its line continuation"
		}
		if why == "" && stageHas(d, in.Stage, "SHELL", true, false) {
			why = "the stage sets SHELL, so the shell form runs in that shell"
		}
		var msg string
		if why == "" {
			if in.Keyword == "CMD" {
				msg = "the exec form runs the program as PID 1 without a shell, so it receives docker stop's SIGTERM"
				if stageHas(d, in.Stage, "ENTRYPOINT", true, false) {
					why = "an ENTRYPOINT is set (in this stage or one it is built FROM), and it receives a shell-form CMD as /bin/sh -c \"…\""
				} else if name, ep, ok := baseEntrypointTestsCommand(d, in); ok {
					why = fmt.Sprintf("the ENTRYPOINT of %s (%s) receives a shell-form CMD as /bin/sh -c \"…\" and decides from its first argument whether to run its start-up steps; the exec form would run them (%s). If that is what you want, write CMD [%q, …] by hand", name, ep.script, ep.steps, argv[0])
				}
			} else {
				msg = "the exec form runs the program as PID 1 without a shell, so it receives docker stop's SIGTERM; arguments given to docker run are now passed to it (the shell form ignored them)"
				if stageHas(d, in.Stage, "CMD", false, true) {
					why = "a CMD is set (in this stage or one built FROM it), and an exec-form ENTRYPOINT would receive it as arguments (the shell form ignores it)"
				}
			}
		}
		if why != "" {
			if why != "-" {
				notes = append(notes, rewrite.Note{Line: in.Line, Message: "shell-form " + in.Keyword + " kept: " + why})
			}
			continue
		}
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(argv); err != nil {
			return nil, nil, err
		}
		text := strings.ReplaceAll(strings.TrimSpace(b.String()), `","`, `", "`)
		words := d.Words(in.ArgsSpan)
		fixes = append(fixes, rewrite.Fix{
			Line:    in.Line,
			Message: msg,
			Edits:   []rewrite.Edit{rewrite.Replace(rewrite.Span{Start: words[0].Span.Start, End: words[len(words)-1].Span.End}, text)},
		})
	}
	return fixes, notes, nil
}

// entrypoint is an image's ENTRYPOINT script and the start-up steps it
// runs only when its first argument names the image's program.
type entrypoint struct{ script, steps string }

// commandTestingEntrypoints are the official images whose ENTRYPOINT
// script tests its first argument (docker-library's docker-entrypoint.sh
// of each, nextcloud/docker's entrypoint.sh, nginxinc/docker-nginx's
// entrypoint/docker-entrypoint.sh). A shell-form CMD reaches the script as
// /bin/sh -c "…", so the script skips those steps and runs the shell; the
// exec form hands it the program's name and the steps run. Images whose
// script only tests for a leading "-" (node, php, memcached) are not here:
// neither form starts with one.
var commandTestingEntrypoints = map[string]entrypoint{
	"postgres":  {"docker-entrypoint.sh", "initdb, the switch to the postgres user"},
	"mysql":     {"docker-entrypoint.sh", "the database initialisation, the switch to the mysql user"},
	"redis":     {"docker-entrypoint.sh", "the switch to the redis user"},
	"mongo":     {"docker-entrypoint.sh", "the database initialisation, the switch to the mongodb user"},
	"rabbitmq":  {"docker-entrypoint.sh", "the switch to the rabbitmq user"},
	"wordpress": {"docker-entrypoint.sh", "copying WordPress into /var/www/html, writing wp-config.php"},
	"ghost":     {"docker-entrypoint.sh", "seeding the content folder, the switch to the node user"},
	"nextcloud": {"entrypoint.sh", "installing or upgrading Nextcloud in /var/www/html"},
	"nginx":     {"docker-entrypoint.sh", "the scripts in /docker-entrypoint.d"},
	"haproxy":   {"docker-entrypoint.sh", "adding -W -db to haproxy's arguments"},
}

// baseEntrypointTestsCommand reports whether the image in's stage is
// built on (through the stages it is built FROM) is one of
// commandTestingEntrypoints, with its familiar name.
func baseEntrypointTestsCommand(d *rewrite.Document, in *rewrite.Instruction) (string, entrypoint, bool) {
	_, image, known := d.StageChain(in.Stage)
	if !known {
		return "", entrypoint{}, false
	}
	named, err := reference.ParseNormalizedNamed(image)
	if err != nil {
		return "", entrypoint{}, false
	}
	repo := reference.Path(named)
	if reference.Domain(named) != "docker.io" {
		return "", entrypoint{}, false
	}
	name := strings.TrimPrefix(repo, "library/")
	if repo == "nginxinc/nginx-unprivileged" {
		// The same entrypoint as nginx's.
		name = "nginx"
	} else if name == repo {
		return "", entrypoint{}, false
	}
	ep, ok := commandTestingEntrypoints[name]
	return reference.FamiliarName(named), ep, ok
}

// plainArgv returns the words of a shell-form CMD or ENTRYPOINT when the
// shell would pass them through unchanged, or why not ("-" for reasons
// not worth a note, such as real shell scripts).
func plainArgv(d *rewrite.Document, in *rewrite.Instruction) ([]string, string) {
	words := d.Words(in.ArgsSpan)
	if len(words) == 0 {
		return nil, "-"
	}
	first, last := words[0].Span.Start, words[len(words)-1].Span.End
	for l := d.LineOf(first) + 1; l <= d.LineOf(last); l++ {
		if rewrite.IsCommentLine(d.LineText(l)) {
			return nil, "a comment line sits inside its continuation"
		}
	}
	var argv []string
	for _, w := range words {
		if !w.Literal() {
			return nil, "-"
		}
		argv = append(argv, w.Value)
	}
	if argv[0] == "exec" {
		argv = argv[1:]
		if len(argv) == 0 {
			return nil, "-"
		}
	}
	if shellOnly[argv[0]] || rewrite.IsAssignment(rewrite.Word{Raw: argv[0]}) {
		return nil, "-"
	}
	return argv, ""
}

// stageHas reports whether the stage has an instruction with keyword, or,
// with ancestors, a stage of this file it is built FROM (whose config it
// inherits), or, with derived, a stage built FROM it.
func stageHas(d *rewrite.Document, stage int, keyword string, ancestors, derived bool) bool {
	related := map[int]bool{stage: true}
	for s := stage; ancestors && s >= 0 && s < len(d.Stages); {
		parent := stageIndex(d, d.Stages[s].BaseName, s)
		if parent < 0 || related[parent] {
			break
		}
		related[parent] = true
		s = parent
	}
	for i := stage + 1; derived && i < len(d.Stages); i++ {
		if p := stageIndex(d, d.Stages[i].BaseName, i); p >= 0 && related[p] {
			related[i] = true
		}
	}
	for _, in := range d.Instructions {
		if related[in.Stage] && in.Keyword == keyword {
			return true
		}
	}
	return false
}

// stageIndex returns the index of the stage named name before stage
// before, or -1.
func stageIndex(d *rewrite.Document, name string, before int) int {
	for i := before - 1; i >= 0; i-- {
		if d.Stages[i].Name != "" && strings.EqualFold(d.Stages[i].Name, name) {
			return i
		}
	}
	return -1
}

// withoutInterpreterLine says why the shell form must stay when the program
// is a script the stage (or one it is built FROM) copies from the build
// context and the script has no #! line: sh runs such a file itself when
// exec fails with ENOEXEC, the exec form fails with "exec format error".
// "" when it has one, is a binary, or cannot be read.
func withoutInterpreterLine(d *rewrite.Document, env *rewrite.Env, in *rewrite.Instruction, prog string) string {
	if env == nil || env.BuildContext == nil {
		return ""
	}
	related := map[int]bool{in.Stage: true}
	for s := in.Stage; s >= 0 && s < len(d.Stages); {
		parent := stageIndex(d, d.Stages[s].BaseName, s)
		if parent < 0 || related[parent] {
			break
		}
		related[parent] = true
		s = parent
	}
	var copies []*rewrite.Instruction
	for _, c := range d.Instructions {
		if related[c.Stage] && c.Span.Start <= in.Span.Start {
			copies = append(copies, c)
		}
	}
	src, text, found := buildctx.CopiedTo(env.BuildContext, copies, prog)
	if !found || text == "" || strings.HasPrefix(text, "#!") || strings.HasPrefix(text, "\x7fELF") {
		return ""
	}
	return prog + " (" + src + " in the build context) has no #! line: sh runs such a script itself, the exec form would fail with \"exec format error\"; start it with #!/bin/sh, then run hardenfix again"
}
