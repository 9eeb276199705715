"""The streaming upload host (mds/upload_host.py, the OpenAPI upload host on AWS) keeps memory flat: a
192 MiB form streamed by curl is stored whole while the host's peak RSS grows by well under the file's
size (a buffering host grows by at least the file). Host and moto run as separate processes, so only
the host's own memory is measured (from /proc); bench/openapi_upload.py does the same with 300 MB."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

MIB = 1024 * 1024
FILE_MIB = 192
PART_MIB = 16  # store.mcube_files.PART_BYTES


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(port: int) -> None:
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port}")


def _peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


@pytest.fixture
def moto_url(tmp_path):
    port = _free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait()


def test_a_large_form_streams_through_at_flat_memory(moto_url, monkeypatch, tmp_path):
    from chalicelib import config
    from mds.local.resources import ensure_resources

    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    resources = ensure_resources(moto_url, stack=os.environ["MDS_STACK"])
    port = _free_port()
    env = {
        **os.environ,
        "MDS_ARTIFACTS_BUCKET": resources.buckets["ArtifactsBucket"],
        "MDS_FILE_UPLOAD_HOST": f"http://127.0.0.1:{port}",
    }
    for name in ("MDS_ARTIFACTS_BUCKET", "MDS_FILE_UPLOAD_HOST"):
        monkeypatch.setenv(name, env[name])
    config.reload()
    host = subprocess.Popen([sys.executable, "-m", "mds.upload_host", "--host", "127.0.0.1", "--port", str(port)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    try:
        _wait_for(port)
        warm = _send(_token(), _file(tmp_path / "warm.zip", 2 * PART_MIB), "warm.zip")  # imports, clients
        assert warm.stdout == "204", (warm.stdout, warm.stderr)
        token = _token()
        before = _peak_rss(host.pid)
        sent = _send(token, _file(tmp_path / "batch.zip", FILE_MIB), "batch.zip")
        growth = _peak_rss(host.pid) - before
    finally:
        host.terminate()
        host.wait()
    assert sent.stdout == "204", (sent.stdout, sent.stderr)
    from chalicelib.store.aws import client

    stored = client("s3").head_object(
        Bucket=env["MDS_ARTIFACTS_BUCKET"], Key=f"files/{token['dir']}batch.zip"
    )
    assert stored["ContentLength"] == FILE_MIB * MIB and stored["ETag"].endswith(f'-{FILE_MIB // PART_MIB}"')
    # warm, the host holds about a part or two per upload, whatever the file's size
    assert growth < 3 * PART_MIB * MIB, f"peak RSS grew {growth / MIB:.0f} MiB for a {FILE_MIB} MiB file"


def _token() -> dict[str, str]:
    from chalicelib.domain.access import Principal, PrincipalKind
    from chalicelib.domain.tenancy import TenantId
    from chalicelib.services import file_tokens
    from chalicelib.services.context import Call

    caller = Call(principal=Principal(kind=PrincipalKind.USER, id="test", is_superuser=True), request_id="m")
    return file_tokens.issue(caller, TenantId("MEMORY", "default"))


def _file(path: Path, mib: int) -> Path:
    with path.open("wb") as f:
        block = os.urandom(MIB)
        for _ in range(mib):
            f.write(block)
    return path


def _send(token: dict[str, str], path: Path, name: str) -> subprocess.CompletedProcess[str]:
    """The OSS PostObject form mPaaS tooling sends, streamed from disk by curl."""
    return subprocess.run(
        ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--noproxy", "*",
         "-F", f"key={token['dir']}{name}", "-F", f"OSSAccessKeyId={token['accessid']}",
         "-F", f"policy={token['policy']}", "-F", f"Signature={token['signature']}",
         "-F", f"file=@{path}", token["host"]],
        capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
