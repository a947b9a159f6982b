#!/usr/bin/env bash
# `terraform validate` on every Terraform root under the given trees, with the
# machine's provider mirror (no network). validate-output means to do this but
# looks for its mirror at a path that does not exist and reports "skipped".
#   scripts/terraform-validate.sh TREE...
set -euo pipefail
MIRROR=${TF_PROVIDER_MIRROR:-/opt/tf-plugins}
[ -d "$MIRROR" ] || { echo "no Terraform provider mirror at $MIRROR" >&2; exit 1; }
command -v terraform >/dev/null || { echo "terraform is not installed" >&2; exit 1; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
printf 'provider_installation {\n  filesystem_mirror { path = "%s" }\n}\n' "$MIRROR" > "$WORK/tfrc"
export TF_CLI_CONFIG_FILE="$WORK/tfrc" TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
# One plugin cache, so each root links the provider instead of copying it.
mkdir -p "$WORK/plugins"; export TF_PLUGIN_CACHE_DIR="$WORK/plugins"
roots=0
skipped=0
trees=0
for tree in "$@"; do
  trees=$((trees + 1))
  copy="$WORK/tree-$trees"
  cp -r "$tree" "$copy"
  while IFS= read -r dir; do
    # A root whose providers are not all in the mirror (the GCP output needs
    # hashicorp/google, the Azure output hashicorp/azurerm, both hashicorp/random) cannot be initialised offline:
    # it is named as skipped, and tf-schema-check covers its schema instead.
    missing=""
    for src in $(grep -ho '"source": *"[^"]*"' "$dir"/*.tf.json | sed 's/.*"\([^"]*\)"$/\1/' | sort -u); do
      [ -d "$MIRROR/registry.terraform.io/$src" ] || missing="$missing $src"
    done
    if [ -n "$missing" ]; then
      skipped=$((skipped + 1))
      echo "terraform validate: SKIPPED ${dir#"$copy"/} of $tree (not in $MIRROR:$missing; tf-schema-check covers it)" >&2
      continue
    fi
    roots=$((roots + 1))
    if ! (cd "$dir" && terraform init -backend=false -input=false -no-color >/dev/null && terraform validate -no-color >/dev/null); then
      echo "terraform validate failed in ${dir#"$copy"/} of $tree:" >&2
      (cd "$dir" && terraform validate -no-color) >&2 || true
      exit 1
    fi
  done < <(find "$copy" -name '*.tf.json' -not -path '*/.terraform/*' -printf '%h\n' | sort -u)
done
echo "terraform validate: $roots root(s) valid, $skipped skipped (provider not in the mirror)"
