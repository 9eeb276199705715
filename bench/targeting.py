"""Rule engine speed, as ratios measured in the same run (docs/targeting.md, "Performance").

1. ``targeting_vs_growthbook``: evaluations per second of our compiled target against the GrowthBook
   Python SDK evaluating the equivalent feature — platform == android, client version >= 10.0, city in
   (Shanghai, Beijing, Tianjin), 10% rollout. Target: ours >= 5x GrowthBook.
2. ``whitelist_size``: time to evaluate a target that references a 500,000-ID whitelist over the time with
   a 10-ID whitelist. Target: <= 1.3.

Fairness (both sides get the same devices and the same amount of preparation outside the timed loop):

- Ours: ``compile_target`` once; ``Device`` objects built once (a server builds one per request and
  evaluates it against every candidate); the loop is ``compiled.matches(device)``.
- GrowthBook: one ``GrowthBook(features=...)`` instance; attribute dicts built once, with the city
  already lower-cased so its fastest operator, case-sensitive ``$in``, is equivalent to our
  case-insensitive match; ``$vgte`` for the version; a force rule with ``coverage: 0.1``. Two ways of
  calling it are timed, and the ratio uses the faster:
  * ``public``: ``gb.set_attributes(attrs); gb.eval_feature(key)`` — the documented API;
  * ``core``: ``growthbook.core.eval_feature(key, ctx)`` on one prebuilt ``EvaluationContext`` whose
    ``user.attributes`` is swapped per device — what the SDK does internally minus its per-call
    context construction (a private shortcut; it is faster, so the comparison is stricter).
- Both engines must agree on every device when the rollout is 100% (checked before timing), so they
  really evaluate the same conditions. Their hash functions differ, so the 10% cohorts differ.
- Rounds alternate between the engines so machine noise hits both alike; medians are compared.

Also printed, for information: ``ratio_all_eligible`` (only devices that pass every condition, so
every evaluation hashes: no early exits) and ours including ``Device.from_context`` in the loop (the
per-request parse of the device context, which GrowthBook skips because it takes raw dicts).

The whitelist figure evaluates membership through the published form, salted-hash shards
(``domain.whitelists.ShardedMembership``), which is what devices and the dynamic API use. It also prints
the membership lookup alone (``*_lookup_ns``) and the ratio without it.

Exit status 1 if a target is missed.

    python bench/targeting.py [--devices 20000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections.abc import Callable

from growthbook import GrowthBook
from growthbook.core import eval_feature as growthbook_core_eval

from chalicelib.domain.targeting import Device, compile_target, parse_target
from chalicelib.domain.whitelists import ShardedMembership, published_shards

GROWTHBOOK_TARGET = 5.0
WHITELIST_TARGET = 1.3
CITIES = ["Shanghai", "Beijing", "Tianjin", "Hangzhou", "Shenzhen", "Guangzhou", "Chengdu", "Wuhan"]
TARGETED_CITIES = ["Shanghai", "Beijing", "Tianjin"]
FEATURE = "feed_v2"


def make_contexts(count: int, rng: random.Random) -> list[dict[str, str]]:
    return [
        {
            "userId": f"user-{rng.randrange(10**9):09d}",
            "platform": rng.choice(["android", "ios"]),
            "clientVersion": f"{rng.randint(8, 12)}.{rng.randint(0, 5)}.{rng.randint(0, 40)}",
            "city": rng.choice(CITIES) if rng.random() < 0.5 else rng.choice(CITIES).upper(),
        }
        for _ in range(count)
    ]


def ours_target(percent: int):
    return compile_target(
        parse_target(
            {
                "platform": "android",
                "clientVersions": [{"min": "10.0"}],
                "rules": [{"type": "city", "operation": 1, "values": TARGETED_CITIES}],
                "rollout": {"percent": percent, "salt": FEATURE},
            }
        )
    )


def growthbook_for(coverage: float) -> GrowthBook:
    condition = {
        "platform": "android",
        "clientVersion": {"$vgte": "10.0"},
        "city": {"$in": [c.lower() for c in TARGETED_CITIES]},
    }
    rule = {"condition": condition, "force": True, "coverage": coverage, "hashAttribute": "id"}
    return GrowthBook(features={FEATURE: {"defaultValue": False, "rules": [rule]}})


def growthbook_attributes(ctx: dict[str, str]) -> dict[str, str]:
    return {
        "id": ctx["userId"],
        "platform": ctx["platform"],
        "clientVersion": ctx["clientVersion"],
        "city": ctx["city"].lower(),
    }


def per_second(count: int, loop: Callable[[], int]) -> tuple[float, int]:
    start = time.perf_counter()
    hits = loop()
    return count / (time.perf_counter() - start), hits


def bench_growthbook(count: int, rounds: int) -> dict[str, object]:
    contexts = make_contexts(count, random.Random(42))
    devices = [Device.from_context(c) for c in contexts]
    attributes = [growthbook_attributes(c) for c in contexts]

    # Same conditions → same answers (at 100%, where the differing hash functions do not matter).
    full_ours, full_gb = ours_target(100), growthbook_for(1.0)
    disagree = 0
    for d, attrs in zip(devices, attributes, strict=True):
        full_gb.set_attributes(attrs)
        disagree += full_ours.matches(d) != (full_gb.eval_feature(FEATURE).value is True)
    if disagree:
        raise SystemExit(f"engines disagree on {disagree} devices: the comparison would be unfair")
    eligible = sum(full_ours.matches(d) for d in devices)

    ours, gb = ours_target(10), growthbook_for(0.1)
    matches = ours.matches
    ctx = gb._get_eval_context()  # for the "core" path: built once, like our compiled target

    def run_ours() -> int:
        return sum([matches(d) for d in devices])

    def run_ours_with_parse() -> int:
        parse = Device.from_context
        return sum([matches(parse(c)) for c in contexts])

    def run_gb_public() -> int:
        hits = 0
        set_attributes, evaluate = gb.set_attributes, gb.eval_feature
        for attrs in attributes:
            set_attributes(attrs)
            hits += evaluate(FEATURE).value is True
        return hits

    def run_gb_core() -> int:
        hits = 0
        user, stack = ctx.user, ctx.stack
        for attrs in attributes:
            user.attributes = attrs
            stack.evaluated_features = set()
            hits += growthbook_core_eval(FEATURE, ctx).value is True
        return hits

    # The same engines on only the devices that pass every condition, so every evaluation also hashes:
    # the least favourable mix for us (no early exits). Repeated to get enough evaluations to time.
    repeat = max(1, count // max(eligible, 1))
    eligible_idx = [i for i, d in enumerate(devices) if full_ours.matches(d)] * repeat
    eligible_devices = [devices[i] for i in eligible_idx]
    eligible_attributes = [attributes[i] for i in eligible_idx]

    def run_ours_eligible() -> int:
        return sum([matches(d) for d in eligible_devices])

    def run_gb_core_eligible() -> int:
        hits = 0
        user, stack = ctx.user, ctx.stack
        for attrs in eligible_attributes:
            user.attributes = attrs
            stack.evaluated_features = set()
            hits += growthbook_core_eval(FEATURE, ctx).value is True
        return hits

    runs = {
        "ours": run_ours,
        "ours_with_parse": run_ours_with_parse,
        "gb_public": run_gb_public,
        "gb_core": run_gb_core,
        "ours_eligible": run_ours_eligible,
        "gb_core_eligible": run_gb_core_eligible,
    }
    sizes = {name: len(eligible_idx) if name.endswith("eligible") else count for name in runs}
    for run in runs.values():
        run()  # warm-up (GrowthBook caches padded version strings; give ours the same chance)
    rates: dict[str, list[float]] = {name: [] for name in runs}
    hits: dict[str, int] = {}
    for _ in range(rounds):
        for name, run in runs.items():
            rate, hits[name] = per_second(sizes[name], run)
            rates[name].append(rate)
    median = {name: statistics.median(values) for name, values in rates.items()}
    baseline = max(median["gb_public"], median["gb_core"])
    ratio = median["ours"] / baseline
    return {
        "benchmark": "targeting_vs_growthbook",
        "devices": count,
        "rounds": rounds,
        "eligible_before_rollout": eligible,
        "hits_ours": hits["ours"],
        "hits_growthbook": hits["gb_public"],
        "ours_per_s": round(median["ours"]),
        "growthbook_per_s": round(baseline),
        "growthbook_public_api_per_s": round(median["gb_public"]),
        "growthbook_core_per_s": round(median["gb_core"]),
        "ratio": round(ratio, 2),
        "ratio_vs_public_api": round(median["ours"] / median["gb_public"], 2),
        "ours_with_device_parse_per_s": round(median["ours_with_parse"]),
        "ratio_with_device_parse": round(median["ours_with_parse"] / baseline, 2),
        "ratio_all_eligible": round(median["ours_eligible"] / median["gb_core_eligible"], 2),
        "target": GROWTHBOOK_TARGET,
        "met": ratio >= GROWTHBOOK_TARGET,
    }


def bench_whitelist(count: int, rounds: int) -> dict[str, object]:
    rng = random.Random(7)
    listed = rng.sample(range(10**9), 500_000)
    big = {f"user-{n:09d}" for n in listed}
    member_numbers = rng.sample(listed, count // 2)
    strangers = [(rng.randrange(10**9), "x") for _ in range(count - count // 2)]  # "x": never on a list
    numbers = [(n, "") for n in member_numbers] + strangers
    rng.shuffle(numbers)
    small = {f"user-{n:09d}" for n in member_numbers[:10]}
    # The published form (salted-hash shards) is what devices hold and what the server evaluates with.
    membership = ShardedMembership()
    membership.add_list("big", "salt-big", published_shards("salt-big", sorted(big)))
    membership.add_list("small", "salt-small", published_shards("salt-small", sorted(small)))
    # A realistic whitelist gray task; every device passes platform and version, so every evaluation
    # reaches the whitelist lookup (otherwise the list size could not show at all). Half the devices are
    # on the big list. User IDs are fresh strings, as parsed from requests: never the list's own objects.
    devices = [
        Device("android", user_id=f"user-{n:09d}{suffix}", client_version="4.0", city="Shanghai")
        for n, suffix in numbers
    ]

    def target(whitelist_id: str):
        body = {"platform": "android", "clientVersions": ["4.0-4.9"], "whitelistIds": [whitelist_id]}
        return compile_target(parse_target(body))

    targets = {"big": target("big"), "small": target("small")}
    seconds: dict[str, list[float]] = {"big": [], "small": [], "big_lookup": [], "small_lookup": []}
    hits: dict[str, int] = {}
    contains = membership.contains
    for _ in range(rounds + 1):  # the first round warms up
        for name, compiled in targets.items():
            matches = compiled.matches
            start = time.perf_counter()
            hits[name] = sum([matches(d, membership) for d in devices])
            seconds[name].append(time.perf_counter() - start)
            # The membership lookups alone (the caller's set), to split the time into ours and theirs.
            start = time.perf_counter()
            sum([contains(name, d.identity) for d in devices])
            seconds[f"{name}_lookup"].append(time.perf_counter() - start)
    ns = {name: statistics.median(values[1:]) / count * 1e9 for name, values in seconds.items()}
    ratio = ns["big"] / ns["small"]
    engine_ratio = (ns["big"] - ns["big_lookup"]) / (ns["small"] - ns["small_lookup"])
    return {
        "benchmark": "whitelist_size",
        "devices": count,
        "rounds": rounds,
        "whitelist_ids": {"big": len(big), "small": len(small)},
        "hits": hits,
        "big_ns_per_eval": round(ns["big"]),
        "small_ns_per_eval": round(ns["small"]),
        "ratio": round(ratio, 3),
        "big_lookup_ns": round(ns["big_lookup"]),
        "small_lookup_ns": round(ns["small_lookup"]),
        "ratio_without_lookup": round(engine_ratio, 3),
        "target": WHITELIST_TARGET,
        "met": ratio <= WHITELIST_TARGET,
        "note": "membership through salted-hash shards (the published form): one hash per check, then a "
        "probe into a shard of ~1/256 of the list",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    results = [bench_growthbook(args.devices, args.rounds), bench_whitelist(args.devices * 5, args.rounds)]
    for result in results:
        print(json.dumps(result))
    return 0 if all(r["met"] for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
