"""Dynamic check latency (the handler, in process) as a ratio to serving the same decision statically
(the device's segment file through the CDN emulator over HTTP), p50 and p99, in the same run.

The dynamic path is what a Lambda does per check: one DynamoDB read of the publish state, the cached
verified manifests, decide(), the product answer. The static path is one HTTP GET of a published file
from the CDN emulator (which reads the bucket, like CloudFront on a cache miss — so this ratio is
conservative: a CDN edge hit is faster still).

    python bench/check_latency.py [--checks 2000]
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


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=2000)
    args = parser.parse_args()
    import boto3
    import httpx

    with moto_stack(Path(tempfile.mkdtemp())) as res:
        from chalicelib.domain.delivery import Candidate
        from chalicelib.domain.manifests import Envelope, find_segment
        from chalicelib.domain.targeting import Device, Platform, compile_target, parse_target
        from chalicelib.domain.tenancy import TenantId
        from chalicelib.manifests.publisher import index_path
        from chalicelib.services import checks, products, publishing
        from chalicelib.store import delivery as store
        from mds.local.cdn import CdnServer
        from tests import fake_product

        products.register("fake", "tests.fake_product")
        tenant = TenantId("BENCH_APP", "prod")
        target = compile_target(
            parse_target(
                {
                    "platform": "android",
                    "clientVersions": [{"max": "5.0"}],
                    "rules": [{"type": "city", "operation": 1, "values": ["Shanghai"]}],
                }
            )
        )
        fake_product.RELEASES[(tenant.key, "android")] = [
            Candidate("rule-gray", target, {"resultStatus": 206, "newestVersion": "5.0"}),
            Candidate(
                "official",
                compile_target(parse_target({"clientVersions": [{"max": "5.0"}]})),
                {"resultStatus": 202, "newestVersion": "5.0"},
            ),
        ]
        publishing.changed(tenant, "fake", (Platform.ANDROID,))
        index = json.loads(Envelope.parse(store.get_file(index_path(tenant, "android"))).payload)
        section = index["products"]["fake"]
        segment = find_segment(section, Device("android", client_version="4.0").client_version)["path"]

        cdn = CdnServer(
            boto3.client("s3", region_name="us-east-1"),
            res.buckets["DeliveryBucket"],
            host="127.0.0.1",
            port=0,
        )
        cdn.start()
        rng = random.Random(1)
        contexts = [
            {
                "appId": tenant.app_id,
                "workspaceId": tenant.workspace_id,
                "platform": "android",
                "clientVersion": "4.0",
                "userId": f"u{n}",
                "deviceId": f"d{n}",
                "city": rng.choice(["Shanghai", "Beijing"]),
            }
            for n in range(args.checks)
        ]
        dynamic, static = [], []
        with httpx.Client(base_url=cdn.url) as http:
            checks.check("fake", contexts[0])  # warm: the container has the manifests cached
            http.get("/" + segment)
            for context in contexts:  # alternate so noise hits both alike
                started = time.perf_counter()
                checks.check("fake", context)
                dynamic.append(time.perf_counter() - started)
                started = time.perf_counter()
                http.get("/" + segment).raise_for_status()
                static.append(time.perf_counter() - started)
        cdn.stop()
    p50 = statistics.median(dynamic) / statistics.median(static)
    p99 = percentile(dynamic, 0.99) / percentile(static, 0.99)
    print(json.dumps({
        "benchmark": "check_latency", "checks": args.checks,
        "dynamic_p50_ms": round(statistics.median(dynamic) * 1000, 2), "dynamic_p99_ms": round(percentile(dynamic, 0.99) * 1000, 2),
        "static_cdn_p50_ms": round(statistics.median(static) * 1000, 2), "static_cdn_p99_ms": round(percentile(static, 0.99) * 1000, 2),
        "ratio_p50": round(p50, 2), "ratio_p99": round(p99, 2),
        "note": "dynamic = handler in process incl. one DynamoDB read and the per-device rate-limit write (moto); "
                "static = HTTP GET of the segment from the CDN emulator",
    }))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
