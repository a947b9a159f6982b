#!/usr/bin/env bash
# Growth of time and peak memory with program size: the synthetic program
# (N services x 4 environments, all targets) for each N: wall seconds (bash's
# clock) and GNU time's maximum resident set size. Median of RUNS runs each.
#   benches/growth.sh [DEPLOYC] [N...]   (defaults: target/release/deployc, 100 1000 3000 10000)
# Work happens under ${TMPDIR:-/tmp} (TMPDIR=/dev/shm for tmpfs).
# Prints a markdown table and the growth exponents from the first and from the
# second N to the last (log(t_last/t_first) / log(N_last/N_first)); 1.0 is linear.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(realpath "${1:-target/release/deployc}"); shift || true
SIZES=${*:-100 1000 3000 10000}
RUNS=${RUNS:-3}
W=${TMPDIR:-/tmp}/deployc-growth; rm -rf "$W"; mkdir -p "$W"
# SYNTH=path skips building the generator (examples/synth.rs).
if [ -z "${SYNTH:-}" ]; then
  cargo build --quiet --release --example synth
  SYNTH=target/release/examples/synth
fi
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
measure() { # label command... -> "seconds kib" medians
  local t m i
  for i in $(seq "$RUNS"); do
    [ "$1" = fresh ] && rm -rf "$W/out"
    # Wall time from bash's clock (GNU time's %e has 10 ms steps), peak RSS from GNU time.
    local s=$EPOCHREALTIME
    /usr/bin/time -f "%M" -o "$W/t" "${@:2}" >/dev/null 2>&1 || true
    local e=$EPOCHREALTIME
    awk -v s="$s" -v e="$e" -v m="$(tail -1 "$W/t")" 'BEGIN { printf "%.3f %s\n", e - s, m }'
  done > "$W/runs"
  t=$(cut -d' ' -f1 "$W/runs" | median); m=$(cut -d' ' -f2 "$W/runs" | median)
  echo "$t $m"
}
echo "| N | files | check s | check MiB | fresh build s | build MiB | unchanged build s | --stdout s | --stdout MiB |"
echo "|---|---|---|---|---|---|---|---|---|"
first=""; second=""; last=""
for n in $SIZES; do
  "$SYNTH" "$n" 4 > "$W/synth.dpl"
  read -r ct cm < <(measure check "$BIN" check "$W/synth.dpl")
  read -r bt bm < <(measure fresh "$BIN" build "$W/synth.dpl" -o "$W/out")
  read -r ut _ < <(measure unchanged "$BIN" build "$W/synth.dpl" -o "$W/out")
  read -r st sm < <(measure stdout "$BIN" build "$W/synth.dpl" --stdout)
  files=$(find "$W/out" -type f | wc -l)
  printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n" "$n" "$files" "$ct" $((cm/1024)) "$bt" $((bm/1024)) "$ut" "$st" $((sm/1024))
  row="$n $ct $cm $bt $bm $st"
  [ -n "$first" ] && [ -z "$second" ] && second=$row
  [ -z "$first" ] && first=$row
  last=$row
done
python3 - "$first" "$second" "$last" <<'PY'
import math, sys
rows = [[float(x) for x in r.split()] for r in sys.argv[1:] if r]
names = ["check time", "check memory", "build time", "build memory", "--stdout time"]
b = rows[-1]
# From the smallest N, and from the second (start-up costs weigh less there).
for a in [r for r in rows[:-1] if r[0] != b[0]][:2]:
    r = math.log(b[0] / a[0])
    print("\ngrowth exponents N=%d..%d: " % (a[0], b[0]) + ", ".join(
        "%s %.2f" % (n, math.log(max(y, 1e-3) / max(x, 1e-3)) / r) for n, x, y in zip(names, a[1:], b[1:])))
PY
