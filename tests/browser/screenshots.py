"""`make screenshots`: a fresh local stack with some demo data, and a PNG of each console page.

python -m tests.browser.screenshots docs/screenshots
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.browser.conftest import CHROMIUM, VIEWPORT, StackApi, login_token
from tests.e2e.conftest import LocalStackProcess


def seed(api: StackApi) -> None:
    qa = api.call(
        "POST", "/whitelists", {"name": "QA team", "type": "normal", "ids": "alice\nbob\ncarol"}, 201
    )
    api.call(
        "POST",
        "/whitelists",
        {"name": "Staff by pattern", "type": "regex", "patterns": ["staff-[0-9]+"]},
        201,
    )
    api.call(
        "POST",
        "/release-rules",
        {"type": "city", "platform": "all", "name": "Hangzhou", "value": "Hangzhou"},
        201,
    )
    api.call("POST", "/release-rules", {"type": "network", "platform": "android", "name": "Wi-Fi only",
                                        "value": "Wi-Fi"}, 201)  # fmt: skip
    old = api.android_package("5.0.0")
    api.call("POST", f"/upgrade/packages/{old['packageId']}/tasks", {"type": "official", "mode": "multiple",
                                                                       "guideMemo": "5.0 is here"}, 201)  # fmt: skip
    new = api.android_package("5.1.0")
    path = f"/upgrade/packages/{new['packageId']}/tasks"
    api.call("POST", path, {"type": "gray", "grayModel": "whitelist", "whitelistIds": [qa["whitelistId"]],
                            "mode": "forced", "guideMemo": "QA: please try 5.1"}, 201)  # fmt: skip
    end = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    window = api.call("POST", path, {"type": "gray", "grayModel": "timeWindow", "endTime": end, "usersCount": 500,
                                     "mode": "single"}, 201)  # fmt: skip
    api.call("POST", f"/upgrade/tasks/{window['taskId']}/status", {"action": "pause"}, 200)
    seed_products(api)
    api.call("POST", "/upgrade/packages", {"platform": "ios", "version": "5.1.0", "distribution": "appStore",
                                           "storeUrl": "https://apps.apple.com/app/id123456"}, 201)  # fmt: skip


def seed_products(api: StackApi) -> None:
    """An H5 app with a ready version, config items with history, a released hotpatch."""
    from chalicelib.security import rsa_keys
    from tests import h5_zips

    api.call("PUT", "/h5/settings/vhost", {"vhost": "h5app.example.com"}, 200)
    pem = rsa_keys.private_key_pem(rsa_keys.generate_private_key()).decode()
    api.call("PUT", "/h5/settings/rsa-key", {"pem": pem}, 200)
    api.call("POST", "/h5/apps", {"h5Id": "87654321", "name": "Shop", "resourceType": "normal"}, 201)
    with tempfile.TemporaryDirectory() as tmp:
        content = h5_zips.normal(Path(tmp) / "shop.zip", "87654321").read_bytes()
    resource = api.call("POST", "/h5/apps/87654321/resources", {"version": "1.0.0.1", "platform": "all",
                        "clientVersionMin": "1.0.0;1.0.0", "mainUrl": "/www/index.html", "filename": "shop.zip"},
                        201)  # fmt: skip
    api.send_file(resource["upload"], content, "shop.zip")
    api.call("POST", f"/h5/resources/{resource['id']}/tasks", {"type": "official", "memo": "everyone"}, 201)
    api.call("POST", "/config/import", {"items": [
        {"key": "home.newLayout", "type": "boolean", "value": "false", "note": "the new home screen"},
        {"key": "api.timeoutSeconds", "type": "number", "value": "30"},
        {"key": "banner.text", "type": "string", "value": "Spring sale", "platform": "android"},
    ]}, 200)  # fmt: skip
    item = api.call("GET", "/config/items/home.newLayout", expect=200)
    api.call("PATCH", "/config/items/home.newLayout", {"value": "true", "revision": item["revision"]}, 200)
    patch = api.call("POST", "/hotpatch/patches", {"platform": "android", "appVersion": "5.0.0",
                                                   "filename": "fix.js", "description": "crash fix"}, 201)  # fmt: skip
    api.send_file(patch["upload"], b"console.log('fixed');\n", "fix.js")
    api.call("POST", f"/hotpatch/patches/{patch['patchId']}/releases", {"type": "official"}, 201)


def shoot(out: Path) -> list[Path]:
    from playwright.sync_api import expect, sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        stack = LocalStackProcess(data_dir=Path(tmp) / "data")
        stack.start()
        try:
            creds = json.loads((stack.data_dir / "bootstrap.json").read_text())
            api = StackApi(stack.api_url, creds["appId"], creds["workspaceId"])
            api.token = login_token(stack.api_url, creds["username"], creds["password"])
            seed(api)
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path=CHROMIUM, args=["--no-sandbox", "--no-proxy-server"]
                )
                page = browser.new_page(viewport=VIEWPORT)

                def snap(name: str) -> None:
                    page.wait_for_load_state("networkidle")
                    target = out / f"{name}.png"
                    page.screenshot(path=str(target))
                    written.append(target)

                page.goto(f"{stack.api_url}/console/")
                page.get_by_label("Username").fill(creds["username"])
                snap("login")
                page.get_by_label("Password").fill(creds["password"])
                page.get_by_role("button", name="Log in").click()
                expect(page.get_by_role("button", name="Open package 5.1.0")).to_be_visible()
                page.get_by_role("button", name="Open package 5.1.0").click()
                expect(page.get_by_role("img", name="QR code for the download link of 5.1.0")).to_be_visible()
                snap("upgrade")
                page.get_by_role("button", name="Add package").click()
                snap("upgrade-add-package")
                page.get_by_role("link", name="Whitelists & rules").click()
                expect(page.get_by_role("heading", name="Release rules")).to_be_visible()
                snap("targeting")
                page.get_by_role("link", name="Delivery preview").click()
                form = page.get_by_role("form", name="Device context")
                form.get_by_label("Client version").fill("4.2")
                form.get_by_label("User ID").fill("alice")
                form.get_by_label("City").fill("Hangzhou")
                form.get_by_role("button", name="Preview").click()
                expect(page.get_by_role("region", name="Product upgrade")).to_be_visible()
                snap("preview")
                page.get_by_role("link", name="Audit log").click()
                expect(page.get_by_role("form", name="Audit filters")).to_be_visible()
                snap("audit")
                page.get_by_role("link", name="H5 offline packages").click()
                page.get_by_role("button", name="Open H5 app 87654321").click()
                expect(page.get_by_role("region", name="H5 app 87654321")).to_contain_text("1.0.0.1")
                snap("h5")
                page.get_by_role("button", name="Configuration").click()
                expect(page.get_by_label("Virtual host domain")).to_be_visible()
                snap("h5-configuration")
                page.get_by_role("link", name="Switch configuration").click()
                page.get_by_role("button", name="History of home.newLayout").click()
                expect(page.get_by_role("region", name="History of home.newLayout")).to_be_visible()
                snap("config")
                page.get_by_role("link", name="Hotpatch").click()
                page.get_by_role("button", name=re.compile(r"^Releases of patch")).click()
                expect(page.get_by_role("region", name=re.compile(r"^Patch \d+"))).to_contain_text("Running")
                snap("hotpatch")
                page.get_by_role("link", name="Administration").click()
                expect(page.get_by_role("heading", name="Members")).to_be_visible()
                snap("admin")
                browser.close()
        except Exception:
            print("\n".join(stack.output[-80:]), file=sys.stderr)  # the stack's log says why
            raise
        finally:
            stack.stop()
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")
    for path in shoot(target):
        print(f"wrote {path}")
