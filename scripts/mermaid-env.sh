#!/usr/bin/env bash
# Installs what rendering Mermaid needs, idempotently, and prints the path of
# `mmdc`: Debian's chromium (Puppeteer's own browser download cannot work
# here) and @mermaid-js/mermaid-cli from npm into a cache folder
# ($DEPLOYC_MERMAID, default ~/.cache/deployc-mermaid).
set -euo pipefail
dir=${DEPLOYC_MERMAID:-$HOME/.cache/deployc-mermaid}
if [ ! -x /usr/bin/chromium ]; then
  echo "installing chromium (apt)" >&2
  { apt-get update -qq && apt-get install -y -qq chromium; } >&2
fi
if [ ! -x "$dir/node_modules/.bin/mmdc" ]; then
  echo "installing @mermaid-js/mermaid-cli into $dir (npm)" >&2
  mkdir -p "$dir"
  [ -f "$dir/package.json" ] || echo '{"private": true}' >"$dir/package.json"
  (cd "$dir" && PUPPETEER_SKIP_DOWNLOAD=1 npm install --no-audit --no-fund @mermaid-js/mermaid-cli >&2)
fi
echo "$dir/node_modules/.bin/mmdc"
