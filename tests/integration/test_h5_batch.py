"""Batch import of H5 packages on moto: one zip of package zips (+ a config), through the upload event."""

from __future__ import annotations

import io
import json
import zipfile

from tests import h5_zips
from tests.builders import H5, add_resource, configure, h5, objects, send_file, zip_bytes
from tests.conftest import ws_path


def batch(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def run_import(admin, demo, aws, content: bytes) -> dict:
    reply = admin.post(h5(demo, "/imports"), {"filename": "batch.zip"})
    assert reply.status == 201, reply.body
    send_file(aws, reply.body, content, "p.zip")
    return admin.get(ws_path(demo, f"/uploads/{reply.body['uploadId']}")).body


def test_batch_import_creates_apps_defaults_versions_and_reruns_safely(admin, demo, aws, rsa_pem, tmp_path):
    configure(admin, demo, rsa_pem)
    admin.post(h5(demo, "/apps"), {"h5Id": H5, "name": "Home", "resourceType": "normal"})
    assert add_resource(admin, demo, aws, zip_bytes(tmp_path), version="1.0.0.9")["status"] == "ready"
    content = batch(
        {
            f"pkgs/{H5}.zip": zip_bytes(tmp_path, h5_zips.normal, version="b"),
            "55555555.zip": zip_bytes(tmp_path, h5_zips.normal, "55555555"),
            "44444444.zip": zip_bytes(tmp_path, h5_zips.normal, "44444444"),
            "33333333.zip": zip_bytes(tmp_path, h5_zips.normal, "12121212"),  # top folder is another ID
            "readme.zip": b"junk",
            "config.json": json.dumps(
                {
                    "44444444": {
                        "version": "3.1",
                        "name": "Cart",
                        "clientVersionMin": ";9.0",
                        "platform": "android",
                    }
                }
            ).encode(),
        }
    )
    upload = run_import(admin, demo, aws, content)
    assert upload["status"] == "processed", upload
    items = {i["name"]: i for i in upload["result"]["items"]}
    assert (
        items[f"pkgs/{H5}.zip"]["status"] == "imported" and items[f"pkgs/{H5}.zip"]["version"] == "1.0.0.10"
    )
    assert items["55555555.zip"]["version"] == "0.0.0.1" and items["55555555.zip"]["appCreated"] is True
    assert items["44444444.zip"]["version"] == "3.1"
    assert items["33333333.zip"]["status"] == "failed" and "12121212" in items["33333333.zip"]["error"]
    assert items["readme.zip"]["status"] == "failed" and "8-digit" in items["readme.zip"]["error"]
    assert upload["result"]["imported"] == 3 and upload["result"]["failed"] == 2
    cart = admin.get(h5(demo, "/apps/44444444/resources")).body["items"][0]
    assert cart["platform"] == "android" and cart["clientVersionMin"] == ";9.0" and cart["status"] == "ready"
    assert admin.get(h5(demo, "/apps/44444444")).body["name"] == "Cart"
    assert admin.get(h5(demo, "/apps/33333333")).status == 404  # nothing half-made for the bad item
    amr_files = [k for k in objects(aws.buckets["ArtifactsBucket"]) if k.endswith(".amr")]

    again = run_import(admin, demo, aws, content)
    statuses = {i["name"]: i["status"] for i in again["result"]["items"]}
    assert statuses[f"pkgs/{H5}.zip"] == statuses["55555555.zip"] == "alreadyImported"
    assert again["result"]["imported"] == 0
    assert [k for k in objects(aws.buckets["ArtifactsBucket"]) if k.endswith(".amr")] == amr_files
    assert admin.get(h5(demo, f"/apps/{H5}/resources")).body["total"] == 2


def test_an_unusable_batch_fails_with_the_reason(admin, demo, aws, rsa_pem):
    configure(admin, demo, rsa_pem)
    assert "not a zip" in run_import(admin, demo, aws, b"plain text")["error"]
    too_many = batch({f"{10000000 + i}.zip": b"x" for i in range(101)})
    failed = run_import(admin, demo, aws, too_many)
    assert failed["status"] == "failed" and "at most 100" in failed["error"]
    assert admin.get(h5(demo, "/apps")).body["total"] == 0
