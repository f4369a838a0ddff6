package multistage

import (
	"fmt"
	"strings"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
)

// builtAgainstFullImage says why the final stage of a multi-stage Python
// file cannot move to python:X-slim (runtime): an earlier stage builds or
// installs Python packages that need a library the full image carries and
// slim lacks (psycopg2 built against libpq, python-magic loading
// libmagic), or installs -dev headers to build against. The final stage
// copies those packages (a venv, a --prefix tree, wheels) and would fail
// to import them. "" when nothing says so.
func builtAgainstFullImage(d *rewrite.Document, env *rewrite.Env, last int, runtime string) string {
	_, tag, _ := splitImage(runtime)
	for i := 0; i < last; i++ {
		ins := d.Stage(i)
		if len(ins) < 2 {
			continue
		}
		stage := fmt.Sprintf("stage %d", i)
		if n := d.Stages[i].Name; n != "" {
			stage = "stage " + n
		}
		steps := stageSteps(d, ins[1:], workdirFact{})
		_, pips := findCommands(steps, func(prog string, args []string) bool {
			if isPip(prog) {
				return len(args) > 0 && (args[0] == "install" || args[0] == "wheel")
			}
			return strings.HasPrefix(prog, "python") && len(args) > 2 && args[0] == "-m" && args[1] == "pip" && (args[2] == "install" || args[2] == "wheel")
		})
		libs, why := pythonRuntimeLibs(env, pips, debianSuite(tag), runtime)
		if why != "" {
			return why
		}
		if len(libs) > 0 {
			return fmt.Sprintf("the packages %s installs need %s at run time, which %s lacks; install it in the final stage and change the image by hand", stage, strings.Join(libs, ", "), runtime)
		}
		inst, _ := stagePackages(steps)
		for _, p := range inst.pkgs {
			name := packageName(p)
			if !buildOnlyPackages[name] && (strings.HasSuffix(name, "-dev") || strings.HasSuffix(name, "-devel")) {
				return fmt.Sprintf("%s installs %s to build against, and the library it goes with is not in %s; install it in the final stage and change the image by hand", stage, name, runtime)
			}
		}
	}
	return ""
}
