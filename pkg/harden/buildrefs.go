package harden

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

// A repository often says how it builds a Dockerfile: a compose file's
// build: section, a docker-bake file's target, a Makefile, shell script or
// workflow line running docker build -f FILE CONTEXT. That context is the
// one the rules should read, and the guess contextDir makes cannot find it
// when the Dockerfile copies only "." (ADD . /src from the repository
// root). buildRefs reads those files, each once per run, and says which
// contexts they name for a Dockerfile.

// maxRefFile is the largest file read for build references: compose
// files, Makefiles and scripts are small; a larger one is not read.
const maxRefFile = 256 << 10

// buildRef is one build a file names: the Dockerfile and its context,
// both cleaned paths in the form of the folder the naming file is in.
type buildRef struct{ dockerfile, context string }

// buildRefs caches, per folder, the builds the files in it name.
type buildRefs struct {
	mu      sync.Mutex
	folders map[string]*folderRefs
}

type folderRefs struct {
	once sync.Once
	refs []buildRef
}

func newBuildRefs() *buildRefs { return &buildRefs{folders: map[string]*folderRefs{}} }

// namedContext is the one build context the repository names for the
// Dockerfile at path (found under root, see walkRoot), read from the
// folders from the Dockerfile's up to root, never above one that holds
// .git; "" when none names it, when they name several different ones, or
// when the one named is not a folder inside that range.
func (b *buildRefs) namedContext(path, root string) string {
	if root == "" {
		return ""
	}
	root = filepath.Clean(root)
	df := filepath.Clean(path)
	top := ""
	var dirs []string
	for cand := filepath.Dir(df); ; {
		if !within(cand, root) {
			break
		}
		dirs = append(dirs, cand)
		top = cand
		if cand == root || isDir(filepath.Join(cand, ".git")) {
			break
		}
		parent := filepath.Dir(cand)
		if parent == cand {
			break
		}
		cand = parent
	}
	found := ""
	for _, dir := range dirs {
		for _, r := range b.folder(dir) {
			if r.dockerfile != df {
				continue
			}
			if found != "" && found != r.context {
				return "" // several: keep the guess
			}
			found = r.context
		}
	}
	if found == "" || !within(found, top) || !isDir(found) {
		return ""
	}
	// Through a symbolic link the folder may be outside after all.
	realFound, err1 := filepath.EvalSymlinks(found)
	realTop, err2 := filepath.EvalSymlinks(top)
	if err1 != nil || err2 != nil || !within(realFound, realTop) {
		return ""
	}
	return found
}

// folder is the builds the files in dir name, read on first use.
func (b *buildRefs) folder(dir string) []buildRef {
	b.mu.Lock()
	f := b.folders[dir]
	if f == nil {
		f = &folderRefs{}
		b.folders[dir] = f
	}
	b.mu.Unlock()
	f.once.Do(func() { f.refs = readFolderRefs(dir) })
	return f.refs
}

// readFolderRefs reads the compose, bake, Makefile and shell files of dir
// and the workflows of dir/.github/workflows and dir/.gitlab-ci.yml.
func readFolderRefs(dir string) []buildRef {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []buildRef
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		name := e.Name()
		lower := strings.ToLower(name)
		var read func(dir string, data []byte) []buildRef
		switch {
		case isComposeName(lower):
			read = composeRefs
		case lower == "docker-bake.hcl":
			read = bakeHCLRefs
		case lower == "devcontainer.json" || lower == ".devcontainer.json":
			read = devcontainerRefs
		case lower == "docker-bake.json":
			read = bakeJSONRefs
		case lower == "makefile" || lower == "gnumakefile" || strings.HasSuffix(lower, ".mk"):
			read = makeRefs
		case strings.HasSuffix(lower, ".sh"), lower == ".gitlab-ci.yml":
			read = scriptRefs
		default:
			continue
		}
		if data := readSmall(filepath.Join(dir, name)); data != nil {
			out = append(out, read(dir, data)...)
		}
	}
	wf := filepath.Join(dir, ".github", "workflows")
	if entries, err := os.ReadDir(wf); err == nil {
		for _, e := range entries {
			lower := strings.ToLower(e.Name())
			if !e.Type().IsRegular() || !strings.HasSuffix(lower, ".yml") && !strings.HasSuffix(lower, ".yaml") {
				continue
			}
			// A workflow's steps run in the repository's folder.
			if data := readSmall(filepath.Join(wf, e.Name())); data != nil {
				out = append(out, scriptRefs(dir, data)...)
				out = append(out, buildActionRefs(dir, data)...)
			}
		}
	}
	return out
}

func isComposeName(lower string) bool {
	if !strings.HasSuffix(lower, ".yml") && !strings.HasSuffix(lower, ".yaml") {
		return false
	}
	return strings.HasPrefix(lower, "docker-compose") || strings.HasPrefix(lower, "compose")
}

// readSmall is the file's content, or nil when it cannot be read or is
// larger than maxRefFile.
func readSmall(p string) []byte {
	fi, err := os.Stat(p)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() > maxRefFile {
		return nil
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil
	}
	return data
}

// literalPath reports whether p is a relative path written out: no
// variable, no URL or git address, no stdin.
func literalPath(p string) bool {
	return p != "" && p != "-" && !strings.ContainsAny(p, "$`{}*?") && !strings.Contains(p, "://") &&
		!strings.HasPrefix(p, "git@") && !strings.HasPrefix(p, "/") && !strings.HasPrefix(p, "~") &&
		!filepath.IsAbs(p)
}

// contextRef is the build of dockerfile (relative to context, as compose
// and bake read it) in context (relative to base); ok false when either is
// not a literal path.
func contextRef(base, context, dockerfile string) (buildRef, bool) {
	if context == "" {
		context = "."
	}
	if dockerfile == "" {
		dockerfile = "Dockerfile"
	}
	if !literalPath(context) || !literalPath(dockerfile) {
		return buildRef{}, false
	}
	ctx := filepath.Join(base, filepath.FromSlash(context))
	return buildRef{dockerfile: filepath.Join(ctx, filepath.FromSlash(dockerfile)), context: ctx}, true
}

// composeRefs reads a compose file's services: build: CONTEXT, or build:
// with context: and dockerfile:, relative to the compose file's folder
// (dockerfile relative to the context).
func composeRefs(dir string, data []byte) []buildRef {
	var doc struct {
		Services map[string]struct {
			Build yaml.Node `yaml:"build"`
		} `yaml:"services"`
	}
	if yaml.Unmarshal(data, &doc) != nil {
		return nil
	}
	var out []buildRef
	for _, s := range doc.Services {
		b := s.Build
		var context, dockerfile string
		switch b.Kind {
		case yaml.ScalarNode:
			context = b.Value
		case yaml.MappingNode:
			var m struct {
				Context    yaml.Node `yaml:"context"`
				Dockerfile yaml.Node `yaml:"dockerfile"`
				Inline     yaml.Node `yaml:"dockerfile_inline"`
			}
			if b.Decode(&m) != nil || m.Inline.Kind != 0 ||
				m.Context.Kind != 0 && m.Context.Kind != yaml.ScalarNode ||
				m.Dockerfile.Kind != 0 && m.Dockerfile.Kind != yaml.ScalarNode {
				continue
			}
			context, dockerfile = m.Context.Value, m.Dockerfile.Value
		default:
			continue
		}
		if r, ok := contextRef(dir, context, dockerfile); ok {
			out = append(out, r)
		}
	}
	return out
}

// buildActionRefs reads a workflow's docker/build-push-action steps:
// with: context (default the repository) and file (default
// CONTEXT/Dockerfile), both relative to the repository's folder dir,
// where the action runs buildx.
func buildActionRefs(dir string, data []byte) []buildRef {
	var doc struct {
		Jobs map[string]struct {
			Steps []struct {
				Uses string               `yaml:"uses"`
				With map[string]yaml.Node `yaml:"with"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if yaml.Unmarshal(data, &doc) != nil {
		return nil
	}
	var out []buildRef
	for _, job := range doc.Jobs {
		for _, step := range job.Steps {
			if !strings.HasPrefix(step.Uses, "docker/build-push-action@") {
				continue
			}
			context, file := ".", ""
			if n, ok := step.With["context"]; ok {
				if n.Kind != yaml.ScalarNode {
					continue
				}
				context = n.Value
			}
			if n, ok := step.With["file"]; ok {
				if n.Kind != yaml.ScalarNode {
					continue
				}
				file = n.Value
			} else {
				file = path.Join(context, "Dockerfile")
			}
			if !literalPath(context) || !literalPath(file) {
				continue
			}
			out = append(out, buildRef{
				dockerfile: filepath.Join(dir, filepath.FromSlash(file)),
				context:    filepath.Join(dir, filepath.FromSlash(context)),
			})
		}
	}
	return out
}

// devcontainerRefs reads devcontainer.json (JSON with comments):
// build.dockerfile and build.context (or the older top-level dockerFile
// and context), both relative to the file's folder; a configuration that
// runs a compose file is left to the compose file.
func devcontainerRefs(dir string, data []byte) []buildRef {
	type build struct {
		Dockerfile *string `json:"dockerfile"`
		Context    *string `json:"context"`
	}
	var doc struct {
		Build       build           `json:"build"`
		DockerFile  *string         `json:"dockerFile"`
		Context     *string         `json:"context"`
		ComposeFile json.RawMessage `json:"dockerComposeFile"`
	}
	if json.Unmarshal(plainJSON(data), &doc) != nil || doc.ComposeFile != nil {
		return nil
	}
	file, context := doc.Build.Dockerfile, doc.Build.Context
	if file == nil {
		file, context = doc.DockerFile, doc.Context
	}
	if file == nil {
		return nil
	}
	ctx := "."
	if context != nil {
		ctx = *context
	}
	if !literalPath(*file) || !literalPath(ctx) {
		return nil
	}
	return []buildRef{{
		dockerfile: filepath.Join(dir, filepath.FromSlash(*file)),
		context:    filepath.Join(dir, filepath.FromSlash(ctx)),
	}}
}

// plainJSON is JSON with comments (// and /* */, outside strings) and
// trailing commas removed, as devcontainer.json allows them.
func plainJSON(data []byte) []byte {
	out := make([]byte, 0, len(data))
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch {
		case c == '"':
			j := i + 1
			for j < len(data) && data[j] != '"' {
				if data[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(data) {
				return nil
			}
			out = append(out, data[i:j+1]...)
			i = j
		case c == '/' && i+1 < len(data) && data[i+1] == '/':
			for i < len(data) && data[i] != '\n' {
				i++
			}
			out = append(out, '\n')
		case c == '/' && i+1 < len(data) && data[i+1] == '*':
			end := bytes.Index(data[i+2:], []byte("*/"))
			if end < 0 {
				return nil
			}
			i += end + 3
			out = append(out, ' ')
		case c == '}' || c == ']':
			// A comma before the closing bracket, blanks between.
			k := len(out) - 1
			for k >= 0 && (out[k] == ' ' || out[k] == '\t' || out[k] == '\n' || out[k] == '\r') {
				k--
			}
			if k >= 0 && out[k] == ',' {
				out = append(out[:k], out[k+1:]...)
			}
			out = append(out, c)
		default:
			out = append(out, c)
		}
	}
	return out
}

// bakeTarget is a docker-bake target as far as it is read: set says which
// of context and dockerfile it writes as literal strings; unknown is true
// when it writes one another way (a variable, a function) or inherits
// what it does not write.
type bakeTarget struct {
	context, dockerfile string
	hasContext, hasFile bool
	inherits, unknown   bool
}

func (t bakeTarget) ref(dir string) (buildRef, bool) {
	if t.unknown || !t.hasContext && !t.hasFile || t.inherits && !(t.hasContext && t.hasFile) {
		return buildRef{}, false
	}
	return contextRef(dir, t.context, t.dockerfile)
}

// bakeJSONRefs reads docker-bake.json: {"target": {NAME: {"context": ...,
// "dockerfile": ...}}}.
func bakeJSONRefs(dir string, data []byte) []buildRef {
	var doc struct {
		Target map[string]map[string]json.RawMessage `json:"target"`
	}
	if json.Unmarshal(data, &doc) != nil {
		return nil
	}
	var out []buildRef
	for _, fields := range doc.Target {
		var t bakeTarget
		for k, raw := range fields {
			var s string
			isString := json.Unmarshal(raw, &s) == nil
			switch k {
			case "context":
				t.context, t.hasContext, t.unknown = s, true, t.unknown || !isString
			case "dockerfile":
				t.dockerfile, t.hasFile, t.unknown = s, true, t.unknown || !isString
			case "inherits":
				t.inherits = true
			case "dockerfile-inline":
				t.unknown = true
			}
		}
		if r, ok := t.ref(dir); ok {
			out = append(out, r)
		}
	}
	return out
}

var (
	bakeBlock = regexp.MustCompile(`^target\s+"[^"]*"\s*\{\s*$`)
	bakeAttr  = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_-]*)\s*=\s*(.*)$`)
	bakeStr   = regexp.MustCompile(`^"([^"\\$]*)"\s*(?:(?://|#).*)?$`)
)

// bakeHCLRefs reads the simple form of docker-bake.hcl: target "NAME" {
// on a line of its own, attributes one a line, string literals. Anything
// else in a target (a variable, a function, a matrix) makes it unknown.
func bakeHCLRefs(dir string, data []byte) []buildRef {
	var out []buildRef
	var cur *bakeTarget
	depth := 0 // braces open inside the current target
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if cur == nil {
			if bakeBlock.MatchString(line) {
				cur, depth = &bakeTarget{}, 0
			}
			continue
		}
		if depth == 0 && line == "}" {
			if r, ok := cur.ref(dir); ok {
				out = append(out, r)
			}
			cur = nil
			continue
		}
		if depth == 0 {
			if m := bakeAttr.FindStringSubmatch(line); m != nil {
				v := bakeStr.FindStringSubmatch(m[2])
				switch m[1] {
				case "context":
					cur.hasContext = true
					if v == nil {
						cur.unknown = true
					} else {
						cur.context = v[1]
					}
				case "dockerfile":
					cur.hasFile = true
					if v == nil {
						cur.unknown = true
					} else {
						cur.dockerfile = v[1]
					}
				case "inherits":
					cur.inherits = true
				case "matrix", "name", "dockerfile-inline":
					cur.unknown = true
				}
			}
		}
		depth += strings.Count(line, "{") + strings.Count(line, "[") + strings.Count(line, "(")
		depth -= strings.Count(line, "}") + strings.Count(line, "]") + strings.Count(line, ")")
		if depth < 0 {
			// The target's closing brace on a line with more: give up
			// on it.
			cur = nil
		}
	}
	return out
}

// makeRefs reads a Makefile's recipe lines: each runs in its own shell in
// the Makefile's folder, so only a cd on the same line makes it unknown.
func makeRefs(dir string, data []byte) []buildRef {
	var out []buildRef
	eachLogicalLine(data, func(line string) {
		if r, ok := dockerBuildRef(dir, line); ok {
			out = append(out, r)
		}
	})
	return out
}

// scriptRefs reads a shell script's or a CI file's lines, run in dir;
// after a cd (or a working-directory) the folder is unknown and the rest
// is not read.
func scriptRefs(dir string, data []byte) []buildRef {
	var out []buildRef
	moved := false
	eachLogicalLine(data, func(line string) {
		if moved {
			return
		}
		if r, ok := dockerBuildRef(dir, line); ok {
			out = append(out, r)
		}
		if changesDir.MatchString(line) {
			moved = true
		}
	})
	return out
}

var (
	changesDir  = regexp.MustCompile(`(^|[\s;&|(])(cd|pushd)(\s|$)|working-directory\s*:`)
	dockerBuild = regexp.MustCompile(`(^|[\s;&|(@'"])(docker(\s+buildx|\s+image)?|podman)\s+build(\s|$)`)
)

// eachLogicalLine calls f with each line, backslash continuations joined,
// comment lines left out.
func eachLogicalLine(data []byte, f func(string)) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, maxRefFile)
	var line strings.Builder
	for sc.Scan() {
		text := strings.TrimRight(sc.Text(), " \t\r")
		if strings.HasPrefix(strings.TrimSpace(text), "#") {
			continue
		}
		if strings.HasSuffix(text, `\`) {
			line.WriteString(text[:len(text)-1])
			line.WriteByte(' ')
			continue
		}
		line.WriteString(text)
		f(line.String())
		line.Reset()
	}
	if line.Len() > 0 {
		f(line.String())
	}
}

// buildValueFlags are the docker build, buildx build and podman build
// flags that take a value as the next word.
var buildValueFlags = map[string]bool{
	"-t": true, "--tag": true, "--build-arg": true, "--platform": true, "--target": true,
	"--label": true, "--cache-from": true, "--cache-to": true, "--secret": true, "--ssh": true,
	"-o": true, "--output": true, "--network": true, "--progress": true, "--iidfile": true,
	"--build-context": true, "--add-host": true, "--shm-size": true, "--ulimit": true,
	"-m": true, "--memory": true, "--memory-swap": true, "--cpu-shares": true, "--cpuset-cpus": true,
	"--cpu-period": true, "--cpu-quota": true, "--isolation": true, "--cgroup-parent": true,
	"--metadata-file": true, "--attest": true, "--allow": true, "--annotation": true,
	"--builder": true, "--security-opt": true, "--no-cache-filter": true, "--format": true,
	"--jobs": true, "--authfile": true, "--arch": true, "--os": true, "--variant": true,
	"--manifest": true, "--volume": true, "-v": true, "--env": true, "--cache-ttl": true,
	"--call": true,
}

// buildBoolFlags take no value.
var buildBoolFlags = map[string]bool{
	"--push": true, "--load": true, "--no-cache": true, "--pull": true, "--rm": true,
	"--force-rm": true, "-q": true, "--quiet": true, "--squash": true, "--squash-all": true,
	"--compress": true, "--disable-content-trust": true, "--layers": true, "--check": true,
	"--provenance": true, "--sbom": true, "--debug": true,
}

// dockerBuildRef reads a line running docker build (buildx build, image
// build, podman build) with -f FILE and one CONTEXT argument, both literal
// paths relative to dir, as the command resolves them.
func dockerBuildRef(dir, line string) (buildRef, bool) {
	loc := dockerBuild.FindStringIndex(line)
	if loc == nil {
		return buildRef{}, false
	}
	if changesDir.MatchString(line[:loc[0]]) {
		return buildRef{}, false // cd dir && docker build ...
	}
	words, ok := shellWords(line[loc[1]:])
	if !ok {
		return buildRef{}, false
	}
	var file, context string
	var positional int
	for i := 0; i < len(words); i++ {
		w := words[i]
		if !strings.HasPrefix(w, "-") || w == "-" {
			positional++
			context = w
			continue
		}
		name, value, hasValue := strings.Cut(w, "=")
		if name == "-f" || name == "--file" {
			if !hasValue {
				if i+1 == len(words) {
					return buildRef{}, false
				}
				i++
				value = words[i]
			}
			if file != "" {
				return buildRef{}, false
			}
			file = value
			continue
		}
		if strings.HasPrefix(name, "-f") && len(name) > 2 && !strings.HasPrefix(name, "--") {
			file = name[2:] // -fpath
			continue
		}
		switch {
		case hasValue && strings.HasPrefix(name, "--"):
		case buildBoolFlags[name]:
		case buildValueFlags[name]:
			i++
		default:
			return buildRef{}, false // a flag this read does not know
		}
	}
	if file == "" || positional != 1 || !literalPath(file) || !literalPath(context) {
		return buildRef{}, false
	}
	return buildRef{
		dockerfile: filepath.Join(dir, filepath.FromSlash(file)),
		context:    filepath.Join(dir, filepath.FromSlash(context)),
	}, true
}

// shellWords splits the command's words up to the end of the command (an
// operator, a redirection or a comment), quotes removed; a word with a
// variable or a command substitution keeps its $ or backquote so that
// literalPath refuses it. ok is false for an unterminated quote.
func shellWords(s string) (words []string, ok bool) {
	var w strings.Builder
	inWord := false
	flush := func() {
		if inWord {
			words = append(words, w.String())
		}
		w.Reset()
		inWord = false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			flush()
		case c == '\'' || c == '"':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				return nil, false
			}
			w.WriteString(s[i+1 : i+1+j])
			inWord = true
			i += j + 1
		case c == '$' && i+1 < len(s) && (s[i+1] == '(' || s[i+1] == '{'):
			// $(VAR), ${VAR}, $(cmd): part of the word, to its match.
			end := matching(s, i+1)
			if end < 0 {
				return nil, false
			}
			w.WriteString(s[i : end+1])
			inWord = true
			i = end
		case c == '\\' && i+1 < len(s):
			w.WriteByte(s[i+1])
			inWord = true
			i++
		case strings.IndexByte(";&|()<>", c) >= 0:
			if c == '>' || c == '<' {
				// 2>&1: the digits were this redirection's.
				if str := w.String(); str != "" && strings.Trim(str, "0123456789") == "" {
					w.Reset()
					inWord = false
				}
			}
			flush()
			return words, true
		case c == '#' && !inWord:
			flush()
			return words, true
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	flush()
	return words, true
}

// matching is the index of the bracket closing the one at s[open], or -1.
func matching(s string, open int) int {
	o := s[open]
	c := byte(')')
	if o == '{' {
		c = '}'
	}
	depth := 0
	for i := open; i < len(s); i++ {
		switch s[i] {
		case o:
			depth++
		case c:
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}
