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
func (d *Document) VarsAt(in *Instruction) Vars {
	vars := Vars{}
	if in.Stage < 0 || in.Keyword == "FROM" {
		for k, v := range d.GlobalArgs {
			vars[k] = v
		}
		return vars
	}
	globals := d.GlobalArgs
	lex := shell.NewLex(d.Escape)
	expand := func(s string) string {
		out, _, err := lex.ProcessWord(s, vars)
		if err != nil {
			return s
		}
		return out
	}
	for _, other := range d.Instructions {
		if other == in {
			break
		}
		if other.Stage != in.Stage {
			continue
		}
		switch c := other.Command.(type) {
		case *instructions.ArgCommand:
			for _, kv := range c.Args {
				switch {
				case kv.Value != nil:
					vars[kv.Key] = expand(*kv.Value)
				default:
					if g, ok := globals[kv.Key]; ok {
						vars[kv.Key] = g
					}
				}
			}
		case *instructions.EnvCommand:
			for _, kv := range c.Env {
				vars[kv.Key] = expand(kv.Value)
			}
		}
	}
	return vars
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
