// Package scanner runs a vulnerability scanner (Trivy or Grype) over an
// image archive and reads its report into pkg/scan's model.
//
// A scanner never reaches the network from here: Trivy runs with
// --offline-scan and without database, Java database, version or telemetry
// requests; Grype runs with its database auto-update, age check and update
// check turned off. Both use the database already in their cache folder, so
// the user updates it with the scanner itself (`trivy image
// --download-db-only`, `grype db update`) when they choose to.
//
// The command a scanner would run is a value (Command) so that tests can
// assert on it; a fake binary on PATH can stand in for the real one.
package scanner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/hardenfix/hardenfix/pkg/scan"
)

// Scanner scans one image archive.
type Scanner interface {
	// Name is the scanner's name: "trivy" or "grype".
	Name() string
	// Scan scans archive, a docker-archive tar of the image (what
	// `docker save`, `podman save` or `buildah push … docker-archive:` write).
	Scan(ctx context.Context, archive string) (*scan.Report, error)
}

// Names are the scanners Lookup knows, in the order it tries them.
var Names = []string{string(scan.Trivy), string(scan.Grype)}

// Lookup finds the scanner called name on PATH. An empty name means the
// first of Names that is on PATH; then (nil, nil) says none is. A named
// scanner that is not on PATH, or a name Lookup does not know, is an error.
func Lookup(name string) (Scanner, error) {
	if name == "" {
		for _, n := range Names {
			if bin, err := exec.LookPath(n); err == nil {
				return newScanner(n, bin), nil
			}
		}
		return nil, nil
	}
	if !known(name) {
		return nil, fmt.Errorf("unknown scanner %q: want one of %s", name, strings.Join(Names, ", "))
	}
	bin, err := exec.LookPath(name)
	if err != nil {
		return nil, fmt.Errorf("scanner %s: %w", name, err)
	}
	return newScanner(name, bin), nil
}

func known(name string) bool {
	for _, n := range Names {
		if n == name {
			return true
		}
	}
	return false
}

func newScanner(name, bin string) Scanner {
	if name == string(scan.Grype) {
		return &Grype{Bin: bin}
	}
	return &Trivy{Bin: bin}
}

// Command is a command line a scanner runs: the program, its arguments and
// the environment variables it adds to hardenfix's own.
type Command struct {
	Path string
	Args []string // without the program name
	Env  []string // KEY=value, added to os.Environ()
}

func (c Command) String() string {
	parts := append(append([]string{}, c.Env...), c.Path)
	return strings.Join(append(parts, c.Args...), " ")
}

// Trivy is Aqua Security's Trivy, version 0.74 or later (the flags below are
// checked against v0.74.0's pkg/flag).
type Trivy struct {
	// Bin is the trivy program; "" means "trivy" on PATH.
	Bin string
	// CacheDir is Trivy's cache folder, holding the database in db/
	// (trivy.db and metadata.json); "" means Trivy's default
	// (~/.cache/trivy).
	CacheDir string
}

func (t *Trivy) Name() string { return string(scan.Trivy) }

// Command is the command line that scans archive, writing the JSON report
// to standard output.
func (t *Trivy) Command(archive string) Command {
	args := []string{
		"image", "--input", archive,
		"--format", "json",
		"--scanners", "vuln",
		"--offline-scan",
		"--skip-db-update", "--skip-java-db-update",
		"--skip-version-check", "--disable-telemetry",
		"--no-progress", "--quiet",
	}
	if t.CacheDir != "" {
		args = append(args, "--cache-dir", t.CacheDir)
	}
	return Command{Path: orDefault(t.Bin, "trivy"), Args: args}
}

func (t *Trivy) Scan(ctx context.Context, archive string) (*scan.Report, error) {
	return run(ctx, t.Name(), t.Command(archive), archive)
}

// Grype is Anchore's Grype.
type Grype struct {
	// Bin is the grype program; "" means "grype" on PATH.
	Bin string
	// CacheDir is Grype's database cache folder (GRYPE_DB_CACHE_DIR);
	// "" means Grype's default.
	CacheDir string
}

func (g *Grype) Name() string { return string(scan.Grype) }

// Command is the command line that scans archive, writing the JSON report
// to standard output.
func (g *Grype) Command(archive string) Command {
	env := []string{
		"GRYPE_DB_AUTO_UPDATE=false",
		"GRYPE_DB_VALIDATE_AGE=false",
		"GRYPE_CHECK_FOR_APP_UPDATE=false",
	}
	if g.CacheDir != "" {
		env = append(env, "GRYPE_DB_CACHE_DIR="+g.CacheDir)
	}
	return Command{
		Path: orDefault(g.Bin, "grype"),
		Args: []string{"docker-archive:" + archive, "-o", "json", "-q"},
		Env:  env,
	}
}

func (g *Grype) Scan(ctx context.Context, archive string) (*scan.Report, error) {
	return run(ctx, g.Name(), g.Command(archive), archive)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// run runs c and reads the report it writes to standard output. A failing
// scanner's error carries the last lines it wrote to standard error.
func run(ctx context.Context, name string, c Command, archive string) (*scan.Report, error) {
	if _, err := os.Stat(archive); err != nil {
		return nil, fmt.Errorf("%s: image archive: %w", name, err)
	}
	cmd := exec.CommandContext(ctx, c.Path, c.Args...)
	cmd.Env = append(os.Environ(), c.Env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s %s: %w", name, archive, ctx.Err())
		}
		return nil, fmt.Errorf("%s %s: %w%s", name, archive, err, tail(stderr.String(), 5))
	}
	rep, err := scan.Read(name+" report of "+archive, &stdout)
	if err != nil {
		return nil, err
	}
	if string(rep.Tool) != name {
		return nil, errors.New(name + " wrote a " + rep.Tool.Title() + " report for " + archive)
	}
	return rep, nil
}

// tail returns the last n non-empty lines of s, each on its own indented
// line, or "" when s has none.
func tail(s string, n int) string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	if len(lines) == 0 {
		return ""
	}
	return "\n\t" + strings.Join(lines, "\n\t")
}
