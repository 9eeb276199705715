"""PRODUCT.md stories 4 and 5 on the running local stack: the `mds h5` CLI configures the key and the
vhost, creates H5 app 12345678, uploads two versions (presigned POST → S3 → event worker → signed .amr),
releases 1.0.0.1 officially and 1.0.0.2 gray to a whitelist; simulated devices read the CDN manifests,
download each chosen .amr from the CDN, verify it with the app's H5 public key and install it. Ending
the gray task sends the whitelisted device back to 1.0.0.1 and 1.0.0.2's .amr is gone from the CDN;
client ranges `10.1.32;10.2.0` reach iOS 10.1.40 and Android 10.2.0, not iOS 10.1.4."""

from __future__ import annotations

import base64
import json
import re

import pytest
import requests

from chalicelib.domain.targeting import Device
from tests import h5_zips
from tests.e2e.cli import mds, mds_fail
from tests.sdk_capture import no_proxy_env

pytestmark = pytest.mark.e2e

H5 = "12345678"


def phone(stack, creds: dict, token: str, state_dir):
    from mds.device.client import DeviceClient

    ws = f"{stack.api_url}/api/apps/{creds['appId']}/workspaces/{creds['workspaceId']}"
    keys = requests.get(f"{ws}/signing-keys", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    keys.raise_for_status()
    return DeviceClient(
        stack.cdn_url, stack.api_url, app_id=creds["appId"], workspace_id=creds["workspaceId"], state_dir=state_dir,
        public_keys={k["keyId"]: base64.b64decode(k["publicKey"]) for k in keys.json()["keys"]},
    )  # fmt: skip


def test_h5_release_story(local_stack, tmp_path):
    from chalicelib.security import rsa_keys

    session = tmp_path / "session.json"
    bootstrap = local_stack.data_dir / "bootstrap.json"
    creds = json.loads(bootstrap.read_text())
    mds(local_stack, session, "login", "--bootstrap", str(bootstrap))
    key = tmp_path / "h5.pem"
    key.write_bytes(rsa_keys.private_key_pem(rsa_keys.generate_private_key()))
    public_pem = tmp_path / "h5.pub.pem"
    assert "stored (sealed)" in mds(
        local_stack, session, "h5", "key", "--file", str(key), "--public-out", str(public_pem)
    )
    public = public_pem.read_text()
    assert "vhost: h5app.com" in mds(local_stack, session, "h5", "vhost", "h5app.com")
    refused = mds_fail(local_stack, session, "h5", "vhost", "other.com")
    assert "cannot be changed" in refused
    mds(local_stack, session, "h5", "add-app", H5, "--name", "Home", "--type", "normal")

    ids = {}
    for version, content in (("1.0.0.1", "1"), ("1.0.0.2", "2")):
        package = h5_zips.normal(tmp_path / f"{version}.zip", version=content)
        printed = mds(local_stack, session, "h5", "upload", H5, "--file", str(package), "--version", version,
                      "--min", "10.1.32;10.2.0", "--main-url", "/www/index.html", "--json")  # fmt: skip
        made = json.loads(printed[printed.index("{") :])  # after the upload progress line
        assert made["status"] == "ready", made
        ids[version] = made
    bad_zip = h5_zips.normal(tmp_path / "other.zip", "87654321")
    failed = mds_fail(local_stack, session, "h5", "upload", H5, "--file", str(bad_zip), "--version", "1.0.0.3",
                      "--min", "10.1.32;10.2.0", "--main-url", "/www/index.html")  # fmt: skip
    assert "87654321" in failed

    mds(local_stack, session, "whitelist", "create", "h5-testers", "--ids", "alice")
    wid = json.loads(mds(local_stack, session, "whitelist", "list", "--json"))["whitelists"][-1][
        "whitelistId"
    ]
    mds(local_stack, session, "h5", "release", ids["1.0.0.1"]["id"], "--type", "official")
    gray = mds(local_stack, session, "h5", "release", ids["1.0.0.2"]["id"], "--type", "gray",
               "--gray-model", "whitelist", "--whitelist", wid)  # fmt: skip
    gray_id = re.search(r"Task (\d+)", gray).group(1)

    with no_proxy_env():
        token = requests.post(
            f"{local_stack.api_url}/api/auth/login",
            json={"username": creds["username"], "password": creds["password"]},
            timeout=10,
        ).json()["token"]
        alice_phone = phone(local_stack, creds, token, tmp_path / "alice")
        bob_phone = phone(local_stack, creds, token, tmp_path / "bob")
        alice = Device("android", user_id="alice", client_version="10.2.0")
        bob = Device("ios", user_id="bob", client_version="10.1.40")

        got = alice_phone.sync_h5(alice, public)
        assert got[H5]["installed"] and got[H5]["version"] == "1.0.0.2", got
        assert (tmp_path / "alice" / "h5" / H5 / "1.0.0.2" / "www" / "index.html").exists()
        assert bob_phone.sync_h5(bob, public)[H5]["version"] == "1.0.0.1"
        assert requests.get(ids["1.0.0.2"]["amrUrl"], timeout=10).status_code == 200

        assert "is ended" in mds(local_stack, session, "h5", "end", gray_id)
        back = alice_phone.sync_h5(alice, public)
        assert back[H5]["installed"] and back[H5]["version"] == "1.0.0.1"
        assert alice_phone.installed_h5() == {H5: "1.0.0.1"}
        assert requests.get(ids["1.0.0.2"]["amrUrl"], timeout=10).status_code == 404
        assert requests.get(ids["1.0.0.1"]["amrUrl"], timeout=10).status_code == 200

        # story 5: client ranges 10.1.32 (iOS) / 10.2.0 (Android) and up
        old = Device("ios", user_id="dave", client_version="10.1.4")
        assert phone(local_stack, creds, token, tmp_path / "dave").sync_h5(old, public) == {}
        android = Device("android", user_id="erin", client_version="10.2.0")
        assert phone(local_stack, creds, token, tmp_path / "erin").sync_h5(android, public)[H5]["installed"]

    official_id = json.loads(mds(local_stack, session, "h5", "tasks", ids["1.0.0.1"]["id"], "--json"))[
        "tasks"
    ][0]["taskId"]
    assert "is paused" in mds(local_stack, session, "h5", "pause", official_id)
    assert "is running" in mds(local_stack, session, "h5", "resume", official_id)
    versions = json.loads(mds(local_stack, session, "h5", "resources", H5, "--json"))["items"]
    assert [(v["version"], v["status"]) for v in versions] == [
        ("1.0.0.3", "failed"), ("1.0.0.2", "ready"), ("1.0.0.1", "ready")]  # fmt: skip

    import zipfile

    batch = tmp_path / "batch.zip"
    with zipfile.ZipFile(batch, "w") as archive:
        archive.write(h5_zips.normal(tmp_path / "b1.zip", "55555555"), "55555555.zip")
        archive.write(h5_zips.normal(tmp_path / "b2.zip", version="3"), f"{H5}.zip")
    imported = mds(local_stack, session, "h5", "import", "--file", str(batch), "--json")
    result = json.loads(imported[imported.index("{") :])["result"]
    assert {i["h5Id"]: (i["status"], i["version"]) for i in result["items"]} == {
        "55555555": ("imported", "0.0.0.1"), H5: ("imported", "1.0.0.3")}  # fmt: skip
    assert "55555555" in mds(local_stack, session, "h5", "apps", "--keyword", "5555")
    mds(local_stack, session, "h5", "delete-app", "55555555")
    assert json.loads(mds(local_stack, session, "h5", "apps", "--json"))["total"] == 1

    exported = tmp_path / "export"
    mds(local_stack, session, "h5", "export", ids["1.0.0.2"]["id"], "--out", str(exported))
    assert (exported / f"{H5}-1.0.0.2.amr").stat().st_size == ids["1.0.0.2"]["fileSize"]
