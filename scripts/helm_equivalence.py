#!/usr/bin/env python3
"""The Helm chart renders the same objects as the Kubernetes target.

    PYTHON scripts/helm_equivalence.py [OUT_DIR ...]      (default: examples/*/out)

For every output tree and every environment `k8s/<env>/`, renders
`helm/<project>/` with `values-<env>.yaml` through Helm's own library (the PyPI
package helm-python-sdk, which `../shared/tools/validate-output` installs into
its venv; run this with that venv's python) and compares the parsed documents
with `k8s/<env>/*.yaml`: the same set of (kind, namespace, name), and each
document deeply equal (types included: "1" is not 1). The kustomization's
`images` (newName, newTag, digest) are applied to the Kubernetes documents
first, as kustomize applies them: the chart renders the final image names.

Two renders per environment:
  - with the values file as is: every object except the Namespace, which the
    chart leaves to Helm (`--create-namespace`) unless `namespace.create`;
  - with `namespace.create: true` on top: every object, the Namespace included.
Helm's own annotations (`helm.sh/*`, the migration Job's hook) are the one
intended difference and are dropped before comparing.

Then Checkov (from the same venv) checks everything rendered, as
validate-output checks the Kubernetes target: no failed check allowed.

Exits 0 when all match, 1 on any difference or Checkov finding, 2 when Helm's
library or Checkov is missing (never skips).
"""
import copy
import json
import pathlib
import subprocess
import sys
import tempfile

try:
    import yaml
    import helm_python as helm
except ImportError as e:  # pragma: no cover - the message is the point
    print(
        f"helm-equivalence: cannot import Helm's library ({e}).\n"
        "Run this with the python of the validators' venv that ../shared/tools/validate-output creates\n"
        "(~/.cache/deployc-validators/<hash>/bin/python, with helm-python-sdk installed).",
        file=sys.stderr,
    )
    sys.exit(2)

RELEASE_NAMESPACE = "helm-release-namespace"  # deliberately not the environment's


def key(doc):
    meta = doc.get("metadata") or {}
    return (doc.get("kind"), meta.get("namespace"), meta.get("name"))


def show(k):
    kind, ns, name = k
    return f"{kind} {ns}/{name}" if ns else f"{kind} {name}"


def strip_helm(doc):
    meta = doc.get("metadata") or {}
    ann = meta.get("annotations")
    if isinstance(ann, dict):
        for k in [k for k in ann if k.startswith("helm.sh/")]:
            del ann[k]
        if not ann:
            del meta["annotations"]
    return doc


def differences(a, b, path="", out=None, limit=8):
    """Paths where two parsed documents differ (values and types)."""
    out = [] if out is None else out
    if len(out) >= limit:
        return out
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            if k not in a:
                out.append(f"{path}.{k}: only in helm: {b[k]!r}"[:300])
            elif k not in b:
                out.append(f"{path}.{k}: only in k8s: {a[k]!r}"[:300])
            else:
                differences(a[k], b[k], f"{path}.{k}", out, limit)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            differences(x, y, f"{path}[{i}]", out, limit)
    elif type(a) is not type(b) or a != b:
        out.append(f"{path or '<root>'}: k8s {a!r} != helm {b!r}"[:300])
    return out


def retag(node, images):
    """Applies kustomize's `images` transformer to every `image` of the
    containers and init containers below `node`."""
    if isinstance(node, dict):
        for field in ("containers", "initContainers"):
            for c in node.get(field) or []:
                if isinstance(c, dict) and isinstance(c.get("image"), str):
                    c["image"] = retagged(c["image"], images)
        for v in node.values():
            retag(v, images)
    elif isinstance(node, list):
        for v in node:
            retag(v, images)


def retagged(image, images):
    name, sep, digest = image.partition("@")
    tag = None
    if not sep:
        slash = name.rfind("/")
        colon = name.rfind(":")
        if colon > slash:
            name, tag = name[:colon], name[colon + 1:]
    for i in images:
        if i.get("name") != name:
            continue
        name = i.get("newName", name)
        if "digest" in i:
            return f"{name}@{i['digest']}"
        tag = i.get("newTag", tag)
        break
    if sep:
        return f"{name}@{digest}"
    return f"{name}:{tag}" if tag is not None else name


def load_k8s(env_dir):
    docs = {}
    kust = env_dir / "kustomization.yaml"
    images = (yaml.safe_load(kust.read_text()) or {}).get("images") or [] if kust.exists() else []
    for f in sorted(env_dir.glob("*.yaml")):
        if f.name == "kustomization.yaml":
            continue
        for d in yaml.safe_load_all(f.read_text()):
            if isinstance(d, dict):
                retag(d, images)
                docs[key(d)] = d
    return docs


def render(chart, values, keep=None):
    """Parsed documents by key, keys rendered twice; `keep` collects the texts."""
    with helm.Chart.load(str(chart)) as ch:
        rendered = ch.render(values=values, name=chart.name, namespace=RELEASE_NAMESPACE)
    if keep is not None:
        keep.append("\n---\n".join(t for t in rendered.values() if t.strip()))
    docs, dupes = {}, []
    for text in rendered.values():
        for d in yaml.safe_load_all(text):
            if isinstance(d, dict):
                k = key(d)
                if k in docs:
                    dupes.append(k)
                docs[k] = strip_helm(d)
    return docs, dupes


def compare(label, expected, got, dupes):
    problems = [f"{label}: rendered twice: {show(k)}" for k in dupes]
    for k in sorted(set(expected) - set(got), key=str):
        problems.append(f"{label}: missing from the chart: {show(k)}")
    for k in sorted(set(got) - set(expected), key=str):
        problems.append(f"{label}: only in the chart: {show(k)}")
    for k in sorted(set(expected) & set(got), key=str):
        for d in differences(expected[k], got[k]):
            problems.append(f"{label}: {show(k)}: {d}")
    return problems


def check_tree(out, keep):
    problems, compared = [], 0
    charts = sorted(p.parent for p in (out / "helm").glob("*/Chart.yaml"))
    # `k8s/_cluster/` holds cluster-wide objects (the StorageClass), which the
    # chart leaves to the cluster add-ons; environment names never start with `_`.
    envs = sorted(p for p in (out / "k8s").iterdir() if p.is_dir() and not p.name.startswith("_")) if (out / "k8s").is_dir() else []
    if len(charts) != 1:
        return [f"{out}: expected one chart under helm/, found {len(charts)}"], 0
    if not envs:
        return [f"{out}: no k8s/<env>/ folders to compare with"], 0
    chart = charts[0]
    value_envs = sorted(p.name[len("values-"):-len(".yaml")] for p in chart.glob("values-*.yaml"))
    if value_envs != [e.name for e in envs]:
        problems.append(f"{chart}: values files for {value_envs}, k8s folders for {[e.name for e in envs]}")
    for env in envs:
        vf = chart / f"values-{env.name}.yaml"
        if not vf.is_file():
            continue
        values = yaml.safe_load(vf.read_text()) or {}
        expected = load_k8s(env)
        label = f"{out.parent.name if out.name == 'out' else out}/{env.name}"
        # As shipped: no Namespace.
        got, dupes = render(chart, values)
        without_ns = {k: v for k, v in expected.items() if k[0] != "Namespace"}
        problems += compare(label, without_ns, got, dupes)
        # With namespace.create: everything.
        created = copy.deepcopy(values)
        created.setdefault("namespace", {})["create"] = True
        got, dupes = render(chart, created, keep)
        problems += compare(f"{label} (namespace.create)", expected, got, dupes)
        compared += len(expected)
        print(f"helm-equivalence: {label}: {len(expected)} objects compared")
    return problems, compared


def checkov(texts):
    """Checkov's failed checks and parsing errors over the rendered objects."""
    exe = pathlib.Path(sys.executable).parent / "checkov"
    if not exe.is_file():
        print(f"helm-equivalence: no checkov next to {sys.executable}", file=sys.stderr)
        sys.exit(2)
    with tempfile.TemporaryDirectory(prefix="deployc-helm-") as d:
        for i, t in enumerate(texts):
            pathlib.Path(d, f"render-{i:03}.yaml").write_text(t)
        r = subprocess.run([str(exe), "-d", d, "--framework", "kubernetes", "--skip-download", "--quiet",
                            "--compact", "-o", "json"], capture_output=True, text=True)
    try:
        report = json.loads(r.stdout or "[]")
    except json.JSONDecodeError:
        return [f"checkov printed no JSON: {r.stderr[-300:]}"], 0
    problems, passed = [], 0
    for x in report if isinstance(report, list) else [report]:
        if not isinstance(x, dict):
            continue
        summary = x.get("summary") or {}
        passed += summary.get("passed", 0)
        if summary.get("parsing_errors"):
            problems.append(f"checkov: {summary['parsing_errors']} rendered files did not parse")
        for fc in (x.get("results") or {}).get("failed_checks", []):
            problems.append(f"checkov: {fc.get('check_id')} {fc.get('check_name')} [{fc.get('resource')}]")
    return problems, passed


def main(argv):
    run_checkov = "--no-checkov" not in argv
    argv = [a for a in argv if a != "--no-checkov"]
    outs = [pathlib.Path(a) for a in argv] or sorted(pathlib.Path("examples").glob("*/out"))
    if not outs:
        print("helm-equivalence: no output trees given or found under examples/*/out", file=sys.stderr)
        return 1
    problems, total, texts = [], 0, []
    for out in outs:
        if not out.is_dir():
            problems.append(f"{out}: not a directory")
            continue
        p, n = check_tree(out, texts)
        problems += p
        total += n
    passed = 0
    if run_checkov and texts:
        p, passed = checkov(texts)
        problems += p
        print(f"helm-equivalence: checkov over {len(texts)} renders: {passed} checks passed, {len(p)} problems")
    for p in problems:
        print(p)
    verdict = "FAIL" if problems else "ok"
    print(f"helm-equivalence: {verdict}: {total} objects in {len(outs)} trees, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
