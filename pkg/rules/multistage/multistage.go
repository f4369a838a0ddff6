package multistage

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/distribution/reference"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/hardenfix/hardenfix/pkg/rules/internal/imageref"
	"github.com/hardenfix/hardenfix/pkg/rules/internal/userspec"
)

//go:embed doc/multi-stage.md
var multiStageDoc string

// Rule splits single-stage builds into a build stage and a minimal
// runtime stage.
var Rule = &rewrite.Rule{
	Name:    "multi-stage",
	Summary: "Split a single-stage build into a build stage and a minimal runtime stage.",
	Doc:     rewrite.DocFile(multiStageDoc),
	Risk:    rewrite.Review,
	URL:     "https://docs.docker.com/build/building/multi-stage/",
	Options: []*rewrite.Option{runtimeImages},
	Check:   checkMultiStage,
}

// runtimeImages overrides the runtime image multi-stage chooses.
var runtimeImages = &rewrite.Option{
	Name: "runtime-images",
	Type: rewrite.MapOption,
	Doc: "The runtime image per ecosystem (go for static Go binaries, go-cgo, node, python, java,\n" +
		"dotnet, rust) the runtime stage uses instead of the rule's own choice.",
}

// stageStep is one instruction of the stage being split, with the working
// directory and variables in effect when it runs.
type stageStep struct {
	in      *rewrite.Instruction
	workdir string // absolute; "" when unknown (a variable, or the base image's)
	// baseWhy says why workdir is "" when the base image's working
	// directory is unknown; fromBase is true before the first absolute
	// WORKDIR, where relative paths resolve against the base image's.
	baseWhy  string
	fromBase bool
	vars     rewrite.Vars
	cmds     []rewrite.ShellCommand // RUN: its simple commands that have a program (see Argv)
	// progs and args are the Program and argValues of each of cmds,
	// worked out once for the recipes that each look through every step.
	progs []string
	args  [][]string
}

// argValues returns the values of a command's arguments, after its program.
func argValues(c rewrite.ShellCommand) []string { return rewrite.Values(c.Argv()[1:]) }

// recipe is what an ecosystem recogniser decides: the runtime image, what
// to copy into it, and any change the build stage needs.
type recipe struct {
	ecosystem string
	runtime   string
	hasShell  bool          // the runtime image has /bin/sh
	programs  []string      // commands the runtime image provides (node, python, …)
	artifacts []artifact    // what to copy from the build stage
	prelude   []string      // instructions the final stage needs before the artifacts
	buildEdit *rewrite.Edit // one change to the build stage (venv, prune), if any
	buildStep int           // index in steps of the last RUN that builds
	caveat    string        // a note that goes with the split
	// anyProgram accepts an entrypoint run by bare name (Python console
	// scripts land in the virtual environment's bin, on PATH).
	anyProgram bool
	// runtimeLibs are system libraries the artifact needs that the build
	// image carried without the Dockerfile installing them (Debian names).
	runtimeLibs []string
	// interpreted: files copied before the build step outside the copied
	// folders are runtime files (scripts, configuration), not build inputs,
	// so they are copied into the final stage too.
	interpreted bool
}

type artifact struct {
	src, dst string
	dir      bool // a directory (or a glob into a directory)
}

func checkMultiStage(ctx context.Context, d *rewrite.Document, env *rewrite.Env) ([]rewrite.Fix, []rewrite.Note, error) {
	switch len(d.Stages) {
	case 0:
		return nil, nil, nil // only global ARGs: nothing to build
	case 1:
	default:
		return slimFinalStage(ctx, d, env)
	}
	ins := d.Stage(0)
	if len(ins) == 0 || ins[0].Keyword != "FROM" {
		return nil, nil, nil
	}
	from := ins[0]
	image, unset, err := d.Expand(d.Stages[0].BaseName, d.GlobalArgs)
	if err != nil || len(unset) > 0 {
		return nil, nil, nil
	}
	if last := d.Instructions[len(d.Instructions)-1]; d.EndsInContinuation(last) {
		return nil, nil, nil // moving or following it would change what the dangling escape joins
	}
	base := catalogWorkdir(env, image)
	steps := stageSteps(d, ins[1:], base)
	rec, reason := recogniseBuild(d, image, steps, env)
	if (rec != nil || reason != "") && env.Resolver != nil && usesBaseWorkdir(steps) {
		// The image config is the truth about its WorkingDir; asked only
		// when a recipe matched and a relative path depends on it.
		if online := registryWorkdir(ctx, env, image, base); online != base {
			steps = stageSteps(d, ins[1:], online)
			rec, reason = recogniseBuild(d, image, steps, env)
		}
	}
	note := func(why string) ([]rewrite.Fix, []rewrite.Note, error) {
		return nil, []rewrite.Note{{Line: from.Line, Message: "not split into build and runtime stages: " + why}}, nil
	}
	if rec == nil {
		if reason != "" {
			return note(reason)
		}
		return nil, nil, nil
	}
	if dev := devServer(d, steps, env); dev != "" {
		return note("the container runs a development server (" + dev + "): a development image needs its dev dependencies and tools at run time, so nothing is pruned or split")
	}
	if pref := runtimeImages.Map(env)[ecosystemKey(rec)]; pref != "" {
		rec.runtime = pref // the configuration's runtime-images choice
	}
	if why, silent := sameImageRuntime(image, steps, rec); silent {
		return nil, nil, nil // the runtime would be the same image with nothing left behind
	} else if why != "" {
		return note(why)
	}
	run, why := runtimeInstall(d, env, steps, rec, rec.runtimeLibs, nil)
	if why != "" {
		return note(why)
	}
	plan, why := planSplit(d, env, steps, rec)
	if why != "" {
		return note(why)
	}
	if why := userChangeReason(env, image, steps, rec); why != "" {
		return note(why)
	}
	if len(plan.tools) > 0 {
		// The HEALTHCHECK's curl or wget came with the build image.
		if run, why = runtimeInstall(d, env, steps, rec, rec.runtimeLibs, plan.tools); why != "" {
			return note(why)
		}
	}
	if run != "" {
		rec.prelude = append(rec.prelude, run)
	}
	var pinNote string
	if runtime, why := carryPin(ctx, image, rec.runtime, env); why != "" {
		pinNote = pinNotCarried(runtime, why)
	} else {
		rec.runtime = runtime
	}
	fix := rewrite.Fix{
		Line:    from.Line,
		Message: fmt.Sprintf("%s build split: the toolchain stays in stage %q and the final stage on %s holds only %s", rec.ecosystem, plan.stageName, rec.runtime, describeArtifacts(rec.artifacts)),
		Edits:   plan.edits(d, from, rec),
	}
	notes := []rewrite.Note{{Line: from.Line, Message: "the final stage holds only " + describeArtifacts(rec.artifacts) + "; if the application reads other files at run time (templates, static assets, configuration), add COPY --from=" + plan.stageName + " lines for them"}}
	if rec.caveat != "" {
		notes = append(notes, rewrite.Note{Line: from.Line, Message: rec.caveat})
	}
	if len(plan.tools) > 0 {
		notes = append(notes, rewrite.Note{Line: from.Line, Message: fmt.Sprintf("the final stage installs %s: the HEALTHCHECK runs it, and %s does not have it", strings.Join(plan.tools, " and "), rec.runtime)})
	}
	if pinNote != "" {
		notes = append(notes, rewrite.Note{Line: from.Line, Message: pinNote})
	}
	return []rewrite.Fix{fix}, notes, nil
}

func describeArtifacts(as []artifact) string {
	var parts []string
	for _, a := range as {
		parts = append(parts, a.src)
	}
	return strings.Join(parts, " and ")
}

// recogniseBuild asks each ecosystem's recipe whether it knows the build.
func recogniseBuild(d *rewrite.Document, image string, steps []stageStep, env *rewrite.Env) (*recipe, string) {
	for _, recognise := range []func(*rewrite.Document, string, []stageStep, *rewrite.Env) (*recipe, string){
		goRecipe, nodeRecipe, pythonRecipe, javaRecipe, dotnetRecipe, rustRecipe,
	} {
		if rec, reason := recognise(d, image, steps, env); rec != nil || reason != "" {
			return rec, reason
		}
	}
	return nil, ""
}

// stageSteps annotates the stage's instructions with the working directory
// and variables in effect at each; base is where the stage starts.
func stageSteps(d *rewrite.Document, ins []*rewrite.Instruction, base workdirFact) []stageStep {
	steps := make([]stageStep, 0, len(ins))
	workdir, baseWhy, fromBase := base.dir, base.why, true
	for _, in := range ins {
		vars := d.VarsAt(in)
		st := stageStep{in: in, workdir: workdir, vars: vars, baseWhy: baseWhy, fromBase: fromBase}
		switch c := in.Command.(type) {
		case *instructions.WorkdirCommand:
			p, unset, err := d.Expand(c.Path, vars)
			switch {
			case err != nil || len(unset) > 0:
				workdir, baseWhy, fromBase = "", "", false
			case path.IsAbs(p):
				workdir, baseWhy, fromBase = path.Clean(p), "", false
			case workdir == "":
				// relative to an unknown directory: stays unknown, for
				// the same reason
			default:
				workdir = path.Join(workdir, p)
			}
			st.workdir, st.baseWhy, st.fromBase = workdir, baseWhy, fromBase
		case *instructions.RunCommand:
			st.cmds = withProgram(d.ShellCommands(in))
			st.progs = make([]string, len(st.cmds))
			st.args = make([][]string, len(st.cmds))
			for i, c := range st.cmds {
				st.progs[i], st.args[i] = c.Program(), argValues(c)
			}
		}
		steps = append(steps, st)
	}
	return steps
}

// withProgram returns the commands that have a program: cmds itself
// (capped, never to be changed) when they all do, as most RUNs' do.
func withProgram(cmds []rewrite.ShellCommand) []rewrite.ShellCommand {
	for i, c := range cmds {
		if c.Argv() == nil {
			out := slices.Clip(cmds[:i])
			for _, c := range cmds[i+1:] {
				if c.Argv() != nil {
					out = append(out, c)
				}
			}
			return out
		}
	}
	return slices.Clip(cmds)
}

// findCommands returns the indexes of the RUN steps with a simple command
// for which match is true, and the matching commands.
func findCommands(steps []stageStep, match func(prog string, args []string) bool) (idx []int, cmds []rewrite.ShellCommand) {
	for i, st := range steps {
		found := false
		for i, c := range st.cmds {
			if match(st.progs[i], st.args[i]) {
				cmds = append(cmds, c)
				found = true
			}
		}
		if found {
			idx = append(idx, i)
		}
	}
	return idx, cmds
}

// splitImage splits an image reference into its repository's familiar
// name ("golang" for docker.io/library/golang, "mcr.microsoft.com/dotnet/sdk"
// elsewhere), tag and digest, with imageref.Parse. A reference that does not
// parse is returned as the name.
func splitImage(ref string) (name, tag, digest string) {
	p, err := imageref.Parse(ref)
	if err != nil {
		return ref, "", ""
	}
	return reference.FamiliarName(p.Named), p.Tag, p.Digest
}

// splitPlan is the decided shape of the split.
type splitPlan struct {
	stageName string
	moved     []*rewrite.Instruction // runtime instructions moved to the final stage
	copied    []*rewrite.Instruction // pre-build ARG/ENV copied before the artifacts
	replayed  []*rewrite.Instruction // post-build ARG/ENV/WORKDIR/COPY copied after them
	user      *rewrite.Instruction   // a USER to carry over, if any
	workdir   string
	entry     []string // exec-form entrypoint to write instead of a shell form
	entryIn   *rewrite.Instruction
	// texts are copied instructions written differently in the final
	// stage: legacy `ENV key value` lines in key=value form, so the copy
	// adds no BuildKit LegacyKeyValueFormat warning.
	texts map[*rewrite.Instruction]string
	// finalWorkdir is where the container starts; tools are what the
	// HEALTHCHECK needs installed in the final stage (curl, wget).
	finalWorkdir string
	tools        []string
	// preBuildWhy says why a RUN before the build step may prepare
	// something the runtime needs ("" when none does).
	preBuildWhy string
}

// runtimeKeywords are instructions that only describe how the image runs.
var runtimeKeywords = map[string]bool{
	"EXPOSE": true, "LABEL": true, "VOLUME": true, "STOPSIGNAL": true,
	"HEALTHCHECK": true, "CMD": true, "ENTRYPOINT": true, "MAINTAINER": true,
}

// planSplit checks the preconditions every recipe shares and decides what
// goes into the final stage. It returns a reason when the split is unsafe.
func planSplit(d *rewrite.Document, env *rewrite.Env, steps []stageStep, rec *recipe) (*splitPlan, string) {
	plan := &splitPlan{stageName: "build"}
	if n := d.Stages[0].Name; n != "" {
		plan.stageName = n
	}
	if pf := d.Stages[0].Platform; pf != "" && !strings.Contains(pf, "$") {
		return nil, fmt.Sprintf("the stage is pinned to --platform=%s; repeating a constant platform on the runtime stage is what BuildKit warns against, and dropping it could change the binary's platform", pf)
	}
	last := steps[rec.buildStep]
	if last.workdir == "" {
		return nil, workdirReason(last, "the working directory depends on a variable with no known value")
	}
	plan.workdir = last.workdir
	entry, why := plan.place(d, steps, rec)
	if why != "" {
		return nil, why
	}
	argv, why := plan.entryArgv(d, entry, rec)
	if why != "" {
		return nil, why
	}
	finalWorkdir := steps[len(steps)-1].workdir
	if finalWorkdir == "" {
		return nil, workdirReason(steps[len(steps)-1], "the working directory depends on a variable with no known value")
	}
	if why := checkProgram(argv, finalWorkdir, rec); why != "" {
		return nil, why
	}
	if plan.preBuildWhy != "" {
		return nil, plan.preBuildWhy
	}
	plan.finalWorkdir = finalWorkdir
	if plan.tools, why = plan.healthcheckTools(env, steps, rec); why != "" {
		return nil, why
	}
	return plan, ""
}

// place sorts the stage's instructions into the plan: moved to the final
// stage, copied before the artifacts, replayed after them, or left in the
// build stage. It returns the instruction that says what the image runs
// (the ENTRYPOINT, else the CMD), or a reason for the first instruction
// that has no safe place.
func (p *splitPlan) place(d *rewrite.Document, steps []stageStep, rec *recipe) (*rewrite.Instruction, string) {
	var entrypoint, cmd *rewrite.Instruction
	for i, st := range steps {
		in := st.in
		switch {
		case runtimeKeywords[in.Keyword]:
			p.moved = append(p.moved, in)
			switch in.Keyword {
			case "ENTRYPOINT":
				entrypoint = in
			case "CMD":
				cmd = in
			}
		case in.Keyword == "SHELL", in.Keyword == "ONBUILD":
			return nil, fmt.Sprintf("%s at line %d has no clear place in a runtime stage", in.Keyword, in.Line)
		case in.Keyword == "USER":
			if why := carriedUser(in, rec); why != "" {
				return nil, why
			}
			p.user = in
		case in.Keyword == "RUN" && i > rec.buildStep:
			if !buildOnly(st, rec) {
				return nil, fmt.Sprintf("the RUN at line %d comes after the build step and may prepare something the runtime needs", in.Line)
			}
		case in.Keyword == "RUN":
			srcDir := "" // a compiled build's sources are only its inputs
			if !rec.interpreted {
				srcDir = p.workdir
			}
			if why := preBuildRun(st, rec, srcDir); why != "" && p.preBuildWhy == "" {
				p.preBuildWhy = why // said after the entrypoint's checks, which are more precise
			}
		case (in.Keyword == "ARG" || in.Keyword == "ENV") && i < rec.buildStep:
			if why := p.modernEnv(d, in); why != "" {
				return nil, why
			}
			p.copied = append(p.copied, in)
		case (in.Keyword == "ARG" || in.Keyword == "ENV" || in.Keyword == "WORKDIR") && i > rec.buildStep:
			if why := p.modernEnv(d, in); why != "" {
				return nil, why
			}
			p.replayed = append(p.replayed, in)
		case in.Keyword == "COPY" || in.Keyword == "ADD":
			if !copiesOutside(d, st, rec) || i < rec.buildStep && !rec.interpreted {
				continue // already inside a copied folder, or a build input
			}
			if why := replayableCopy(in); why != "" {
				return nil, why
			}
			if why := replayedCopyDir(d, st, i < rec.buildStep, p.workdir); why != "" {
				return nil, why
			}
			p.replayed = append(p.replayed, in)
		}
	}
	if entrypoint != nil {
		return entrypoint, ""
	}
	if cmd != nil {
		return cmd, ""
	}
	return nil, "there is no CMD or ENTRYPOINT, so what the runtime runs is unknown"
}

// carriedUser returns why a USER cannot be carried over to the runtime
// stage, or "". Numbers and root exist in every image (and the non-root
// rule replaces a trailing USER root, so refusing here would make a
// second run split what the first did not).
func carriedUser(in *rewrite.Instruction, rec *recipe) string {
	u := in.Command.(*instructions.UserCommand).User
	name, _, _ := strings.Cut(u, ":")
	if !isNumericUser(u) && name != "root" && !(rec.ecosystem == "Node.js" && name == "node") {
		return fmt.Sprintf("USER %s at line %d names a user the runtime image may not have", u, in.Line)
	}
	return ""
}

// entryArgv returns the words of what entry runs, as the checks on the
// program read them. A shell-form entry in a runtime without a shell is
// written in exec form (p.entry), which needs it to be plain words.
func (p *splitPlan) entryArgv(d *rewrite.Document, entry *rewrite.Instruction, rec *recipe) ([]string, string) {
	argv, shellForm := cmdLine(entry)
	if shellForm {
		if !rec.hasShell {
			// Quoted words a shell reads literally are fine: the exec-form
			// rule writes those as exec form too, and both must agree, or a
			// second run would split what the first refused.
			if words, ok := literalValues(d, entry); ok {
				p.entry = words
			} else if needsShell(strings.Join(argv, " ")) {
				return nil, fmt.Sprintf("the shell-form %s at line %d needs a shell, which %s does not have", entry.Keyword, entry.Line, rec.runtime)
			} else {
				p.entry = strings.Fields(strings.Join(argv, " "))
			}
			p.entryIn = entry
			argv = p.entry
		} else {
			argv = strings.Fields(strings.Join(argv, " "))
		}
	}
	if len(argv) == 0 {
		return nil, fmt.Sprintf("the %s at line %d is empty", entry.Keyword, entry.Line)
	}
	return argv, ""
}

// copyDest is the destination of a COPY or ADD as written; false for other
// instructions.
func copyDest(in *rewrite.Instruction) (string, bool) {
	switch c := in.Command.(type) {
	case *instructions.CopyCommand:
		return c.DestPath, true
	case *instructions.AddCommand:
		return c.DestPath, true
	}
	return "", false
}

// copiesOutside reports whether a COPY/ADD puts files outside every folder
// the final stage copies from the build stage.
func copiesOutside(d *rewrite.Document, st stageStep, rec *recipe) bool {
	dest, ok := copyDest(st.in)
	if !ok {
		return false
	}
	dest, unset, err := d.Expand(dest, st.vars)
	if err != nil || len(unset) > 0 || st.workdir == "" {
		return true
	}
	if !path.IsAbs(dest) {
		dest = path.Join(st.workdir, dest)
	}
	return !underArtifacts(path.Clean(dest), rec)
}

func underArtifacts(p string, rec *recipe) bool {
	for _, a := range rec.artifacts {
		dst := strings.TrimSuffix(a.dst, "/")
		if p == dst || a.dir && strings.HasPrefix(p, dst+"/") {
			return true
		}
	}
	return false
}

// isNumericUser reports whether a USER or --chown value names its user by
// number ("1000", "1000:1000").
func isNumericUser(u string) bool {
	spec := userspec.Parse(u, true)
	return spec.Known && spec.Numeric()
}

// buildOnly reports whether a RUN after the build step only runs the
// toolchain (tests, vet, lint) and so changes nothing the runtime needs.
func buildOnly(st stageStep, rec *recipe) bool {
	if len(st.cmds) == 0 {
		return false
	}
	for _, c := range st.cmds {
		args := argValues(c)
		switch c.Program() {
		case "go":
			if len(args) > 0 && (args[0] == "test" || args[0] == "vet") {
				continue
			}
		case "npm", "yarn", "pnpm":
			if len(args) > 0 && (args[0] == "test" || args[0] == "prune" || (args[0] == "run" && len(args) > 1 && (args[1] == "test" || args[1] == "lint"))) {
				continue
			}
		case "cargo":
			if len(args) > 0 && args[0] == "test" {
				continue
			}
		}
		return false
	}
	return true
}

// replayableCopy says why a COPY/ADD cannot simply be repeated in the final
// stage ("" when it can): repeating it verbatim does to the final stage's
// files exactly what it did to the build stage's.
func replayableCopy(in *rewrite.Instruction) string {
	switch c := in.Command.(type) {
	case *instructions.CopyCommand:
		if c.From != "" {
			return fmt.Sprintf("the COPY --from at line %d after the build step is not repeated automatically", in.Line)
		}
		if c.Chown != "" && !isNumericUser(c.Chown) {
			return fmt.Sprintf("the COPY at line %d gives files to a named user (--chown=%s) the runtime image may not have", in.Line, c.Chown)
		}
	case *instructions.AddCommand:
		if c.Chown != "" && !isNumericUser(c.Chown) {
			return fmt.Sprintf("the ADD at line %d gives files to a named user (--chown=%s) the runtime image may not have", in.Line, c.Chown)
		}
	}
	return ""
}

// cmdLine returns a CMD or ENTRYPOINT's words and whether it is shell form.
func cmdLine(in *rewrite.Instruction) ([]string, bool) {
	switch c := in.Command.(type) {
	case *instructions.CmdCommand:
		return c.CmdLine, c.PrependShell
	case *instructions.EntrypointCommand:
		return c.CmdLine, c.PrependShell
	}
	return nil, false
}

// literalValues returns the values of a shell-form instruction's words when
// a shell reads every one of them literally.
func literalValues(d *rewrite.Document, in *rewrite.Instruction) ([]string, bool) {
	words := d.Words(in.ArgsSpan)
	if len(words) == 0 {
		return nil, false
	}
	values := make([]string, len(words))
	for i, w := range words {
		if !w.Literal() {
			return nil, false
		}
		values[i] = w.Value
	}
	return values, true
}

// needsShell reports whether a shell-form command line uses anything only
// a shell provides.
func needsShell(s string) bool {
	return strings.ContainsAny(s, "$|&;<>(){}*?[]~`'\"\\\n#=")
}

// checkProgram makes sure the program the container starts exists in the
// final stage — the artifact itself, a file inside a copied folder, or a
// command the runtime image provides — and that a jar, dll, script or module
// named as its argument was copied too.
func checkProgram(argv []string, workdir string, rec *recipe) string {
	prog := argv[0]
	resolve := func(p string) string {
		if path.IsAbs(p) {
			return path.Clean(p)
		}
		return path.Join(workdir, p)
	}
	switch {
	case prog == "/bin/sh" || prog == "sh" || prog == "/bin/bash" || prog == "bash":
		if !rec.hasShell {
			return fmt.Sprintf("the entrypoint runs %s, which %s does not have", prog, rec.runtime)
		}
	case !strings.Contains(prog, "/"):
		known := rec.anyProgram || contains(rec.programs, prog)
		for i, a := range rec.artifacts {
			if !known && !a.dir && path.Base(a.dst) == prog {
				// Run by name: make sure it lands on the runtime's PATH.
				rec.artifacts[i].dst = "/usr/local/bin/" + prog
				known = true
			}
		}
		if !known {
			return fmt.Sprintf("the entrypoint runs %q, which is not known to exist in %s", prog, rec.runtime)
		}
	default:
		if !underArtifacts(resolve(prog), rec) {
			return fmt.Sprintf("the entrypoint runs %s, which is not among what the final stage copies (%s)", prog, describeArtifacts(rec.artifacts))
		}
	}
	switch prog {
	case "dotnet":
		if len(argv) < 2 || !strings.HasSuffix(argv[1], ".dll") {
			return "the entrypoint runs dotnet without a published .dll (dotnet run needs the SDK)"
		}
	case "java":
		if !slices.ContainsFunc(argv[1:], func(a string) bool { return strings.HasSuffix(a, ".jar") }) {
			return "the entrypoint runs java without -jar, so the classpath it needs cannot be checked"
		}
	}
	for _, a := range argv[1:] {
		if strings.HasPrefix(a, "-") || strings.Contains(a, "$") {
			continue
		}
		switch path.Ext(a) {
		case ".jar", ".dll", ".js", ".mjs", ".cjs", ".py":
			if !underArtifacts(resolve(a), rec) {
				return fmt.Sprintf("the entrypoint uses %s, which is not among what the final stage copies (%s)", a, describeArtifacts(rec.artifacts))
			}
		}
	}
	return ""
}

// edits turns the plan into byte edits: the stage name on FROM, the moved
// instructions taken out, the recipe's change to the build stage, and the
// final stage appended at the end of the file.
func (p *splitPlan) edits(d *rewrite.Document, from *rewrite.Instruction, rec *recipe) []rewrite.Edit {
	var edits []rewrite.Edit
	kwLower := from.KeywordSpan.Text(d.Src) == strings.ToLower(from.KeywordSpan.Text(d.Src))
	kw := func(s string) string {
		if kwLower {
			return strings.ToLower(s)
		}
		return s
	}
	if d.Stages[0].Name == "" {
		words := d.Words(from.ArgsSpan)
		end := words[len(words)-1].Span.End
		edits = append(edits, rewrite.Insert(end, " "+kw("AS")+" "+p.stageName))
	}
	if rec.buildEdit != nil {
		edits = append(edits, *rec.buildEdit)
	}
	eofHasNewline := len(d.Src) > 0 && d.Src[len(d.Src)-1] == '\n'
	var lines []string
	add := func(s string) { lines = append(lines, s) }
	fromLine := kw("FROM") + " "
	if pf := d.Stages[0].Platform; pf != "" && strings.Trim(pf, "${}") != "TARGETPLATFORM" {
		// $TARGETPLATFORM is the default; BuildKit calls repeating it redundant.
		fromLine += "--platform=" + pf + " "
	}
	add(fromLine + rec.runtime)
	copyText := func(in *rewrite.Instruction) string {
		if t, ok := p.texts[in]; ok {
			return t
		}
		return instructionText(d, in, false)
	}
	for _, in := range p.copied {
		add(copyText(in))
	}
	add(kw("WORKDIR") + " " + p.workdir)
	lines = append(lines, rec.prelude...)
	for _, a := range rec.artifacts {
		dst := a.dst
		if a.dir && !strings.HasSuffix(dst, "/") {
			dst += "/"
		}
		add(fmt.Sprintf("%s --from=%s %s %s", kw("COPY"), p.stageName, a.src, dst))
	}
	for _, in := range p.replayed {
		add(copyText(in))
	}
	if p.user != nil {
		add(instructionText(d, p.user, false))
	}
	deleted := map[int]bool{} // lines taken out of the build stage
	for _, in := range p.moved {
		text := instructionText(d, in, true)
		if in == p.entryIn {
			text = commentsAbove(d, in) + in.KeywordSpan.Text(d.Src) + " " + jsonArray(p.entry)
		}
		add(text)
		first := d.LineOf(commentStart(d, in))
		for l := first; l <= in.EndLine; l++ {
			deleted[l] = true
		}
	}
	edits = append(edits, deleteLines(d, deleted)...)
	text := strings.Join(lines, d.Newline)
	switch {
	case eofHasNewline && lastKeptLineBlank(d, deleted):
		text += d.Newline // the build stage already ends with a blank line
	case eofHasNewline:
		text = d.Newline + text + d.Newline
	default:
		text = d.Newline + d.Newline + text
		if len(p.moved) > 0 && p.moved[len(p.moved)-1].Span.End == len(d.Src) {
			// The last line moves; what was before it already ends with a
			// newline, so only the blank line is needed.
			text = strings.TrimPrefix(text, d.Newline)
		}
	}
	edits = append(edits, rewrite.Insert(len(d.Src), text))
	return edits
}

// deleteLines returns edits that remove the given lines, and with each run
// of them one blank line when it sits between two blank lines, so moving
// instructions out does not leave a pile of empty lines behind.
func deleteLines(d *rewrite.Document, lines map[int]bool) []rewrite.Edit {
	blank := func(l int) bool { return l >= 1 && l <= d.LineCount() && strings.TrimSpace(d.LineText(l)) == "" }
	var edits []rewrite.Edit
	for l := 1; l <= d.LineCount(); l++ {
		if !lines[l] {
			continue
		}
		end := l
		for end+1 <= d.LineCount() && lines[end+1] {
			end++
		}
		last := end
		if (l == 1 || blank(l-1)) && blank(end+1) && !lines[end+1] {
			last = end + 1
			lines[last] = true
		}
		stop := len(d.Src)
		if last < d.LineCount() {
			stop = d.LineStart(last + 1)
		}
		edits = append(edits, rewrite.Edit{Start: d.LineStart(l), End: stop})
		l = last
	}
	return edits
}

// lastKeptLineBlank reports whether the last line that survives the
// deletions is blank.
func lastKeptLineBlank(d *rewrite.Document, deleted map[int]bool) bool {
	for l := d.LineCount(); l >= 1; l-- {
		if !deleted[l] {
			return strings.TrimSpace(d.LineText(l)) == ""
		}
	}
	return false
}

// instructionText is an instruction's source without its final line
// ending; withComments includes the comment lines right above it.
func instructionText(d *rewrite.Document, in *rewrite.Instruction, withComments bool) string {
	start := in.Span.Start
	if withComments {
		start = commentStart(d, in)
	}
	s := string(d.Src[start:in.Span.End])
	s = strings.TrimSuffix(s, "\n")
	s = strings.TrimSuffix(s, "\r")
	return s
}

func commentsAbove(d *rewrite.Document, in *rewrite.Instruction) string {
	return string(d.Src[commentStart(d, in):in.Span.Start])
}

// commentStart is where the comment lines directly above an instruction
// begin (the instruction's own start when there are none).
func commentStart(d *rewrite.Document, in *rewrite.Instruction) int {
	line := in.Line
	for line > 1 {
		t := strings.TrimSpace(d.LineText(line - 1))
		if !strings.HasPrefix(t, "#") || strings.Contains(t, rewrite.IgnoreDirective) {
			break
		}
		if prev := d.InstructionAt(line - 1); prev != nil {
			break // a comment inside the previous instruction's continuation
		}
		line--
	}
	return d.LineStart(line)
}

func jsonArray(words []string) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, w := range words {
		if i > 0 {
			b.WriteString(", ")
		}
		q, _ := json.Marshal(w)
		b.Write(q)
	}
	b.WriteByte(']')
	return b.String()
}

// slimFinalStage moves the final stage of a multi-stage file from a full
// python or node image to its slim variant when the stage runs nothing
// itself and starts only the language runtime: everything the full image
// adds (compilers, -dev headers, curl, git) is then unused.
func slimFinalStage(ctx context.Context, d *rewrite.Document, env *rewrite.Env) ([]rewrite.Fix, []rewrite.Note, error) {
	last := len(d.Stages) - 1
	ins := d.Stage(last)
	st := d.Stages[last]
	image, unset, err := d.Expand(st.BaseName, d.GlobalArgs)
	if err != nil || len(unset) > 0 || strings.Contains(st.BaseName, "$") {
		return nil, nil, nil
	}
	name, tag, digest := splitImage(image)
	if strings.Contains(tag, "slim") || strings.Contains(tag, "alpine") || strings.Contains(tag, "windows") {
		return nil, nil, nil
	}
	runtimes := map[string][]string{"python": {"python", "python3"}, "node": {"node", "npm", "npx"}}
	progs, ok := runtimes[name]
	if !ok {
		return nil, nil, nil
	}
	for _, s := range d.Stages[:last] {
		if strings.EqualFold(s.Name, st.BaseName) {
			return nil, nil, nil // built on an earlier stage
		}
	}
	for _, in := range ins[1:] {
		switch in.Keyword {
		case "RUN", "ONBUILD", "SHELL":
			return nil, nil, nil
		case "CMD", "ENTRYPOINT", "HEALTHCHECK":
			argv, shell := cmdLine(in)
			if hc, ok := in.Command.(*instructions.HealthCheckCommand); ok {
				if hc.Health == nil || len(hc.Health.Test) < 2 || hc.Health.Test[0] == "NONE" {
					continue
				}
				argv, shell = hc.Health.Test[1:], hc.Health.Test[0] == "CMD-SHELL"
			}
			if shell && len(argv) > 0 {
				argv = strings.Fields(argv[0])
			}
			if len(argv) == 0 || !contains(progs, path.Base(argv[0])) {
				return nil, nil, nil
			}
		}
	}
	slimTag := "slim"
	switch version, suite, _ := strings.Cut(tag, "-"); {
	case tag == "" || tag == "latest":
	case name == "python" && suite != "":
		slimTag = version + "-slim-" + suite
	default:
		slimTag = tag + "-slim"
	}
	from := ins[0]
	if name == "python" {
		if why := builtAgainstFullImage(d, env, last, name+":"+slimTag); why != "" {
			return nil, []rewrite.Note{{Line: from.Line, Message: fmt.Sprintf("the final stage only runs python but stays on %s: %s", image, why)}}, nil
		}
	}
	words := d.Words(from.ArgsSpan)
	for _, w := range words {
		if w.Value != st.BaseName {
			continue
		}
		raw := strings.TrimSuffix(w.Raw, "@"+digest) // a pinned digest is the full image's
		newRef := strings.TrimSuffix(raw, ":"+tag) + ":" + slimTag
		if tag == "" {
			newRef = raw + ":" + slimTag
		}
		newRef, why := carryPin(ctx, image, newRef, env)
		if why != "" {
			return nil, []rewrite.Note{{Line: from.Line, Message: fmt.Sprintf("the final stage only runs %s and could move to the slim variant %s, but the digest it is pinned to is the full image's, and the slim image could not be looked up to pin it (%s)", progs[0], newRef, why)}}, nil
		}
		return []rewrite.Fix{{
			Line:    from.Line,
			Message: fmt.Sprintf("the final stage only runs %s, so the slim variant %s does the same without the compilers and tools of the full image", progs[0], name+":"+slimTag),
			Edits:   []rewrite.Edit{rewrite.Replace(w.Span, newRef)},
			Image:   &rewrite.ImageChange{From: w.Raw, To: newRef},
		}}, nil, nil
	}
	return nil, nil, nil
}

// ecosystemKey is the runtime-images key of a recipe: go (static), go-cgo,
// node, python, java, dotnet, rust.
func ecosystemKey(rec *recipe) string {
	switch rec.ecosystem {
	case "Go":
		if strings.Contains(rec.runtime, "static") {
			return "go"
		}
		return "go-cgo"
	case "Node.js":
		return "node"
	case ".NET":
		return "dotnet"
	}
	return strings.ToLower(rec.ecosystem)
}

// modernEnv prepares the key=value form of a legacy `ENV key value` line
// that the final stage copies (BuildKit warns once per legacy line, so a
// verbatim copy would add a warning). It says why a line cannot be
// rewritten without changing its value ("" when it can, or needs not).
func (p *splitPlan) modernEnv(d *rewrite.Document, in *rewrite.Instruction) string {
	if in.Keyword != "ENV" {
		return ""
	}
	words := d.Words(in.ArgsSpan)
	if len(words) == 0 || strings.Contains(words[0].Raw, "=") {
		return "" // already key=value
	}
	key := words[0].Raw
	value := strings.TrimSpace(string(d.Src[words[0].Span.End:in.ArgsSpan.End]))
	if strings.ContainsAny(value, "\n") || strings.Contains(value, string(d.Escape)) {
		return fmt.Sprintf("the legacy ENV at line %d spans lines or uses the escape character; copying it would need the key=value form, written by hand", in.Line)
	}
	switch {
	case !strings.ContainsAny(value, " \t"):
	case !strings.ContainsAny(value, `"'`):
		value = `"` + value + `"`
	default:
		return fmt.Sprintf("the legacy ENV at line %d mixes quotes and spaces; copying it would need the key=value form, written by hand", in.Line)
	}
	if p.texts == nil {
		p.texts = map[*rewrite.Instruction]string{}
	}
	p.texts[in] = in.KeywordSpan.Text(d.Src) + " " + key + "=" + value
	return ""
}
