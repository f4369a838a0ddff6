package verify

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/hardenfix/hardenfix/pkg/report"
)

// ImageInfo is what verify compares between the two images.
type ImageInfo struct {
	ID   string `json:"id"`
	Size int64  `json:"size"` // bytes, as the engine reports it
	// Layers is the number of layers of the root file system.
	Layers int `json:"layers"`
	// User is the config's User ("" means root); UID is what `id -u`
	// printed in the image, "" when it has no id (or it could not run).
	User       string   `json:"user"`
	UID        string   `json:"uid,omitempty"`
	Ports      []string `json:"ports,omitempty"`
	Entrypoint []string `json:"entrypoint,omitempty"`
	Cmd        []string `json:"cmd,omitempty"`
	WorkingDir string   `json:"workingDir,omitempty"`
	Env        []string `json:"env,omitempty"`
}

// EffectiveUser is how a report shows the user: the UID `id -u` printed,
// else the config's User, else root.
func (i *ImageInfo) EffectiveUser() string {
	switch {
	case i == nil:
		return ""
	case i.UID != "":
		return i.UID
	case i.User != "":
		return i.User
	}
	return "0"
}

type imageConfig struct {
	User         string              `json:"User"`
	ExposedPorts map[string]struct{} `json:"ExposedPorts"`
	Env          []string            `json:"Env"`
	Entrypoint   []string            `json:"Entrypoint"`
	Cmd          []string            `json:"Cmd"`
	WorkingDir   string              `json:"WorkingDir"`
}

// parseInspect reads `docker|podman image inspect` (an array of objects
// with Id, Size, Config and RootFS) or `buildah inspect --type image` (an
// object with FromImageID and OCIv1's config and rootfs).
func parseInspect(data []byte) (*ImageInfo, error) {
	data = []byte(strings.TrimSpace(string(data)))
	var cfg imageConfig
	info := &ImageInfo{}
	if len(data) > 0 && data[0] == '[' {
		var list []struct {
			ID     string      `json:"Id"`
			Size   int64       `json:"Size"`
			Config imageConfig `json:"Config"`
			RootFS struct {
				Layers []string `json:"Layers"`
			} `json:"RootFS"`
		}
		if err := json.Unmarshal(data, &list); err != nil {
			return nil, fmt.Errorf("reading image inspect: %w", err)
		}
		if len(list) != 1 {
			return nil, fmt.Errorf("image inspect described %d images, not 1", len(list))
		}
		cfg = list[0].Config
		info.ID, info.Size, info.Layers = list[0].ID, list[0].Size, len(list[0].RootFS.Layers)
	} else {
		var b struct {
			FromImageID string `json:"FromImageID"`
			OCIv1       struct {
				Config imageConfig `json:"config"`
				RootFS struct {
					DiffIDs []string `json:"diff_ids"`
				} `json:"rootfs"`
			} `json:"OCIv1"`
			History []struct{ Size int64 } `json:"History"`
		}
		if err := json.Unmarshal(data, &b); err != nil {
			return nil, fmt.Errorf("reading buildah inspect: %w", err)
		}
		cfg = b.OCIv1.Config
		info.ID, info.Layers = b.FromImageID, len(b.OCIv1.RootFS.DiffIDs)
		for _, h := range b.History {
			info.Size += h.Size
		}
	}
	info.User, info.Env, info.Entrypoint, info.Cmd, info.WorkingDir = cfg.User, cfg.Env, cfg.Entrypoint, cfg.Cmd, cfg.WorkingDir
	for p := range cfg.ExposedPorts {
		info.Ports = append(info.Ports, p)
	}
	sort.Strings(info.Ports)
	return info, nil
}

// A Difference is something the rewritten image does differently from the
// original that a reviewer must see. Bad ones (a larger image, a lost
// port, a changed entrypoint or command) are listed first.
type Difference struct {
	What string `json:"what"` // size, user, layers, ports, entrypoint, cmd, workdir, env
	// Bad is set for differences that may break users of the image.
	Bad     bool   `json:"bad"`
	Message string `json:"message"`
}

// Compare lists how after differs from before. A multi-stage split changes
// the entrypoint's spelling only when the image's runtime changes, so a
// changed entrypoint or command is always reported as bad; a new user is
// the point of the non-root rule and is reported as information.
//
// A lost environment variable is bad when the Dockerfile (dockerfile, its
// original text; nil: always) names it: one the base image set (a
// toolchain's GOPATH after a multi-stage split) is information.
func Compare(before, after *ImageInfo, dockerfile []byte) []Difference {
	if before == nil || after == nil {
		return nil
	}
	var out []Difference
	add := func(what string, bad bool, format string, args ...any) {
		out = append(out, Difference{What: what, Bad: bad, Message: fmt.Sprintf(format, args...)})
	}
	if grew := after.Size - before.Size; grew > 0 {
		// A few bytes (COPY's history entry is one longer than ADD's) or
		// kilobytes (a user in /etc and its home) are what the fixes
		// cost; more than 1% and 64 kB is something to look at.
		bad := grew > 64<<10 && grew*100 > before.Size
		add("size", bad, "the rewritten image is larger: %s → %s (+%s)", report.HumanSize(before.Size), report.HumanSize(after.Size), report.HumanSize(grew))
	}
	for _, p := range before.Ports {
		if !slices.Contains(after.Ports, p) {
			add("ports", true, "the rewritten image no longer exposes %s", p)
		}
	}
	for _, p := range after.Ports {
		if !slices.Contains(before.Ports, p) {
			add("ports", false, "the rewritten image exposes %s (the original did not)", p)
		}
	}
	if !slices.Equal(before.Entrypoint, after.Entrypoint) {
		add("entrypoint", true, "the entrypoint changed: %s → %s", argvString(before.Entrypoint), argvString(after.Entrypoint))
	}
	if !slices.Equal(before.Cmd, after.Cmd) {
		add("cmd", true, "the command changed: %s → %s", argvString(before.Cmd), argvString(after.Cmd))
	}
	if before.WorkingDir != after.WorkingDir {
		add("workdir", true, "the working directory changed: %s → %s", orNone(before.WorkingDir), orNone(after.WorkingDir))
	}
	if b, a := before.EffectiveUser(), after.EffectiveUser(); b != a {
		add("user", false, "runs as %s instead of %s", a, b)
	}
	if before.Layers != after.Layers {
		add("layers", false, "%d layers → %d", before.Layers, after.Layers)
	}
	if lost, gained := envDiff(before.Env, after.Env); len(lost)+len(gained) > 0 {
		var parts []string
		if len(lost) > 0 {
			parts = append(parts, "lost "+strings.Join(lost, ", "))
		}
		if len(gained) > 0 {
			parts = append(parts, "new "+strings.Join(gained, ", "))
		}
		// A lost variable the Dockerfile names is bad (the app may read
		// it); the build image's own are expected to go with it.
		bad := false
		for _, k := range lost {
			bad = bad || dockerfile == nil || regexp.MustCompile(`\b`+regexp.QuoteMeta(k)+`\b`).Match(dockerfile)
		}
		add("env", bad, "environment: %s", strings.Join(parts, "; "))
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Bad && !out[j].Bad })
	return out
}

// envDiff returns the variable names before has and after lacks, and the
// names after has that before lacks.
func envDiff(before, after []string) (lost, gained []string) {
	names := func(env []string) map[string]bool {
		m := map[string]bool{}
		for _, e := range env {
			k, _, _ := strings.Cut(e, "=")
			m[k] = true
		}
		return m
	}
	b, a := names(before), names(after)
	for k := range b {
		if !a[k] {
			lost = append(lost, k)
		}
	}
	for k := range a {
		if !b[k] {
			gained = append(gained, k)
		}
	}
	sort.Strings(lost)
	sort.Strings(gained)
	return lost, gained
}

func argvString(a []string) string {
	if len(a) == 0 {
		return "(none)"
	}
	b, _ := json.Marshal(a)
	return string(b)
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
