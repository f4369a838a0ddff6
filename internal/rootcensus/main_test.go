package main

import (
	"testing"
	"testing/fstest"

	"github.com/hardenfix/hardenfix/pkg/registry"
	"github.com/hardenfix/hardenfix/pkg/rewrite"
)

func TestEffectiveUser(t *testing.T) {
	cat := registry.Embedded()
	for _, tc := range []struct {
		name, src, want string
	}{
		{"no USER on a root image", "FROM debian:12-slim\nCMD [\"app\"]\n", "root"},
		{"explicit non-root", "FROM debian:12-slim\nUSER 10001:10001\nCMD [\"app\"]\n", "non-root"},
		{"non-root base", "FROM gcr.io/distroless/static-debian12:nonroot\nCMD [\"/app\"]\n", "non-root"},
		{"unknown base", "FROM contoso/app:1\nCMD [\"app\"]\n", "unknown-root"},
		{"USER from the build", "FROM debian:12-slim\nARG U\nUSER $U\n", "unknown"},
		{"through a stage", "FROM debian:12-slim AS base\nUSER app\nFROM base\nCMD [\"app\"]\n", "non-root"},
		{"stage switches back", "FROM debian:12-slim AS base\nUSER app\nFROM base\nUSER root\n", "root"},
		{"ARG-built base", "ARG B=debian:12-slim\nFROM ${B}\nCMD [\"app\"]\n", "root"},
		{"Windows administrator", "FROM mcr.microsoft.com/windows/servercore:ltsc2022\nCMD [\"app.exe\"]\n", "root"},
		{"Windows USER ContainerAdministrator", "FROM mcr.microsoft.com/windows/nanoserver:ltsc2022\nUSER ContainerAdministrator\n", "root"},
		{"Nano Server", "FROM mcr.microsoft.com/windows/nanoserver:ltsc2022\nCMD [\"app.exe\"]\n", "non-root"},
		{"scratch", "FROM scratch\nCOPY app /app\n", "root"},
	} {
		d, err := rewrite.Parse("Dockerfile", []byte(tc.src))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := effectiveUser(d, cat).state; got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestClassify(t *testing.T) {
	cat := registry.Embedded()
	for _, tc := range []struct {
		name, src, want string
	}{
		{"nginx base", "FROM nginx:1.27\nCOPY site /usr/share/nginx/html\n", "nginx"},
		{"supervisord", "FROM debian:12-slim\nCMD [\"supervisord\", \"-n\"]\n", "init/supervisor"},
		{"gosu", "FROM debian:12-slim\nRUN apt-get install -y gosu\nCMD [\"app\"]\n", "privilege-dropping entrypoint"},
		{"WORKDIR /root", "FROM debian:12-slim\nWORKDIR /root\nCMD [\"./app\"]\n", "/root workdir or HOME"},
		{"no CMD", "FROM debian:12-slim\nRUN true\n", "ONBUILD/base image"},
		{"windows", "FROM mcr.microsoft.com/windows/servercore:ltsc2022\nCMD [\"app.exe\"]\n", "windows"},
		{"unknown base", "FROM contoso/app:1\nCMD [\"app\"]\n", "unknown base"},
		// the rule's built-in facts: rabbitmq's entrypoint drops privileges
		{"official image that drops privileges", "FROM rabbitmq:4.1\nRUN rabbitmq-plugins enable --offline rabbitmq_management\n", "privilege-dropping entrypoint"},
		{"su with options", "FROM debian:12-slim\nCMD su app -p -c /app\n", "privilege-dropping entrypoint"},
		{"chroot --userspec", "FROM debian:12-slim\nCMD chroot --userspec=app:app / /app\n", "privilege-dropping entrypoint"},
		{"tini is no sign", "FROM debian:12-slim\nVOLUME /data\nENTRYPOINT [\"tini\", \"--\", \"/app\"]\n", "root-owned VOLUME"},
		{"cron started", "FROM debian:12-slim\nCMD cron -f\n", "init/supervisor"},
		{"cron files", "FROM debian:12-slim\nCOPY jobs /etc/cron.d/jobs\nCMD [\"app\"]\n", "init/supervisor"},
		{"root daemon before /root", "FROM debian:12-slim\nENV HOME /root\nCMD [\"/usr/sbin/sshd\", \"-D\"]\n", "root daemon"},
		{"ENV PATH into /root", "FROM debian:12-slim\nENV PATH=/root/.cargo/bin:$PATH\nCMD [\"app\"]\n", "/root workdir or HOME"},
		{"keep-alive", "FROM debian:12-slim\nCMD [\"tail\", \"-f\", \"/dev/null\"]\n", "ONBUILD/base image"},
		{"Docker CLI", "FROM debian:12-slim\nCOPY --from=docker:27-cli /usr/local/bin/docker /usr/local/bin/docker\nCMD [\"app\"]\n", "host access"},
		{"docker.io registry is no Docker CLI", "FROM docker.io/library/debian:12\nCMD [\"app\"]\n", "other"},
		{"USER from a build ARG that defaults to root", "FROM debian:12-slim\nARG UID=0\nUSER $UID\nCMD [\"app\"]\n", "USER from a build ARG"},
		{"sudo -u in the entrypoint", "FROM contoso/app:1\nENTRYPOINT [\"sudo\", \"-E\", \"-u\", \"app\", \"/app\"]\n", "privilege-dropping entrypoint"},
		{"certbot", "FROM debian:12-slim\nENTRYPOINT [\"certbot\"]\n", "root daemon"},
		{"wg", "FROM debian:12-slim\nCMD [\"wg\", \"show\"]\n", "host access"},
		{"backtick escape, no package manager", "# escape=`\nFROM contoso/app:1\nRUN echo hi\n", "windows"},
	} {
		d, err := rewrite.Parse("Dockerfile", []byte(tc.src))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		labels := classify(d, effectiveUser(d, cat), cat, fstest.MapFS{})
		if labels[0].class != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, labels[0].class, tc.want)
		}
	}
}
