"""The web console in a real headless Chromium against the running local stack: log in, ship an APK with
the progress bar, release it gray, see its QR code, pause the task; viewers see no edit buttons; API
field errors appear inline next to their field; the delivery preview; layout and labels."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests import app_files
from tests.browser.conftest import log_in, next_version

pytestmark = pytest.mark.e2e

PAGES = ("upgrade", "h5", "config", "hotpatch", "targeting", "preview", "reach", "audit", "admin")


def open_package(page, version: str) -> None:
    page.get_by_role("button", name=f"Open package {version}").click()
    expect(page.get_by_role("region", name=f"Package {version}")).to_be_visible()


def test_ship_an_apk_release_it_gray_see_the_qr_code_and_pause(admin_page, stack_api, tmp_path):
    page = admin_page
    whitelist = stack_api.call("POST", "/whitelists", {"name": f"qa-{tmp_path.name}", "type": "normal",
                                                        "ids": "alice\nbob"}, 201)  # fmt: skip
    version = next_version()
    apk = tmp_path / "app-release.apk"
    apk.write_bytes(app_files.apk(version))

    page.get_by_role("button", name="Add package").click()
    add = page.get_by_role("form", name="Add package")
    for ios_only in ("Store URL", "Bundle ID", "Valid days (TestFlight, 1-90)"):
        expect(add.get_by_label(ios_only)).to_be_hidden()  # an APK has none of these
    add.get_by_label("Version").fill(version)
    add.get_by_label("Verification code (optional)").fill("Q7X2")
    add.get_by_label("APK file").set_input_files(str(apk))
    add.get_by_role("button", name="Add package").click()

    bar = page.get_by_role("progressbar", name="Uploading app-release.apk")
    expect(bar).to_have_attribute("value", "100")  # the XHR upload progress reached the end
    expect(page.locator(".progress-text")).to_have_text("ready")
    row = page.get_by_role("row").filter(has_text=version)
    expect(row).to_contain_text("To be released")
    expect(row).to_contain_text(f"{len(apk.read_bytes())} B")

    open_package(page, version)
    qr = page.get_by_role("img", name=f"QR code for the download link of {version}")
    expect(qr).to_be_visible()
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
    expect(page.get_by_text("asks for the verification code")).to_be_visible()

    page.get_by_role("button", name="New release task").click()
    task_form = page.get_by_role("form", name="New release task")
    expect(task_form.get_by_label("Release type").locator("option")).to_have_count(2)  # APK: official or gray
    task_form.get_by_label("Release type").select_option("gray")
    task_form.get_by_label("Gray model").select_option("whitelist")
    task_form.get_by_label(re.compile(rf"{whitelist['name']} \(")).check()
    task_form.get_by_label("Reminder").select_option("forced")
    task_form.get_by_label("Upgrade prompt").fill("Please update")
    task_form.get_by_role("button", name="Create task").click()

    package = page.get_by_role("region", name=f"Package {version}")
    expect(package.get_by_role("cell", name="Running")).to_be_visible()
    expect(package).to_contain_text(f"whitelists {whitelist['whitelistId']}")
    package.get_by_role("button", name=re.compile(r"^Pause task")).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Pause task")
    dialog.get_by_role("button", name="Pause").click()
    expect(package.get_by_role("cell", name="Paused")).to_be_visible()
    expect(package.get_by_role("button", name=re.compile(r"^Continue task"))).to_be_visible()

    tasks = stack_api.call("GET", "/upgrade/tasks", expect=200)["tasks"]
    mine = [t for t in tasks if t["whitelistIds"] == [whitelist["whitelistId"]]]
    assert [t["status"] for t in mine] == ["paused"] and mine[0]["mode"] == "forced"
    assert page.get_by_role("row").filter(has_text=version).get_by_text("Paused").count() >= 1


def test_a_cancelled_confirmation_changes_nothing(admin_page, stack_api):
    version = next_version()
    package = stack_api.android_package(version)
    stack_api.call(
        "POST", f"/upgrade/packages/{package['packageId']}/tasks", {"type": "official", "mode": "single"}, 201
    )
    page = admin_page
    page.reload()
    open_package(page, version)
    page.get_by_role("button", name=re.compile(r"^End task")).click()
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    tasks = stack_api.call("GET", "/upgrade/tasks", expect=200)["tasks"]
    assert [t["status"] for t in tasks if t["packageId"] == package["packageId"]] == ["running"]


def test_the_task_form_offers_only_what_the_platform_allows(admin_page, stack_api):
    version = next_version()
    stack_api.call("POST", "/upgrade/packages", {"platform": "ios", "version": version, "distribution": "testFlight",
                                                  "storeUrl": "https://testflight.apple.com/join/abc",
                                                  "validDays": 90, "testerLimit": 100}, 201)  # fmt: skip
    page = admin_page
    page.get_by_role("button", name="iOS").click()
    open_package(page, version)
    page.get_by_role("button", name="New release task").click()
    task_form = page.get_by_role("form", name="New release task")
    assert task_form.get_by_label("Release type").locator("option").all_text_contents() == ["Gray"]
    modes = task_form.get_by_label("Reminder").locator("option").all_text_contents()
    assert modes == ["Single reminder (202)", "Multiple reminders (204)"]  # TestFlight: no forced upgrade
    expect(page.get_by_role("region", name=f"Package {version}")).to_contain_text(
        re.compile(r"TestFlight link\s*valid until .+ \(90 days\), up to 100 testers")
    )


def test_a_viewer_sees_no_edit_buttons(viewer_page, stack_api):
    version = next_version()
    stack_api.android_package(version)
    page = viewer_page
    page.reload()
    expect(page.locator("#current-role")).to_have_text("viewer (read only)")
    expect(page.get_by_role("row").filter(has_text=version)).to_be_visible()
    open_package(page, version)
    for name in ("Add package", "New release task", "Delete package"):
        expect(page.get_by_role("button", name=name)).to_have_count(0)
    page.get_by_role("link", name="Whitelists & rules").click()
    expect(page.get_by_role("heading", name="Release rules")).to_be_visible()
    for name in ("New whitelist", "New rule", "Delete selected"):
        expect(page.get_by_role("button", name=name)).to_have_count(0)
    for link, buttons in (
        ("H5 offline packages", ("New H5 app",)),
        ("Switch configuration", ("New item", "Import")),
        ("Hotpatch", ("New patch",)),
    ):
        page.get_by_role("link", name=link).click()
        expect(page.locator("main h1")).to_have_text(link)
        page.wait_for_load_state("networkidle")
        for name in buttons:
            expect(page.get_by_role("button", name=name, exact=True)).to_have_count(0)
    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_text("The audit log is for workspace admins.")).to_be_visible()
    page.get_by_role("link", name="Administration").click()
    expect(page.get_by_text("Workspace administration is for workspace admins.")).to_be_visible()


def test_api_field_errors_appear_inline_next_to_their_field(admin_page):
    page = admin_page
    page.get_by_role("button", name="Add package").click()
    add = page.get_by_role("form", name="Add package")
    add.get_by_label("Version").fill("not a version")
    add.get_by_label("APK file").set_input_files(
        files=[{"name": "a.apk", "mimeType": "application/vnd.android.package-archive", "buffer": b"PK"}]
    )
    add.get_by_role("button", name="Add package").click()
    version = add.get_by_label("Version")
    expect(version).to_have_attribute("aria-invalid", "true")
    error = page.locator(f"#{version.get_attribute('id')}-error")
    expect(error).to_be_visible()
    assert error.text_content() and "{" not in page.locator("main").inner_text()
    assert add.locator(".form-error").is_hidden()  # not a banner: next to the field

    page.get_by_role("link", name="Whitelists & rules").click()
    page.get_by_role("button", name="New rule").click()
    rule = page.get_by_role("form", name="New release rule")
    rule.get_by_label("Rule type").select_option("network")
    rule.get_by_label("Rule name").fill("fast networks")
    rule.get_by_label("Value", exact=True).fill("6G")
    rule.get_by_role("button", name="Create rule").click()
    value = rule.get_by_label("Value", exact=True)
    expect(value).to_have_attribute("aria-invalid", "true")
    expect(page.locator(f"#{value.get_attribute('id')}-error")).to_contain_text("a network must be one of")


def test_regex_whitelists_get_validation_feedback(admin_page):
    page = admin_page
    page.get_by_role("link", name="Whitelists & rules").click()
    page.get_by_role("button", name="New whitelist").click()
    new = page.get_by_role("form", name="New whitelist")
    new.get_by_label("Name").fill("testers by pattern")
    new.get_by_label("Type").select_option("regex")
    new.get_by_label("Patterns (one per line, at most 20)").fill("qa-[0-9]+\nbeta-[0-9")
    new.get_by_role("button", name="Create whitelist").click()
    patterns = new.get_by_label("Patterns (one per line, at most 20)")
    expect(patterns).to_have_attribute("aria-invalid", "true")
    expect(page.locator(f"#{patterns.get_attribute('id')}-error")).to_contain_text(
        "is not a valid regular expression"
    )

    patterns.fill("qa-[0-9]+")
    new.get_by_role("button", name="Create whitelist").click()
    expect(page.get_by_role("row").filter(has_text="testers by pattern")).to_be_visible()


def test_delivery_preview_shows_static_and_dynamic_answers(admin_page, stack_api):
    version = next_version()
    package = stack_api.android_package(version)
    whitelist = stack_api.call("POST", "/whitelists", {"name": f"preview-{version}", "type": "normal",
                                                        "ids": "carol"}, 201)  # fmt: skip
    path = f"/upgrade/packages/{package['packageId']}/tasks"
    stack_api.call("POST", path, {"type": "gray", "grayModel": "whitelist", "whitelistIds": [whitelist["whitelistId"]],
                                  "mode": "forced", "guideMemo": "carol first",
                                  "clientVersions": ["0.1-0.9"]}, 201)  # fmt: skip
    end = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    window = stack_api.call("POST", path, {"type": "gray", "grayModel": "timeWindow", "endTime": end, "usersCount": 3,
                                  "mode": "single", "clientVersions": ["0.1-0.9"]}, 201)  # fmt: skip
    page = admin_page
    page.get_by_role("link", name="Delivery preview").click()
    context = page.get_by_role("form", name="Device context")
    context.get_by_label("Platform").select_option("android")
    context.get_by_label("Client version").fill("0.5")
    context.get_by_label("User ID").fill("carol")
    context.get_by_label("City").fill("Hangzhou")
    context.get_by_label("Network").select_option("WIFI")
    context.get_by_role("button", name="Preview").click()
    upgrade = page.get_by_role("region", name="Product upgrade")
    expect(upgrade).to_contain_text("answered statically")
    expect(upgrade).to_contain_text("carol first")
    expect(upgrade).to_contain_text("206")

    context.get_by_label("User ID").fill("dave")
    context.get_by_role("button", name="Preview").click()
    expect(upgrade).to_contain_text("needs the dynamic API")
    expect(upgrade).to_contain_text("Decided by the dynamic API at request time.")
    assert (
        stack_api.call("GET", f"/upgrade/tasks/{window['taskId']}", expect=200)["claimed"] == 0
    )  # no quota used

    context.get_by_label("Client version").fill("not-a-version!")
    context.get_by_role("button", name="Preview").click()
    expect(context.get_by_label("Client version")).to_have_attribute("aria-invalid", "true")


def test_audit_log_lists_changes_and_filters_them(admin_page, stack_api):
    version = next_version()
    stack_api.android_package(version)
    page = admin_page
    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("cell", name="upgrade.package.create").first).to_be_visible()
    filters = page.get_by_role("form", name="Audit filters")
    filters.get_by_label("Actor").fill("user:nobody")
    filters.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("No entries match these filters.")).to_be_visible()


@pytest.mark.parametrize("route", PAGES)
def test_every_page_fits_1280x800_and_labels_its_controls(admin_page, route):
    page = admin_page
    page.goto(page.url.split("#")[0] + f"#/{route}")
    expect(page.locator("main h1")).to_be_visible()
    page.wait_for_load_state("networkidle")
    for opener in ("Add package", "New whitelist", "New rule", "New H5 app", "New item", "New patch"):
        button = page.get_by_role("button", name=opener)
        if button.count():
            button.click()
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    unlabeled = page.evaluate(
        """() => [...document.querySelectorAll('input, select, textarea')]
            .filter(el => el.type !== 'hidden' && el.offsetParent !== null)
            .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
            .map(el => el.name || el.outerHTML.slice(0, 80))"""
    )
    assert unlabeled == []


def test_logging_in_with_a_wrong_password_says_so_without_json(page, console_url, admin_credentials):
    log_page = page
    log_page.goto(console_url)
    log_page.get_by_label("Username").fill(admin_credentials["username"])
    log_page.get_by_label("Password").fill("wrong-password")
    log_page.get_by_role("button", name="Log in").click()
    alert = log_page.locator(".form-error")
    expect(alert).to_be_visible()
    assert "{" not in alert.inner_text()
    log_in(log_page, console_url, admin_credentials["username"], admin_credentials["password"])


def test_advanced_rules_in_the_task_form_decide_what_the_preview_shows(admin_page, stack_api):
    """PRODUCT.md story 3 through the browser: Shanghai, not VIVO X5M, OS 8-12."""
    version = next_version()
    stack_api.android_package(version)
    whitelist = stack_api.call(
        "POST", "/whitelists", {"name": f"rules-{version}", "type": "normal", "ids": "erin"}, 201
    )
    page = admin_page
    page.reload()
    open_package(page, version)
    page.get_by_role("button", name="New release task").click()
    task_form = page.get_by_role("form", name="New release task")
    task_form.get_by_label("Release type").select_option("gray")
    task_form.get_by_label(re.compile(rf"{whitelist['name']} \(")).check()
    task_form.get_by_label("Client versions (optional)").fill("0.1-0.9")
    rules = task_form.get_by_role("group", name="Advanced rules (all must match)")
    for kind, operation, values in (
        ("city", "1", "Shanghai"),
        ("model", "2", "VIVO X5M"),
        ("network", "1", "6G"),  # refused: not a network
    ):
        rules.get_by_role("button", name="Add rule").click()
        row = rules.locator(".rule-row").last
        row.get_by_label("Rule type").select_option(kind)
        row.get_by_label("Rule operation").select_option(operation)
        row.get_by_label("Rule values").fill(values)
    task_form.get_by_role("button", name="Create task").click()
    expect(rules.locator(".field-error")).to_contain_text("rules[2]")
    rules.locator(".rule-row").last.get_by_role("button", name="Remove rule").click()
    rules.get_by_role("button", name="Add rule").click()
    row = rules.locator(".rule-row").last
    row.get_by_label("Rule type").select_option("osVersion")
    row.get_by_label("Rule operation").select_option("3")
    row.get_by_label("Rule values").fill("8.0-12.0")
    task_form.get_by_role("button", name="Create task").click()
    expect(page.get_by_role("region", name=f"Package {version}")).to_contain_text("3 rule(s)")

    page.get_by_role("link", name="Delivery preview").click()
    context = page.get_by_role("form", name="Device context")
    context.get_by_label("Client version").fill("0.5")
    context.get_by_label("User ID").fill("erin")
    context.get_by_label("City").fill("Shanghai")
    context.get_by_label("Device model").fill("Pixel 8")
    context.get_by_label("OS version").fill("10")
    context.get_by_role("button", name="Preview").click()
    upgrade = page.get_by_role("region", name="Product upgrade")
    expect(upgrade.locator("dd").filter(has_text=re.compile(r"^upgrade-task-"))).to_be_visible()
    context.get_by_label("Device model").fill("vivo x5m")
    context.get_by_role("button", name="Preview").click()
    expect(upgrade.locator("dd").filter(has_text=re.compile(r"^none$"))).to_be_visible()


def test_the_rules_editor_offers_defined_release_rules_and_warns_about_free_text(admin_page, stack_api):
    version = next_version()
    stack_api.android_package(version)
    city = f"Chengdu {version}"
    stack_api.call("POST", "/release-rules", {"type": "city", "platform": "android", "name": f"CD {version}",
                                              "value": city}, 201)  # fmt: skip
    page = admin_page
    page.reload()
    open_package(page, version)
    page.get_by_role("button", name="New release task").click()
    task_form = page.get_by_role("form", name="New release task")
    task_form.get_by_label("Release type").select_option("official")
    task_form.get_by_label("Release type").select_option("gray")
    task_form.get_by_label("Gray model").select_option("timeWindow")
    task_form.get_by_label(re.compile(r"^End time")).fill("2099-01-01T10:00")
    task_form.get_by_label("Users count").fill("5")
    rules = task_form.get_by_role("group", name="Advanced rules (all must match)")
    rules.get_by_role("button", name="Add rule").click()
    row = rules.locator(".rule-row").last
    row.get_by_label("Rule values").fill("Atlantis")  # free text stays possible
    row.get_by_label("Defined values").select_option(city)
    expect(row.get_by_label("Rule values")).to_have_value(f"Atlantis, {city}")
    task_form.get_by_role("button", name="Create task").click()
    expect(page.locator("#notices")).to_contain_text("rules[0].values[0]: 'Atlantis' is not a defined city")
    tasks = stack_api.call("GET", "/upgrade/tasks", expect=200)["tasks"]
    assert [t["rules"][0]["values"] for t in tasks if t["rules"] and city in t["rules"][0]["values"]] == [
        ["Atlantis", city]
    ]


def test_admins_manage_members_and_access_keys(admin_page, stack_api, console_url):
    page = admin_page
    page.get_by_role("link", name="Administration").click()
    page.get_by_role("button", name="Add member").click()
    new = page.get_by_role("form", name="Add member")
    new.get_by_label("Username").fill("quinn.qa")
    new.get_by_label("Initial password").fill("short")
    new.get_by_role("button", name="Add member").click()
    password = new.get_by_label("Initial password")
    expect(password).to_have_attribute("aria-invalid", "true")
    password.fill("quinn-password-1")
    new.get_by_label("Role").select_option("viewer")
    new.get_by_role("button", name="Add member").click()
    role = page.get_by_label("Role of quinn.qa")
    expect(role).to_have_value("viewer")
    role.select_option("release_manager")
    expect(page.get_by_role("status").filter(has_text="quinn.qa is now release manager")).to_be_visible()
    members = {u["username"]: u["role"] for u in stack_api.call("GET", "/users", expect=200)["users"]}
    assert members["quinn.qa"] == "release_manager"

    keys = page.get_by_role("form", name="New AccessKey")
    keys.get_by_label("Description").fill("CI pipeline")
    keys.get_by_role("button", name="Create AccessKey").click()
    secret = page.locator("#new-access-key-secret")
    expect(secret).not_to_be_empty()
    key_id = (
        page.get_by_role("status").filter(has_text="shown only once").locator("dd code").first.inner_text()
    )
    page.get_by_role("button", name=f"Revoke {key_id}").click()
    page.get_by_role("dialog").get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("row").filter(has_text=key_id)).to_contain_text("revoked")


def test_edit_a_package_and_remove_its_verification_code(admin_page, stack_api):
    version = next_version()
    created = stack_api.call("POST", "/upgrade/packages", {"platform": "android", "version": version,
                                                            "filename": "app.apk", "verificationCode": "K9P2"}, 201)  # fmt: skip
    assert stack_api.send_file(created["upload"], app_files.apk(version), "app.apk")["status"] == "processed"
    page = admin_page
    page.reload()
    open_package(page, version)
    page.get_by_role("button", name="Edit package").click()
    edit = page.get_by_role("form", name="Edit package")
    edit.get_by_label("Description").fill("hotfix for login")
    edit.get_by_label("Remove the verification code").check()
    edit.get_by_role("button", name="Save package").click()
    expect(page.get_by_role("region", name=f"Package {version}")).to_contain_text("hotfix for login")
    saved = stack_api.call("GET", f"/upgrade/packages/{created['packageId']}", expect=200)
    assert saved["description"] == "hotfix for login" and saved["verificationRequired"] is False


def test_edit_a_running_task_and_see_a_refusal_name_its_field(admin_page, stack_api):
    version = next_version()
    package = stack_api.android_package(version)
    task = stack_api.call("POST", f"/upgrade/packages/{package['packageId']}/tasks",
                          {"type": "official", "mode": "single", "guideMemo": "old prompt"}, 201)  # fmt: skip
    page = admin_page
    page.reload()
    open_package(page, version)
    page.get_by_role("button", name=f"Edit task {task['taskId']}").click()
    edit = page.get_by_role("form", name=f"Edit task {task['taskId']}")
    expect(edit.get_by_label("Upgrade prompt")).to_have_value("old prompt")
    edit.get_by_label("Client versions").fill(f"1.0-{version}.1")
    edit.get_by_role("button", name="Save task").click()
    expect(edit).to_contain_text("below the package version")  # shown next to the field
    edit.get_by_label("Client versions").fill("1.0-2.0")
    edit.get_by_label("Upgrade prompt").fill("new prompt")
    edit.get_by_role("button", name="Save task").click()
    expect(page.get_by_role("form", name=f"Edit task {task['taskId']}")).to_have_count(0)
    saved = stack_api.call("GET", f"/upgrade/tasks/{task['taskId']}", expect=200)
    assert saved["guideMemo"] == "new prompt" and saved["revision"] == 2
    assert saved["clientVersions"][0]["max"] == "2.0"


def test_a_superuser_creates_a_workspace_and_switches_to_it(admin_page):
    page = admin_page
    page.get_by_role("link", name="Administration").click()
    new = page.get_by_role("form", name="New workspace")
    new.get_by_label("App ID").fill("ZZ_BROWSER")
    new.get_by_label("Workspace ID").fill("bad id!")
    new.get_by_label("Name").fill("Browser test")
    new.get_by_role("button", name="Create workspace").click()
    expect(new.get_by_label("Workspace ID")).to_have_attribute("aria-invalid", "true")
    new.get_by_label("Workspace ID").fill("qa")
    new.get_by_role("button", name="Create workspace").click()
    switcher = page.get_by_label("Workspace", exact=True)
    expect(switcher).to_have_value("ZZ_BROWSER/qa")
    expect(page.locator("#current-role")).to_have_text("admin")
    page.get_by_role("link", name="Version upgrade").click()
    expect(page.get_by_text("No Android packages yet.")).to_be_visible()
    switcher.select_option("DEMO_APP/default")
    expect(page.get_by_role("link", name="Version upgrade")).to_have_attribute("aria-current", "page")


def test_add_ids_from_a_file_and_batch_delete_rules(admin_page, stack_api, tmp_path):
    whitelist = stack_api.call(
        "POST", "/whitelists", {"name": "from a file", "type": "normal", "ids": "a1"}, 201
    )
    ids = tmp_path / "ids.csv"
    ids.write_text("b1\nb2\nb3\n" + "x" * 300 + "\n")  # the last line is too long for an ID
    names = ["batch one", "batch two"]
    for n, name in enumerate(names):
        stack_api.call("POST", "/release-rules", {"type": "model", "platform": "all", "name": name,
                                                   "value": f"Model {n}"}, 201)  # fmt: skip
    page = admin_page
    page.get_by_role("link", name="Whitelists & rules").click()
    page.get_by_role("button", name="Open whitelist from a file").click()
    editor = page.get_by_role("form", name="Add or remove IDs")
    editor.get_by_label("…or a .txt/.csv file of IDs").set_input_files(str(ids))
    editor.get_by_role("button", name="Add IDs").click()
    expect(page.get_by_role("status").filter(has_text="Added 3")).to_be_visible()
    expect(page.get_by_role("table", name="Rejected lines")).to_contain_text("longer than")
    expect(page.get_by_role("row").filter(has_text="from a file")).to_contain_text("4")
    assert stack_api.call("GET", f"/whitelists/{whitelist['whitelistId']}", expect=200)["count"] == 4

    for name in names:
        page.get_by_label(f"Select rule {name}").check()
    page.get_by_role("button", name="Delete selected").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    for name in names:
        expect(page.get_by_label(f"Select rule {name}")).to_have_count(0)
    left = {r["name"] for r in stack_api.call("GET", "/release-rules", expect=200)["releaseRules"]}
    assert not left & set(names)


def test_replace_the_apk_of_a_package(admin_page, stack_api, tmp_path):
    version = next_version()
    package = stack_api.android_package(version)
    before = stack_api.call("GET", f"/upgrade/packages/{package['packageId']}", expect=200)["file"]["sha256"]
    apk = tmp_path / "rebuilt.apk"
    apk.write_bytes(app_files.apk(version, version_code=43))  # a rebuild: other bytes, same version
    page = admin_page
    page.reload()
    open_package(page, version)
    files = page.get_by_role("form", name="Upload a file for this package")
    expect(files.get_by_label("Upload").locator("option")).to_have_text(
        ["Replace the APK"]
    )  # no icon for an APK
    files.get_by_label("File", exact=True).set_input_files(str(apk))
    files.get_by_role("button", name="Upload file").click()
    expect(page.get_by_role("status").filter(has_text=f"rebuilt.apk stored for {version}")).to_be_visible()
    after = stack_api.call("GET", f"/upgrade/packages/{package['packageId']}", expect=200)["file"]
    assert after["sha256"] != before
    expect(page.get_by_role("region", name=f"Package {version}")).to_contain_text(after["sha256"])


def test_admins_set_how_often_devices_check(admin_page, stack_api):
    page = admin_page
    page.get_by_role("link", name="Administration").click()
    polling = page.get_by_role("form", name="Device polling")
    interval = polling.get_by_label("Check interval (seconds)")
    expect(interval).to_have_value("600")  # the default
    interval.fill("30")
    polling.get_by_role("button", name="Save").click()
    expect(interval).to_have_attribute("aria-invalid", "true")
    expect(page.locator(f"#{interval.get_attribute('id')}-error")).to_contain_text("between 60 and 86400")
    assert stack_api.call("GET", "/delivery/settings", expect=200)["pollSeconds"] == 600  # nothing changed
    interval.fill("1800")
    polling.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text="Devices now check every 1800 s")).to_be_visible()
    assert stack_api.call("GET", "/delivery/settings", expect=200)["pollSeconds"] == 1800
    stack_api.call("PUT", "/delivery/settings", {"pollSeconds": 600}, expect=200)  # the stack is shared
