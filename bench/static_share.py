"""Share of checks that reach the dynamic API, requests and bytes per check round, and what that costs,
for a simulated fleet checking all four products from one index per platform.

100,000 devices (mixed platforms, client versions, cities, networks; 5 % on a whitelist) run 10 check
rounds against a release set over all four products, published for real (moto S3, signed files):
- upgrade: an official release for every client below 5.0, a whitelist gray and a rule gray (Shanghai
  on Wi-Fi) of 5.1, and a **time window** of 5.1 (first 2 % of the fleet: 2,000 users) for 3.0.x;
- H5: two apps, each with an official version; one has a whitelist gray, the other a **time window**
  (first 1 %: 1,000 users) for 4.8.x clients;
- config: eight keys (one at 20 % rollout, one for Shanghai only);
- hotpatch: an official patch for 4.8.1 and a whitelist gray patch for 5.0.0.
Each device runs the reference client's algorithm (mds.device.client, protocol 2) on the published
files: one conditional index request per round (200 when the index changed, else 304), a product's
segment only when its section changed and the segment is not cached, a whitelist shard only when a
candidate needs it, and the dynamic API only for an open time-window entry it holds no grant for. The
API's claims, grants and window closing are the real ones (``services.checks``; a claim that fills a
window re-publishes, and the entry is then ``closed``). A sample of devices also goes through the real
``DeviceClient`` before and after, and must give the API's answers.

Targets: <= 0.1 % of product checks reach the API; 1.0 conditional request per round; >= 10x cheaper
than every check dynamic (prices: docs/cost.md).

    python bench/static_share.py [--devices 100000] [--rounds 10] [--sample 200]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moto_env import moto_stack

HEADERS_304 = 220  # bytes of a typical CloudFront 304 response's status line and headers
HEADERS_200 = 420
API_HEADERS = 600  # request line and headers of a POST to the dynamic API, and the answer's headers
PRODUCTS = ("upgrade", "h5", "config", "hotpatch")
CITIES = ["Shanghai", "Beijing", "Shenzhen", "Guangzhou", "Hangzhou", "Chengdu", "Wuhan", "Xian"]

# us-east-1 list prices, as in docs/cost.md
CDN_PER_M_REQUESTS = 1.00
CDN_PER_GB = 0.085
API_GATEWAY_PER_M = 3.50
LAMBDA_PER_M = 0.20 + 0.0125 * 16.6667  # 512 MB x 25 ms
DYNAMO_READ_PER_M, DYNAMO_WRITE_PER_M = 0.125, 0.625
API_OUT_PER_GB = 0.09
# a dynamic check here: publish-state read + rate-limit read and write + a claim transaction (2 writes)
OUR_DYNAMIC_CHECK_PER_M = API_GATEWAY_PER_M + LAMBDA_PER_M + 2 * DYNAMO_READ_PER_M + 3 * DYNAMO_WRITE_PER_M
# every check dynamic: 3 reads (tasks, whitelist membership, rules) + a rate-limit write, ~600 B out
ALL_DYNAMIC_CHECK_PER_M = (
    API_GATEWAY_PER_M
    + LAMBDA_PER_M
    + 3 * DYNAMO_READ_PER_M
    + DYNAMO_WRITE_PER_M
    + 600 * API_OUT_PER_GB / 1000
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument(
        "--sample", type=int, default=200, help="devices also run through the real DeviceClient"
    )
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    # (moto_stack publishes inline: a claim that fills a window has it closed before it answers)
    with moto_stack(tmp):
        return run(args, tmp)


@dataclass
class Phone:
    """What one simulated device keeps between rounds (the reference client's state)."""

    sequence: int = 0
    digests: dict[str, str] = field(default_factory=dict)
    files: set[str] = field(default_factory=set)  # segments and shards it has
    grants: set[str] = field(default_factory=set)  # candidate ids it holds a verified grant for
    asked: set[tuple[str, str, str]] = field(default_factory=set)  # (product, section digest, entry)

    def holds(self, candidate: Any) -> bool:
        """The client's claim: a grant it holds; a closed entry without one is skipped; else ask."""
        from chalicelib.domain.delivery import NeedsServer

        if candidate.id in self.grants:
            return True
        if candidate.closed:
            return False
        raise NeedsServer(candidate)


class Shards:
    """Whitelist membership for one phone's round, counting the shards it downloads."""

    def __init__(self, index: dict[str, Any], phone: Phone, fetch: Any, memberships: Any) -> None:
        self.index, self.phone, self.fetch, self.memberships = index, phone, fetch, memberships
        self.requests = self.bytes = 0

    def contains(self, whitelist_id: str, user_id: str) -> bool:
        from chalicelib.domain.manifests import Envelope
        from chalicelib.domain.whitelists import member_hash, shard_of

        entry = self.index["whitelists"][whitelist_id]
        shard = shard_of(member_hash(entry["salt"], user_id))
        path = f"{entry['path']}{shard}.json"
        if path not in self.phone.files:
            self.phone.files.add(path)
            self.requests += 1
            self.bytes += HEADERS_200 + len(self.fetch(path))
            document = json.loads(Envelope.parse(self.fetch(path)).payload)
            self.memberships.add_shard(whitelist_id, entry["salt"], shard, document["hashes"])
        return self.memberships.contains(whitelist_id, user_id)


def releases(platform: str, whitelist_id: str, window_end: int) -> dict[str, list[Any]]:
    from chalicelib.domain.delivery import Candidate
    from chalicelib.domain.targeting import compile_target, parse_target

    def target(**body):
        return compile_target(parse_target({"platform": platform, **body}))

    below = [{"max": "5.1.0", "maxInclusive": False}]
    app = {"newestVersion": "5.1.0", "downloadURL": f"https://cdn.example.com/app-5.1.0.{platform}",
           "guideMemo": "A faster app, with the new feed", "upgradeFullVersion": "5.1.0.1200"}  # fmt: skip
    upgrade = [  # priority order: 5.1 (whitelist gray, rule gray, time window), then the 5.0 official
        Candidate(
            "up-wl", target(clientVersions=below, whitelistIds=[whitelist_id]), {**app, "resultStatus": 206}
        ),
        Candidate(
            "up-rule",
            target(
                clientVersions=below,
                rules=[
                    {"type": "city", "operation": 1, "values": ["Shanghai"]},
                    {"type": "network", "operation": 1, "values": ["Wi-Fi"]},
                ],
            ),
            {**app, "resultStatus": 204},
        ),  # fmt: skip
        Candidate(
            "up-window",
            target(clientVersions=["3.0-3.0.99"]),
            {**app, "resultStatus": 202},
            dynamic=True,
            not_after=window_end,
        ),  # fmt: skip
        Candidate(
            "up-official",
            target(clientVersions=[{"max": "5.0.0", "maxInclusive": False}]),
            {**app, "newestVersion": "5.0.0", "resultStatus": 202},
        ),  # fmt: skip
    ]

    def h5(app_id: str, version: str) -> dict[str, Any]:
        return {"h5Id": app_id, "version": version, "url": f"https://cdn.example.com/h5/{app_id}/{version}.amr",
                "size": 482113, "sha256": "ab" * 32, "vhost": "h5app.com", "mainUrl": "/www/index.html"}  # fmt: skip

    h5_releases = [
        Candidate(
            "h5-home-gray", target(whitelistIds=[whitelist_id]), h5("10000001", "1.0.0.2"), subject="10000001"
        ),
        Candidate("h5-home", target(), h5("10000001", "1.0.0.1"), subject="10000001"),
        Candidate(
            "h5-pay-window",
            target(clientVersions=["4.8-4.8.99"]),
            h5("10000002", "2.1.0.0"),
            subject="10000002",
            dynamic=True,
            not_after=window_end,
        ),  # fmt: skip
        Candidate("h5-pay", target(), h5("10000002", "2.0.0.0"), subject="10000002"),
    ]
    config = [
        Candidate(
            f"cfg-{n}",
            target(),
            {"key": f"feature_{n}", "value": "true", "type": "boolean"},
            subject=f"feature_{n}",
        )
        for n in range(6)
    ] + [
        Candidate(
            "cfg-feed",
            target(rollout={"percent": 20, "salt": "feed"}),
            {"key": "feed_v2", "value": "true"},
            subject="feed_v2",
        ),  # fmt: skip
        Candidate(
            "cfg-city",
            target(rules=[{"type": "city", "operation": 1, "values": ["Shanghai"]}]),
            {"key": "banner", "value": "sh-2026"},
            subject="banner",
        ),  # fmt: skip
    ]
    patch = {
        "patchId": "P2",
        "url": "https://cdn.example.com/patch/P2.bin",
        "sha256": "cd" * 32,
        "size": 20411,
    }
    hotpatch = [
        Candidate(
            "hp-gray",
            target(clientVersions=[{"min": "5.0.0", "max": "5.0.0"}], whitelistIds=[whitelist_id]),
            {**patch, "patchId": "P3"},
        ),
        Candidate("hp-official", target(clientVersions=[{"min": "4.8.1", "max": "4.8.1"}]), patch),
    ]
    return {"upgrade": upgrade, "h5": h5_releases, "config": config, "hotpatch": hotpatch}


def run(args, tmp: Path) -> int:
    from chalice.test import Client

    from app import app
    from chalicelib.domain.access import Principal, PrincipalKind, Role
    from chalicelib.domain.delivery import NeedsServer, decide_each
    from chalicelib.domain.grants import Grant
    from chalicelib.domain.manifests import Envelope, find_segment
    from chalicelib.domain.targeting import Device, Platform
    from chalicelib.domain.tenancy import TenantId
    from chalicelib.domain.whitelists import ShardedMembership
    from chalicelib.manifests.publisher import index_path
    from chalicelib.services import checks, publishing, signing_keys, whitelists
    from chalicelib.services.context import Call
    from chalicelib.store import delivery as store
    from mds.device.client import DeviceClient
    from tests.delivery_harness import BucketCdn, ChaliceApi
    from tests.fake_product import FakeProduct

    rng = random.Random(2026)
    tenant = TenantId("BENCH_APP", "prod")
    call = Call(Principal(PrincipalKind.USER, "bench", roles={tenant: Role.ADMIN}), request_id="bench")
    fleet = []
    for n in range(args.devices):
        version = rng.choices(["3.0.2", "4.2.0", "4.8.1", "5.0.0", "5.1.0"], weights=[4, 20, 36, 25, 15])[0]
        fleet.append({
            "platform": "android" if rng.random() < 0.6 else "ios", "userId": f"user-{n:07d}",
            "deviceId": f"dev-{n:07d}", "clientVersion": version, "city": rng.choice(CITIES),
            "netType": rng.choice(["WIFI", "WIFI", "4G", "5G"]), "osVersion": rng.choice(["10", "11", "12", "13"]),
        })  # fmt: skip
    listed = [d["userId"] for d in fleet if rng.random() < 0.05]
    wid = whitelists.create(call, tenant, name="beta", kind="normal")["whitelistId"]
    whitelists.add_members(call, tenant, wid, "\n".join(listed[:20000]))

    fakes = {name: FakeProduct() for name in PRODUCTS}
    for name, fake in fakes.items():
        fake.install(name)  # the four products, with the releases above instead of DynamoDB records
    window_end = int(time.time()) + 86400
    for platform in ("android", "ios"):
        for name, found in releases(platform, wid, window_end).items():
            fakes[name].releases[(tenant.key, platform)] = found
    fakes["upgrade"].quotas["up-window"] = args.devices // 50  # 2,000 of 100,000: half the 3.0.x clients
    fakes["h5"].quotas["h5-pay-window"] = args.devices // 100  # 1,000 of the 36,000 on 4.8.x
    for platform in (Platform.ANDROID, Platform.IOS):
        publishing.publish(tenant, platform)
    keys = signing_keys.public_keys(tenant)
    context_of = {"appId": tenant.app_id, "workspaceId": tenant.workspace_id}

    worst: list[str] = []  # the requests of the sample's busiest round (the unchanged run's is reported)

    def real_clients(sample: list[dict[str, Any]], api: Any) -> tuple[int, int, list[int]]:
        """(agreeing product answers, API calls, requests per round) of the sample's real clients."""
        agree = calls = 0
        per_round: list[int] = []
        for context in sample:
            phone = DeviceClient(
                "http://cdn", "http://api", app_id=tenant.app_id, workspace_id=tenant.workspace_id,
                public_keys=keys, state_dir=tmp / "phones" / context["deviceId"], transport=BucketCdn(),
                api_transport=ChaliceApi(api),
            )  # fmt: skip
            round_ = phone.check_round(Device.from_context(context))
            per_round.append(len(round_.requests))
            if len(round_.requests) > len(worst):
                worst[:] = round_.requests
            calls += sum(r.startswith("POST ") for r in round_.requests)
            for product, decision in round_.decisions.items():
                agree += decision.answer == checks.check(product, {**context_of, **context})
        return agree, calls, per_round

    with Client(app) as api:
        sample = rng.sample(fleet, min(args.sample, len(fleet)))
        agree_before, _, _ = real_clients(sample, api)  # first rounds, windows open: they claim

        published: dict[str, tuple[int, dict[str, Any], int]] = {}

        def current(platform: str, *, reread: bool = False) -> tuple[int, dict[str, Any], int]:
            """The live index; only an API claim (which may close a window) can change it here."""
            if platform in published and not reread:
                return published[platform]
            sequence = store.get_state(tenant, platform).sequence
            if platform not in published or published[platform][0] != sequence:
                raw = store.get_file(index_path(tenant, platform))
                published[platform] = (sequence, json.loads(Envelope.parse(raw).payload), len(raw))
            return published[platform]

        files: dict[str, bytes] = {}
        parsed: dict[str, list[Any]] = {}
        memberships = ShardedMembership()

        def fetch(path: str) -> bytes:
            if path not in files:
                files[path] = store.get_file(path)
            return files[path]

        def segment(path: str) -> list[Any]:
            from chalicelib.domain.delivery import Candidate

            if path not in parsed:
                parsed[path] = [
                    Candidate.from_json(c)
                    for c in json.loads(Envelope.parse(fetch(path)).payload)["candidates"]
                ]
            return parsed[path]

        phones = [Phone() for _ in fleet]
        round_bytes: list[int] = []
        conditional = requests = api_calls = product_checks = index_changes = 0
        started = time.perf_counter()
        for _round in range(args.rounds):
            for context, phone in zip(fleet, phones, strict=True):
                platform = context["platform"]
                sequence, index, index_size = current(platform)
                conditional += 1
                requests += 1
                product_checks += len(PRODUCTS)
                if phone.sequence == sequence:
                    round_bytes.append(HEADERS_304)  # nothing changed: decisions stand, nothing else to ask
                    continue
                phone.sequence = sequence
                spent = HEADERS_200 + index_size
                device = Device.from_context(context)

                shards = Shards(index, phone, fetch, memberships)
                for product in PRODUCTS:
                    section = index["products"][product]
                    if phone.digests.get(product) == section["digest"]:
                        continue  # this product did not change: its decision stands
                    phone.digests[product] = section["digest"]
                    entry = find_segment(section, device.client_version)
                    if entry["path"] not in phone.files:
                        phone.files.add(entry["path"])
                        requests += 1
                        spent += HEADERS_200 + len(fetch(entry["path"]))

                    try:
                        decide_each(
                            segment(entry["path"]), device, shards, now=int(time.time()), claim=phone.holds
                        )
                    except NeedsServer as needs:
                        asked = (product, section["digest"], needs.candidate.id)
                        if asked in phone.asked:
                            continue  # the API's answer for this section holds
                        phone.asked.add(asked)
                        answer, grants = checks.check_with_grants(product, {**context_of, **context})
                        api_calls += 1
                        requests += 1
                        spent += API_HEADERS + len(json.dumps(answer)) + len(json.dumps(grants))
                        for grant in grants:  # the real client verifies them (the sample below does)
                            document = Grant.from_document(
                                json.loads(Envelope.parse(json.dumps(grant).encode()).payload)
                            )
                            phone.grants.add(document.candidate_id)
                        if current(platform, reread=True)[0] != sequence:
                            index_changes += 1  # the claim filled the window: it is closed now
                spent += shards.bytes
                requests += shards.requests
                round_bytes.append(spent)
        simulated_s = time.perf_counter() - started
        agree_after, calls_after, _ = real_clients(sample, api)  # grants kept: no API call
        worst.clear()
        _, calls_unchanged, per_round_unchanged = real_clients(sample, api)  # nothing changed: one 304

    rounds = args.devices * args.rounds
    share = 1 - api_calls / product_checks
    mean_bytes = statistics.mean(round_bytes)
    static_cost = (
        requests / rounds * CDN_PER_M_REQUESTS
        + mean_bytes * 1e6 / 1e9 * CDN_PER_GB
        + api_calls / rounds * OUR_DYNAMIC_CHECK_PER_M
    )
    dynamic_cost = len(PRODUCTS) * ALL_DYNAMIC_CHECK_PER_M
    ratio = dynamic_cost / static_cost
    result = {
        "benchmark": "static_share", "devices": args.devices, "rounds": args.rounds, "products": len(PRODUCTS),
        "product_checks": product_checks, "api_calls": api_calls, "api_share_pct": round(100 * (1 - share), 4),
        "target_api_share_pct": 0.1, "index_republished_by_claims": index_changes,
        "conditional_requests_per_round": round(conditional / rounds, 3),
        "requests_per_round": round(requests / rounds, 3), "requests_per_round_per_product_indexes": len(PRODUCTS),
        "median_bytes_per_round": statistics.median(round_bytes),
        "p99_bytes_per_round": sorted(round_bytes)[int(0.99 * len(round_bytes))],
        "mean_bytes_per_round": round(mean_bytes),
        "cost_per_m_rounds_static_usd": round(static_cost, 3), "cost_per_m_rounds_all_dynamic_usd": round(dynamic_cost, 2),
        "cost_ratio": round(ratio, 1), "target_cost_ratio": 10,
        "sample_agreeing_with_api": f"{agree_before + agree_after}/{2 * len(sample) * len(PRODUCTS)}",
        "sample_api_calls_with_grants_kept": calls_after,
        "sample_requests_per_unchanged_round": max(per_round_unchanged, default=0),
        "sample_busiest_unchanged_round": worst, "simulation_s": round(simulated_s, 1),
    }  # fmt: skip
    result["met"] = (
        1 - share <= 0.001
        and ratio >= 10
        and result["sample_agreeing_with_api"].split("/")[0]
        == result["sample_agreeing_with_api"].split("/")[1]
        and calls_after == calls_unchanged == 0
        and result["sample_requests_per_unchanged_round"] == 1
    )
    print(json.dumps(result))
    print(
        f"static-share: {100 * share:.2f}% static, {conditional / rounds:.2f} requests per round, {ratio:.1f}x cheaper"
    )
    return 0 if result["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
