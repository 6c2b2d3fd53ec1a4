#!/usr/bin/env python3
"""Writes a big import file for measuring corral at scale (the README's Performance section).

    scripts/big_backlog.py [FEATURES] [DEPENDENCIES] > big.json   # defaults 100000 150000
    corral import big.json

Fixed seed, so every run writes the same backlog. Each dependency points to a lower id (so the
graph is acyclic): most to a recent feature, some to anything older; at most 50 per feature.
"""
import json
import random
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
m = int(sys.argv[2]) if len(sys.argv) > 2 else 150_000
rng = random.Random(0x5EED)
deps = [set() for _ in range(n)]
placed = 0
while placed < m:
    i = rng.randrange(1, n)
    to = i - 1 - rng.randrange(min(i, 200)) if rng.random() < 0.7 else rng.randrange(i)
    if to + 1 not in deps[i] and len(deps[i]) < 50:
        deps[i].add(to + 1)
        placed += 1
out = sys.stdout
out.write("[\n")
for i in range(n):
    item = {
        "id": i + 1,
        "name": f"Feature {i + 1}",
        "category": f"Area {i % 40}",
        "description": f"Generated feature {i + 1} for a scale test.",
        "steps": ["Write it", "Test it"],
        "priority": rng.randrange(5),
        "dependencies": sorted(deps[i]),
    }
    out.write(json.dumps(item))
    out.write(",\n" if i + 1 < n else "\n")
out.write("]\n")
