package multistage

import (
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/hardenfix/hardenfix/pkg/rules/internal/buildctx"
)

// Each recipe recognises one ecosystem's build in a single-stage
// Dockerfile. It returns (nil, "") when the stage does not build with its
// toolchain, a recipe when it knows how to split, and a reason when it
// recognises the build but cannot split it safely.

func goRecipe(d *rewrite.Document, image string, steps []stageStep, env *rewrite.Env) (*recipe, string) {
	idx, cmds := findCommands(steps, func(prog string, args []string) bool {
		return prog == "go" && len(args) > 0 && (args[0] == "build" || args[0] == "install")
	})
	if len(idx) == 0 {
		return nil, ""
	}
	name, tag, _ := splitImage(image)
	if name != "golang" {
		return nil, fmt.Sprintf("it builds with go on %s, not on the golang image, so which runtime fits is unknown", image)
	}
	if len(cmds) > 1 {
		return nil, "it runs go build or go install more than once, so which binary the runtime needs is unclear"
	}
	st := steps[idx[0]]
	c := cmds[0]
	all := argValues(c)
	sub, args := all[0], all[1:]
	out, pkgs := goBuildArgs(args)
	if st.workdir == "" {
		return nil, workdirReason(st, "the working directory of go build depends on a variable with no known value")
	}
	out, why := goOutput(sub, out, pkgs, st, env)
	if why != "" {
		return nil, why
	}
	cgo, known := goCGO(rewrite.Values(c.Assignments()), st)
	rec := &recipe{ecosystem: "Go", buildStep: idx[0], artifacts: []artifact{{src: out, dst: out}}}
	rec.runtime, rec.hasShell, why = goRuntime(tag, cgo, known, steps)
	if why != "" {
		return nil, why
	}
	return rec, ""
}

// goBuildArgs reads the arguments of go build or go install after the
// subcommand: the -o output (or "") and the packages named.
func goBuildArgs(args []string) (out string, pkgs []string) {
	pkgs = []string{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-o" && i+1 < len(args):
			out = args[i+1]
			i++
		case strings.HasPrefix(a, "-o="):
			out = strings.TrimPrefix(a, "-o=")
		case strings.HasPrefix(a, "-"):
			if goFlagTakesValue(a) && i+1 < len(args) {
				i++
			}
		default:
			pkgs = append(pkgs, a)
		}
	}
	return out, pkgs
}

// goOutput returns the absolute path of the binary go sub (build or
// install) writes in step st, given its -o (out, maybe "" or a folder)
// and the packages it names, or a reason when it is unclear.
func goOutput(sub, out string, pkgs []string, st stageStep, env *rewrite.Env) (string, string) {
	binName, why := goBinaryName(pkgs, env)
	switch {
	case sub == "install":
		if out != "" {
			return "", "go install with -o is not understood"
		}
		if why != "" {
			return "", why
		}
		gobin := "/go/bin"
		if v, ok := st.vars["GOBIN"]; ok {
			gobin = v
		}
		out = path.Join(gobin, binName)
	case out == "":
		if why != "" {
			return "", why
		}
		out = binName
	case strings.HasSuffix(out, "/"):
		if why != "" {
			return "", why
		}
		out = path.Join(out, binName)
	}
	if strings.Contains(out, "$") {
		return "", fmt.Sprintf("the go build output %q uses a variable", out)
	}
	if !path.IsAbs(out) {
		out = path.Join(st.workdir, out)
	}
	return out, ""
}

// goRuntime picks the runtime image for a Go binary built on golang:tag:
// distroless static for a static binary (CGO_ENABLED=0), else an image
// with the C library of the build image's release, or a reason when that
// release is unknown or the binary may need other shared libraries.
func goRuntime(tag, cgo string, known bool, steps []stageStep) (runtime string, hasShell bool, why string) {
	switch {
	case known && cgo == "0":
		return "gcr.io/distroless/static-debian12:nonroot", false, ""
	case installsPackages(steps):
		return "", false, "the build uses cgo and installs system packages, so the shared libraries the binary needs at run time are unknown (set CGO_ENABLED=0 for a static binary)"
	case strings.Contains(tag, "alpine"):
		v := alpineRelease.FindStringSubmatch(tag)
		if v == nil {
			return "", false, fmt.Sprintf("the build uses cgo on golang:%s, whose Alpine release is not in the tag (set CGO_ENABLED=0 for a static binary)", tag)
		}
		return "alpine:" + v[1], true, ""
	case strings.Contains(tag, "bookworm"):
		return "gcr.io/distroless/base-debian12:nonroot", false, ""
	case strings.Contains(tag, "bullseye"):
		return "gcr.io/distroless/base-debian11:nonroot", false, ""
	default:
		return "", false, fmt.Sprintf("the build uses cgo (CGO_ENABLED is not 0) and the Debian release of golang:%s is not in its tag, so which glibc the binary needs is unknown (set CGO_ENABLED=0, or use a -bookworm tag)", tag)
	}
}

// goFlagTakesValue lists go build flags whose value is a separate word.
func goFlagTakesValue(f string) bool {
	if strings.Contains(f, "=") {
		return false
	}
	switch strings.TrimLeft(f, "-") {
	case "ldflags", "gcflags", "asmflags", "tags", "mod", "modfile", "p", "pkgdir", "toolexec", "buildmode", "compiler", "gccgoflags", "installsuffix", "overlay", "pgo", "C", "coverpkg", "covermode", "buildvcs":
		return true
	}
	return false
}

// goBinaryName is the name go build gives a binary built from pkgs.
func goBinaryName(pkgs []string, env *rewrite.Env) (string, string) {
	if len(pkgs) > 1 {
		return "", "go build names several packages, so which binary the runtime needs is unclear"
	}
	pkg := "."
	if len(pkgs) == 1 {
		pkg = pkgs[0]
	}
	if strings.Contains(pkg, "...") {
		return "", "go build ./... builds many packages, so which binary the runtime needs is unclear"
	}
	if strings.HasSuffix(pkg, ".go") {
		return strings.TrimSuffix(path.Base(pkg), ".go"), ""
	}
	pkg, _, _ = strings.Cut(pkg, "@")
	pkg = strings.TrimSuffix(pkg, "/")
	if pkg != "." && pkg != "" {
		base := path.Base(pkg)
		if majorOnly.MatchString(base) {
			base = path.Base(path.Dir(pkg))
		}
		return base, ""
	}
	if env.BuildContext != nil {
		if mod := goModule(env.BuildContext); mod != "" {
			return path.Base(mod), ""
		}
	}
	return "", "go build has no -o, and the binary's name comes from go.mod, which is not in the build context on disk"
}

// goModule returns the module path go.mod at the root of the build
// context declares, or "".
func goModule(buildContext fs.FS) string {
	for _, line := range strings.Split(buildctx.ReadFile(buildContext, "go.mod"), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}

// goCGO finds CGO_ENABLED for a go command: its own assignments, an
// export earlier in the same RUN, or ENV/ARG in scope.
func goCGO(assigns []string, st stageStep) (string, bool) {
	for _, w := range assigns {
		if v, ok := strings.CutPrefix(w, "CGO_ENABLED="); ok {
			return v, true
		}
	}
	for _, c := range st.cmds {
		for _, w := range rewrite.Values(c.Words) {
			if v, ok := strings.CutPrefix(w, "CGO_ENABLED="); ok {
				return v, true
			}
		}
	}
	v, ok := st.vars["CGO_ENABLED"]
	return v, ok
}

// installsPackages reports whether the stage installs system packages.
func installsPackages(steps []stageStep) bool {
	idx, _ := findCommands(steps, func(prog string, args []string) bool {
		return len(args) > 0 && ((prog == "apt-get" || prog == "apt") && args[0] == "install" ||
			prog == "apk" && args[0] == "add" || (prog == "yum" || prog == "dnf" || prog == "microdnf") && args[0] == "install")
	})
	return len(idx) > 0
}

var nodeInstall = map[string]map[string]bool{
	"npm":  {"ci": true, "install": true, "i": true},
	"yarn": {"": true, "install": true},
	"pnpm": {"install": true, "i": true},
}

func nodeRecipe(d *rewrite.Document, image string, steps []stageStep, env *rewrite.Env) (*recipe, string) {
	installs, cmds := findCommands(steps, func(prog string, args []string) bool {
		sub := ""
		if len(args) > 0 {
			sub = args[0]
		}
		return nodeInstall[prog][sub]
	})
	if len(installs) == 0 {
		return nil, ""
	}
	name, tag, _ := splitImage(image)
	if name != "node" {
		// npm on another image installs a tool far more often than it
		// builds an app: no split, and no note to wade through.
		return nil, ""
	}
	if installsGlobally(cmds) {
		return nil, "it installs npm packages globally, outside the app folder"
	}
	// The build step is the last RUN that uses the package manager.
	all, _ := findCommands(steps, func(prog string, _ []string) bool { return prog == "npm" || prog == "yarn" || prog == "pnpm" })
	last := all[len(all)-1]
	st := steps[installs[0]]
	if st.workdir == "" && st.baseWhy != "" {
		return nil, st.baseWhy
	}
	if st.workdir == "" || st.workdir == "/" {
		return nil, "the packages are installed in /, so the app folder to copy is unclear (set a WORKDIR)"
	}
	rec := &recipe{
		ecosystem:   "Node.js",
		runtime:     "node:" + nodeSlimTag(tag),
		hasShell:    true,
		programs:    []string{"node", "npm", "npx", "yarn", "corepack"},
		artifacts:   []artifact{{src: st.workdir, dst: st.workdir, dir: true}},
		buildStep:   last,
		interpreted: true,
	}
	rec.caveat, rec.buildEdit = nodeDevDependencies(d, steps, cmds, st, last, tag)
	if rec.buildEdit != nil {
		if prog := devDependencyAtRun(d, steps, env); prog != "" {
			rec.caveat, rec.buildEdit = devDependencyCaveat(prog), nil
		}
	}
	if !strings.Contains(tag, "alpine") {
		rec.runtimeLibs = nodeRuntimeLibs(d, steps, env) // Debian names; alpine stays on its image
	}
	return rec, ""
}

// installsGlobally reports whether a package manager command installs
// globally (npm -g, yarn global).
func installsGlobally(cmds []rewrite.ShellCommand) bool {
	for _, c := range cmds {
		for _, w := range rewrite.Values(c.Words) {
			if w == "-g" || w == "--global" || w == "global" {
				return true
			}
		}
	}
	return false
}

// nodeSlimTag is the slim variant of node:tag (alpine and slim tags are
// slim already).
func nodeSlimTag(tag string) string {
	switch {
	case tag == "" || tag == "latest":
		return "slim"
	case strings.Contains(tag, "alpine"), strings.Contains(tag, "slim"):
		return tag
	default:
		return tag + "-slim"
	}
}

// nodeDevDependencies keeps devDependencies out of the copied app folder:
// nothing to do when the install already omits them (or NODE_ENV is
// production), an npm prune after the build step at steps[last] when npm
// installed, else a caveat (yarn and pnpm are not pruned).
func nodeDevDependencies(d *rewrite.Document, steps []stageStep, cmds []rewrite.ShellCommand, st stageStep, last int, tag string) (string, *rewrite.Edit) {
	pruned := false
	for _, c := range cmds {
		for _, w := range rewrite.Values(c.Words) {
			if w == "--production" || w == "--omit=dev" || w == "--prod" {
				pruned = true
			}
		}
	}
	if v := st.vars["NODE_ENV"]; v == "production" {
		pruned = true
	}
	_, npmCmds := findCommands(steps, func(prog string, args []string) bool { return prog == "npm" })
	switch {
	case pruned:
		return "", nil
	case len(npmCmds) == 0:
		return "the app folder is copied with its devDependencies: yarn and pnpm installs are not pruned automatically", nil
	default:
		prune := "npm prune --omit=dev"
		if major, err := strconv.Atoi(strings.SplitN(tag, ".", 2)[0]); err == nil && major < 16 {
			prune = "npm prune --production"
		}
		kw := "RUN"
		if in := steps[last].in; in.KeywordSpan.Text(d.Src) == "run" {
			kw = "run"
		}
		e := rewrite.Insert(steps[last].in.Span.End, kw+" "+prune+d.Newline)
		return "", &e
	}
}

func pythonRecipe(d *rewrite.Document, image string, steps []stageStep, env *rewrite.Env) (*recipe, string) {
	idx, cmds := findCommands(steps, func(prog string, args []string) bool {
		if isPip(prog) {
			return len(args) > 0 && args[0] == "install"
		}
		return strings.HasPrefix(prog, "python") && len(args) > 2 && args[0] == "-m" && args[1] == "pip" && args[2] == "install"
	})
	if len(idx) == 0 {
		return nil, ""
	}
	name, tag, _ := splitImage(image)
	if name != "python" {
		// pip on another image (alpine, debian, ubuntu) installs a tool
		// far more often than it builds an app: no split, no note.
		return nil, ""
	}
	if strings.Contains(tag, "slim") || strings.Contains(tag, "alpine") {
		return nil, "" // already the minimal variant
	}
	if strings.Contains(tag, "windows") {
		return nil, "Windows images are not split"
	}
	if why := pipOutsideVenv(cmds); why != "" {
		return nil, why
	}
	first, last := steps[idx[0]], idx[len(idx)-1]
	appDir, why := pythonAppDir(steps, first)
	if why != "" {
		return nil, why
	}
	rtTag := pythonSlimTag(tag)
	kwRun, kwEnv := "RUN", "ENV"
	if in := first.in; in.KeywordSpan.Text(d.Src) == "run" {
		kwRun, kwEnv = "run", "env"
	}
	venv := kwRun + " python -m venv /opt/venv" + d.Newline + kwEnv + ` PATH="/opt/venv/bin:$PATH"` + d.Newline
	e := rewrite.Insert(first.in.Span.Start, venv)
	rec := &recipe{
		ecosystem: "Python",
		runtime:   "python:" + rtTag,
		hasShell:  true,
		programs:  nil, // console scripts land in /opt/venv/bin, on PATH: see checkProgram
		artifacts: []artifact{{src: "/opt/venv", dst: "/opt/venv", dir: true}, {src: appDir, dst: appDir, dir: true}},
		prelude:   []string{kwEnv + ` PATH="/opt/venv/bin:$PATH"`},
		buildEdit: &e,
		buildStep: last,
		caveat:    "python:" + rtTag + " lacks libraries the full image has (libpq, libxml2, …); a package built from source against one needs its runtime package installed in the final stage",
	}
	libs, why := pythonRuntimeLibs(env, cmds, debianSuite(rtTag), rec.runtime)
	if why != "" {
		return nil, why
	}
	rec.runtimeLibs = libs
	rec.anyProgram, rec.interpreted = true, true
	return rec, ""
}

// pipOutsideVenv returns why a pip install would not land in the virtual
// environment the split creates (pip run by its path, --user, --target,
// --prefix, --root), or "".
func pipOutsideVenv(cmds []rewrite.ShellCommand) string {
	for _, c := range cmds {
		if prog := c.Argv()[0].Value; strings.Contains(prog, "/") {
			return fmt.Sprintf("pip is called by its path (%s), which would bypass the virtual environment", prog)
		}
		for _, w := range rewrite.Values(c.Words) {
			switch {
			case w == "--user", w == "--target", w == "-t", w == "--prefix", w == "--root",
				strings.HasPrefix(w, "--target="), strings.HasPrefix(w, "--prefix="), strings.HasPrefix(w, "--root="):
				return fmt.Sprintf("pip install %s puts packages outside a virtual environment", w)
			}
		}
	}
	return ""
}

// pythonAppDir returns the app folder to copy: where the container starts
// (the last WORKDIR), which is often set only after pip ran
// (requirements.txt copied to /), else the folder of the first pip
// install (first), or a reason when both are / or unknown.
func pythonAppDir(steps []stageStep, first stageStep) (string, string) {
	appDir := steps[len(steps)-1].workdir
	for _, st := range []stageStep{steps[len(steps)-1], first} {
		if st.workdir == "" && st.baseWhy != "" {
			return "", st.baseWhy
		}
	}
	if appDir == "" || appDir == "/" {
		appDir = first.workdir
	}
	if appDir == "" || appDir == "/" {
		return "", "the app lives in /, so the folder to copy is unclear (set a WORKDIR)"
	}
	return appDir, ""
}

// pythonSlimTag is the slim variant of python:tag: 3.12 → 3.12-slim,
// 3.12-bookworm → 3.12-slim-bookworm.
func pythonSlimTag(tag string) string {
	version, suite, _ := strings.Cut(tag, "-")
	switch {
	case tag == "" || tag == "latest":
		return "slim"
	case suite == "":
		return version + "-slim"
	default:
		return version + "-slim-" + suite
	}
}

// The recipes' patterns, compiled once: the checks run for every RUN of
// every file.
var (
	alpineRelease = regexp.MustCompile(`alpine(3\.\d+)`)
	majorOnly     = regexp.MustCompile(`^v[0-9]+$`)
	pip3Minor     = regexp.MustCompile(`^pip3\.\d+$`)
	leadingDigits = regexp.MustCompile(`^\d+`)
)

func isPip(prog string) bool {
	return prog == "pip" || prog == "pip3" || pip3Minor.MatchString(prog)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

var javaMajor = regexp.MustCompile(`(?:temurin|jdk|openjdk|corretto|java)-?(\d+)`)

func javaRecipe(d *rewrite.Document, image string, steps []stageStep, env *rewrite.Env) (*recipe, string) {
	var tool string
	idx, cmds := findCommands(steps, func(prog string, args []string) bool {
		switch prog {
		case "mvn", "mvnw":
			for _, a := range args {
				if a == "package" || a == "install" || a == "verify" {
					tool = "maven"
					return true
				}
			}
		case "gradle", "gradlew":
			for _, a := range args {
				if a == "build" || a == "bootJar" || a == "assemble" || a == "jar" || a == "shadowJar" {
					tool = "gradle"
					return true
				}
			}
		}
		return false
	})
	if len(idx) == 0 {
		return nil, ""
	}
	name, tag, _ := splitImage(image)
	major := ""
	switch name {
	case "maven", "gradle":
		if m := javaMajor.FindStringSubmatch(tag); m != nil {
			major = m[1]
		}
	case "eclipse-temurin", "openjdk", "amazoncorretto":
		major = leadingDigits.FindString(tag)
	default:
		return nil, fmt.Sprintf("it builds Java on %s, not on a maven, gradle or JDK image, so which runtime fits is unknown", image)
	}
	if major == "" {
		return nil, fmt.Sprintf("the Java version of %s is not in its tag, so which JRE fits is unknown", image)
	}
	for _, c := range cmds {
		for _, w := range rewrite.Values(c.Words) {
			if w == "-f" || strings.HasPrefix(w, "--file") || w == "-p" || strings.HasPrefix(w, "--project-dir") {
				return nil, "the build names another project folder, so where the jar lands is unclear"
			}
		}
	}
	st := steps[idx[len(idx)-1]]
	if st.workdir == "" {
		return nil, workdirReason(st, "the working directory of the build depends on a variable with no known value")
	}
	dir := path.Join(st.workdir, "target")
	if tool == "gradle" {
		dir = path.Join(st.workdir, "build", "libs")
	}
	runtime := "eclipse-temurin:" + major + "-jre"
	if strings.Contains(tag, "alpine") {
		runtime += "-alpine"
	}
	return &recipe{
		ecosystem: "Java",
		runtime:   runtime,
		hasShell:  true,
		programs:  []string{"java"},
		artifacts: []artifact{{src: dir + "/*.jar", dst: dir, dir: true}},
		buildStep: idx[len(idx)-1],
	}, ""
}

func dotnetRecipe(d *rewrite.Document, image string, steps []stageStep, env *rewrite.Env) (*recipe, string) {
	idx, cmds := findCommands(steps, func(prog string, args []string) bool {
		return prog == "dotnet" && len(args) > 0 && args[0] == "publish"
	})
	if len(idx) == 0 {
		return nil, ""
	}
	name, tag, _ := splitImage(image)
	if name != "mcr.microsoft.com/dotnet/sdk" {
		return nil, fmt.Sprintf("it publishes .NET on %s, not on mcr.microsoft.com/dotnet/sdk, so which runtime fits is unknown", image)
	}
	if len(cmds) > 1 {
		return nil, "it runs dotnet publish more than once"
	}
	out := ""
	c := cmds[0]
	words := rewrite.Values(c.Words)
	for i, w := range words {
		switch {
		case (w == "-o" || w == "--output") && i+1 < len(words):
			out = words[i+1]
		case strings.HasPrefix(w, "--output="):
			out = strings.TrimPrefix(w, "--output=")
		}
	}
	st := steps[idx[0]]
	if st.workdir == "" && st.baseWhy != "" && !path.IsAbs(out) {
		return nil, st.baseWhy
	}
	if out == "" || strings.Contains(out, "$") || st.workdir == "" {
		return nil, "dotnet publish has no -o folder, so where the app lands is unclear"
	}
	if !path.IsAbs(out) {
		out = path.Join(st.workdir, out)
	}
	if strings.Contains(tag, "windows") || strings.Contains(tag, "nanoserver") {
		return nil, "Windows images are not split"
	}
	return &recipe{
		ecosystem: ".NET",
		runtime:   "mcr.microsoft.com/dotnet/aspnet:" + tag,
		hasShell:  !strings.Contains(tag, "chiseled") && !strings.Contains(tag, "distroless"),
		programs:  []string{"dotnet"},
		artifacts: []artifact{{src: out, dst: out, dir: true}},
		buildStep: idx[0],
	}, ""
}

func rustRecipe(d *rewrite.Document, image string, steps []stageStep, env *rewrite.Env) (*recipe, string) {
	idx, cmds := findCommands(steps, func(prog string, args []string) bool {
		return prog == "cargo" && len(args) > 0 && (args[0] == "build" || args[0] == "install")
	})
	if len(idx) == 0 {
		return nil, ""
	}
	name, tag, _ := splitImage(image)
	if name != "rust" {
		return nil, fmt.Sprintf("it builds with cargo on %s, not on the rust image, so which runtime fits is unknown", image)
	}
	if len(cmds) > 1 {
		return nil, "it runs cargo more than once, so which binary the runtime needs is unclear"
	}
	c := cmds[0]
	if argValues(c)[0] != "build" {
		return nil, "cargo install puts the binary in the cargo home; only cargo build --release is split"
	}
	bin, release := "", false
	words := rewrite.Values(c.Words)
	for i, w := range words {
		switch {
		case w == "--release" || w == "-r":
			release = true
		case w == "--bin" && i+1 < len(words):
			bin = words[i+1]
		case strings.HasPrefix(w, "--bin="):
			bin = strings.TrimPrefix(w, "--bin=")
		case w == "--target" || strings.HasPrefix(w, "--target="):
			return nil, "cargo build --target puts the binary under another folder"
		}
	}
	if !release {
		return nil, "cargo build without --release makes a debug binary"
	}
	if bin == "" && env.BuildContext != nil {
		bin = cargoPackageName(env.BuildContext)
	}
	if bin == "" {
		return nil, "the binary's name comes from Cargo.toml, which is not in the build context on disk (or name it with --bin)"
	}
	runtime := ""
	switch {
	case strings.Contains(tag, "bookworm"):
		runtime = "gcr.io/distroless/cc-debian12:nonroot"
	case strings.Contains(tag, "bullseye"):
		runtime = "gcr.io/distroless/cc-debian11:nonroot"
	default:
		return nil, fmt.Sprintf("the Debian release of rust:%s is not in its tag, so which glibc the binary needs is unknown (use a -bookworm tag)", tag)
	}
	if installsPackages(steps) {
		return nil, "the build installs system packages, so the shared libraries the binary needs at run time are unknown"
	}
	st := steps[idx[0]]
	if st.workdir == "" {
		return nil, workdirReason(st, "the working directory of cargo build depends on a variable with no known value")
	}
	out := path.Join(st.workdir, "target", "release", bin)
	return &recipe{ecosystem: "Rust", runtime: runtime, artifacts: []artifact{{src: out, dst: out}}, buildStep: idx[0]}, ""
}

func cargoPackageName(buildContext fs.FS) string {
	inPackage := false
	for _, line := range strings.Split(buildctx.ReadFile(buildContext, "Cargo.toml"), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "[") {
			inPackage = line == "[package]"
			continue
		}
		if v, ok := strings.CutPrefix(line, "name"); ok && inPackage {
			if v, ok = strings.CutPrefix(strings.TrimSpace(v), "="); ok {
				return strings.Trim(strings.TrimSpace(v), `"'`)
			}
		}
	}
	return ""
}
