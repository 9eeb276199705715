"""Switch configuration delivery: what a device fetches and how fast it evaluates every key
(docs/config.md, "Performance").

1,000 keys, 20% of them targeted (city in a list AND OS version >= 10, at a 20% rollout with the key's
own salt), the rest plain default values. Printed:

- ``manifest_bytes``: the signed segment (Ed25519 envelope, base64url payload) a device downloads, plus
  its gzip size, and the index beside it;
- ``ours_ms_per_device``: the client evaluating **every key** for one device — ``decide_each`` over the
  segment's candidates (already parsed, as a running app holds them) and building the answer;
  ``ours_parse_ms``: parsing the segment into candidates, done once per download (for information);
- ``growthbook_ms_per_device``: the GrowthBook Python SDK (4.0.0) evaluating the same 1,000 features
  (same conditions: ``$in`` on a lower-cased city, ``$vgte`` on the OS version, ``coverage: 0.2``) for
  the same device, by the faster of its public API and its core evaluator on a prebuilt context (as in
  bench/targeting.py);
- ``ratio``: GrowthBook time / ours. Target: >= 5.
- for information, ``ratio_unbundled``: ours with every plain key as its own candidate (no bundling of
  the keys that have nothing to decide; docs/config.md, "Delivery") — the engine alone, key by key.

Before timing, both engines must give the same value for every key on every device at 100% coverage
(their hash functions differ, so the 20% cohorts differ). Rounds alternate between the engines; medians
are compared. Exit status 1 if the target is missed.

    python bench/config_delivery.py [--devices 200] [--rounds 5]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import statistics
import time

from growthbook import GrowthBook
from growthbook.core import eval_feature as growthbook_core_eval

from chalicelib.domain.config import answer, candidates, manifest_candidates, parse_item
from chalicelib.domain.delivery import Candidate, decide_each
from chalicelib.domain.manifests import canonical_json, sha256_hex, split_segments
from chalicelib.domain.targeting import Device, Platform
from chalicelib.security import signing

TARGET = 5.0
KEYS = 1000
TARGETED_SHARE = 0.2
CITIES = ["Shanghai", "Beijing", "Tianjin", "Hangzhou", "Shenzhen", "Guangzhou", "Chengdu", "Wuhan"]
OS_VERSIONS = ["8.1", "9", "10", "11", "12.1", "13", "14.0.2"]


def make_items(percent: int, rng: random.Random) -> list[dict]:
    items = []
    for n in range(KEYS):
        kind = n % 4
        value_type, default, special = [
            ("boolean", False, True),
            ("number", n, n + 1000),
            ("string", f"value-{n}", f"special-{n}"),
            ("json", {"n": n, "tags": ["a", "b"]}, {"n": n, "tags": ["vip"]}),
        ][kind]
        item: dict = {"key": f"key_{n:04d}", "type": value_type, "value": default}
        if rng.random() < TARGETED_SHARE:
            cities = rng.sample(CITIES, 3)
            item["targetedValues"] = [
                {
                    "value": special,
                    "platform": "android",
                    "rules": [
                        {"type": "city", "operation": 1, "values": cities},
                        {"type": "osVersion", "operation": 3, "ranges": [{"min": "10"}]},
                    ],
                    "rollout": {"percent": percent},
                }
            ]
        items.append(item)
    return items


def growthbook_features(items: list[dict], coverage: float) -> dict:
    features = {}
    for item in items:
        rules = []
        for targeted in item.get("targetedValues", []):
            condition = {
                "platform": "android",
                "city": {"$in": [c.lower() for c in targeted["rules"][0]["values"]]},
                "osVersion": {"$vgte": "10"},
            }
            rules.append(
                {
                    "condition": condition,
                    "force": targeted["value"],
                    "coverage": coverage,
                    "hashAttribute": "id",
                }
            )
        features[item["key"]] = {"defaultValue": item["value"], "rules": rules}
    return features


def make_devices(count: int, rng: random.Random) -> list[dict[str, str]]:
    return [
        {
            "platform": "android",
            "userId": f"user-{n}",
            "city": rng.choice(CITIES),
            "osVersion": rng.choice(OS_VERSIONS),
        }
        for n in range(count)
    ]


def ours_candidates(items: list[dict]) -> list[Candidate]:
    return manifest_candidates([parse_item(raw) for raw in items], Platform.ANDROID)


def ours_values(found: list[Candidate], device: Device) -> dict:
    return answer(decide_each(found, device, None, now=0), device)["configs"]


def check_agreement(rng_seed: int, devices: list[dict[str, str]]) -> int:
    items = make_items(100, random.Random(rng_seed))
    found = ours_candidates(items)
    gb = GrowthBook(features=growthbook_features(items, 1.0))
    typed = {i["key"]: i["type"] for i in items}
    disagree = 0
    for context in devices:
        ours = ours_values(found, Device.from_context(context))
        gb.set_attributes(_attributes(context))
        for key, entry in ours.items():
            theirs = gb.eval_feature(key).value
            text = (
                json.dumps(theirs, sort_keys=True, separators=(",", ":")) if typed[key] == "json" else theirs
            )
            if typed[key] == "boolean":
                text = "true" if theirs else "false"
            elif typed[key] == "number":
                text = str(theirs)
            disagree += entry["value"] != text
    return disagree


def _attributes(context: dict[str, str]) -> dict[str, str]:
    return {
        "id": context["userId"],
        "platform": context["platform"],
        "city": context["city"].lower(),
        "osVersion": context["osVersion"],
    }


def manifest_sizes(found: list[Candidate]) -> dict[str, int]:
    keys = signing.generate()
    _, segments = split_segments(found)
    document = segments[0].document()
    body = signing.sign(keys.private_raw, keys.key_id, canonical_json(document)).to_bytes()
    index = {
        "schema": 1, "appId": "BENCH", "workspaceId": "default", "product": "config", "platform": "android",
        "cuts": [], "segments": [{"path": "m/x/seg/k/" + sha256_hex(body) + ".json", "sha256": sha256_hex(body)}],
        "unversioned": {"path": "m/x/seg/k/" + sha256_hex(body) + ".json", "sha256": sha256_hex(body)},
        "whitelists": {}, "notAfter": None, "sequence": 1, "publishedAt": "2026-01-01T00:00:00.000000+00:00",
    }  # fmt: skip
    index_body = signing.sign(keys.private_raw, keys.key_id, canonical_json(index)).to_bytes()
    return {
        "segment_bytes": len(body),
        "segment_gzip_bytes": len(gzip.compress(body)),
        "index_bytes": len(index_body),
        "candidates": len(document["candidates"]),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    contexts = make_devices(args.devices, random.Random(7))
    disagree = check_agreement(42, contexts)
    if disagree:
        raise SystemExit(f"engines disagree on {disagree} values: the comparison would be unfair")

    items = make_items(20, random.Random(42))
    found = ours_candidates(items)
    sizes = manifest_sizes(found)
    segment_json = json.dumps([c.to_json() for c in found])
    devices = [Device.from_context(c) for c in contexts]
    attributes = [_attributes(c) for c in contexts]
    gb = GrowthBook(features=growthbook_features(items, 0.2))
    keys = [i["key"] for i in items]
    ctx = gb._get_eval_context()  # the core path: one prebuilt context, attributes swapped per device

    def run_ours() -> int:
        return sum(len(ours_values(found, d)) for d in devices)

    # For information: every key as its own candidates (no bundling of the plain keys), the same rule.
    unbundled = [c for raw in items for c in candidates(parse_item(raw), Platform.ANDROID)]

    def run_ours_unbundled() -> int:
        return sum(len(ours_values(unbundled, d)) for d in devices)

    def run_gb_public() -> int:
        total = 0
        for attrs in attributes:
            gb.set_attributes(attrs)
            total += sum(gb.eval_feature(k).value is not None for k in keys)
        return total

    def run_gb_core() -> int:
        total = 0
        user, stack = ctx.user, ctx.stack
        for attrs in attributes:
            user.attributes = attrs
            for k in keys:
                stack.evaluated_features = set()
                total += growthbook_core_eval(k, ctx).value is not None
        return total

    def run_parse() -> int:
        return len([Candidate.from_json(c) for c in json.loads(segment_json)])

    runs = {
        "ours": run_ours,
        "ours_unbundled": run_ours_unbundled,
        "gb_public": run_gb_public,
        "gb_core": run_gb_core,
        "parse": run_parse,
    }
    for run in runs.values():
        run()  # warm-up
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.rounds):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    median = {name: statistics.median(values) for name, values in times.items()}
    ours_ms = median["ours"] / len(devices) * 1000
    gb_ms = min(median["gb_public"], median["gb_core"]) / len(devices) * 1000
    ratio = gb_ms / ours_ms
    result = {
        "benchmark": "config_delivery",
        "keys": KEYS,
        "targeted_keys": sum(1 for i in items if i.get("targetedValues")),
        "devices": len(devices),
        "rounds": args.rounds,
        "manifest_segment_bytes": sizes["segment_bytes"],
        "manifest_segment_gzip_bytes": sizes["segment_gzip_bytes"],
        "manifest_index_bytes": sizes["index_bytes"],
        "candidates": sizes["candidates"],
        "ours_ms_per_device": round(ours_ms, 3),
        "ours_parse_ms": round(median["parse"] * 1000, 2),
        "growthbook_ms_per_device": round(gb_ms, 3),
        "growthbook_public_ms_per_device": round(median["gb_public"] / len(devices) * 1000, 3),
        "growthbook_core_ms_per_device": round(median["gb_core"] / len(devices) * 1000, 3),
        "ratio": round(ratio, 2),
        "ours_unbundled_ms_per_device": round(median["ours_unbundled"] / len(devices) * 1000, 3),
        "ratio_unbundled": round(gb_ms / (median["ours_unbundled"] / len(devices) * 1000), 2),
        "target": TARGET,
        "met": ratio >= TARGET,
    }
    print(json.dumps(result))
    return 0 if result["met"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
