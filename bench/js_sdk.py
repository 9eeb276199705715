"""The TypeScript SDK (clients/js) against the Python engine, measured in the same run (docs/clients.md).

1. ``engine``: decisions per second (one ``decide_each`` over a segment's candidates for one device) of the
   SDK's ``decideEachNow`` on Node over the Python domain's ``decide_each``, on the same segment of 24 upgrade
   candidates (client-version ranges, city / model / network / OS-version rules, rollouts; no whitelists, so
   neither side does I/O) and the same 2,000 devices. Devices are parsed and candidates compiled outside the
   timed loop on both sides; both must choose the same candidate for every device (checked first). Medians
   of 5 rounds. Goal: >= 3x.
2. ``size``: the SDK's ESM entry bundled with its crypto (@noble/curves ed25519, @noble/hashes sha256) by
   esbuild (pinned devDependency), minified, then gzip -9. Goal: <= 30 KB.

Needs ``make test-js`` first (node_modules and dist). Exit status 1 if a goal is missed.

    python bench/js_sdk.py
"""

from __future__ import annotations

import gzip
import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

from chalicelib.domain.delivery import Candidate, decide_each
from chalicelib.domain.targeting import Device, parse_target

JS = Path(__file__).resolve().parents[1] / "clients" / "js"
NOW = 1_800_000_000
ROUNDS, SECONDS = 5, 1.0


def segment(rng: random.Random) -> list[Candidate]:
    candidates = []
    for n in range(24):
        rules = []
        if rng.random() < 0.6:
            rules.append({"type": "city", "operation": rng.choice([1, 2]), "values": rng.sample(CITIES, 3)})
        if rng.random() < 0.4:
            rules.append({"type": "model", "operation": 2, "values": ["VIVO X5M", "MI 9"]})
        if rng.random() < 0.4:
            rules.append({"type": "network", "operation": 1, "values": ["Wi-Fi", "5G"]})
        if rng.random() < 0.4:
            rules.append({"type": "osVersion", "operation": rng.choice([3, 4]), "values": ["8.0-12.0"]})
        target = {"platform": "android", "clientVersions": [{"min": f"4.{rng.randint(0, 5)}", "max": "5.9"}],
                  "rules": rules}  # fmt: skip
        if rng.random() < 0.5:
            target["rollout"] = {"percent": rng.choice([5, 20, 50]), "salt": f"task-{n}"}
        candidates.append(
            Candidate(f"upgrade-task-{n}", parse_target(target).compile(), {"resultStatus": 204})
        )
    return candidates


CITIES = ["Shanghai", "Beijing", "Hangzhou", "Shenzhen", "Chengdu"]


def devices(rng: random.Random) -> list[dict]:
    return [
        {"platform": "android", "userId": f"user-{n}", "clientVersion": f"4.{rng.randint(0, 9)}.{rng.randint(0, 3)}",
         "city": rng.choice(CITIES), "model": rng.choice(["Pixel 8", "MI 9", "VIVO X5M"]),
         "netType": rng.choice(["WIFI", "4G", "5G"]), "osVersion": rng.choice(["7.1", "9", "11", "13"])}
        for n in range(2000)
    ]  # fmt: skip


def python_rate(candidates: list[Candidate], parsed: list[Device]) -> float:
    rates = []
    for _ in range(ROUNDS):
        decisions, start = 0, time.perf_counter()
        while time.perf_counter() - start < SECONDS:
            for device in parsed:
                decide_each(candidates, device, None, now=NOW)
            decisions += len(parsed)
        rates.append(decisions / (time.perf_counter() - start))
    return statistics.median(rates)


def bundle_size() -> int:
    bundled = subprocess.run(
        [str(JS / "node_modules" / ".bin" / "esbuild"), str(JS / "dist" / "esm" / "index.js"), "--bundle",
         "--minify", "--format=esm", "--platform=neutral", "--log-level=error"],
        check=True, capture_output=True,
    ).stdout  # fmt: skip
    return len(gzip.compress(bundled, compresslevel=9))


def main() -> int:
    rng = random.Random(14)
    candidates, contexts = segment(rng), devices(rng)
    parsed = [Device.from_context(c) for c in contexts]
    expected = [(decide_each(candidates, d, None, now=NOW).get("") or None) for d in parsed]
    request = {"candidates": [c.to_json() for c in candidates], "devices": contexts, "now": NOW,
               "seconds": SECONDS, "rounds": ROUNDS}  # fmt: skip
    node = subprocess.run(["node", str(JS / "scripts" / "bench-engine.mjs")], input=json.dumps(request),
                          capture_output=True, text=True, check=True)  # fmt: skip
    js = json.loads(node.stdout)
    disagreements = sum(a != (b.id if b else None) for a, b in zip(js["chosen"], expected, strict=True))
    python = python_rate(candidates, parsed)
    ratio = js["decisionsPerSecond"] / python
    size = bundle_size()
    print(json.dumps({"figure": "engine", "js_decisions_per_s": round(js["decisionsPerSecond"]),
                      "python_decisions_per_s": round(python), "ratio": round(ratio, 2),
                      "disagreements": disagreements, "goal": ">= 3"}))  # fmt: skip
    print(json.dumps({"figure": "size", "min_gz_bytes": size, "goal": "<= 30 KB"}))
    kb = round(size / 1024)
    print(f"js-sdk: engine {ratio:.1f}x python, {kb} KB min+gz")
    return 0 if ratio >= 3 and size <= 30 * 1024 and disagreements == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
