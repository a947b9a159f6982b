#!/usr/bin/env bash
# Validates generated .gitlab-ci.yml files against GitLab's official CI JSON
# schema, as vendored by check-jsonschema (PyPI, pinned; installed into a
# cached venv of its own): `check-jsonschema --builtin-schema vendor.gitlab-ci`.
#   scripts/check-gitlab-ci.sh FILE...
# Exit 0 when every file validates, 1 otherwise (and when no file is given:
# a check that checks nothing must not pass).
set -euo pipefail
[ "$#" -gt 0 ] || { echo "check-gitlab-ci: no .gitlab-ci.yml given" >&2; exit 1; }
PKG="check-jsonschema==0.39.0"
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/deployc-check-jsonschema/$(echo "$PKG" | sha1sum | cut -c1-12)
if [ ! -x "$CACHE/bin/check-jsonschema" ]; then
  echo "check-gitlab-ci: installing $PKG into $CACHE" >&2
  rm -rf "$CACHE"; python3 -m venv "$CACHE"
  "$CACHE/bin/pip" install -q --disable-pip-version-check "$PKG" >&2
fi
for f in "$@"; do
  [ -f "$f" ] || { echo "check-gitlab-ci: $f does not exist" >&2; exit 1; }
done
"$CACHE/bin/check-jsonschema" --builtin-schema vendor.gitlab-ci "$@"
