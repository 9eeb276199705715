"""`mds local up` end to end: it serves, keeps its state across restarts, and fails clearly."""

from __future__ import annotations

import json
import socket
import stat

import pytest
import requests

from tests.builders import wait_for
from tests.delivery_harness import decode
from tests.e2e.conftest import LocalStackProcess

pytestmark = pytest.mark.e2e

STACK = "mds-dev"  # the default; the fixture's environment sets no MDS_STACK
DELIVERY_BUCKET = f"{STACK}-delivery-123456789012"


def test_health(local_stack):
    reply = requests.get(f"{local_stack.api_url}/api/health", timeout=5)
    assert reply.status_code == 200
    assert reply.json() == {"status": "ok"}


def test_bootstrap_login_is_private(local_stack):
    bootstrap = local_stack.data_dir / "bootstrap.json"
    assert bootstrap.exists(), "\n".join(local_stack.output)
    assert stat.S_IMODE(bootstrap.stat().st_mode) == 0o600
    assert json.loads(bootstrap.read_text())
    assert stat.S_IMODE((local_stack.data_dir / "master.key").stat().st_mode) == 0o600
    assert any(str(bootstrap) in line for line in local_stack.output)


def test_cdn_serves_the_delivery_bucket(local_stack):
    local_stack.aws("s3").put_object(
        Bucket=DELIVERY_BUCKET, Key="e2e/manifest.json", Body=b'{"seq": 1}', ContentType="application/json"
    )
    reply = requests.get(f"{local_stack.cdn_url}/e2e/manifest.json", timeout=5)
    assert reply.status_code == 200 and reply.json() == {"seq": 1}
    assert reply.headers["ETag"] and reply.headers["Cache-Control"]


def test_dynamodb_and_s3_data_survive_a_restart(local_stack):
    dynamodb, s3 = local_stack.aws("dynamodb"), local_stack.aws("s3")
    dynamodb.put_item(
        TableName=f"{STACK}-Tenants", Item={"tenant": {"S": "E2E#restart"}, "name": {"S": "kept"}}
    )
    s3.put_object(Bucket=DELIVERY_BUCKET, Key="e2e/kept.txt", Body=b"still here")
    bootstrap_before = (local_stack.data_dir / "bootstrap.json").read_bytes()

    local_stack.restart()

    dynamodb, s3 = local_stack.aws("dynamodb"), local_stack.aws("s3")
    item = dynamodb.get_item(TableName=f"{STACK}-Tenants", Key={"tenant": {"S": "E2E#restart"}})["Item"]
    assert item["name"] == {"S": "kept"}
    assert s3.get_object(Bucket=DELIVERY_BUCKET, Key="e2e/kept.txt")["Body"].read() == b"still here"
    assert requests.get(f"{local_stack.cdn_url}/e2e/kept.txt", timeout=5).content == b"still here"
    assert (
        local_stack.data_dir / "bootstrap.json"
    ).read_bytes() == bootstrap_before  # the demo is not re-created
    assert any(line.startswith("replayed ") for line in local_stack.output)


def test_a_port_in_use_is_a_one_line_error(tmp_path, local_up, unused_port):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        data_dir = tmp_path / "never-created"
        result = local_up(
            "--data-dir", str(data_dir), "--port", str(unused_port()), "--cdn-port", str(unused_port()),
            "--moto-port", str(taken),
        )  # fmt: skip
    assert result.returncode == 2
    assert "Traceback" not in result.stdout + result.stderr
    [line] = result.stderr.strip().splitlines()
    assert str(taken) in line and "--moto-port" in line and "MDS_MOTO_PORT" in line
    assert not data_dir.exists()  # checked before anything started


def test_the_running_stack_port_is_reported_as_in_use(local_stack, tmp_path, local_up):
    result = local_up("--data-dir", str(tmp_path / "d"), "--port", str(local_stack.port))
    assert result.returncode == 2
    assert f"port {local_stack.port}" in result.stderr and "--port" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_data_dir_in_use_is_a_one_line_error(local_stack, local_up, unused_port):
    result = local_up(
        "--data-dir", str(local_stack.data_dir), "--port", str(unused_port()),
        "--cdn-port", str(unused_port()), "--moto-port", str(unused_port()),
    )  # fmt: skip
    assert result.returncode == 2
    assert "Traceback" not in result.stdout + result.stderr
    [line] = result.stderr.strip().splitlines()
    assert str(local_stack.data_dir) in line and "--data-dir" in line


def test_make_run_publishes_off_the_request_path(tmp_path):
    """`make run`'s stack publishes queued (MDS_PUBLISH_MODE unset): a console write answers once
    committed, and the stack's publish worker puts the change on the CDN a moment later."""
    stack = LocalStackProcess(data_dir=tmp_path / "data", publish="")  # "": the stack's own default
    stack.start()
    try:
        creds = json.loads((stack.data_dir / "bootstrap.json").read_text())
        api = requests.Session()
        login = {"username": creds["username"], "password": creds["password"]}
        api.headers["Authorization"] = "Bearer " + api.post(
            f"{stack.api_url}/api/auth/login", json=login, timeout=30
        ).json()["token"]
        ws = f"{stack.api_url}/api/apps/{creds['appId']}/workspaces/{creds['workspaceId']}"
        package = api.post(f"{ws}/upgrade/packages", timeout=30, json={
            "platform": "ios", "distribution": "appStore", "version": "5.0",
            "storeUrl": "https://apps.apple.com/app/id1"}).json()  # fmt: skip
        task = api.post(f"{ws}/upgrade/packages/{package['packageId']}/tasks", timeout=30,
                        json={"type": "official", "mode": "forced"})  # fmt: skip
        assert task.status_code == 201, task.text

        published = wait_for(
            lambda: (state := api.get(f"{ws}/delivery/upgrade/ios", timeout=30).json())["sequence"]
            and not state["pending"] and state,
            what="the publish worker publishing the task",
        )
        index = requests.get(published["indexUrl"], timeout=30)
        assert index.status_code == 200 and decode(index.content)["sequence"] == published["sequence"]
    finally:
        assert stack.stop() == 0, "\n".join(stack.output)
