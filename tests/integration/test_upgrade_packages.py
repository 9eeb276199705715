"""Release packages through the console API on moto: uploads, inspection, QR codes, download links."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import requests

from tests import app_files
from tests.builders import add_android, send_file
from tests.conftest import ws_path


def text(reply) -> str:
    return reply.body.decode() if isinstance(reply.body, bytes) else reply.body


def packages(admin, demo) -> list[dict]:
    return admin.get(ws_path(demo, "/upgrade/packages")).body["packages"]


def test_android_package_is_inspected_hashed_and_warns_on_a_version_mismatch(admin, demo, aws):
    content = app_files.apk("5.0.1.3")
    package = add_android(admin, demo, aws, "5.0.1.2", content=content, description="spring release")
    assert package["fileStatus"] == "ready" and package["status"] == "toBeReleased"
    assert package["file"] == {
        "filename": "app.apk",
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        "md5": hashlib.md5(content, usedforsecurity=False).hexdigest(),
    }
    assert (
        package["detected"]["versionName"] == "5.0.1.3"
        and package["detected"]["package"] == "com.example.demo"
    )
    assert package["warnings"] == ["the APK's versionName is 5.0.1.3, not 5.0.1.2 as entered"]
    matching = add_android(admin, demo, aws, "6.0")
    assert matching["warnings"] == [] and matching["detected"]["versionCode"] == 42
    log = admin.get(ws_path(demo, f"/audit?entityType=upgrade_package&entityId={package['packageId']}")).body
    assert [e["action"] for e in log["entries"]] == ["upgrade.package.file", "upgrade.package.create"]


def test_an_apk_that_is_not_a_zip_leaves_the_package_unusable(admin, demo, aws):
    package = add_android(admin, demo, aws, "5.0", content=b"MZ\x90\x00 this is an .exe renamed to .apk")
    assert package["fileStatus"] == "failed" and package["file"] is None
    assert package["fileError"] == "file: is not an APK: it is not a zip archive"
    task = admin.post(
        ws_path(demo, f"/upgrade/packages/{package['packageId']}/tasks"),
        {"type": "official", "mode": "single"},
    )
    assert (
        task.status == 409
        and task.body["field"] == "packageId"
        and "not a zip archive" in task.body["message"]
    )
    assert admin.get(ws_path(demo, "/upgrade/tasks")).body["tasks"] == []
    # a second, good upload makes it usable
    token = admin.post(
        ws_path(demo, f"/upgrade/packages/{package['packageId']}/uploads"), {"filename": "app.apk"}
    ).body
    send_file(aws, token, app_files.apk("5.0"), "app.apk")
    assert admin.get(ws_path(demo, f"/upgrade/packages/{package['packageId']}")).body["fileStatus"] == "ready"


def test_a_zip_without_android_manifest_or_with_a_text_manifest_is_refused(admin, demo, aws):
    no_manifest = add_android(admin, demo, aws, "5.0", content=app_files.zip_of({"classes.dex": b"dex"}))
    assert no_manifest["fileError"] == "file: is not an APK: it has no AndroidManifest.xml"
    text = app_files.apk(manifest=b'<?xml version="1.0"?><manifest package="x"/>')
    text_manifest = add_android(admin, demo, aws, "5.1", content=text)
    assert text_manifest["fileStatus"] == "failed" and "not Android binary XML" in text_manifest["fileError"]


def test_upload_status_reports_the_refusal(admin, demo, aws):
    reply = admin.post(
        ws_path(demo, "/upgrade/packages"), {"platform": "android", "version": "1.0", "filename": "a.apk"}
    )
    send_file(aws, reply.body["upload"], b"garbage", "a.apk")
    upload = admin.get(ws_path(demo, f"/uploads/{reply.body['upload']['uploadId']}")).body
    assert upload["status"] == "failed" and "not a zip archive" in upload["error"]


def test_versions_are_unique_per_platform(admin, demo, aws):
    add_android(admin, demo, aws, "5.0")
    again = admin.post(
        ws_path(demo, "/upgrade/packages"), {"platform": "android", "version": "5.0.0", "filename": "a.apk"}
    )
    assert (
        again.status == 409
        and again.body["field"] == "version"
        and "5.0.0 already exists" in again.body["message"]
    )
    ios = admin.post(
        ws_path(demo, "/upgrade/packages"),
        {
            "platform": "ios",
            "distribution": "appStore",
            "version": "5.0",
            "storeUrl": "https://apps.apple.com/app/id1",
        },
    )
    assert ios.status == 201, ios.body
    assert len(packages(admin, demo)) == 2


def test_package_fields_are_validated_by_name(admin, demo):
    def create(**body):
        return admin.post(ws_path(demo, "/upgrade/packages"), body)

    cases = [
        ({"platform": "windows", "version": "1"}, "platform"),
        ({"platform": "android", "version": "1..2", "filename": "a.apk"}, "version"),
        ({"platform": "android", "version": "1.0"}, "filename"),
        ({"platform": "android", "version": "1.0", "filename": "a.ipa"}, "filename"),
        ({"platform": "android", "version": "1.0", "filename": "a.apk", "verificationCode": "ab"}, "verificationCode"),
        ({"platform": "ios", "version": "1.0"}, "distribution"),
        ({"platform": "ios", "distribution": "appStore", "version": "1.0"}, "storeUrl"),
        ({"platform": "ios", "distribution": "appStore", "version": "1.0", "storeUrl": "javascript:alert(1)"}, "storeUrl"),
        ({"platform": "ios", "distribution": "testFlight", "version": "1", "storeUrl": "https://testflight.apple.com/join/x"}, "validDays"),
        ({"platform": "ios", "distribution": "testFlight", "version": "1", "storeUrl": "https://testflight.apple.com/join/x",
          "validDays": 91, "testerLimit": 5}, "validDays"),
        ({"platform": "ios", "distribution": "enterprise", "version": "1", "filename": "a.ipa", "bundleId": "no"}, "bundleId"),
        ({"platform": "ios", "distribution": "appStore", "version": "1", "storeUrl": "https://a.b/c", "verificationCode": "1234"},
         "verificationCode"),
    ]  # fmt: skip
    for body, field in cases:
        reply = create(**body)
        assert reply.status == 400 and reply.body["field"] == field, (body, reply.body)
    assert packages(admin, demo) == []


def test_verification_code_guards_the_qr_link_and_not_the_in_app_link(admin, demo, aws, api):
    content = app_files.apk("5.0")
    package = add_android(admin, demo, aws, "5.0", content=content, verificationCode="Q7X2")
    assert package["verificationRequired"] is True
    qr = admin.get(ws_path(demo, f"/upgrade/packages/{package['packageId']}/qrcode")).body
    link = qr["url"]
    assert link == package["downloadUrl"] and link.endswith(
        f"/download/{demo['appId']}/{demo['workspaceId']}/{package['packageId']}"
    )
    assert qr["svg"].startswith("<svg") and base64.b64decode(qr["png"]).startswith(b"\x89PNG")
    path = urlsplit(link).path

    asked = api.get(path, token="")
    assert asked.status == 401 and "Verification code" in text(asked) and "<form" in text(asked)
    wrong = api.get(path + "?code=0000", token="")
    assert wrong.status == 403 and "not right" in text(wrong)
    right = api.get(path + "?code=Q7X2", token="")
    assert right.status == 302
    assert requests.get(right.headers["Location"], timeout=10).content == content

    from chalicelib.domain.tenancy import TenantId
    from chalicelib.services import upgrade_delivery  # noqa: F401 - the in-app link is what answers carry
    from chalicelib.services.downloads import in_app_link
    from chalicelib.store import upgrade_packages

    stored = upgrade_packages.get(TenantId(demo["appId"], demo["workspaceId"]), package["packageId"])
    in_app = urlsplit(in_app_link(TenantId(demo["appId"], demo["workspaceId"]), stored))
    direct = api.get(f"{in_app.path}?{in_app.query}", token="")
    assert direct.status == 302 and requests.get(direct.headers["Location"], timeout=10).content == content
    forged = api.get(path + "?key=guess", token="")
    assert forged.status == 401  # a wrong key is no key: the code is asked for


def test_verification_code_brute_force_is_rate_limited(admin, demo, aws, api):
    package = add_android(admin, demo, aws, "5.0", verificationCode="Q7X2")
    path = f"/download/{demo['appId']}/{demo['workspaceId']}/{package['packageId']}"
    statuses = [api.get(f"{path}?code={n:04d}", token="").status for n in range(10)]
    assert statuses == [403] * 10
    blocked = api.get(path + "?code=9999", token="")
    assert blocked.status == 429 and int(blocked.headers["Retry-After"]) > 0
    assert blocked.body["code"] == "Throttling"
    assert api.get(path + "?code=Q7X2", token="").status == 429  # even the right code, until the window ends
    # the code can be changed (or removed) by a release manager
    admin.request(
        "PATCH", ws_path(demo, f"/upgrade/packages/{package['packageId']}"), {"verificationCode": ""}
    )
    assert api.get(path, token="").status == 302


def test_enterprise_ipa_installs_through_an_itms_services_manifest(admin, demo, aws, api):
    reply = admin.post(
        ws_path(demo, "/upgrade/packages"),
        {
            "platform": "ios",
            "distribution": "enterprise",
            "version": "5.0",
            "filename": "Demo.ipa",
            "bundleId": "com.example.demo",
        },
    )
    assert reply.status == 201, reply.body
    package_id = reply.body["packageId"]
    content = app_files.ipa("5.0")
    send_file(aws, reply.body["upload"], content, "Demo.ipa")
    icon = admin.post(
        ws_path(demo, f"/upgrade/packages/{package_id}/uploads"), {"kind": "icon", "filename": "icon.png"}
    )
    send_file(aws, icon.body, app_files.PNG, "icon.png")
    package = admin.get(ws_path(demo, f"/upgrade/packages/{package_id}")).body
    assert (
        package["fileStatus"] == "ready"
        and package["warnings"] == []
        and package["icon"]["size"] == len(app_files.PNG)
    )
    assert package["detected"] == {
        "app": "Demo.app",
        "bundleId": "com.example.demo",
        "shortVersion": "5.0",
        "buildVersion": "5.0.7",
    }

    link = api.get(urlsplit(package["downloadUrl"]).path, token="")
    assert link.status == 302 and link.headers["Location"].startswith(
        "itms-services://?action=download-manifest&url="
    )
    manifest_url = parse_qs(urlsplit(link.headers["Location"]).query)["url"][0]
    assert manifest_url.startswith("http") and "/manifest.plist?t=" in manifest_url
    plist = api.get(f"{urlsplit(manifest_url).path}?{urlsplit(manifest_url).query}", token="")
    assert plist.status == 200 and "<key>bundle-identifier</key><string>com.example.demo</string>" in text(
        plist
    )
    import re

    ipa_url = (
        re.search(r"<string>([^<]*/app\.ipa\?[^<]*)</string>", text(plist)).group(1).replace("&amp;", "&")
    )
    ipa_reply = api.get(f"{urlsplit(ipa_url).path}?{urlsplit(ipa_url).query}", token="")
    assert (
        ipa_reply.status == 302 and requests.get(ipa_reply.headers["Location"], timeout=10).content == content
    )
    assert api.get(urlsplit(ipa_url).path, token="").status == 401  # no token, no file
    assert api.get(urlsplit(ipa_url).path + "?t=mds1.forged.token", token="").status == 401


def test_an_ipa_without_payload_app_is_refused(admin, demo, aws):
    reply = admin.post(
        ws_path(demo, "/upgrade/packages"),
        {"platform": "ios", "distribution": "enterprise", "version": "5.0", "filename": "Demo.ipa"},
    )
    send_file(aws, reply.body["upload"], app_files.zip_of({"Demo.app/Info.plist": b"<plist/>"}), "Demo.ipa")
    package = admin.get(ws_path(demo, f"/upgrade/packages/{reply.body['packageId']}")).body
    assert package["fileStatus"] == "failed"
    assert package["fileError"] == "file: is not an iOS app (.ipa): it has no Payload/<name>.app folder"


def test_one_dsym_per_ios_package(admin, demo, aws):
    store = admin.post(
        ws_path(demo, "/upgrade/packages"),
        {
            "platform": "ios",
            "distribution": "appStore",
            "version": "5.0",
            "storeUrl": "https://apps.apple.com/app/id1",
        },
    ).body
    path = ws_path(demo, f"/upgrade/packages/{store['packageId']}")
    bad = admin.post(path + "/uploads", {"kind": "symbols", "filename": "sym.tgz"}).body
    send_file(aws, bad, app_files.tgz({"notes/readme.txt": b"hello"}), "sym.tgz")
    failed = admin.get(ws_path(demo, f"/uploads/{bad['uploadId']}")).body
    assert failed["status"] == "failed" and "no .dSYM bundle" in failed["error"]
    assert admin.get(path).body["symbols"] is None
    good = admin.post(path + "/uploads", {"kind": "symbols", "filename": "sym.tgz"}).body
    send_file(aws, good, app_files.dsym("Demo"), "sym.tgz")
    assert admin.get(path).body["symbols"]["bundles"] == ["Demo.app.dSYM"]
    replaced = admin.post(path + "/uploads", {"kind": "symbols", "filename": "sym2.tgz"}).body
    send_file(aws, replaced, app_files.dsym("Other"), "sym2.tgz")
    assert admin.get(path).body["symbols"]["bundles"] == ["Other.app.dSYM"]  # one per package: replaced
    android = add_android(admin, demo, aws, "5.0")
    refused = admin.post(
        ws_path(demo, f"/upgrade/packages/{android['packageId']}/uploads"),
        {"kind": "symbols", "filename": "s.tgz"},
    )
    assert refused.status == 400 and refused.body["field"] == "kind"


def test_store_link_packages_redirect_to_their_store(admin, demo, api):
    tf = admin.post(
        ws_path(demo, "/upgrade/packages"),
        {"platform": "ios", "distribution": "testFlight", "version": "5.0", "storeUrl": "https://testflight.apple.com/join/AbC",
         "validDays": 90, "testerLimit": 10000},
    )  # fmt: skip
    assert tf.status == 201 and tf.body["validDays"] == 90 and tf.body["fileStatus"] == "none"
    reply = api.get(f"/download/{demo['appId']}/{demo['workspaceId']}/{tf.body['packageId']}", token="")
    assert reply.status == 302 and reply.headers["Location"] == "https://testflight.apple.com/join/AbC"


def test_generic_uploads_cannot_bypass_the_package_endpoint(admin, demo):
    reply = admin.post(ws_path(demo, "/uploads"), {"purpose": "android-package", "filename": "a.apk"})
    assert reply.status == 400 and reply.body["field"] == "purpose"


def test_viewer_sees_packages_but_cannot_add_them(admin, demo):
    admin.post(
        ws_path(demo, "/users"), {"username": "viewer3", "password": "a-long-password", "role": "viewer"}
    )
    token = admin.login("viewer3", "a-long-password")
    assert admin.get(ws_path(demo, "/upgrade/packages"), token=token).status == 200
    refused = admin.post(
        ws_path(demo, "/upgrade/packages"),
        {"platform": "android", "version": "1", "filename": "a.apk"},
        token=token,
    )
    assert refused.status == 403
