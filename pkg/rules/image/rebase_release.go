package image

import (
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/hardenfix/hardenfix/pkg/registry"
	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/hardenfix/hardenfix/pkg/rules/internal/imageref"
)

// This file holds the rebase checks that keep a stage on its OS release:
// no landing on an end-of-life release, no release change under package
// repositories or release-specific packages the Dockerfile relies on, and no
// release change of a runtime stage whose builders stay behind.

// endOfLifeWhy says why target is no place to rebase onto — its release is
// end of life or was never published — or "".
func endOfLifeWhy(cat *registry.Catalog, target string) string {
	u, ok := cat.EndOfLife(target)
	if !ok {
		return ""
	}
	s := fmt.Sprintf("%s reached end of life by %s (%s)", target, u.Date, u.Source)
	if u.Never {
		s = fmt.Sprintf("no %s was ever published (%s)", target, u.Source)
	}
	if u.Instead != "" {
		return s + fmt.Sprintf("; the nearest supported release is %s, a major-version move to make and test by hand", u.Instead)
	}
	return s + "; move to a supported release by hand"
}

// osRelease is an OS family group, distribution and release number known
// from an image reference ("debian" "debian" "12", "rhel" "rocky" "8");
// empty when the reference does not say.
type osRelease struct{ family, distro, release string }

func (o osRelease) known() bool { return o.release != "" }

func (o osRelease) String() string {
	if o.family == "rhel" {
		return fmt.Sprintf("EL%s (%s)", o.release, o.distro)
	}
	return fmt.Sprintf("%s%s %s", strings.ToUpper(o.distro[:1]), o.distro[1:], o.release)
}

// debianCodenames are Debian's release names as image tags use them
// (https://www.debian.org/releases/).
var debianCodenames = map[string]string{
	"jessie": "8", "stretch": "9", "buster": "10", "bullseye": "11", "bookworm": "12", "trixie": "13", "forky": "14",
}

var (
	distrolessDebian = regexp.MustCompile(`-debian(\d+)$`)
	tagWords         = regexp.MustCompile(`[a-z]+\d*`)
	elTagWord        = regexp.MustCompile(`^(?:oraclelinux|ubi|el|rockylinux|almalinux|centos)(\d+)$`)
)

// releaseOf reads the OS release an image reference names: distroless's
// -debianNN repositories, Debian codenames and oraclelinuxN/ubiN in tags,
// and the debian, centos and rockylinux repositories' own version tags.
func releaseOf(ref string) osRelease {
	p, err := imageref.Parse(ref)
	if err != nil {
		return osRelease{}
	}
	name := p.Named.Name()
	if m := distrolessDebian.FindStringSubmatch(name); m != nil && strings.HasPrefix(name, "gcr.io/distroless/") {
		return osRelease{"debian", "debian", m[1]}
	}
	base := path.Base(name)
	major := registry.MajorVersion(p.Tag)
	switch {
	case name == "docker.io/library/debian" && major != "":
		return osRelease{"debian", "debian", major}
	case (base == "centos" || base == "rockylinux" || base == "almalinux") && major != "":
		return osRelease{"rhel", strings.TrimSuffix(base, "linux"), major}
	}
	for _, w := range tagWords.FindAllString(p.Tag, -1) {
		if n, ok := debianCodenames[w]; ok {
			return osRelease{"debian", "debian", n}
		}
		if m := elTagWord.FindStringSubmatch(w); m != nil {
			return osRelease{"rhel", strings.TrimSuffix(strings.TrimRight(w, "0123456789"), "linux"), m[1]}
		}
	}
	return osRelease{}
}

// stageAndDescendants returns stage and every later stage built FROM it,
// directly or not: what changes when stage's base image changes.
func stageAndDescendants(d *rewrite.Document, stage int) map[int]bool {
	stages := map[int]bool{stage: true}
	for i := stage + 1; i < len(d.Stages); i++ {
		for j := range stages {
			if d.Stages[j].Name != "" && strings.EqualFold(d.Stages[i].BaseName, d.Stages[j].Name) {
				stages[i] = true
			}
		}
	}
	return stages
}

// repoFileDest matches destinations of package repository files and keys.
var repoFileDest = regexp.MustCompile(`^/etc/(?:yum\.repos\.d|apt/sources\.list|apt/trusted\.gpg|apt/keyrings|apt/preferences|apk/repositories|apk/keys|zypp/repos\.d|pki/rpm-gpg)(?:/|$|\.d)|\.repo$|sources\.list$`)

// repoCommands are RUN texts that add or edit a package repository, which
// names one release of one distribution.
var repoCommands = []*regexp.Regexp{
	regexp.MustCompile(`/etc/(?:yum\.repos\.d|apt/sources\.list(?:\.d)?|apt/trusted\.gpg(?:\.d)?|apk/repositories|zypp/repos\.d)`),
	regexp.MustCompile(`\badd-apt-repository\b`),
	regexp.MustCompile(`\bapt-key\b`),
	regexp.MustCompile(`\byum-config-manager\b`),
	regexp.MustCompile(`\bconfig-manager\s+--add-?repo`),
	regexp.MustCompile(`\bzypper\s+(?:ar|addrepo)\b`),
	regexp.MustCompile(`\bdeb(?:-src)?\s+(?:\[[^\]]*\]\s+)?https?://`),
	regexp.MustCompile(`\b(?:vault|mirror|mirrorlist)\.centos\.org\b`),
	regexp.MustCompile(`dl-cdn\.alpinelinux\.org/alpine/v\d`),
}

// elSpecific are RUN texts that only work on one Enterprise Linux release
// or only on CentOS itself. release returns the EL release the text names
// ("" when it names CentOS rather than a release); always blocks whatever
// the target release is.
var elSpecific = []struct {
	re   *regexp.Regexp
	what string
	// onlyBelow: the packages exist only on releases below this one
	// (0: any release may lack them).
	onlyBelow int
}{
	{regexp.MustCompile(`\bcentos-release-[a-z0-9-]+`), "a CentOS-only release package", 0},
	{regexp.MustCompile(`\b(?:rh-[a-z]+[0-9]+|devtoolset-[0-9]+|llvm-toolset-7)\b`), "Software Collections packages, which exist only on EL7", 8},
	{regexp.MustCompile(`\bscl\s+enable\b`), "Software Collections, which exist only on EL7", 8},
	{regexp.MustCompile(`\bjava-1\.[5-7]\.0-openjdk`), "a Java package EL8 and later do not ship", 8},
	{regexp.MustCompile(`\bpython-(?:pip|devel|setuptools|virtualenv)\b`), "EL7's unversioned python- packages", 8},
	{regexp.MustCompile(`\bpython2(?:-[a-z]+)?\b`), "Python 2 packages, absent from EL9", 9},
}

// elReleasePins find the EL release a URL or package file names.
var elReleasePins = []*regexp.Regexp{
	regexp.MustCompile(`epel-release-latest-(\d+)`),
	regexp.MustCompile(`\.el(\d+)(?:[._]|\.noarch|\.x86_64|\b)`),
	regexp.MustCompile(`/(?:el|epel|centos|rhel|enterprise)/(\d+)(?:/|\b)`),
}

// releaseBlocker says why moving stage from its image to target, which
// may change the OS release or distribution, could break what the stage
// runs: a package repository it adds or edits, or packages of one
// Enterprise Linux release. "" when nothing blocks.
func releaseBlocker(d *rewrite.Document, stage int, orig imageref.Parsed, target imageref.Parsed, family string) string {
	targetMajor, _ := strconv.Atoi(releaseOf(target.Written).release)
	stages := stageAndDescendants(d, stage)
	for _, in := range d.Instructions {
		if !stages[in.Stage] {
			continue
		}
		if dest := repoFileCopy(in); dest != "" {
			return fmt.Sprintf("line %d copies a package repository file to %s, which names the current release of %s: the repository may not exist on %s; move it by hand", in.Line, dest, orig.Written, target.Written)
		}
		if in.Keyword != "RUN" {
			continue
		}
		text := in.Span.Text(d.Src)
		for _, re := range repoCommands {
			if m := re.FindString(text); m != "" {
				return fmt.Sprintf("line %d adds or edits a package repository (%s) made for %s: it may not exist on %s; move it by hand", in.Line, strings.TrimSpace(m), orig.Written, target.Written)
			}
		}
		if familyGroup(family) != "rhel" {
			continue
		}
		for _, s := range elSpecific {
			if m := s.re.FindString(text); m != "" && (s.onlyBelow == 0 || targetMajor == 0 || targetMajor >= s.onlyBelow) {
				return fmt.Sprintf("line %d installs %s (%s): it may not exist on %s; move it by hand", in.Line, s.what, m, target.Written)
			}
		}
		for _, re := range elReleasePins {
			if m := re.FindStringSubmatch(text); m != nil && strconv.Itoa(targetMajor) != m[1] {
				return fmt.Sprintf("line %d uses packages or repositories of EL%s (%s), and %s is not EL%s; move it by hand", in.Line, m[1], m[0], target.Written, m[1])
			}
		}
	}
	return ""
}

// repoFileCopy returns the destination of a COPY or ADD that puts a
// package repository file or key into the image, or "".
func repoFileCopy(in *rewrite.Instruction) string {
	var sd instructions.SourcesAndDest
	switch c := in.Command.(type) {
	case *instructions.CopyCommand:
		sd = c.SourcesAndDest
	case *instructions.AddCommand:
		sd = c.SourcesAndDest
	default:
		return ""
	}
	if repoFileDest.MatchString(sd.DestPath) {
		return sd.DestPath
	}
	for _, s := range sd.SourcePaths {
		if strings.HasSuffix(s, ".repo") || strings.HasSuffix(s, "sources.list") {
			return sd.DestPath
		}
	}
	return ""
}

// builderBlocker applies "builder and runtime move together": when the
// rebase changes stage's Debian (or EL) release and target has a C library,
// every stage or image the stage copies from must already be on target's
// release, or the copied binaries may need libraries the new release does
// not have (libssl1.1 is gone from Debian 12). It returns why not, or "".
func builderBlocker(cat *registry.Catalog, d *rewrite.Document, stage int, orig, target imageref.Parsed) string {
	from, to := releaseOf(orig.Written), releaseOf(target.Written)
	// A rename of the same release (centos:8 → Rocky Linux 8) keeps the
	// libraries binaries link against.
	if !to.known() || !from.known() || (from.family == to.family && from.release == to.release) {
		return ""
	}
	if f, ok := cat.Facts(target.Written); ok && f.Libc == "" {
		return "" // no C library (static): nothing the copied files link against changes
	}
	refs := map[int]*imageref.Ref{}
	for _, r := range imageref.FromRefs(d) {
		refs[r.Stage] = r
	}
	for _, in := range d.Instructions {
		c, ok := in.Command.(*instructions.CopyCommand)
		if in.Stage != stage || !ok || c.From == "" {
			continue
		}
		if copiesOnlyData(c.SourcePaths) {
			continue
		}
		src, image := builderImage(d, refs, c.From, stage)
		if staticGoBuilder(d, c.From, stage) {
			continue
		}
		if image == "" {
			return fmt.Sprintf("the OS release would change from %s to %s, and line %d copies files from %s, whose base image is not known; move the builder and this stage to %s together, or neither", from, to, in.Line, src, to)
		}
		if strings.EqualFold(image, "scratch") {
			continue
		}
		if b := releaseOf(image); b.family != to.family || b.release != to.release {
			rel := "whose release is not in its tag"
			if b.known() {
				rel = "on " + b.String()
			}
			if src != image {
				image += " (" + src + ")"
			}
			return fmt.Sprintf("the OS release would change from %s to %s, but line %d copies files built on %s, %s: binaries linked against its libraries (libssl, glibc) may not run on %s; move both stages to %s together, or neither", from, to, in.Line, image, rel, to, to)
		}
	}
	return ""
}

// builderImage follows a COPY --from value (a stage name or index, or an
// image) to the image it starts from, through stages built FROM stages.
// It returns how to name the source and the image ("" when unknown).
func builderImage(d *rewrite.Document, refs map[int]*imageref.Ref, from string, before int) (string, string) {
	idx := -1
	if imageref.IsStageIndex(from) {
		idx, _ = strconv.Atoi(from)
	} else {
		for i := 0; i < before && i < len(d.Stages); i++ {
			if strings.EqualFold(d.Stages[i].Name, from) {
				idx = i
			}
		}
	}
	if idx < 0 {
		return from, from // an image
	}
	src := "stage " + from
	for seen := 0; seen <= len(d.Stages) && idx >= 0 && idx < before; seen++ {
		r := refs[idx]
		if r == nil || r.Image == "" {
			return src, ""
		}
		if !r.Skip || strings.EqualFold(r.Image, "scratch") {
			return src, r.Image
		}
		next := -1
		for i := 0; i < idx; i++ {
			if strings.EqualFold(d.Stages[i].Name, r.Image) {
				next = i
			}
		}
		idx = next
	}
	return src, ""
}

// releaseChecks keeps a stage on its OS release: when the distribution or
// release may change (either is unknown, or they differ), repository files
// and release-specific packages block; a known release change blocks when
// a package manager runs, and moves a runtime only together with its
// builders.
func releaseChecks(cat *registry.Catalog, d *rewrite.Document, stage int, p, tp imageref.Parsed, rep *replacement, pm string) string {
	from, to := releaseOf(p.Written), releaseOf(tp.Written)
	if from != to || !from.known() {
		if why := releaseBlocker(d, stage, p, tp, rep.family); why != "" {
			return why
		}
	}
	if from.known() && to.known() && from.release != to.release && pm != "" {
		return fmt.Sprintf("the OS release would change from %s to %s while %s runs on this image", from, to, pm)
	}
	return builderBlocker(cat, d, stage, p, tp)
}

// dataPaths are sources that hold data, not binaries: certificates and
// time zones link against nothing.
var dataPaths = regexp.MustCompile(`^/(?:etc/ssl/|etc/pki/|usr/share/zoneinfo|usr/share/ca-certificates)|\.(?:crt|pem)$`)

func copiesOnlyData(sources []string) bool {
	for _, s := range sources {
		if !dataPaths.MatchString(s) {
			return false
		}
	}
	return len(sources) > 0
}

var (
	goBuild     = regexp.MustCompile(`\bgo\s+(?:build|install)\b`)
	cgoDisabled = regexp.MustCompile(`\bCGO_ENABLED=["']?0\b`)
)

// staticGoBuilder reports whether the stage named from builds Go with cgo
// disabled (CGO_ENABLED=0 in every RUN that builds, or in an ENV or ARG of
// the stage or the stages it is built FROM): its binaries are static and
// run on any release.
func staticGoBuilder(d *rewrite.Document, from string, before int) bool {
	chain := map[int]bool{}
	for idx := stageNamed(d, from, before); idx >= 0 && !chain[idx]; idx = stageNamed(d, d.Stages[idx].BaseName, idx) {
		chain[idx] = true
	}
	if len(chain) == 0 {
		return false
	}
	builds, envOff, allOff := false, false, true
	for _, in := range d.Instructions {
		if !chain[in.Stage] {
			continue
		}
		text := in.Span.Text(d.Src)
		switch in.Keyword {
		case "ENV", "ARG":
			envOff = envOff || cgoDisabled.MatchString(text)
		case "RUN":
			if goBuild.MatchString(text) {
				builds = true
				allOff = allOff && cgoDisabled.MatchString(text)
			}
		}
	}
	return builds && (envOff || allOff)
}

// stageNamed returns the index of the stage before `before` that name (a
// stage name or index) refers to, or -1.
func stageNamed(d *rewrite.Document, name string, before int) int {
	if imageref.IsStageIndex(name) {
		i, _ := strconv.Atoi(name)
		if i < before {
			return i
		}
		return -1
	}
	idx := -1
	for i := 0; i < before && i < len(d.Stages); i++ {
		if d.Stages[i].Name != "" && strings.EqualFold(d.Stages[i].Name, name) {
			idx = i
		}
	}
	return idx
}

// imagePaths are where a deprecated image keeps what its successor keeps
// elsewhere. openjdk's Debian images put the JDK in /usr/local/openjdk-N,
// its Oracle Linux ones in /usr/java/openjdk-N (with /usr/java/default and
// latest), its older and Alpine ones in Debian's and Alpine's
// /usr/lib/jvm/… (docker-library/openjdk's Dockerfile templates); Eclipse
// Temurin keeps it in /opt/java/openjdk. A Dockerfile that names the old
// path (a java binary in CMD, a cacerts keystore for keytool, a PATH
// entry) breaks on the successor unless it goes through $JAVA_HOME.
var imagePaths = map[string]struct {
	re    *regexp.Regexp
	where string
}{
	"docker.io/library/openjdk": {regexp.MustCompile(`/usr/local/openjdk-\d+|/usr/java/(?:openjdk-\d+|default|latest)\b|/usr/lib/jvm/[A-Za-z0-9._-]+`), "the JDK, which eclipse-temurin keeps in /opt/java/openjdk ($JAVA_HOME)"},
}

// imagePathBlocker says why moving stage off orig breaks a path the
// Dockerfile names inside the old image ("" when none is named).
func imagePathBlocker(d *rewrite.Document, stage int, orig imageref.Parsed) string {
	paths, ok := imagePaths[orig.Named.Name()]
	if !ok {
		return ""
	}
	stages := stageAndDescendants(d, stage)
	for _, in := range d.Instructions {
		if !stages[in.Stage] || in.Keyword == "FROM" {
			continue
		}
		if m := paths.re.FindString(in.Span.Text(d.Src)); m != "" {
			return fmt.Sprintf("line %d names %s, where %s keeps %s; reach the JDK through $JAVA_HOME or java on PATH instead, then run hardenfix again", in.Line, m, orig.Named.Name()[len("docker.io/library/"):], paths.where)
		}
	}
	return ""
}

// stableAptNames are packages named alike on every Debian and Ubuntu
// release a rebase can move between (packages.debian.org and
// packages.ubuntu.com): tools, fonts and data. Anything else an apt
// install names may be named differently on the other distribution
// (libssl1.1 against libssl3t64, libpng16-16 against Ubuntu 24.04's
// libpng16-16t64, netcat a virtual package), so the build would fail.
var stableAptNames = map[string]bool{
	"bash": true, "ca-certificates": true, "curl": true, "wget": true, "git": true, "gnupg": true,
	"unzip": true, "zip": true, "xz-utils": true, "bzip2": true, "tar": true, "gzip": true,
	"procps": true, "tzdata": true, "locales": true, "fontconfig": true, "fonts-dejavu": true,
	"fonts-dejavu-core": true, "libfreetype6": true, "jq": true, "less": true, "vim": true, "nano": true,
	"openssl": true, "tini": true, "dumb-init": true, "gosu": true, "netcat-openbsd": true,
	"iputils-ping": true, "dnsutils": true, "net-tools": true, "telnet": true, "gettext-base": true,
	"python3": true, "python3-pip": true, "build-essential": true, "make": true, "gcc": true, "g++": true,
	"maven": true, "ant": true, "graphviz": true, "file": true, "rsync": true, "openssh-client": true,
}

// aptOptionValues are apt-get options whose value is the next word.
var aptOptionValues = map[string]bool{"-o": true, "--option": true, "-t": true, "--target-release": true, "-c": true, "--config-file": true}

// distroNamesBlocker says why moving a stage between Debian and Ubuntu
// (openjdk's Debian tags onto eclipse-temurin's Ubuntu) breaks the apt
// installs it runs: a package whose name is not known to be the same on
// both. "" when every package is.
func distroNamesBlocker(d *rewrite.Document, stage int, fromFamily, toFamily string) string {
	stages := stageAndDescendants(d, stage)
	for _, in := range d.Instructions {
		if in.Keyword != "RUN" || !stages[in.Stage] {
			continue
		}
		for _, c := range d.ShellCommands(in) {
			argv := c.Argv()
			if len(argv) < 2 || (c.Program() != "apt-get" && c.Program() != "apt") {
				continue
			}
			args := rewrite.Values(argv[1:])
			install := false
			for i := 0; i < len(args); i++ {
				a := args[i]
				switch {
				case aptOptionValues[a]:
					i++
				case strings.HasPrefix(a, "-"):
				case !install:
					if a != "install" {
						i = len(args) // another subcommand
					}
					install = true
				default:
					name, _, _ := strings.Cut(a, "=")
					if !stableAptNames[name] {
						return fmt.Sprintf("line %d installs %s with apt, and the distribution would change from %s to %s, where a package may be named differently or not exist (library sonames, t64 renames, virtual packages); check the names on %s and rebase by hand", in.Line, a, fromFamily, toFamily, toFamily)
					}
				}
			}
		}
	}
	return ""
}

// alpineRelease reads the Alpine release ("3.9") an image reference names:
// the alpine repository's own version tags (and gliderlabs/alpine's, which
// the official image grew from) and an alpine3.N word in a tag
// (node:20-alpine3.19); "" when the reference does not say (node:20-alpine
// follows the newest Alpine).
func alpineRelease(ref string) string {
	p, err := imageref.Parse(ref)
	if err != nil {
		return ""
	}
	if path.Base(p.Named.Name()) == "alpine" {
		if m := alpineVersionTag.FindStringSubmatch(p.Tag); m != nil {
			return m[1]
		}
	}
	if m := alpineTagWord.FindStringSubmatch(p.Tag); m != nil {
		return m[1]
	}
	return ""
}

var (
	alpineVersionTag = regexp.MustCompile(`^(3\.\d+)(?:\.\d+)?$`)
	alpineTagWord    = regexp.MustCompile(`(?:^|[-_])alpine(3\.\d+)(?:$|[-_])`)
	apkWord          = regexp.MustCompile(`\bapk\b`)
)

// stableApkNames are packages named alike, and meaning the same, on every
// Alpine release from 3.4 (mhart/alpine-node's oldest) to the newest
// (pkgs.alpinelinux.org): tools, certificates, time zones, the compiler
// toolchain. Left out are the names Alpine renamed or dropped (python and
// py-pip became python3 and py3-pip, ttf-dejavu font-dejavu, procps
// procps-ng, libssl1.1 libssl3, openjdk8 is gone from main) and those whose
// meaning changed under the same name (py3-pip's pip refuses to install
// into the system Python from 3.19, PEP 668; nodejs and the -dev libraries
// move major versions).
var stableApkNames = map[string]bool{
	"bash": true, "ca-certificates": true, "curl": true, "wget": true, "git": true, "openssl": true,
	"tzdata": true, "tar": true, "gzip": true, "bzip2": true, "xz": true, "unzip": true, "zip": true,
	"coreutils": true, "findutils": true, "grep": true, "sed": true, "gawk": true, "file": true,
	"jq": true, "less": true, "vim": true, "nano": true, "rsync": true, "openssh-client": true,
	"su-exec": true, "tini": true, "dumb-init": true, "shadow": true, "sudo": true, "bind-tools": true,
	"netcat-openbsd": true, "fontconfig": true, "freetype": true, "libstdc++": true, "libgcc": true,
	"make": true, "gcc": true, "g++": true, "musl-dev": true, "build-base": true, "linux-headers": true,
}

// apkOptionValues are apk options whose value is the next word.
var apkOptionValues = map[string]bool{
	"-X": true, "--repository": true, "-p": true, "--root": true, "-t": true, "--virtual": true,
	"--arch": true, "--cache-dir": true, "--keys-dir": true, "--repositories-file": true,
	"--wait": true, "--progress-fd": true, "--cache-max-age": true, "--timeout": true,
}

// alpineNamesBlocker says why moving a stage from orig to target, both
// Alpine, breaks the apk installs of the stage and those built FROM it:
// unless both are known to be the same Alpine release, every package apk
// adds must be on stableApkNames, unpinned. A variable among the packages
// counts by its value when the Dockerfile gives it one (ENV, ARG default,
// or an assignment earlier in the same RUN). "" when nothing blocks.
func alpineNamesBlocker(d *rewrite.Document, stage int, orig, target imageref.Parsed) string {
	from, to := alpineRelease(orig.Written), alpineRelease(target.Written)
	if from != "" && from == to {
		return ""
	}
	change := fmt.Sprintf("the Alpine release of %s and %s is not known to be the same", orig.Written, target.Written)
	if from != "" && to != "" {
		change = fmt.Sprintf("the Alpine release would change from %s to %s", from, to)
	}
	const why = "packages are renamed or dropped between releases (python became python3, ttf-dejavu font-dejavu) and version pins go stale; check the names on the new release and rebase by hand"
	stages := stageAndDescendants(d, stage)
	for _, in := range d.Instructions {
		if in.Keyword != "RUN" || !stages[in.Stage] {
			continue
		}
		if d.Shell(in) == nil {
			if apkWord.MatchString(in.Span.Text(d.Src)) {
				return fmt.Sprintf("line %d runs apk in a form hardenfix does not read, and %s: %s", in.Line, change, why)
			}
			continue
		}
		vars := rewrite.Vars{}
		for k, v := range d.VarsAt(in) {
			vars[k] = v
		}
		for _, c := range d.ShellCommands(in) {
			argv := c.Argv()
			if argv == nil {
				shellAssignments(c.Words, vars)
				continue
			}
			if c.Program() != "apk" {
				continue
			}
			for _, pkg := range apkAddPackages(d, argv[1:], vars) {
				if pkg.unknown != "" {
					return fmt.Sprintf("line %d installs %s with apk, whose value the Dockerfile does not give, and %s: %s", in.Line, pkg.unknown, change, why)
				}
				if !stableApkNames[pkg.name] {
					return fmt.Sprintf("line %d installs %s with apk, and %s: %s", in.Line, pkg.name, change, why)
				}
			}
		}
	}
	return ""
}

// shellAssignments records the NAME=value words of an assignment-only
// command in vars: a literal value by its value, any other as unknown
// (absent).
func shellAssignments(words []rewrite.Word, vars rewrite.Vars) {
	for _, w := range words {
		if !rewrite.IsAssignment(w) {
			continue
		}
		name, raw, _ := strings.Cut(w.Raw, "=")
		_, value, _ := strings.Cut(w.Value, "=")
		if strings.ContainsAny(raw, "$`") {
			delete(vars, name)
			continue
		}
		vars[name] = value
	}
}

// apkPackage is one package an apk add names, or the word whose value is
// not known.
type apkPackage struct{ name, unknown string }

// apkAddPackages returns the packages an apk command line (after the
// program) adds; nil when its subcommand is not add. Words holding
// variables are expanded with vars and split like the shell splits them.
func apkAddPackages(d *rewrite.Document, args []rewrite.Word, vars rewrite.Vars) []apkPackage {
	var out []apkPackage
	add := false
	for i := 0; i < len(args); i++ {
		w := args[i]
		values := []string{w.Value}
		if !w.Literal() {
			if len(w.Substitutions()) > 0 {
				if add {
					out = append(out, apkPackage{unknown: w.Raw})
				}
				continue
			}
			v, unset, err := d.Expand(w.Raw, vars)
			if err != nil || len(unset) > 0 {
				if add {
					name := w.Raw
					if len(unset) > 0 {
						name = "$" + unset[0]
					}
					out = append(out, apkPackage{unknown: name})
				}
				continue
			}
			values = strings.Fields(v)
		}
		for _, a := range values {
			switch {
			case apkOptionValues[a]:
				i++
			case strings.HasPrefix(a, "-"):
			case !add:
				if a != "add" {
					return nil
				}
				add = true
			default:
				out = append(out, apkPackage{name: a})
			}
		}
	}
	return out
}
