#!/usr/bin/env bash
# A deliberately broken stand-in for hardenfix, to check by hand that the
# suite catches a bad rewrite (see e2e/README.md):
#
#   HARDENFIX_E2E_BIN=e2e/broken-rewrite.sh e2e/run.sh -run 'TestCases/add-to-copy'
#
# Called like hardenfix from a case's folder: with --write it puts
# USER 10001:10001 right after the first FROM of ./Dockerfile, so every RUN
# (apt-get install too) runs unprivileged; without --write it prints nothing.
set -euo pipefail
write=
for arg in "$@"; do
	[[ $arg == --write || $arg == -w ]] && write=1
done
[[ -n $write ]] || exit 0
awk '!done && toupper($1) == "FROM" { print; print "USER 10001:10001"; done = 1; next } { print }' Dockerfile >Dockerfile.broken
mv Dockerfile.broken Dockerfile
