package nonroot

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/hardenfix/hardenfix/pkg/rewrite"
)

func TestNginxListenPort(t *testing.T) {
	for addr, want := range map[string]int{
		"80": 80, "8080": 8080, "[::]:80": 80, "[::]:8080": 8080, "0.0.0.0:80": 80, "*:8080": 8080,
		"127.0.0.1": 80, "localhost:3000": 3000, "[::1]": 80, "unix:/tmp/nginx.sock": 0,
	} {
		if got, ok := nginxListenPort(addr); !ok || got != want {
			t.Errorf("nginxListenPort(%q) = %d, %v; want %d", addr, got, ok, want)
		}
	}
	for _, addr := range []string{"${NGINX_PORT}", "$port", "[::", "0.0.0.0:http", "70000"} {
		if _, ok := nginxListenPort(addr); ok {
			t.Errorf("nginxListenPort(%q) is readable; want not", addr)
		}
	}
}

func TestParseNginxConf(t *testing.T) {
	conf := `user nginx; # the default
events { worker_connections 1024; }
http {
    log_format main '$remote_addr "$request"';
    server {
        listen 80 default_server;
        location / { try_files $uri ${base}/index.html; }
    }
}
`
	ds, ok := parseNginxConf(conf)
	if !ok {
		t.Fatal("not parsed")
	}
	type row struct {
		Name    string
		Args    []string
		Line    int
		Context []string
	}
	var got []row
	for _, d := range ds {
		got = append(got, row{d.Name, d.Args, d.Line, d.Context})
	}
	want := []row{
		{"user", []string{"nginx"}, 1, nil},
		{"events", nil, 2, nil},
		{"worker_connections", []string{"1024"}, 2, []string{"events"}},
		{"http", nil, 3, nil},
		{"log_format", []string{"main", `$remote_addr "$request"`}, 4, []string{"http"}},
		{"server", nil, 5, []string{"http"}},
		{"listen", []string{"80", "default_server"}, 6, []string{"http", "server"}},
		{"location", []string{"/"}, 7, []string{"http", "server"}},
		{"try_files", []string{"$uri", "${base}/index.html"}, 7, []string{"http", "server", "location"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %#v\nwant %#v", got, want)
	}
	for _, bad := range []string{"server { listen 80;", "}", "user 'nginx;", "{ listen 80; }"} {
		if _, ok := parseNginxConf(bad); ok {
			t.Errorf("parseNginxConf(%q) parsed; want a failure", bad)
		}
	}
}

// Reading copied configuration never follows a symbolic link out of the
// build context, for a file, a directory member or a glob match.
func TestContextCopiesStaysInContext(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret.conf")
	if err := os.WriteFile(secret, []byte("server { listen 80; }"), 0o644); err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(root, "conf.d"), 0o755))
	must(os.WriteFile(filepath.Join(root, "conf.d", "a.conf"), []byte("server { listen 8080; }"), 0o644))
	must(os.Symlink(secret, filepath.Join(root, "link.conf")))
	must(os.Symlink(secret, filepath.Join(root, "conf.d", "b.conf")))
	must(os.WriteFile(filepath.Join(root, "inside.conf"), []byte("x"), 0o644))
	must(os.Symlink("inside.conf", filepath.Join(root, "ok.conf")))
	buildContext := rewrite.OpenContext(root)
	defer buildContext.Close()

	for _, src := range [][]string{{"link.conf"}, {"conf.d"}, {"conf.d/*.conf"}, {"../" + filepath.Base(outside) + "/secret.conf"}} {
		if files, problem := contextCopies(buildContext, src, "/etc/nginx/conf.d/", "/"); problem == "" {
			t.Errorf("contextCopies(%v) = %v; want a refusal", src, files)
		}
	}
	files, problem := contextCopies(buildContext, []string{"ok.conf"}, "/etc/nginx/conf.d/default.conf", "/")
	if problem != "" || len(files) != 1 || files[0].Dest != "/etc/nginx/conf.d/default.conf" || files[0].Text != "x" {
		t.Errorf("a link inside the context: got %v, %q", files, problem)
	}
	files, problem = contextCopies(buildContext, []string{"conf.d/a.conf", "inside.conf"}, "/etc/nginx/conf.d", "/")
	if problem != "" || len(files) != 2 || files[0].Dest != "/etc/nginx/conf.d/a.conf" || files[1].Dest != "/etc/nginx/conf.d/inside.conf" {
		t.Errorf("two sources into a folder: got %v, %q", files, problem)
	}
}
