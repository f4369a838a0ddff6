package verify

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestBuildCommandPerEngine(t *testing.T) {
	spec := BuildSpec{
		Dockerfile: "/src/app/Dockerfile", Context: "/src/app", Tag: "localhost/hardenfix-verify/app:original-1",
		Target: "runtime", Platform: "linux/arm64", BuildArgs: []string{"VERSION=1.2"}, Secrets: []string{"id=npmrc,src=/home/me/.npmrc"},
		Pull: "never", Log: "/logs/app-original-build.log", Timeout: time.Minute,
	}
	tail := []string{"-f", "/src/app/Dockerfile", "-t", "localhost/hardenfix-verify/app:original-1", "--target", "runtime",
		"--platform", "linux/arm64", "--build-arg", "VERSION=1.2", "--secret", "id=npmrc,src=/home/me/.npmrc", "/src/app"}
	for _, tc := range []struct {
		engine Engine
		pull   string
		want   []string
	}{
		{Engine{Name: "buildah", Builder: "buildah", Runner: "podman"}, "never", append([]string{"buildah", "bud", "--pull=never", "--layers", "--format", "docker"}, tail...)},
		{Engine{Name: "podman", Builder: "podman", Runner: "podman"}, "", append([]string{"podman", "build", "--pull=missing", "--layers", "--format", "docker"}, tail...)},
		{Engine{Name: "docker", Builder: "docker", Runner: "docker", Buildx: true}, "never", append([]string{"docker", "buildx", "build", "--load"}, tail...)},
		{Engine{Name: "docker", Builder: "docker", Runner: "docker"}, "always", append([]string{"docker", "build", "--pull"}, tail...)},
	} {
		s := spec
		s.Pull = tc.pull
		c := tc.engine.Build(s)
		if !slices.Equal(c.Argv, tc.want) {
			t.Errorf("%s (pull %q):\n got %q\nwant %q", tc.engine.Name, tc.pull, c.Argv, tc.want)
		}
		if c.Log != spec.Log || c.Timeout != time.Minute {
			t.Errorf("%s: log %q timeout %s not passed on", tc.engine.Name, c.Log, c.Timeout)
		}
	}
}

func TestRunCommandsNeverUseTheNetworkOrPrivileges(t *testing.T) {
	for _, e := range []Engine{{Name: "docker", Builder: "docker", Runner: "docker"}, {Name: "podman", Builder: "podman", Runner: "podman"}} {
		start := e.Start("c1", "img")
		want := []string{e.Runner, "run", "-d", "--name", "c1", "--network", "none", "--pull=never", "--label", Label, "img"}
		if !slices.Equal(start.Argv, want) {
			t.Errorf("%s start: %q, want %q", e.Name, start.Argv, want)
		}
		once := e.RunOnce("img", "container:c1", "curl", "-s", "URL")
		want = []string{e.Runner, "run", "--rm", "--network", "container:c1", "--pull=never", "--label", Label, "--entrypoint", "curl", "img", "-s", "URL"}
		if !slices.Equal(once.Argv, want) {
			t.Errorf("%s probe: %q, want %q", e.Name, once.Argv, want)
		}
		for _, c := range []Command{start, once, e.RunOnce("img", "", "id", "-u"), e.Exec("c1", "sh")} {
			s := " " + c.String() + " "
			for _, bad := range []string{"--privileged", "host", "--cap-add", " push "} {
				if strings.Contains(s, bad) {
					t.Errorf("%s: %q contains %q", e.Name, c, bad)
				}
			}
		}
	}
	if got := (Engine{Runner: "podman"}).RemoveContainer("c1").String(); got != "podman rm -f -t 0 c1" {
		t.Errorf("podman remove: %q", got)
	}
	if got := (Engine{Runner: "docker"}).RemoveContainer("c1").String(); got != "docker rm -f c1" {
		t.Errorf("docker remove: %q", got)
	}
	if got := (Engine{Name: "buildah", Builder: "buildah"}).Save("img", "/t/a.tar").String(); got != "buildah push img docker-archive:/t/a.tar" {
		t.Errorf("buildah save: %q", got)
	}
	if got := (Engine{Runner: "podman"}).Save("img", "/t/a.tar").String(); got != "podman save --format docker-archive -o /t/a.tar img" {
		t.Errorf("podman save: %q", got)
	}
	if got := (Engine{Name: "buildah", Builder: "buildah"}).InspectImage("img").String(); got != "buildah inspect --type image img" {
		t.Errorf("buildah inspect: %q", got)
	}
	if got := (Engine{Name: "buildah", Builder: "buildah", Runner: "podman"}).RemoveImage("img").String(); got != "podman rmi img" {
		t.Errorf("remove image: %q", got)
	}
}

func TestDetectEngine(t *testing.T) {
	look := func(have ...string) LookPath {
		return func(bin string) (string, error) {
			if slices.Contains(have, bin) {
				return "/usr/bin/" + bin, nil
			}
			return "", errors.New("not found")
		}
	}
	daemon := func(up bool) func(context.Context, Command) bool {
		return func(_ context.Context, c Command) bool { return up }
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		have   []string
		daemon bool
		want   Engine
		err    string
	}{
		{"", []string{"docker", "podman", "buildah"}, true, Engine{Name: "docker", Builder: "docker", Runner: "docker", Buildx: true}, ""},
		// A docker client without a daemon (these machines) is passed over.
		{"", []string{"docker", "podman", "buildah"}, false, Engine{Name: "podman", Builder: "podman", Runner: "podman"}, ""},
		{"", []string{"buildah"}, false, Engine{Name: "buildah", Builder: "buildah"}, ""},
		{"buildah", []string{"buildah", "podman"}, false, Engine{Name: "buildah", Builder: "buildah", Runner: "podman"}, ""},
		{"podman", []string{"buildah"}, false, Engine{}, "podman is not on the PATH"},
		{"", nil, false, Engine{}, "no container engine found"},
		{"nerdctl", []string{"docker"}, false, Engine{}, "--engine must be docker, podman or buildah"},
	} {
		got, err := DetectEngine(ctx, tc.name, look(tc.have...), daemon(tc.daemon))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q with %v: err %v, want %q", tc.name, tc.have, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q with %v (daemon %v): %+v, %v; want %+v", tc.name, tc.have, tc.daemon, got, err, tc.want)
		}
	}
}
