package harden

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestContextDir checks which folder is taken as the build context of a
// Dockerfile when none is given: the first folder from the Dockerfile's up
// to the walk's root that holds every source COPY and ADD name.
func TestContextDir(t *testing.T) {
	root := t.TempDir()
	for _, f := range []string{
		"repo/.git/HEAD", "repo/scripts/entrypoint.sh", "repo/docker/app/Dockerfile", "repo/docker/app/nginx.conf",
		"repo/src/main.go", "repo/web/dist/index.html", "other/Dockerfile",
	} {
		p := filepath.Join(root, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	df := filepath.Join(root, "repo", "docker", "app", "Dockerfile")
	repo := filepath.Join(root, "repo")
	for _, tc := range []struct {
		name, src, stop, want string
	}{
		{"sources beside the Dockerfile", "FROM a\nCOPY nginx.conf /etc/nginx/\n", root, "repo/docker/app"},
		{"sources at the repository root", "FROM a\nCOPY scripts/entrypoint.sh /entrypoint.sh\nCOPY src/ /src/\n", root, "repo"},
		{"absolute source, glob, continuation, flags", "FROM a\nCOPY --chown=1:1 /scripts/*.sh \\\n  web/dist /srv/\nADD --chmod=755 src /src\n", root, "repo"},
		{"stage and image copies, URLs and variables do not count", "FROM a\nCOPY --from=build /out /out\nADD https://example.com/x /x\nCOPY $APP /app\nCOPY nginx.conf /etc/\n", root, "repo/docker/app"},
		{"no source anywhere: the Dockerfile's folder", "FROM a\nCOPY missing.txt /x\n", root, "repo/docker/app"},
		{"never above a .git folder", "FROM a\nCOPY other/Dockerfile /x\n", root, "repo/docker/app"},
		{"never above the walk's root", "FROM a\nCOPY scripts/entrypoint.sh /e\n", filepath.Join(repo, "docker"), "repo/docker/app"},
		{"a file named itself is not walked up from", "FROM a\nCOPY scripts/entrypoint.sh /e\n", "", "repo/docker/app"},
		{"no COPY at all", "FROM a\nRUN true\n", root, "repo/docker/app"},
		{"JSON form and heredocs are not read", "FROM a\nCOPY [\"scripts\", \"/s\"]\nCOPY <<EOF /x\nhi\nEOF\n", root, "repo/docker/app"},
		{"lower-case keyword", "from a\ncopy scripts /s\n", root, "repo"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := contextDir(df, tc.stop, []byte(tc.src))
			if want := filepath.Join(root, filepath.FromSlash(tc.want)); got != want {
				t.Errorf("contextDir = %s, want %s", got, want)
			}
		})
	}
}

func TestWalkRoot(t *testing.T) {
	if got := walkRoot([]string{"a", "a/b"}, "a/b/c/Dockerfile"); got != "a/b" {
		t.Errorf("walkRoot = %q, want the deepest root a/b", got)
	}
	if got := walkRoot([]string{"a", "a/b/Dockerfile"}, "a/b/Dockerfile"); got != "" {
		t.Errorf("walkRoot = %q, want \"\" for a file named itself", got)
	}
	if got := walkRoot([]string{"x"}, "y/Dockerfile"); got != "" {
		t.Errorf("walkRoot = %q, want \"\" outside every root", got)
	}
}

// TestContextSources reads the plain COPY and ADD sources of a file: lines
// of their own and continued ones, any case, comments inside a
// continuation skipped, stages, URLs and variables left out.
func TestContextSources(t *testing.T) {
	src := "FROM a AS b\n" +
		"COPY go.mod go.sum ./\n" +
		"  add\tconf/ /etc/app/\r\n" +
		"RUN echo COPY x y\n" +
		"COPY --chown=1 \\\n" +
		"  # a comment\n" +
		"  src/ \\\n" +
		"  /src/\n" +
		"COPY --from=b /out /out\n" +
		"ADD https://example.com/f /f\n" +
		"COPY $X /x\n" +
		"COPYING a b\n" +
		"ADD last /last"
	want := []string{"go.mod", "go.sum", "conf/", "src/", "last"}
	if got := contextSources([]byte(src)); !slices.Equal(got, want) {
		t.Fatalf("contextSources = %q, want %q", got, want)
	}
}
