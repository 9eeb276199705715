"""chalicelib.security.acs_signature against requests recorded from the REAL official SDKs.

The point is compatibility with what `alibabacloud_mpaas20201028` (Tea: ACS3-HMAC-SHA256 by default,
RPC HMAC-SHA1 with ``signature_algorithm='v2'``) and `aliyunsdkcore` (CommonRequest, RPC HMAC-SHA1)
actually put on the wire — not with our own reading of spec/mpaas-openapi-wire.md §4. Every captured
request must verify with the right secret and fail with the wrong one / when tampered / when stale,
and the legacy SDK must recognise our string-to-sign as byte-identical to its own.
"""

from __future__ import annotations

import dataclasses
import hashlib
import http.client
import json
from datetime import UTC, datetime, timedelta

import pytest
from alibabacloud_mpaas20201028 import models as mpaas_models
from alibabacloud_mpaas20201028.client import Client as MpaasClient
from alibabacloud_tea_openapi.client import Client as OpenApiClient
from alibabacloud_tea_openapi.exceptions import ClientException as TeaClientException
from alibabacloud_tea_openapi.utils import Utils as TeaUtils
from alibabacloud_tea_openapi.utils_models import Config, OpenApiRequest, Params
from aliyunsdkcore.acs_exception.exceptions import ServerException as LegacyServerException
from aliyunsdkcore.auth.composer import rpc_signature_composer
from aliyunsdkcore.client import AcsClient
from aliyunsdkcore.request import CommonRequest, RpcRequest
from darabonba.request import DaraRequest
from darabonba.runtime import RuntimeOptions
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.domain.errors import (
    MissingParameter,
    SignatureMismatch,
    SignatureMissing,
    TimestampExpired,
    ValidationError,
)
from chalicelib.security.acs_signature import (
    ACS3_HMAC_SHA256,
    RPC_HMAC_SHA1,
    Credentials,
    SignedRequest,
    canonical_query_string,
    canonical_uri,
    form_params,
    identify,
    rpc_string_to_sign,
    sign_acs3,
    sign_rpc,
    verify,
)
from tests.sdk_capture import CapturedRequest, capture_server, no_proxy_env

AK = "LTAI5tMdsTestKey01"
SECRET = "s3cr3t/Secret+Value="
WRONG_SECRET = "s3cr3t/Secret+Valuf="
# Stresses the encodings: space, '*', '~', '+', '&', '=', non-ASCII.
NASTY = "a b*~+&=中文"
VERSION = "2020-10-28"


# --------------------------------------------------------------------------------------------------
# Capturing real SDK requests


def _tea_client(endpoint: str, **extra) -> MpaasClient:
    return MpaasClient(
        Config(access_key_id=AK, access_key_secret=SECRET, endpoint=endpoint, protocol="http", **extra)
    )


def _list_apps_request() -> mpaas_models.ListMcubeNebulaAppsRequest:
    return mpaas_models.ListMcubeNebulaAppsRequest(
        app_id="ALIPUB059F038311550",
        workspace_id="default",
        tenant_id="",
        keyword=NASTY,
        page_num=1,
        page_size=20,
    )


def _create_resource_request() -> mpaas_models.CreateMcubeNebulaResourceRequest:
    return mpaas_models.CreateMcubeNebulaResourceRequest(
        app_id="ALIPUB059F038311550",
        workspace_id="default",
        tenant_id="",
        h_5id="12345678",
        h_5name="离线包 *~",
        h_5version="1.0.0.1",
        file_url="http://127.0.0.1:9/upload/dir/pkg.zip?x=1&y=a b",
        main_url="/www/index.html",
        extend_info='{"launchParams": {"url": "/www/index.html", "x": "+&="}}',
        resource_type=1,
        platform="all",
        client_version_min=";1.0.0",
        client_version_max="",
        auto_install=1,
        install_type=0,
        onex_flag=True,
    )


def _legacy_request(endpoint: str, action: str, body: dict[str, str], query: dict[str, str] | None = None):
    req = CommonRequest(domain=endpoint, version=VERSION, action_name=action, product="mPaaS")
    req.set_method("POST")
    req.set_protocol_type("http")
    for k, v in body.items():
        req.add_body_params(k, v)
    for k, v in (query or {}).items():
        req.add_query_param(k, v)
    return req


def _tea_generic(client: OpenApiClient, action: str, method: str, pathname: str, style: str, **request):
    params = Params(
        action=action,
        version="2024-01-01" if style == "ROA" else VERSION,
        protocol="HTTP",
        pathname=pathname,
        method=method,
        auth_type="AK",
        style=style,
        req_body_type="json" if style == "ROA" else "formData",
        body_type="json",
    )
    client.call_api(params, OpenApiRequest(**request), RuntimeOptions())


LEGACY_BODY = {"AppId": "ALIPUB059F038311550", "WorkspaceId": "default", "TenantId": "", "Keyword": NASTY}

# name -> expected scheme
SDK_REQUESTS = {
    "tea-acs3-list": ACS3_HMAC_SHA256,
    "tea-acs3-create-resource": ACS3_HMAC_SHA256,
    "tea-acs3-generic-rpc-query-and-body": ACS3_HMAC_SHA256,
    "tea-acs3-generic-get-path-query": ACS3_HMAC_SHA256,
    "tea-acs3-generic-post-json": ACS3_HMAC_SHA256,
    "tea-v2-list": RPC_HMAC_SHA1,
    "tea-v2-create-resource": RPC_HMAC_SHA1,
    "legacy-list": RPC_HMAC_SHA1,
    "legacy-query-and-body": RPC_HMAC_SHA1,
    "legacy-rpcrequest": RPC_HMAC_SHA1,
}
ACS3_REQUESTS = [name for name, scheme in SDK_REQUESTS.items() if scheme == ACS3_HMAC_SHA256]


@pytest.fixture(scope="module")
def captured() -> dict[str, CapturedRequest]:
    out: dict[str, CapturedRequest] = {}
    with no_proxy_env(), capture_server() as cap:

        def record(name: str) -> None:
            assert len(cap.requests) == len(out) + 1, f"{name}: expected exactly one HTTP request"
            out[name] = cap.last

        tea = _tea_client(cap.endpoint)
        tea.list_mcube_nebula_apps(_list_apps_request())
        record("tea-acs3-list")
        tea.create_mcube_nebula_resource(_create_resource_request())
        record("tea-acs3-create-resource")

        generic = OpenApiClient(
            Config(access_key_id=AK, access_key_secret=SECRET, endpoint=cap.endpoint, protocol="http")
        )
        _tea_generic(
            generic,
            "ListMcubeNebulaApps",
            "POST",
            "/",
            "RPC",
            query={"QueryKeyword": NASTY, "Empty": ""},
            body={"AppId": "A1", "Keyword": NASTY, "TenantId": ""},
        )
        record("tea-acs3-generic-rpc-query-and-body")
        _tea_generic(
            generic,
            "ListResources",
            "GET",
            "/v1/apps/ALIPUB059F038311550/resources",
            "ROA",
            query={"keyword": NASTY, "empty": "", "page": "2"},
        )
        record("tea-acs3-generic-get-path-query")
        _tea_generic(
            generic,
            "CreateApp",
            "POST",
            "/v1/apps",
            "ROA",
            query={"dryRun": "true"},
            body={"name": NASTY, "n": 1, "nested": {"x": [1, 2]}},
        )
        record("tea-acs3-generic-post-json")

        tea_v2 = _tea_client(cap.endpoint, signature_algorithm="v2")
        tea_v2.list_mcube_nebula_apps(_list_apps_request())
        record("tea-v2-list")
        tea_v2.create_mcube_nebula_resource(_create_resource_request())
        record("tea-v2-create-resource")

        legacy = AcsClient(AK, SECRET, "cn-hangzhou")
        legacy.do_action_with_exception(_legacy_request(cap.endpoint, "ListMcubeNebulaApps", LEGACY_BODY))
        record("legacy-list")
        legacy.do_action_with_exception(
            _legacy_request(
                cap.endpoint,
                "CreateMcubeNebulaApp",
                {
                    "AppId": "A1",
                    "WorkspaceId": "default",
                    "H5Id": "12345678",
                    "H5Name": NASTY,
                    "TenantId": "",
                },
                query={"QueryExtra": NASTY, "QueryEmpty": ""},
            )
        )
        record("legacy-query-and-body")
        rpc = RpcRequest("mPaaS", VERSION, "ListMcubeNebulaApps")  # what generated request classes extend
        rpc.set_endpoint(cap.endpoint)
        rpc.set_method("POST")
        rpc.set_protocol_type("http")
        for k, v in LEGACY_BODY.items():
            rpc.add_body_params(k, v)
        legacy.do_action_with_exception(rpc)
        record("legacy-rpcrequest")
    return out


def to_signed(req: CapturedRequest) -> SignedRequest:
    """What a web framework hands the app: decoded path and query, headers, raw body."""
    return SignedRequest(
        method=req.method, path=req.path, query=req.query, headers=req.headers, body=req.body
    )


@pytest.fixture(params=list(SDK_REQUESTS))
def sdk_case(request, captured) -> tuple[str, SignedRequest, Credentials]:
    name = request.param
    signed = to_signed(captured[name])
    return name, signed, identify(signed)


@pytest.fixture(params=ACS3_REQUESTS)
def acs3_case(request, captured) -> tuple[str, SignedRequest, Credentials]:
    signed = to_signed(captured[request.param])
    return request.param, signed, identify(signed)


def with_headers(req: SignedRequest, **changes: str | None) -> SignedRequest:
    headers = dict(req.headers)
    for name, value in changes.items():
        name = name.replace("_", "-")
        if value is None:
            headers.pop(name, None)
        else:
            headers[name] = value
    return dataclasses.replace(req, headers=headers)


def with_query(req: SignedRequest, **changes: str | None) -> SignedRequest:
    query = dict(req.query)
    for name, value in changes.items():
        if value is None:
            query.pop(name, None)
        else:
            query[name] = value
    return dataclasses.replace(req, query=query)


def shifted_date(value: str, seconds: int) -> str:
    ts = datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ") + timedelta(seconds=seconds)
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def assert_mismatch(req: SignedRequest, secret: str = SECRET) -> SignatureMismatch:
    creds = identify(req)
    with pytest.raises(SignatureMismatch) as exc_info:
        verify(req, creds, secret, now=creds.timestamp)
    return exc_info.value


# --------------------------------------------------------------------------------------------------
# What the SDKs send (documents the surprises; guards the spec's §2/§4 tables)


def test_wire_facts_of_the_real_sdks(captured):
    tea = captured["tea-acs3-list"]
    assert tea.raw_query == "" and tea.raw_path == "/"
    # Tea: lower-case header names except 'Authorization'; body keys sorted, '+' for space.
    mixed_case = {n for n, _ in tea.raw_headers if n != n.lower()}
    assert "Authorization" in mixed_case and mixed_case <= {
        "Authorization",
        "Accept-Encoding",
        "Content-Length",
    }
    assert tea.header("x-acs-credentials-provider") == "static_ak"
    assert tea.body.startswith(b"AppId=ALIPUB059F038311550&Keyword=a+b%2A~%2B%26%3D%E4%B8%AD%E6%96%87&")
    assert b"TenantId=&" in tea.body
    signed = set(tea.header("authorization").split("SignedHeaders=")[1].split(",")[0].split(";"))
    assert {"accept", "user-agent", "content-type", "x-acs-credentials-provider"} <= signed
    assert "accept-encoding" not in signed and "content-length" not in signed

    v2 = captured["tea-v2-list"]
    assert v2.query["Format"] == "json" and "SignatureType" not in v2.query and "RegionId" not in v2.query
    assert "authorization" not in v2.headers and v2.header("x-acs-action") == "ListMcubeNebulaApps"

    legacy = captured["legacy-list"]
    assert legacy.query["Format"] == "JSON" and legacy.query["SignatureType"] == ""
    assert legacy.query["RegionId"] == "cn-hangzhou"
    assert legacy.header("content-md5") and legacy.header("x-acs-action") == "ListMcubeNebulaApps"
    # aliyunsdkcore keeps insertion order in the body (not sorted), '+' for space.
    assert legacy.body.startswith(b"AppId=ALIPUB059F038311550&WorkspaceId=default&TenantId=&Keyword=a+b%2A")
    # ...and RFC 3986 style (%20, not '+') in the query string.
    assert "QueryExtra=a%20b%2A~%2B%26%3D" in captured["legacy-query-and-body"].raw_query


# --------------------------------------------------------------------------------------------------
# Every captured request: verifies, and fails as it should


def test_identify_reads_scheme_key_action_version(sdk_case):
    name, req, creds = sdk_case
    assert creds.scheme == SDK_REQUESTS[name]
    assert creds.access_key_id == AK
    assert creds.version in (VERSION, "2024-01-01")
    assert creds.action
    assert creds.nonce
    assert creds.timestamp.tzinfo is not None
    assert abs(creds.timestamp - datetime.now(UTC)) < timedelta(minutes=5)


def test_verifies_with_the_right_secret(sdk_case):
    _, req, creds = sdk_case
    verify(req, creds, SECRET, now=creds.timestamp)
    verify(req, creds, SECRET, now=datetime.now(UTC))


def test_wrong_secret_is_a_mismatch_with_string_to_sign_after_a_colon(sdk_case):
    _, req, _ = sdk_case
    err = assert_mismatch(req, WRONG_SECRET)
    assert err.message.split(":")[1] == err.string_to_sign  # what aliyunsdkcore does with it
    assert err.string_to_sign


def test_tampered_body_is_a_mismatch(sdk_case):
    _, req, _ = sdk_case
    if req.body:
        flipped = req.body[:-1] + bytes([req.body[-1] ^ 1])
        assert_mismatch(dataclasses.replace(req, body=flipped))
    assert_mismatch(dataclasses.replace(req, body=req.body + b"&Injected=1" if req.body else b"Injected=1"))


def test_tampered_body_with_recomputed_content_hash_is_a_mismatch(acs3_case):
    _, req, _ = acs3_case
    body = req.body + b"&Injected=1"
    assert_mismatch(
        with_headers(
            dataclasses.replace(req, body=body), x_acs_content_sha256=hashlib.sha256(body).hexdigest()
        )
    )


def test_tampered_signed_header_is_a_mismatch(acs3_case):
    """Every header in SignedHeaders is covered (RPC v1.0 signs none: see the RPC section)."""
    _, req, creds = acs3_case
    assert len(creds.signed_headers) >= 9
    for name in creds.signed_headers:
        value = req.headers[name]
        new = shifted_date(value, 1) if name == "x-acs-date" else value + "x"
        tampered = with_headers(req, **{name.replace("-", "_"): new})
        assert_mismatch(tampered)


def test_tampered_or_added_query_param_is_a_mismatch(sdk_case):
    _, req, creds = sdk_case
    assert_mismatch(with_query(req, Injected="1"))
    for name, value in req.query.items():
        if name in ("Signature", "SignatureMethod", "SignatureVersion"):
            continue
        new = shifted_date(value, 1) if name == "Timestamp" else value + "x"
        # Unsigned duplicates of Action/Version in headers would (rightly) conflict; drop them so the
        # signature check is what fails.
        tampered = with_query(req, **{name: new})
        if creds.scheme == RPC_HMAC_SHA1:
            tampered = with_headers(tampered, x_acs_action=None, x_acs_version=None)
        assert_mismatch(tampered)


@pytest.mark.parametrize("minutes", [16, -16])
def test_stale_or_future_timestamp_is_expired(sdk_case, minutes):
    _, req, creds = sdk_case
    with pytest.raises(TimestampExpired):
        verify(req, creds, SECRET, now=creds.timestamp + timedelta(minutes=minutes))
    # Signature is checked first: a forged stale request is a mismatch, not "expired".
    with pytest.raises(SignatureMismatch):
        verify(req, creds, WRONG_SECRET, now=creds.timestamp + timedelta(minutes=minutes))


@pytest.mark.parametrize("minutes", [14, -14, 15, -15])
def test_timestamp_within_window_passes(sdk_case, minutes):
    _, req, creds = sdk_case
    verify(req, creds, SECRET, now=creds.timestamp + timedelta(minutes=minutes))


def test_unsigned_request_is_signature_missing(sdk_case):
    _, req, _ = sdk_case
    bare = with_query(with_headers(req, authorization=None), Signature=None)
    with pytest.raises(SignatureMissing) as exc_info:
        identify(bare)
    assert "Authorization" in exc_info.value.message and "Signature" in exc_info.value.message
    with pytest.raises(SignatureMissing):
        identify(with_headers(bare, authorization="Bearer abc"))


def test_header_names_are_case_insensitive(sdk_case):
    _, req, creds = sdk_case
    shouting = dataclasses.replace(req, headers={k.upper(): v for k, v in req.headers.items()})
    verify(shouting, identify(shouting), SECRET, now=creds.timestamp)


# --------------------------------------------------------------------------------------------------
# RPC specifics


def test_rpc_headers_are_not_signed_but_cannot_redirect_the_action(captured):
    req = to_signed(captured["legacy-list"])
    creds = identify(req)
    assert creds.action == "ListMcubeNebulaApps"
    # RPC v1.0 does not cover headers: changing an unrelated one still verifies...
    verify(with_headers(req, user_agent="evil"), creds, SECRET, now=creds.timestamp)
    # ...so an unsigned x-acs-action must not be able to pick another action.
    with pytest.raises(ValidationError) as exc_info:
        identify(with_headers(req, x_acs_action="DeleteMcubeNebulaApp"))
    assert exc_info.value.field == "x-acs-action"
    with pytest.raises(ValidationError):
        identify(with_headers(req, x_acs_version="2019-08-21"))


def test_form_params_match_what_the_sdk_was_given(captured):
    tea = form_params(to_signed(captured["tea-acs3-list"]))
    assert tea == {
        "AppId": "ALIPUB059F038311550",
        "Keyword": NASTY,
        "PageNum": "1",
        "PageSize": "20",
        "TenantId": "",
        "WorkspaceId": "default",
    }
    created = form_params(to_signed(captured["tea-v2-create-resource"]))
    assert created["OnexFlag"] == "True"  # Python bool via str()
    assert created["H5Name"] == "离线包 *~" and created["ClientVersionMax"] == ""
    assert created["ExtendInfo"] == '{"launchParams": {"url": "/www/index.html", "x": "+&="}}'
    assert form_params(to_signed(captured["legacy-list"])) == LEGACY_BODY
    # JSON body is not form data.
    assert form_params(to_signed(captured["tea-acs3-generic-post-json"])) == {}


def test_form_params_last_value_wins_and_blank_kept():
    req = SignedRequest(
        "POST",
        "/",
        {},
        {"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"},
        b"A=1&B=&A=2&C=x+y%2B",
    )
    assert form_params(req) == {"A": "2", "B": "", "C": "x y+"}
    with pytest.raises(ValidationError) as exc_info:
        form_params(dataclasses.replace(req, body=b"A=%FF"))
    assert exc_info.value.field == "body"


def test_our_rpc_string_to_sign_equals_the_legacy_sdk_one(captured):
    req = to_signed(captured["legacy-query-and-body"])
    params = {k: v for k, v in req.query.items() if k != "Signature"} | form_params(req)
    sdk_sts = getattr(rpc_signature_composer, "__compose_string_to_sign")("POST", params)
    assert rpc_string_to_sign("POST", params) == sdk_sts


# --------------------------------------------------------------------------------------------------
# The SDKs' own reaction to our errors (§5.2)


def _verifying_responder(server_secret: str):
    def respond(captured_request: CapturedRequest):
        req = to_signed(captured_request)
        creds = identify(req)
        try:
            verify(req, creds, server_secret, now=datetime.now(UTC))
        except SignatureMismatch as err:
            body = {
                "RequestId": "r-1",
                "Code": err.CODE,
                "Message": err.message,
                "HostId": "h",
                "Recommend": "",
            }
            return 400, {"Content-Type": "application/json;charset=utf-8"}, json.dumps(body).encode()
        ok = {
            "RequestId": "r-2",
            "ResultCode": "OK",
            "ResultMessage": "",
            "CreateNebulaAppResult": {"Success": True},
        }
        return 200, {"Content-Type": "application/json;charset=utf-8"}, json.dumps(ok).encode()

    return respond


def test_legacy_sdk_recognises_our_string_to_sign_as_its_own():
    """aliyunsdkcore compares ``Message.split(':')[1]`` with its own string-to-sign; equal means the only
    difference is the secret, and it then reports InvalidAccessKeySecret. This only works with
    RpcRequest (what generated request classes subclass): CommonRequest keeps the string-to-sign on an
    inner request object and compares against '' — it always reports SignatureDoesNotMatch."""
    body = {"AppId": "A1", "WorkspaceId": "default", "H5Id": "12345678", "H5Name": NASTY, "TenantId": ""}
    with no_proxy_env(), capture_server(respond=_verifying_responder("server-side-secret")) as cap:
        client = AcsClient(AK, SECRET, "cn-hangzhou", auto_retry=False)
        rpc = RpcRequest("mPaaS", VERSION, "CreateMcubeNebulaApp")
        rpc.set_endpoint(cap.endpoint)
        rpc.set_method("POST")
        rpc.set_protocol_type("http")
        rpc.add_query_param("Q", NASTY)
        for k, v in body.items():
            rpc.add_body_params(k, v)
        with pytest.raises(LegacyServerException) as exc_info:
            client.do_action_with_exception(rpc)
        assert exc_info.value.get_error_code() == "InvalidAccessKeySecret"
        assert exc_info.value.get_http_status() == 400

        with pytest.raises(LegacyServerException) as exc_info:
            client.do_action_with_exception(_legacy_request(cap.endpoint, "CreateMcubeNebulaApp", body))
        assert exc_info.value.get_error_code() == "SignatureDoesNotMatch"
        assert "server string to sign is:POST&%2F&" in exc_info.value.get_error_msg()


def test_sdks_succeed_against_a_verifying_server_and_fail_with_a_different_secret():
    with no_proxy_env(), capture_server(respond=_verifying_responder(SECRET)) as cap:
        req = mpaas_models.CreateMcubeNebulaAppRequest(
            app_id="A1", workspace_id="default", h_5id="12345678", h_5name=NASTY
        )
        assert _tea_client(cap.endpoint).create_mcube_nebula_app(req).body.create_nebula_app_result.success
        assert (
            _tea_client(cap.endpoint, signature_algorithm="v2").create_mcube_nebula_app(req).status_code
            == 200
        )
        AcsClient(AK, SECRET, "cn-hangzhou").do_action_with_exception(
            _legacy_request(cap.endpoint, "CreateMcubeNebulaApp", {"AppId": "A1", "H5Name": NASTY})
        )
    with no_proxy_env(), capture_server(respond=_verifying_responder("server-side-secret")) as cap:
        with pytest.raises(TeaClientException) as exc_info:
            _tea_client(cap.endpoint).create_mcube_nebula_app(req)
    assert exc_info.value.code == "SignatureDoesNotMatch"
    assert exc_info.value.status_code == 400


# --------------------------------------------------------------------------------------------------
# Structural checks


def test_acs3_required_signed_headers():
    now = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    headers = sign_acs3(
        "POST", "h:1", "/", {}, {}, b"", AK, SECRET, now=now, nonce="n1", action="A", version="V"
    )
    req = SignedRequest("POST", "/", {}, headers, b"")
    verify(req, identify(req), SECRET, now=now)
    for missing in (
        "host",
        "x-acs-date",
        "x-acs-signature-nonce",
        "x-acs-action",
        "x-acs-version",
        "x-acs-content-sha256",
    ):
        auth = headers["Authorization"]
        signed = auth.split("SignedHeaders=")[1].split(",")[0]
        reduced = ";".join(h for h in signed.split(";") if h != missing)
        bad = with_headers(req, authorization=auth.replace(signed, reduced))
        with pytest.raises(MissingParameter) as exc_info:
            verify(bad, identify(bad), SECRET, now=now)
        assert exc_info.value.field == f"SignedHeaders.{missing}"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"x_acs_date": "2030-01-02 03:04:05"}, "x-acs-date"),
        ({"x_acs_date": "2030-13-02T03:04:05Z"}, "x-acs-date"),
        ({"x_acs_date": None}, "x-acs-date"),
        ({"x_acs_signature_nonce": None}, "x-acs-signature-nonce"),
        ({"x_acs_action": None}, "x-acs-action"),
        ({"authorization": "ACS3-RSA-SHA256 Credential=a,SignedHeaders=host,Signature=00"}, "Authorization"),
        ({"authorization": "ACS3-HMAC-SHA256 Credential=a,Signature=00"}, "Authorization"),
    ],
)
def test_acs3_malformed_common_params_name_the_field(change, field):
    now = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    headers = sign_acs3(
        "GET", "h", "/", {}, {}, None, AK, SECRET, now=now, nonce="n", action="A", version="V"
    )
    req = with_headers(SignedRequest("GET", "/", {}, headers), **change)
    with pytest.raises(ValidationError) as exc_info:
        identify(req)
    assert exc_info.value.field == field


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"Timestamp": "2030-01-02T03:04:05"}, "Timestamp"),
        ({"Timestamp": None}, "Timestamp"),
        ({"SignatureNonce": None}, "SignatureNonce"),
        ({"AccessKeyId": None}, "AccessKeyId"),
        ({"Action": None}, "Action"),
        ({"SignatureMethod": "HMAC-SHA256"}, "SignatureMethod"),
        ({"SignatureVersion": "2.0"}, "SignatureVersion"),
    ],
)
def test_rpc_malformed_common_params_name_the_field(change, field):
    now = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    query = sign_rpc("POST", {}, {}, AK, SECRET, now=now, nonce="n", action="A", version="V")
    with pytest.raises(ValidationError) as exc_info:
        identify(with_query(SignedRequest("POST", "/", query), **change))
    assert exc_info.value.field == field


def test_verify_refuses_naive_now_and_foreign_credentials(captured):
    req = to_signed(captured["tea-acs3-list"])
    creds = identify(req)
    with pytest.raises(ValueError):
        verify(req, creds, SECRET, now=datetime.utcnow())
    other = identify(to_signed(captured["tea-acs3-create-resource"]))
    with pytest.raises(ValueError):
        verify(req, other, SECRET, now=creds.timestamp)


def test_rpc_signature_over_form_body_only_when_form_content_type(captured):
    req = to_signed(captured["legacy-list"])
    creds = identify(req)
    # The SDK signed the body params; if they are not read as form data, the signature cannot match.
    assert_mismatch(with_headers(req, content_type="application/json"))
    verify(req, creds, SECRET, now=creds.timestamp)


# --------------------------------------------------------------------------------------------------
# sign_acs3 / sign_rpc round trips (our mds CLI signs with these)


def _send(endpoint: str, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes):
    """Send exactly as the CLI should: path via canonical_uri, query via canonical_query_string."""
    host, port = endpoint.split(":")
    target = canonical_uri(path) + (f"?{canonical_query_string(query)}" if query else "")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request(method, target, body=body or None, headers=headers)
        conn.getresponse().read()
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("method", "path", "query", "headers", "body"),
    [
        ("GET", "/v1/apps", {"keyword": NASTY, "empty": "", "page": "1", "a b": "~*"}, {}, b""),
        ("GET", "/v1/apps/离线 包/resources", {}, {}, b""),
        ("DELETE", "/v1/apps/12345678", {"force": "true"}, {"x-mds-extra": " padded "}, b""),
        (
            "POST",
            "/v1/apps",
            {"dryRun": "false"},
            {"Content-Type": "application/json; charset=utf-8"},
            json.dumps({"name": NASTY, "n": 1}, ensure_ascii=False).encode(),
        ),
        ("PUT", "/v1/blob", {}, {}, bytes(range(256))),
    ],
)
def test_sign_acs3_round_trip_over_the_wire(method, path, query, headers, body):
    now = datetime.now(UTC)
    with capture_server() as cap:
        sent = sign_acs3(
            method,
            cap.endpoint,
            path,
            query,
            headers,
            body,
            AK,
            SECRET,
            now=now,
            nonce="0123456789abcdef0123456789abcdef",
            action="Act",
            version="2024-01-01",
        )
        _send(cap.endpoint, method, path, query, sent, body)
    received = to_signed(cap.last)
    assert received.path == path and dict(received.query) == query
    creds = identify(received)
    assert (creds.scheme, creds.access_key_id, creds.action, creds.version) == (
        ACS3_HMAC_SHA256,
        AK,
        "Act",
        "2024-01-01",
    )
    verify(received, creds, SECRET, now=now)
    assert_mismatch(received, WRONG_SECRET)
    if body:
        assert received.header("content-type")
        assert_mismatch(dataclasses.replace(received, body=body + b" "))
    if query:
        assert_mismatch(with_query(received, **{next(iter(query)): "changed"}))


def test_sign_acs3_needs_action_and_version():
    with pytest.raises(ValueError):
        sign_acs3("GET", "h", "/", {}, {}, b"", AK, SECRET, now=datetime.now(UTC), nonce="n")
    headers = sign_acs3(
        "GET",
        "h",
        "/",
        {},
        {"X-Acs-Action": "A", "x-acs-version": "V"},
        b"",
        AK,
        SECRET,
        now=datetime.now(UTC),
        nonce="n",
    )
    assert headers["x-acs-action"] == "A" and "content-type" not in headers


# --------------------------------------------------------------------------------------------------
# Property tests: our signer == the SDKs' signers; our signer round-trips through our verifier

TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
SAFE_KEY = st.text(
    st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~"),
    min_size=1,
    max_size=10,
)
PATH = st.lists(TEXT.filter(lambda s: s not in (".", "..")), max_size=4).map(
    lambda segs: "/" + "/".join(segs)
)
METHOD = st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"])
NOW = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2099, 1, 1), timezones=st.just(UTC)
).map(lambda d: d.replace(microsecond=0))


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(
    method=METHOD,
    path=PATH,
    query=st.dictionaries(TEXT, TEXT, max_size=6),
    body=st.binary(max_size=64),
    now=NOW,
    nonce=st.text("0123456789abcdef", min_size=1, max_size=32),
)
def test_property_sign_acs3_verifies_and_detects_tampering(method, path, query, body, now, nonce):
    headers = sign_acs3(
        method,
        "mds.example.com",
        path,
        query,
        {},
        body,
        AK,
        SECRET,
        now=now,
        nonce=nonce,
        action="Act",
        version="V1",
    )
    req = SignedRequest(method, path, query, headers, body)
    creds = identify(req)
    verify(req, creds, SECRET, now=now)
    assert_mismatch(dataclasses.replace(req, body=body + b"!"))
    assert_mismatch(req, WRONG_SECRET)
    if "\x00extra" not in query:
        assert_mismatch(with_query(req, **{"\x00extra": ""}))
    for key in list(query)[:2]:
        assert_mismatch(with_query(req, **{key: query[key] + "x"}))
    if path != "/":
        assert_mismatch(dataclasses.replace(req, path=path + "x"))


@settings(max_examples=200)
@given(
    method=METHOD,
    path=PATH,
    query=st.dictionaries(SAFE_KEY, TEXT, max_size=6),
    body=st.binary(max_size=64),
    now=NOW,
)
def test_property_sign_acs3_equals_tea_sdk_signer(method, path, query, body, now):
    """Tea's own ACS3 signer (alibabacloud_tea_openapi.utils.Utils.get_authorization) over the same
    request gives the same Authorization. (Tea does not encode query *names*, so names are kept to
    unreserved characters, where both readings agree.)"""
    ours = sign_acs3(
        method,
        "h:1",
        path,
        query,
        {"accept": "application/json"},
        body,
        AK,
        SECRET,
        now=now,
        nonce="n0",
        action="A",
        version="V",
    )
    dara = DaraRequest()
    dara.method = method
    dara.pathname = canonical_uri(path)  # Tea signs the (already encoded) pathname as is
    dara.query = dict(query)
    dara.headers = {k: v for k, v in ours.items() if k != "Authorization"}
    theirs = TeaUtils.get_authorization(dara, ACS3_HMAC_SHA256, ours["x-acs-content-sha256"], AK, SECRET)
    assert ours["Authorization"] == theirs


@settings(max_examples=200)
@given(
    method=st.sampled_from(["GET", "POST"]),
    query=st.dictionaries(TEXT, TEXT, max_size=5),
    body=st.dictionaries(TEXT, TEXT, max_size=5),
    now=NOW,
)
def test_property_rpc_signature_equals_both_sdk_signers_and_verifies(method, query, body, now):
    from urllib.parse import urlencode

    query = {k: v for k, v in query.items() if k != "Signature"}
    sent = sign_rpc(method, query, body, AK, SECRET, now=now, nonce="n1", action="A", version="V")
    signed_params = {k: v for k, v in sent.items() if k != "Signature"} | body
    # Tea v2 signer and aliyunsdkcore's string-to-sign agree with ours.
    assert TeaUtils.get_rpcsignature(signed_params, method, SECRET) == sent["Signature"]
    legacy_sts = getattr(rpc_signature_composer, "__compose_string_to_sign")(method, signed_params)
    assert rpc_string_to_sign(method, signed_params) == legacy_sts
    # And it verifies as received (form body encoded like the SDKs, '+' for space).
    req = SignedRequest(
        method, "/", sent, {"content-type": "application/x-www-form-urlencoded"}, urlencode(body).encode()
    )
    creds = identify(req)
    verify(req, creds, SECRET, now=now)
    assert_mismatch(req, WRONG_SECRET)
    if body:
        key = next(iter(body))
        tampered = urlencode(body | {key: body[key] + "x"}).encode()
        assert_mismatch(dataclasses.replace(req, body=tampered))
