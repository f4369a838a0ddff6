package nonroot

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
	"github.com/hardenfix/hardenfix/pkg/rewrite/rewritetest"
	"github.com/hardenfix/hardenfix/pkg/rules/internal/buildctx"
	"github.com/hardenfix/hardenfix/pkg/rules/internal/imageref"
	"github.com/hardenfix/hardenfix/pkg/rules/internal/userspec"
)

func TestShellCommands(t *testing.T) {
	tests := []struct {
		script string
		want   []string // "name arg arg", one per command
	}{
		{"apt-get update && apt-get install -y curl", []string{"apt-get update", "apt-get install -y curl"}},
		{"set -e; FOO=1 BAR=2 useradd -u 1000 app || true", []string{"set -e", "useradd -u 1000 app", "true"}},
		{`echo "a && b" 'c; d' | tee /x`, []string{"echo a && b c; d", "tee /x"}},
		{"sudo -u root /usr/sbin/groupadd -g 5 grp", []string{"groupadd -g 5 grp"}},
		{"if ! id app; then adduser -D app; fi", []string{"id app", "adduser -D app"}},
		{"env DEBIAN_FRONTEND=noninteractive apt-get install -y \\\n  git # comment\nmake", []string{"apt-get install -y git", "make"}},
		{"exec tini -- nginx -g 'daemon off;'", []string{"tini -- nginx -g daemon off;"}},
		{"x=$(id -u) && chown $x /data", []string{"id -u", "chown $x /data"}},
		{"echo 'export A=1' >> ~/.bashrc", []string{"echo export A=1 ~/.bashrc"}},
		{"ls /x | xargs -r rm -f", []string{"ls /x", "rm -f"}},
		{"command -v gosu || apt-get install gosu", []string{"", "apt-get install gosu"}}, // command -v runs nothing
		{"A=1 B=2; make", []string{"make"}},
		{"{ echo a; } > /root/.profile", []string{"echo a", " /root/.profile"}}, // the group's redirection
	}
	for _, tt := range tests {
		var got []string
		for _, c := range shellCommands(tt.script) {
			if c.Argv() == nil {
				got = append(got, strings.Join(append([]string{""}, words(c)...), " "))
				continue
			}
			got = append(got, strings.Join(append([]string{c.Program()}, argsOf(c)...), " "))
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("shellCommands(%q):\n got %q\nwant %q", tt.script, got, tt.want)
		}
	}
	if c := shellCommands("sudo apt-get install x"); len(c) != 1 || !c[0].Sudo() {
		t.Errorf("sudo prefix not recorded: %+v", c)
	}
}

func TestParseCreation(t *testing.T) {
	type want struct {
		name, uid, gid, group string
		isGroup, ok           bool
	}
	tests := []struct {
		cmd  string
		want want
	}{
		{"useradd -r -u 1001 -g app -m -s /bin/sh app", want{name: "app", uid: "1001", group: "app", ok: true}},
		{"useradd -ms /bin/bash dev", want{name: "dev", ok: true}},
		{"useradd --uid=2000 --gid 3000 --create-home svc", want{name: "svc", uid: "2000", group: "3000", ok: true}},
		{"groupadd --system --gid 999 docker", want{name: "docker", gid: "999", isGroup: true, ok: true}},
		{"adduser -S -D -H -u 1500 -G svc svc", want{name: "svc", uid: "1500", group: "svc", ok: true}},
		{"adduser -D -g '' worker", want{name: "worker", ok: true}}, // BusyBox -g is the GECOS
		{"adduser --system --group --uid 999 --home /srv svc", want{name: "svc", uid: "999", group: "svc", ok: true}},
		{"adduser --disabled-password --gecos '' --ingroup web web", want{name: "web", group: "web", ok: true}},
		{"addgroup -S -g 1500 svc", want{name: "svc", gid: "1500", isGroup: true, ok: true}},
		{"addgroup --system --gid 101 nginx", want{name: "nginx", gid: "101", isGroup: true, ok: true}},
		{"adduser app sudo", want{}},         // adds app to the group sudo
		{"adduser --quiet app sudo", want{}}, // the same, Debian's form
		{"addgroup app docker", want{}},      // membership
		{"usermod -aG docker app", want{}},
	}
	for _, tt := range tests {
		cmds := shellCommands(tt.cmd)
		if len(cmds) != 1 {
			t.Fatalf("%q: %d commands", tt.cmd, len(cmds))
		}
		p, ok := parseCreation(cmds[0])
		got := want{name: p.Name, uid: p.uidText, gid: p.gidText, group: p.groupText, isGroup: p.IsGroup, ok: ok}
		if !ok {
			got = want{}
		}
		if p.Group != "" && got.group == "" {
			got.group = p.Group
		}
		if got != tt.want {
			t.Errorf("%q:\n got %+v\nwant %+v", tt.cmd, got, tt.want)
		}
	}
}

func TestUserSpec(t *testing.T) {
	for _, tt := range []struct {
		text string
		root bool
	}{
		{"root", true}, {"0", true}, {"ContainerAdministrator", true}, {"ContainerUser", false}, {"0:0", true}, {"00", true}, {"root:app", true},
		{"1000:0", false}, {"app", false}, {"nobody:nogroup", false}, {"65532", false},
	} {
		if got := userspec.Parse(tt.text, true).Root(); got != tt.root {
			t.Errorf("%q: Root() = %v, want %v", tt.text, got, tt.root)
		}
	}
	if userspec.Parse("", true).Known {
		t.Errorf("an empty USER must not count as known")
	}
}

func TestWorldWritable(t *testing.T) {
	for mode, want := range map[string]bool{
		"777": true, "0777": true, "766": true, "1777": false, "755": false, "644": false,
		"a+rwx": true, "o+w": true, "+w": true, "u+x": false, "go-w": false, "ug+rw": false, "x": false,
	} {
		if got := worldWritable(mode); got != want {
			t.Errorf("worldWritable(%q) = %v, want %v", mode, got, want)
		}
	}
}

func TestBuiltinFacts(t *testing.T) {
	tests := []struct {
		image   string
		ok      bool
		family  string
		uid     int
		drops   bool
		root    bool
		altUsed string
	}{
		{"scratch", true, "scratch", 0, false, false, ""},
		{"gcr.io/distroless/static-debian12", true, "distroless", 0, false, false, ""},
		{"gcr.io/distroless/static-debian12:nonroot", true, "distroless", 65532, false, false, ""},
		{"gcr.io/distroless/java21:debug-nonroot", true, "distroless", 65532, false, false, ""},
		{"postgres:16-alpine", true, "", 0, true, false, ""},
		{"docker.io/library/redis", true, "", 0, true, false, ""},
		{"nginx:1.27", true, "", 0, false, true, "nginxinc/nginx-unprivileged"},
		{"php:8.3-apache", true, "", 0, false, true, ""},
		{"php:8.3-fpm", false, "", -1, false, false, ""},
		{"wordpress:6-fpm", false, "", -1, false, false, ""},
		{"mcr.microsoft.com/windows/servercore:ltsc2022", true, "windows", -1, false, false, ""},
		{"mcr.microsoft.com/dotnet/aspnet:8.0-nanoserver-ltsc2022", true, "windows", -1, false, false, ""},
		{"ghcr.io/linuxserver/sonarr:latest", true, "", 0, true, false, ""},
		{"mcr.microsoft.com/dotnet/aspnet:8.0-jammy-chiseled", true, "", 1654, false, false, ""},
		{"mcr.microsoft.com/dotnet/runtime-deps:10.0-azurelinux3.0-distroless", true, "", 1654, false, false, ""},
		{"mcr.microsoft.com/dotnet/aspnet:7.0-jammy-chiseled", true, "", -1, false, false, ""},
		{"mcr.microsoft.com/dotnet/aspnet:8.0", false, "", -1, false, false, ""},
		{"someorg/postgres:16", false, "", -1, false, false, ""},
		{"debian:12", false, "", -1, false, false, ""},
		{"${BROKEN", false, "", -1, false, false, ""},
	}
	for _, tt := range tests {
		f, ok := imageref.BuiltinFacts(tt.image)
		if ok != tt.ok || f.Family != tt.family || f.UID != tt.uid || f.DropsPrivileges != tt.drops || f.NeedsRoot != tt.root || f.NonRootAlt != tt.altUsed {
			t.Errorf("builtinFacts(%q) = %+v, %v", tt.image, f, ok)
		}
	}
}

func TestNonRootBadIdentity(t *testing.T) {
	src := []byte("FROM alpine:3.20\nRUN apk add --no-cache curl\n")
	for _, env := range []*rewrite.Env{{Options: rewrite.Options{"uid": -1}}, {Options: rewrite.Options{"user-name": "Bad Name"}}, {Options: rewrite.Options{"user-name": "x" + strings.Repeat("y", 40)}}} {
		_, err := rewrite.Run(context.Background(), "Dockerfile", src, []*rewrite.Rule{Rule}, env)
		if err == nil || !strings.Contains(err.Error(), "Dockerfile: rule non-root") {
			t.Errorf("env %+v: want an error naming the file and rule, got %v", env, err)
		}
	}
}

// TestNonRootChainStages checks the FROM chain analysis on a Dockerfile
// whose stages build on each other, including a cycle-free self name.
func TestNonRootChainStages(t *testing.T) {
	d, err := rewrite.Parse("Dockerfile", []byte("FROM debian AS a\nFROM a AS b\nFROM alpine AS c\nFROM B AS d\n"))
	if err != nil {
		t.Fatal(err)
	}
	chain, image, known := d.StageChain(3)
	if !reflect.DeepEqual(chain, []int{0, 1, 3}) || image != "debian" || !known {
		t.Errorf("chainOf(3) = %v, %q, %v; want [0 1 3], debian, true", chain, image, known)
	}
}

// FuzzNonRoot checks, on any Dockerfile BuildKit parses, that the rule's
// output parses too and that a second run changes nothing. The seeds are
// the rule's fixtures.
func FuzzNonRoot(f *testing.F) {
	for _, fx := range rewritetest.LoadFixtures(f, "testdata", nil) {
		f.Add(fx.Input)
	}
	rules := []*rewrite.Rule{Rule}
	f.Fuzz(func(t *testing.T, src []byte) {
		if _, err := rewrite.Parse("Dockerfile", src); err != nil {
			return
		}
		res, err := rewrite.Run(context.Background(), "Dockerfile", src, rules, &rewrite.Env{})
		if err != nil {
			t.Fatalf("run: %v\ninput:\n%s", err, src)
		}
		if _, err := rewrite.Parse("Dockerfile", res.New); err != nil {
			t.Fatalf("output does not parse: %v\n%s", err, res.New)
		}
		again, err := rewrite.Run(context.Background(), "Dockerfile", res.New, rules, &rewrite.Env{})
		if err != nil {
			t.Fatalf("second run: %v", err)
		}
		if again.Changed() {
			t.Fatalf("second run changed the output:\n%s", rewrite.UnifiedDiff("Dockerfile", res.New, again.New))
		}
	})
}

// TestNonRootRisk: stating a user the image already runs as changes
// nothing at run time (safe); switching from root does (review).
func TestNonRootRisk(t *testing.T) {
	for src, want := range map[string]rewrite.Risk{
		"FROM gcr.io/distroless/static-debian12:nonroot\nCOPY app /app\nENTRYPOINT [\"/app\"]\n": rewrite.Safe,
		"FROM debian:12 AS base\nUSER 1000\nFROM base\nCMD [\"app\"]\n":                          rewrite.Safe,
		"FROM alpine:3.20\nRUN apk add --no-cache curl\nCMD [\"curl\"]\n":                        rewrite.Review,
	} {
		res, err := rewrite.Run(context.Background(), "Dockerfile", []byte(src), []*rewrite.Rule{Rule}, &rewrite.Env{})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Fixes) == 0 {
			t.Fatalf("no fix for:\n%s", src)
		}
		for _, f := range res.Fixes {
			if f.Risk != want {
				t.Errorf("fix %q: risk %s, want %s", f.Message, f.Risk, want)
			}
		}
	}
}

func TestReadInContextStaysInside(t *testing.T) {
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret.sh"), []byte("exec gosu x"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := t.TempDir()
	if err := os.WriteFile(filepath.Join(ctx, "run.sh"), []byte("exec su-exec app \"$@\""), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "secret.sh"), filepath.Join(ctx, "link.sh")); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	buildContext := rewrite.OpenContext(ctx)
	defer buildContext.Close()
	if got := buildctx.ReadFile(buildContext, "run.sh"); !strings.Contains(got, "su-exec") {
		t.Errorf("run.sh: got %q", got)
	}
	if got := buildctx.ReadFile(buildContext, "../"+filepath.Base(outside)+"/secret.sh"); got != "" {
		t.Errorf("a path out of the context was read: %q", got)
	}
	if got := buildctx.ReadFile(buildContext, "link.sh"); got != "" {
		t.Errorf("a symbolic link out of the context was followed: %q", got)
	}
}

// A development container's user is devcontainer.json's business: the
// rule leaves the Dockerfile alone, wherever the .devcontainer folder is.
func TestNonRootLeavesDevcontainers(t *testing.T) {
	src := []byte("FROM python:3.12\nRUN pip install --no-cache-dir black\nCMD [\"python3\", \"/app/main.py\"]\n")
	for _, path := range []string{".devcontainer/Dockerfile", "svc/.devcontainer/Dockerfile", `svc\.devcontainer\Dockerfile`} {
		d, err := rewrite.Parse(path, src)
		if err != nil {
			t.Fatal(err)
		}
		fixes, notes, err := checkNonRoot(context.Background(), d, &rewrite.Env{Images: nil})
		if err != nil || len(fixes) != 0 || len(notes) != 1 || !strings.Contains(notes[0].Message, "development container") {
			t.Errorf("%s: fixes %v, notes %v, err %v", path, fixes, notes, err)
		}
	}
	d, err := rewrite.Parse("app/Dockerfile", src)
	if err != nil {
		t.Fatal(err)
	}
	if fixes, _, _ := checkNonRoot(context.Background(), d, &rewrite.Env{}); len(fixes) == 0 {
		t.Errorf("an ordinary Dockerfile got no USER")
	}
}

func TestCommandPorts(t *testing.T) {
	for _, tc := range []struct {
		cmd  string
		want []int
	}{
		{"uvicorn app:app --host 0.0.0.0 --port 80", []int{80}},
		{"gunicorn --bind=0.0.0.0:443 app:app", []int{443}},
		{"gunicorn -b :8000 app:app", []int{8000}},
		{"php -S 0.0.0.0:80 -t public", []int{80}},
		{"node server.js", nil},
		{"python -m http.server 80", nil}, // a bare number is not a listen option
	} {
		if got := commandPorts(strings.Fields(tc.cmd)); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.cmd, got, tc.want)
		}
	}
}
