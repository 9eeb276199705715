"""Hotpatches on the running local stack, through the CLI, the S3 upload, the CDN and the reference
client: a patch gray to a whitelist (one phone gets it, another does not), official; a second patch
official, then rolled back — both phones end on the first patch through the CDN (PRODUCT.md story 8);
a developer-signed patch with a wrong signature is refused; a failure flood trips a guardrail."""

from __future__ import annotations

import base64
import json
import re
import secrets
import uuid

import pytest
import requests

from chalicelib.domain.targeting import Device, Platform
from chalicelib.security import rsa_keys
from mds.device.client import DeviceClient
from mds.device.hotpatch import HotpatchClient
from tests import app_files
from tests.e2e.cli import mds, mds_fail
from tests.sdk_capture import no_proxy_env

pytestmark = pytest.mark.e2e


def _token(stack, creds) -> str:
    reply = requests.post(
        f"{stack.api_url}/api/auth/login",
        json={"username": creds["username"], "password": creds["password"]},
        timeout=10,
    )
    reply.raise_for_status()
    return reply.json()["token"]


def _phone(stack, creds, token, tmp_path) -> HotpatchClient:
    ws = f"{stack.api_url}/api/apps/{creds['appId']}/workspaces/{creds['workspaceId']}"
    headers = {"authorization": f"Bearer {token}"}
    manifest_keys = requests.get(f"{ws}/signing-keys", headers=headers, timeout=10).json()["keys"]
    patch_keys = requests.get(f"{ws}/hotpatch/keys", headers=headers, timeout=10).json()
    state = tmp_path / "phones" / uuid.uuid4().hex
    checker = DeviceClient(
        stack.cdn_url, stack.api_url, app_id=creds["appId"], workspace_id=creds["workspaceId"], state_dir=state,
        public_keys={k["keyId"]: base64.b64decode(k["publicKey"]) for k in manifest_keys},
    )  # fmt: skip
    pinned = {patch_keys["mds"]["keyId"]: patch_keys["mds"]["publicKey"]}
    return HotpatchClient(
        checker, cdn_url=stack.cdn_url, api_url=stack.api_url, app_id=creds["appId"],
        workspace_id=creds["workspaceId"], patch_keys=pinned, state_dir=state,
    )  # fmt: skip


def test_whitelist_gray_official_rollback_and_guardrail(local_stack, tmp_path):
    session = tmp_path / "session.json"
    bootstrap = local_stack.data_dir / "bootstrap.json"
    creds = json.loads(bootstrap.read_text())
    mds(local_stack, session, "login", "--bootstrap", str(bootstrap))
    version = f"8.{secrets.randbelow(10_000)}.1"  # an app version of its own in the shared local stack
    apk = tmp_path / "app.apk"
    apk.write_bytes(app_files.apk(version))
    mds(local_stack, session, "upgrade", "package", "add", "--platform", "android", "--version", version,
        "--file", str(apk))  # fmt: skip
    wl_name = f"hotpatch-qa-{uuid.uuid4().hex[:6]}"
    created = mds(local_stack, session, "whitelist", "create", wl_name, "--ids", "alice")
    wid = re.search(r"Created whitelist (\d+)", created).group(1)

    def add(name: str, content: bytes) -> str:
        path = tmp_path / name
        path.write_bytes(content)
        out = mds(local_stack, session, "hotpatch", "add", "--file", str(path), "--platform", "android",
                  "--app-version", version)  # fmt: skip
        assert "is ready" in out, out
        return re.search(r"Added patch (\d+)", out).group(1)

    with no_proxy_env():
        token = _token(local_stack, creds)
        alice_phone, bob_phone = (_phone(local_stack, creds, token, tmp_path) for _ in range(2))
        alice = Device(Platform.ANDROID, user_id="alice", device_id="e2e-alice", client_version=version)
        bob = Device(Platform.ANDROID, user_id="bob", device_id="e2e-bob", client_version=version)

        # P1 gray to the whitelist: alice applies and verifies it, bob does not see it
        p1 = add("fix1.js", b"patch('feed', 'null check');")
        out = mds(local_stack, session, "hotpatch", "release", p1, "--type", "gray", "--whitelist", wid)
        assert re.search(rf"Created release \d+ of patch {p1}: gray, running", out)
        synced = alice_phone.sync(alice)
        assert synced.applied == p1 and synced.static and synced.actions == [f"applied {p1}"]
        assert alice_phone.patch_file(alice).read_bytes() == b"patch('feed', 'null check');"
        assert bob_phone.sync(bob).applied is None

        # official: bob gets it too
        mds(local_stack, session, "hotpatch", "release", p1, "--type", "official")
        assert bob_phone.sync(bob).applied == p1

        # P2 official, both apply it; then rollback → both back on P1 through the CDN
        p2 = add("fix2.js", b"patch('feed', 'faster');")
        mds(local_stack, session, "hotpatch", "release", p2, "--type", "official")
        assert alice_phone.sync(alice).applied == p2
        cached = bob_phone.sync(bob)
        assert cached.applied == p2
        out = mds(local_stack, session, "hotpatch", "rollback", p2)
        assert f"Rolled back patch {p2}" in out and f"now get patch {p1}" in out
        for phone, device in ((alice_phone, alice), (bob_phone, bob)):
            back = phone.sync(device)
            assert back.static and back.applied == p1 and back.actions == [f"removed {p2}", f"applied {p1}"]
            assert back.answer["revoked"] == [p2] and back.answer["rollbackSeq"] >= 1
        assert bob_phone.apply_answer(cached.answer, bob).applied == p1  # the pre-rollback answer is ignored
        refused = mds_fail(local_stack, session, "hotpatch", "rollback", p2)
        assert "already rolled back" in refused

        # a developer patch signed with the wrong key is refused and nothing stays
        developer = rsa_keys.generate_private_key()
        key_file = tmp_path / "developer.pub.pem"
        key_file.write_text(rsa_keys.public_key_pem(developer))
        mds(local_stack, session, "hotpatch", "keys", "--register-developer-key", str(key_file))
        wrong = tmp_path / "wrong.pem"
        wrong.write_bytes(rsa_keys.private_key_pem(rsa_keys.generate_private_key()))
        bad = tmp_path / "fix-bad.js"
        bad.write_bytes(b"evil()")
        refused = mds_fail(local_stack, session, "hotpatch", "add", "--file", str(bad), "--platform", "android",
                           "--app-version", version, "--sign-with", str(wrong))  # fmt: skip
        assert "signature: does not verify" in refused
        listed = json.loads(mds(local_stack, session, "hotpatch", "list", "--app-version", version, "--json"))
        assert [p["patchId"] for p in listed["patches"]] == [p2, p1]

        # a failure flood trips the guardrail of P3's release: paused by system:guardrail
        p3 = add("fix3.js", b"patch('feed', 'risky');")
        out = mds(local_stack, session, "hotpatch", "release", p3, "--type", "official",
                  "--pause-at-failure-percent", "5", "--min-reports", "20")  # fmt: skip
        release = re.search(r"Created release (\d+)", out).group(1)
        answer = alice_phone.sync(alice, report=False).answer
        assert answer["patchId"] == p3
        paused = [
            alice_phone.report(
                Device(Platform.ANDROID, device_id=f"flood-{n}", client_version=version),
                answer,
                "java.lang.NoSuchMethodError",
            ).json()["paused"]  # fmt: skip
            for n in range(20)
        ]
        assert paused == [False] * 19 + [True]
        stats = mds(local_stack, session, "hotpatch", "stats", p3)
        assert f"release {release} (official, paused): 0 applied, 20 failed — guardrail: 20 of 20" in stats
        headers = {"authorization": f"Bearer {token}"}
        ws = f"{local_stack.api_url}/api/apps/{creds['appId']}/workspaces/{creds['workspaceId']}"
        log = requests.get(
            f"{ws}/audit",
            params={"entityType": "hotpatch_release", "entityId": release},
            headers=headers,
            timeout=10,
        ).json()["entries"]
        assert (log[0]["actor"], log[0]["action"]) == ("system:guardrail", "hotpatch.release.pause")
        newcomer = _phone(local_stack, creds, token, tmp_path)
        fresh = Device(Platform.ANDROID, user_id="dave", device_id="e2e-dave", client_version=version)
        assert newcomer.sync(fresh).applied == p1  # P3 paused, P2 revoked: the previous good patch
