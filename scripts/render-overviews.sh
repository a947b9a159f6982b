#!/usr/bin/env bash
# Renders the system overview of each example's architecture page
# (examples/<name>/out/docs/ARCHITECTURE.md, the first Mermaid block) to
# examples/<name>/out/docs/overview.png with Mermaid's CLI, for reviewers,
# and keeps the diagram it rendered as overview.mmd.
# deployc does not generate the PNG: builds keep it and never list it. Run
# after scripts/regenerate-examples.sh when an overview changed, naming the
# examples (`scripts/render-overviews.sh healthcp`; all without names):
# Chromium's PNGs are not byte-stable, so re-rendering an unchanged diagram
# only makes noise. Look at the pictures before committing them.
set -euo pipefail
cd "$(dirname "$0")/.."
mmdc=$(scripts/mermaid-env.sh)
cfg=$(mktemp --suffix=.json); tmp=$(mktemp -d)
trap 'rm -rf "$cfg" "$tmp"' EXIT
cat >"$cfg" <<'JSON'
{"executablePath":"/usr/bin/chromium","args":["--no-sandbox","--headless","--disable-gpu","--disable-background-networking","--disable-component-update","--disable-sync","--no-first-run","--disable-quic"]}
JSON
if [ $# -eq 0 ]; then set -- $(ls examples/*.dpl | xargs -n1 basename | sed 's/\.dpl$//'); fi
for name in "$@"; do
  page=examples/$name/out/docs/ARCHITECTURE.md
  dir=$(dirname "$page")
  # The diagram rendered is kept beside the picture: tests/docs.rs fails
  # when the page's overview no longer matches it (the picture is stale).
  awk '/^## System overview/{f=1} f&&/^```mermaid/{g=1;next} g&&/^```/{exit} g{print}' "$page" >"$dir/overview.mmd"
  "$mmdc" -q -p "$cfg" -i "$dir/overview.mmd" -o "$dir/overview.png" -b white -w 1600
  echo "$dir/overview.png"
done
