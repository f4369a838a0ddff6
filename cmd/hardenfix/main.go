// Command hardenfix hardens Dockerfiles: it finds every Dockerfile under the
// paths it is given, rewrites each into a hardened form with the rules of
// package rewrite, and prints a unified diff (the default), lists the files
// that would change (-l), checks (--check) or writes them in place (-w).
//
// This package only wires flags to package harden (the library entry point,
// which owns discovery, configuration, catalogs, the registry client and the
// pipeline) and prints; everything a library user needs is under pkg/.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/hardenfix/hardenfix/pkg/harden"
	"github.com/hardenfix/hardenfix/pkg/rules"
)

// Exit codes, as documented in the README.
const (
	exitOK       = 0
	exitChanges  = 1 // --check or --list found files that would change
	exitError    = 2 // usage error, or a file that could not be read, parsed or written
	exitRegistry = 3 // registry lookups failed and --strict was given
	// exitUnverified (4, verify.go): some file could not be verified.
)

// version is set at build time with -ldflags "-X main.version=..."; else it
// comes from the module's build info.
var version = ""

func main() {
	os.Exit(runMain(context.Background(), os.Args, os.Stdout, os.Stderr))
}

func versionString() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	return versionFrom(bi)
}

// versionFrom is the module version `go install …@vX` records, else the
// commit of a local build from a checkout (go build stamps it), else "dev".
func versionFrom(bi *debug.BuildInfo) string {
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var commit, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			commit = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = ", modified"
			}
		}
	}
	if commit == "" {
		return "dev"
	}
	return fmt.Sprintf("dev (commit %.12s%s)", commit, modified)
}

// usageError prints a usage error as one line and the usage line, not the
// whole help: the help of a tool with thirty flags hides the error.
func usageError(stderr io.Writer, usage string) cli.OnUsageErrorFunc {
	return func(c *cli.Context, err error, _ bool) error {
		fmt.Fprintf(stderr, "hardenfix: %v\nusage: %s (see --help)\n", err, usage)
		return cli.Exit("", exitError)
	}
}

// runMain runs the command line args and returns the exit code.
func runMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	code := exitOK
	app := newApp(stdout, stderr, &code)
	if err := app.RunContext(ctx, args); err != nil {
		var ec cli.ExitCoder
		if errors.As(err, &ec) {
			if ec.Error() != "" {
				fmt.Fprintln(stderr, "hardenfix:", ec.Error())
			}
			return ec.ExitCode()
		}
		fmt.Fprintln(stderr, "hardenfix:", err)
		return exitError
	}
	return code
}

// newApp is the command line: its flags and subcommands. It is long
// because it is a table, one line a flag in the order --help lists them.
func newApp(stdout, stderr io.Writer, code *int) *cli.App {
	app := &cli.App{
		Name:      "hardenfix",
		Usage:     "rewrite Dockerfiles into a hardened form",
		UsageText: "hardenfix [flags] [PATH...]\nhardenfix rules\nhardenfix explain RULE\nhardenfix scan-diff --before FILE --after FILE\nhardenfix verify [flags] [PATH...]",
		Description: "With no flags, prints a unified diff of every Dockerfile under PATH (default .) that the\n" +
			"rules would change, and a summary on stderr. -w writes the changes in place.",
		Version:                versionString(),
		Writer:                 stdout,
		ErrWriter:              stderr,
		HideHelpCommand:        true,
		UseShortOptionHandling: true,
		EnableBashCompletion:   true,
		Suggest:                true,
		ExitErrHandler:         func(*cli.Context, error) {}, // runMain prints and exits
		OnUsageError:           usageError(stderr, "hardenfix [flags] [PATH...]"),
		Flags: append([]cli.Flag{
			&cli.BoolFlag{Name: "write", Aliases: []string{"w"}, Usage: "write the hardened files in place (atomically; mode kept)"},
			&cli.BoolFlag{Name: "list", Aliases: []string{"l"}, Usage: "print the paths of files that would change; exit 1 if any"},
			&cli.BoolFlag{Name: "check", Usage: "print only the summary; exit 1 if any file would change"},
			&cli.StringSliceFlag{Name: "enable", Usage: "run only these rules (comma-separated; \"default\" stands for the rules that run when none is named, so default,secrets adds the opt-in one)"},
			&cli.StringSliceFlag{Name: "disable", Usage: "do not run these rules (comma-separated)"},
			&cli.StringSliceFlag{Name: "exclude", Usage: "skip paths matching this glob (repeatable)"},
			&cli.StringFlag{Name: "context", Usage: "build context `DIR` for every file (default: each Dockerfile's folder)"},
			&cli.IntFlag{Name: "jobs", Aliases: []string{"j"}, Value: runtime.NumCPU(), Usage: "files processed at once"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print no notes and no summary"},
			&cli.BoolFlag{Name: "verbose", Usage: "also print the notes that ask for nothing (why a rule left something as it was)"},
			&cli.BoolFlag{Name: "offline", Usage: "make no network calls"},
			&cli.StringFlag{Name: "format", Value: "text", Usage: "output: text (diff, list), json, sarif or markdown; a machine format replaces the diff on stdout unless --report is given"},
			&cli.StringFlag{Name: "report", Usage: "write the --format report to `FILE`, keeping the diff on stdout"},
			&cli.StringFlag{Name: "config", Usage: "use this configuration `FILE` for every Dockerfile instead of the nearest .hardenfix.yaml"},
			&cli.StringFlag{Name: "progress", Value: "auto", Usage: "progress line on stderr: auto (only on a terminal), always, never"},
			&cli.StringFlag{Name: "color", Value: "auto", Usage: "colour the diff: auto (only on a terminal, not with NO_COLOR), always, never"},
			optionFlag("target"),
			optionFlag("uid"),
			optionFlag("user-name"),
			optionListFlag,
			&cli.StringSliceFlag{Name: "scan-report", Usage: "Trivy or Grype JSON report `FILE` of a base image; the report shows its counts beside the FROM lines that use the image (repeatable)"},
			&cli.StringFlag{Name: "sbom", Usage: "write a CycloneDX 1.5 JSON bill of the base images the Dockerfiles use after the run to `FILE` (with --verify and a scanner, also what the scan found in both images)"},
			&cli.BoolFlag{Name: "verify", Usage: "build and run every changed file before and after, as the verify command does (its flags are below); with -w write only verified fixes; exit 4 when a file could not be verified"},
		}, append(append(registryFlags(), catalogFlags()...), verifyFlags()...)...),
		Action: func(c *cli.Context) error {
			if c.Bool("verify") {
				if c.Bool("check") || c.Bool("list") {
					return cli.Exit("--verify cannot be combined with --check or --list", exitError)
				}
				vopts, out, err := verifyOptionsFrom(c, stderr)
				if err != nil {
					return cli.Exit(err.Error(), exitError)
				}
				paths := c.Args().Slice()
				if len(paths) == 0 {
					paths = []string{"."}
				}
				*code = runVerify(c.Context, vopts, paths, out, stdout, stderr)
				return nil
			}
			opts, err := optionsFrom(c)
			if err != nil {
				return cli.Exit(err.Error(), exitError)
			}
			*code = run(c.Context, opts, stdout, stderr)
			return nil
		},
		Commands: []*cli.Command{
			scanDiffCommand(stdout),
			verifyCommand(stdout, stderr, code),
			{
				Name:      "completion",
				Usage:     "print a shell completion script (bash or zsh)",
				ArgsUsage: "bash|zsh",
				Action: func(c *cli.Context) error {
					script, ok := completionScripts[c.Args().First()]
					if !ok || c.NArg() != 1 {
						return cli.Exit("completion takes one shell: bash or zsh", exitError)
					}
					fmt.Fprint(stdout, script)
					return nil
				},
			},
			{
				Name:  "rules",
				Usage: "list the rules",
				Action: func(c *cli.Context) error {
					printRules(stdout)
					return nil
				},
			},
			{
				Name:      "explain",
				Usage:     "print the long documentation of a rule",
				ArgsUsage: "RULE",
				Action: func(c *cli.Context) error {
					if c.NArg() != 1 {
						return cli.Exit("explain takes one rule name; see `hardenfix rules`", exitError)
					}
					r, ok := rules.Lookup(c.Args().First())
					if !ok {
						return cli.Exit(fmt.Sprintf("unknown rule %q; see `hardenfix rules`", c.Args().First()), exitError)
					}
					fmt.Fprintf(stdout, "%s (risk: %s)\n\n%s\n\n%s\n", r.Name, r.Risk, r.Summary, r.Doc)
					printOptions(stdout, r)
					if r.URL != "" {
						fmt.Fprintf(stdout, "\nSee %s\n", r.URL)
					}
					return nil
				},
			},
			catalogCommand(stdout),
		},
	}
	setUsageErrors(app.Commands, "hardenfix", stderr)
	return app
}

// setUsageErrors gives every subcommand the one-line usage error.
func setUsageErrors(cmds []*cli.Command, parent string, stderr io.Writer) {
	for _, c := range cmds {
		usage := parent + " " + c.Name
		if c.UsageText != "" {
			usage, _, _ = strings.Cut(c.UsageText, "\n")
		} else if c.ArgsUsage != "" {
			usage += " " + c.ArgsUsage
		}
		c.OnUsageError = usageError(stderr, usage)
		setUsageErrors(c.Subcommands, parent+" "+c.Name, stderr)
	}
}

func printRules(w io.Writer) {
	width := 0
	for _, r := range rules.All() {
		width = max(width, len(r.Name))
	}
	for _, r := range rules.All() {
		summary := r.Summary
		if r.OptIn {
			summary = "(opt-in: --enable default," + r.Name + ") " + summary
		}
		fmt.Fprintf(w, "%-*s  %-6s  %s\n", width, r.Name, r.Risk, summary)
	}
}

// modeFrom is the output mode --check, --write and --list ask for.
func modeFrom(c *cli.Context) (mode, error) {
	switch {
	case c.Bool("check") && (c.Bool("write") || c.Bool("list")):
		return modeDiff, errors.New("--check cannot be combined with --write or --list")
	case c.Bool("check"):
		return modeCheck, nil
	case c.Bool("write"):
		return modeWrite, nil
	case c.Bool("list"):
		return modeList, nil
	}
	return modeDiff, nil
}

func optionsFrom(c *cli.Context) (*options, error) {
	mode, err := modeFrom(c)
	if err != nil {
		return nil, err
	}
	catalog, err := loadCatalog(c.String("catalog"))
	if err != nil {
		return nil, err
	}
	jobs := c.Int("jobs")
	if jobs < 1 {
		return nil, fmt.Errorf("--jobs must be at least 1, not %d", jobs)
	}
	reg, err := registryOptions(c)
	if err != nil {
		return nil, err
	}
	paths := c.Args().Slice()
	if len(paths) == 0 {
		paths = []string{"."}
	}
	opts := &options{
		paths:      paths,
		mode:       mode,
		listAlso:   c.Bool("write") && c.Bool("list"),
		quiet:      c.Bool("quiet"),
		verbose:    c.Bool("verbose"),
		format:     c.String("format"),
		reportPath: c.String("report"),
		strict:     c.Bool("strict"),
	}
	switch opts.format {
	case "text", "json", "sarif", "markdown":
	default:
		return nil, fmt.Errorf("--format must be text, json, sarif or markdown, not %q", opts.format)
	}
	if c.Int("uid") < 0 {
		return nil, fmt.Errorf("--uid must be positive, not %d", c.Int("uid"))
	}
	ruleOpts, err := ruleOptions(c)
	if err != nil {
		return nil, err
	}
	if opts.reportPath != "" && opts.format == "text" {
		return nil, errors.New("--report needs --format json, sarif or markdown")
	}
	opts.harden, err = harden.New(harden.Options{
		Enable:      splitList(c.StringSlice("enable")),
		Disable:     splitList(c.StringSlice("disable")),
		Exclude:     c.StringSlice("exclude"),
		ContextDir:  c.String("context"),
		Jobs:        jobs,
		ConfigFile:  c.String("config"),
		Catalog:     catalog,
		Offline:     c.Bool("offline"),
		Registry:    reg,
		RuleOptions: ruleOpts,
		Write:       mode == modeWrite,
	})
	if err != nil {
		return nil, err
	}
	if opts.extras, err = newExtras(c.StringSlice("scan-report"), c.String("sbom"), catalog); err != nil {
		return nil, err
	}
	if opts.progress, err = whenTerminal(c.String("progress"), "--progress", c.App.ErrWriter); err != nil {
		return nil, err
	}
	if opts.color, err = whenTerminal(c.String("color"), "--color", c.App.Writer); err != nil {
		return nil, err
	}
	if c.String("color") == "auto" && os.Getenv("NO_COLOR") != "" {
		opts.color = false
	}
	return opts, nil
}

// whenTerminal resolves an auto|always|never setting: auto is true only
// when w is a terminal (never in pipes or CI logs).
func whenTerminal(setting, flag string, w io.Writer) (bool, error) {
	switch setting {
	case "always":
		return true, nil
	case "never":
		return false, nil
	case "auto":
		f, ok := w.(*os.File)
		if !ok {
			return false, nil
		}
		fi, err := f.Stat()
		return err == nil && fi.Mode()&os.ModeCharDevice != 0, nil
	}
	return false, fmt.Errorf("%s must be auto, always or never, not %q", flag, setting)

}

// splitList accepts both repeated flags and comma-separated lists.
func splitList(values []string) []string {
	var out []string
	for _, v := range values {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}
