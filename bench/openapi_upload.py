"""A 300 MB batch zip through the GetMcubeFileToken upload host of the local server (chalice local).

Runs moto as a separate server process (so its copy of the object does not count), serves the app with
Chalice's local server in this process, and POSTs a generated file with curl (which streams from disk)
in the OSS PostObject form. Prints the server's peak-RSS growth as a multiple of the file size, and the
upload time as a ratio against a baseline measured in the same run: the same bytes put straight into
moto S3 with one boto3 multipart upload (upload_file).

    .venv/bin/python bench/openapi_upload.py [--mb 300]
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=300)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="mds-upload-bench-"))
    moto_port, api_port = _free_port(), _free_port()
    moto = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(moto_port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _run(tmp, moto_port, api_port, args.mb)
    finally:
        moto.terminate()
        moto.wait()
        for f in tmp.iterdir():
            f.unlink()
        tmp.rmdir()


def _run(tmp: Path, moto_port: int, api_port: int, mb: int) -> None:
    moto_url = f"http://127.0.0.1:{moto_port}"
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1",
        AWS_ENDPOINT_URL=moto_url, MDS_STACK="mds-bench", MDS_MASTER_KEY_FILE=str(tmp / "master.key"),
        MDS_LOG_LEVEL="WARNING", MDS_API_BASE_URL=f"http://127.0.0.1:{api_port}",
    )  # fmt: skip
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", moto_port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    from mds.local.resources import ensure_resources

    resources = ensure_resources(moto_url, stack="mds-bench")
    os.environ["MDS_ARTIFACTS_BUCKET"] = bucket = resources.buckets["ArtifactsBucket"]
    import chalicelib.config

    chalicelib.config.reload()
    from chalice.cli.factory import CLIFactory
    from chalice.local import create_local_server

    factory = CLIFactory(project_dir=str(ROOT))
    config = factory.create_config_obj(chalice_stage_name="dev")
    server = create_local_server(factory.load_chalice_app(), config, "127.0.0.1", api_port)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    path = tmp / "batch.zip"
    with path.open("wb") as f:
        block = os.urandom(1024 * 1024)
        for _ in range(mb):
            f.write(block)
    size = path.stat().st_size

    from chalicelib.domain.access import Principal, PrincipalKind
    from chalicelib.domain.tenancy import TenantId
    from chalicelib.services import file_tokens
    from chalicelib.services.context import Call
    from chalicelib.store.aws import client

    s3 = client("s3")
    started = time.perf_counter()
    s3.upload_file(str(path), bucket, "bench/baseline.zip")
    baseline = time.perf_counter() - started
    s3.delete_object(Bucket=bucket, Key="bench/baseline.zip")

    caller = Call(principal=Principal(kind=PrincipalKind.USER, id="bench", is_superuser=True), request_id="b")
    print(f"file: {size / 1e6:.0f} MB; baseline boto3 upload_file to moto: {baseline:.1f}s")

    # peak RSS only grows: measure the streaming host first, then Chalice's buffering local server
    from mds.upload_host import serve

    streaming = serve("127.0.0.1", 0)
    threading.Thread(target=streaming.serve_forever, daemon=True).start()
    stream_url = f"http://127.0.0.1:{streaming.server_address[1]}"
    for label, host in (("mds/upload_host.py (streaming)", stream_url), ("chalice local /mcube-files", "")):
        os.environ["MDS_FILE_UPLOAD_HOST"] = host
        chalicelib.config.reload()
        token = file_tokens.issue(caller, TenantId("BENCH", "default"))
        rss_before = _rss_mb()
        started = time.perf_counter()
        done = _curl(token, path)
        elapsed = time.perf_counter() - started
        rss_after = _rss_mb()
        head = s3.head_object(Bucket=bucket, Key=f"files/{token['dir']}batch.zip")
        assert done.stdout == "204", (done.stdout, done.stderr)
        assert head["ContentLength"] == size
        growth = (rss_after - rss_before) * 1024 * 1024 / size
        print(
            f"{label}: HTTP {done.stdout}, {elapsed:.1f}s (ratio {elapsed / baseline:.2f} to the baseline); "
            f"peak RSS {rss_before:.0f} -> {rss_after:.0f} MB (+{growth:.2f} x file size)"
        )
    streaming.shutdown()
    server.shutdown()


def _curl(token: dict, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            "curl",
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--noproxy",
            "*",
            "-F",
            f"key={token['dir']}batch.zip",
            "-F",
            f"OSSAccessKeyId={token['accessid']}",
            "-F",
            f"policy={token['policy']}",
            "-F",
            f"Signature={token['signature']}",
            "-F",
            f"file=@{path}",
            token["host"],
        ],  # fmt: skip
        capture_output=True,
        text=True,
        check=False,
    )


if __name__ == "__main__":
    main()
