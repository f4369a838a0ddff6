package multistage

import (
	"context"
	"fmt"
	"path"

	"github.com/hardenfix/hardenfix/pkg/registry"
	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/hardenfix/hardenfix/pkg/rules/internal/imageref"
)

// workdirFact is the working directory a stage starts in before its first
// WORKDIR: the base image's own (gradle: /home/gradle, golang: /go). dir
// is "" when it is unknown, and why then says so for a note.
type workdirFact struct {
	dir, why string
}

// catalogWorkdir is the base image's working directory as the image facts
// (Env.Images, then the catalog) know it.
func catalogWorkdir(env *rewrite.Env, image string) workdirFact {
	for _, info := range []registry.ImageInfo{env.Images, imageref.CatalogOf(env)} {
		if info == nil {
			continue
		}
		if f, ok := info.Facts(image); ok && path.IsAbs(f.WorkingDir) {
			return workdirFact{dir: path.Clean(f.WorkingDir)}
		}
	}
	why := fmt.Sprintf("relative paths before the first absolute WORKDIR resolve against the working directory of %s, which hardenfix's catalog does not know", image)
	if env.Resolver == nil {
		why += " and cannot be looked up offline"
	}
	return workdirFact{why: why}
}

// registryWorkdir asks the registry for the WorkingDir of the image's
// config, which is the truth when it answers (an empty WorkingDir means
// "/"). When the lookup fails, the catalog's answer stands; when that is
// unknown too, the note says why the lookup did not help.
func registryWorkdir(ctx context.Context, env *rewrite.Env, image string, known workdirFact) workdirFact {
	cfg, err := env.Resolver.Config(ctx, image, registry.Platform{})
	if _, stale := registry.IsStale(err); err != nil && !stale || cfg == nil {
		if known.dir != "" {
			return known
		}
		return workdirFact{why: fmt.Sprintf("relative paths before the first absolute WORKDIR resolve against the working directory of %s, which hardenfix's catalog does not know and the registry lookup did not give (%v)", image, err)}
	}
	return workdirFact{dir: path.Join("/", cfg.WorkingDir)}
}

// usesBaseWorkdir reports whether anything that matters to a split — a
// RUN, COPY, ADD or relative WORKDIR, or where the container starts —
// runs in the base image's working directory, before any absolute WORKDIR.
func usesBaseWorkdir(steps []stageStep) bool {
	for i, st := range steps {
		if !st.fromBase {
			continue
		}
		switch st.in.Keyword {
		case "RUN", "COPY", "ADD", "WORKDIR":
			return true
		}
		if i == len(steps)-1 {
			return true
		}
	}
	return false
}

// workdirReason says why a step's working directory is unknown: the base
// image's is, or else what the caller says (a variable with no value).
func workdirReason(st stageStep, otherwise string) string {
	if st.baseWhy != "" {
		return st.baseWhy
	}
	return otherwise
}

// replayedCopyDir says why a COPY/ADD cannot be repeated in the final
// stage where it would go ("" when it can). A COPY from before the build
// step is repeated after the final stage's WORKDIR (dir), so a relative
// destination must have been relative to that very directory; later ones
// follow the repeated WORKDIR lines and resolve as they did.
func replayedCopyDir(d *rewrite.Document, st stageStep, preBuild bool, dir string) string {
	dest, _ := copyDest(st.in)
	if expanded, unset, err := d.Expand(dest, st.vars); err == nil && len(unset) == 0 {
		dest = expanded
	}
	if !preBuild || path.IsAbs(dest) {
		return ""
	}
	if st.workdir == "" {
		return workdirReason(st, fmt.Sprintf("the %s at line %d copies to a relative path in a working directory that depends on a variable with no known value", st.in.Keyword, st.in.Line))
	}
	if st.workdir != dir {
		return fmt.Sprintf("the %s at line %d copies to a path relative to %s, and the final stage would repeat it in %s", st.in.Keyword, st.in.Line, st.workdir, dir)
	}
	return ""
}
