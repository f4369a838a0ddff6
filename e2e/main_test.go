//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	workDir      string         // HARDENFIX_E2E_WORK: storage, config, logs
	logDir       string         // build logs, one per image
	repoRoot     string         // the repository (fixtures/e2e, cmd/hardenfix)
	hardenfixBin string         // built once per run, or HARDENFIX_E2E_BIN
	reg          *localRegistry // the local registry on 127.0.0.1
)

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

func testMain(m *testing.M) int {
	workDir = os.Getenv("HARDENFIX_E2E_WORK")
	if workDir == "" || os.Getenv("CONTAINERS_STORAGE_CONF") == "" || os.Getenv("CONTAINERS_CONF") == "" {
		fmt.Fprintln(os.Stderr, "e2e: run these tests with e2e/run.sh: it installs the tools, sets up the container "+
			"storage and config under a work folder, and builds the images the cases need")
		return 2
	}
	var err error
	if repoRoot, err = filepath.Abs(".."); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 2
	}
	logDir = filepath.Join(workDir, "logs")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 2
	}

	hardenfixBin = os.Getenv("HARDENFIX_E2E_BIN")
	if hardenfixBin == "" {
		hardenfixBin = filepath.Join(workDir, "bin", "hardenfix")
		start := time.Now()
		if _, err := exe(context.Background(), 5*time.Minute, "", "go", "build", "-C", repoRoot, "-o", hardenfixBin, "./cmd/hardenfix"); err != nil {
			fmt.Fprintln(os.Stderr, "e2e: building hardenfix:", err)
			return 2
		}
		fmt.Printf("e2e: built hardenfix in %.1fs\n", time.Since(start).Seconds())
	} else if !filepath.IsAbs(hardenfixBin) {
		hardenfixBin = filepath.Join(repoRoot, hardenfixBin)
	}

	if reg, err = startRegistry(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: starting the local registry:", err)
		return 2
	}
	defer reg.close()
	conf, err := reg.writeConf(filepath.Join(workDir, "etc"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 2
	}
	os.Setenv("REGISTRIES_CONFIG_PATH", conf)
	os.Setenv("CONTAINERS_REGISTRIES_CONF", conf)
	fmt.Printf("e2e: local registry on %s (registries.conf: %s)\n", reg.host, conf)

	code := m.Run()

	fmt.Println("\ne2e summary:")
	for _, l := range lines {
		fmt.Println("  " + l)
	}
	return code
}

var (
	linesMu sync.Mutex
	lines   []string // one per case, for the summary
)

// printLine prints one result line now and again in the summary.
func printLine(l string) {
	linesMu.Lock()
	defer linesMu.Unlock()
	lines = append(lines, l)
	fmt.Println("e2e: " + l)
}

// copyTree copies the folder src to dst (created), keeping file modes and
// symbolic links.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.MkdirAll(target, info.Mode().Perm()|0o700)
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		case d.Type().IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if err := os.WriteFile(target, data, info.Mode().Perm()); err != nil {
				return err
			}
			return os.Chmod(target, info.Mode().Perm()) // WriteFile's mode is masked by umask
		}
		return fmt.Errorf("%s: unsupported file type %s", p, d.Type())
	})
}

// expand replaces ${NAME} in each argument by vars[NAME].
func expand(args []string, vars map[string]string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		for k, v := range vars {
			a = strings.ReplaceAll(a, "${"+k+"}", v)
		}
		out[i] = a
	}
	return out
}
