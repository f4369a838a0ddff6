package multistage

import (
	"encoding/json"
	"fmt"
	"path"
	"strings"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/hardenfix/hardenfix/pkg/rules/internal/buildctx"
)

// npm prune --omit=dev removes devDependencies from the app folder the
// final stage copies. A container whose start script runs a program from
// one (serve -s dist, pm2-runtime, ts-node) then fails with "not found",
// so those are kept. Programs are matched to packages by name, and by the
// bins of a few packages whose bin is named otherwise.

// binPackages maps bins to the package that provides them, where the names
// differ.
var binPackages = map[string]string{
	"pm2-runtime": "pm2", "pm2-docker": "pm2", "tsc": "typescript", "next": "next",
	"nest": "@nestjs/cli", "ng": "@angular/cli", "vue-cli-service": "@vue/cli-service",
	"http-server": "http-server", "react-scripts": "react-scripts",
}

// devDependencyAtRun says which devDependency the container's command runs
// (through package.json scripts, npx, or node -r), or "" when none does or
// package.json is not in the build context.
func devDependencyAtRun(d *rewrite.Document, steps []stageStep, env *rewrite.Env) string {
	dev := packageDevDependencies(d, steps, env)
	if len(dev) == 0 {
		return ""
	}
	entrypoint, cmd := startCommands(steps)
	if entrypoint == nil && cmd == nil {
		return ""
	}
	j := devJudge{vars: steps[len(steps)-1].vars}
	j.scripts, j.scriptsKnown = packageScripts(d, steps, env)
	j.check = func(prog string, args []string) string {
		if pkg := binPackages[prog]; dev[pkg] || dev[prog] {
			return prog
		}
		if prog == "node" {
			for i, a := range args {
				if (a == "-r" || a == "--require" || a == "--loader" || a == "--import") && i+1 < len(args) {
					if name := packageOfModule(args[i+1]); dev[name] {
						return name
					}
				}
			}
		}
		return ""
	}
	for _, argv := range containerCommands(entrypoint, cmd) {
		if prog := j.command(argv, 0); prog != "" {
			return prog
		}
	}
	return ""
}

// packageOfModule is the package a module specifier loads from
// (ts-node/register → ts-node, @babel/register → @babel/register).
func packageOfModule(m string) string {
	parts := strings.Split(m, "/")
	if strings.HasPrefix(m, "@") && len(parts) > 1 {
		return parts[0] + "/" + parts[1]
	}
	return parts[0]
}

// packageDevDependencies reads the devDependencies of the package.json the
// stage copies from the build context (nil when it is not there).
func packageDevDependencies(d *rewrite.Document, steps []stageStep, env *rewrite.Env) map[string]bool {
	_, dev := packageDependencies(d, steps, env)
	return dev
}

// nativeAddonLibs are native addons node-gyp builds against a library the
// full node image carries as -dev headers (buildpack-deps: libpq-dev,
// libkrb5-dev) and node:X-slim lacks; their Debian runtime packages, named
// alike on bullseye, bookworm and trixie. Sources: pg-native's and
// kerberos's READMEs.
var nativeAddonLibs = map[string][]string{
	"pg-native": {"libpq5"},
	"libpq":     {"libpq5"},
	"kerberos":  {"libkrb5-3", "libgssapi-krb5-2"},
}

// nodeRuntimeLibs returns the libraries the native addons package.json
// depends on need at run time.
func nodeRuntimeLibs(d *rewrite.Document, steps []stageStep, env *rewrite.Env) []string {
	deps, _ := packageDependencies(d, steps, env)
	var libs []string
	for _, name := range []string{"pg-native", "libpq", "kerberos"} {
		if deps[name] {
			libs = append(libs, nativeAddonLibs[name]...)
		}
	}
	return libs
}

// packageDependencies reads the dependencies and devDependencies of the
// package.json the stage copies from the build context (nil when it is
// not there).
func packageDependencies(d *rewrite.Document, steps []stageStep, env *rewrite.Env) (deps, dev map[string]bool) {
	if env == nil || env.BuildContext == nil {
		return nil, nil
	}
	for _, dir := range packageJSONDirs(d, steps) {
		text := buildctx.ReadFile(env.BuildContext, path.Join(dir, "package.json"))
		if text == "" {
			continue
		}
		var pkg struct {
			Dependencies         map[string]any `json:"dependencies"`
			OptionalDependencies map[string]any `json:"optionalDependencies"`
			DevDependencies      map[string]any `json:"devDependencies"`
		}
		if err := json.Unmarshal([]byte(text), &pkg); err != nil {
			return nil, nil
		}
		deps, dev = map[string]bool{}, map[string]bool{}
		for name := range pkg.Dependencies {
			deps[name] = true
		}
		for name := range pkg.OptionalDependencies {
			deps[name] = true
		}
		for name := range pkg.DevDependencies {
			dev[name] = true
		}
		return deps, dev
	}
	return nil, nil
}

// devDependencyCaveat is the note for an app folder copied with its
// devDependencies because the container runs one of them.
func devDependencyCaveat(prog string) string {
	return fmt.Sprintf("the app folder is copied with its devDependencies: the container runs %s, and package.json lists it in devDependencies, which npm prune --omit=dev would remove (move it to dependencies to prune the rest)", prog)
}
