package nonroot

import (
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// This file finds the empty folders a build makes for the running
// container to write: RUN mkdir /datastore, then CMD ["app", "-d",
// "/datastore"] (or an ENV value, or a start script, naming it). Nothing
// is put in such a folder, so there is nothing there to read: the process
// writes there, and as a non-root user it cannot, since mkdir ran as root.
// A new volume mounted there takes the same owner.

// madeDir is a folder a RUN of the chain creates with mkdir.
type madeDir struct {
	Path string
	In   *rewrite.Instruction
	// How is what made it: "RUN mkdir" or "WORKDIR".
	How string
}

// mkdirOpts are mkdir's options that take a value.
var mkdirOpts = map[string]bool{"m": true, "mode": true, "context": true}

// scanMkdir records the folders mkdir creates, unless its mode lets
// everyone write there (mkdir -m 777 /data).
func (a *stageAnalysis) scanMkdir(d *rewrite.Document, in *rewrite.Instruction, cmd rewrite.ShellCommand, vars rewrite.Vars) {
	opts, pos := parseOpts(argsOf(cmd), mkdirOpts)
	mode, ok := opts["m"]
	if !ok {
		mode = opts["mode"]
	}
	for _, p := range pos {
		v, ok := expandWord(d, p, vars)
		if !ok || !path.IsAbs(v) {
			continue
		}
		v = path.Clean(v)
		if othersWrite(mode) {
			a.openExact = append(a.openExact, v) // -m is the last folder's mode only
			continue
		}
		a.madeDirs = append(a.madeDirs, madeDir{v, in, "RUN mkdir"})
	}
}

// scanFill records the absolute paths a RUN command other than mkdir,
// chmod, chown and tests names: what it puts there makes the folder
// something other than empty.
func (a *stageAnalysis) scanFill(d *rewrite.Document, cmd rewrite.ShellCommand, vars rewrite.Vars) {
	switch cmd.Program() {
	case "mkdir", "chmod", "chown", "chgrp", "[", "test", "ls", "stat", "rmdir":
		return
	}
	for _, ws := range [2][]rewrite.Word{cmd.Argv(), cmd.Redirects} {
		for _, w := range ws {
			_, val, _ := strings.Cut(w.Value, "=") // --prefix=/opt/app
			if val == "" {
				val = w.Value
			}
			if v, ok := expandWord(d, val, vars); ok && path.IsAbs(v) {
				a.filled = append(a.filled, path.Clean(v))
			}
		}
	}
}

// scanChmodOpen records the paths a chmod lets everyone write, the sticky
// bit or not (caddy's chmod 1777 /data/caddy). Without -R only the named
// folder opens: the folders mkdir made inside it stay root's, 0755
// (mkdir -p /t/config && chmod 1777 /t, then the program writes /t/config).
func (a *stageAnalysis) scanChmodOpen(d *rewrite.Document, opts map[string]string, pos []string, vars rewrite.Vars) {
	if len(pos) < 2 || !othersWrite(pos[0]) {
		return
	}
	_, r := opts["R"]
	if _, long := opts["recursive"]; long {
		r = true
	}
	for _, p := range pos[1:] {
		if v, ok := expandWord(d, p, vars); ok && path.IsAbs(v) {
			if r {
				a.openDirs = append(a.openDirs, path.Clean(v))
			} else {
				a.openExact = append(a.openExact, path.Clean(v))
			}
		}
	}
}

// othersWrite reports a mode that lets every user write.
func othersWrite(mode string) bool {
	if mode == "" {
		return false
	}
	if n, err := strconv.ParseUint(mode, 8, 32); err == nil {
		return n&0o002 != 0
	}
	return worldWritable(mode)
}

// scanCopyDest records where a COPY or ADD puts files, relative
// destinations from the WORKDIR they land in.
func (a *stageAnalysis) scanCopyDest(d *rewrite.Document, dest string, vars rewrite.Vars) {
	v, ok := expandWord(d, dest, vars)
	switch {
	case !ok:
		v = "/" // somewhere: a variable with no known value
	case !path.IsAbs(v) && a.WorkdirPath == "":
		v = "/" // somewhere in the base image's working directory
	case !path.IsAbs(v):
		v = path.Join(a.WorkdirPath, v)
	}
	a.filled = append(a.filled, path.Clean(v))
}

// scanEnvPaths records the ENV values of the chain, which the process
// reads when it starts.
func (a *stageAnalysis) scanEnvPaths(d *rewrite.Document, c *instructions.EnvCommand, vars rewrite.Vars) {
	for _, kv := range c.Env {
		if v, ok := expandWord(d, kv.Value, vars); ok {
			a.envValues = append(a.envValues, kv.Key+"="+v)
		}
	}
}

// pathWordRE matches a path, or one under it, in a command or script; nil
// for a path that is not valid UTF-8, which no regular expression can
// spell (the fuzzer's mkdir /\xa1), and which names no folder a command
// would be written with.
func pathWordRE(p string) *regexp.Regexp {
	re, err := regexp.Compile(`(^|[\s"'=:\[,(])` + regexp.QuoteMeta(p) + `($|[/\s"',\]:;)&|])`)
	if err != nil {
		return nil
	}
	return re
}

// emptyDataDir returns the first folder the chain makes with mkdir, puts
// nothing in and hands to no non-root user, that the container names when
// it starts (CMD, ENTRYPOINT, an ENV value, a start script), and where.
func (a *stageAnalysis) emptyDataDir() (madeDir, string) {
	for _, m := range a.madeDirs {
		if tempPath(m.Path) || rootPath(m.Path) || m.Path == "/" || a.owned(m.Path) || a.opened(m.Path) || a.fills(m.Path) {
			continue
		}
		if m.Path == a.WorkdirPath && stateDir(m.Path) {
			return m, "the process starts in it, a folder for the state a program keeps"
		}
		if m.How == "WORKDIR" {
			continue // a WORKDIR named elsewhere may hold what it runs
		}
		re := pathWordRE(m.Path)
		if re == nil {
			continue
		}
		for i, line := range [2][]string{a.entrypointLine, a.cmdLine} {
			if text := strings.Join(line, " "); re.MatchString(text) {
				return m, [2]string{"ENTRYPOINT", "CMD"}[i] + " " + text
			}
		}
		for _, kv := range a.envValues {
			_, v, _ := strings.Cut(kv, "=")
			if re.MatchString(v) {
				return m, "ENV " + kv
			}
		}
		for _, s := range a.runtimeScripts {
			if re.MatchString(s.text) {
				return m, "the start script " + s.name
			}
		}
	}
	return madeDir{}, ""
}

// opened reports a path at or under a folder everyone may write (a
// folder chmod opened without -R only itself).
func (a *stageAnalysis) opened(p string) bool {
	for _, o := range a.openExact {
		if o == p {
			return true
		}
	}
	for _, o := range a.openDirs {
		if o == p || strings.HasPrefix(p, o+"/") {
			return true
		}
	}
	return false
}

// fills reports a path something is put at or under.
func (a *stageAnalysis) fills(p string) bool {
	for _, f := range a.filled {
		if f == p || strings.HasPrefix(f, p+"/") {
			return true
		}
	}
	return false
}

type runtimeScript struct{ name, text string }

// stateDir reports a folder that by its place holds what a program writes
// while it runs: the FHS's /var/lib, /var/cache, /var/spool and /var/log,
// and /data.
func stateDir(p string) bool {
	for _, dir := range []string{"/var/lib/", "/var/cache/", "/var/spool/", "/var/log/"} {
		if strings.HasPrefix(p, dir) && len(p) > len(dir) {
			return true
		}
	}
	return p == "/data" || strings.HasPrefix(p, "/data/")
}

// tempPath reports a path in the system's temporary or kernel folders,
// which everyone may write or nobody creates: unlike systemPath, /run and
// /var/run are not among them, as a folder made there is root's.
func tempPath(p string) bool {
	for _, sys := range []string{"/tmp", "/var/tmp", "/sys", "/proc", "/dev"} {
		if p == sys || strings.HasPrefix(p, sys+"/") {
			return true
		}
	}
	return false
}

// stateDirFlagRE matches the options that name the folder a program keeps
// its state in (--datadir, --data-dir, --data_dir, --config-dir,
// --download-dir), the value after = or as the next word.
var stateDirFlagRE = regexp.MustCompile(`^--?(?:[a-z]+[-_])?(?:data|config|conf|state|storage|db|download|downloads|incomplete|watch|library|media)[-_]?dir(?:ectory)?(?:=(.*))?$`)

// stateDirKeyRE matches a configuration key that names the folder a
// program keeps its state in (path_prefix: /loki, data_dir = "/data",
// chunks_directory: /loki/chunks), YAML, TOML or INI.
var stateDirKeyRE = regexp.MustCompile(`(?m)^\s*((?:[A-Za-z]+[-_.])*(?:path_prefix|data_?dir|datadir|data_directory|data_path|storage_path|state_?dir|[a-z]+_directory))\s*[:=]\s*["']?(/[^\s"',#]+)`)

// missingStateDir returns a folder the container's command names as the
// one it keeps its state in (CMD ["--datadir", "/data"]) that the build
// neither makes, fills, opens nor hands over: the program creates it when
// it starts, in a parent only root may write (or a volume is mounted there
// that Docker makes root's), so as a non-root user it fails. Also the
// instruction and where.
func (a *stageAnalysis) missingStateDir() (*rewrite.Instruction, string, string) {
	for i, line := range [2][]string{a.entrypointLine, a.cmdLine} {
		in := [2]*rewrite.Instruction{a.entrypoint, a.cmd}[i]
		if in == nil {
			continue
		}
		words := strings.Fields(strings.Join(line, " "))
		for j, w := range words {
			m := stateDirFlagRE.FindStringSubmatch(w)
			if m == nil {
				continue
			}
			v := m[1]
			if !strings.Contains(w, "=") && j+1 < len(words) {
				v = words[j+1]
			}
			v = strings.Trim(v, `"'`)
			if !path.IsAbs(v) || strings.ContainsAny(v, "$*?") {
				continue
			}
			v = path.Clean(v)
			if v == "/" || tempPath(v) || rootPath(v) || strings.HasPrefix(v, "/home/") || v == a.WorkdirPath ||
				a.owned(v) || a.opened(v) || a.fills(v) || a.made(v) {
				continue
			}
			return in, v, [2]string{"ENTRYPOINT", "CMD"}[i] + " " + strings.Join(line, " ")
		}
	}
	in := a.cmd
	if a.entrypoint != nil {
		in = a.entrypoint
	}
	for _, c := range a.runtimeConfigs {
		for _, m := range stateDirKeyRE.FindAllStringSubmatch(c.text, -1) {
			v := path.Clean(m[2])
			if in == nil || v == "/" || tempPath(v) || rootPath(v) || strings.HasPrefix(v, "/home/") || strings.ContainsAny(v, "$*?{") ||
				a.owned(v) || a.opened(v) || a.fills(v) || a.made(v) {
				continue
			}
			return in, v, "the configuration " + c.name + " (" + strings.TrimSpace(m[1]) + ")"
		}
	}
	return nil, "", ""
}

// made reports a folder the chain makes with mkdir or WORKDIR.
func (a *stageAnalysis) made(p string) bool {
	for _, m := range a.madeDirs {
		if m.Path == p {
			return true
		}
	}
	return false
}
