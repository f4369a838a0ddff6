package secrets

import (
	"context"
	_ "embed"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
)

//go:embed doc/secrets.md
var secretsDoc string

// Rule moves credential build arguments into secret mounts.
var Rule = &rewrite.Rule{
	Name:    secretsName,
	Summary: "Credential build arguments used only in RUN → RUN --mount=type=secret,id=NAME,env=NAME; notes for credentials in ENV.",
	Doc:     rewrite.DocFile(secretsDoc),
	Risk:    rewrite.Review,
	URL:     "https://docs.docker.com/reference/build-checks/secrets-used-in-arg-or-env/",
	OptIn:   true,
	Check:   checkSecrets,
	Reads:   []string{"ENV", "ARG"},
}

const secretsName = "secrets"

// The words of BuildKit's SecretsUsedInArgOrEnv check
// (frontend/dockerfile/dockerfile2llb/validations.go, getSecretsRegex).
var (
	secretWords   = regexp.MustCompile(`(?i)(?:_|^)(?:apikey|auth|credential|credentials|key|password|pword|passwd|secret|token)(?:_|$)`)
	secretAllowed = regexp.MustCompile(`(?i)(?:_|^)(?:public|file|version)(?:_|$)`)
)

// IsSecretName reports whether BuildKit's linter takes name for a
// credential.
func IsSecretName(name string) bool {
	return secretWords.MatchString(name) && !secretAllowed.MatchString(name)
}

// notCredential matches the names BuildKit's words take for a credential
// whose value is not one: what a credential is found by or called (a
// URL, a host, a path, a name, an ID, a fingerprint, a header name, a
// length) and OpenPGP keys (GPG_KEY, PGP_KEY_IDS: the fingerprints of the
// public keys a download is verified with, as docker-library's images set
// them).
var notCredential = regexp.MustCompile(`(?i)(?:_|^)(?:(?:apikey|auth|credentials?|key|password|pword|passwd|secret|token)_(?:url|uri|endpoint|host|server|path|dir|name|id|ids|fingerprint|header|length|type)|(?:gpg|pgp)_key(?:_ids?)?)$`)

// isCredential reports whether the rule takes name for a credential:
// BuildKit's words, less the names of notCredential, which the rule
// neither moves nor notes (moving GITHUB_TOKEN_URL to a secret mount would
// only stop the build's --build-arg from reaching it).
func isCredential(name string) bool {
	return IsSecretName(name) && !notCredential.MatchString(name)
}

// secretSyntax is the frontend a file gets when it has no syntax directive:
// the env= option of secret mounts needs Dockerfile 1.10 or newer.
const secretSyntax = "# syntax=docker/dockerfile:1"

// argDecl is one ARG instruction's single name and default.
type argDecl struct {
	in         *rewrite.Instruction
	name       string
	value      string
	hasDefault bool
}

// declaredArgs returns the names an ARG declares, with their defaults.
func declaredArgs(in *rewrite.Instruction) []argDecl {
	var out []argDecl
	for _, a := range rewrite.NodeArgs(in) {
		name, value, ok := strings.Cut(a, "=")
		out = append(out, argDecl{in: in, name: name, value: value, hasDefault: ok})
	}
	return out
}

// secretRef matches a reference to the variable name in text.
func secretRef(name string) *regexp.Regexp {
	return regexp.MustCompile(`\$\{?` + regexp.QuoteMeta(name) + `([^A-Za-z0-9_]|$)`)
}

func checkSecrets(_ context.Context, d *rewrite.Document, _ *rewrite.Env) ([]rewrite.Fix, []rewrite.Note, error) {
	var notes, fixNotes []rewrite.Note
	blocked := syntaxBlocks(syntaxDirective(d))
	mounts := map[*rewrite.Instruction][]string{} // RUN → secret ids to mount
	var fixedArgs []argDecl
	for _, in := range d.Instructions {
		switch in.Keyword {
		case "ENV":
			notes = append(notes, envSecretNotes(d, in)...)
		case "ARG":
			if in.Stage < 0 {
				notes = append(notes, globalSecretNotes(d, in)...)
				continue
			}
			decls := declaredArgs(in)
			for _, a := range decls {
				if !isCredential(a.name) {
					continue
				}
				runs, why := secretArgRuns(d, a, len(decls))
				if why == "" && declaredInStage(d, a) > 1 {
					// Moving one declaration would leave the other, and
					// the next run would mount the secret again.
					why = "it is declared more than once in its stage"
				}
				if why == "" {
					why = blocked
				}
				if why != "" {
					notes = append(notes, rewrite.Note{Line: in.Line, Message: fmt.Sprintf("ARG %s looks like a credential and build arguments are kept in the image history; not moved to a secret mount: %s", a.name, why)})
					continue
				}
				if ignoredMove(d, in, runs) {
					continue
				}
				fixedArgs = append(fixedArgs, a)
				for _, r := range runs {
					mounts[r] = append(mounts[r], a.name)
				}
				fixNotes = append(fixNotes, writtenFileNotes(d, a.name, runs)...)
			}
		}
	}
	if len(fixedArgs) == 0 {
		return nil, notes, nil
	}
	// One fix for the file: the syntax directive env= needs and the
	// removal of the global ARGs that fed the moved ones only make sense
	// with the moves. Within a stage two secret ARGs can give the same RUN
	// a mount each, at the same offset: one edit per RUN.
	f := secretsFix(d, fixedArgs, mounts)
	f.Notes = fixNotes
	if syntaxDirective(d) == "" {
		off := 0
		if d.HasBOM {
			off = len(rewrite.BOM)
		}
		f.Edits = append(f.Edits, rewrite.Insert(off, secretSyntax+d.Newline))
	}
	for _, g := range unusedGlobalSecrets(d, fixedArgs) {
		if d.Ignores(secretsName, g.Line) {
			continue
		}
		f.Message += "; the global ARG " + declaredArgs(g)[0].name + " only fed the stage ARGs moved to secret mounts; removed, so no one passes it with --build-arg any more"
		f.Edits = append(f.Edits, rewrite.Edit{Start: g.Span.Start, End: g.Span.End})
	}
	return []rewrite.Fix{f}, notes, nil
}

// ignoredMove reports whether an ignore comment for the rule keeps the
// credential ARG declared by in where it is: one before the ARG or before
// a RUN it would be mounted into. The pipeline would leave out the whole
// fix, which moves every credential ARG of the file; this leaves out only
// the ARG whose instructions are ignored.
func ignoredMove(d *rewrite.Document, in *rewrite.Instruction, runs []*rewrite.Instruction) bool {
	if d.Ignores(secretsName, in.Line) {
		return true
	}
	for _, r := range runs {
		if d.Ignores(secretsName, r.Line) {
			return true
		}
	}
	return false
}

// secretsFix removes the secret ARGs and mounts them in the RUNs after
// them.
func secretsFix(d *rewrite.Document, args []argDecl, mounts map[*rewrite.Instruction][]string) rewrite.Fix {
	var edits []rewrite.Edit
	var names, how []string
	seen := map[string]bool{}
	for _, a := range args {
		edits = append(edits, rewrite.Edit{Start: a.in.Span.Start, End: a.in.Span.End})
		if !seen[a.name] {
			seen[a.name] = true
			names = append(names, a.name)
			how = append(how, "--secret id="+a.name+",env="+a.name)
		}
	}
	var runs []*rewrite.Instruction
	for r := range mounts {
		runs = append(runs, r)
	}
	sort.Slice(runs, func(i, j int) bool { return runs[i].Line < runs[j].Line })
	for _, r := range runs {
		var flags strings.Builder
		for _, id := range mounts[r] {
			flags.WriteString("--mount=type=secret,id=" + id + ",env=" + id + " ")
		}
		at, text := d.SkipFlags(r.ArgsSpan), flags.String()
		if at == r.KeywordSpan.End {
			// Nothing follows the keyword (a bare RUN): the flag needs
			// its own blank before it.
			text = " " + strings.TrimSuffix(text, " ")
		}
		edits = append(edits, rewrite.Insert(at, text))
	}
	what := "ARG " + names[0] + " carries a credential"
	if len(names) > 1 {
		what = "ARGs " + strings.Join(names, ", ") + " carry credentials"
	}
	return rewrite.Fix{
		Line: args[0].in.Line,
		Message: fmt.Sprintf("%s into the image history; removed, and the RUNs after them read them from secret mounts (env=, Dockerfile 1.10+). Build with `docker build %s …` (buildah/podman build: the same flags; buildah reads env= in a mount from 1.44 on)",
			what, strings.Join(how, " ")),
		Edits: edits,
	}
}

// unusedGlobalSecrets returns the global ARGs (one credential name, no
// default) that only fed stage ARGs the rule removes: no FROM uses them
// and every stage that declares the name is fixed, so nothing reads them.
func unusedGlobalSecrets(d *rewrite.Document, fixed []argDecl) []*rewrite.Instruction {
	fixedAt := map[*rewrite.Instruction]bool{}
	for _, a := range fixed {
		fixedAt[a.in] = true
	}
	var out []*rewrite.Instruction
	for _, g := range d.Instructions {
		if g.Keyword != "ARG" || g.Stage >= 0 {
			continue
		}
		decls := declaredArgs(g)
		if len(decls) != 1 || decls[0].value != "" || !isCredential(decls[0].name) {
			continue
		}
		name, ref := decls[0].name, secretRef(decls[0].name)
		used, redeclared := false, false
		for _, in := range d.Instructions {
			switch {
			case in.Keyword == "FROM" && ref.MatchString(in.Span.Text(d.Src)):
				used = true
			case in.Keyword == "ARG" && in.Stage >= 0:
				for _, a := range declaredArgs(in) {
					if a.name == name {
						redeclared = true
						used = used || !fixedAt[in]
					}
				}
			}
		}
		if redeclared && !used {
			out = append(out, g)
		}
	}
	return out
}

// secretArgRuns returns the RUNs after a's declaration in its stage, when
// only RUN shell text refers to the ARG; else why it is left alone.
func secretArgRuns(d *rewrite.Document, a argDecl, namesInArg int) ([]*rewrite.Instruction, string) {
	switch {
	case a.value != "":
		return nil, "it has a default, so the value is in the repository: rotate it, drop the default and pass it as a secret"
	case namesInArg > 1:
		return nil, "the ARG declares several names; split it first"
	}
	if v, ok := d.GlobalArgs.Get(a.name); ok && v != "" && !a.hasDefault {
		return nil, "it takes the default of the global ARG " + a.name + ", so the value is in the repository: rotate it"
	}
	ref := secretRef(a.name)
	var runs []*rewrite.Instruction
	named := false
	for _, in := range d.Instructions[a.in.Index+1:] {
		if in.Stage != a.in.Stage {
			break
		}
		if in.Keyword == "ARG" {
			for _, b := range declaredArgs(in) {
				if b.name == a.name {
					return nil, fmt.Sprintf("it is declared again in line %d", in.Line)
				}
			}
		}
		if in.Keyword != "RUN" {
			if ref.MatchString(in.Span.Text(d.Src)) {
				return nil, fmt.Sprintf("the %s in line %d uses it", in.Keyword, in.Line)
			}
			continue
		}
		start := d.SkipFlags(in.ArgsSpan)
		if ref.MatchString(string(d.Src[in.ArgsSpan.Start:start])) {
			return nil, fmt.Sprintf("the flags of the RUN in line %d use it", in.Line)
		}
		if ref.MatchString(string(d.Src[start:in.Span.End])) {
			named = true
		}
		runs = append(runs, in)
	}
	if !named {
		return nil, "no RUN names it, but a program may read it from the environment; move it to a secret mount by hand"
	}
	return runs, ""
}

// parserDirective matches a parser directive line (# key=value).
var parserDirective = regexp.MustCompile(`^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(\S*)`)

// syntaxDirective returns the frontend the parser directives at the top
// of the file set, or "".
func syntaxDirective(d *rewrite.Document) string {
	for l := 1; l <= d.LineCount(); l++ {
		text := strings.TrimPrefix(d.LineText(l), rewrite.BOM)
		m := parserDirective.FindStringSubmatch(text)
		if m == nil {
			return ""
		}
		if strings.EqualFold(m[1], "syntax") {
			return m[2]
		}
	}
	return ""
}

// oldDockerfileSyntax matches the official frontend pinned below 1.10
// (docker/dockerfile:1.7, 1.9.0-labs, …), which rejects env= in a secret
// mount.
var oldDockerfileSyntax = regexp.MustCompile(`^(docker\.io/)?docker/dockerfile:(0\.|1\.[0-9]([.-]|$|@))`)

// syntaxBlocks says why the file's syntax directive cannot run an env=
// secret mount, or "".
func syntaxBlocks(syntax string) string {
	switch {
	case oldDockerfileSyntax.MatchString(syntax):
		return "the syntax directive pins " + syntax + ", and env= in a secret mount needs Dockerfile 1.10 or newer; raise it (docker/dockerfile:1) first"
	case strings.HasPrefix(syntax, "docker/dockerfile@"), strings.HasPrefix(syntax, "docker.io/docker/dockerfile@"):
		return "the syntax directive pins the frontend by digest alone, so whether it knows env= in a secret mount (Dockerfile 1.10+) is unknown"
	}
	return ""
}

// writtenFileNotes notes the RUNs that redirect the secret into a file
// and do not remove it later in the same RUN.
func writtenFileNotes(d *rewrite.Document, name string, runs []*rewrite.Instruction) []rewrite.Note {
	ref := secretRef(name)
	var notes []rewrite.Note
	for _, r := range runs {
		s := d.Shell(r)
		if s == nil {
			continue
		}
		for i, c := range s.Commands {
			if len(c.Redirects) == 0 || !ref.MatchString(c.Span.Text(d.Src)) {
				continue
			}
			for _, file := range c.Redirects {
				if !removedLater(s.Commands[i+1:], file.Value) {
					notes = append(notes, rewrite.Note{Line: d.LineOf(c.Span.Start), Message: fmt.Sprintf("this RUN writes $%s into %s, which stays in the layer after the RUN; remove it at the end of the same RUN (or write it under a tmpfs mount)", name, file.Value)})
				}
			}
		}
	}
	return notes
}

// removedLater reports whether one of cmds is an rm of file.
func removedLater(cmds []rewrite.ShellCommand, file string) bool {
	for _, c := range cmds {
		argv := c.Argv()
		if len(argv) == 0 || argv[0].Value != "rm" {
			continue
		}
		for _, w := range argv[1:] {
			if w.Value == file {
				return true
			}
		}
	}
	return false
}

// envSecretNotes notes ENV keys with a credential name.
func envSecretNotes(d *rewrite.Document, in *rewrite.Instruction) []rewrite.Note {
	var notes []rewrite.Note
	args := rewrite.NodeArgs(in)
	for i := 0; i+1 < len(args); i += 2 {
		key, value := args[i], args[i+1]
		if !isCredential(key) {
			continue
		}
		msg := fmt.Sprintf("ENV %s has a credential's name (BuildKit's SecretsUsedInArgOrEnv words), and ENV values stay in the image config, which every user of the image can read; not changed: if it is a credential, ", key)
		if strings.Contains(value, "$") {
			msg += "pass the value with RUN --mount=type=secret,id=" + key + ",env=" + key + " in the RUNs that need it instead of ENV"
		} else if value != "" {
			msg += "it is written in the repository, so rotate it, then pass the new one with RUN --mount=type=secret,id=" + key + ",env=" + key
		} else {
			continue
		}
		notes = append(notes, rewrite.Note{Line: in.Line, Message: msg})
	}
	return notes
}

// globalSecretNotes notes a global ARG with a credential name that a FROM
// uses.
func globalSecretNotes(d *rewrite.Document, in *rewrite.Instruction) []rewrite.Note {
	var notes []rewrite.Note
	for _, a := range declaredArgs(in) {
		if !isCredential(a.name) {
			continue
		}
		ref := secretRef(a.name)
		for _, other := range d.Instructions {
			if other.Keyword == "FROM" && ref.MatchString(other.Span.Text(d.Src)) {
				notes = append(notes, rewrite.Note{Line: in.Line, Message: fmt.Sprintf("global ARG %s looks like a credential and the FROM in line %d uses it; not changed (a secret mount cannot reach FROM)", a.name, other.Line)})
				break
			}
		}
	}
	return notes
}

// declaredInStage counts the ARG instructions of a's stage that declare
// a's name.
func declaredInStage(d *rewrite.Document, a argDecl) int {
	n := 0
	for _, in := range d.Instructions {
		if in.Keyword != "ARG" || in.Stage != a.in.Stage {
			continue
		}
		for _, other := range declaredArgs(in) {
			if other.name == a.name {
				n++
			}
		}
	}
	return n
}
