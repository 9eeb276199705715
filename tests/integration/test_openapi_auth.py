"""The OpenAPI root (`POST /`) over real HTTP with Alibaba Cloud's official SDKs: AccessKey
signatures, every refusal code the SDKs expect, replay protection, and the audit trail."""

from __future__ import annotations

import http.client
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from alibabacloud_mpaas20201028 import models
from alibabacloud_mpaas20201028.client import Client
from Tea.exceptions import TeaException

from tests.conftest import ws_path
from tests.mpaas_sdk import sdk_config
from tests.sdk_capture import no_proxy_env


def _tea(endpoint: str, key_id: str, secret: str, **extra) -> Client:
    return Client(sdk_config(endpoint, key_id, secret, **extra))


def _list_apps(client: Client, demo):
    with no_proxy_env():
        return client.list_mcube_nebula_apps(
            models.ListMcubeNebulaAppsRequest(
                app_id=demo["appId"], workspace_id=demo["workspaceId"], page_num=1, page_size=10
            )
        )


def _code(call) -> tuple[str, int]:
    with pytest.raises(TeaException) as err:
        call()
    return err.value.code, err.value.data.get("statusCode") if isinstance(err.value.data, dict) else None


def test_valid_signature_passes_auth(http_endpoint, demo):
    # An answer from the action proves the signature, key and nonce checks all accepted the SDK's request.
    body = _list_apps(_tea(http_endpoint, demo["accessKeyId"], demo["accessKeySecret"]), demo).body
    assert body.result_code == "OK" and body.list_mcube_nebula_apps_result.success is True


def test_legacy_rpc_signature_passes_auth(http_endpoint, demo):
    client = _tea(http_endpoint, demo["accessKeyId"], demo["accessKeySecret"], signature_algorithm="v2")
    assert _list_apps(client, demo).body.result_code == "OK"


def test_wrong_secret_is_refused_and_audited(http_endpoint, demo, admin):
    code, _ = _code(lambda: _list_apps(_tea(http_endpoint, demo["accessKeyId"], "not-the-secret"), demo))
    assert code == "SignatureDoesNotMatch"
    entries = admin.get(ws_path(demo, "/audit?entityType=access_key")).body["entries"]
    refused = [e for e in entries if e["action"] == "auth.signature"]
    assert refused and refused[0]["outcome"] == "denied" and refused[0]["entityId"] == demo["accessKeyId"]


def test_unknown_key(http_endpoint, demo):
    code, _ = _code(lambda: _list_apps(_tea(http_endpoint, "MDSAKNOSUCHKEY0000000", "x"), demo))
    assert code == "InvalidAccessKeyId.NotFound"


def test_revoked_key(http_endpoint, demo, admin):
    created = admin.post(ws_path(demo, "/access-keys"), {"role": "viewer"}).body
    admin.post(ws_path(demo, f"/access-keys/{created['accessKeyId']}/revoke"))
    code, _ = _code(
        lambda: _list_apps(_tea(http_endpoint, created["accessKeyId"], created["accessKeySecret"]), demo)
    )
    assert code == "InvalidAccessKeyId.Inactive"


def _send(endpoint: str, headers: dict[str, str], body: bytes) -> tuple[int, dict]:
    host, port = endpoint.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.request("POST", "/", body=body, headers=headers)
    resp = conn.getresponse()
    return resp.status, json.loads(resp.read())


def _signed(endpoint, demo, *, now: datetime, nonce: str | None = None, version="2020-10-28"):
    from chalicelib.security.acs_signature import sign_acs3

    body = f"AppId={demo['appId']}&WorkspaceId={demo['workspaceId']}".encode()
    headers = sign_acs3(
        "POST",
        endpoint,
        "/",
        {},
        {"content-type": "application/x-www-form-urlencoded"},
        body,
        demo["accessKeyId"],
        demo["accessKeySecret"],
        now=now,
        nonce=nonce or uuid.uuid4().hex,
        action="ListMcubeNebulaApps",
        version=version,
    )
    return headers, body


def test_replayed_request_is_refused(http_endpoint, demo):
    headers, body = _signed(http_endpoint, demo, now=datetime.now(UTC))
    first = _send(http_endpoint, headers, body)
    assert first[1]["ResultCode"] == "OK"
    status, reply = _send(http_endpoint, headers, body)
    assert (status, reply["Code"]) == (400, "SignatureNonceUsed")
    assert reply["RequestId"] and reply["HostId"] == http_endpoint


@pytest.mark.parametrize("skew", [timedelta(minutes=16), -timedelta(minutes=16)])
def test_timestamp_skew_is_refused(http_endpoint, demo, skew):
    headers, body = _signed(http_endpoint, demo, now=datetime.now(UTC) + skew)
    status, reply = _send(http_endpoint, headers, body)
    assert (status, reply["Code"]) == (400, "InvalidTimeStamp.Expired")


def test_wrong_version_is_refused(http_endpoint, demo):
    headers, body = _signed(http_endpoint, demo, now=datetime.now(UTC), version="2019-08-21")
    status, reply = _send(http_endpoint, headers, body)
    assert (status, reply["Code"]) == (400, "InvalidVersion")


def test_unsigned_request_is_refused(http_endpoint):
    status, reply = _send(http_endpoint, {"content-type": "application/x-www-form-urlencoded"}, b"AppId=x")
    assert status == 400 and reply["Code"] == "MissingParameter"


def test_access_key_signs_console_rest_calls(http_endpoint, demo):
    """The CLI/CI path: the same AccessKey signature on the console REST API."""
    from chalicelib.security.acs_signature import sign_acs3

    path = ws_path(demo, "/users")
    headers = sign_acs3(
        "GET",
        http_endpoint,
        path,
        {},
        {},
        b"",
        demo["accessKeyId"],
        demo["accessKeySecret"],
        now=datetime.now(UTC),
        nonce=uuid.uuid4().hex,
        action="Console",
        version="2020-10-28",
    )
    host, port = http_endpoint.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.request("GET", path, headers=headers)
    resp = conn.getresponse()
    assert resp.status == 200
    assert [u["username"] for u in json.loads(resp.read())["users"]] == ["admin"]
