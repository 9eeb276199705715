"""Device events: ingestion rate through the local stack, aggregation, and guardrail reaction time.

Starts the real local stack (`mds local up`) in a subprocess (bench/stack.py).

1. Ingestion: one batch per simulated device — the funnel of one upgrade task (check answered, prompt
   shown, download started / finished, installed: 5 events) — POSTed by 4 client threads to
   `POST /client/v1/events` (strict validation, per-device rate limit, SQS send), vs the same requests
   to a plain HTTP stub on this machine that reads the body and answers 202: the baseline, measured in
   the same run. Reported as events per second, ours / stub.
2. Aggregation: from the last accepted batch until the stack's worker has counted every device (the
   reach funnel says `installed` = devices), and the events per second that makes.
3. Guardrail: N times, an official iOS task with a rollout plan whose guardrail trips on the first
   failed install; one `install.failed` event is sent, and a reference device client (CDN manifests,
   signatures verified) checks until it is no longer offered the task. p50/p99 of that time.
4. Peak RSS of the stack process (VmHWM).

    python bench/events.py [--devices 400] [--trials 20]

Last line: `events: <X>x plain post, guardrail p99 <N> ms`.
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.stack import Stack, percentile, running_stack

FUNNEL = ("check.answered", "prompt.shown", "download.started", "download.finished", "install.finished")
CLIENTS = 4
WAIT_SECONDS = 600  # how long a broken pipeline takes to fail the bench


class _Stub(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        body = b'{"accepted": 5}'
        self.send_response(202)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def batch(
    creds: dict, release: str, device_id: str, kinds: tuple[str, ...], platform: str = "android"
) -> dict:
    now = int(time.time())
    events = []
    for kind in kinds:
        event = {"id": uuid.uuid4().hex, "type": kind, "at": now, "release": release}
        if kind.endswith(".failed"):
            event["reason"] = "BENCH_FAILURE"
        events.append(event)
    return {"schema": 1, "appId": creds["appId"], "workspaceId": creds["workspaceId"], "platform": platform,
            "deviceId": device_id, "clientVersion": "4.0", "events": events}  # fmt: skip


def post_all(url: str, bodies: list[dict]) -> float:
    """Events per second for POSTing ``bodies`` to ``url`` from CLIENTS threads (each its own connection)."""
    payloads = [json.dumps(b).encode() for b in bodies]
    local = threading.local()

    def send(payload: bytes) -> None:
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = httpx.Client(timeout=60)
        reply = client.post(url, content=payload, headers={"content-type": "application/json"})
        if reply.status_code != 202:
            raise SystemExit(f"{url}: {reply.status_code} {reply.text}")

    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(send, payloads))
    return sum(len(b["events"]) for b in bodies) / (time.perf_counter() - started)


def official_task(api: httpx.Client, ws: str, version: str) -> str:
    package = api.post(ws + "/upgrade/packages", json={"platform": "ios", "distribution": "appStore",
                       "version": version, "storeUrl": "https://apps.apple.com/app/id1"})  # fmt: skip
    package.raise_for_status()
    task = api.post(ws + f"/upgrade/packages/{package.json()['packageId']}/tasks",
                    json={"type": "official", "mode": "forced"})  # fmt: skip
    task.raise_for_status()
    return f"upgrade-task-{task.json()['taskId']}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=400)
    parser.add_argument("--trials", type=int, default=20)
    args = parser.parse_args()
    with running_stack() as stack:
        return run(args, stack)


def run(args: argparse.Namespace, stack: Stack) -> int:
    creds = stack.bootstrap
    api, ws = stack.admin()
    release = official_task(api, ws, "6.0")

    stub = ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    threading.Thread(target=stub.serve_forever, daemon=True).start()
    stub_url, events_url = f"http://127.0.0.1:{stub.server_address[1]}/", f"{stack.api_url}/client/v1/events"

    def bodies(count: int, prefix: str) -> list[dict]:
        return [batch(creds, release, f"{prefix}-{n}", FUNNEL) for n in range(count)]

    post_all(stub_url, bodies(20, "warm"))  # warm-up, both sides
    post_all(events_url, bodies(20, "warm"))
    stub_rate = post_all(stub_url, bodies(args.devices, "bench"))
    ours_rate = post_all(events_url, bodies(args.devices, "bench"))
    stub.shutdown()

    expected = 20 + args.devices  # warm-up devices count too
    started = time.perf_counter()
    while True:
        installed = api.get(ws + f"/reach/{release}").json()["funnel"]["installed"]
        if installed >= expected or time.perf_counter() - started > WAIT_SECONDS:
            break
        time.sleep(0.1)
    drained_s = time.perf_counter() - started

    latencies = [guardrail_trial(stack, api, ws, n) for n in range(args.trials)]
    ratio = ours_rate / stub_rate
    p99 = percentile(latencies, 0.99)
    print(json.dumps({
        "benchmark": "events", "devices": args.devices, "events_per_batch": len(FUNNEL), "client_threads": CLIENTS,
        "ours_events_per_s": round(ours_rate), "stub_events_per_s": round(stub_rate),
        "ratio_vs_plain_post": round(ratio, 3), "installed_counted": installed, "expected": expected,
        "aggregated_after_last_post_s": round(drained_s, 1),
        "guardrail_trials": len(latencies),
        "guardrail_p50_ms": round(statistics.median(latencies) * 1000, 1), "guardrail_p99_ms": round(p99 * 1000, 1),
        "stack_peak_rss_mb": stack.peak_rss_mb(),
    }))  # fmt: skip
    print(f"events: {ratio:.2f}x plain post, guardrail p99 {round(p99 * 1000)} ms")
    return 0 if installed == expected else 1


def guardrail_trial(stack: Stack, api: httpx.Client, ws: str, n: int) -> float:
    """Seconds from sending the failing event to a device seeing the paused manifest."""
    from chalicelib.domain.targeting import Device
    from mds.device.client import DeviceClient

    creds = stack.bootstrap
    release = official_task(api, ws, f"7.{n}")
    plan = {
        "steps": [{"percent": 100, "bakeMinutes": 60}],
        "guardrail": {"failurePercent": 50, "minDevices": 1},
    }
    api.put(ws + f"/rollouts/{release}", json=plan).raise_for_status()
    keys = {
        k["keyId"]: base64.b64decode(k["publicKey"]) for k in api.get(ws + "/signing-keys").json()["keys"]
    }
    phone = DeviceClient(stack.cdn_url, stack.api_url, app_id=creds["appId"], workspace_id=creds["workspaceId"],
                         public_keys=keys, state_dir=Path(tempfile.mkdtemp()))  # fmt: skip
    device = Device("ios", device_id=f"bench-phone-{n}", client_version="1.0")

    def offered() -> bool:
        return release in phone.check("upgrade", device).chosen.values()

    deadline = time.monotonic() + WAIT_SECONDS
    while not offered():
        if time.monotonic() > deadline:
            raise SystemExit(f"trial {n}: {release} never reached the device")
    failure = batch(creds, release, f"bench-phone-{n}", ("install.failed",), platform="ios")
    started = time.perf_counter()
    httpx.post(f"{stack.api_url}/client/v1/events", json=failure, timeout=60).raise_for_status()
    while offered():
        if time.perf_counter() - started > WAIT_SECONDS:
            raise SystemExit(f"trial {n}: the guardrail never paused {release}")
    return time.perf_counter() - started


if __name__ == "__main__":
    sys.exit(main())
