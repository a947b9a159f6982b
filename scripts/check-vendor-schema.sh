#!/usr/bin/env bash
# Validates generated files against a vendor's official JSON schema, as
# vendored by check-jsonschema (PyPI, pinned; installed into a cached venv of
# its own): `check-jsonschema --builtin-schema vendor.SCHEMA`, e.g. gitlab-ci
# for .gitlab-ci.yml, dependabot for .github/dependabot.yml.
#   scripts/check-vendor-schema.sh SCHEMA FILE...
# Exit 0 when every file validates, 1 otherwise (and when no file is given:
# a check that checks nothing must not pass).
set -euo pipefail
[ "$#" -gt 1 ] || { echo "check-vendor-schema: usage: SCHEMA FILE..." >&2; exit 1; }
SCHEMA=$1; shift
PKG="check-jsonschema==0.39.0"
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/deployc-check-jsonschema/$(echo "$PKG" | sha1sum | cut -c1-12)
if [ ! -x "$CACHE/bin/check-jsonschema" ]; then
  echo "check-vendor-schema: installing $PKG into $CACHE" >&2
  rm -rf "$CACHE"; python3 -m venv "$CACHE"
  "$CACHE/bin/pip" install -q --disable-pip-version-check "$PKG" >&2
fi
for f in "$@"; do
  [ -f "$f" ] || { echo "check-vendor-schema: $f does not exist" >&2; exit 1; }
done
"$CACHE/bin/check-jsonschema" --builtin-schema "vendor.$SCHEMA" "$@"
