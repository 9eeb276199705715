"""Alibaba Cloud's official Tea SDK (``alibabacloud_mpaas20201028``) pointed at an MDS endpoint, the way
a customer's mPaaS script holds it: one client, the AppId/WorkspaceId pair, files uploaded with
GetMcubeFileToken and the OSS PostObject form. Tests read answers through the SDK's own models, so a
key we misspell (or spell right where the model misspells it) shows up as ``None``."""

from __future__ import annotations

import re
from typing import Any

import requests
from alibabacloud_mpaas20201028 import models
from alibabacloud_mpaas20201028.client import Client
from alibabacloud_tea_openapi.models import Config

from tests.sdk_capture import no_proxy_env

# The official SDK stops reading an answer after 10 s by default. A write that re-publishes manifests
# can take longer on a loaded 2-core machine (the test suite under .ci/stress), so every client the tests
# make uses one generous timeout; a customer's CI script sets its own the same way (Config.read_timeout).
SDK_READ_TIMEOUT_MS = 120_000
SDK_CONNECT_TIMEOUT_MS = 30_000


def sdk_config(endpoint: str, key_id: str, secret: str, **extra) -> Config:
    return Config(access_key_id=key_id, access_key_secret=secret, endpoint=endpoint, protocol="http",
                  read_timeout=SDK_READ_TIMEOUT_MS, connect_timeout=SDK_CONNECT_TIMEOUT_MS, **extra)  # fmt: skip


class MpaasSdk:
    def __init__(self, endpoint: str, key_id: str, secret: str, app_id: str, workspace_id: str) -> None:
        self.client = Client(sdk_config(endpoint, key_id, secret))
        self.ids = {"app_id": app_id, "workspace_id": workspace_id, "tenant_id": "MDS"}

    @classmethod
    def for_creds(cls, endpoint: str, creds: dict[str, Any]) -> MpaasSdk:
        return cls(
            endpoint, creds["accessKeyId"], creds["accessKeySecret"], creds["appId"], creds["workspaceId"]
        )

    def call(self, action: str, **params: Any) -> Any:
        """``call("CreateMcubeWhitelist", white_list_name="qa")`` → the response body model."""
        method = re.sub(r"(?<!^)(?=[A-Z])", "_", action).lower()
        request = getattr(models, action + "Request")(**self.ids, **params)
        with no_proxy_env():
            return getattr(self.client, method)(request).body

    def upload(self, name: str, data: bytes) -> str:
        """GetMcubeFileToken, then the PostObject form mPaaS tooling sends; returns the ``FileUrl``."""
        body = self.call("GetMcubeFileToken", onex_flag=True)
        assert body.result_code == "OK", body.result_message
        token = body.get_file_token_result.file_token
        key = token.dir + name
        form = {
            "key": key,
            "OSSAccessKeyId": token.accessid,
            "policy": token.policy,
            "Signature": token.signature,
        }
        with no_proxy_env():
            reply = requests.post(token.host, data=form, files={"file": (name, data)}, timeout=60)
        assert reply.status_code in (200, 204), reply.text
        return f"{token.host}/{key}"


def ok(body: Any, result: str) -> Any:
    """The result object of a successful answer (``ResultCode`` OK, ``Success`` true)."""
    assert body.result_code == "OK", body.result_message
    found = getattr(body, result)
    assert found is not None, f"{result} missing from {body.to_map()}"
    assert found.success is True, body.to_map()
    return found


def refused(body: Any, result: str, field: str) -> str:
    """A business failure naming ``field``: HTTP 200, non-OK ``ResultCode``, ``Success`` false."""
    assert body.result_code not in (None, "OK"), body.to_map()
    assert body.result_message.startswith(field), body.result_message
    found = getattr(body, result)
    assert found is not None and found.success is False, body.to_map()
    return body.result_message
