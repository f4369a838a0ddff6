package multistage

import (
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/hardenfix/hardenfix/pkg/rules/internal/buildctx"
)

// A container that starts a development server (a file watcher, a
// bundler's dev server, a framework's debug runner) is a development
// image: it needs its devDependencies and tools at run time, so splitting
// it, or pruning what it installed, breaks it.

// devServer returns what makes the container's command a development
// server ("nodemon, in the \"dev\" script of package.json"), or "" when it
// is not one or cannot be told.
func devServer(d *rewrite.Document, steps []stageStep, env *rewrite.Env) string {
	entrypoint, cmd := startCommands(steps)
	if entrypoint == nil && cmd == nil {
		return ""
	}
	j := devJudge{vars: steps[len(steps)-1].vars}
	j.scripts, j.scriptsKnown = packageScripts(d, steps, env)
	for _, argv := range containerCommands(entrypoint, cmd) {
		if why := j.command(argv, 0); why != "" {
			return why
		}
	}
	return ""
}

// containerCommands returns the command lines the container may start, as
// words: an exec-form ENTRYPOINT with the CMD as its arguments, else each
// on its own; a shell form is one script.
func containerCommands(entrypoint, cmd *rewrite.Instruction) [][]string {
	var out [][]string
	var ep, c []string
	var epShell, cShell bool
	if entrypoint != nil {
		ep, epShell = cmdLine(entrypoint)
	}
	if cmd != nil {
		c, cShell = cmdLine(cmd)
	}
	script := func(words []string) []string { return []string{"/bin/sh", "-c", strings.Join(words, " ")} }
	switch {
	case entrypoint != nil && !epShell && cmd != nil && !cShell:
		// The CMD alone too: an entrypoint script usually ends in exec "$@".
		out = append(out, append(append([]string{}, ep...), c...), c)
	case entrypoint != nil && epShell:
		out = append(out, script(ep))
	default:
		if entrypoint != nil {
			out = append(out, ep)
		}
		if cmd != nil && cShell {
			out = append(out, script(c))
		} else if cmd != nil {
			out = append(out, c)
		}
	}
	return out
}

// devJudge tells development commands from production ones, following
// package.json scripts.
type devJudge struct {
	vars         rewrite.Vars      // ENV and ARG in effect where the container starts
	scripts      map[string]string // package.json scripts
	scriptsKnown bool              // package.json was read from the build context
	// check, when set, judges each program instead of devTool.
	check func(prog string, args []string) string
}

// maxScriptDepth bounds how deep scripts calling scripts are followed.
const maxScriptDepth = 5

// command judges one command line.
func (j devJudge) command(words []string, depth int) string {
	local := map[string]string{}
	words = devArgv(words, local)
	if len(words) == 0 || depth > maxScriptDepth {
		return ""
	}
	prog, args := path.Base(words[0]), words[1:]
	sub := ""
	if len(args) > 0 {
		sub = args[0]
	}
	switch prog {
	case "sh", "bash", "ash", "dash":
		if len(args) >= 2 && args[0] == "-c" {
			return j.script(args[1], depth+1)
		}
	case "npm":
		switch {
		case sub == "start" || sub == "run" && len(args) > 1 || sub == "run-script" && len(args) > 1:
			name := "start"
			if sub != "start" {
				name = args[1]
			}
			return j.packageScript("npm", name, depth)
		}
	case "concurrently", "npm-run-all", "run-p", "run-s":
		// Each argument is a command (concurrently) or a script name.
		for _, a := range args {
			if strings.HasPrefix(a, "-") {
				continue
			}
			why := ""
			if prog == "concurrently" {
				why = j.script(a, depth+1)
			} else {
				why = j.packageScript("npm", a, depth)
			}
			if why != "" {
				return why
			}
		}
	case "yarn", "pnpm":
		switch {
		case sub == "run" && len(args) > 1:
			return j.packageScript(prog, args[1], depth)
		case sub != "" && !strings.HasPrefix(sub, "-") && !packageManagerVerbs[sub]:
			return j.packageScript(prog, sub, depth)
		}
	}
	if j.check != nil {
		return j.check(prog, args)
	}
	if tool := devTool(prog, args, j.vars, local); tool != "" {
		return tool
	}
	return ""
}

// script judges every command of a shell script.
func (j devJudge) script(text string, depth int) string {
	for _, sc := range rewrite.SplitScript(text) {
		if why := j.command(rewrite.Values(sc.Words), depth); why != "" {
			return why
		}
	}
	return ""
}

// packageScript judges `npm run NAME`: by what the script runs when
// package.json is in the build context, else by its name alone.
func (j devJudge) packageScript(pm, name string, depth int) string {
	call := pm + " run " + name
	if pm != "npm" || name == "start" {
		call = pm + " " + name
	}
	if !j.scriptsKnown {
		if devScriptName(name) {
			return fmt.Sprintf("%s; package.json is not in the build context on disk, and the script's name says development", call)
		}
		return ""
	}
	body, ok := j.scripts[name]
	if !ok {
		return ""
	}
	if why := j.script(body, depth+1); why != "" {
		if strings.Contains(why, "package.json") {
			return why // already says which script
		}
		return fmt.Sprintf("%s, in the %q script of package.json that %s runs", why, name, call)
	}
	return ""
}

// packageManagerVerbs are yarn and pnpm commands, not script names.
var packageManagerVerbs = map[string]bool{
	"install": true, "add": true, "remove": true, "exec": true, "dlx": true, "node": true,
	"test": true, "why": true, "info": true, "list": true, "ls": true, "i": true,
}

// devScriptName says whether a package.json script's name alone means
// development: dev, develop, watch, serve:dev, start:dev, dev:server.
func devScriptName(name string) bool {
	for _, part := range strings.FieldsFunc(name, func(r rune) bool { return r == ':' || r == '-' || r == '_' }) {
		switch part {
		case "dev", "develop", "development", "watch":
			return true
		}
	}
	return false
}

// devArgv drops what comes before the program: variable assignments
// (recorded in local) and wrappers that run their arguments (env,
// cross-env, exec, npx, dotenv, npm/yarn/pnpm exec).
func devArgv(words []string, local map[string]string) []string {
	for len(words) > 0 {
		w := words[0]
		if name, value, ok := strings.Cut(w, "="); ok && isVarName(name) {
			local[name] = value
			words = words[1:]
			continue
		}
		switch path.Base(w) {
		case "env", "cross-env", "exec", "nohup", "dumb-init", "tini":
			words = words[1:]
			for len(words) > 0 && (strings.HasPrefix(words[0], "-") || words[0] == "--") {
				words = words[1:]
			}
		case "npx":
			words = words[1:]
			for len(words) > 0 && strings.HasPrefix(words[0], "-") {
				words = words[1:]
			}
		case "dotenv":
			i := slices.Index(words, "--")
			if i < 0 {
				return nil
			}
			words = words[i+1:]
		case "npm", "yarn", "pnpm":
			if len(words) > 1 && words[1] == "exec" {
				words = words[2:]
				for len(words) > 0 && (strings.HasPrefix(words[0], "-") || words[0] == "--") {
					words = words[1:]
				}
				continue
			}
			return words
		default:
			return words
		}
	}
	return nil
}

func isVarName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// devTool recognises a development server by its program and arguments;
// vars and local are the variables in effect (FLASK_DEBUG=1).
func devTool(prog string, args []string, vars rewrite.Vars, local map[string]string) string {
	env := func(name string) string {
		if v, ok := local[name]; ok {
			return v
		}
		return vars[name]
	}
	c := newDevCall(prog, args)
	// python -m MODULE runs the module's own command line.
	if strings.HasPrefix(prog, "python") && len(args) >= 2 && args[0] == "-m" {
		c = newDevCall(args[1], args[2:])
	}
	if tool := jsDevTool(c); tool != "" {
		return tool
	}
	if tool := pythonDevTool(c, env); tool != "" {
		return tool
	}
	// python manage.py runserver
	if strings.HasPrefix(c.prog, "python") && len(c.args) >= 2 && path.Base(c.args[0]) == "manage.py" && slices.Contains(c.args, "runserver") {
		return "manage.py runserver"
	}
	return ""
}

// devCall is a command as devTool reads it.
type devCall struct {
	prog string
	args []string
	sub  string // the first argument, the subcommand of most tools
}

func newDevCall(prog string, args []string) devCall {
	c := devCall{prog: prog, args: args}
	if len(args) > 0 {
		c.sub = args[0]
	}
	return c
}

// has reports whether an argument is one of flags, alone or as flag=value.
func (c devCall) has(flags ...string) bool {
	for _, a := range c.args {
		for _, f := range flags {
			if a == f || strings.HasPrefix(a, f+"=") {
				return true
			}
		}
	}
	return false
}

// jsDevTool recognises the JavaScript development servers and watchers:
// one case per tool, naming what makes it a dev server.
func jsDevTool(c devCall) string {
	prog, sub := c.prog, c.sub
	switch prog {
	case "nodemon", "ts-node", "ts-node-dev", "tsnd", "webpack-dev-server":
		return prog
	case "node":
		if c.has("--watch", "--watch-path") {
			return "node --watch"
		}
	case "tsx":
		if sub == "watch" || c.has("--watch") {
			return "tsx watch"
		}
	case "vite":
		if sub == "" || sub == "dev" || sub == "serve" || strings.HasPrefix(sub, "-") {
			return "the vite dev server"
		}
	case "webpack":
		if sub == "serve" || c.has("--watch", "-w") {
			return "webpack " + sub
		}
	case "ng", "vue-cli-service", "ember":
		if sub == "serve" || sub == "s" {
			return prog + " serve"
		}
	case "next", "nuxt", "nuxi", "remix", "astro", "svelte-kit":
		if sub == "dev" {
			return prog + " dev"
		}
	case "react-scripts":
		if sub == "start" {
			return "react-scripts start"
		}
	case "gatsby":
		if sub == "develop" {
			return "gatsby develop"
		}
	case "nest":
		if sub == "start" && c.has("--watch", "-w", "--debug") {
			return "nest start --watch"
		}
	case "parcel":
		if sub != "build" {
			return "the parcel dev server"
		}
	}
	return ""
}

// pythonDevTool recognises the Python development servers and reloaders;
// env looks up a variable in effect.
func pythonDevTool(c devCall, env func(string) string) string {
	switch c.prog {
	case "flask":
		debug := c.has("--debug", "--reload") || truthy(env("FLASK_DEBUG")) || env("FLASK_ENV") == "development"
		if slices.Contains(c.args, "run") && debug {
			return "flask run in debug mode"
		}
	case "manage.py", "django-admin", "django":
		if slices.Contains(c.args, "runserver") {
			return c.prog + " runserver"
		}
	case "uvicorn", "hypercorn", "gunicorn":
		if c.has("--reload") {
			return c.prog + " --reload"
		}
	case "fastapi":
		if c.sub == "dev" {
			return "fastapi dev"
		}
	}
	return ""
}

func truthy(v string) bool {
	switch strings.ToLower(v) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

// packageScripts reads the scripts of the package.json the stage copies
// from the build context (the one next to a copied package*.json, else
// the context's root), never following a link out of the context.
func packageScripts(d *rewrite.Document, steps []stageStep, env *rewrite.Env) (map[string]string, bool) {
	if env == nil || env.BuildContext == nil {
		return nil, false
	}
	for _, dir := range packageJSONDirs(d, steps) {
		text := buildctx.ReadFile(env.BuildContext, path.Join(dir, "package.json"))
		if text == "" {
			continue
		}
		var pkg struct {
			Scripts map[string]string `json:"scripts"`
		}
		if err := json.Unmarshal([]byte(text), &pkg); err != nil {
			return nil, false
		}
		return pkg.Scripts, true
	}
	return nil, false
}

// packageJSONDirs lists the context folders package.json may come from,
// most likely first: those of COPY sources naming package*.json, the
// folders copied whole, and the context's root.
func packageJSONDirs(d *rewrite.Document, steps []stageStep) []string {
	var named, whole []string
	for _, st := range steps {
		c, ok := st.in.Command.(*instructions.CopyCommand)
		if !ok || c.From != "" {
			continue
		}
		for _, src := range c.SourcePaths {
			src, unset, err := d.Expand(src, st.vars)
			if err != nil || len(unset) > 0 {
				continue
			}
			if strings.HasPrefix(path.Base(src), "package") && strings.HasSuffix(src, ".json") {
				named = append(named, path.Dir(src))
			} else if !strings.ContainsAny(path.Base(src), "*?[.") || src == "." || src == "./" {
				whole = append(whole, path.Clean(src))
			}
		}
	}
	return append(append(named, whole...), ".")
}

// startCommands returns the stage's last ENTRYPOINT and CMD, nil for none.
func startCommands(steps []stageStep) (entrypoint, cmd *rewrite.Instruction) {
	for _, st := range steps {
		switch st.in.Keyword {
		case "ENTRYPOINT":
			entrypoint = st.in
		case "CMD":
			cmd = st.in
		}
	}
	return entrypoint, cmd
}
