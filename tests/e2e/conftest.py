"""The local stack as a user runs it: `python -m mds.cli local up` in a subprocess, on free ports,
with a fresh data dir. Tests talk to it over HTTP only."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from mds.local.runner import READY_PREFIX

PROJECT_DIR = Path(__file__).resolve().parents[2]
READY_TIMEOUT_SECONDS = 240  # how long a broken stack takes to fail; a working one is used as soon as it is ready
STOP_TIMEOUT_SECONDS = 120


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def child_environment(*, publish: str = "inline") -> dict[str, str]:
    """This shell's environment without what would point the stack elsewhere. The stories read their
    own writes from the CDN at once (``inline`` publishing); test_local_stack.py runs the queued mode
    of `make run` too."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MDS_"))}
    env["PYTHONUNBUFFERED"] = "1"
    if publish:
        env["MDS_PUBLISH_MODE"] = publish
    return env


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mds.cli", "local", "up", *args],
        cwd=PROJECT_DIR, env=child_environment(), capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


@dataclass
class LocalStackProcess:
    data_dir: Path
    port: int = field(default_factory=free_port)
    cdn_port: int = field(default_factory=free_port)
    moto_port: int = field(default_factory=free_port)
    output: list[str] = field(default_factory=list)
    process: subprocess.Popen[str] | None = None
    publish: str = "inline"  # MDS_PUBLISH_MODE of the stack (`make run` has "queued")

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def cdn_url(self) -> str:
        return f"http://127.0.0.1:{self.cdn_port}"

    @property
    def moto_url(self) -> str:
        return f"http://127.0.0.1:{self.moto_port}"

    def start(self, *, fresh_ports: bool = True) -> None:
        """Starts the stack and waits for its ready line. A free port can be taken by another process
        between ``free_port()`` and the stack's bind; the stack then exits 2 saying so, and a first
        start simply tries new ports (a restart keeps its ports: links it handed out name them)."""
        for _attempt in range(5):
            if self._start_once():
                return
            if not fresh_ports:
                pytest.fail("local stack: a port of the restart was taken:\n" + "\n".join(self.output))
            self.port, self.cdn_port, self.moto_port = free_port(), free_port(), free_port()
        pytest.fail("local stack: every port set tried was taken:\n" + "\n".join(self.output))

    def _start_once(self) -> bool:
        """True when the stack is ready; False when it lost a port race (exit 2, "already in use")."""
        command = [
            sys.executable, "-m", "mds.cli", "local", "up", "--data-dir", str(self.data_dir),
            "--port", str(self.port), "--cdn-port", str(self.cdn_port), "--moto-port", str(self.moto_port),
        ]  # fmt: skip
        self.output.clear()
        ready = threading.Event()
        self.process = subprocess.Popen(
            command, cwd=PROJECT_DIR, env=child_environment(publish=self.publish), text=True, bufsize=1,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip

        def read(stream) -> None:  # drains the pipe for the whole run, so the child never blocks on it
            for line in stream:
                self.output.append(line.rstrip("\n"))
                if line.startswith(READY_PREFIX):
                    ready.set()
            ready.set()  # EOF: the process ended

        threading.Thread(target=read, args=(self.process.stdout,), daemon=True).start()
        started = time.monotonic()
        ready.wait(READY_TIMEOUT_SECONDS)
        if not any(line.startswith(READY_PREFIX) for line in self.output):
            self.process.kill()
            self.process.wait()
            if self.process.returncode == 2 and any("already in use" in line for line in self.output):
                return False
            pytest.fail(
                f"local stack not ready after {time.monotonic() - started:.0f}s "
                f"(exit {self.process.returncode}):\n" + "\n".join(self.output)
            )
        return True

    def stop(self) -> int:
        """SIGINT, like Ctrl-C; returns the exit code."""
        assert self.process is not None
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.send_signal(signal.SIGUSR1)  # its threads' stacks, into the output below
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            pytest.fail("local stack did not stop on SIGINT:\n" + "\n".join(self.output))

    def restart(self) -> None:
        code = self.stop()
        assert code == 0, "\n".join(self.output)
        self.start(fresh_ports=False)

    def aws(self, service: str):
        import boto3

        return boto3.client(
            service, endpoint_url=self.moto_url, region_name="us-east-1",
            aws_access_key_id="testing", aws_secret_access_key="testing",
        )  # fmt: skip


@pytest.fixture
def local_up():
    """Runs `mds local up ARGS` to completion (for the ways it refuses to start)."""
    return run_cli


@pytest.fixture
def unused_port():
    return free_port


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory) -> LocalStackProcess:
    stack = LocalStackProcess(data_dir=tmp_path_factory.mktemp("local-stack") / "data")
    stack.start()
    yield stack
    code = stack.stop()
    assert code == 0, "\n".join(stack.output)
