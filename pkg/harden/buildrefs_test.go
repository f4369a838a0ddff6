package harden

import (
	"os"
	"path/filepath"
	"testing"
)

// TestNamedContext checks the context read from the files that say how a
// repository builds a Dockerfile: compose (string and object forms), bake
// (HCL and JSON), Makefile, shell script and workflow lines, a conflict
// between two of them (no choice), a context outside the walk's root or
// above .git (ignored) and forms this quick read refuses (variables, cd).
func TestNamedContext(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		df    string // the Dockerfile, relative to the tree
		root  string // the walk's root, relative to the tree
		want  string // the context, relative to the tree; "" for none
	}{
		{"compose build: string", map[string]string{
			"docker-compose.yml": "services:\n  web:\n    build: ./web\n",
		}, "web/Dockerfile", ".", "web"},
		{"compose build: string, the Dockerfile elsewhere is not it", map[string]string{
			"docker-compose.yml": "services:\n  web:\n    build: ./web\n",
		}, "docker/Dockerfile", ".", ""},
		{"compose context and dockerfile, relative to the compose file", map[string]string{
			"docker/compose.yaml": "services:\n  app:\n    build:\n      context: ..\n      dockerfile: docker/app/Dockerfile\n",
		}, "docker/app/Dockerfile", ".", "."},
		{"compose dockerfile only: the compose file's folder", map[string]string{
			"docker-compose.prod.yml": "services:\n  app:\n    build:\n      dockerfile: packaging/Dockerfile.prod\n",
		}, "packaging/Dockerfile.prod", ".", "."},
		{"compose with a variable", map[string]string{
			"docker-compose.yml": "services:\n  app:\n    build:\n      context: ${CTX}\n      dockerfile: packaging/Dockerfile\n",
		}, "packaging/Dockerfile", ".", ""},
		{"Makefile -f and a context", map[string]string{
			"Makefile": "debian:\n\t@ docker buildx build --load \\\n\t\t--platform linux/$(DOCKER_PLATFORM) \\\n\t\t-t $(IMAGE):$(VERSION) \\\n\t\t-f packaging/debian/Dockerfile \\\n\t\t.\n",
		}, "packaging/debian/Dockerfile", ".", "."},
		{"Makefile --file=, cd on the line is unknown", map[string]string{
			"Makefile": "a:\n\tdocker build --file=build/Dockerfile build\nb:\n\tcd x && docker build -f ../build/Dockerfile ..\n",
		}, "build/Dockerfile", ".", "build"},
		{"Makefile with the context a variable", map[string]string{
			"Makefile": "a:\n\tdocker build -f build/Dockerfile $(CTX)\n",
		}, "build/Dockerfile", ".", ""},
		{"shell script, podman", map[string]string{
			"build.sh": "#!/bin/sh\nset -e\npodman build -t app -f ci/Dockerfile . && echo done\n",
		}, "ci/Dockerfile", ".", "."},
		{"shell script after cd", map[string]string{
			"build.sh": "#!/bin/sh\ncd \"$(dirname \"$0\")\"\ndocker build -f ci/Dockerfile .\n",
		}, "ci/Dockerfile", ".", ""},
		{"workflow run line, in the repository's folder", map[string]string{
			".github/workflows/ci.yml": "jobs:\n  b:\n    steps:\n      - run: docker build -t x:${{ github.sha }} -f docker/Dockerfile .\n",
		}, "docker/Dockerfile", ".", "."},
		{"workflow build-push-action", map[string]string{
			".github/workflows/release.yml": "jobs:\n  b:\n    steps:\n      - uses: actions/checkout@v4\n      - uses: docker/build-push-action@v6\n        with:\n          context: .\n          file: ./docker/alpine.Dockerfile\n          push: true\n",
		}, "docker/alpine.Dockerfile", ".", "."},
		{"workflow build-push-action, file by default in the context", map[string]string{
			".github/workflows/release.yml": "jobs:\n  b:\n    steps:\n      - uses: docker/build-push-action@v6\n        with:\n          context: web\n",
		}, "web/Dockerfile", ".", "web"},
		{"workflow build-push-action with an expression", map[string]string{
			".github/workflows/release.yml": "jobs:\n  b:\n    steps:\n      - uses: docker/build-push-action@v6\n        with:\n          context: .\n          file: docker/${{ matrix.flavor }}.Dockerfile\n",
		}, "docker/alpine.Dockerfile", ".", ""},
		{"devcontainer.json with comments and a trailing comma", map[string]string{
			".devcontainer/devcontainer.json": "// see https://aka.ms/devcontainer.json\n{\n  \"name\": \"a // b\",\n  \"build\": {\n    \"dockerfile\": \"Dockerfile\", /* the image */\n    \"context\": \"..\",\n  },\n}\n",
		}, ".devcontainer/Dockerfile", ".", "."},
		{"devcontainer.json running a compose file", map[string]string{
			".devcontainer/devcontainer.json": `{"dockerComposeFile": "compose.yml", "build": {"dockerfile": "Dockerfile", "context": ".."}}`,
		}, ".devcontainer/Dockerfile", ".", ""},
		{"an unknown flag: no reading", map[string]string{
			"Makefile": "a:\n\tdocker build --frobnicate x -f docker/Dockerfile .\n",
		}, "docker/Dockerfile", ".", ""},
		{"bake HCL", map[string]string{
			"docker-bake.hcl": "variable \"TAG\" {\n  default = \"x\"\n}\ntarget \"app\" {\n  context = \".\"\n  dockerfile = \"docker/app/Dockerfile\"\n  args = {\n    A = \"1\"\n  }\n  tags = [\"app:${TAG}\"]\n}\n",
		}, "docker/app/Dockerfile", ".", "."},
		{"bake HCL with the context a variable", map[string]string{
			"docker-bake.hcl": "target \"app\" {\n  context = CTX\n  dockerfile = \"docker/app/Dockerfile\"\n}\n",
		}, "docker/app/Dockerfile", ".", ""},
		{"bake JSON", map[string]string{
			"docker-bake.json": `{"target": {"app": {"context": "src", "dockerfile": "../docker/Dockerfile"}}}`,
			"src/main.go":      "package main\n",
		}, "docker/Dockerfile", ".", "src"},
		{"two files name different contexts: none", map[string]string{
			"docker-compose.yml": "services:\n  web:\n    build: ./web\n",
			"Makefile":           "web:\n\tdocker build -f web/Dockerfile .\n",
		}, "web/Dockerfile", ".", ""},
		{"two files name the same context", map[string]string{
			"docker-compose.yml": "services:\n  web:\n    build:\n      context: .\n      dockerfile: web/Dockerfile\n",
			"Makefile":           "web:\n\tdocker build -f web/Dockerfile .\n",
		}, "web/Dockerfile", ".", "."},
		{"a context outside the walk's root", map[string]string{
			"repo/docker-compose.yml": "services:\n  web:\n    build:\n      context: ..\n      dockerfile: repo/web/Dockerfile\n",
		}, "repo/web/Dockerfile", "repo", ""},
		{"never above .git", map[string]string{
			"Makefile":       "web:\n\tdocker build -f repo/web/Dockerfile repo\n",
			"repo/.git/HEAD": "x",
		}, "repo/web/Dockerfile", ".", ""},
		{"a context that does not exist", map[string]string{
			"docker-compose.yml": "services:\n  web:\n    build:\n      context: ./gone\n      dockerfile: ../web/Dockerfile\n",
		}, "web/Dockerfile", ".", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tree := t.TempDir()
			tc.files[tc.df] = "FROM a\nADD . /src\n"
			for rel, data := range tc.files {
				p := filepath.Join(tree, filepath.FromSlash(rel))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want := ""
			if tc.want != "" {
				want = filepath.Join(tree, filepath.FromSlash(tc.want))
			}
			df := filepath.Join(tree, filepath.FromSlash(tc.df))
			got := newBuildRefs().namedContext(df, filepath.Join(tree, tc.root))
			if got != want {
				t.Errorf("namedContext = %q, want %q", got, want)
			}
		})
	}
}

// TestNamedContextThroughALink: a context folder that is a link out of
// the walk's root is not used.
func TestNamedContextThroughALink(t *testing.T) {
	tree, outside := t.TempDir(), t.TempDir()
	repo := filepath.Join(tree, "repo")
	if err := os.MkdirAll(filepath.Join(repo, "web"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(repo, "ctx")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outside, "Dockerfile"), []byte("FROM a\nADD . /src\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, "docker-compose.yml"), []byte("services:\n  a:\n    build: ./ctx\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := newBuildRefs().namedContext(filepath.Join(repo, "ctx", "Dockerfile"), repo); got != "" {
		t.Errorf("namedContext = %q, want \"\" for a link out of the root", got)
	}
}

// TestNamedContextRelativePaths checks the paths in the form the walk
// gives them, relative to the working directory, and that a file named on
// the command line (no walk root) is not read for.
func TestNamedContextRelativePaths(t *testing.T) {
	tree := t.TempDir()
	for rel, data := range map[string]string{
		"Makefile":                    "a:\n\tdocker build -f packaging/debian/Dockerfile .\n",
		"packaging/debian/Dockerfile": "FROM a\nADD . /src\n",
	} {
		p := filepath.Join(tree, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(tree)
	b := newBuildRefs()
	if got := b.namedContext(filepath.FromSlash("packaging/debian/Dockerfile"), "."); got != "." {
		t.Errorf("namedContext = %q, want \".\"", got)
	}
	if got := b.namedContext(filepath.FromSlash("packaging/debian/Dockerfile"), ""); got != "" {
		t.Errorf("namedContext for a file named itself = %q, want \"\"", got)
	}
}
