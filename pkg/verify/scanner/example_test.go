package scanner_test

import (
	"context"
	"fmt"
	"os"

	"github.com/hardenfix/hardenfix/pkg/scan"
	"github.com/hardenfix/hardenfix/pkg/verify/scanner"
)

// How hardenfix verify uses a scanner: --scanner names one ("" finds one
// on PATH; none found means no scan step, with a note); both images are
// saved as docker-archive tars by the engine (docker save -o FILE IMAGE,
// podman save --format docker-archive -o FILE IMAGE, buildah push IMAGE
// docker-archive:FILE:IMAGE) and scanned; pkg/scan compares the reports.
func Example() {
	s, err := scanner.Lookup(os.Getenv("SCANNER")) // the --scanner flag
	if err != nil {
		fmt.Println(err) // a named scanner not on PATH, or an unknown name
		return
	}
	if s == nil {
		fmt.Println("no scanner on PATH: install trivy or grype to compare CVE counts")
		return
	}
	ctx := context.Background()
	before, err := s.Scan(ctx, "original.tar")
	if err != nil {
		fmt.Println(err) // e.g. Trivy without a database: "--skip-db-update cannot be specified on the first run"
		return
	}
	after, err := s.Scan(ctx, "rewritten.tar")
	if err != nil {
		fmt.Println(err)
		return
	}
	d := scan.Compare(before, after)
	fmt.Println(len(d.Fixed), "fixed,", len(d.Remaining), "remaining,", len(d.New), "new")
}
