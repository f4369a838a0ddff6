package nonroot

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
)

// A VOLUME the runtime user was not handed keeps the stage root unless the
// rule can hand it over itself. A new named volume is created with the
// owner and mode of the folder in the image, so the folder is made and
// chowned to the runtime user right before the VOLUME (a build step after
// it would be discarded by the classic builder): the documented fix the
// note used to ask for. A bind mount keeps the host's owner whatever the
// image says; the fix's message says so.

// volumeHandover is one VOLUME instruction and the paths of it to hand
// to the runtime user.
type volumeHandover struct {
	in    *rewrite.Instruction
	paths []string
}

// plainPath is an absolute path with nothing a shell would expand or
// split.
var plainPath = regexp.MustCompile(`^/[A-Za-z0-9._/@+-]*$`)

// unownedVolumes returns the final stage's VOLUME paths no non-root user
// was handed, by instruction, with the first instruction and path for the
// note.
func (a *stageAnalysis) unownedVolumes() (list []volumeHandover) {
	for _, v := range a.Volumes {
		var paths []string
		for _, vol := range v.Values {
			if !a.owned(vol) && !systemPath(vol) {
				paths = append(paths, vol)
			}
		}
		if len(paths) > 0 {
			list = append(list, volumeHandover{v.In, paths})
		}
	}
	return list
}

// cannotHandOver says why the rule cannot chown the volumes itself, or "":
// it needs a POSIX shell with mkdir and chown, root at the VOLUME, and no
// start script that manages owners itself (it runs as root and would
// fail as the runtime user).
func (p *nonRootPlan) cannotHandOver(vols []volumeHandover) string {
	if why := p.cannotChown(); why != "" {
		return why
	}
	for _, v := range vols {
		for _, path := range v.paths {
			if !plainPath.MatchString(path) {
				return fmt.Sprintf("the path %q is not a plain absolute path", path)
			}
			if !dataFolder(path) {
				return fmt.Sprintf("%s does not look like a folder of data the process keeps (data, uploads, storage, /var/lib/...): it may be a workspace or code mounted from the host at run time, whose owner no image can set", path)
			}
		}
		if !p.rootAt(v.in) {
			return fmt.Sprintf("the build does not run as root at line %d", v.in.Line)
		}
	}
	return ""
}

// cannotChown says why the rule cannot add a RUN chown to the stage, or
// "".
func (p *nonRootPlan) cannotChown() string {
	a := p.a
	if a.ScriptChown != "" {
		return fmt.Sprintf("the start script %s changes file owners or modes when the container starts, which it could not do as a non-root user on files it does not own", a.ScriptChown)
	}
	shell := a.HasFacts && a.Facts.HasShell
	if !a.HasFacts {
		family, _ := p.family()
		shell = family != ""
	}
	if !shell {
		return "hardenfix cannot tell that " + imageOr(a) + " has a shell to run mkdir and chown"
	}
	for _, in := range p.d.Instructions {
		if in.Keyword == "SHELL" && inChain(a.Chain, in.Stage) {
			return fmt.Sprintf("line %d sets another SHELL", in.Line)
		}
	}
	return ""
}

// dataWords name folders a service keeps its state in. A VOLUME elsewhere
// (/app, /src, /dist, a package's source) is as often a folder the user
// mounts from the host for a build or lint container, which runs as the
// host's user or not at all: such a volume keeps its note.
var dataWords = setOf("data", "uploads", "upload", "storage", "db", "database", "state", "logs", "log",
	"cache", "config", "conf", "media", "music", "files", "attachments", "backups", "backup", "persist", "persistent")

// dataFolder reports a VOLUME path that names a folder of data: under
// /var/lib, /var/log, /var/cache or /srv, or with a data word in it.
func dataFolder(path string) bool {
	for _, prefix := range []string{"/var/lib/", "/var/log/", "/var/cache/", "/srv/"} {
		if strings.HasPrefix(path+"/", prefix) && len(path) >= len(prefix) {
			return true
		}
	}
	for _, part := range strings.Split(strings.ToLower(path), "/") {
		if dataWords[part] {
			return true
		}
	}
	return false
}

func inChain(chain []int, stage int) bool {
	for _, s := range chain {
		if s == stage {
			return true
		}
	}
	return false
}

// rootAt reports whether the build runs as root (known) at in: the last
// USER before it in the stage's chain is root, or there is none and the
// base image's user is root.
func (p *nonRootPlan) rootAt(in *rewrite.Instruction) bool {
	a := p.a
	var last *userSet
	for i := range a.Sets {
		s := &a.Sets[i]
		if s.In.Stage != in.Stage || s.In.Line < in.Line {
			last = s
		}
	}
	if last != nil {
		return last.Spec.Known && last.Spec.Root()
	}
	return !(a.HasFacts && a.Facts.NonRoot())
}

// numericSpec matches a USER value chown takes as it is, whatever
// /etc/passwd holds at the VOLUME: uid or uid:gid.
var numericSpec = regexp.MustCompile(`^[0-9]+(:[0-9]+)?$`)

// handOverVolumes returns the fix that makes and chowns each volume
// before its VOLUME, or ok false when it cannot go with userEdit (the
// USER would come before a VOLUME, or the user is a name).
func (p *nonRootPlan) handOverVolumes(userEdit rewrite.Edit) (fix rewrite.Fix, ok bool) {
	if !numericSpec.MatchString(p.spec) {
		return fix, false
	}
	d := p.d
	var names []string
	for _, v := range p.volumes {
		if v.in.Span.Start >= userEdit.Start {
			return rewrite.Fix{}, false // the RUN would run as the new user
		}
		list := strings.Join(v.paths, " ")
		run := fmt.Sprintf("%s mkdir -p %s && chown -R %s %s", d.Keyword("RUN"), list, p.spec, list)
		fix.Edits = append(fix.Edits, rewrite.InsertLineBefore(d, v.in, run))
		names = append(names, v.paths...)
		if fix.Line == 0 {
			fix.Line = v.in.Line
		}
	}
	fix.Message = fmt.Sprintf("hand the volume folder%s %s to %s before VOLUME declares %s: a new named volume takes the owner of the folder in the image (a bind mount keeps the host's owner: give it to uid %s there)",
		plural(len(names), "", "s"), strings.Join(names, ", "), p.spec, plural(len(names), "it", "them"), strings.SplitN(p.spec, ":", 2)[0])
	fix.Risk = rewrite.Review
	return fix, true
}

// volumeNote says why the volume keeps the stage root.
func (p *nonRootPlan) volumeNote(v volumeHandover, why string) {
	vol := v.paths[0]
	p.note(v.in.Line, "VOLUME %s: the process probably writes there (a volume is for data), and a new volume takes the owner of %s in the image, root here; hardenfix did not hand it over itself (%s): hand it to the runtime user in the build (RUN mkdir -p %s && chown UID %s, or COPY --chown), then run hardenfix again", vol, vol, why, vol, vol)
}

// withVolumes adds the volume hand-over to the fixes that set the user
// (userEdit writes the USER), or returns nil with a note when it cannot
// go with them. A hand-over inserted where another line is inserted (the
// user's creation after a FROM the VOLUME follows) joins that insertion,
// after it.
func (p *nonRootPlan) withVolumes(fixes []rewrite.Fix, userEdit rewrite.Edit) []rewrite.Fix {
	fixes = p.withDirs(fixes, userEdit)
	if len(p.volumes) == 0 || len(fixes) == 0 {
		return fixes
	}
	vf, ok := p.handOverVolumes(userEdit)
	if !ok {
		why := "the USER goes before it"
		if !numericSpec.MatchString(p.spec) {
			why = "the user " + p.spec + " has no uid hardenfix knows"
		}
		p.volumeNote(p.volumes[0], why)
		return nil
	}
	var own []rewrite.Edit
	for _, ve := range vf.Edits {
		joined := false
		for i := range fixes {
			for j := range fixes[i].Edits {
				e := &fixes[i].Edits[j]
				if e.Start == ve.Start && e.End == e.Start && !strings.HasPrefix(e.New, p.d.Newline) {
					e.New += ve.New
					joined = true
				}
			}
		}
		if !joined {
			own = append(own, ve)
		}
	}
	if len(own) == 0 {
		fixes[0].Message += "; " + vf.Message
		return fixes
	}
	vf.Edits = own
	return append(fixes, vf)
}

// withDirs hands the empty folders the process writes (p.dirs: made by
// mkdir or WORKDIR, named by the command, an ENV or the start script) to
// the runtime user with a RUN chown right before the USER, where the
// build still runs as root and the folders exist; nil with the note of
// before when the USER replaces a trailing USER root (the user before it
// is not known to be root) or is not numeric.
func (p *nonRootPlan) withDirs(fixes []rewrite.Fix, userEdit rewrite.Edit) []rewrite.Fix {
	if len(p.dirs) == 0 || len(fixes) == 0 {
		return fixes
	}
	if !numericSpec.MatchString(p.spec) || userEdit.Start != userEdit.End {
		p.notes = append(p.notes, p.dirNotes...)
		return nil
	}
	d := p.d
	run := fmt.Sprintf("%s chown %s %s", d.Keyword("RUN"), p.spec, strings.Join(p.dirs, " "))
	for i := range fixes {
		for j := range fixes[i].Edits {
			e := &fixes[i].Edits[j]
			if e.Start != userEdit.Start || e.End != e.Start || e.New != userEdit.New {
				continue
			}
			if strings.HasPrefix(e.New, d.Newline) {
				e.New = d.Newline + run + e.New
			} else {
				e.New = run + d.Newline + e.New
			}
			fixes[i].Message += fmt.Sprintf("; hand %s, which the build makes empty for the process to write, to %s first", strings.Join(p.dirs, ", "), p.spec)
			return fixes
		}
	}
	p.notes = append(p.notes, p.dirNotes...)
	return nil
}
