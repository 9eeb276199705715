"""The real local stack (`mds local up`) in a subprocess, for benches that measure through it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass(frozen=True)
class Stack:
    pid: int
    data_dir: Path
    api_url: str
    cdn_url: str

    @property
    def bootstrap(self) -> dict:
        return json.loads((self.data_dir / "bootstrap.json").read_text())

    def admin(self) -> tuple[httpx.Client, str]:
        """An API client logged in as the bootstrap admin, and its workspace's path."""
        creds = self.bootstrap
        api = httpx.Client(base_url=self.api_url, timeout=60)
        token = api.post(
            "/api/auth/login", json={"username": creds["username"], "password": creds["password"]}
        )
        api.headers["authorization"] = f"Bearer {token.json()['token']}"
        return api, f"/api/apps/{creds['appId']}/workspaces/{creds['workspaceId']}"

    def peak_rss_mb(self) -> float | None:
        """The stack process's peak resident memory (VmHWM), in MB."""
        try:
            status = Path(f"/proc/{self.pid}/status").read_text()
        except OSError:
            return None
        line = next((x for x in status.splitlines() if x.startswith("VmHWM:")), None)
        return round(int(line.split()[1]) / 1024, 1) if line else None


@contextmanager
def running_stack(*, stop_timeout: float = 120) -> Iterator[Stack]:
    data_dir = Path(tempfile.mkdtemp())
    api_port, cdn_port, moto_port = free_port(), free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MDS_"))}
    env.update(PYTHONUNBUFFERED="1", MDS_LOG_LEVEL="WARNING")
    process = subprocess.Popen(
        [sys.executable, "-m", "mds.cli", "local", "up", "--data-dir", str(data_dir), "--port", str(api_port),
         "--cdn-port", str(cdn_port), "--moto-port", str(moto_port)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        output = []
        for line in process.stdout:
            output.append(line)
            if "ready" in line:
                break
        else:
            raise SystemExit("the local stack ended before it was ready:\n" + "".join(output))
        threading.Thread(target=lambda: [None for _ in process.stdout], daemon=True).start()  # keep draining
        yield Stack(process.pid, data_dir, f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{cdn_port}")
    finally:
        process.send_signal(2)
        try:
            process.wait(timeout=stop_timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            print(f"bench: the local stack did not stop within {stop_timeout:.0f} s; killed", file=sys.stderr)
