package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestDemoGolden pins the command's whole output on examples/demo: the
// diff, the JSON report, stderr and the exit code, as the command printed
// them before its pipeline moved into package harden. pkg/harden's tests
// compare the library's diffs with the same golden diff, so the command
// and the library cannot drift apart.
func TestDemoGolden(t *testing.T) {
	golden := func(name string) string {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	wantDiff, wantJSON, wantErr := golden("demo-offline.diff"), golden("demo-offline.json"), golden("demo-offline.stderr")
	t.Chdir("../..")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--progress", "never", "examples/demo"}, wantDiff},
		{[]string{"--progress", "never", "--format", "json", "examples/demo"}, wantJSON},
	} {
		code, stdout, stderr := hardenfix(t, c.args...)
		if code != exitOK {
			t.Errorf("%v: exit %d, want 0", c.args, code)
		}
		if stdout != c.want {
			t.Errorf("%v: stdout differs from the golden:\n%s", c.args, stdout)
		}
		if stderr != wantErr {
			t.Errorf("%v: stderr differs from the golden:\n%s", c.args, stderr)
		}
	}
}
