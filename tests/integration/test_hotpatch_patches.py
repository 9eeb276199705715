"""Hotpatch patches through the console API on moto: keys, upload, MDS or developer signature, bad input."""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile

import pytest

from chalicelib.security import rsa_keys
from tests.builders import add_patch, app_version
from tests.conftest import ws_path


def shown(admin, demo, patch_id: str):
    return admin.get(ws_path(demo, f"/hotpatch/patches/{patch_id}"))


def upload_of(admin, demo, created: dict) -> dict:
    return admin.get(ws_path(demo, f"/uploads/{created['upload']['uploadId']}")).body


def delivered(path: str) -> bytes | None:
    from chalicelib.store import hotpatch_files

    return hotpatch_files.read(path)


@pytest.fixture(scope="module")
def developer_key():
    return rsa_keys.generate_private_key()


def register(admin, demo, key) -> dict:
    reply = admin.put(ws_path(demo, "/hotpatch/keys/developer"), {"publicKey": rsa_keys.public_key_pem(key)})
    assert reply.status == 200, reply.body
    return reply.body


def test_an_mds_signed_patch_is_checked_signed_and_served_from_an_immutable_cdn_path(admin, demo, aws):
    app_version(admin, demo)
    content = b"console.log('fix #1');\n"
    created = add_patch(admin, demo, aws, content, description="null check in feed")
    assert created["status"] == "awaitingUpload" and created["signer"] == "mds"
    patch = shown(admin, demo, created["patchId"]).body
    assert patch["status"] == "ready", patch
    f = patch["file"]
    assert (f["size"], f["sha256"], f["kind"]) == (len(content), hashlib.sha256(content).hexdigest(), "blob")
    keys = admin.get(ws_path(demo, "/hotpatch/keys")).body
    assert keys["developer"] is None and keys["algorithm"] == "RSASSA-PKCS1-v1_5-SHA256"
    assert f["keyId"] == keys["mds"]["keyId"] == rsa_keys.key_id(keys["mds"]["publicKey"])
    assert rsa_keys.verify(keys["mds"]["publicKey"], content, base64.b64decode(f["signature"]))
    assert not rsa_keys.verify(keys["mds"]["publicKey"], content + b" ", base64.b64decode(f["signature"]))
    path = f["url"].split("/", 3)[3]
    assert path.startswith(f"hp/{demo['appId']}/{demo['workspaceId']}/{created['patchId']}/{f['sha256']}/")
    assert delivered(path) == content
    assert upload_of(admin, demo, created)["status"] == "processed"
    # the key is made once: a second patch is signed with the same key
    second = add_patch(admin, demo, aws, b"fix #2")
    assert shown(admin, demo, second["patchId"]).body["file"]["keyId"] == keys["mds"]["keyId"]
    assert "sealed" not in str(admin.get(ws_path(demo, "/hotpatch/keys")).body)
    log = admin.get(ws_path(demo, f"/audit?entityType=hotpatch_patch&entityId={created['patchId']}")).body
    assert [e["action"] for e in log["entries"]] == ["hotpatch.patch.file", "hotpatch.patch.create"]


def test_a_developer_signed_patch_is_verified_against_the_registered_key(admin, demo, aws, developer_key):
    app_version(admin, demo)
    content = b"\x00\x01binary diff\x02"
    # no key registered yet: refused before anything is created
    early = admin.post(
        ws_path(demo, "/hotpatch/patches"),
        {
            "platform": "ios",
            "appVersion": "5.0",
            "filename": "fix.bin",
            "signer": "developer",
            "signature": base64.b64encode(rsa_keys.sign(developer_key, content)).decode(),
        },
    )
    assert early.status == 400 and early.body["field"] == "signer" and "register" in early.body["message"]
    registered = register(admin, demo, developer_key)
    assert registered["keyId"] == rsa_keys.key_id(developer_key)

    signature = base64.b64encode(rsa_keys.sign(developer_key, content)).decode()
    created = add_patch(
        admin, demo, aws, content, filename="fix.bin", signer="developer", signature=signature
    )
    patch = shown(admin, demo, created["patchId"]).body
    assert patch["status"] == "ready" and patch["signer"] == "developer"
    assert patch["file"]["keyId"] == registered["keyId"] and patch["file"]["signature"] == signature
    keys = admin.get(ws_path(demo, "/hotpatch/keys")).body
    assert keys["developer"]["keyId"] == registered["keyId"]


def test_a_wrongly_signed_developer_patch_is_refused_and_nothing_is_kept(admin, demo, aws, developer_key):
    app_version(admin, demo)
    register(admin, demo, developer_key)
    content = b"patch body"
    other = rsa_keys.generate_private_key()
    wrong = base64.b64encode(rsa_keys.sign(other, content)).decode()
    before = admin.get(ws_path(demo, "/hotpatch/patches")).body["patches"]
    created = add_patch(admin, demo, aws, content, filename="fix.bin", signer="developer", signature=wrong)
    upload = upload_of(admin, demo, created)
    assert upload["status"] == "failed"
    assert (
        upload["error"].startswith("signature: does not verify")
        and registered_id(admin, demo) in upload["error"]
    )
    assert shown(admin, demo, created["patchId"]).status == 404
    assert admin.get(ws_path(demo, "/hotpatch/patches")).body["patches"] == before
    from chalicelib.config import settings
    from chalicelib.store.aws import client

    listed = client("s3").list_objects_v2(Bucket=settings().delivery_bucket, Prefix="hp/")
    assert listed.get("KeyCount", 0) == 0
    log = admin.get(ws_path(demo, f"/audit?entityType=hotpatch_patch&entityId={created['patchId']}")).body
    assert log["entries"][0]["action"] == "hotpatch.patch.refused"
    assert "does not verify" in log["entries"][0]["detail"]

    # a signature of other bytes by the right key is refused too
    tampered = base64.b64encode(rsa_keys.sign(developer_key, content + b"!")).decode()
    again = add_patch(admin, demo, aws, content, filename="fix.bin", signer="developer", signature=tampered)
    assert upload_of(admin, demo, again)["status"] == "failed"


def registered_id(admin, demo) -> str:
    return admin.get(ws_path(demo, "/hotpatch/keys")).body["developer"]["keyId"]


@pytest.mark.parametrize(
    ("body", "field", "rule"),
    [
        ({"appVersion": "4.9"}, "appVersion", "no upgrade package of version 4.9 for ios"),
        ({"platform": "android"}, "appVersion", "no upgrade package of version 5.0 for android"),
        ({"platform": "all"}, "platform", "must be android or ios"),
        ({"appVersion": "5.0 beta"}, "appVersion", ""),
        ({"filename": "fix.exe"}, "filename", "must end with"),
        ({"signer": "developer"}, "signature", "is required for a developer-signed patch"),
        ({"signer": "someone"}, "signer", "must be mds or developer"),
        ({"signature": "QUJD"}, "signature", "only developer-signed patches carry a signature"),
        ({"signer": "developer", "signature": "not base64!"}, "signature", "must be base64"),
        ({"signer": "developer", "signature": "QUJD"}, "signature", "an RSA signature is 256-2048 bytes"),
    ],
)
def test_bad_patch_input_names_the_field_and_creates_nothing(
    admin, demo, aws, developer_key, body, field, rule
):
    app_version(admin, demo)
    register(admin, demo, developer_key)
    reply = admin.post(
        ws_path(demo, "/hotpatch/patches"),
        {"platform": "ios", "appVersion": "5.0", "filename": "fix.js", **body},
    )
    assert reply.status == 400 and reply.body["field"] == field, reply.body
    assert rule in reply.body["message"]
    assert admin.get(ws_path(demo, "/hotpatch/patches")).body["patches"] == []


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_zip_patches_are_checked(admin, demo, aws):
    app_version(admin, demo)
    good = add_patch(admin, demo, aws, _zip({"patch/main.js": b"fix()"}), filename="fix.zip")
    assert shown(admin, demo, good["patchId"]).body["file"]["kind"] == "zip"
    for content, why in (
        (b"PK\x03\x04 not really a zip", "file: is not a zip archive"),
        (_zip({"../../etc/passwd": b"x"}), "file: entry '../../etc/passwd' is an unsafe path"),
        (b"", "file: is empty"),
    ):
        bad = add_patch(admin, demo, aws, content, filename="fix.zip")
        assert upload_of(admin, demo, bad)["error"].startswith(why)
        assert shown(admin, demo, bad["patchId"]).status == 404


def test_developer_key_must_be_an_rsa_public_key_and_admins_register_it(admin, demo, aws, developer_key):
    reply = admin.put(
        ws_path(demo, "/hotpatch/keys/developer"),
        {"publicKey": rsa_keys.private_key_pem(developer_key).decode()},
    )
    assert (
        reply.status == 400 and reply.body["field"] == "publicKey" and "private key" in reply.body["message"]
    )
    small = rsa_keys.generate_private_key(1024)
    reply = admin.put(
        ws_path(demo, "/hotpatch/keys/developer"), {"publicKey": rsa_keys.public_key_pem(small)}
    )
    assert reply.status == 400 and "1024 bits" in reply.body["message"]
    assert admin.get(ws_path(demo, "/hotpatch/keys")).body["developer"] is None


def test_viewers_cannot_add_patches(admin, demo, aws):
    app_version(admin, demo)
    assert (
        admin.post(
            ws_path(demo, "/users"), {"username": "vera", "password": "long-password-1", "role": "viewer"}
        ).status
        == 201
    )
    viewer = admin.login("vera", "long-password-1")
    reply = admin.post(
        ws_path(demo, "/hotpatch/patches"),
        {"platform": "ios", "appVersion": "5.0", "filename": "fix.js"},
        token=viewer,
    )
    assert reply.status == 403
    assert admin.get(ws_path(demo, "/hotpatch/patches"), token=viewer).body["patches"] == []


def test_processing_the_same_upload_again_changes_nothing(admin, demo, aws):
    """SQS redelivers after a crash between the commit and the upload's finish: the processor runs again."""
    from chalicelib.domain.tenancy import TenantId
    from chalicelib.services import hotpatch
    from chalicelib.store import uploads

    app_version(admin, demo)
    created = add_patch(admin, demo, aws, b"fix")
    before = shown(admin, demo, created["patchId"]).body
    record = uploads.get(TenantId(demo["appId"], demo["workspaceId"]), created["upload"]["uploadId"])
    again = hotpatch.process_patch_file(record)
    assert again["sha256"] == before["file"]["sha256"] and again["keyId"] == before["file"]["keyId"]
    assert shown(admin, demo, created["patchId"]).body == before


def test_another_workspace_never_sees_or_counts_a_patch(admin, demo, aws):
    app_version(admin, demo)
    created = add_patch(admin, demo, aws, b"fix")
    made = admin.post("/api/workspaces", {"appId": "OTHER_APP", "workspaceId": "default", "name": "other"})
    assert made.status == 201, made.body
    other = {"appId": "OTHER_APP", "workspaceId": "default"}
    assert admin.get(ws_path(other, f"/hotpatch/patches/{created['patchId']}")).status == 404
    assert admin.post(ws_path(other, f"/hotpatch/patches/{created['patchId']}/rollback")).status == 404
    report = {**other, "deviceId": "d1", "patchId": created["patchId"], "outcome": "applied"}
    assert admin.post("/client/v1/hotpatch/report", report, token="").status == 404
    assert shown(admin, demo, created["patchId"]).body["reports"]["total"] == 0
