package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/hardenfix/hardenfix/pkg/harden"
	"github.com/hardenfix/hardenfix/pkg/report"
	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/hardenfix/hardenfix/pkg/sbom"
	"github.com/hardenfix/hardenfix/pkg/verify"
	"github.com/hardenfix/hardenfix/pkg/verify/scanner"
)

// exitUnverified: `hardenfix verify` (or --verify) could not verify some
// file: its original does not build or start, or the engine failed.
const exitUnverified = 4

// verifyFlags are the flags of `hardenfix verify` beyond the rule flags it
// shares with the main command.
func verifyFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "engine", Usage: "build with `ENGINE`: docker (docker buildx build / docker build), podman (podman build) or buildah (buildah bud; runs with podman); default: the first that works"},
		&cli.StringFlag{Name: "pull", Value: "missing", Usage: "base image `POLICY`: missing (pull only what the engine lacks), never or always (docker: never cannot stop BuildKit asking a registry for metadata)"},
		&cli.StringSliceFlag{Name: "build-arg", Usage: "`KEY=VALUE` passed to both builds (repeatable)"},
		&cli.StringFlag{Name: "platform", Usage: "build for `PLATFORM` (os/arch)"},
		&cli.StringSliceFlag{Name: "secret", Usage: "build secret `id=NAME,src=FILE|env=VAR` passed to both builds (repeatable)"},
		&cli.StringFlag{Name: "logs", Usage: "write build and run logs to `DIR` (default: a new temporary folder)"},
		&cli.BoolFlag{Name: "keep-images", Usage: "keep the images built (localhost/hardenfix-verify/NAME:original-RUN, :rewritten-RUN)"},
		&cli.DurationFlag{Name: "run-window", Value: 5 * time.Second, Usage: "run both containers for `DURATION` before comparing them"},
		&cli.DurationFlag{Name: "build-timeout", Value: 15 * time.Minute, Usage: "kill a build after `DURATION`"},
		&cli.DurationFlag{Name: "run-timeout", Value: time.Minute, Usage: "kill a command or probe in a container after `DURATION`"},
		&cli.StringFlag{Name: "scanner", Usage: "scan both images with `SCANNER`: trivy, grype or none (default: the first of trivy and grype on the PATH); it uses its own database, offline"},
		&cli.BoolFlag{Name: "no-heal", Usage: "report a rewrite that fails instead of dropping rules until it passes"},
	}
}

// verifyCommand is `hardenfix verify`.
func verifyCommand(stdout, stderr io.Writer, code *int) *cli.Command {
	return &cli.Command{
		Name:      "verify",
		Usage:     "build and run the original and the rewritten Dockerfiles and keep only fixes that work",
		UsageText: "hardenfix verify [flags] [PATH...]",
		Description: "For every Dockerfile under PATH (default .) that the rules change, builds the original and the\n" +
			"rewritten file in its build context, runs both images side by side on no network for --run-window,\n" +
			"and requires the rewritten container to behave like the original (both running, or the same exit\n" +
			"code and similar output; verify.run and verify.http in .hardenfix.yaml add checks). It compares\n" +
			"user, size, layers, ports, entrypoint, command, working directory and environment. When the rewrite\n" +
			"does not build or behave, it drops rules one at a time (multi-stage, rebase, non-root, exec-form,\n" +
			"then the rest) and keeps the largest set of fixes that passes. -w writes only verified fixes.\n" +
			"Never pushes; never uses the host network or privileges; removes what it built unless --keep-images.\n\n" +
			"Exit codes: 0 every changed file verified (or healed); 2 usage error or a file that could not be\n" +
			"read or rewritten; 4 some file could not be verified (its original does not build or start, or the\n" +
			"engine failed).",
		Flags: append(append([]cli.Flag{
			&cli.BoolFlag{Name: "write", Aliases: []string{"w"}, Usage: "write the verified fixes in place"},
			&cli.StringSliceFlag{Name: "enable", Usage: "run only these rules (comma-separated)"},
			&cli.StringSliceFlag{Name: "disable", Usage: "do not run these rules (comma-separated)"},
			&cli.StringSliceFlag{Name: "exclude", Usage: "skip paths matching this glob (repeatable)"},
			&cli.StringFlag{Name: "context", Usage: "build context `DIR` for every file (default: verify.context in .hardenfix.yaml, else each Dockerfile's folder)"},
			&cli.IntFlag{Name: "jobs", Aliases: []string{"j"}, Value: 1, Usage: "files verified at once"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress lines"},
			&cli.BoolFlag{Name: "offline", Usage: "make no registry lookups while rewriting (builds may still pull, see --pull)"},
			&cli.StringFlag{Name: "format", Value: "text", Usage: "output: text, json, sarif or markdown"},
			&cli.StringFlag{Name: "report", Usage: "write the --format report to `FILE`"},
			&cli.StringFlag{Name: "sbom", Usage: "write a CycloneDX 1.5 JSON bill of the base images the verified Dockerfiles use, and of what the scanner found in both images, to `FILE`"},
			&cli.StringFlag{Name: "config", Usage: "use this configuration `FILE` for every Dockerfile"},
			&cli.StringFlag{Name: "target", Usage: "build this stage (--target) and treat it as final (non-root)"},
			optionFlag("uid"),
			optionFlag("user-name"),
			optionListFlag,
		}, verifyFlags()...), append(registryFlags(), catalogFlags()...)...),
		Action: func(c *cli.Context) error {
			opts, out, err := verifyOptionsFrom(c, stderr)
			if err != nil {
				return cli.Exit(err.Error(), exitError)
			}
			paths := c.Args().Slice()
			if len(paths) == 0 {
				paths = []string{"."}
			}
			*code = runVerify(c.Context, opts, paths, out, stdout, stderr)
			return nil
		},
	}
}

// verifyOutputs are where verify writes: the --format of stdout or of the
// --report file, and the --sbom file ("" for none).
type verifyOutputs struct {
	format, report, sbom string
}

func verifyOptionsFrom(c *cli.Context, stderr io.Writer) (verify.Options, verifyOutputs, error) {
	format := c.String("format")
	switch format {
	case "text", "json", "sarif", "markdown":
	default:
		return verify.Options{}, verifyOutputs{}, fmt.Errorf("--format must be text, json, sarif or markdown, not %q", format)
	}
	if c.String("report") != "" && format == "text" {
		return verify.Options{}, verifyOutputs{}, errors.New("--report needs --format json, sarif or markdown")
	}
	if c.Int("jobs") < 1 {
		return verify.Options{}, verifyOutputs{}, fmt.Errorf("--jobs must be at least 1, not %d", c.Int("jobs"))
	}
	if c.Int("uid") < 0 {
		return verify.Options{}, verifyOutputs{}, fmt.Errorf("--uid must be positive, not %d", c.Int("uid"))
	}
	catalog, err := loadCatalog(c.String("catalog"))
	if err != nil {
		return verify.Options{}, verifyOutputs{}, err
	}
	settings, err := optionSettings(c)
	if err != nil {
		return verify.Options{}, verifyOutputs{}, err
	}
	reg, err := registryOptions(c)
	if err != nil {
		return verify.Options{}, verifyOutputs{}, err
	}
	opts := verify.Options{
		Harden: harden.Options{
			Enable:        splitList(c.StringSlice("enable")),
			Disable:       splitList(c.StringSlice("disable")),
			Exclude:       c.StringSlice("exclude"),
			Jobs:          c.Int("jobs"),
			ConfigFile:    c.String("config"),
			Catalog:       catalog,
			Offline:       c.Bool("offline"),
			Registry:      reg,
			RuleOptions:   settings,
			UID:           c.Int("uid"),
			UserName:      c.String("user-name"),
			UpdateDigests: c.Bool("update-digests"),
		},
		Engine:       c.String("engine"),
		Pull:         c.String("pull"),
		Context:      c.String("context"),
		Target:       c.String("target"),
		Platform:     c.String("platform"),
		BuildArgs:    c.StringSlice("build-arg"),
		Secrets:      c.StringSlice("secret"),
		Jobs:         c.Int("jobs"),
		LogDir:       c.String("logs"),
		KeepImages:   c.Bool("keep-images"),
		RunWindow:    c.Duration("run-window"),
		BuildTimeout: c.Duration("build-timeout"),
		RunTimeout:   c.Duration("run-timeout"),
		NoHeal:       c.Bool("no-heal"),
		Write:        c.Bool("write"),
	}
	if name := c.String("scanner"); name != "none" {
		s, err := scanner.Lookup(name)
		if err != nil {
			return verify.Options{}, verifyOutputs{}, fmt.Errorf("--scanner: %w", err)
		}
		if s != nil {
			opts.Scanner = s
		}
	}
	if !c.Bool("quiet") {
		opts.Progress = stderr
	}
	return opts, verifyOutputs{format: format, report: c.String("report"), sbom: c.String("sbom")}, nil
}

// runVerify verifies the tree and prints the table (text) or the report.
func runVerify(ctx context.Context, opts verify.Options, paths []string, out verifyOutputs, stdout, stderr io.Writer) int {
	// On an interrupt the builds and containers in flight are killed (they
	// run in their own process groups, out of the terminal's reach) and
	// what verify made is still removed.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	v, err := verify.New(ctx, opts)
	if err != nil {
		fmt.Fprintln(stderr, "hardenfix:", err)
		return exitError
	}
	if opts.Progress != nil {
		scanning := "no scanner (install trivy or grype for CVE counts)"
		if opts.Scanner != nil {
			scanning = "scanner " + opts.Scanner.Name()
		}
		fmt.Fprintf(stderr, "verify: engine %s, %s, logs in %s\n", v.Engine().Name, scanning, v.LogDir())
	}
	run := &verifyRun{v: v, rep: report.New(versionString()), progress: opts.Progress, stderr: stderr}
	run.rep.Catalog = report.Catalog{Version: v.Hardener().Catalog().Version, Date: v.Hardener().Catalog().Date}
	if out.sbom != "" {
		run.bom = sbom.New(opts.Harden.Catalog)
	}
	err = v.Tree(ctx, paths, func(fr *verify.FileResult) error {
		run.add(fr)
		return nil
	})
	if err != nil {
		fmt.Fprintln(stderr, "hardenfix:", err)
		return exitError
	}
	if run.bom != nil {
		run.finishSBOM(out.sbom)
	}
	rep := run.rep
	if out.format == "text" {
		writeVerifyTable(stdout, rep)
	} else if err := writeReport(&options{format: out.format, reportPath: out.report}, rep, stdout); err != nil {
		fmt.Fprintln(stderr, "hardenfix:", err)
		run.errs++
	}
	if opts.Progress != nil {
		run.summary()
	}
	switch {
	case ctx.Err() != nil:
		fmt.Fprintln(stderr, "hardenfix: interrupted; the images and containers verify made are removed")
		return exitError
	case run.errs > 0:
		return exitError
	case run.unverified > 0:
		return exitUnverified
	}
	return exitOK
}

// verifyRun gathers the report (and the SBOM, when asked for) of a verify
// run file by file, and counts the errors and the files that could not be
// verified.
type verifyRun struct {
	v                *verify.Verifier
	rep              *report.Report
	bom              *sbom.Builder // nil: no --sbom
	progress, stderr io.Writer     // progress nil: --quiet
	errs, unverified int
}

// add puts a verified file into the report and the SBOM.
func (r *verifyRun) add(fr *verify.FileResult) {
	res := fr.Final
	if res == nil {
		res = fr.Harden
	}
	r.rep.Add(fr.Name, res, fr.Err)
	r.rep.AddVerification(fr.Name, fr.Verification(r.v))
	if r.bom != nil && fr.Status != verify.Error {
		r.addSBOM(fr, res)
	}
	switch {
	case fr.Status == verify.Error:
		r.errs++
		fmt.Fprintln(r.stderr, "hardenfix:", fr.Err)
	case !fr.Status.Verifiable():
		r.unverified++
	}
}

// addSBOM adds the base images of a file after the run to the SBOM: a file
// that could not be verified keeps its original FROM lines.
func (r *verifyRun) addSBOM(fr *verify.FileResult, res *rewrite.Result) {
	kept := res
	if fr.Final == nil && res != nil {
		kept = &rewrite.Result{Path: res.Path, Old: res.Old, New: res.Old}
	}
	for _, n := range sbomFile(r.bom, fr.Name, kept) {
		r.rep.AddFileNote(fr.Name, report.Note{Rule: n.Rule, Line: n.Line, Message: n.Message})
		if r.progress != nil {
			fmt.Fprintf(r.stderr, "%s:%d: %s: %s\n", fr.Name, n.Line, n.Rule, n.Message)
		}
	}
	if fr.Scan != nil {
		r.bom.AddScan(fr.Name, fr.Scan.Before, fr.Scan.After)
	}
}

// finishSBOM notes what the SBOM lacks and writes it to path.
func (r *verifyRun) finishSBOM(path string) {
	if msg := sbomDigestNote(r.bom); msg != "" {
		r.rep.AddNote(report.Note{Rule: "sbom", Message: msg})
		if r.progress != nil {
			fmt.Fprintln(r.stderr, "hardenfix: sbom:", msg)
		}
	}
	if err := writeSBOM(path, r.bom); err != nil {
		fmt.Fprintln(r.stderr, "hardenfix:", err)
		r.errs++
	}
}

// summary prints the run's one-line summary.
func (r *verifyRun) summary() {
	s := r.rep.Summary
	fmt.Fprintf(r.stderr, "hardenfix verify: %d %s, %d changed, %d verified (%d healed), %d could not be verified",
		s.Files, plural(s.Files, "file"), s.Changed, s.Verified, s.Healed, s.Unverified)
	if r.errs > 0 {
		fmt.Fprintf(r.stderr, ", %d %s", r.errs, plural(r.errs, "error"))
	}
	fmt.Fprintln(r.stderr)
}

// writeVerifyTable prints one row per changed file, then why rules were
// dropped (with the first error lines) and why files failed.
func writeVerifyTable(w io.Writer, rep *report.Report) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FILE\tBUILT\tRUN\tSIZE\tUSER\tCVES\tRESULT")
	rows := 0
	for _, f := range rep.Files {
		v := f.Verification
		if v == nil || v.Status == "unchanged" {
			continue
		}
		rows++
		fmt.Fprintf(tw, "%s\t%s\n", f.Path, strings.Join(v.Cells(), "\t"))
	}
	if rows == 0 {
		fmt.Fprintln(w, "hardenfix verify: no file to verify (the rules change nothing)")
		return
	}
	tw.Flush()
	for _, f := range rep.Files {
		v := f.Verification
		if v == nil {
			continue
		}
		if v.Status == "failed" {
			fmt.Fprintf(w, "\n%s: could not be verified: %s\n", f.Path, v.Reason)
		}
		for _, d := range v.Dropped {
			fmt.Fprintf(w, "\n%s: dropped %s: %s", f.Path, d.Rule, d.Reason)
			if d.LogPath != "" {
				fmt.Fprintf(w, " (log: %s)", d.LogPath)
			}
			fmt.Fprintln(w)
			for _, l := range d.Log {
				fmt.Fprintln(w, "    "+l)
			}
		}
		for _, d := range v.Differences {
			if d.Bad {
				fmt.Fprintf(w, "%s: warning: %s\n", f.Path, d.Message)
			}
		}
	}
}
