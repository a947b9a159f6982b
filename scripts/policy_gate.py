#!/usr/bin/env python3
"""Checkov gate over validate-output's JSON: every policy finding fails,
except one the tree waives in its Checkov baseline
(`terraform/.checkov.baseline`, written by deployc from plan/waivers.rs)
for the same file, resource and check. Checkov itself matches a baseline by
resource and check only; this gate also holds the file, so a waiver never
covers a finding somewhere else.

usage: policy_gate.py VALIDATE_OUTPUT_JSON OUT_DIR
"""
import json
import re
import sys
from pathlib import Path

report = json.load(open(sys.argv[1]))
out = Path(sys.argv[2])
baseline = out / "terraform" / ".checkov.baseline"
waived = set()
if baseline.exists():
    for f in json.load(open(baseline))["failed_checks"]:
        for finding in f["findings"]:
            for check in finding["check_ids"]:
                waived.add((f["file"].lstrip("/"), finding["resource"], check))

FINDING = re.compile(r"^(CKV2?_[A-Z0-9]+_\d+) .*\[(.+)\]$")
bad, used = [], set()
for tool, file, message in report.get("problems", []):
    if tool != "checkov":
        continue
    m = FINDING.match(message)
    key = (file, m.group(2), m.group(1)) if m else None
    if key in waived:
        used.add(key)
        print(f"waived: {file}: {message}")
    else:
        bad.append(f"{file}: {message}")
for b in bad:
    print(f"policy finding: {b}", file=sys.stderr)
if bad:
    sys.exit(1)
print(f"policy gate: {len(used)} waived finding(s), none other")
