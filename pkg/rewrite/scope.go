package rewrite

import (
	"sort"
	"strings"
	"sync"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// Vars are the build variables (ARG defaults and ENV values) in effect at
// some point of a Dockerfile. A variable declared without a value is absent:
// its value is only known at build time.
type Vars map[string]string

func (v Vars) Get(k string) (string, bool) { s, ok := v[k]; return s, ok }

func (v Vars) Keys() []string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// VarsAt returns the variables visible to instruction in: for FROM and
// global ARGs the global ARG defaults; inside a stage the values that every
// builder agrees on. BuildKit applies ARG and ENV in file order (a later
// ARG with a value overrides an earlier ENV during the build, and a stage
// built FROM an earlier stage inherits both its ENV and its ARG values);
// the classic builder and buildah/podman let an ENV win over any ARG of the
// same name and end ARGs with their stage (docker/cli#3344,
// containers/podman#19803). Where the two disagree, or a value depends on
// something only known at build time (the base image's ENV, a --build-arg,
// an ARG without a default), the variable is absent: rules must treat it
// as unknown.
//
// The scopes of all instructions are worked out once per Document, in one
// pass; the map returned is shared with other instructions of the same
// scope, so callers must not change it.
func (d *Document) VarsAt(in *Instruction) Vars {
	d.scopesOnce.Do(d.computeScopes)
	if in.Index < len(d.scopes) && d.Instructions[in.Index] == in {
		return d.scopes[in.Index]
	}
	return Vars{}
}

// unknownValue marks a variable whose value the build decides (it uses a
// variable with no known value); it never reaches VarsAt's callers.
const unknownValue = "\x00unknown"

// builderScope is one stage's variables as one builder computes them.
type builderScope struct {
	buildkit Vars // ARG and ENV in file order, inherited from a parent stage
	env      Vars // classic builder: ENV, inherited from a parent stage
	args     Vars // classic builder: this stage's ARGs
}

func (b builderScope) clone() builderScope {
	return builderScope{buildkit: copyVars(b.buildkit), env: copyVars(b.env), args: Vars{}}
}

func copyVars(v Vars) Vars {
	out := make(Vars, len(v))
	for k, s := range v {
		out[k] = s
	}
	return out
}

// classic is what the classic builder expands with: ENV over ARG.
func (b builderScope) classic() Vars {
	out := copyVars(b.args)
	for k, v := range b.env {
		out[k] = v
	}
	return out
}

// classicValue is the value of k in classic, without building it.
func (b builderScope) classicValue(k string) (string, bool) {
	if v, ok := b.env[k]; ok {
		return v, true
	}
	v, ok := b.args[k]
	return v, ok
}

// classicEnv is what the classic builder expands with, read from b
// without building it (see classic).
type classicEnv struct{ b builderScope }

func (c classicEnv) Get(k string) (string, bool) { return c.b.classicValue(k) }
func (c classicEnv) Keys() []string              { return c.b.classic().Keys() }

// agreed keeps the variables both builders give the same known value.
func (b builderScope) agreed() Vars {
	out := Vars{}
	for k, bv := range b.buildkit {
		if v, ok := b.classicValue(k); ok && bv == v && !strings.Contains(v, unknownValue) {
			out[k] = v
		}
	}
	return out
}

// computeScopes walks the file once, keeping each stage's variables as
// both builders see them.
func (d *Document) computeScopes() {
	d.scopes = make([]Vars, len(d.Instructions))
	lex, done := lexer(d.Escape)
	defer done()
	expand := func(s string, vars shell.EnvGetter) string {
		out, unmatched, err := lex.ProcessWord(s, vars)
		if err != nil || len(unmatched) > 0 {
			return unknownValue
		}
		return out
	}
	ends := make([]builderScope, len(d.Stages)) // each stage's scope at its end
	var cur builderScope
	var vars Vars
	for i, in := range d.Instructions {
		if in.Stage < 0 || in.Keyword == "FROM" {
			d.scopes[i] = d.GlobalArgs
			cur = builderScope{buildkit: Vars{}, env: Vars{}, args: Vars{}}
			if in.Stage >= 0 {
				if p := d.parentStage(in.Stage); p >= 0 {
					cur = ends[p].clone()
				}
			}
			vars = cur.agreed()
			d.saveEnd(ends, in.Stage, cur)
			continue
		}
		d.scopes[i] = vars
		changed := true
		switch c := in.Command.(type) {
		case *instructions.ArgCommand:
			for _, kv := range c.Args {
				g, global := d.GlobalArgs[kv.Key]
				switch {
				case kv.Value != nil && literalWord(*kv.Value, d.Escape):
					cur.buildkit[kv.Key] = *kv.Value
					cur.args[kv.Key] = *kv.Value
				case kv.Value != nil:
					cur.buildkit[kv.Key] = expand(*kv.Value, cur.buildkit)
					cur.args[kv.Key] = expand(*kv.Value, classicEnv{cur})
				case global:
					cur.buildkit[kv.Key] = g
					cur.args[kv.Key] = g
				default:
					// BuildKit keeps what it had; the classic builder
					// leaves the ARG unset.
					delete(cur.args, kv.Key)
				}
			}
		case *instructions.EnvCommand:
			for _, kv := range c.Env {
				if literalWord(kv.Value, d.Escape) {
					cur.buildkit[kv.Key] = kv.Value
					cur.env[kv.Key] = kv.Value
					continue
				}
				cur.buildkit[kv.Key] = expand(kv.Value, cur.buildkit)
				cur.env[kv.Key] = expand(kv.Value, classicEnv{cur})
			}
		default:
			changed = false
		}
		if changed {
			vars = cur.agreed()
		}
		d.saveEnd(ends, in.Stage, cur)
	}
}

func (d *Document) saveEnd(ends []builderScope, stage int, b builderScope) {
	if stage >= 0 && stage < len(ends) {
		ends[stage] = b
	}
}

// parentStage is the earlier stage that stage i is built FROM, or -1 when
// it is built on an image (or on a name only known at build time).
func (d *Document) parentStage(i int) int {
	base, unset, err := d.Expand(d.Stages[i].BaseName, d.GlobalArgs)
	if err != nil || len(unset) > 0 {
		return -1
	}
	return d.stageNamed(base, i)
}

// globalDefaults are the global ARGs that have a default, each expanded
// with the ones before it.
func (d *Document) globalDefaults() Vars {
	vars := Vars{}
	for _, a := range d.MetaArgs {
		for _, kv := range a.Args {
			if kv.Value == nil {
				continue
			}
			if literalWord(*kv.Value, d.Escape) {
				vars[kv.Key] = *kv.Value
				continue
			}
			lex, done := lexer(d.Escape)
			v, unset, err := lex.ProcessWord(*kv.Value, vars)
			done()
			if err != nil || usesBare(*kv.Value, unset) {
				// A default built from an ARG with no value (ARG B, then
				// ARG A=${B}-x) is only known at build time: leave it
				// unset rather than keep what the empty B would give.
				// ${B:-x} is a default of its own and stays known.
				delete(vars, kv.Key)
				continue
			}
			vars[kv.Key] = v
		}
	}
	return vars
}

// usesBare reports whether word uses one of the unset variables as $NAME
// or ${NAME}, with no default of its own.
func usesBare(word string, unset map[string]struct{}) bool {
	for name := range unset {
		for i := 0; ; {
			j := strings.Index(word[i:], name)
			if j < 0 {
				break
			}
			at, end := i+j, i+j+len(name)
			i = end
			if at >= 1 && word[at-1] == '$' && (end == len(word) || !isNameByte(word[end])) {
				return true
			}
			if at >= 2 && word[at-2:at] == "${" && end < len(word) && word[end] == '}' {
				return true
			}
		}
	}
	return false
}

func isNameByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// Expand expands variables in word with vars. It reports the variables the
// word uses that vars does not define; when there are any, the result is
// not what the build will see.
func (d *Document) Expand(word string, vars Vars) (string, []string, error) {
	if literalWord(word, d.Escape) {
		return word, nil, nil
	}
	lex, done := lexer(d.Escape)
	out, unmatched, err := lex.ProcessWord(word, vars)
	done()
	if err != nil {
		return "", nil, err
	}
	var names []string
	for k := range unmatched {
		names = append(names, k)
	}
	sort.Strings(names)
	return out, names, nil
}

// lexers hold BuildKit shell lexers for the two escape characters, to be
// used again: a lexer is a kilobyte or so to make, and it keeps nothing
// of one word for the next.
var lexers [2]sync.Pool

// lexer returns a lexer for escape and the func that gives it back.
func lexer(escape rune) (*shell.Lex, func()) {
	var pool *sync.Pool
	switch escape {
	case '\\':
		pool = &lexers[0]
	case '`':
		pool = &lexers[1]
	default:
		return shell.NewLex(escape), func() {}
	}
	lex, _ := pool.Get().(*shell.Lex)
	if lex == nil {
		lex = shell.NewLex(escape)
	}
	return lex, func() { pool.Put(lex) }
}

// literalWord reports whether BuildKit's shell lexer gives word back as it
// is: printable ASCII (and tabs) with no variable, quote, escape or "<<".
// Most words rules expand are such (image names, paths), and the lexer
// costs a few allocations per call.
func literalWord(word string, escape rune) bool {
	for i := 0; i < len(word); i++ {
		switch c := word[i]; {
		case c == '$' || c == '\'' || c == '"' || c == '<' || c == '\\' || c == '`' || rune(c) == escape:
			return false
		case c < ' ' && c != '\t' || c > '~':
			return false
		}
	}
	return true
}
