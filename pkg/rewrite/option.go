package rewrite

import (
	"fmt"
	"strconv"
	"strings"
)

// OptionType is the type of an Option's value.
type OptionType string

const (
	// BoolOption is true or false ("true", "false", or the bare name).
	BoolOption OptionType = "bool"
	// IntOption is a whole number.
	IntOption OptionType = "int"
	// StringOption is one word.
	StringOption OptionType = "string"
	// ListOption is a list of words ("a,b" in text; each setting adds).
	ListOption OptionType = "list"
	// MapOption maps keys to words ("k=v" in text; each setting adds one).
	MapOption OptionType = "map"
)

// Option is one setting a rule declares in Rule.Options. The declaration is
// the only place an option is described: .hardenfix.yaml's options: key,
// the command line (--option NAME=VALUE, and --NAME when Flag is set), the
// fixture harness's options section and `hardenfix explain` all read it.
// Names are shared by all rules (options: is one flat map), so two rules
// never declare the same name.
type Option struct {
	// Name is the key under options: in .hardenfix.yaml, in --option and
	// in fixtures' options sections.
	Name string
	Type OptionType
	// Default is the value the rule uses when the option is not set, as
	// explain shows it; "" when there is nothing to show.
	Default string
	// Doc says what the option does, for explain.
	Doc string
	// Flag makes the option a command-line flag of its name too, with
	// Usage as its help.
	Flag  bool
	Usage string
	// Check, if set, rejects a value the rule cannot use; its error
	// completes "options.NAME …" (for example "must be positive, not -1").
	Check func(v any) error
}

// Options are the values of rule options by name, as Env.Options: bool,
// int, string, []string or map[string]string by the option's type. A name
// that is not set has its type's zero value, which stands for the rule's
// default.
type Options map[string]any

// Bool is the value of a BoolOption in env.
func (o *Option) Bool(env *Env) bool { v, _ := env.Options[o.Name].(bool); return v }

// Int is the value of an IntOption in env.
func (o *Option) Int(env *Env) int { v, _ := env.Options[o.Name].(int); return v }

// String is the value of a StringOption in env.
func (o *Option) String(env *Env) string { v, _ := env.Options[o.Name].(string); return v }

// List is the value of a ListOption in env.
func (o *Option) List(env *Env) []string { v, _ := env.Options[o.Name].([]string); return v }

// Map is the value of a MapOption in env.
func (o *Option) Map(env *Env) map[string]string {
	v, _ := env.Options[o.Name].(map[string]string)
	return v
}

// Set parses text as a value of o and sets it in opts: a later setting of
// a bool, int or string replaces an earlier one, a list's words and a map's
// entry are added. text is "true"/"false" (or "" for true) for a bool, a
// number, a word, "a,b" for a list and "k=v" for a map.
func (opts Options) Set(o *Option, text string) error {
	var v any
	switch o.Type {
	case BoolOption:
		if text == "" {
			v = true
		} else {
			b, err := strconv.ParseBool(text)
			if err != nil {
				return fmt.Errorf("option %s: %q is not true or false", o.Name, text)
			}
			v = b
		}
	case IntOption:
		n, err := strconv.Atoi(text)
		if err != nil {
			return fmt.Errorf("option %s: %q is not a number", o.Name, text)
		}
		v = n
	case StringOption:
		v = text
	case ListOption:
		old, _ := opts[o.Name].([]string)
		v = append(old, strings.Split(text, ",")...)
	case MapOption:
		key, val, ok := strings.Cut(text, "=")
		if !ok {
			return fmt.Errorf("option %s: %q is not KEY=VALUE", o.Name, text)
		}
		m := map[string]string{}
		old, _ := opts[o.Name].(map[string]string)
		for k, x := range old {
			m[k] = x
		}
		m[key] = val
		v = m
	default:
		return fmt.Errorf("option %s: unknown type %q", o.Name, o.Type)
	}
	return opts.Put(o, v)
}

// Put sets a typed value (see Options) after the option's Check.
func (opts Options) Put(o *Option, v any) error {
	if o.Check != nil {
		if err := o.Check(v); err != nil {
			return fmt.Errorf("options.%s %w", o.Name, err)
		}
	}
	opts[o.Name] = v
	return nil
}

// Over returns opts with each value of over that is set (not its type's
// zero value) put over it; neither is changed.
func (opts Options) Over(over Options) Options {
	out := Options{}
	for k, v := range opts {
		out[k] = v
	}
	for k, v := range over {
		switch x := v.(type) {
		case bool:
			if !x {
				continue
			}
		case int:
			if x == 0 {
				continue
			}
		case string:
			if x == "" {
				continue
			}
		case []string:
			if len(x) == 0 {
				continue
			}
		case map[string]string:
			if len(x) == 0 {
				continue
			}
		}
		out[k] = v
	}
	return out
}

// FindOption returns the option named name among the rules' options.
func FindOption(rules []*Rule, name string) (*Option, bool) {
	for _, r := range rules {
		for _, o := range r.Options {
			if o.Name == name {
				return o, true
			}
		}
	}
	return nil, false
}
