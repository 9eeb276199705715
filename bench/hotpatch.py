"""Hotpatch costs, in process on moto, each as a ratio to a baseline measured in the same run:

1. report ingest (``POST /client/v1/hotpatch/report``: rate limit, mark + counters in one transaction,
   guardrail check) vs the dynamic check API (``POST /client/v1/hotpatch/check``) — both per request;
2. rollback until a device's next sync is back on the previous patch (API call + re-publication + the
   reference client's sync) vs a pause/continue of a release and the same sync;
3. processing a patch upload (check, sign with the tenant key, copy to the delivery bucket) vs just
   hashing the same bytes (SHA-256), for a 20 MB blob.

    python bench/hotpatch.py [--reports 200] [--rollbacks 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from moto_env import moto_stack


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=200)
    parser.add_argument("--rollbacks", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, moto_stack(Path(tmp)) as resources:
        run(args, Path(tmp), resources)
    return 0


def run(args, tmp: Path, resources) -> None:
    import hashlib

    import boto3
    import requests
    from chalice.test import Client

    from app import app
    from chalicelib.domain.targeting import Device, Platform
    from chalicelib.domain.tenancy import TenantId
    from chalicelib.services.demo import ensure_demo
    from chalicelib.services.signing_keys import public_keys
    from mds.device.client import DeviceClient
    from mds.device.hotpatch import HotpatchClient
    from tests.conftest import Api, ws_path
    from tests.delivery_harness import BucketCdn, ChaliceApi
    from tests.integration.test_uploads import _deliver, _receive

    demo = ensure_demo()
    with Client(app) as client:
        api = Api(client)
        api.token = api.login(demo["username"], demo["password"])
        ws = ws_path(demo)
        api.post(ws + "/upgrade/packages", {"platform": "ios", "version": "5.0", "distribution": "appStore",
                                            "storeUrl": "https://apps.apple.com/app/id1"})  # fmt: skip
        sqs = boto3.client("sqs", region_name="us-east-1")

        def add_patch(content: bytes) -> tuple[str, float]:
            made = api.post(
                ws + "/hotpatch/patches", {"platform": "ios", "appVersion": "5.0", "filename": "p.bin"}
            )
            post = made.body["upload"]["post"]
            requests.post(post["url"], data=post["fields"], files={"file": ("p.bin", content)}, timeout=60)
            messages = _receive(sqs, resources.queue_urls["EventsQueue"])
            started = time.perf_counter()
            _deliver(messages)
            return made.body["patchId"], time.perf_counter() - started

        def release(patch_id: str) -> str:
            return api.post(ws + f"/hotpatch/patches/{patch_id}/releases", {"type": "official"}).body[
                "releaseId"
            ]

        # 3. processing a 20 MB patch vs hashing it
        big = bytes(range(256)) * (20 * 1024 * 1024 // 256)
        _, processing = add_patch(big)
        started = time.perf_counter()
        hashlib.sha256(big).hexdigest()
        hashing = time.perf_counter() - started

        # 1. report ingest vs dynamic check
        p1, _ = add_patch(b"fix-1")
        r1 = release(p1)
        base = {"appId": demo["appId"], "workspaceId": demo["workspaceId"]}
        reports, checks = [], []
        for n in range(args.reports):
            body = {**base, "deviceId": f"d{n}", "patchId": p1, "releaseId": r1, "outcome": "applied"}
            started = time.perf_counter()
            assert api.post("/client/v1/hotpatch/report", body, token="").status == 200
            reports.append(time.perf_counter() - started)
            check = {**base, "deviceId": f"d{n}", "platform": "ios", "clientVersion": "5.0"}
            started = time.perf_counter()
            assert api.post("/client/v1/hotpatch/check", check, token="").status == 200
            checks.append(time.perf_counter() - started)

        # 2. rollback → device back on the previous patch, vs pause/continue → device sync
        tenant_keys = public_keys(TenantId(demo["appId"], demo["workspaceId"]))
        patch_keys = api.get(ws + "/hotpatch/keys").body
        state = tmp / uuid.uuid4().hex
        checker = DeviceClient("http://cdn", "http://api", app_id=demo["appId"], workspace_id=demo["workspaceId"],
                               public_keys=tenant_keys, state_dir=state, transport=BucketCdn(),
                               api_transport=ChaliceApi(client))  # fmt: skip
        phone = HotpatchClient(checker, cdn_url="http://cdn", api_url="http://api", app_id=demo["appId"],
                               workspace_id=demo["workspaceId"],
                               patch_keys={patch_keys["mds"]["keyId"]: patch_keys["mds"]["publicKey"]},
                               state_dir=state, transport=BucketCdn(), api_transport=ChaliceApi(client))  # fmt: skip
        device = Device(Platform.IOS, device_id="bench", client_version="5.0")
        assert phone.sync(device, report=False).applied == p1
        rollbacks, toggles = [], []
        for n in range(args.rollbacks):
            p2, _ = add_patch(f"fix-2-{n}".encode())
            r2 = release(p2)
            assert phone.sync(device, report=False).applied == p2
            for action in ("pause", "resume"):
                started = time.perf_counter()
                api.post(ws + f"/hotpatch/releases/{r2}/status", {"action": action})
                phone.sync(device, report=False)
                toggles.append(time.perf_counter() - started)
            started = time.perf_counter()
            assert api.post(ws + f"/hotpatch/patches/{p2}/rollback").status == 200
            assert phone.sync(device, report=False).applied == p1
            rollbacks.append(time.perf_counter() - started)

    med = statistics.median
    print(json.dumps({
        "report_ms_median": round(med(reports) * 1000, 2),
        "check_ms_median": round(med(checks) * 1000, 2),
        "report_vs_check": round(med(reports) / med(checks), 2),
        "rollback_to_device_ms_median": round(med(rollbacks) * 1000, 1),
        "pause_or_continue_to_device_ms_median": round(med(toggles) * 1000, 1),
        "rollback_vs_toggle": round(med(rollbacks) / med(toggles), 2),
        "process_20mb_ms": round(processing * 1000, 1),
        "sha256_20mb_ms": round(hashing * 1000, 1),
        "process_vs_sha256": round(processing / hashing, 2),
    }, indent=1))  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
