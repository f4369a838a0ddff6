#!/usr/bin/env bash
# trivy-config.sh: run Trivy's Dockerfile checks offline over Dockerfiles and
# report one check, by default DS-0002 ("Image user should not be 'root'":
# the last USER must exist and not be root or 0).
#
#   scripts/trivy-config.sh [-c CHECK] PATH...
#
# A PATH is a Dockerfile (any name) or a folder, searched for Dockerfile,
# Containerfile, *.Dockerfile, *.dockerfile and Dockerfile.*. Each file is
# scanned as a file named Dockerfile, so names Trivy would not recognise are
# scanned too. Prints one line per file, PASS or FAIL with Trivy's message
# and line, then a summary; exits 1 when a file fails, 2 on a usage or
# Trivy error.
#
# Trivy: $TRIVY, else trivy on PATH (v0.74.0 was checked; see e2e/README.md
# for building it). It runs with its embedded checks and no network:
# --skip-check-update with an empty cache (so the checks bundled in the
# binary are used), --skip-version-check, --disable-telemetry; as root it
# also runs in a network namespace of its own (unshare --net), so that a
# request to the internet would fail rather than pass unnoticed.
# Needs jq.
set -euo pipefail

check=DS-0002
if [[ ${1:-} == -c ]]; then
	check=${2:?-c needs a check ID, e.g. DS-0002}
	shift 2
fi
(($#)) || { echo "usage: $0 [-c CHECK] PATH..." >&2; exit 2; }
trivy=${TRIVY:-$(command -v trivy || true)}
[[ -x $trivy ]] || { echo "trivy-config: no trivy (set TRIVY or put trivy on PATH)" >&2; exit 2; }
command -v jq >/dev/null || { echo "trivy-config: needs jq" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/files" "$tmp/cache"

# Stage each file as files/N/Dockerfile; map.tsv maps N back to its path.
n=0
stage() {
	n=$((n + 1))
	mkdir -p "$tmp/files/$n"
	cp "$1" "$tmp/files/$n/Dockerfile"
	printf '%s\t%s\n' "$n/Dockerfile" "$1" >>"$tmp/map.tsv"
}
for p in "$@"; do
	if [[ -d $p ]]; then
		while IFS= read -r -d '' f; do stage "$f"; done < <(find "$p" -type f \( -name Dockerfile -o -name Containerfile \
			-o -name '*.Dockerfile' -o -name '*.dockerfile' -o -name 'Dockerfile.*' \) -print0 | LC_ALL=C sort -z)
	elif [[ -f $p ]]; then
		stage "$p"
	else
		echo "trivy-config: $p: no such file or folder" >&2
		exit 2
	fi
done
((n)) || { echo "trivy-config: no Dockerfiles in $*" >&2; exit 2; }

run=("$trivy")
if [[ $(id -u) == 0 ]] && command -v unshare >/dev/null; then
	run=(unshare --net -- "$trivy")
fi
"${run[@]}" config --quiet --format json --include-non-failures \
	--misconfig-scanners dockerfile \
	--skip-check-update --skip-version-check --disable-telemetry \
	--cache-dir "$tmp/cache" --output "$tmp/report.json" "$tmp/files" 2>"$tmp/trivy.log" ||
	{ cat "$tmp/trivy.log" >&2; echo "trivy-config: trivy config failed" >&2; exit 2; }

# One line per target: PASS, FAIL: message (line N), or nothing when the
# check did not run on it.
jq -r --arg id "$check" '
	.Results[]? | .Target as $t
	| [.Misconfigurations[]? | select(.ID == $id or .AVDID == ("AVD-" + $id) or (.ID | gsub("-"; "")) == ($id | gsub("-"; "")))]
	| select(length > 0)
	| if any(.Status == "FAIL") then
		[$t, "FAIL", ([.[] | select(.Status == "FAIL") | .Message + (if .CauseMetadata.StartLine then " (line \(.CauseMetadata.StartLine))" else "" end)] | join("; "))]
	  else [$t, "PASS", ""] end
	| @tsv' "$tmp/report.json" >"$tmp/results.tsv"

pass=0 fail=0 none=0
while IFS=$'\t' read -r target path; do
	line=$(awk -F'\t' -v t="$target" '$1 == t' "$tmp/results.tsv")
	status=$(cut -f2 <<<"$line")
	case $status in
	PASS) pass=$((pass + 1)); printf 'PASS  %s\n' "$path" ;;
	FAIL) fail=$((fail + 1)); printf 'FAIL  %s: %s\n' "$path" "$(cut -f3- <<<"$line")" ;;
	*) none=$((none + 1)); printf 'NONE  %s: %s did not run (not read as a Dockerfile?)\n' "$path" "$check" ;;
	esac
done <"$tmp/map.tsv"
version=$(go version -m "$trivy" 2>/dev/null | awk '$1 == "mod" && $2 == "github.com/aquasecurity/trivy" { print $3 }' || true)
echo "$check: $pass pass, $fail fail, $none not checked, of $n files (trivy ${version:-of unknown version}, embedded checks, offline)"
((fail == 0 && none == 0)) || exit 1
