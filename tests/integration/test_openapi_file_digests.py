"""``Md5`` in OpenAPI answers is the MD5 of the stored file, measured while it was spooled (the upgrade
package's APK through the Tea SDK, a hotpatch's file), and the console API shows it with the SHA-256."""

from __future__ import annotations

import hashlib

import pytest

from tests import app_files
from tests.integration.test_openapi_upgrade import _apk_package
from tests.mpaas_sdk import MpaasSdk, ok


@pytest.fixture
def sdk(http_endpoint, demo, monkeypatch) -> MpaasSdk:
    from chalicelib import config

    monkeypatch.setenv("MDS_API_BASE_URL", f"http://{http_endpoint}")
    config.reload()
    return MpaasSdk.for_creds(http_endpoint, demo)


def test_upgrade_package_md5_is_the_apks(sdk, admin, demo):
    from tests.conftest import ws_path

    package_id = _apk_package(sdk, "5.0.1.2")
    expected = hashlib.md5(app_files.apk("5.0.1.2"), usedforsecurity=False).hexdigest()
    info = ok(sdk.call("GetMcubeUpgradePackageInfo", package_id=int(package_id)), "get_package_result")
    assert info.package_info.upgrade_base_info_do.md_5 == expected
    listed = ok(sdk.call("ListMcubeUpgradePackages", page_num=1, page_size=5), "list_packages_result")
    assert [p.md_5 for p in listed.packages] == [expected]
    shown = admin.get(ws_path(demo, f"/upgrade/packages/{package_id}")).body["file"]
    assert shown["md5"] == expected and len(shown["sha256"]) == 64


def test_hotpatch_md5_is_the_patch_files(sdk):
    ok(
        sdk.call("CreateMcubeUpgradePackage", app_version="6.1", platform="iOS",
                 appstore_url="https://apps.apple.com/app/id123456789"),
        "result_content",
    )  # fmt: skip
    data = b"console.log('fix');"
    made = ok(
        sdk.call("CreateMcubeHotpatchResource", file_url=sdk.upload("fix.js", data), platform="iOS",
                 product_version="6.1", fix_desc="null check", onex_flag=True),
        "create_hotpatch_resource_result",
    )  # fmt: skip
    listed = ok(
        sdk.call("ListMcubeHotpatchResources", page_num=1, page_size=5), "list_hotpatch_resource_result"
    )
    assert [(str(r.id), r.md_5) for r in listed.hotpatch_resource_info] == [
        (made.hotpatch_resource_id, hashlib.md5(data, usedforsecurity=False).hexdigest())
    ]
