package nonroot

import (
	"fmt"
	"io/fs"
	"regexp"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/hardenfix/hardenfix/pkg/rules/internal/buildctx"
)

// This file moves an application that lives in root's home (WORKDIR /root
// or below, HOME=/root) to a neutral folder, so the container can run as a
// non-root user: /root is mode 0700, so another user cannot even start a
// process there. The move is made only when every mention of the folder
// is in the final stage, in a place the rule can rewrite (WORKDIR, COPY and
// ADD destinations, CMD, ENTRYPOINT and ENV values), and no file the build
// copies from the context mentions /root; otherwise a note says what keeps
// the application there.

// neutralAppDir is where the application goes.
const neutralAppDir = "/app"

// rootRefRE finds /root as a whole path element.
var rootRefRE = regexp.MustCompile(`(^|[\s"'=:\[,])(/root)(/[^\s"',\]:]*)?($|[\s"',\]:])`)

// movableRoot lists the instructions whose /root mentions the move rewrites.
var movableRoot = map[string]bool{"WORKDIR": true, "COPY": true, "ADD": true, "CMD": true, "ENTRYPOINT": true, "ENV": true}

// rootWorkdir handles a final stage whose WORKDIR is in root's home: it
// plans the move (p.moved) and returns nil, or returns the note that says
// why it cannot (decide adds it when nothing else keeps the stage on root).
// It returns nil, with nothing planned, when the WORKDIR is elsewhere.
func (p *nonRootPlan) rootWorkdir() *rewrite.Note {
	a := p.a
	in, wd := a.Workdir, a.WorkdirPath
	if in == nil || !(wd == "/root" || strings.HasPrefix(wd, "/root/")) {
		return nil
	}
	why, edits, moved := p.planRootMove(wd)
	// What the analysis said about /root on the lines the move looks at is
	// this note's business now (moved, or why not).
	var blockers []blocker
	for _, b := range a.Blockers {
		if !(p.mentionsRootAt(b.Line) && strings.Contains(b.Message, "/root")) {
			blockers = append(blockers, b)
		}
	}
	a.Blockers = blockers
	if why != "" {
		return &rewrite.Note{Line: in.Line, Message: fmt.Sprintf("WORKDIR %s is inside root's home, which other users may not enter: a non-root container could not even start there, so no USER was added; %s; move the application out of /root (to %s, say), then run hardenfix again", wd, why, neutralAppDir)}
	}
	newWD := neutralAppDir + strings.TrimPrefix(wd, "/root")
	p.moved = []rewrite.Fix{{Line: in.Line, Message: fmt.Sprintf("move the application from %s, inside root's home (mode 0700, closed to other users), to %s, so the non-root user can start there; every mention of it is in this stage and none in the files the build copies", wd, newWD), Risk: rewrite.Review, Edits: edits}}
	var home []*rewrite.Instruction
	for _, h := range a.RootHome {
		if !moved[h.Line] {
			home = append(home, h)
		}
	}
	a.RootHome = home
	a.WorkdirPath = newWD
	for i, o := range a.Owners {
		var paths []string
		for _, op := range o.Paths {
			if op == wd || strings.HasPrefix(op, wd+"/") {
				op = neutralAppDir + strings.TrimPrefix(op, "/root")
			}
			paths = append(paths, op)
		}
		a.Owners[i].Paths = paths
	}
	return nil
}

// mentionsRootAt reports whether the final-stage instruction on line is one
// the move rewrites and mentions /root.
func (p *nonRootPlan) mentionsRootAt(line int) bool {
	for _, in := range p.instrs {
		if in.Line == line {
			return movableRoot[in.Keyword] && rootRefRE.MatchString(in.Span.Text(p.d.Src))
		}
	}
	return false
}

// appDirRE finds the neutral folder as a whole path.
var appDirRE = regexp.MustCompile(`(^|[\s"'=:\[,])/app($|[/\s"',\]:])`)

// planRootMove returns why the folder wd cannot be moved, or the edits
// that move it and the lines they touch.
func (p *nonRootPlan) planRootMove(wd string) (why string, edits []rewrite.Edit, lines map[int]bool) {
	d := p.d
	lines = map[int]bool{}
	if p.a.ScriptChown != "" {
		// It does root's work when it starts (pid files, chown): the
		// container is made to start as root, /root or not.
		return fmt.Sprintf("%s changes file owners or modes when the container starts, work for root", p.a.ScriptChown), nil, nil
	}
	for _, in := range d.Instructions { // comments do not count
		if appDirRE.MatchString(in.Span.Text(d.Src)) {
			return fmt.Sprintf("line %d already uses %s, so the application cannot simply move there", in.Line, neutralAppDir), nil, nil
		}
	}
	for _, s := range p.a.Chain {
		for _, in := range d.Stage(s) {
			text := in.Span.Text(d.Src)
			ms := rootRefRE.FindAllStringSubmatchIndex(text, -1)
			if len(ms) == 0 {
				if in.Stage == p.final && (in.Keyword == "CMD" || in.Keyword == "ENTRYPOINT") && (strings.Contains(text, "~/") || strings.Contains(text, "$HOME") || strings.Contains(text, "${HOME}")) {
					return fmt.Sprintf("line %d (%s) uses the home folder, which is not /root for another user", in.Line, in.Keyword), nil, nil
				}
				continue
			}
			if s != p.final {
				return fmt.Sprintf("stage %s (line %d) mentions /root too", p.stageLabel(s), in.Line), nil, nil
			}
			if !movableRoot[in.Keyword] {
				return fmt.Sprintf("line %d (%s) mentions /root, which the move cannot rewrite", in.Line, in.Keyword), nil, nil
			}
			if c, ok := in.Command.(*instructions.CopyCommand); ok && c.From != "" {
				for _, src := range c.SourcePaths {
					if rootPath(src) {
						return fmt.Sprintf("line %d copies %s from another stage, whose files may name their own path", in.Line, src), nil, nil
					}
				}
			}
			for _, m := range ms {
				ref := "/root"
				if m[6] >= 0 {
					ref += text[m[6]:m[7]]
				}
				if !(ref == wd || strings.HasPrefix(ref, wd+"/") || (ref == "/root" && isHomeEnv(in))) {
					return fmt.Sprintf("line %d mentions %s, outside the application's folder", in.Line, ref), nil, nil
				}
				if isHomeEnv(in) {
					// HOME would become the application's folder, which
					// WORKDIR makes root's: the new user could not write
					// its caches and dot-files there.
					return fmt.Sprintf("line %d sets HOME to /root; moved, HOME would be %s, which the new user cannot write: drop that ENV (the user's own home from /etc/passwd is used) or point it at a folder the user owns", in.Line, neutralAppDir), nil, nil
				}
				start := in.Span.Start + m[4]
				edits = append(edits, rewrite.Replace(rewrite.Span{Start: start, End: start + len("/root")}, neutralAppDir))
			}
			lines[in.Line] = true
		}
	}
	if why := p.contextMentionsRoot(); why != "" {
		return why, nil, nil
	}
	return "", edits, lines
}

// isHomeEnv reports an ENV that sets HOME.
func isHomeEnv(in *rewrite.Instruction) bool {
	c, ok := in.Command.(*instructions.EnvCommand)
	if !ok {
		return false
	}
	for _, kv := range c.Env {
		if kv.Key == "HOME" {
			return true
		}
	}
	return false
}

// contextMentionsRoot says why the files the chain copies from the build
// context may rely on /root: one mentions /root or root's home (~/), or
// they cannot all be read (no context, a pattern, a missing source, more
// than 2,000 files or 32 MiB); "" when none does.
func (p *nonRootPlan) contextMentionsRoot() string {
	if !p.copiesFromContext() {
		return ""
	}
	if p.buildContext == nil {
		return "the build context is not known, so whether the files the build copies mention /root cannot be told"
	}
	if !buildctx.Readable(p.buildContext) {
		return "the build context cannot be read, so whether the files the build copies mention /root cannot be told"
	}
	r := &rootMentions{fsys: p.buildContext}
	for _, s := range p.a.Chain {
		for _, in := range p.d.Stage(s) {
			for _, src := range contextSources(in) {
				if why := r.source(src); why != "" {
					return why
				}
			}
		}
	}
	return ""
}

// copiesFromContext reports whether the chain has a COPY or ADD that may
// take files from the build context.
func (p *nonRootPlan) copiesFromContext() bool {
	copies := false
	for _, s := range p.a.Chain {
		for _, in := range p.d.Stage(s) {
			switch c := in.Command.(type) {
			case *instructions.CopyCommand:
				copies = copies || c.From == ""
			case *instructions.AddCommand:
				copies = true
			}
		}
	}
	return copies
}

// rootMentions reads build-context files for mentions of /root or ~/, up
// to 2,000 files or 32 MiB in all.
type rootMentions struct {
	fsys    fs.FS
	files   int
	size    int64
	found   string // the first file that mentions root's home
	tooMuch bool
}

// source reads the files of one COPY or ADD source and says why they may
// rely on /root, or cannot be read through; "" when they do not.
func (r *rootMentions) source(src string) string {
	if strings.Contains(src, "://") {
		return ""
	}
	if strings.ContainsAny(src, "*?[$") {
		return src + " is a pattern the rule does not expand, so whether those files mention /root cannot be told"
	}
	rel := buildctx.Name(src)
	fi, err := fs.Stat(r.fsys, rel)
	if err != nil {
		return src + ", which the build copies, is not in the build context, so whether it mentions /root cannot be told"
	}
	if !fi.IsDir() {
		r.check(rel)
	} else {
		_ = buildctx.WalkDir(r.fsys, rel, func(q string, de fs.DirEntry, err error) error {
			if err != nil || r.tooMuch || r.found != "" {
				return fs.SkipAll
			}
			if de.IsDir() {
				if n := de.Name(); n == ".git" || n == "node_modules" {
					return fs.SkipDir
				}
				return nil
			}
			r.check(q)
			return nil
		})
	}
	if r.found != "" {
		return r.found + ", which the build copies from the context, mentions /root or ~/, so the application may rely on that path"
	}
	if r.tooMuch {
		return src + " holds too many files to read through for mentions of /root"
	}
	return ""
}

// check reads one file, counting it against the limit.
func (r *rootMentions) check(rel string) {
	fi, err := fs.Lstat(r.fsys, rel)
	if err != nil || !fi.Mode().IsRegular() {
		return
	}
	r.files++
	r.size += fi.Size()
	if r.files > 2000 || r.size > 32<<20 {
		r.tooMuch = true
		return
	}
	b, err := fs.ReadFile(r.fsys, rel)
	if err != nil || strings.IndexByte(string(b[:min(len(b), 8000)]), 0) >= 0 {
		return // binaries are not scripts
	}
	if rootRefRE.Match(b) || strings.Contains(string(b), "~/") {
		r.found = rel
	}
}
