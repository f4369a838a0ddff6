package rewrite

import (
	"sort"

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
// global ARGs the global ARG defaults; inside a stage the ARGs it declared
// (taking the global default when it declares one without a value) and the
// ENV values set before in, in order. ENV inherited from a base image or an
// earlier stage is not known and so not included.
//
// The scopes of all instructions are worked out once per Document, in one
// pass; the map returned is shared with other instructions of the same
// scope, so callers must not change it.
func (d *Document) VarsAt(in *Instruction) Vars {
	d.scopesOnce.Do(d.computeScopes)
	if in.index < len(d.scopes) && d.Instructions[in.index] == in {
		return d.scopes[in.index]
	}
	return Vars{}
}

// computeScopes walks the file once, keeping each stage's variables. A map
// is copied only when an ARG or ENV changes it, so instructions between two
// such lines share one.
func (d *Document) computeScopes() {
	d.scopes = make([]Vars, len(d.Instructions))
	lex := shell.NewLex(d.Escape)
	var vars Vars
	for i, in := range d.Instructions {
		if in.Stage < 0 || in.Keyword == "FROM" {
			d.scopes[i] = d.GlobalArgs
			vars = Vars{} // the stage starts with nothing in scope
			continue
		}
		d.scopes[i] = vars
		var next Vars
		set := func(k, v string) {
			if next == nil {
				next = make(Vars, len(vars)+1)
				for k2, v2 := range vars {
					next[k2] = v2
				}
			}
			next[k] = v
		}
		expand := func(s string) string {
			cur := vars
			if next != nil {
				cur = next
			}
			out, _, err := lex.ProcessWord(s, cur)
			if err != nil {
				return s
			}
			return out
		}
		switch c := in.Command.(type) {
		case *instructions.ArgCommand:
			for _, kv := range c.Args {
				switch {
				case kv.Value != nil:
					set(kv.Key, expand(*kv.Value))
				default:
					if g, ok := d.GlobalArgs[kv.Key]; ok {
						set(kv.Key, g)
					}
				}
			}
		case *instructions.EnvCommand:
			for _, kv := range c.Env {
				set(kv.Key, expand(kv.Value))
			}
		}
		if next != nil {
			vars = next
		}
	}
}

// globalDefaults are the global ARGs that have a default, each expanded
// with the ones before it.
func (d *Document) globalDefaults() Vars {
	vars := Vars{}
	lex := shell.NewLex(d.Escape)
	for _, a := range d.MetaArgs {
		for _, kv := range a.Args {
			if kv.Value == nil {
				continue
			}
			v, _, err := lex.ProcessWord(*kv.Value, vars)
			if err != nil {
				v = *kv.Value
			}
			vars[kv.Key] = v
		}
	}
	return vars
}

// Expand expands variables in word with vars. It reports the variables the
// word uses that vars does not define; when there are any, the result is
// not what the build will see.
func (d *Document) Expand(word string, vars Vars) (string, []string, error) {
	out, unmatched, err := shell.NewLex(d.Escape).ProcessWord(word, vars)
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
