package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/hardenfix/hardenfix/pkg/rules"
	"github.com/urfave/cli/v2"
)

// optionFlag is the command-line flag of the rule option name, made from
// its declaration (Option.Flag, Usage, Default); it panics when no rule
// declares name, which the tests would show.
func optionFlag(name string) cli.Flag {
	o, ok := rewrite.FindOption(rules.All(), name)
	if !ok || !o.Flag {
		panic("no rule declares the flag option " + name)
	}
	switch o.Type {
	case rewrite.BoolOption:
		return &cli.BoolFlag{Name: o.Name, Usage: o.Usage}
	case rewrite.IntOption:
		return &cli.IntFlag{Name: o.Name, Usage: o.Usage, DefaultText: o.Default}
	default:
		return &cli.StringFlag{Name: o.Name, Usage: o.Usage, DefaultText: o.Default}
	}
}

// optionListFlag sets any rule option.
var optionListFlag = &cli.StringSliceFlag{Name: "option", Usage: "set the rule option `NAME=VALUE` as in .hardenfix.yaml's options: (repeatable; see `hardenfix explain RULE`)"}

// ruleOptions reads --option NAME=VALUE and the flags of rule options
// (which win) into the options the rules get over each configuration.
func ruleOptions(c *cli.Context) (rewrite.Options, error) {
	opts, err := optionSettings(c)
	if err != nil {
		return nil, err
	}
	for _, o := range rules.Options() {
		if !o.Flag || !c.IsSet(o.Name) {
			continue
		}
		var v any
		switch o.Type {
		case rewrite.BoolOption:
			v = c.Bool(o.Name)
		case rewrite.IntOption:
			v = c.Int(o.Name)
		default:
			v = c.String(o.Name)
		}
		if err := opts.Put(o, v); err != nil {
			return nil, fmt.Errorf("--%s: %w", o.Name, err)
		}
	}
	return opts, nil
}

// optionSettings reads --option NAME=VALUE alone.
func optionSettings(c *cli.Context) (rewrite.Options, error) {
	all := rules.All()
	opts := rewrite.Options{}
	for _, kv := range joinSplitValues(c.StringSlice("option")) {
		name, value, ok := strings.Cut(kv, "=")
		o, known := rewrite.FindOption(all, name)
		if !ok || !known {
			var names []string
			for _, o := range rules.Options() {
				names = append(names, o.Name)
			}
			return nil, fmt.Errorf("--option %q: want NAME=VALUE with NAME one of %s", kv, strings.Join(names, ", "))
		}
		if err := opts.Set(o, value); err != nil {
			return nil, fmt.Errorf("--%w", err)
		}
	}
	return opts, nil
}

// joinSplitValues undoes the comma split of a string-slice flag inside a
// value: "allowed-publishers=official,redhat" arrives as two pieces, the
// second without "=".
func joinSplitValues(pieces []string) []string {
	var out []string
	for _, p := range pieces {
		if len(out) > 0 && !strings.Contains(p, "=") {
			out[len(out)-1] += "," + p
			continue
		}
		out = append(out, p)
	}
	return out
}

// printOptions lists a rule's options for explain: name, type, default,
// the flag that also sets it, and the doc.
func printOptions(w io.Writer, r *rewrite.Rule) {
	if len(r.Options) == 0 {
		return
	}
	fmt.Fprintf(w, "\nOptions (.hardenfix.yaml options:, or --option NAME=VALUE):\n")
	for _, o := range r.Options {
		about := string(o.Type)
		if o.Default != "" {
			about += ", default " + o.Default
		}
		if o.Flag {
			about += ", flag --" + o.Name
		}
		fmt.Fprintf(w, "  %s (%s)\n", o.Name, about)
		for _, line := range strings.Split(o.Doc, "\n") {
			fmt.Fprintf(w, "      %s\n", line)
		}
	}
}
