#!/usr/bin/env bash
# Whether two deployc binaries give the same output: `--stdout` of every
# example, pass case and any extra program given (with three target
# choices), and `check --format json` of every case and example.
#   benches/same.sh OLD NEW [more.dpl ...]      (from the repository root)
# Prints each difference and a count; exits 1 when any differ.
set -uo pipefail
OLD=$(realpath "$1"); NEW=$(realpath "$2"); shift 2
n=0; bad=0
for f in examples/*.dpl tests/cases/pass/*.dpl "$@"; do
  for t in "" "--target k8s --target argocd" "--target argocd"; do
    # shellcheck disable=SC2086 # $t is several words on purpose
    a=$("$OLD" build "$f" --stdout $t 2>&1 | sha1sum); b=$("$NEW" build "$f" --stdout $t 2>&1 | sha1sum)
    n=$((n + 1)); [ "$a" == "$b" ] || { echo "differs: build $f --stdout $t"; bad=$((bad + 1)); }
  done
done
for f in tests/cases/fail/*.dpl tests/cases/pass/*.dpl examples/*.dpl; do
  a=$("$OLD" check "$f" --format json 2>&1 | sha1sum); b=$("$NEW" check "$f" --format json 2>&1 | sha1sum)
  n=$((n + 1)); [ "$a" == "$b" ] || { echo "differs: check $f"; bad=$((bad + 1)); }
done
echo "$n compared, $bad differ"
[ "$bad" -eq 0 ]
