package addtocopy

import (
	"archive/tar"
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/hardenfix/hardenfix/pkg/rules/internal/buildctx"
)

//go:embed doc/add-to-copy.md
var addToCopyDoc string

// Rule turns ADD into COPY wherever the two mean the same.
var Rule = &rewrite.Rule{
	Name:    "add-to-copy",
	Summary: "Use COPY instead of ADD for local files that are not archives.",
	Doc:     rewrite.DocFile(addToCopyDoc),
	Risk:    rewrite.Safe,
	URL:     "https://docs.docker.com/build/building/best-practices/#add-or-copy",
	Check:   checkAddToCopy,
	Reads:   []string{"ADD", "ONBUILD"},
}

func checkAddToCopy(_ context.Context, d *rewrite.Document, env *rewrite.Env) ([]rewrite.Fix, []rewrite.Note, error) {
	var fixes []rewrite.Fix
	var notes []rewrite.Note
	for _, in := range d.Instructions {
		kw, cmd, onbuild := addCommand(d, in)
		if cmd == nil {
			continue
		}
		var vars rewrite.Vars
		buildContext := env.BuildContext
		if onbuild {
			// ONBUILD runs in a downstream build: its variables and its
			// context are not this file's.
			vars, buildContext = rewrite.Vars{}, nil
		} else {
			vars = d.VarsAt(in)
		}
		keep, remote := addKeepReasons(d, cmd, vars, buildContext)
		if cmd.Checksum == "" && hasChecksumFlag(in) {
			// --checksum= with no value: BuildKit's ADD takes it, COPY
			// has no such flag.
			keep = append([]string{"--checksum is an ADD-only flag"}, keep...)
		}
		if len(keep) > 0 {
			notes = append(notes, rewrite.Note{Line: in.Line, Message: "ADD kept: " + strings.Join(keep, "; ")})
			if remote && cmd.Checksum == "" {
				notes = append(notes, rewrite.Note{Line: in.Line, Message: "remote ADD without --checksum: add --checksum=sha256:<digest> so the download is verified"})
			}
			continue
		}
		fixes = append(fixes, rewrite.Fix{
			Line:    in.Line,
			Message: "ADD of local files does what COPY does; COPY makes it plain that nothing is downloaded or unpacked",
			Edits:   []rewrite.Edit{rewrite.Replace(kw, rewrite.MatchCase(kw.Text(d.Src), "COPY"))},
		})
	}
	return fixes, notes, nil
}

// addCommand returns the ADD keyword's span and the typed command for ADD
// and ONBUILD ADD instructions.
func addCommand(d *rewrite.Document, in *rewrite.Instruction) (rewrite.Span, *instructions.AddCommand, bool) {
	switch in.Keyword {
	case "ADD":
		cmd, _ := in.Command.(*instructions.AddCommand)
		return in.KeywordSpan, cmd, false
	case "ONBUILD":
		if in.Node.Next == nil || len(in.Node.Next.Children) == 0 {
			return rewrite.Span{}, nil, false
		}
		inner := in.Node.Next.Children[0]
		if !strings.EqualFold(inner.Value, "add") {
			return rewrite.Span{}, nil, false
		}
		words := d.Words(in.ArgsSpan)
		if len(words) == 0 || !strings.EqualFold(words[0].Raw, "add") {
			return rewrite.Span{}, nil, false
		}
		parsed, err := instructions.ParseInstruction(inner)
		if err != nil {
			return rewrite.Span{}, nil, false
		}
		cmd, _ := parsed.(*instructions.AddCommand)
		return words[0].Span, cmd, true
	}
	return rewrite.Span{}, nil, false
}

// hasChecksumFlag reports whether the ADD of in (or of its ONBUILD) is
// written with a --checksum flag, whatever its value.
func hasChecksumFlag(in *rewrite.Instruction) bool {
	n := in.Node
	if in.Keyword == "ONBUILD" && n.Next != nil && len(n.Next.Children) > 0 {
		n = n.Next.Children[0]
	}
	for _, f := range n.Flags {
		if name, _, _ := strings.Cut(f, "="); name == "--checksum" {
			return true
		}
	}
	return false
}

// addKeepReasons lists why an ADD must stay ADD; remote reports whether a
// source is downloaded.
func addKeepReasons(d *rewrite.Document, cmd *instructions.AddCommand, vars rewrite.Vars, buildContext fs.FS) (reasons []string, remote bool) {
	if cmd.Checksum != "" {
		reasons = append(reasons, "--checksum is an ADD-only flag")
	}
	if cmd.KeepGitDir != nil {
		reasons = append(reasons, "--keep-git-dir is an ADD-only flag")
	}
	if cmd.Unpack != nil {
		reasons = append(reasons, "--unpack is an ADD-only flag")
	}
	for _, raw := range cmd.SourcePaths {
		src, unset, err := d.Expand(raw, vars)
		if err != nil {
			// A stray $ or backslash (moby's parser testfiles/escapes:
			// ADD \conf\\" /.znc): what the source names cannot be told.
			reasons = append(reasons, fmt.Sprintf("source %q cannot be read as a path (%v)", raw, err))
			continue
		}
		if len(unset) > 0 {
			reasons = append(reasons, fmt.Sprintf("source %q uses $%s, whose value is only known at build time (it could be a URL or an archive)", raw, strings.Join(unset, ", $")))
			continue
		}
		switch kind := sourceKind(src); kind {
		case "":
		case "URL", "git repository":
			remote = remote || kind == "URL"
			reasons = append(reasons, fmt.Sprintf("source %q is a %s, which COPY cannot fetch", src, kind))
			continue
		default:
			reasons = append(reasons, fmt.Sprintf("source %q is a %s, which ADD unpacks", src, kind))
			continue
		}
		if buildContext != nil {
			if archive := archiveInContext(buildContext, src); archive != "" {
				reasons = append(reasons, fmt.Sprintf("source %q is an archive by content (%s), which ADD unpacks", src, archive))
			}
		}
	}
	return reasons, remote
}

var archiveSuffixes = []string{
	".tar", ".tar.gz", ".tgz", ".taz", ".tar.bz2", ".tbz2", ".tbz", ".tb2",
	".tar.xz", ".txz", ".tar.zst", ".tzst", ".gz", ".bz2", ".xz", ".zst", ".lz4",
}

// sourceKind classifies an ADD source by its text: "URL", "git repository",
// a "file named like an archive", or "" for a plain local path.
func sourceKind(src string) string {
	lower := strings.ToLower(src)
	switch {
	case strings.HasPrefix(lower, "http://"), strings.HasPrefix(lower, "https://"):
		if isGitURL(lower) {
			return "git repository"
		}
		return "URL"
	case strings.HasPrefix(lower, "git@"), strings.HasPrefix(lower, "git://"), strings.HasPrefix(lower, "ssh://"):
		return "git repository"
	case strings.Contains(lower, "://"):
		return "URL"
	case isGitURL(lower):
		return "git repository"
	}
	for _, s := range archiveSuffixes {
		if strings.HasSuffix(lower, s) {
			return "file named like an archive"
		}
	}
	return ""
}

func isGitURL(lower string) bool {
	if i := strings.IndexByte(lower, '#'); i >= 0 {
		lower = lower[:i]
	}
	return strings.HasSuffix(strings.TrimSuffix(lower, "/"), ".git")
}

// archiveInContext looks at the context files a source names (globs
// expanded) and returns the archive format of the first one whose content
// ADD would unpack, or "".
func archiveInContext(buildContext fs.FS, src string) string {
	rel := buildctx.Name(src) // "/x/../.." cannot leave the context
	if rel == "." {
		return ""
	}
	matches := []string{rel}
	if strings.ContainsAny(rel, "*?[") {
		m, err := fs.Glob(buildContext, rel)
		if err != nil {
			return ""
		}
		matches = m
	}
	for _, m := range matches {
		if kind := sniffArchive(buildContext, m); kind != "" {
			return kind
		}
	}
	return ""
}

// sniffArchive reads the first bytes of a regular file of the context
// (never one a symbolic link leads to outside it) and names the archive or
// compression format ADD would unpack: the same test BuildKit makes
// (decompress, then look for a tar header), except that any compressed
// file counts, since its content may be a tar.
func sniffArchive(buildContext fs.FS, rel string) string {
	f := buildctx.Open(buildContext, rel)
	if f == nil {
		return ""
	}
	defer f.Close()
	head := make([]byte, 1024)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return "gzip"
	case bytes.HasPrefix(head, []byte("BZh")):
		return "bzip2"
	case bytes.HasPrefix(head, []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}):
		return "xz"
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return "zstd"
	}
	if n >= 512 {
		if _, err := tar.NewReader(bytes.NewReader(head)).Next(); err == nil {
			return "tar"
		}
	}
	return ""
}
