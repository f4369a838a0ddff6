package multistage

import (
	"fmt"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/hardenfix/hardenfix/pkg/rules/internal/imageref"
)

// userChangeReason says why the split would break a VOLUME, or "": a
// stage that ran as root moved onto a runtime image with a non-root user
// of its own (distroless :nonroot is 65532) writes its VOLUMEs as that
// user, but the folders are root's in the new image, so the process
// could no longer write its data. Handing them over needs a shell the
// runtime image may not have, so the split is left to the user.
func userChangeReason(env *rewrite.Env, image string, steps []stageStep, rec *recipe) string {
	runtime, ok := imageref.Facts(env, rec.runtime)
	if !ok || !runtime.NonRoot() {
		return ""
	}
	for _, st := range steps {
		if st.in.Keyword == "USER" {
			return "" // the stage names its user; the split carries it over
		}
	}
	if base, ok := imageref.Facts(env, image); !ok || base.NonRoot() {
		return ""
	}
	for _, st := range steps {
		v, ok := st.in.Command.(*instructions.VolumeCommand)
		if !ok {
			continue
		}
		for _, vol := range v.Volumes {
			if !strings.HasPrefix(vol, "/tmp") {
				return fmt.Sprintf("%s runs as %s where %s ran as root, and VOLUME %s (line %d) would be root's in it: the process could not write its data; split by hand, handing the folder over with COPY --chown", rec.runtime, userOf(runtime.User, runtime.UID), image, vol, st.in.Line)
			}
		}
	}
	return ""
}

func userOf(name string, uid int) string {
	switch {
	case name != "" && uid > 0:
		return fmt.Sprintf("%s (uid %d)", name, uid)
	case uid > 0:
		return fmt.Sprintf("uid %d", uid)
	}
	return name
}
