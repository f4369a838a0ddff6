package multistage

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/hardenfix/hardenfix/pkg/rules/internal/buildctx"
	"github.com/hardenfix/hardenfix/pkg/rules/internal/imageref"
	"github.com/hardenfix/hardenfix/pkg/rules/internal/pkgmgr"
)

// System packages the build stage installs are needed at run time unless
// they are clearly build-only: the application or its entrypoint may call
// any tool (unzip, curl, ffmpeg, git, postgresql-client, …). The split
// installs them in the final stage with the runtime image's package
// manager, or does not happen.

// systemInstall is what a stage installs with its system package manager.
type systemInstall struct {
	pm   string   // apt, apk, dnf, yum or microdnf; "" when nothing is installed
	pkgs []string // as written, with any =version pin
	// recommends: an apt-get install without --no-install-recommends,
	// whose packages' Recommends (ca-certificates for curl) came along.
	recommends bool
}

// packageManagerOf maps a program to the package manager family it is.
var packageManagerOf = map[string]string{"apt-get": "apt", "apt": "apt", "apk": "apk", "dnf": "dnf", "yum": "yum", "microdnf": "microdnf"}

// optionsWithValue are each package manager's options whose value is the
// next word (apk add --virtual NAME, apt-get -o OPT=V).
var optionsWithValue = map[string]map[string]bool{
	"apt": {"-o": true, "--option": true, "-t": true, "--target-release": true, "-c": true, "--config-file": true},
	"apk": {"-t": true, "--virtual": true, "-X": true, "--repository": true, "--root": true, "-p": true},
	"dnf": {"--enablerepo": true, "--disablerepo": true, "--setopt": true, "--releasever": true, "--installroot": true},
}

// firstOperand is the index of the first argument that is neither an
// option nor the value of one (the subcommand), or -1.
func firstOperand(args []string, withValue map[string]bool) int {
	for i := 0; i < len(args); i++ {
		switch {
		case args[i] == "--":
			return -1
		case withValue[args[i]]:
			i++
		case strings.HasPrefix(args[i], "-"):
		default:
			return i
		}
	}
	return -1
}

// stagePackages reads what the stage installs and later removes again (apt-get
// purge, apk del of a package or --virtual group); removed packages are not
// in the build image either, so the runtime needs them no more than it did.
// It returns a reason when a command line is too dynamic to read or the
// stage mixes package managers.
func stagePackages(steps []stageStep) (systemInstall, string) {
	var out systemInstall
	removed := map[string]bool{}
	virtual := map[string][]string{}
	for _, st := range steps {
		for _, c := range st.cmds {
			args := argValues(c)
			if c.Program() == "dpkg" || c.Program() == "rpm" {
				if why := localPackageInstall(c.Program(), args, st.in.Line); why != "" {
					return out, why
				}
			}
			op, ok := packageOpOf(c.Program(), args)
			if !ok {
				continue
			}
			if out.pm != "" && out.pm != op.pm {
				return out, fmt.Sprintf("the stage installs packages with both %s and %s", out.pm, op.pm)
			}
			out.pm = op.pm
			names, group, noRecommends, why := op.operands(args, st.in.Line)
			if why != "" {
				return out, why
			}
			if !op.install {
				for _, n := range names {
					removed[packageName(n)] = true
					for _, p := range virtual[n] {
						removed[packageName(p)] = true
					}
				}
				continue
			}
			if group != "" {
				virtual[group] = append(virtual[group], names...)
			}
			if op.pm == "apt" && !noRecommends && len(names) > 0 {
				out.recommends = true
			}
			out.pkgs = append(out.pkgs, names...)
		}
	}
	kept := out.pkgs[:0]
	for _, p := range out.pkgs {
		if !removed[packageName(p)] {
			kept = append(kept, p)
		}
	}
	out.pkgs = kept
	return out, ""
}

// packageOp is a package manager command that installs or removes
// packages.
type packageOp struct {
	pm      string          // as in systemInstall.pm
	opts    map[string]bool // its options whose value is the next word
	subAt   int             // where the subcommand stands in the arguments
	install bool            // installs; else it removes
}

// packageOpOf reads prog with args as an install or a removal (apt-get
// purge, apk del, dnf erase, …); false for any other command.
func packageOpOf(prog string, args []string) (packageOp, bool) {
	pm, ok := packageManagerOf[prog]
	if !ok || len(args) == 0 {
		return packageOp{}, false
	}
	opts := optionsWithValue[pm]
	if pm == "yum" || pm == "microdnf" {
		opts = optionsWithValue["dnf"]
	}
	// Options may stand before the subcommand (apt-get -y install).
	subAt := firstOperand(args, opts)
	if subAt < 0 {
		return packageOp{}, false
	}
	sub := args[subAt]
	install := sub == "install" || pm == "apk" && sub == "add"
	remove := sub == "purge" || sub == "remove" || sub == "erase" || pm == "apk" && sub == "del"
	if !install && !remove {
		return packageOp{}, false
	}
	return packageOp{pm: pm, opts: opts, subAt: subAt, install: install}, true
}

// operands reads the packages op names in args (of the RUN at line), the
// group an apk --virtual (or -t) puts them in, and whether apt was told
// --no-install-recommends. It returns a reason when a name cannot be read
// or an install names a package file.
func (op packageOp) operands(args []string, line int) (names []string, group string, noRecommends bool, why string) {
	for i := 0; i < len(args); i++ {
		w := args[i]
		switch {
		case i == op.subAt:
		case w == "--no-install-recommends":
			noRecommends = true
		case op.opts[w] && i+1 < len(args):
			if w == "-t" && op.pm == "apk" || w == "--virtual" {
				group = args[i+1]
			}
			i++
		case strings.HasPrefix(w, "-"):
		case strings.ContainsAny(w, "$`*?[{"):
			return nil, "", false, fmt.Sprintf("the packages installed at line %d cannot be read (%s)", line, w)
		case op.install && isPackageFile(w):
			return nil, "", false, fmt.Sprintf("the RUN at line %d installs a package file (%s) the final stage does not have", line, w)
		default:
			names = append(names, w)
		}
	}
	return names, group, noRecommends, ""
}

// isPackageFile reports whether an install argument names a package file
// rather than a package (pkg/bookworm-backports picks a release: a package).
func isPackageFile(w string) bool {
	for _, p := range []string{"/", "./", "../", "http://", "https://"} {
		if strings.HasPrefix(w, p) {
			return true
		}
	}
	for _, ext := range []string{".deb", ".rpm", ".apk"} {
		if strings.HasSuffix(w, ext) {
			return true
		}
	}
	return false
}

// localPackageInstall says why a dpkg or rpm command stops the split: it
// installs a package file (dpkg -i x.deb, rpm -i x.rpm) the final stage
// does not have, and whose files the application may use.
func localPackageInstall(prog string, args []string, line int) string {
	for _, a := range args {
		switch {
		case a == "-i" || a == "--install" || a == "-U" || a == "--upgrade" || prog == "rpm" && strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && strings.ContainsAny(a, "iU"):
			return fmt.Sprintf("the RUN at line %d installs a package file with %s, which the final stage does not have", line, prog)
		}
	}
	return ""
}

// packageName drops a version pin: apt's pkg=1.2, apk's pkg=1.2-r0,
// pkg>=1.2, pkg~1.2.
func packageName(w string) string {
	if i := strings.IndexAny(w, "=<>~"); i > 0 {
		return w[:i]
	}
	return w
}

// buildOnlyPackages are system packages used only to build: compilers,
// build drivers, C headers, and the recipes' own build tools (maven and
// gradle for a jar, Debian's pip and venv, which serve Debian's python3,
// not the image's, for a virtual environment; npm, which the node runtime
// images carry themselves). Anything else — an interpreter, git, curl,
// unzip — may be called at run time.
var buildOnlyPackages = stringSet(
	"build-essential", "build-base", "gcc", "g++", "clang", "make", "cmake", "ninja-build",
	"pkg-config", "pkgconf", "pkgconfig", "autoconf", "automake", "libtool", "gfortran",
	"musl-dev", "linux-headers", "libc-dev", "libc6-dev", "glibc-devel", "kernel-headers",
	"python3-dev", "python-dev", "python3-devel", "cargo", "rustc", "gcc-c++",
	"maven", "gradle", "ant", "python3-pip", "python-pip", "py3-pip", "python3-venv", "python3-setuptools", "python3-wheel", "npm",
)

// runtimeOfDev maps Debian -dev packages to the library package the runtime
// needs. The names hold on bullseye, bookworm and trixie unless
// runtimeOfDevBySuite says otherwise (trixie's 64-bit time_t renames, the
// removal of pcre3). Sources: packages.debian.org/<suite>/<name>.
var runtimeOfDev = map[string]string{
	"libpq-dev": "libpq5", "default-libmysqlclient-dev": "libmariadb3", "libmariadb-dev": "libmariadb3",
	"libmariadb-dev-compat": "libmariadb3", "libxml2-dev": "libxml2", "libxslt1-dev": "libxslt1.1",
	"libxslt-dev": "libxslt1.1", "libjpeg-dev": "libjpeg62-turbo", "libjpeg62-turbo-dev": "libjpeg62-turbo",
	"zlib1g-dev": "zlib1g", "libfreetype6-dev": "libfreetype6",
	"libsqlite3-dev": "libsqlite3-0", "libyaml-dev": "libyaml-0-2", "libgmp-dev": "libgmp10",
	"libbz2-dev": "libbz2-1.0", "liblzma-dev": "liblzma5", "libsasl2-dev": "libsasl2-2",
}

// runtimeOfDevBySuite holds the -dev packages whose library's name differs
// between Debian releases: they are mapped only when the release is known.
var runtimeOfDevBySuite = map[string]map[string]string{
	"libpng-dev":           {"bullseye": "libpng16-16", "bookworm": "libpng16-16", "trixie": "libpng16-16t64"},
	"libcurl4-openssl-dev": {"bullseye": "libcurl4", "bookworm": "libcurl4", "trixie": "libcurl4t64"},
	"libgeos-dev":          {"bullseye": "libgeos-c1v5", "bookworm": "libgeos-c1v5", "trixie": "libgeos-c1t64"},
	"libpcre3-dev":         {"bullseye": "libpcre3", "bookworm": "libpcre3"},
	"libldap2-dev":         {"bullseye": "libldap-2.4-2", "bookworm": "libldap-2.5-0", "trixie": "libldap2"},
	"libldap-dev":          {"bookworm": "libldap-2.5-0", "trixie": "libldap2"},
}

// providedBy lists packages a runtime image already carries, so a build
// that installs them needs nothing installed for them. Source: the
// distroless README (static: ca-certificates, tzdata, /etc/passwd).
func providedBy(runtime string) map[string]bool {
	if strings.HasPrefix(runtime, "gcr.io/distroless/") {
		return stringSet("ca-certificates", "tzdata")
	}
	return nil
}

// debianSuite is the Debian release a tag names, "" when it names none.
func debianSuite(tag string) string {
	for _, s := range []string{"bullseye", "bookworm", "trixie"} {
		if strings.Contains(tag, s) {
			return s
		}
	}
	return ""
}

// runtimeInstall decides what the final stage must install: the stage's
// packages less the build-only ones, -dev packages as their libraries,
// plus extra (libraries the recipe found, e.g. for Python packages built
// from source) and tools (the HEALTHCHECK's curl or wget), in the runtime
// image's package manager. It returns the RUN line to add ("" when nothing
// is needed), or why the split cannot carry them.
func runtimeInstall(d *rewrite.Document, env *rewrite.Env, steps []stageStep, rec *recipe, extra, tools []string) (string, string) {
	inst, why := stagePackages(steps)
	if why != "" {
		return "", why
	}
	_, tag, _ := splitImage(rec.runtime)
	suite := debianSuite(tag)
	rt, _ := imageref.Facts(env, rec.runtime) // the catalog, when env has no image facts
	provided := providedBy(rec.runtime)
	var keep []string
	seen := map[string]bool{}
	add := func(p string) {
		if !seen[p] && !provided[packageName(p)] {
			seen[p] = true
			keep = append(keep, p)
		}
	}
	for _, p := range inst.pkgs {
		name := packageName(p)
		switch {
		case buildOnlyPackages[name]:
		case strings.HasSuffix(name, "-dev") || strings.HasSuffix(name, "-devel"):
			lib, why := libraryOfDev(name, inst.pm, rt.Family, suite, rec.runtime)
			if why != "" {
				return "", why
			}
			add(lib)
		default:
			add(p)
			// An install without --no-install-recommends pulled in the
			// CA bundle curl, wget and git verify https with; the final
			// stage's --no-install-recommends would not (apt-hygiene's
			// pkgmgr.HTTPSClients).
			if pkgmgr.HTTPSClients[name] && inst.recommends {
				add("ca-certificates")
			}
		}
	}
	for _, lib := range extra {
		if inst.pm == "" {
			inst.pm = "apt"
		}
		add(lib)
	}
	for _, t := range tools {
		if inst.pm == "" {
			inst.pm = rt.PackageManager // curl and wget are named alike in every one
		}
		add(t)
	}
	if len(keep) == 0 {
		return "", ""
	}
	list := strings.Join(keep, ", ")
	if !rec.hasShell || rt.PackageManager == "" {
		return "", fmt.Sprintf("the application may use %s at run time, and %s has no package manager to install it with", list, rec.runtime)
	}
	if rt.PackageManager != inst.pm {
		return "", fmt.Sprintf("the application may use %s at run time, installed with %s, and %s installs packages with %s, whose names may differ", list, inst.pm, rec.runtime, rt.PackageManager)
	}
	run := "RUN"
	if from := d.Stage(0)[0]; from.KeywordSpan.Text(d.Src) == "from" {
		run = "run"
	}
	return run + " " + installLine(rt.PackageManager, keep), ""
}

// libraryOfDev maps a -dev package to its runtime library on the runtime
// image, or says why it cannot.
func libraryOfDev(dev, pm, family, suite, runtime string) (string, string) {
	if pm != "apt" || family != "debian" {
		return "", fmt.Sprintf("the build installs %s, and the runtime library it goes with on %s is not in hardenfix's table", dev, runtime)
	}
	if lib := runtimeOfDev[dev]; lib != "" {
		return lib, ""
	}
	bySuite, ok := runtimeOfDevBySuite[dev]
	switch {
	case !ok:
		return "", fmt.Sprintf("the build installs %s, and the runtime library it goes with is not in hardenfix's table", dev)
	case suite == "":
		return "", fmt.Sprintf("the build installs %s, whose runtime library is named differently in each Debian release, and the tag of %s names none", dev, runtime)
	case bySuite[suite] == "":
		return "", fmt.Sprintf("the build installs %s, and the runtime library it goes with on Debian %s is not in hardenfix's table", dev, suite)
	}
	return bySuite[suite], ""
}

// installLine is the hygienic install command of a package manager.
func installLine(pm string, pkgs []string) string {
	list := strings.Join(pkgs, " ")
	switch pm {
	case "apt":
		return "apt-get update && apt-get install -y --no-install-recommends " + list + " && rm -rf /var/lib/apt/lists/*"
	case "apk":
		return "apk add --no-cache " + list
	}
	return pm + " install -y " + list + " && " + pm + " clean all"
}

// Python packages that pip builds from source (no binary wheel on PyPI for
// Linux) link against a C library the full python image carries as -dev
// headers; python:X-slim lacks the shared library, so the final stage
// must install it. Debian package names; sources: psycopg2 and psycopg
// install docs (libpq), mysqlclient's README (MySQL/MariaDB client
// library), python-ldap's installing page (OpenLDAP libldap), uWSGI's
// uwsgiconfig.py (links libxml2 when xml2-config is found), lxml's
// installation page (libxml2, libxslt; wheels exist, so this only matters
// for source builds and costs little otherwise).
var sourceBuiltLibs = map[string][]string{
	"psycopg2":    {"libpq5"},
	"mysqlclient": {"libmariadb3"},
	"uwsgi":       {"libxml2"},
	"lxml":        {"libxml2", "libxslt1.1"},
	// GitPython is not built either: it runs git, which the full image
	// has (buildpack-deps:scm) and slim does not.
	"gitpython": {"git"},
}

// sourceBuiltLibsBySuite are those whose library is named per release.
// The packages after python-ldap are not built but load a library at run
// time that the full python image carries through buildpack-deps (file,
// imagemagick) and python:X-slim does not: python-magic loads libmagic
// with ctypes, Wand loads ImageMagick's MagickWand. Releases past
// bookworm are left out (trixie renamed libmagic1 for 64-bit time_t and
// moved to ImageMagick 7), so there they mean no split.
var sourceBuiltLibsBySuite = map[string]map[string][]string{
	"python-ldap":  {"bullseye": {"libldap-2.4-2"}, "bookworm": {"libldap-2.5-0"}, "trixie": {"libldap2"}},
	"python-magic": {"bullseye": {"libmagic1"}, "bookworm": {"libmagic1"}},
	"wand":         {"bullseye": {"libmagickwand-6.q16-6"}, "bookworm": {"libmagickwand-6.q16-6"}},
}

// pythonRuntimeLibs returns the libraries the Python packages the stage
// installs need at run time: packages named on pip's command line and in
// the requirements files it is given, read from the build context when it
// is on disk. It returns a reason for a package whose library it cannot
// name for the runtime image's Debian release.
func pythonRuntimeLibs(env *rewrite.Env, cmds []rewrite.ShellCommand, suite, runtime string) ([]string, string) {
	var libs []string
	for _, req := range pipRequirements(env, cmds) {
		name, extras := req.name, req.extras
		if name == "psycopg" && !extras["binary"] {
			// psycopg 3 loads libpq itself unless it brings its own.
			name = "psycopg2"
		}
		if l, ok := sourceBuiltLibs[name]; ok {
			libs = append(libs, l...)
			continue
		}
		if bySuite, ok := sourceBuiltLibsBySuite[name]; ok {
			if suite == "" {
				if _, built := builtFromSource[name]; !built {
					return nil, fmt.Sprintf("%s loads %s at run time, which %s lacks, and the package's name differs between Debian releases, which the tag names none of (a -bookworm tag names one)", req.name, strings.Join(firstLibs(bySuite), ", "), runtime)
				}
				return nil, fmt.Sprintf("%s is built from source against a library named differently in each Debian release, and the tag of %s names none", req.name, runtime)
			}
			l, ok := bySuite[suite]
			if !ok {
				if _, built := builtFromSource[name]; !built {
					return nil, fmt.Sprintf("%s loads %s at run time, which %s lacks, and hardenfix cannot name its package on Debian %s", req.name, strings.Join(firstLibs(bySuite), ", "), runtime, suite)
				}
				return nil, fmt.Sprintf("%s is built from source against a library hardenfix cannot name on Debian %s", req.name, suite)
			}
			libs = append(libs, l...)
		}
	}
	return libs, ""
}

// builtFromSource are the sourceBuiltLibsBySuite packages that are built
// against their library (the others load it at run time).
var builtFromSource = stringSet("python-ldap")

// firstLibs names what a sourceBuiltLibsBySuite entry installs, from the
// newest release it knows (for a note).
func firstLibs(bySuite map[string][]string) []string {
	for _, s := range []string{"trixie", "bookworm", "bullseye"} {
		if l, ok := bySuite[s]; ok {
			return l
		}
	}
	return nil
}

// pipOptionWithValue are pip install options whose value is the next word.
var pipOptionWithValue = stringSet("-i", "--index-url", "--extra-index-url", "-f", "--find-links",
	"--trusted-host", "-e", "--editable", "--no-binary", "--only-binary", "--platform",
	"--python-version", "--implementation", "--abi", "--progress-bar", "--cache-dir", "--log",
	"--timeout", "--retries", "--src", "--upgrade-strategy", "--config-settings", "-C", "--global-option")

type pipRequirement struct {
	name   string // normalised: lower case, runs of -_. as -
	extras map[string]bool
}

var (
	requirementName = regexp.MustCompile(`^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?`)
	nameSeparators  = regexp.MustCompile(`[-_.]+`)
)

// parseRequirement reads the project name and extras of a requirement
// specifier ("psycopg[binary]>=3", "uWSGI==2.0.23 ; python_version>'3'").
func parseRequirement(s string) (pipRequirement, bool) {
	m := requirementName.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return pipRequirement{}, false
	}
	r := pipRequirement{name: nameSeparators.ReplaceAllString(strings.ToLower(m[1]), "-"), extras: map[string]bool{}}
	for _, e := range strings.Split(m[2], ",") {
		if e = strings.TrimSpace(strings.ToLower(e)); e != "" {
			r.extras[e] = true
		}
	}
	return r, true
}

// pipRequirements lists what the pip install commands name: packages on
// the command line and the lines of -r files (and the -r files those
// name), looked up in the build context by their path, then by their base
// name; requirements.txt when a -r file is not found under its own name.
func pipRequirements(env *rewrite.Env, cmds []rewrite.ShellCommand) []pipRequirement {
	var out []pipRequirement
	seen := map[string]bool{}
	var readFile func(name string, depth int)
	readFile = func(name string, depth int) {
		if seen[name] || depth > 3 {
			return
		}
		seen[name] = true
		text := ""
		for _, try := range []string{name, path.Base(name), "requirements.txt"} {
			if text = buildctx.ReadFile(env.BuildContext, try); text != "" {
				name = try
				break
			}
		}
		for _, line := range strings.Split(text, "\n") {
			line, _, _ = strings.Cut(line, "#")
			fields := strings.Fields(line)
			switch {
			case len(fields) == 0:
			case (fields[0] == "-r" || fields[0] == "--requirement") && len(fields) > 1:
				readFile(path.Join(path.Dir(name), fields[1]), depth+1)
			case strings.HasPrefix(fields[0], "-"):
			default:
				if r, ok := parseRequirement(line); ok {
					out = append(out, r)
				}
			}
		}
	}
	for _, c := range cmds {
		args := argValues(c)
		for i := 0; i < len(args); i++ {
			a := args[i]
			switch {
			case (a == "-r" || a == "--requirement" || a == "-c" || a == "--constraint") && i+1 < len(args):
				if env.BuildContext != nil && (a == "-r" || a == "--requirement") {
					readFile(strings.TrimPrefix(path.Clean(args[i+1]), "/"), 0)
				}
				i++
			case pipOptionWithValue[a] && i+1 < len(args):
				i++
			case strings.HasPrefix(a, "-"), a == "install", a == "pip":
			default:
				if r, ok := parseRequirement(a); ok && !strings.ContainsAny(a, "/$") {
					out = append(out, r)
				}
			}
		}
	}
	return out
}

func stringSet(names ...string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return m
}
