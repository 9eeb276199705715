"""Shared fixtures: a clean environment per test, moto-backed AWS built from infra/template.json,
and the Chalice app driven through its real HTTP surface (``chalice.test.Client``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

STACK = "mds-test"

# Property tests judge behaviour, never speed: on a loaded 2-core machine one example can take far
# longer than hypothesis's default 200 ms deadline, and its "too slow" health check would fail a
# correct test. Benchmarks (bench/) are where time is measured.
settings.register_profile("mds", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("mds")

# moto's in-process DynamoDB backs a transaction up per item, as the local stack's does, not per table
from mds.local import moto_speedups  # noqa: E402

moto_speedups.install()


def pytest_addoption(parser):
    parser.addoption("--skip-slow", action="store_true", help="skip tests marked slow or e2e")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--skip-slow"):
        skip = pytest.mark.skip(reason="--skip-slow")
        for item in items:
            if "slow" in item.keywords or "e2e" in item.keywords:
                item.add_marker(skip)


def _reset_caches():
    from chalicelib import config
    from chalicelib.store import aws, keyring, queues
    from chalicelib.store.models import ALL_MODELS

    config.reload()
    aws.reset()
    keyring.reset()
    queues.reset()
    for model in ALL_MODELS:
        model._connection = None


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "MDS_KMS_KEY_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("MDS_STACK", STACK)
    monkeypatch.setenv("MDS_MASTER_KEY_FILE", str(tmp_path / "master.key"))
    monkeypatch.setenv("MDS_LOG_LEVEL", "WARNING")
    # Password hashes at scrypt n=2**10 (1 MiB) instead of 2**15: the same algorithm and stored form,
    # ~2 ms instead of ~100 ms for each test's demo login. tests/unit/test_security.py checks the default.
    monkeypatch.setenv("MDS_PASSWORD_SCRYPT_LOG2_N", "10")
    # A change is published before the request answers, so a test reads its own write from the CDN at
    # once; tests/integration/test_publish_queue.py covers the queued mode that Lambda and `make run` use.
    monkeypatch.setenv("MDS_PUBLISH_MODE", "inline")
    _reset_caches()
    yield
    _reset_caches()


def _atomic_dynamodb(monkeypatch) -> None:
    """DynamoDB runs each request atomically; moto's in-process backend does not (a conditional put
    checks, then writes, and another thread can run in between; two threads in one TransactWriteItems
    corrupt its tables). Serialise moto's DynamoDB requests, as the local stack's moto server does
    (mds/local/moto_server.py), so the only concurrency a test sees is ours."""
    import threading

    from moto.dynamodb.responses import DynamoHandler

    lock, call_action = threading.Lock(), DynamoHandler.call_action

    def atomic(self):
        with lock:
            return call_action(self)

    monkeypatch.setattr(DynamoHandler, "call_action", atomic)


@pytest.fixture
def aws(monkeypatch):
    """In-process moto with every table, bucket and queue of infra/template.json."""
    from moto import mock_aws

    from mds.local.resources import ensure_resources

    _atomic_dynamodb(monkeypatch)
    with mock_aws():
        resources = ensure_resources(None, stack=STACK)
        monkeypatch.setenv("MDS_ARTIFACTS_BUCKET", resources.buckets["ArtifactsBucket"])
        monkeypatch.setenv("MDS_DELIVERY_BUCKET", resources.buckets["DeliveryBucket"])
        _reset_caches()
        yield resources


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str]


class Api:
    """The console REST API as a test sees it: JSON in, ``Reply`` out, optional bearer token."""

    def __init__(self, client):
        self._client = client
        self.token: str | None = None

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = None,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        sent = {"content-type": "application/json", **(headers or {})}
        bearer = token if token is not None else self.token
        if bearer:
            sent["authorization"] = f"Bearer {bearer}"
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
        resp = getattr(self._client.http, method.lower())(path, headers=sent, body=data)
        try:
            parsed = json.loads(resp.body) if resp.body else None
        except ValueError:
            parsed = resp.body
        return Reply(resp.status_code, parsed, dict(resp.headers))

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def login(self, username: str, password: str) -> str:
        reply = self.post("/api/auth/login", {"username": username, "password": password}, token="")
        assert reply.status == 200, reply.body
        return reply.body["token"]


@pytest.fixture
def client(aws):
    from chalice.test import Client

    from app import app

    with Client(app) as c:
        yield c


@pytest.fixture
def api(client) -> Api:
    return Api(client)


@pytest.fixture
def demo(aws) -> dict[str, Any]:
    """The first-start bootstrap: admin (superuser), demo workspace, admin AccessKey."""
    from chalicelib.services.demo import ensure_demo

    creds = ensure_demo()
    assert creds is not None
    return creds


@pytest.fixture
def admin(api, demo) -> Api:
    api.token = api.login(demo["username"], demo["password"])
    return api


def ws_path(creds: dict[str, Any], suffix: str = "") -> str:
    return f"/api/apps/{creds['appId']}/workspaces/{creds['workspaceId']}{suffix}"


@pytest.fixture(scope="session")
def _local_server():
    """Chalice's local HTTP server, once per session (it rewires the app's class, so it cannot be
    created twice in one process). Each test still gets its own moto state via ``aws``."""
    import threading
    from pathlib import Path

    from chalice.cli.factory import CLIFactory
    from chalice.local import create_local_server

    factory = CLIFactory(project_dir=str(Path(__file__).resolve().parents[1]))
    cfg = factory.create_config_obj(chalice_stage_name="dev")
    server = create_local_server(cfg.chalice_app, cfg, "127.0.0.1", 0)  # 0: bound to a free port at once
    port = server.server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def http_endpoint(aws, _local_server):
    """The app over real HTTP, as ``host:port`` — the form the mPaaS SDKs take as ``endpoint``."""
    return _local_server
