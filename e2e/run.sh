#!/usr/bin/env bash
# e2e/run.sh: the end-to-end suite (DESIGN §7). It builds the original and the
# hardenfix-rewritten Dockerfile of every case in fixtures/e2e/ with buildah,
# runs both images with podman, and compares them (see e2e/README.md).
#
#   e2e/run.sh [go test flags...]    e.g. e2e/run.sh -run 'TestCases/python'
#   e2e/run.sh --clean               remove the work folder (all images, caches)
#
# Environment:
#   HARDENFIX_E2E_WORK    work folder (default: $XDG_CACHE_HOME/hardenfix-e2e, else
#                         ~/.cache/hardenfix-e2e); all container storage, config,
#                         caches and logs live there. Not inside the repository:
#                         `gofmt -l .` and `hardenfix .` would walk into the
#                         container storage (the golang image holds Go's sources).
#   HARDENFIX_E2E_MIRROR  Debian mirror for debootstrap (default: the first
#                         Debian mirror in the machine's apt sources).
#   HARDENFIX_E2E_BIN     a hardenfix binary to test instead of building
#                         ./cmd/hardenfix (e.g. e2e/broken-rewrite.sh).
#   HARDENFIX_E2E_TRIVY   1: build trivy v0.74.0 into the work folder (once,
#                         about 12 minutes) for the scan tests; a path: copy
#                         that trivy there. Unset: the scan tests skip unless
#                         the work folder has trivy from an earlier run.
#
# Needs root (buildah and podman run rootful here). Installs buildah, podman,
# runc and debootstrap with apt-get when they are missing. Never touches the
# machine's container storage or config, and never runs a container on
# podman's default network (containers.conf sets netns = "none", and every
# run passes --network none).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache_home=${XDG_CACHE_HOME:-}
[[ -n $cache_home ]] || cache_home=~/.cache # ~ works without HOME too
work=${HARDENFIX_E2E_WORK:-$cache_home/hardenfix-e2e}
mkdir -p "$work"
work=$(cd "$work" && pwd)

log() { printf 'e2e: %s\n' "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }
now() { date +%s.%N; }
# tries runs a command up to 3 times, 10 s apart: the package mirror is the
# one thing from outside the suite needs, and a passing hiccup there must
# not fail CI. Between tries it runs the cleanup command in $CLEANUP.
tries() {
	local n
	for n in 1 2 3; do
		"$@" && return 0
		((n < 3)) || return 1
		log "retrying in 10s ($n/3 failed): $*"
		[[ -z ${CLEANUP:-} ]] || eval "$CLEANUP"
		sleep 10
	done
}
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }

# unmount_under DIR: unmount every mount point below DIR, deepest first, so
# the folder can be removed.
unmount_under() {
	awk -v d="$1/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
		while read -r m; do umount -l "$m" 2>/dev/null || true; done
}

if [[ ${1:-} == --clean ]]; then
	exec 9>"$work/lock"
	flock -n 9 || die "an e2e run is using $work"
	unmount_under "$work"
	rm -rf "$work"
	log "removed $work"
	exit 0
fi

[[ $(id -u) == 0 ]] || die "run as root: buildah and podman run rootful here"
exec 9>"$work/lock"
flock -n 9 || die "another e2e run is using $work"

start=$(now)

# 1. Tools.
missing=()
for tool in buildah podman runc debootstrap; do
	command -v "$tool" >/dev/null || missing+=("$tool")
done
if ((${#missing[@]})); then
	t=$(now)
	log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	tries apt-get update -qq
	tries apt-get install -y -qq buildah podman runc debootstrap >"$work/apt.log" 2>&1 ||
		{ tail -20 "$work/apt.log" >&2; die "apt-get install failed (log: $work/apt.log)"; }
	log "installed in $(since "$t")"
fi

# 2. Config: storage, engine and registries all under the work folder.
mkdir -p "$work/etc" "$work/storage" "$work/run" "$work/tmp" "$work/cache" "$work/cni"
cat >"$work/etc/storage.conf" <<EOF
# Written by e2e/run.sh. Container storage for the e2e suite only.
[storage]
driver = "overlay"
graphroot = "$work/storage"
runroot = "$work/run"
EOF
cat >"$work/etc/containers.conf" <<EOF
# Written by e2e/run.sh. crun fails on these machines and the default ulimits
# cannot be raised (DESIGN §7).
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
netns = "none"

[network]
network_config_dir = "$work/cni"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$work/run/events.log"
tmp_dir = "$work/run/libpod"
volume_path = "$work/storage/volumes"
EOF
# Builds resolve short names (FROM debian:bookworm-slim) to docker.io and
# never pull (--pull=never); the Go tests write their own copy that sends
# docker.io and gcr.io to the local registry they start.
cat >"$work/etc/registries.conf" <<EOF
# Written by e2e/run.sh.
unqualified-search-registries = ["docker.io"]
short-name-mode = "permissive"
EOF
cat >"$work/etc/policy.json" <<EOF
{"default": [{"type": "insecureAcceptAnything"}]}
EOF
export CONTAINERS_STORAGE_CONF=$work/etc/storage.conf
export CONTAINERS_CONF=$work/etc/containers.conf
export REGISTRIES_CONFIG_PATH=$work/etc/registries.conf
export CONTAINERS_REGISTRIES_CONF=$work/etc/registries.conf
export TMPDIR=$work/tmp
export HARDENFIX_E2E_WORK=$work
if [[ -n ${HARDENFIX_E2E_BIN:-} ]]; then # another hardenfix to test, relative to where we were called
	HARDENFIX_E2E_BIN=$(realpath "$HARDENFIX_E2E_BIN")
	export HARDENFIX_E2E_BIN
fi
if [[ -n ${HARDENFIX_E2E_TRIVY:-} && $HARDENFIX_E2E_TRIVY != 1 ]]; then
	HARDENFIX_E2E_TRIVY=$(realpath "$HARDENFIX_E2E_TRIVY")
	export HARDENFIX_E2E_TRIVY
fi

# 3. Cleanup of everything this run starts, also on failure or interrupt.
gotest=
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [[ -n $gotest ]] && kill -0 "$gotest" 2>/dev/null; then
		kill -TERM "$gotest" 2>/dev/null || true
		wait "$gotest" 2>/dev/null || true
	fi
	local ids
	ids=$(podman ps -aq --filter label=hardenfix.e2e 2>/dev/null || true)
	if [[ -n $ids ]]; then
		log "removing leftover containers: $(echo $ids)"
		podman rm -f -t 0 $ids >/dev/null 2>&1 || true
	fi
	buildah rm --all >/dev/null 2>&1 || true    # build containers of interrupted builds
	buildah rmi --prune >/dev/null 2>&1 || true # images untagged by this run's rebuilds
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

has_image() { buildah inspect --type image "$1" >/dev/null 2>&1; }

# 4. The Debian base, made with debootstrap once and kept as a tarball.
# Bump base_version when the recipe below changes: a new tarball is made and
# imported, and the stand-ins are rebuilt on it.
base=docker.io/library/debian:bookworm-slim
base_version=2
tarball=$work/cache/debian-bookworm-minbase-v$base_version.tar
if [[ ! -s $tarball ]]; then
	mirror=${HARDENFIX_E2E_MIRROR:-}
	if [[ -z $mirror ]]; then
		mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
			grep -Eo 'https?://[^ ]+/debian/?( |$)' | grep -v security | head -1 | tr -d ' ' || true)
		mirror=${mirror:-http://deb.debian.org/debian}
	fi
	t=$(now)
	log "debootstrap --variant=minbase bookworm from $mirror"
	rm -f "$work"/cache/debian-bookworm-minbase*.tar # older recipes
	rootfs=$work/cache/rootfs
	unmount_under "$rootfs"
	rm -rf "$rootfs"
	CLEANUP='unmount_under "$rootfs"; rm -rf "$rootfs"' \
		tries debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
		{ tail -20 "$work/debootstrap.log" >&2; die "debootstrap failed (log: $work/debootstrap.log)"; }
	unmount_under "$rootfs"
	# Make it look like the official slim image: deb822 sources with updates and
	# security, no apt lists or caches, no docs or man pages, and the dpkg and
	# apt settings that keep them out of later layers.
	rm -f "$rootfs/etc/apt/sources.list" "$rootfs/etc/hostname" "$rootfs/etc/resolv.conf"
	cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${mirror%/debian*}/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
	cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker" <<EOF
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
	cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<EOF
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
	echo 'Acquire::Languages "none";' >"$rootfs/etc/apt/apt.conf.d/docker-no-languages"
	rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/tmp/* "$rootfs"/var/log/debootstrap.log
	find "$rootfs/var/log" -type f -exec truncate -s 0 {} + # keep lastlog, faillog, wtmp as the slim image does
	find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
	find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
	rm -rf "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/*
	find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
	tar --numeric-owner --xattrs -C "$rootfs" -cf "$tarball.tmp" .
	mv "$tarball.tmp" "$tarball"
	rm -rf "$rootfs"
	log "base tarball made in $(since "$t") ($(du -h "$tarball" | cut -f1))"
fi
have=$(buildah inspect --type image --format '{{index .OCIv1.Config.Labels "org.hardenfix.e2e.base"}}' "$base" 2>/dev/null || true)
if [[ $have != "$(basename "$tarball")" ]]; then
	t=$(now)
	old=$(buildah inspect --type image --format '{{.FromImageID}}' "$base" 2>/dev/null || true)
	ctr=$(buildah from --pull=never scratch)
	buildah add --quiet "$ctr" "$tarball" / >/dev/null
	buildah config --os linux --arch amd64 --cmd bash \
		--env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		--label org.hardenfix.e2e.base="$(basename "$tarball")" "$ctr"
	buildah commit --quiet --rm --format docker "$ctr" "$base" >/dev/null
	[[ -z $old ]] || buildah rmi "$old" >/dev/null 2>&1 || true # kept alive by names like debian@sha256:...
	log "imported $base in $(since "$t")"
fi

# 5. Stand-in images, each from e2e/standins/NAME/Containerfile, tagged with
# the names on its "# image:" lines. A stand-in is rebuilt only when its
# recipe, the base or an image it starts FROM changed (the recipe hash is a
# label on the image).
# They are built in the order of their own FROM lines (node-full starts FROM
# the node stand-in), which e2e/standinorder works out; folder names say
# nothing about it.
base_id=$(buildah inspect --type image --format '{{.FromImageID}}' "$base")
order=$(cd "$repo" && go run ./e2e/standinorder e2e/standins) || die "cannot order the stand-ins"
for name in $order; do
	dir=$repo/e2e/standins/$name
	file=$dir/Containerfile
	mapfile -t names < <(sed -n 's/^# image: *//p' "$file")
	((${#names[@]})) || die "$file has no '# image: NAME' line"
	# The recipe covers the folder's files and the IDs of the images it starts
	# FROM, so a stand-in built on another one is rebuilt when that one is.
	from_ids=$(sed -n 's/^FROM[[:space:]]\{1,\}\([^[:space:]]*\).*/\1/p' "$file" |
		while read -r img; do buildah inspect --type image --format '{{.FromImageID}}' "$img" 2>/dev/null || true; done)
	recipe=$( (echo "$base_id"; echo "$from_ids"; cd "$dir" && find . -type f | LC_ALL=C sort | xargs sha256sum) | sha256sum | cut -c1-16)
	have=$(buildah inspect --type image --format '{{index .OCIv1.Config.Labels "org.hardenfix.e2e.recipe"}}' "${names[0]}" 2>/dev/null || true)
	if [[ $have == "$recipe" ]]; then
		for n in "${names[@]:1}"; do has_image "$n" || buildah tag "${names[0]}" "$n"; done
		continue
	fi
	t=$(now)
	tries buildah bud --isolation chroot --pull=never --format docker --quiet \
		--label org.hardenfix.e2e.recipe="$recipe" -t "${names[0]}" -f "$file" "$dir" \
		>"$work/standin-$name.log" 2>&1 ||
		{ tail -20 "$work/standin-$name.log" >&2; die "stand-in $name did not build (log: $work/standin-$name.log)"; }
	for n in "${names[@]:1}"; do buildah tag "${names[0]}" "$n"; done
	log "built stand-in ${names[*]} in $(since "$t")"
done

# 6. Trivy, for the scan tests (opt-in: building it takes about 12 minutes on
# 2 cores). HARDENFIX_E2E_TRIVY=1 builds trivy v$trivy_version from the Go
# module proxy into $work/tools, once; a path copies that binary there.
# Without either the scan tests skip unless $work/tools/trivy is there.
trivy_version=0.74.0
trivy=$work/tools/trivy
# The version is the trivy module's in the binary's build info: a plain
# `go install` leaves `trivy --version` at "dev" (releases set it with -X).
trivy_have() { go version -m "$1" 2>/dev/null | awk '$1 == "mod" && $2 == "github.com/aquasecurity/trivy" { sub(/^v/, "", $3); print $3 }'; }
if [[ -n ${HARDENFIX_E2E_TRIVY:-} && $(trivy_have "$trivy") != "$trivy_version" ]]; then
	mkdir -p "$work/tools"
	if [[ $HARDENFIX_E2E_TRIVY == 1 ]]; then
		t=$(now)
		log "building trivy v$trivy_version (about 12 minutes on 2 cores; log: $work/trivy-build.log)"
		GOEXPERIMENT=jsonv2 CGO_ENABLED=0 GOBIN=$work/tools \
			tries go install -ldflags "-X github.com/aquasecurity/trivy/pkg/version/app.ver=$trivy_version" \
			"github.com/aquasecurity/trivy/cmd/trivy@v$trivy_version" >"$work/trivy-build.log" 2>&1 ||
			{ tail -20 "$work/trivy-build.log" >&2; die "building trivy failed (log: $work/trivy-build.log)"; }
		log "built trivy in $(since "$t")"
	else
		[[ $(trivy_have "$HARDENFIX_E2E_TRIVY") == "$trivy_version" ]] ||
			die "HARDENFIX_E2E_TRIVY=$HARDENFIX_E2E_TRIVY is not trivy v$trivy_version (1 builds it)"
		cp "$HARDENFIX_E2E_TRIVY" "$trivy.tmp" && mv "$trivy.tmp" "$trivy"
		log "copied $HARDENFIX_E2E_TRIVY to $trivy"
	fi
fi
log "setup done in $(since "$start")"

# 7. The cases (Go tests behind the e2e build tag).
cd "$repo"
go test -tags e2e -count=1 -timeout 20m -v "$@" ./e2e/ &
gotest=$!
wait "$gotest"
