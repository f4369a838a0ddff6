#!/usr/bin/env bash
# The GitHub Action's run step (action.yml). Inputs come as INPUT_MODE,
# INPUT_ARGS and INPUT_REPORT; the `changed` output goes to $GITHUB_OUTPUT.
# Kept in its own file so it can be tested outside GitHub.
set -uo pipefail

flags=()
case "${INPUT_MODE:-check}" in
  check) flags+=(--check) ;;
  diff) ;;
  write) flags+=(--write --list) ;;
  *) echo "hardenfix action: mode must be check, diff or write, not '${INPUT_MODE}'" >&2; exit 2 ;;
esac
if [ -n "${INPUT_REPORT:-}" ]; then
  case "$INPUT_REPORT" in
    *.md|*.markdown) format=markdown ;;
    *.json) format=json ;;
    *.sarif|*.sarif.json) format=sarif ;;
    *) echo "hardenfix action: report must end in .md, .json or .sarif: '$INPUT_REPORT'" >&2; exit 2 ;;
  esac
  flags+=(--format "$format" --report "$INPUT_REPORT")
fi
read -r -a args <<< "${INPUT_ARGS:-.}"

out=$(mktemp)
hardenfix "${flags[@]}" "${args[@]}" | tee "$out"
code=${PIPESTATUS[0]}

changed=false
case "${INPUT_MODE:-check}" in
  check) [ "$code" -eq 1 ] && changed=true ;;
  *) [ -s "$out" ] && changed=true ;;
esac
rm -f "$out"
echo "changed=$changed" >> "${GITHUB_OUTPUT:-/dev/null}"
# In write and diff modes "changes found" is success; only errors fail.
if [ "${INPUT_MODE:-check}" != check ] && [ "$code" -eq 1 ]; then code=0; fi
exit "$code"
