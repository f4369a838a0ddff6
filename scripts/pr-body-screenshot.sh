#!/usr/bin/env bash
# Regenerates docs/pr-body.png: the pull-request body hardenfix writes for
# examples/demo, rendered as GitHub renders Markdown (goldmark + GFM, in
# TestPRBodyRendersOnGitHub) and photographed with headless Chromium
# (Debian: apt-get install -y chromium). Offline; the browser gets a fresh
# profile and no background traffic.
set -euo pipefail
cd "$(dirname "$0")/.."
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
	echo "pr-body-screenshot: no chromium; on Debian: apt-get install -y chromium" >&2
	exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
HARDENFIX_PR_HTML="$work/pr-body.html" go test ./cmd/hardenfix -run '^TestPRBodyRendersOnGitHub$' -count=1 >"$work/test.log" || { cat "$work/test.log" >&2; exit 1; }
"$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
	--disable-background-networking --disable-component-update --disable-sync \
	--user-data-dir="$work/profile" --hide-scrollbars \
	--window-size="${WIDTH:-1280},${HEIGHT:-1000}" \
	--screenshot="$work/pr-body.png" "file://$work/pr-body.html" 2>"$work/chromium.log" || {
	cat "$work/chromium.log" >&2
	exit 1
}
cp "$work/pr-body.png" docs/pr-body.png
echo "wrote docs/pr-body.png"
