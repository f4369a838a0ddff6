#!/usr/bin/env bash
# byte-identical.sh: check that a change keeps hardenfix's output byte for
# byte. It builds the command at BASE (a git revision, default main) and
# from the work tree, runs both over each DIR (default: examples and
# fixtures) offline in every output mode (diff, json, sarif, markdown,
# --list, --check, -w -l on a copy) and compares stdout, stderr, exit codes
# and the written trees. Used for the move of the pipeline into pkg/harden:
#
#   scripts/byte-identical.sh main /work/corpus examples fixtures
set -euo pipefail
base=${1:-main}
shift || true
[ $# -gt 0 ] || set -- examples fixtures
repo=$(git rev-parse --show-toplevel)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

git -C "$repo" worktree add -q --detach "$work/base-src" "$base"
(cd "$work/base-src" && go build -o "$work/before" ./cmd/hardenfix)
git -C "$repo" worktree remove --force "$work/base-src"
(cd "$repo" && go build -o "$work/after" ./cmd/hardenfix)

runs() { # runs BIN OUT DIR: every mode over DIR, outputs into OUT
	local bin=$1 out=$2 dir=$3 i=0
	mkdir -p "$out"
	for mode in "" "--format json" "--format sarif" "--format markdown" "--list" "--check"; do
		i=$((i + 1))
		# shellcheck disable=SC2086 # mode is several words on purpose
		(cd "$dir" && { "$bin" --offline --progress never $mode . >"$out/$i.stdout" 2>"$out/$i.stderr" && echo 0 || echo $?; } >"$out/$i.code")
	done
	cp -a "$dir" "$out/tree"
	(cd "$out/tree" && { "$bin" --offline --progress never -w -l . >"$out/w.stdout" 2>"$out/w.stderr" && echo 0 || echo $?; } >"$out/w.code")
}

status=0
for dir in "$@"; do
	abs=$(cd "$dir" && pwd)
	name=$(echo "$abs" | tr / _)
	runs "$work/before" "$work/b$name" "$abs"
	runs "$work/after" "$work/a$name" "$abs"
	files=$(grep -o '[0-9]* files\? scanned' "$work/b$name/1.stderr" | tail -1 || true)
	if diff -r --no-dereference "$work/b$name" "$work/a$name" >/dev/null; then
		echo "identical: $dir ($files)"
	else
		echo "DIFFERENT: $dir ($files)"
		# Every differing file, then the first lines of the differences
		# (|| true: head closing the pipe must not end the script).
		diff -rq --no-dereference "$work/b$name" "$work/a$name" || true
		{ diff -r --no-dereference "$work/b$name" "$work/a$name" || true; } | head -20
		status=1
	fi
done
exit $status
