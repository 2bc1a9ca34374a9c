"""Markdown table of a pytest-benchmark JSON: ours vs peer per group, MB/s and speed-up."""

from __future__ import annotations

import json
import sys
from collections import defaultdict


def main(path: str) -> None:
    with open(path) as fh:
        data = json.load(fh)
    groups: dict[str, list[tuple[str, float, float]]] = defaultdict(list)
    for bench in data["benchmarks"]:
        info = bench.get("extra_info", {})
        mean = bench["stats"]["mean"]
        mbps = info.get("bytes", 0) / mean / 1e6 if mean else 0.0
        groups[bench["group"] or bench["name"]].append((info.get("impl", bench["name"]), mean, mbps))
    print("| benchmark | implementation | mean | MB/s | speed-up vs peer |")
    print("|---|---|---:|---:|---:|")
    for group in sorted(groups):
        rows = groups[group]
        ours = [r for r in rows if r[0].startswith("ours")]
        peers = [r for r in rows if not r[0].startswith("ours")]
        for impl, mean, mbps in ours + peers:
            # each of our rows gets the speed-up over the (first) peer of its group
            ratio = "%.1fx" % (peers[0][1] / mean) if peers and impl.startswith("ours") and mean else ""
            unit = "%.3f ms" % (mean * 1e3) if mean >= 1e-3 else "%.2f us" % (mean * 1e6)
            print("| %s | %s | %s | %.2f | %s |" % (group, impl, unit, mbps, ratio))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".bench/results.json")
