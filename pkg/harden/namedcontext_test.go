package harden_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hardenfix/hardenfix/pkg/harden"
)

// TestTreeReadsTheContextTheComposeFileNames: docker/Dockerfile adds
// app.sh; beside it is an archive of that name, but the compose file
// builds it from the repository root, where app.sh is a script. The rules
// read the root's, so the ADD of a plain file becomes a COPY (reading
// docker/app.sh, an archive ADD unpacks, it would be kept).
func TestTreeReadsTheContextTheComposeFileNames(t *testing.T) {
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write([]byte("not a script"))
	w.Close()
	for _, tc := range []struct {
		name, build string
		wantCopy    bool
	}{
		{"compose names the root", "    build:\n      context: .\n      dockerfile: docker/Dockerfile\n", true},
		{"compose names the Dockerfile's folder", "    build: ./docker\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := writeTree(t, map[string]string{
				"docker/Dockerfile":  "FROM alpine:3.20\nADD app.sh /app.sh\n",
				"docker/app.sh":      gz.String(),
				"app.sh":             "#!/bin/sh\necho hi\n",
				"docker-compose.yml": "services:\n  app:\n" + tc.build,
			}, 0o644)
			var got harden.Result
			err := harden.Tree(context.Background(), []string{root}, harden.Options{Offline: true, Enable: []string{"add-to-copy"}}, func(r harden.Result) error {
				got = r
				return nil
			})
			if err != nil || got.Err != nil {
				t.Fatalf("Tree: %v, %v", err, got.Err)
			}
			wantContext := root
			if !tc.wantCopy {
				wantContext = filepath.Join(root, "docker")
			}
			if got.Context != wantContext {
				t.Errorf("Context = %s, want %s", got.Context, wantContext)
			}
			if copied := strings.Contains(string(got.Rewrite.New), "COPY app.sh"); copied != tc.wantCopy {
				t.Errorf("rewrite:\n%s\nwant a COPY: %v", got.Rewrite.New, tc.wantCopy)
			}
		})
	}
}
