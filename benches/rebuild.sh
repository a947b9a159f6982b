#!/usr/bin/env bash
# Side-by-side timings of the synthetic program (N services x 4 environments,
# all targets) with hyperfine: check, an unchanged rebuild, build --check with
# nothing changed, a fresh build, and `cp -r` of the same tree.
#   benches/rebuild.sh [N] [DEPLOYC]   (defaults: 1000, target/release/deployc)
# Needs hyperfine and python3. Work happens under ${TMPDIR:-/tmp}.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000}
BIN=$(realpath "${2:-target/release/deployc}")
W=${TMPDIR:-/tmp}/deployc-rebuild-$N
rm -rf "$W" && mkdir -p "$W"
# The synthetic program of src/synth.rs (examples/synth.rs prints it):
"$BIN" --version >/dev/null
cargo run --quiet --release --example synth -- "$N" 4 > "$W/synth.dpl" 2>/dev/null || {
  echo "needs examples/synth.rs (cargo run --example synth)" >&2; exit 1; }
"$BIN" build "$W/synth.dpl" -o "$W/out" >/dev/null
"$BIN" build "$W/synth.dpl" -o "$W/out" >/dev/null
hyperfine -N --warmup 2 --runs "${RUNS:-15}" --export-markdown "$W/steady.md" --export-json "$W/steady.json" \
  -n check "$BIN check $W/synth.dpl" \
  -n unchanged-build "$BIN build $W/synth.dpl -o $W/out" \
  -n unchanged-check "$BIN build --check $W/synth.dpl -o $W/out"
hyperfine --warmup 1 --runs "${RUNS_FRESH:-7}" --export-markdown "$W/fresh.md" --export-json "$W/fresh.json" \
  --prepare "rm -rf $W/fresh $W/copy" \
  -n fresh-build "$BIN build $W/synth.dpl -o $W/fresh" \
  -n cp-r "cp -r $W/out $W/copy"
# Medians and the ratios the issue asks for: unchanged runs against check, a fresh build against cp -r.
python3 - "$W/steady.json" "$W/fresh.json" <<'PY'
import json, sys
med = {}
for f in sys.argv[1:]:
    for r in json.load(open(f))["results"]:
        med[r["command"]] = r["median"] * 1e3
for name, base in [("unchanged-build", "check"), ("unchanged-check", "check"), ("fresh-build", "cp-r")]:
    print("%-16s median %8.1f ms  %-6s median %8.1f ms  ratio %.2f" % (name, med[name], base, med[base], med[name] / med[base]))
PY
echo "tables: $W/steady.md $W/fresh.md"
