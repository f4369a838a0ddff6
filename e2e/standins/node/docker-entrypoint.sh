#!/bin/sh
# Entrypoint of the node stand-in: runs the arguments as a command, under
# node when the first one is an option (-e ...) or not a command (app.js).
set -e
case "${1:-}" in
-*) set -- node "$@" ;;
*) if [ -n "${1:-}" ] && ! command -v "$1" >/dev/null 2>&1; then set -- node "$@"; fi ;;
esac
exec "$@"
