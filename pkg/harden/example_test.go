package harden_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hardenfix/hardenfix/pkg/harden"
)

// Harden a folder: every Dockerfile under it is rewritten in memory and its
// result handed over in path order. Set Options.Write to write the files.
func Example() {
	dir, err := os.MkdirTemp("", "harden-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	dockerfile := "FROM alpine:3.20\nMAINTAINER ops@example.com\nADD app.sh /app.sh\nCMD /app.sh\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		panic(err)
	}
	// The script the image runs is in the build context, where the rules
	// read it (non-root adds no USER for a start script it cannot read).
	if err := os.WriteFile(filepath.Join(dir, "app.sh"), []byte("#!/bin/sh\necho hello\n"), 0o755); err != nil {
		panic(err)
	}

	err = harden.Tree(context.Background(), []string{dir}, harden.Options{Offline: true}, func(r harden.Result) error {
		if r.Err != nil {
			return r.Err
		}
		fmt.Printf("%s changed: %v\n", filepath.Base(r.Path), r.Rewrite.Changed())
		for _, f := range r.Rewrite.Fixes {
			fmt.Printf("  %s\n", f.Rule)
		}
		fmt.Print(string(r.Rewrite.New))
		return nil
	})
	if err != nil {
		panic(err)
	}
	// Output:
	// Dockerfile changed: true
	//   add-to-copy
	//   non-root
	//   maintainer
	//   exec-form
	// FROM alpine:3.20
	// RUN (grep -q '^app:' /etc/group || addgroup -S -g 10001 app) && (grep -q '^app:' /etc/passwd || adduser -S -D -h /home/app -s /sbin/nologin -u 10001 -G app app)
	// LABEL org.opencontainers.image.authors="ops@example.com"
	// COPY app.sh /app.sh
	// USER 10001:10001
	// CMD ["/app.sh"]
}
