#!/usr/bin/env bash
# Rebuilds the committed output of every example. Run after changing an
# emitter, review the diff, commit it with the change.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet
for f in examples/*.dpl; do
  name=$(basename "$f" .dpl)
  ./target/debug/deployc build "$f" -o "examples/$name/out"
done
