"""Publish latency: a change made through the API, until the new answer is visible through the CDN.

Starts the real local stack (`mds local up`, moto + API + CDN emulator) in a subprocess, creates an iOS
App Store package with an official task, then toggles the task 200 times (pause / continue) through
the HTTP API. After each change it polls the index on the CDN emulator until the answer a device
computes from it (reference client algorithm, signature verified) flips. Latency = from sending the
API request to the first CDN read showing the new answer.

Baseline, same run: one plain API round trip (GET /api/health). Target: p99 < 1 s locally.

    python bench/publish_latency.py [--changes 200]
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.stack import percentile, running_stack


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=200)
    args = parser.parse_args()
    with running_stack() as stack:
        return run(args, stack.data_dir, stack.api_url, stack.cdn_url)


def run(args, data_dir: Path, api_url: str, cdn_url: str) -> int:
    from chalicelib.domain.delivery import Candidate, decide
    from chalicelib.domain.targeting import Device
    from chalicelib.manifests.reader import PublishedView, open_envelope

    creds = json.loads((data_dir / "bootstrap.json").read_text())
    api = httpx.Client(base_url=api_url, timeout=30)
    cdn = httpx.Client(base_url=cdn_url, timeout=30)
    token = api.post(
        "/api/auth/login", json={"username": creds["username"], "password": creds["password"]}
    ).json()["token"]
    api.headers["authorization"] = f"Bearer {token}"
    ws = f"/api/apps/{creds['appId']}/workspaces/{creds['workspaceId']}"
    package = api.post(
        ws + "/upgrade/packages",
        json={
            "platform": "ios",
            "distribution": "appStore",
            "version": "5.0",
            "storeUrl": "https://apps.apple.com/app/id1",
        },
    ).json()["packageId"]
    task = api.post(ws + f"/upgrade/packages/{package}/tasks", json={"type": "official", "mode": "forced"})
    task.raise_for_status()
    task_id = task.json()["taskId"]
    keys = {
        k["keyId"]: base64.b64decode(k["publicKey"]) for k in api.get(ws + "/signing-keys").json()["keys"]
    }
    index_path = f"/m/{creds['appId']}/{creds['workspaceId']}/ios/index.json"  # every product of iOS
    device = Device("ios", user_id="bench-user", device_id="bench-device", client_version="4.0")
    segments: dict[str, list[Candidate]] = {}  # content-addressed: kept across index versions

    def visible_answer() -> str | None:
        reply = cdn.get(index_path)
        if reply.status_code != 200:
            return None
        index = open_envelope(reply.content, keys, "index")
        view = PublishedView(index, keys, lambda path: cdn.get("/" + path).content, segments)
        chosen = decide(view.candidates_for("upgrade", device), device, None, now=int(time.time()))
        return chosen.id if chosen else None

    expected = f"upgrade-task-{task_id}"
    deadline = time.monotonic() + 10
    while visible_answer() != expected and time.monotonic() < deadline:
        time.sleep(0.01)
    latencies, baseline = [], []
    for n in range(args.changes):
        started = time.perf_counter()
        api.get("/api/health").raise_for_status()
        baseline.append(time.perf_counter() - started)
        action, expected = ("pause", None) if n % 2 == 0 else ("continue", f"upgrade-task-{task_id}")
        started = time.perf_counter()
        api.post(ws + f"/upgrade/tasks/{task_id}/status", json={"action": action}).raise_for_status()
        while visible_answer() != expected:
            if time.perf_counter() - started > 30:
                raise SystemExit(f"change {n} never became visible")
        latencies.append(time.perf_counter() - started)
    p50, p99 = statistics.median(latencies), percentile(latencies, 0.99)
    result = {
        "benchmark": "publish_latency", "changes": args.changes,
        "p50_ms": round(p50 * 1000, 1), "p99_ms": round(p99 * 1000, 1), "max_ms": round(max(latencies) * 1000, 1),
        "api_round_trip_p50_ms": round(statistics.median(baseline) * 1000, 2),
        "p50_vs_api_round_trip": round(p50 / statistics.median(baseline), 1),
        "target_p99_ms": 1000, "met": p99 < 1.0,
    }  # fmt: skip
    print(json.dumps(result))
    return 0 if result["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
