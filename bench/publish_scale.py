"""What publishing costs as a tenant's live releases grow: time and bytes for 1, 100 and 1,000 live
releases across the four products, for the first publication and for a change to one release.

Releases are spread over the four products (upgrade, H5, config, hotpatch; the fakes of
tests/fake_product.py stand in for the DynamoDB records, the publisher is the real one: signed
segments, the combined index, the deprecated per-product indexes), each with its own client-version
range, so segments grow with releases. A change to one release re-signs one product's segments and the
one index; every other product's segments are left alone (content-addressed). Devices do not appear:
the cost of publishing grows with releases, never with devices.

    python bench/publish_scale.py [--sizes 1,100,1000]

Prints one JSON line per size, then `publish-scale: ...` with each size's first-publication time as a
ratio of the 1-release publication measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from moto_env import moto_stack

PRODUCTS = ("upgrade", "h5", "config", "hotpatch")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,100,1000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with moto_stack(Path(tempfile.mkdtemp())):
        return run(sizes)


def releases(product: str, count: int) -> list:
    from chalicelib.domain.delivery import Candidate
    from chalicelib.domain.targeting import compile_target, parse_target

    found = []
    for n in range(count):
        low, high = f"{n // 50}.{n % 50}", f"{n // 50}.{n % 50}.99"
        target = compile_target(parse_target({"platform": "android", "clientVersions": [f"{low}-{high}"]}))
        payload = {"release": f"{product}-{n}", "downloadURL": f"https://cdn.example.com/{product}/{n}.bin",
                   "sha256": "ab" * 32, "size": 1_000_000 + n}  # fmt: skip
        subject = "" if product in ("upgrade", "hotpatch") else f"{product}-{n % 20}"
        found.append(Candidate(f"{product}-{n}", target, payload, subject=subject))
    return found


def run(sizes: list[int]) -> int:
    from chalicelib.domain.targeting import Platform
    from chalicelib.domain.tenancy import TenantId
    from chalicelib.manifests import publisher
    from chalicelib.services import publishing, signing_keys
    from tests.fake_product import FakeProduct

    fakes = {name: FakeProduct() for name in PRODUCTS}
    for name, fake in fakes.items():
        fake.install(name)

    def measure(size: int, name: str) -> dict:
        tenant = TenantId(name, "prod")
        for i, product in enumerate(PRODUCTS):  # size releases in all, spread over the products
            share = size // len(PRODUCTS) + (1 if i < size % len(PRODUCTS) else 0)
            fakes[product].releases[(tenant.key, "android")] = releases(product, share)
        signer = publisher.Signer(*signing_keys.current(tenant))
        poll = publishing.poll_seconds(tenant)

        def publish():
            now = int(time.time())
            candidates = {p: fakes[p].candidates(tenant, Platform.ANDROID, now=now) for p in PRODUCTS}
            started = time.perf_counter()
            result = publisher.publish(
                tenant, Platform.ANDROID, candidates, signer=signer, now=now, poll_seconds=poll
            )
            return time.perf_counter() - started, result

        first_s, first = publish()
        changed = fakes["upgrade"].releases[(tenant.key, "android")]
        if changed:  # one release of one product changes
            changed[0] = replace(changed[0], payload={**changed[0].payload, "v": 2})
        change_s, change = publish()
        return {
            "releases": size, "first_publish_s": round(first_s, 3), "first_bytes": first.bytes_written,
            "first_files": first.files_written, "change_publish_s": round(change_s, 3),
            "change_bytes": change.bytes_written, "change_files": change.files_written,
            "products_changed": list(change.products_changed),
        }  # fmt: skip

    measure(1, "SCALEWARMUP")  # imports, the S3 connection: not part of any size's figure
    rows = []
    for size in sizes:
        rows.append(measure(size, f"SCALE{size}"))
        print(json.dumps(rows[-1]))
    base = rows[0]["first_publish_s"] or 1e-9
    curve = ", ".join(
        f"{r['releases']}: {r['first_publish_s'] / base:.1f}x time {r['first_bytes']} B" for r in rows
    )
    print(f"publish-scale: first publication vs {rows[0]['releases']} release(s) — {curve}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
