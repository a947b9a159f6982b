#!/usr/bin/env python3
"""Gate an output tree on ../shared/tools/validate-semantics.

    python3 scripts/semantics_gate.py SEMANTICS.json SECRETS.json

SEMANTICS.json is `validate-semantics OUT --json`; SECRETS.json is
`deployc secrets PROGRAM --format json` for the program that made OUT.

Every finding fails the gate, with one exception that is checked, not
waived: K8S-SECRET-REF for a Secret the program declares to be provided by
the team outside the tree (`sealed_by_team` through k8s/<env>/extra/, or
`created_by_team` with kubectl). deployc cannot produce those values;
`deployc secrets` lists them with the command that provides each. A missing
Secret that the output should have produced (an ExternalSecret, a
connection Secret, or a SealedSecret from the sealed files the program's
`dir` names, listed with a `file`) still fails.
"""
import json
import re
import sys

sem = json.load(open(sys.argv[1]))
envs = json.load(open(sys.argv[2]))
team = set()
for e in envs:
    for s in e["secrets"]:
        p = s["producer"]
        # A sealed file beside the program (`file`) is checked by deployc
        # and written into the tree: its Secret must have a producer there.
        if p["kind"] == "created_by_team" or (p["kind"] == "sealed_by_team" and not p.get("file")):
            team.add((e["namespace"], s["name"]))

failed, excused = [], 0
for f in sem.get("findings", []):
    if f["rule"] == "K8S-SECRET-REF":
        m = re.search(r"needs Secret '([^']+)' in namespace (\S+)", f["message"])
        if m and (m.group(2), m.group(1)) in team:
            excused += 1
            continue
    failed.append(f)
for f in failed:
    print(f"{f['rule']} {f['severity']} {f['path']}: {f['message']}")
print(f"semantics-gate: {len(failed)} finding(s) fail, {excused} team-provided Secret reference(s) listed by `deployc secrets`")
sys.exit(1 if failed else 0)
