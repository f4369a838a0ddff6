package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/hardenfix/hardenfix/pkg/scan"
)

// scanDiffCommand is `hardenfix scan-diff`: what changed between a scanner
// report taken before hardening and one taken after.
func scanDiffCommand(stdout io.Writer) *cli.Command {
	return &cli.Command{
		Name:      "scan-diff",
		Usage:     "compare a Trivy or Grype JSON report taken before hardening with one taken after",
		UsageText: "hardenfix scan-diff --before FILE --after FILE [--format text|json|markdown] [--top N]",
		Description: "Counts vulnerabilities by severity before and after, says how many were fixed, remain\n" +
			"or are new (a vulnerability is its ID plus the package name), and lists the remaining and\n" +
			"new ones with the highest CVSS base scores. The score is the highest CVSS v3 base score any\n" +
			"vendor gives, else NVD's v3 score, else the highest vendor v2 score, else NVD's v2 score.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "before", Required: true, Usage: "scanner report `FILE` of the image before hardening"},
			&cli.StringFlag{Name: "after", Required: true, Usage: "scanner report `FILE` of the image after hardening"},
			&cli.StringFlag{Name: "format", Value: "text", Usage: "output: text, json or markdown"},
			&cli.IntFlag{Name: "top", Value: 10, Usage: "list at most `N` fixed, N remaining and N new vulnerabilities (0: all)"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return cli.Exit(fmt.Sprintf("scan-diff takes no arguments, got %q; use --before and --after", strings.Join(c.Args().Slice(), " ")), exitError)
			}
			format := c.String("format")
			if format != "text" && format != "json" && format != "markdown" {
				return cli.Exit(fmt.Sprintf("--format must be text, json or markdown, not %q", format), exitError)
			}
			if c.Int("top") < 0 {
				return cli.Exit(fmt.Sprintf("--top must be 0 or more, not %d", c.Int("top")), exitError)
			}
			before, err := scan.ReadFile(c.String("before"))
			if err != nil {
				return cli.Exit(err.Error(), exitError)
			}
			after, err := scan.ReadFile(c.String("after"))
			if err != nil {
				return cli.Exit(err.Error(), exitError)
			}
			d := scan.Compare(before, after)
			switch format {
			case "json":
				err = d.WriteJSON(stdout, c.Int("top"))
			case "markdown":
				err = d.WriteMarkdown(stdout, c.Int("top"))
			default:
				err = d.WriteText(stdout, c.Int("top"))
			}
			if err != nil {
				return cli.Exit(err.Error(), exitError)
			}
			return nil
		},
	}
}
