package multistage

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
)

// devServerOf runs devServer on a one-stage Dockerfile with the given
// build context folder.
func devServerOf(t *testing.T, src, contextDir string) string {
	t.Helper()
	d, err := rewrite.Parse("Dockerfile", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	env := &rewrite.Env{}
	if contextDir != "" {
		buildContext := rewrite.OpenContext(contextDir)
		t.Cleanup(func() { buildContext.Close() })
		env.BuildContext = buildContext
	}
	ins := d.Stage(0)
	return devServer(d, stageSteps(d, ins[1:], workdirFact{dir: "/"}), env)
}

func TestDevServerCommands(t *testing.T) {
	for _, tc := range []struct {
		cmd  string
		want bool
	}{
		{`CMD ["nodemon", "index.js"]`, true},
		{`CMD ["node", "--watch", "index.js"]`, true},
		{`CMD ["node", "index.js"]`, false},
		{`CMD npx ts-node src/main.ts`, true},
		{`CMD ["npx", "next", "dev"]`, true},
		{`CMD ["npx", "next", "start"]`, false},
		{`CMD ["ng", "serve", "--host", "0.0.0.0"]`, true},
		{`CMD ["npx", "webpack-dev-server"]`, true},
		{`CMD ["npx", "webpack", "--mode", "production"]`, false},
		{`CMD ["python", "-m", "flask", "run", "--debug"]`, true},
		{`CMD FLASK_DEBUG=true flask run`, true},
		{`CMD ["flask", "run"]`, false},
		{`CMD ["python3", "manage.py", "runserver"]`, true},
		{`CMD ["gunicorn", "app:app"]`, false},
		{`CMD ["gunicorn", "--reload", "app:app"]`, true},
		{`CMD ["python", "-m", "uvicorn", "main:app", "--reload"]`, true},
		{`CMD ["uvicorn", "main:app"]`, false},
		{`ENTRYPOINT ["/bin/sh", "-c", "npm ci && exec nodemon ."]`, true},
		{`CMD ["yarn", "install"]`, false},
		{`CMD ["npx", "concurrently", "-k", "node api.js", "vite"]`, true},
		{`CMD ["npx", "concurrently", "node api.js", "node worker.js"]`, false},
		{"ENTRYPOINT [\"/entrypoint.sh\"]\nCMD [\"nodemon\", \"app.js\"]", true},
	} {
		if got := devServerOf(t, "FROM node:20\nWORKDIR /app\n"+tc.cmd+"\n", "") != ""; got != tc.want {
			t.Errorf("%s: dev server %v, want %v", tc.cmd, got, tc.want)
		}
	}
}

// A package.json that is a link out of the build context is not read: the
// script is then judged by its name only.
func TestDevServerPackageJSONLinkOutside(t *testing.T) {
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "package.json"), []byte(`{"scripts": {"serve": "nodemon ."}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	ctxDir := t.TempDir()
	if err := os.Symlink(filepath.Join(outside, "package.json"), filepath.Join(ctxDir, "package.json")); err != nil {
		t.Skip("no symbolic links:", err)
	}
	src := "FROM node:20\nWORKDIR /app\nCOPY package.json ./\nCMD [\"npm\", \"run\", \"serve\"]\n"
	if got := devServerOf(t, src, ctxDir); got != "" {
		t.Errorf("read package.json through a link out of the context: %q", got)
	}
	// The same file inside the context is read.
	if err := os.Remove(filepath.Join(ctxDir, "package.json")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ctxDir, "package.json"), []byte(`{"scripts": {"serve": "nodemon ."}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := devServerOf(t, src, ctxDir); got == "" {
		t.Errorf("package.json in the context was not read")
	}
}

func TestSameImageTag(t *testing.T) {
	const dg = "@sha256:d1af7bed1c5007e661cdbb358ec6cd4543266e64550998eb403cd0c19ac16d98"
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"node:20-alpine", "node:20-alpine", true},
		{"node:20-alpine" + dg, "node:20-alpine", true},
		{"docker.io/library/node:20-alpine", "node:20-alpine", true},
		{"node", "node:latest", true},
		{"node:20", "node:20-slim", false},
		{"ghcr.io/x/node:20", "node:20", false},
	} {
		if got := sameImageTag(tc.a, tc.b); got != tc.want {
			t.Errorf("sameImageTag(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

// The same repository and tag keeps the user's digest, also offline.
func TestCarryPinSameTag(t *testing.T) {
	const dg = "@sha256:d1af7bed1c5007e661cdbb358ec6cd4543266e64550998eb403cd0c19ac16d98"
	got, why := carryPin(context.Background(), "node:20-alpine"+dg, "node:20-alpine", &rewrite.Env{})
	if got != "node:20-alpine"+dg || why != "" {
		t.Errorf("carryPin = %q, %q; want the digest kept", got, why)
	}
	got, why = carryPin(context.Background(), "node:20"+dg, "node:20-slim", &rewrite.Env{})
	if got != "node:20-slim" || why != "offline" {
		t.Errorf("carryPin = %q, %q; want no pin and the reason", got, why)
	}
}
