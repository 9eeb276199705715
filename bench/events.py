"""Device events: ingestion rate through the local stack, and guardrail reaction time.

Starts the real local stack (`mds local up`) in a subprocess.

1. Ingestion: batches of 50 events (one batch per simulated device, so the per-device rate limit never
   bites) POSTed by 4 client threads to `POST /client/v1/events` (validate, rate-limit, SQS send), vs
   the same requests to a plain HTTP stub on this machine that reads the body and answers 202 — the
   baseline, measured in the same run. Reported as events per second, ours / stub. Then waits until
   the stack's worker has counted every event (the reach funnel adds up) and reports that time too.
2. Guardrail: N times, an official iOS task with a rollout plan whose guardrail trips on the first
   failed install; one `install.failed` event is sent, and the CDN index is polled until the answer a
   device computes from it (signature verified) no longer offers the task. p50/p99 of that time.
3. Peak RSS of the stack process (VmHWM).

    python bench/events.py [--batches 400] [--trials 20]

Last line: `events: <X>x plain post, guardrail p99 <N> ms`.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.publish_latency import free_port, percentile  # noqa: E402

EVENTS_PER_BATCH = 50
CLIENTS = 4


class _Stub(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("content-length", 0)))
        body = b'{"accepted": 50}'
        self.send_response(202)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def batches(creds: dict, release: str, count: int) -> list[dict]:
    now = int(time.time())
    return [
        {"schema": 1, "appId": creds["appId"], "workspaceId": creds["workspaceId"], "platform": "android",
         "deviceId": f"bench-{n}-{uuid.uuid4().hex[:8]}", "clientVersion": "4.0",
         "events": [{"id": uuid.uuid4().hex, "type": "config.active", "at": now, "release": release,
                     "value": f"v{k}"} for k in range(EVENTS_PER_BATCH)]}
        for n in range(count)
    ]  # fmt: skip


def post_all(url: str, bodies: list[dict]) -> float:
    """Events per second for POSTing ``bodies`` to ``url`` from CLIENTS threads."""
    payloads = [json.dumps(b).encode() for b in bodies]
    local = threading.local()

    def send(payload: bytes) -> None:
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = httpx.Client(timeout=30)
        reply = client.post(url, content=payload, headers={"content-type": "application/json"})
        if reply.status_code != 202:
            raise SystemExit(f"{url}: {reply.status_code} {reply.text}")

    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(send, payloads))
    return len(bodies) * EVENTS_PER_BATCH / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=400)
    parser.add_argument("--trials", type=int, default=20)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp())
    api_port, cdn_port, moto_port = free_port(), free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MDS_"))}
    env.update(PYTHONUNBUFFERED="1", MDS_LOG_LEVEL="WARNING")
    stack = subprocess.Popen(
        [sys.executable, "-m", "mds.cli", "local", "up", "--data-dir", str(data_dir), "--port", str(api_port),
         "--cdn-port", str(cdn_port), "--moto-port", str(moto_port)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        for line in stack.stdout:
            if "ready" in line:
                break
        threading.Thread(target=lambda: [None for _ in stack.stdout], daemon=True).start()  # keep draining
        return run(args, stack.pid, data_dir, f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{cdn_port}")
    finally:
        stack.send_signal(2)
        stack.wait(timeout=60)


def run(args, pid: int, data_dir: Path, api_url: str, cdn_url: str) -> int:  # noqa: ANN001
    creds = json.loads((data_dir / "bootstrap.json").read_text())
    api = httpx.Client(base_url=api_url, timeout=30)
    token = api.post("/api/auth/login", json={"username": creds["username"], "password": creds["password"]})
    api.headers["authorization"] = f"Bearer {token.json()['token']}"
    ws = f"/api/apps/{creds['appId']}/workspaces/{creds['workspaceId']}"

    stub = ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    threading.Thread(target=stub.serve_forever, daemon=True).start()
    post_all(f"http://127.0.0.1:{stub.server_address[1]}/", batches(creds, "config:warm", 20))  # warm up
    post_all(f"{api_url}/client/v1/events", batches(creds, "config:warm", 20))
    stub_rate = post_all(
        f"http://127.0.0.1:{stub.server_address[1]}/", batches(creds, "config:bench", args.batches)
    )
    ours_rate = post_all(f"{api_url}/client/v1/events", batches(creds, "config:bench", args.batches))
    stub.shutdown()

    started, expected = time.perf_counter(), args.batches * EVENTS_PER_BATCH
    while True:
        values = api.get(ws + "/reach/config:bench").json()["values"]
        counted = sum(v["devices"] for v in values)
        if counted >= expected or time.perf_counter() - started > 600:
            break
        time.sleep(0.2)
    drained_s = time.perf_counter() - started

    latencies = [guardrail_trial(api, ws, creds, cdn_url, api_url, n) for n in range(args.trials)]
    rss_mb = peak_rss_mb(pid)
    ratio = ours_rate / stub_rate
    p99 = percentile(latencies, 0.99)
    print(json.dumps({
        "benchmark": "events", "batches": args.batches, "events_per_batch": EVENTS_PER_BATCH,
        "ours_events_per_s": round(ours_rate), "stub_events_per_s": round(stub_rate),
        "ratio_vs_plain_post": round(ratio, 2), "counted": counted, "expected": expected,
        "aggregated_within_s": round(drained_s, 1),
        "guardrail_p50_ms": round(statistics.median(latencies) * 1000, 1), "guardrail_p99_ms": round(p99 * 1000, 1),
        "stack_peak_rss_mb": rss_mb,
    }))  # fmt: skip
    print(f"events: {ratio:.2f}x plain post, guardrail p99 {round(p99 * 1000)} ms")
    return 0 if counted == expected else 1


def guardrail_trial(api: httpx.Client, ws: str, creds: dict, cdn_url: str, api_url: str, n: int) -> float:
    """Seconds from sending the failing event to a device seeing the paused manifest."""
    from chalicelib.domain.delivery import decide
    from chalicelib.domain.targeting import Device
    from chalicelib.manifests.reader import open_envelope, read_segment, segment_path_for

    package = api.post(ws + "/upgrade/packages", json={"platform": "ios", "distribution": "appStore",
                       "version": f"7.{n}", "storeUrl": "https://apps.apple.com/app/id1"}).json()["packageId"]  # fmt: skip
    task = api.post(
        ws + f"/upgrade/packages/{package}/tasks", json={"type": "official", "mode": "forced"}
    ).json()
    release = f"upgrade-task-{task['taskId']}"
    plan = {
        "steps": [{"percent": 100, "bakeMinutes": 60}],
        "guardrail": {"failurePercent": 50, "minDevices": 1},
    }
    api.put(ws + f"/rollouts/{release}", json=plan).raise_for_status()
    keys = {
        k["keyId"]: base64.b64decode(k["publicKey"]) for k in api.get(ws + "/signing-keys").json()["keys"]
    }
    cdn = httpx.Client(base_url=cdn_url, timeout=30)
    index_path = f"/m/{creds['appId']}/{creds['workspaceId']}/upgrade/ios/index.json"
    device = Device("ios", device_id="bench-phone", client_version="1.0")

    def offered() -> bool:
        index = open_envelope(cdn.get(index_path).content, keys, "index")
        entry = segment_path_for(index, device)
        chosen = decide(read_segment(cdn.get("/" + entry["path"]).content, entry, keys), device, None,
                        now=int(time.time()))  # fmt: skip
        return chosen is not None and chosen.id == release

    while not offered():
        time.sleep(0.01)
    failure = {"schema": 1, "appId": creds["appId"], "workspaceId": creds["workspaceId"], "platform": "ios",
               "deviceId": f"bench-phone-{n}", "clientVersion": "1.0",
               "events": [{"id": uuid.uuid4().hex, "type": "install.failed", "at": int(time.time()),
                           "release": release, "reason": "bench"}]}  # fmt: skip
    started = time.perf_counter()
    httpx.post(f"{api_url}/client/v1/events", json=failure, timeout=30).raise_for_status()
    while offered():
        if time.perf_counter() - started > 60:
            raise SystemExit(f"trial {n}: the guardrail never paused {release}")
    return time.perf_counter() - started


def peak_rss_mb(pid: int) -> float | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    line = next((x for x in status.splitlines() if x.startswith("VmHWM:")), None)
    return round(int(line.split()[1]) / 1024, 1) if line else None


if __name__ == "__main__":
    sys.exit(main())
