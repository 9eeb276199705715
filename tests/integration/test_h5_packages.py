"""H5 offline packages through the console API on moto: settings, apps, resources, the upload pipeline
(presigned POST → S3 → SQS → handler → signed .amr + h5.json), exports, and bad input that leaves
nothing behind."""

from __future__ import annotations

import io

import boto3
import pytest
import requests

from tests import h5_zips
from tests.builders import H5, add_resource, configure, delivery_get, h5, objects, send_file, zip_bytes
from tests.conftest import ws_path


def test_settings_vhost_once_and_a_sealed_key_never_returned(admin, demo, rsa_pem):
    assert admin.get(h5(demo, "/settings")).body["rsaKeyExists"] is False
    assert admin.get(h5(demo, "/settings/public-key")).status == 404
    public = configure(admin, demo, rsa_pem)
    assert public.startswith("-----BEGIN PUBLIC KEY-----")
    again = admin.put(h5(demo, "/settings/vhost"), {"vhost": "H5APP.com"})  # the same value: fine
    assert again.status == 200 and again.body == {"vhost": "h5app.com"}
    changed = admin.put(h5(demo, "/settings/vhost"), {"vhost": "other.com"})
    assert changed.status == 409 and changed.body["field"] == "vhost"
    bad = admin.put(h5(demo, "/settings/vhost"), {"vhost": "https://x.com/a"})
    assert bad.status == 400 and bad.body["field"] == "vhost"
    settings = admin.get(h5(demo, "/settings")).body
    assert settings["vhost"] == "h5app.com" and settings["rsaKeyExists"] is True
    assert admin.get(h5(demo, "/settings/rsa-key")).body["exists"] is True
    assert admin.get(h5(demo, "/settings/public-key")).body["publicKey"] == public
    assert "PRIVATE" not in str(settings)
    from chalicelib.store.models import H5SettingsModel

    stored = H5SettingsModel.get(f"{demo['appId']}#{demo['workspaceId']}", "settings")
    assert b"PRIVATE KEY" not in bytes(stored.rsa_sealed)  # sealed, not the PEM


@pytest.mark.parametrize(
    ("pem", "words"),
    [
        ("short", "1024 bits"),
        ("-----BEGIN GARBAGE-----\nabc\n-----END GARBAGE-----\n", "not a readable PEM"),
        ("hello", "not a PEM key"),
    ],
)
def test_bad_rsa_keys_are_refused(admin, demo, pem, words):
    if pem == "short":
        from cryptography.hazmat.primitives.asymmetric import rsa

        from chalicelib.security import rsa_keys

        pem = rsa_keys.private_key_pem(
            rsa.generate_private_key(public_exponent=65537, key_size=1024)
        ).decode()
    reply = admin.put(h5(demo, "/settings/rsa-key"), {"pem": pem})
    assert reply.status == 400 and reply.body["field"] == "file" and words in reply.body["message"]
    assert admin.get(h5(demo, "/settings")).body["rsaKeyExists"] is False


def test_apps_create_list_search_and_reserved_ids(admin, demo):
    created = admin.post(h5(demo, "/apps"), {"h5Id": H5, "name": "Home", "resourceType": "normal"})
    assert created.status == 201 and created.body["resourceType"] == "normal"
    warned = admin.post(h5(demo, "/apps"), {"h5Id": "66666601", "name": "Promo"})
    assert warned.status == 201 and "discouraged" in warned.body["warnings"][0]
    reserved = admin.post(h5(demo, "/apps"), {"h5Id": "20000196", "name": "x"})
    assert (
        reserved.status == 400 and reserved.body["field"] == "h5Id" and "reserved" in reserved.body["message"]
    )
    short = admin.post(h5(demo, "/apps"), {"h5Id": "1234567", "name": "x"})
    assert short.status == 400 and "8 digits" in short.body["message"]
    duplicate = admin.post(h5(demo, "/apps"), {"h5Id": H5, "name": "again"})
    assert duplicate.status == 409
    listed = admin.get(h5(demo, "/apps?keyword=home")).body
    assert listed["total"] == 1 and listed["items"][0]["h5Id"] == H5
    assert admin.get(h5(demo, "/apps?pageSize=1&page=2")).body["items"][0]["h5Id"] == "66666601"


def test_a_zip_becomes_a_signed_amr_and_h5_json(admin, demo, aws, rsa_pem, tmp_path):
    from chalicelib.packaging import amr

    public = configure(admin, demo, rsa_pem)
    admin.post(h5(demo, "/apps"), {"h5Id": H5, "name": "Home", "resourceType": "normal"})
    resource = add_resource(
        admin, demo, aws, zip_bytes(tmp_path), extendInfo={"asyncReqRate": 1800}, installType=1
    )
    assert resource["status"] == "ready", resource
    assert resource["clientVersionMin"] == "10.1.32;10.2.0" and resource["clientVersionMax"] == ""
    assert resource["extendInfo"] == '{"asyncReqRate":1800}' and resource["vhost"] == "h5app.com"
    package = delivery_get(aws, resource["amrUrl"])
    verified = amr.verify(io.BytesIO(package), public, expected_sha256=resource["sha256"])
    assert verified.h5_id == H5 and verified.version == "1.0.0.1"
    assert "www/index.html" in {f.path for f in verified.files}
    import json

    descriptor = json.loads(delivery_get(aws, resource["h5JsonUrl"]))
    assert descriptor["packageUrl"] == resource["amrUrl"] and descriptor["installType"] == 1
    assert descriptor["clientRanges"]["ios"]["min"] == "10.1.32"
    exported = admin.get(h5(demo, f"/resources/{resource['id']}/export")).body
    assert requests.get(exported["amrUrl"], timeout=10).content == package
    upload = admin.get(ws_path(demo, f"/uploads/{resource['uploadId']}")).body
    assert upload["status"] == "processed" and upload["result"]["sha256"] == resource["sha256"]
    # a duplicate event for the same upload changes nothing
    from chalicelib.services import uploads

    uploads.object_created(upload["objectKey"], size=upload["size"], etag="x", at="")
    assert admin.get(h5(demo, f"/resources/{resource['id']}")).body == resource
    assert len([k for k in objects(aws.buckets["DeliveryBucket"]) if k.endswith(".amr")]) == 1


def test_a_zip_for_another_id_fails_with_the_reason_and_leaves_no_files(admin, demo, aws, rsa_pem, tmp_path):
    configure(admin, demo, rsa_pem)
    admin.post(h5(demo, "/apps"), {"h5Id": H5, "name": "Home", "resourceType": "normal"})
    resource = add_resource(admin, demo, aws, zip_bytes(tmp_path, h5_zips.normal, "87654321"))
    assert resource["status"] == "failed" and "87654321" in resource["failure"]
    upload = admin.get(ws_path(demo, f"/uploads/{resource['uploadId']}")).body
    assert upload["status"] == "failed" and upload["error"] == resource["failure"]
    assert resource["amrUrl"] is None
    assert objects(aws.buckets["DeliveryBucket"]) == [] and objects(aws.buckets["ArtifactsBucket"]) == []
    not_zip = add_resource(admin, demo, aws, b"this is not a zip", version="1.0.0.2")
    assert not_zip["status"] == "failed" and not_zip["failure"].startswith("file:")
    task = admin.post(h5(demo, f"/resources/{not_zip['id']}/tasks"), {"type": "official"})
    assert task.status == 409 and task.body["field"] == "resourceId"
    # a refused version can be uploaded again; the failed record is replaced
    fixed = add_resource(admin, demo, aws, zip_bytes(tmp_path))
    assert fixed["status"] == "ready" and fixed["version"] == "1.0.0.1"
    listed = admin.get(h5(demo, f"/apps/{H5}/resources")).body["items"]
    assert [(r["version"], r["status"]) for r in listed] == [("1.0.0.1", "ready"), ("1.0.0.2", "failed")]
    assert admin.get(h5(demo, f"/resources/{resource['id']}")).status == 404


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"mainUrl": "www/index.html"}, "mainUrl", "must match"),
        ({"extendInfo": '{"asyncReqRate": 86401}'}, "extendInfo.asyncReqRate", "0 to 86400"),
        ({"extendInfo": "[1]"}, "extendInfo", "JSON object"),
        ({"clientVersionMin": "10.3;10.2", "clientVersionMax": "10.2;10.3"}, "clientVersionMin", "higher"),
        ({"clientVersionMin": "10.3;10.2", "clientVersionMax": "10.4;"}, "clientVersionMax", "both"),
        ({"clientVersionMin": "10.3"}, "clientVersionMin", ";"),
        ({"platform": "windows"}, "platform", "android"),
        ({"resourceType": "global"}, "resourceType", "cannot change"),
        ({"downloadNetwork": 2}, "downloadNetwork", "0 or 1"),
        ({"vhost": "other.com"}, "vhost", "configured"),
        ({"version": "1.0.0.1"}, "version", "already has"),
    ],
)
def test_bad_resource_fields_are_refused_before_anything_is_written(
    admin, demo, aws, rsa_pem, tmp_path, fields, field, words
):
    configure(admin, demo, rsa_pem)
    admin.post(h5(demo, "/apps"), {"h5Id": H5, "name": "Home", "resourceType": "normal"})
    first = add_resource(admin, demo, aws, zip_bytes(tmp_path))
    assert first["status"] == "ready"
    before = (objects(aws.buckets["ArtifactsBucket"], ""), admin.get(h5(demo, f"/apps/{H5}/resources")).body)
    body = {
        "version": "1.0.0.2",
        "platform": "all",
        "clientVersionMin": "1.0;1.0",
        "mainUrl": "/www/index.html",
        "filename": "pkg.zip",
        **fields,
    }
    reply = admin.post(h5(demo, f"/apps/{H5}/resources"), body)
    assert reply.status in (400, 409), reply.body
    assert reply.body["field"] == field and words in reply.body["message"], reply.body
    after = (objects(aws.buckets["ArtifactsBucket"], ""), admin.get(h5(demo, f"/apps/{H5}/resources")).body)
    assert after == before


def test_create_from_file_is_synchronous_and_all_or_nothing(admin, demo, aws, rsa_pem, tmp_path):
    from chalicelib.domain.errors import ValidationError
    from chalicelib.domain.tenancy import TenantId
    from chalicelib.services import h5_apps, h5_resources
    from chalicelib.services.context import Call
    from chalicelib.services.demo import DEMO_TENANT

    configure(admin, demo, rsa_pem)
    from chalicelib.services import auth

    call = Call(principal=auth.principal_from_token(admin.token), request_id="t-1")
    tenant = TenantId(demo["appId"], demo["workspaceId"])
    assert tenant == DEMO_TENANT
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.put_object(Bucket=aws.buckets["ArtifactsBucket"], Key="incoming/a.zip", Body=zip_bytes(tmp_path))
    spec = {"h5Id": H5, "h5Name": "Home", "version": "2.0.0.1", "platform": "Android",
            "clientVersionMin": ";10.0", "mainUrl": "/www/index.html", "resourceType": 1}  # fmt: skip
    made = h5_resources.create_from_file(call, tenant, spec, s3_key="incoming/a.zip")
    assert made["status"] == "ready" and made["platform"] == "android" and made["clientVersionMin"] == ";10.0"
    assert h5_apps.list_apps(call, tenant)["items"][0]["resourceType"] == "normal"  # created with it
    s3.put_object(
        Bucket=aws.buckets["ArtifactsBucket"],
        Key="incoming/b.zip",
        Body=zip_bytes(tmp_path, h5_zips.path_too_long),
    )
    files_before = objects(aws.buckets["ArtifactsBucket"])
    with pytest.raises(ValidationError) as refused:
        h5_resources.create_from_file(call, tenant, {**spec, "version": "2.0.0.2"}, s3_key="incoming/b.zip")
    assert refused.value.field == "file"
    assert objects(aws.buckets["ArtifactsBucket"]) == files_before
    assert h5_resources.list_resources(call, tenant, h5_id=H5)["total"] == 1


def test_delete_app_removes_everything(admin, demo, aws, rsa_pem, tmp_path):
    configure(admin, demo, rsa_pem)
    admin.post(h5(demo, "/apps"), {"h5Id": H5, "name": "Home", "resourceType": "normal"})
    resource = add_resource(admin, demo, aws, zip_bytes(tmp_path))
    assert admin.post(h5(demo, f"/resources/{resource['id']}/tasks"), {"type": "official"}).status == 201
    from chalicelib.services import checks

    phone = {"appId": demo["appId"], "workspaceId": demo["workspaceId"], "platform": "android",
             "clientVersion": "10.2.0", "deviceId": "d-1"}  # fmt: skip
    assert [p["h5Id"] for p in checks.check("h5", phone)["packages"]] == [H5]
    assert admin.delete(h5(demo, f"/apps/{H5}")).status == 204
    assert checks.check("h5", phone)["packages"] == []  # re-published: it disappears
    assert admin.get(h5(demo, f"/apps/{H5}")).status == 404
    assert admin.get(h5(demo, f"/resources/{resource['id']}")).status == 404
    assert objects(aws.buckets["DeliveryBucket"]) == [] and objects(aws.buckets["ArtifactsBucket"]) == []
    from chalicelib.config import settings

    table = boto3.client("dynamodb", region_name="us-east-1")
    items = table.query(
        TableName=settings().table_name("H5"),
        KeyConditionExpression="tenant = :t",
        ExpressionAttributeValues={":t": {"S": f"{demo['appId']}#{demo['workspaceId']}"}},
    )["Items"]
    assert [i["item_key"]["S"] for i in items] == ["settings"]


def test_the_hostile_corpus_is_refused_by_the_pipeline_and_leaves_nothing(
    admin, demo, aws, rsa_pem, tmp_path
):
    """Every hostile zip of tests/h5_zips.py through the synchronous path (what the OpenAPI uses): the
    rule's words in a ``file`` error, no object written, no record made."""
    from chalicelib.domain.errors import ValidationError
    from chalicelib.domain.tenancy import TenantId
    from chalicelib.services import auth, h5_resources
    from chalicelib.services.context import Call

    configure(admin, demo, rsa_pem)
    admin.post(h5(demo, "/apps"), {"h5Id": H5, "name": "Home", "resourceType": "normal"})
    call = Call(principal=auth.principal_from_token(admin.token), request_id="t-2")
    tenant = TenantId(demo["appId"], demo["workspaceId"])
    s3 = boto3.client("s3", region_name="us-east-1")
    spec = {
        "h5Id": H5,
        "version": "1.0.0.1",
        "platform": "all",
        "clientVersionMin": "1;1",
        "mainUrl": "/www/index.html",
    }
    cases = {name: case for name, case in h5_zips.HOSTILE.items() if not name.startswith("global_")}
    assert len(cases) >= 20
    for name, (writer, words) in cases.items():
        key = f"incoming/{name}.zip"
        s3.put_object(
            Bucket=aws.buckets["ArtifactsBucket"], Key=key, Body=writer(tmp_path / f"{name}.zip").read_bytes()
        )
        with pytest.raises(ValidationError) as refused:
            h5_resources.create_from_file(call, tenant, spec, s3_key=key)
        assert refused.value.field == "file" and words in refused.value.message, (name, refused.value.message)
    assert objects(aws.buckets["ArtifactsBucket"]) == [] and objects(aws.buckets["DeliveryBucket"]) == []
    assert admin.get(h5(demo, f"/apps/{H5}/resources")).body["total"] == 0


def test_key_upload_by_presigned_post_and_a_viewer_cannot_change_anything(admin, demo, aws, rsa_pem, api):
    token = admin.put(h5(demo, "/settings/rsa-key"), {"filename": "signing.pem"})
    assert token.status == 200, token.body
    send_file(aws, token.body["upload"], rsa_pem, "p.zip")
    upload = admin.get(ws_path(demo, f"/uploads/{token.body['upload']['uploadId']}")).body
    assert upload["status"] == "processed" and upload["result"]["keyId"], upload["error"]
    assert admin.get(h5(demo, "/settings/rsa-key")).body["exists"] is True
    bad = admin.put(h5(demo, "/settings/rsa-key"), {"filename": "other.pem"})
    send_file(aws, bad.body["upload"], b"not a key at all", "p.zip")
    failed = admin.get(ws_path(demo, f"/uploads/{bad.body['upload']['uploadId']}")).body
    assert failed["status"] == "failed" and failed["error"].startswith("file:")

    assert admin.post(ws_path(demo, "/users"), {"username": "h5.viewer", "password": "a-long-password",
                                                "role": "viewer"}).status == 201  # fmt: skip
    viewer = api.login("h5.viewer", "a-long-password")
    assert api.get(h5(demo, "/apps"), token=viewer).status == 200
    denied = api.post(h5(demo, "/apps"), {"h5Id": H5, "name": "x"}, token=viewer)
    assert denied.status == 403
    log = admin.get(ws_path(demo, "/audit?entityType=h5_settings")).body["entries"]
    assert [e["action"] for e in log] == ["h5.rsa_key.upload"]
