"""The reference hotpatch client alone, against a small in-memory CDN (httpx transport): whatever order
fresh and stale answers arrive in, a patch the device has seen revoked is never applied again, and only
files whose signature verifies with the pinned key are installed."""

from __future__ import annotations

import base64
import hashlib
import tempfile
from pathlib import Path

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.targeting import Device, Platform
from chalicelib.security import rsa_keys
from mds.device.hotpatch import HotpatchClient

KEY = rsa_keys.generate_private_key()
OTHER = rsa_keys.generate_private_key()
KEY_ID = rsa_keys.key_id(KEY)
FILES = {str(n): f"fix {n}".encode() for n in range(1, 6)}
DEVICE = Device(Platform.ANDROID, device_id="d1", client_version="5.0")


def _cdn(request: httpx.Request) -> httpx.Response:
    name = request.url.path.rsplit("/", 2)[-2]
    return httpx.Response(200, content=FILES[name]) if name in FILES else httpx.Response(404)


def _reports(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"counted": True, "paused": False})


def _answer(patch_id: str | None, revoked: list[str], seq: int, *, key=KEY) -> dict:
    if patch_id is None:
        return {"patchId": None, "revoked": revoked, "rollbackSeq": seq}
    content = FILES[patch_id]
    return {
        "patchId": patch_id, "releaseId": "9", "order": int(patch_id), "path": f"hp/A/w/{patch_id}/x.js",
        "filename": "x.js", "size": len(content), "sha256": hashlib.sha256(content).hexdigest(),
        "signature": base64.b64encode(rsa_keys.sign(key, content)).decode(), "keyId": KEY_ID,
        "revoked": revoked, "rollbackSeq": seq,
    }  # fmt: skip


def _phone(state: Path) -> HotpatchClient:
    return HotpatchClient(
        None,  # type: ignore[arg-type] - only apply_answer is used here
        cdn_url="http://cdn", api_url="http://api", app_id="A", workspace_id="w",
        patch_keys={KEY_ID: rsa_keys.public_key_pem(KEY)}, state_dir=state,
        transport=httpx.MockTransport(_cdn), api_transport=httpx.MockTransport(_reports),
    )  # fmt: skip


# A server timeline: each step releases the next patch or rolls back the newest live one; the device gets
# either the answer of the current step or one of an earlier step (a stale manifest).
steps = st.lists(
    st.tuples(st.sampled_from(["release", "rollback"]), st.integers(0, 10)), min_size=1, max_size=12
)


@settings(max_examples=60, deadline=None)
@given(steps)
def test_a_revoked_patch_is_never_applied_again(timeline):
    with tempfile.TemporaryDirectory() as tmp:
        phone = _phone(Path(tmp))
        live: list[str] = []
        revoked: list[str] = []
        seq = 0
        next_id = 1
        answers = []
        seen_revoked: set[str] = set()
        for action, stale_pick in timeline:
            if action == "release" and next_id <= len(FILES):
                live.append(str(next_id))
                next_id += 1
            elif action == "rollback" and live:
                revoked.append(live.pop())
                seq += 1
            answers.append(_answer(live[-1] if live else None, list(revoked), seq))
            answer = answers[-1] if stale_pick % 3 else answers[stale_pick % len(answers)]
            result = phone.apply_answer(answer, DEVICE)
            seen_revoked |= set(answer["revoked"])
            assert result.applied not in seen_revoked
            if answer is answers[-1] and answer["patchId"] is not None:
                assert result.applied == answer["patchId"]  # a fresh answer is followed
            if result.applied is not None:
                assert phone.patch_file(DEVICE).read_bytes() == FILES[result.applied]


def test_a_patch_signed_by_another_key_or_unknown_key_is_not_installed(tmp_path):
    phone = _phone(tmp_path)
    forged = _answer("1", [], 0, key=OTHER)
    result = phone.apply_answer(forged, DEVICE)
    assert result.applied is None and result.actions == [
        "refused 1: the signature does not verify with the pinned key"
    ]
    unknown = {**_answer("2", [], 0), "keyId": "0123456789abcdef"}
    assert (
        phone.apply_answer(unknown, DEVICE).actions[0].startswith("refused 2: signed by key 0123456789abcdef")
    )
    assert phone.apply_answer(_answer("3", [], 0), DEVICE).applied == "3"
    # an older patch never replaces a newer one unless the newer one is revoked
    assert phone.apply_answer(_answer("2", [], 0), DEVICE).applied == "3"
    assert phone.apply_answer(_answer("2", ["3"], 1), DEVICE).actions == ["removed 3", "applied 2"]
