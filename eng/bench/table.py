#!/usr/bin/env python3
"""Reads one components.sh run (BenchmarkDotNet JSON, the cedar and latency outputs) and prints ours / anchor / ratio."""
import glob
import json
import os
import re
import sys

out = sys.argv[1]
rounds = sorted(d for d in os.listdir(out) if d.isdigit())


def bdn(round_, name):
    """(method, parameters) -> (median ns, allocated bytes per op) from a BenchmarkDotNet JSON report. Medians: on a
    shared machine a few preempted iterations move a mean far more than the typical call."""
    results = {}
    for path in glob.glob(os.path.join(out, round_, name, "results", "*.json")):
        with open(path, encoding="utf-8") as f:
            for b in json.load(f)["Benchmarks"]:
                stats = b.get("Statistics") or {}
                memory = b.get("Memory") or {}
                results[(b["Method"], b.get("Parameters") or "")] = (stats.get("Median"), memory.get("BytesAllocatedPerOperation"))
    return results


def text(round_, name):
    path = os.path.join(out, round_, name)
    return open(path, encoding="utf-8").read() if os.path.exists(path) else ""


def duration(ns):
    if ns is None:
        return "n/a"
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


def size(b):
    if b is None:
        return "n/a"
    if b >= 1024 * 1024:
        return f"{b / 1024 / 1024:.3g} MB"
    return f"{b / 1024:.3g} KB" if b >= 1024 else f"{b} B"


def span(values, fmt):
    values = [v for v in values if v is not None]
    if not values:
        return "n/a"
    lo, hi = min(values), max(values)
    return fmt(lo) if fmt(lo) == fmt(hi) else f"{fmt(lo)}–{fmt(hi)}"


rows = []


def row(what, ours, anchor, allocated=None, note=""):
    """ours / anchor: one mean (ns) per round."""
    ratios = [a / o for o, a in zip(ours, anchor) if o and a]
    rows.append((what, span(ours, duration), span(allocated or [], size) if allocated else "", span(anchor, duration) if anchor else note,
                 span(ratios, lambda r: f"{r:,.0f}x" if r >= 10 else f"{r:.1f}x") if ratios else ""))


impact = [bdn(r, "impact") for r in rounds]
cte = [bdn(r, "impact-cte") for r in rounds]
dependents = {}
for m in re.finditer(r"// graph (\S+): .*dependents of hub (\d+), bottom (\d+), mid (\d+), leaf (\d+)", text(rounds[0], "impact.log")):
    for target, count in zip(("hub", "bottom-layer", "mid-layer", "leaf"), m.groups()[1:]):
        dependents[(m.group(1), target)] = f"{int(count):,}"
for graph in ("10k", "100k"):
    key = f"Graph={graph}"
    for method, target in (("Hub", "hub"), ("Bottom", "bottom-layer"), ("Mid", "mid-layer"), ("Leaf", "leaf")):
        count = dependents.get((graph, target), "?")
        anchor = [c.get((method, key), (None, None))[0] for c in cte]
        row(f"blast radius, {graph} graph, {target} ({count} dependents)", [i.get((method, key), (None, None))[0] for i in impact], anchor,
            [i.get((method, key), (None, None))[1] for i in impact])
        if method in ("Hub", "Bottom"):
            row(f"  same, every dependent read (record + path)", [i.get((method + "Read", key), (None, None))[0] for i in impact], anchor,
                [i.get((method + "Read", key), (None, None))[1] for i in impact])
    row(f"build the {graph} snapshot (once per graph version)", [i.get(("BuildSnapshot", key), (None, None))[0] for i in impact], [],
        [i.get(("BuildSnapshot", key), (None, None))[1] for i in impact], "")

policy = [bdn(r, "policy") for r in rounds]
cedar = [text(r, "cedar.txt") for r in rounds]


def cedar_median(t, label):
    m = re.search(re.escape(label) + r".*?: mean [\d.]+ us, p50 ([\d.]+) us", t)
    return float(m.group(1)) * 1000 if m else None


# The verdict (outcome and deciding rule ids) is what Cedar's authorizer answers; the decision adds the reason sentences,
# the combined approval and the steps the bus message carries.
verdict = [p.get(("Verdict", ""), (None, None))[0] for p in policy]
row("policy verdict, 200 rules (13 fire): outcome + deciding rule ids", verdict, [cedar_median(t, "preparsed policy set") for t in cedar],
    [p.get(("Verdict", ""), (None, None))[1] for p in policy])
ours = [p.get(("Decide", ""), (None, None))[0] for p in policy]
allocated = [p.get(("Decide", ""), (None, None))[1] for p in policy]
row("policy decision record, 200 rules (13 fire): + reasons, approval, steps", ours, [cedar_median(t, "preparsed policy set") for t in cedar], allocated)
row("  against cedar parsing the policies per call", ours, [cedar_median(t, "policies parsed per call") for t in cedar], allocated)
row("policy decision, 200 rules tested, none fires (matching alone)", [p.get(("DecideNoneFire", ""), (None, None))[0] for p in policy], [],
    [p.get(("DecideNoneFire", ""), (None, None))[1] for p in policy], "")
row("policy verdict, none fires", [p.get(("VerdictNoneFire", ""), (None, None))[0] for p in policy], [],
    [p.get(("VerdictNoneFire", ""), (None, None))[1] for p in policy], "")

merkle = [bdn(r, "merkle") for r in rounds]
row("verify an inclusion proof, 10^6 leaves", [m.get(("VerifyInclusion", ""), (None, None))[0] for m in merkle], [],
    [m.get(("VerifyInclusion", ""), (None, None))[1] for m in merkle], "goal ≤ 20 µs")
row("verify a consistency proof, 10^6 leaves", [m.get(("VerifyConsistency", ""), (None, None))[0] for m in merkle], [],
    [m.get(("VerifyConsistency", ""), (None, None))[1] for m in merkle], "")

print(f"rounds: {len(rounds)}; load before: {open(os.path.join(out, 'uptime-before.txt')).read().strip()}")
print(f"load after: {open(os.path.join(out, 'uptime-after.txt')).read().strip()}")
print()
print("| what | ours (median) | ours allocated | anchor (median) | ratio |")
print("|---|---|---|---|---|")
for r in rows:
    print("| " + " | ".join(r) + " |")
print()
for line in re.findall(r"// proof sizes.*", "".join(open(p, encoding="utf-8").read() for p in glob.glob(os.path.join(out, rounds[0], "merkle.log"))))[:1]:
    print(line.lstrip("/ "))
for r in rounds:
    for line in text(r, "latency.txt").splitlines():
        print(f"round {r}: {line}")
    for line in text(r, "cedar.txt").splitlines():
        print(f"round {r}: {line}")
