"""The console's H5, switch-configuration and hotpatch pages in a real headless Chromium: upload an H5
zip and watch it become ready, delete an app only after typing its ID, import a config file and roll a
key back from its history, upload and release a hotpatch and see its apply-outcome counts."""

from __future__ import annotations

import json
import re

import pytest
import requests
from playwright.sync_api import expect

from tests import h5_zips
from tests.browser.conftest import next_version

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="session")
def h5_configured(stack_api) -> None:
    from chalicelib.security import rsa_keys

    stack_api.call("PUT", "/h5/settings/vhost", {"vhost": "h5app.example.com"}, 200)
    pem = rsa_keys.private_key_pem(rsa_keys.generate_private_key()).decode()
    stack_api.call("PUT", "/h5/settings/rsa-key", {"pem": pem}, 200)


def test_h5_configuration_shows_the_vhost_and_that_the_key_exists(admin_page, h5_configured):
    page = admin_page
    page.get_by_role("link", name="H5 offline packages").click()
    page.get_by_role("button", name="Configuration").click()
    expect(page.get_by_label("Virtual host domain")).to_have_value("h5app.example.com")
    expect(page.locator("#h5-key-state")).to_contain_text("key exists")


def test_upload_an_h5_zip_and_watch_it_become_ready(admin_page, h5_configured, tmp_path):
    page = admin_page
    page.get_by_role("link", name="H5 offline packages").click()
    page.get_by_role("button", name="New H5 app").click()
    new = page.get_by_role("form", name="New H5 app")
    new.get_by_label("H5 ID (8 digits)").fill("87654321")
    new.get_by_label("Name").fill("Shop")
    new.get_by_role("button", name="Create app").click()
    page.get_by_role("button", name="Open H5 app 87654321").click()
    page.get_by_role("button", name="Upload version").click()
    version = page.get_by_role("form", name="Upload H5 version")
    version.get_by_label("Version", exact=True).fill("1.0.0.1")
    version.get_by_label("Min client version (iOS;Android)").fill("1.0.0;1.0.0")
    version.get_by_label("Main URL (normal packages)").fill("/www/index.html")
    version.get_by_label("Package zip").set_input_files(
        str(h5_zips.normal(tmp_path / "shop.zip", "87654321"))
    )
    extend = version.get_by_label("Extend info (JSON object, optional)")
    extend.fill("{not json")
    version.get_by_role("button", name="Upload").click()
    expect(extend).to_have_attribute("aria-invalid", "true")  # refused before anything is created
    extend.fill('{"asyncReqRate": 60}')
    version.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("progressbar", name="Uploading shop.zip")).to_have_attribute("value", "100")
    app = page.get_by_role("region", name="H5 app 87654321")
    row = app.get_by_role("row").filter(has_text="1.0.0.1")
    expect(row).to_contain_text("ready")
    expect(row).to_contain_text("not released")  # the derived release status

    row.get_by_role("button", name="Tasks of version 1.0.0.1").click()
    page.get_by_role("button", name="New H5 task").click()
    task = page.get_by_role("form", name="New H5 task")
    task.get_by_label("Release type").select_option("official")
    task.get_by_label("Memo").fill("everyone")
    task.get_by_role("button", name="Create task").click()
    tasks = page.get_by_role("region", name="Tasks of version 1.0.0.1")
    expect(tasks.get_by_role("cell", name="Running")).to_be_visible()
    expect(row).to_contain_text("official releasing")

    row.get_by_role("button", name="Export version 1.0.0.1").click()
    amr = row.get_by_role("link", name=".amr")
    expect(amr).to_be_visible()
    assert requests.get(amr.get_attribute("href"), timeout=10).status_code == 200


def test_a_refused_h5_zip_shows_why(admin_page, h5_configured, stack_api, tmp_path):
    stack_api.call("POST", "/h5/apps", {"h5Id": "87650001", "name": "Broken", "resourceType": "normal"}, 201)
    page = admin_page
    page.get_by_role("link", name="H5 offline packages").click()
    page.get_by_role("button", name="Open H5 app 87650001").click()
    page.get_by_role("button", name="Upload version").click()
    version = page.get_by_role("form", name="Upload H5 version")
    version.get_by_label("Version", exact=True).fill("1.0.0.1")
    version.get_by_label("Min client version (iOS;Android)").fill("1.0.0;1.0.0")
    version.get_by_label("Main URL (normal packages)").fill("/www/index.html")
    version.get_by_label("Package zip").set_input_files(str(h5_zips.wrong_top_folder(tmp_path / "bad.zip")))
    version.get_by_role("button", name="Upload").click()
    zip_field = version.get_by_label("Package zip")
    expect(zip_field).to_have_attribute("aria-invalid", "true")
    expect(page.locator(f"#{zip_field.get_attribute('id')}-error")).to_contain_text("top folder")
    row = page.get_by_role("region", name="H5 app 87650001").get_by_role("row").filter(has_text="1.0.0.1")
    expect(row).to_contain_text("failed")


def test_deleting_an_h5_app_needs_its_id_typed(admin_page, h5_configured, stack_api):
    stack_api.call(
        "POST", "/h5/apps", {"h5Id": "87650002", "name": "Old promo", "resourceType": "normal"}, 201
    )
    page = admin_page
    page.get_by_role("link", name="H5 offline packages").click()
    page.get_by_role("button", name="Delete H5 app 87650002").click()
    dialog = page.get_by_role("dialog")
    confirm = dialog.get_by_role("button", name="Delete app")
    expect(confirm).to_be_disabled()
    dialog.get_by_label("Type 87650002 to confirm").fill("8765000")
    expect(confirm).to_be_disabled()
    dialog.get_by_label("Type 87650002 to confirm").fill("87650002")
    confirm.click()
    expect(page.get_by_role("button", name="Open H5 app 87650002")).to_have_count(0)
    assert (
        requests.get(
            f"{stack_api.ws}/h5/apps/87650002",
            headers={"Authorization": f"Bearer {stack_api.token}"},
            timeout=10,
        ).status_code
        == 404
    )


def test_import_a_config_file_then_roll_a_key_back(admin_page, stack_api, tmp_path):
    document = {"items": [
        {"key": "browser.newHome", "type": "boolean", "value": "true", "note": "new home screen"},
        {"key": "browser.timeout", "type": "number", "value": "30"},
        {"key": "bad key!", "type": "string", "value": "x"},
    ]}  # fmt: skip
    path = tmp_path / "config.json"
    path.write_text(json.dumps(document))
    page = admin_page
    page.get_by_role("link", name="Switch configuration").click()
    page.get_by_role("button", name="Import").click()
    importer = page.get_by_role("form", name="Import configuration")
    importer.get_by_label("JSON file").set_input_files(str(path))
    importer.get_by_role("button", name="Import file").click()
    expect(importer.locator(".form-error")).to_contain_text("items[2].key")  # all or nothing by default
    importer.get_by_label("Skip invalid items and import the rest").check()
    importer.get_by_role("button", name="Import file").click()
    expect(importer.get_by_role("table")).to_contain_text("2 imported, 0 skipped, 1 invalid")
    expect(importer.locator(".form-error")).to_be_hidden()

    page.get_by_role("button", name="Edit browser.newHome").click()
    edit = page.get_by_role("form", name="Edit browser.newHome")
    edit.get_by_label("Default value").fill("false")
    edit.get_by_role("button", name="Save item").click()
    item_row = page.get_by_role("row", name=re.compile(r"^browser\.newHome boolean"))
    expect(item_row).to_contain_text("false")
    page.get_by_role("button", name="History of browser.newHome").click()
    history = page.get_by_role("region", name="History of browser.newHome")
    expect(history).to_contain_text("- true")
    history.get_by_role("button", name="Roll back browser.newHome to version 1").click()
    page.get_by_role("dialog").get_by_role("button", name="Roll back").click()
    expect(item_row.get_by_role("cell", name="true", exact=True)).to_be_visible()
    assert stack_api.call("GET", "/config/items/browser.newHome", expect=200)["value"] == "true"


def test_release_and_roll_back_a_hotpatch_with_outcome_counts(admin_page, stack_api, tmp_path):
    version = next_version()
    stack_api.android_package(version)
    patch_file = tmp_path / "fix.js"
    patch_file.write_text("console.log('fixed');\n")
    page = admin_page
    page.get_by_role("link", name="Hotpatch").click()
    page.get_by_role("button", name="New patch").click()
    new = page.get_by_role("form", name="New patch")
    new.get_by_label("App version").fill(version)
    new.get_by_label("Patch file").set_input_files(str(patch_file))
    new.get_by_role("button", name="Upload patch").click()
    expect(page.get_by_role("status").filter(has_text="uploaded and signed")).to_be_visible()
    patch_id = re.search(
        r"Patch (\d+) uploaded",
        page.get_by_role("status").filter(has_text="uploaded and signed").inner_text(),
    ).group(1)
    row = page.get_by_role("row").filter(has=page.get_by_role("cell", name=patch_id, exact=True))
    expect(row).to_contain_text("ready")

    row.get_by_role("button", name=f"Releases of patch {patch_id}").click()
    page.get_by_role("button", name="New release").click()
    release = page.get_by_role("form", name="New hotpatch release")
    release.get_by_label("Release type").select_option("official")
    release.get_by_role("button", name="Release").click()
    region = page.get_by_role("region", name=f"Patch {patch_id}")
    expect(region.get_by_role("cell", name="Running")).to_be_visible()
    reported = requests.post(
        f"{stack_api.base}/client/v1/hotpatch/report",
        json={"appId": stack_api.app_id, "workspaceId": stack_api.workspace_id, "deviceId": "d-1",
              "patchId": patch_id, "outcome": "applied"},
        timeout=10,
    )  # fmt: skip
    assert reported.status_code == 200, reported.text
    page.reload()
    expect(
        page.get_by_role("row").filter(has=page.get_by_role("cell", name=patch_id, exact=True))
    ).to_contain_text("1 applied · 0 failed · 1 reports")

    page.get_by_role("button", name=f"Roll back patch {patch_id}").click()
    page.get_by_role("dialog").get_by_role("button", name="Roll back").click()
    expect(
        page.get_by_role("row").filter(has=page.get_by_role("cell", name=patch_id, exact=True))
    ).to_contain_text("rolled back")


def test_a_developer_signed_patch_after_registering_the_developer_key(admin_page, stack_api, tmp_path):
    import base64

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    content = b"console.log('signed by us');\n"
    signature = base64.b64encode(key.sign(content, padding.PKCS1v15(), hashes.SHA256())).decode()
    version = next_version()
    stack_api.android_package(version)
    patch_file = tmp_path / "ours.js"
    patch_file.write_bytes(content)

    page = admin_page
    page.get_by_role("link", name="Hotpatch").click()
    keys = page.get_by_role("form", name="Developer public key")
    keys.get_by_label(re.compile("Developer public key|Replace the developer public key")).fill(
        public_pem.decode()
    )
    keys.get_by_role("button", name="Register developer key").click()
    expect(page.get_by_role("row", name=re.compile(r"^developer ")).locator("code")).to_be_visible()

    page.get_by_role("button", name="New patch").click()
    new = page.get_by_role("form", name="New patch")
    new.get_by_label("App version").fill(version)
    new.get_by_label("Patch file").set_input_files(str(patch_file))
    new.get_by_label("Signed by").select_option("developer")
    new.get_by_label("Signature (base64 RSA-SHA256 of the file)").fill(signature)
    new.get_by_role("button", name="Upload patch").click()
    receipt = page.get_by_role("status").filter(has_text="uploaded and signed")
    expect(receipt).to_be_visible()
    patch_id = re.search(r"Patch (\d+) uploaded", receipt.inner_text()).group(1)
    assert stack_api.call("GET", f"/hotpatch/patches/{patch_id}", expect=200)["signer"] == "developer"


def test_a_config_value_targeted_to_a_whitelist_reaches_only_its_members(admin_page, stack_api):
    whitelist = stack_api.call(
        "POST", "/whitelists", {"name": "banner testers", "type": "normal", "ids": "fay"}, 201
    )
    page = admin_page
    page.get_by_role("link", name="Switch configuration").click()
    page.get_by_role("button", name="New item").click()
    new = page.get_by_role("form", name="New configuration item")
    new.get_by_label("Key").fill("browser.banner")
    new.get_by_label("Default value").fill("off")
    new.get_by_role("button", name="Add targeted value").click()
    new.get_by_label("Targeted value", exact=True).fill("on")
    new.get_by_role("button", name="Add item").click()
    targeted = new.get_by_role("group", name=re.compile("^Targeted values"))
    expect(targeted.locator("> .field-error")).to_contain_text("needs a target")  # inline, next to the group
    new.get_by_label("Whitelist IDs").fill(whitelist["whitelistId"])
    new.get_by_role("button", name="Add item").click()
    expect(page.get_by_role("row", name=re.compile(r"^browser\.banner string"))).to_contain_text("1")
    saved = stack_api.call("GET", "/config/items/browser.banner", expect=200)
    assert saved["targetedValues"] == [{"value": "on", "whitelistIds": [whitelist["whitelistId"]]}]

    page.get_by_role("link", name="Delivery preview").click()
    context = page.get_by_role("form", name="Device context")
    context.get_by_label("User ID").fill("fay")
    context.get_by_role("button", name="Preview").click()
    config = page.get_by_role("region", name="Product config")
    expect(config).to_contain_text("browser.banner: (type: string, value: on)")
    context.get_by_label("User ID").fill("gus")
    context.get_by_role("button", name="Preview").click()
    expect(config).to_contain_text("browser.banner: (type: string, value: off)")
