package multistage

import (
	"fmt"
	"path"
	"strings"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
)

// A RUN before the build step stays in the build stage. Package installs
// are carried over (runtimeInstall) and the toolchain's own commands only
// serve the build, but anything else may prepare what the running
// application needs outside the folders the final stage copies: a log or
// data folder made and given to the app's user, /etc/localtime, a custom
// CA added with update-ca-certificates, a user added, a tool downloaded
// into /usr/local/bin, a script made executable. Left behind, the app
// fails at run time, so such a RUN means no split.

// buildStageCommands only install packages, run the toolchain, or change
// nothing on disk. corepack is not one: corepack enable puts yarn and pnpm
// shims in /usr/local/bin, which the runtime image would lack.
var buildStageCommands = stringSet(
	"apt-get", "apt", "apk", "dnf", "yum", "microdnf", "apt-mark", "dpkg",
	"go", "npm", "yarn", "pnpm", "npx", "pip", "pip3",
	"mvn", "mvnw", "gradle", "gradlew", "dotnet", "cargo", "rustup",
	"rm", "echo", "true", "set", "cd", "export", ":", "test", "[", "ls", "env", "printenv",
)

// pythonModules are what python -m runs to install packages or check
// them (compileall writes __pycache__ next to the sources).
var pythonModules = stringSet("pip", "venv", "ensurepip", "compileall")

// fileCommands change files named in their operands; they are fine when
// every operand is inside what the final stage copies (or, for a compiled
// build, inside its source folder, which is only a build input).
var fileCommands = stringSet("mkdir", "chmod", "chown", "chgrp", "touch", "cp", "mv", "ln", "sed")

// preBuildRun says why a RUN before the build step (or the build step
// itself) may prepare something the runtime needs that the final stage
// would not have ("" when it only builds).
func preBuildRun(st stageStep, rec *recipe, srcDir string) string {
	if len(st.cmds) == 0 {
		return fmt.Sprintf("the RUN at line %d before the build step cannot be read, and may prepare something the runtime needs", st.in.Line)
	}
	for i, c := range st.cmds {
		prog, args := st.progs[i], st.args[i]
		for _, r := range rewrite.Values(c.Redirects) {
			if strings.HasPrefix(r, "/dev/") || strings.HasPrefix(r, "&") {
				continue
			}
			if p := outsidePath("", []string{r}, st.workdir, rec, srcDir); p != "" {
				return fmt.Sprintf("the RUN at line %d (%s) writes %s before the build step, outside what the final stage would copy, and the runtime may need it", st.in.Line, prog, p)
			}
		}
		switch {
		case buildStageCommands[prog] || isPip(prog):
			continue
		case strings.HasPrefix(prog, "python") && len(args) > 1 && args[0] == "-m" && pythonModules[args[1]]:
			continue
		case fileCommands[prog]:
			if p := outsidePath(prog, args, st.workdir, rec, srcDir); p != "" {
				return fmt.Sprintf("the RUN at line %d (%s) changes %s before the build step, outside what the final stage would copy, and the runtime may need it", st.in.Line, prog, p)
			}
			continue
		}
		return fmt.Sprintf("the RUN at line %d runs %s before the build step, and it may prepare something the runtime needs outside what the final stage would copy", st.in.Line, prog)
	}
	return ""
}

// outsidePath returns the first path a file command's operands name that
// is neither under the recipe's artifacts nor under srcDir ("" when all
// are; a path with a variable counts as outside).
func outsidePath(prog string, args []string, workdir string, rec *recipe, srcDir string) string {
	var operands []string
	skipFirst := prog == "chmod" || prog == "chown" || prog == "chgrp" || prog == "sed"
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case prog == "sed" && (a == "-e" || a == "-f" || a == "--expression" || a == "--file"):
			skipFirst = false // the script is the option's value
			i++
		case prog == "chmod" && len(operands) == 0 && skipFirst && strings.HasPrefix(a, "-") && strings.Trim(a, "-+=rwxXstugoa,0123456789") == "":
			operands = append(operands, a) // a mode such as -x or -w
		case strings.HasPrefix(a, "--reference="):
			skipFirst = false
		case strings.HasPrefix(a, "-"):
		default:
			operands = append(operands, a)
		}
	}
	if skipFirst && len(operands) > 0 {
		operands = operands[1:]
	}
	for _, o := range operands {
		if strings.ContainsAny(o, "$`") {
			return o
		}
		p := o
		if !path.IsAbs(p) {
			if workdir == "" {
				return o
			}
			p = path.Join(workdir, p)
		}
		p = path.Clean(strings.TrimRight(p, "*"))
		if underArtifacts(p, rec) || srcDir != "" && srcDir != "/" && (p == srcDir || strings.HasPrefix(p, srcDir+"/")) {
			continue
		}
		return o
	}
	return ""
}
