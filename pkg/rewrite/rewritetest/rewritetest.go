package rewritetest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"golang.org/x/tools/txtar"

	"github.com/hardenfix/hardenfix/pkg/registry"
	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/hardenfix/hardenfix/pkg/rewrite/internal/testhook"
)

var update = flag.Bool("update", false, "rewrite the golden sections of fixtures")

func init() {
	// Every pipeline run of a test that uses the harness compares each
	// incremental re-parse with a full parse.
	testhook.CheckReparse.Store(true)
}

// WithoutReparseCheck turns off, until the benchmark ends, the comparison
// of every incremental re-parse with a full parse that the harness turns on
// for tests: benchmarks measure what a real run costs.
func WithoutReparseCheck(b *testing.B) {
	was := testhook.CheckReparse.Swap(false)
	b.Cleanup(func() { testhook.CheckReparse.Store(was) })
}

// A Fixture is one txtar file under a rule package's testdata/<dir>/ holding:
//
//	-- Dockerfile --        the input
//	-- want/Dockerfile --   the expected output (absent: the file must not change)
//	-- want/notes --        the expected notes, one "LINE: rule: message" a line
//	-- want/fixes --        optional: the expected fixes, one "LINE: rule: message"
//	                        a line; checked (and rewritten by -update) only
//	                        when the section is present
//	-- context/PATH --      files of the build context
//	-- registry --          images to seed into an in-process registry; with
//	                        this section the run is online (Env.Resolver
//	                        looks every registry up there), without it
//	                        offline. Format: see StartRegistry.
//	-- images --            what the rules know about base images, one image a
//	                        line: `IMAGE key=value ...` (a bare key means true),
//	                        keys naming registry.ImageFacts fields: family,
//	                        libc, shell, pm (package manager), shadow
//	                        (shadow-utils), user, uid (default -1: unknown),
//	                        app-user, app-uid (an account the image has),
//	                        drops-privileges, needs-root, alt (NonRootAlt),
//	                        workdir (WorkingDir),
//	                        repository, publisher, verification. IMAGE is
//	                        matched as written after ARG expansion, else
//	                        without its tag or digest. Without this section
//	                        Env.Images is nil.
//	-- catalog --           a user catalog (the --catalog file's shape) merged
//	                        over the embedded one, row by row
//	-- options --           one per line:
//	                          rules NAME[,NAME]   rules to run, among those given to Run
//	                                              (default: the folder's name when it
//	                                              names one of them, else all but the
//	                                              opt-in ones)
//	                          crlf                input and outputs use CRLF
//	                          bom                 input and outputs start with a UTF-8 BOM
//	                          no-final-newline    input and outputs lack the final newline
//	                          magic FORMAT PATH   prefix context file PATH with the magic
//	                                              bytes of gzip, bzip2, xz or zstd
//	                          tar PATH            wrap context file PATH in a tar archive
//	                          gzip PATH           gzip context file PATH (a tar.gz with tar first)
//	                          NAME VALUE          the option NAME a rule run declares
//	                                              (Rule.Options), VALUE as after
//	                                              --option NAME=: update-digests,
//	                                              target NAME, uid N, user-name NAME,
//	                                              role NAME, runtime-images E=IMG
//	                                              (or runtime-image), allowed-publishers K,K
//
// Every run has the embedded catalog (with the catalog section merged over
// it) as Env.Images, under the images section's facts when there are any.
//
// The transforms keep the fixtures readable text while still testing bytes
// that txtar cannot hold.
type Fixture struct {
	Path    string
	archive *txtar.Archive
	Input   []byte
	Rules   []*rewrite.Rule
	opts    map[string][]string
	// optionLines are the options section's lines, name and value, in
	// order.
	optionLines [][2]string
	context     map[string][]byte
	// registry is the -- registry -- section; online is true when the
	// fixture has one.
	registry string
	Online   bool
	images   fixtureImages
}

// LoadFixtures loads every fixture under root (its e2e folder aside), with
// the rules among all that each one names.
func LoadFixtures(t testing.TB, root string, all []*rewrite.Rule) []*Fixture {
	var out []*Fixture
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "e2e" {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(p, ".txtar") {
			f, err := LoadFixture(p, all)
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			out = append(out, f)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatal("no fixtures found")
	}
	return out
}

// LoadFixture loads the fixture at p, with the rules among all it names
// (none when all is nil: for tests that only want its sections).
func LoadFixture(p string, all []*rewrite.Rule) (*Fixture, error) {
	a, err := txtar.ParseFile(p)
	if err != nil {
		return nil, err
	}
	f := &Fixture{Path: p, archive: a, opts: map[string][]string{}, context: map[string][]byte{}}
	for _, file := range a.Files {
		switch {
		case file.Name == "options":
			for _, line := range strings.Split(string(file.Data), "\n") {
				fields := strings.Fields(line)
				if len(fields) > 0 {
					f.opts[fields[0]] = append(f.opts[fields[0]], strings.Join(fields[1:], " "))
					f.optionLines = append(f.optionLines, [2]string{fields[0], strings.Join(fields[1:], " ")})
				}
			}
		case file.Name == "Dockerfile":
			f.Input = file.Data
		case file.Name == "registry":
			f.registry, f.Online = string(file.Data), true
		case strings.HasPrefix(file.Name, "context/"):
			f.context[strings.TrimPrefix(file.Name, "context/")] = file.Data
		case file.Name == "images":
			if f.images, err = parseFixtureImages(file.Data); err != nil {
				return nil, err
			}
		}
	}
	if f.Input == nil {
		return nil, fmt.Errorf("no Dockerfile section")
	}
	f.Input = f.transform(f.Input)
	ruleNames := f.opts["rules"]
	if len(ruleNames) == 0 {
		for _, r := range all {
			if r.Name == filepath.Base(filepath.Dir(p)) {
				ruleNames = []string{r.Name}
			}
		}
	}
	var names []string
	for _, r := range ruleNames {
		if r != "all" {
			names = append(names, strings.Split(r, ",")...)
		}
	}
	if all != nil {
		if f.Rules, err = rewrite.Select(all, names, nil); err != nil {
			return nil, err
		}
	}
	for _, spec := range f.opts["magic"] {
		format, name, _ := strings.Cut(spec, " ")
		magic := map[string][]byte{"gzip": {0x1f, 0x8b}, "bzip2": []byte("BZh9"), "xz": {0xfd, '7', 'z', 'X', 'Z', 0}, "zstd": {0x28, 0xb5, 0x2f, 0xfd}}[format]
		if magic == nil {
			return nil, fmt.Errorf("unknown magic format %q", format)
		}
		f.context[name] = append(magic, f.context[name]...)
	}
	for _, name := range f.opts["tar"] {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		data := f.context[name]
		tw.WriteHeader(&tar.Header{Name: "payload", Mode: 0o644, Size: int64(len(data))})
		tw.Write(data)
		tw.Close()
		f.context[name] = buf.Bytes()
	}
	for _, name := range f.opts["gzip"] {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(f.context[name])
		zw.Close()
		f.context[name] = buf.Bytes()
	}
	return f, nil
}

func (f *Fixture) has(opt string) bool { _, ok := f.opts[opt]; return ok }

// transform turns fixture text into the bytes the options describe.
func (f *Fixture) transform(b []byte) []byte {
	if f.has("crlf") {
		b = bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n"))
	}
	if f.has("no-final-newline") {
		b = bytes.TrimSuffix(bytes.TrimSuffix(b, []byte("\n")), []byte("\r"))
	}
	if f.has("bom") {
		b = append(append([]byte{}, rewrite.BOM...), b...)
	}
	return b
}

// untransform is transform's inverse, for writing goldens.
func (f *Fixture) untransform(b []byte) []byte {
	b = bytes.TrimPrefix(b, []byte(rewrite.BOM))
	b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	if f.has("no-final-newline") {
		b = append(b, '\n')
	}
	return b
}

// Section returns the fixture's section name, if it has one.
func (f *Fixture) Section(name string) ([]byte, bool) {
	for _, file := range f.archive.Files {
		if file.Name == name {
			return file.Data, true
		}
	}
	return nil, false
}

func (f *Fixture) setSection(name string, data []byte) {
	for i, file := range f.archive.Files {
		if file.Name == name {
			if data == nil {
				f.archive.Files = append(f.archive.Files[:i], f.archive.Files[i+1:]...)
			} else {
				f.archive.Files[i].Data = data
			}
			return
		}
	}
	if data != nil {
		f.archive.Files = append(f.archive.Files, txtar.File{Name: name, Data: data})
	}
}

// buildContext is the fixture's build context, in memory: its files are
// regular, mode 0644, and its folders those their names imply.
func (f *Fixture) buildContext() fstest.MapFS {
	m := fstest.MapFS{}
	for name, data := range f.context {
		m[name] = &fstest.MapFile{Data: data, Mode: 0o644}
	}
	return m
}

// testRegistryHost is the in-process registry's address in notes; goldens
// say 127.0.0.1:PORT, since the port changes every run.
var testRegistryHost = regexp.MustCompile(`127\.0\.0\.1:\d+`)

func formatNotes(notes []rewrite.Note) string {
	var b strings.Builder
	for _, n := range notes {
		fmt.Fprintf(&b, "%d: %s: %s\n", n.Line, n.Rule, testRegistryHost.ReplaceAllString(n.Message, "127.0.0.1:PORT"))
	}
	return b.String()
}

func formatFixes(fixes []rewrite.Fix) string {
	var b strings.Builder
	for _, f := range fixes {
		fmt.Fprintf(&b, "%d: %s: %s\n", f.Line, f.Rule, f.Message)
	}
	return b.String()
}

// Run runs every fixture under dir (a rule package's testdata) with the
// rules among all that it names, compares the output, notes and fixes
// with its want sections (-update rewrites them) and checks the
// invariants every run must keep (see CheckInvariants).
func Run(t *testing.T, dir string, all []*rewrite.Rule) {
	t.Helper()
	root, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range LoadFixtures(t, root, all) {
		rel, _ := filepath.Rel(root, f.Path)
		t.Run(filepath.ToSlash(strings.TrimSuffix(rel, ".txtar")), func(t *testing.T) {
			env, err := f.Env(t)
			if err != nil {
				t.Fatal(err)
			}
			res, err := rewrite.Run(context.Background(), "Dockerfile", f.Input, f.Rules, env)
			if wantErr, ok := f.Section("want/error"); ok {
				if err == nil {
					t.Fatalf("want error %q, got none", strings.TrimSpace(string(wantErr)))
				}
				if *update {
					f.setSection("want/error", []byte(err.Error()+"\n"))
					writeFixture(t, f)
					return
				}
				if got := err.Error(); got != strings.TrimSpace(string(wantErr)) {
					t.Fatalf("error:\n got: %s\nwant: %s", got, strings.TrimSpace(string(wantErr)))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if *update {
				if res.Changed() {
					f.setSection("want/Dockerfile", f.untransform(res.New))
				} else {
					f.setSection("want/Dockerfile", nil)
				}
				if _, ok := f.Section("want/fixes"); ok {
					f.setSection("want/fixes", []byte(formatFixes(res.Fixes)))
				}
				notes := formatNotes(res.Notes)
				if notes == "" {
					f.setSection("want/notes", nil)
				} else {
					f.setSection("want/notes", []byte(notes))
				}
				writeFixture(t, f)
			}
			want := f.Input
			if w, ok := f.Section("want/Dockerfile"); ok {
				want = f.transform(w)
			}
			if !bytes.Equal(res.New, want) {
				t.Errorf("output differs from want/Dockerfile:\n%s", rewrite.UnifiedDiff("want", want, res.New))
			}
			if wantFixes, ok := f.Section("want/fixes"); ok {
				if got := formatFixes(res.Fixes); got != string(wantFixes) {
					t.Errorf("fixes:\n got:\n%s\nwant:\n%s", got, wantFixes)
				}
			}
			wantNotes, _ := f.Section("want/notes")
			if got := formatNotes(res.Notes); got != string(wantNotes) {
				t.Errorf("notes:\n got:\n%s\nwant:\n%s", got, wantNotes)
			}
			CheckInvariants(t, f.Input, res, f.Rules, env)
		})
	}
}

// Env is the Env a fixture runs with.
func (f *Fixture) Env(t *testing.T) (*rewrite.Env, error) {
	catalog := registry.Embedded()
	if data, ok := f.Section("catalog"); ok {
		user, err := registry.ParseCatalog(data)
		if err != nil {
			return nil, fmt.Errorf("catalog section: %w", err)
		}
		catalog = catalog.Merge(user)
	}
	env := &rewrite.Env{BuildContext: f.buildContext(), Images: catalog, Options: rewrite.Options{}}
	if f.images != nil {
		env.Images = layeredImages{f.images, catalog}
	}
	if f.Online {
		env.Resolver = FixtureRemote(StartRegistry(t, f.registry), f.registry)
	}
	for _, line := range f.optionLines {
		name, value := line[0], line[1]
		if harnessOptions[name] {
			continue
		}
		if name == "runtime-image" { // the older, singular name
			name = "runtime-images"
		}
		o, ok := rewrite.FindOption(f.Rules, name)
		if !ok {
			return nil, fmt.Errorf("options: no rule run declares the option %q", name)
		}
		if err := env.Options.Set(o, value); err != nil {
			return nil, fmt.Errorf("options: %w", err)
		}
	}
	return env, nil
}

// harnessOptions are the options section's words the harness itself
// reads; every other word is an option a rule declares (Rule.Options).
var harnessOptions = map[string]bool{"rules": true, "crlf": true, "bom": true, "no-final-newline": true, "magic": true, "tar": true, "gzip": true}

// layeredImages answers from the first ImageInfo that knows the image.
type layeredImages []registry.ImageInfo

func (l layeredImages) Facts(image string) (registry.ImageFacts, bool) {
	for _, info := range l {
		if f, ok := info.Facts(image); ok {
			return f, true
		}
	}
	return registry.ImageFacts{}, false
}

// Catalog is the catalog among l, the one rules consult (see Env.Images).
func (l layeredImages) Catalog() *registry.Catalog {
	for _, info := range l {
		if c, ok := info.(*registry.Catalog); ok {
			return c
		}
	}
	return nil
}

// fixtureImages is the registry.ImageInfo a fixture's images section
// describes.
type fixtureImages map[string]registry.ImageFacts

func (m fixtureImages) Facts(image string) (registry.ImageFacts, bool) {
	if f, ok := m[image]; ok {
		return f, true
	}
	name := image
	if i := strings.IndexByte(name, '@'); i >= 0 {
		name = name[:i]
	}
	if i := strings.LastIndexByte(name, ':'); i > strings.LastIndexByte(name, '/') {
		name = name[:i]
	}
	f, ok := m[name]
	return f, ok
}

func parseFixtureImages(data []byte) (fixtureImages, error) {
	m := fixtureImages{}
	for n, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		facts := registry.ImageFacts{UID: -1}
		for _, kv := range fields[1:] {
			k, v, hasValue := strings.Cut(kv, "=")
			b := !hasValue || v == "true"
			num := func() (int, error) {
				i, err := strconv.Atoi(v)
				if err != nil {
					return 0, fmt.Errorf("images line %d: %s %q is not a number", n+1, k, v)
				}
				return i, nil
			}
			var err error
			switch k {
			case "family":
				facts.Family = v
			case "libc":
				facts.Libc = v
			case "shell":
				facts.HasShell = b
			case "pm":
				facts.PackageManager = v
			case "shadow":
				facts.HasShadowUtils = b
			case "user":
				facts.User = v
			case "uid":
				facts.UID, err = num()
			case "app-user":
				facts.AppUser = v
			case "app-uid":
				facts.AppUID, err = num()
			case "drops-privileges":
				facts.DropsPrivileges = b
			case "needs-root":
				facts.NeedsRoot = b
			case "alt":
				facts.NonRootAlt = v
			case "workdir":
				facts.WorkingDir = v
			case "repository":
				facts.Repository = v
			case "publisher":
				facts.Publisher = v
			case "verification":
				facts.Verification = v
			default:
				return nil, fmt.Errorf("images line %d: unknown key %q", n+1, k)
			}
			if err != nil {
				return nil, err
			}
		}
		m[fields[0]] = facts
	}
	return m, nil
}

func writeFixture(t *testing.T, f *Fixture) {
	if err := os.WriteFile(f.Path, txtar.Format(f.archive), 0o644); err != nil {
		t.Fatal(err)
	}
}

// CheckInvariants asserts DESIGN §5 on one run.
func CheckInvariants(t *testing.T, input []byte, res *rewrite.Result, rules []*rewrite.Rule, env *rewrite.Env) {
	t.Helper()
	ctx := context.Background()
	// 1. The output parses, and BuildKit reports no warning it did not
	// report on the input.
	before, err := rewrite.Parse("Dockerfile", input)
	if err != nil {
		t.Fatalf("input does not parse: %v", err)
	}
	after, err := rewrite.Parse("Dockerfile", res.New)
	if err != nil {
		t.Fatalf("output does not parse: %v", err)
	}
	if added := newWarnings(BuildkitLint(t, input), BuildkitLint(t, res.New)); len(added) > 0 {
		t.Errorf("output has new BuildKit lint warnings: %q", added)
	}
	// 2. No fix, no change; and every changed line of the input belongs to
	// an instruction a fix named.
	if len(res.Fixes) == 0 && res.Changed() {
		t.Errorf("file changed with no fix reported")
	}
	if line, text, ok := untouchedLinesKept(res.Old, res.New, touchedLines(before, res.Fixes)); !ok {
		t.Errorf("line %d changed but no fix covers it: %q", line, text)
	}
	// 3. Idempotence.
	again, err := rewrite.Run(ctx, res.Path, res.New, rules, env)
	if err != nil {
		t.Fatalf("second run: %v", err)
	}
	if again.Changed() {
		t.Errorf("second run changed the output:\n%s", rewrite.UnifiedDiff("Dockerfile", res.New, again.New))
	}
	// 4. The diff applies with git apply and patch -p1.
	if res.Changed() {
		checkDiffApplies(t, res.Old, res.New)
	}
	// 5. Line endings, BOM, the final newline and the escape character
	// are kept.
	checkFormKept(t, input, res.New, before.Escape, after.Escape)
	// 6. Stage names survive, and every COPY --from still names a stage or
	// an image.
	checkStageNamesKept(t, before, after)
	// 7. Determinism.
	third, err := rewrite.Run(ctx, res.Path, input, rules, env)
	if err != nil || !bytes.Equal(third.New, res.New) || formatNotes(third.Notes) != formatNotes(res.Notes) {
		t.Errorf("a second run on the same input gave a different result")
	}
}

// touchedLines are the lines of the input the fixes may change: those
// they name and every line of an instruction among them.
func touchedLines(before *rewrite.Document, fixes []rewrite.Fix) map[int]bool {
	touched := map[int]bool{}
	for _, f := range fixes {
		for _, r := range f.Touched {
			for l := r.Start; l <= r.End; l++ {
				touched[l] = true
				// An edit inside an instruction may change any of its lines.
				if in := before.InstructionAt(l); in != nil {
					for m := in.Line; m <= in.EndLine; m++ {
						touched[m] = true
					}
				}
			}
		}
	}
	return touched
}

// checkFormKept checks that the output keeps the input's BOM, final
// newline, CRLF line endings and escape character.
func checkFormKept(t *testing.T, input, output []byte, escBefore, escAfter rune) {
	t.Helper()
	if bytes.HasPrefix(input, []byte(rewrite.BOM)) != bytes.HasPrefix(output, []byte(rewrite.BOM)) {
		t.Errorf("BOM not kept")
	}
	if bytes.HasSuffix(input, []byte("\n")) != bytes.HasSuffix(output, []byte("\n")) {
		t.Errorf("final newline not kept")
	}
	if bytes.Contains(input, []byte("\r\n")) {
		if bare := bytes.Count(output, []byte("\n")) - bytes.Count(output, []byte("\r\n")); bare != bytes.Count(input, []byte("\n"))-bytes.Count(input, []byte("\r\n")) {
			t.Errorf("CRLF file gained bare LF line endings")
		}
	}
	if escBefore != escAfter {
		t.Errorf("escape character changed from %q to %q", escBefore, escAfter)
	}
}

// checkStageNamesKept checks that every named stage of the input is still
// there.
func checkStageNamesKept(t *testing.T, before, after *rewrite.Document) {
	t.Helper()
	names := map[string]bool{}
	for _, s := range after.Stages {
		names[strings.ToLower(s.Name)] = true
	}
	for _, s := range before.Stages {
		if s.Name != "" && !names[strings.ToLower(s.Name)] {
			t.Errorf("stage %q disappeared", s.Name)
		}
	}
}

// newWarnings returns the warnings of rules that warn more often after than
// before. Counting per rule, not per message, lets a warning follow the
// text it is about: `Add` renamed to `Copy` in a lower-case file keeps its
// one casing warning, with the new name in it.
func newWarnings(before, after []string) []string {
	count := map[string]int{}
	for _, w := range before {
		rule, _, _ := strings.Cut(w, ":")
		count[rule]++
	}
	var added []string
	for _, w := range after {
		rule, _, _ := strings.Cut(w, ":")
		if count[rule] > 0 {
			count[rule]--
			continue
		}
		added = append(added, w)
	}
	sort.Strings(added)
	return added
}

// checkDiffApplies applies the unified diff of old → new with git apply and
// with patch -p1 in a scratch folder and compares the result with new.
func checkDiffApplies(t *testing.T, old, new []byte) {
	t.Helper()
	diff := rewrite.UnifiedDiff("Dockerfile", old, new)
	for _, tool := range [][]string{{"git", "apply", "--whitespace=nowarn", "-"}, {"patch", "-p1", "--quiet", "--no-backup-if-mismatch"}} {
		if _, err := exec.LookPath(tool[0]); err != nil {
			t.Fatalf("%s not installed: the diff invariant cannot be checked", tool[0])
		}
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), old, 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(tool[0], tool[1:]...)
		cmd.Dir = dir
		cmd.Stdin = strings.NewReader(diff)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s failed: %v\n%s\ndiff:\n%s", tool[0], err, out, diff)
		}
		got, err := os.ReadFile(filepath.Join(dir, "Dockerfile"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, new) {
			t.Errorf("%s produced a different file:\n%q\nwant:\n%q", tool[0], got, new)
		}
	}
}

// untouchedLinesKept reports whether the lines of old that no fix touched
// appear in new, unchanged and in order: then some line-by-line edit of old
// into new deletes or changes only touched lines and inserts the rest. (A
// diff can pick another of several equal alignments — which of two blank
// lines around a moved instruction it deletes — so its '-' lines alone do
// not prove a line was changed.) When not, it names the first untouched line
// that new lacks.
func untouchedLinesKept(old, new []byte, touched map[int]bool) (line int, text string, ok bool) {
	oldLines := strings.SplitAfter(string(old), "\n")
	newLines := strings.SplitAfter(string(new), "\n")
	j := 0
	for i, l := range oldLines {
		if l == "" || touched[i+1] {
			continue
		}
		for j < len(newLines) && newLines[j] != l {
			j++
		}
		if j == len(newLines) {
			return i + 1, strings.TrimRight(l, "\r\n"), false
		}
		j++
	}
	return 0, "", true
}
