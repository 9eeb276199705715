"""Hotpatch domain rules: specs, releases, priority, rollback directive, guardrail, device reports."""

from __future__ import annotations

import base64
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.errors import Conflict, ValidationError
from chalicelib.domain.hotpatch import (
    Guardrail,
    Outcome,
    Patch,
    PatchFile,
    PatchState,
    ReleaseInput,
    Signer,
    decode_signature,
    in_priority_order,
    new_release,
    no_patch_payload,
    parse_patch_spec,
    parse_report,
    patch_payload,
    rollback_directive,
)
from chalicelib.domain.targeting import Device, Platform
from chalicelib.domain.upgrade import TaskState
from chalicelib.domain.versions import Version

AT = "2026-01-01T00:00:00.000000+00:00"
SIG = base64.b64encode(bytes(256)).decode()


def patch(pid: str = "7", version: str = "5.0", **changes) -> Patch:
    made = Patch(
        id=pid,
        platform=Platform.ANDROID,
        app_version=Version.parse(version),
        description="",
        signer=Signer.MDS,
        state=PatchState.READY,
        created_at=AT,
        created_by="user:a",
        updated_at=AT,
        file=PatchFile(f"hp/A/w/{pid}/x/fix.js", "fix.js", 3, "ab" * 32, "blob", SIG, "k1"),
    )
    return replace(made, **changes)


def release(p: Patch, rid: str, kind: str = "official", at: str = AT, **extra):
    data = ReleaseInput(kind, whitelist_ids=["1"] if kind == "gray" else None, **extra)
    return new_release(p, data, release_id=rid, live_releases=0, at=at, by="user:a")


def test_a_patch_spec_defaults_to_mds_signing_and_a_developer_patch_needs_a_signature():
    spec = parse_patch_spec(platform="android", app_version="5.0.1")
    assert (spec.signer, spec.signature, spec.app_version) == (Signer.MDS, None, Version.parse("5.0.1"))
    dev = parse_patch_spec(platform="ios", app_version="5.0", signer="Developer", signature=SIG)
    assert dev.signer is Signer.DEVELOPER and dev.signature == SIG
    with pytest.raises(ValidationError) as e:
        parse_patch_spec(platform="ios", app_version="5.0", signer="developer")
    assert e.value.field == "signature"
    with pytest.raises(ValidationError) as e:
        parse_patch_spec(platform="ios", app_version="", signer="mds")
    assert e.value.field == "appVersion"


@pytest.mark.parametrize("text", ["", "   ", "***", "QUJD", base64.b64encode(bytes(4096)).decode()])
def test_bad_signatures_are_refused(text):
    with pytest.raises(ValidationError) as e:
        decode_signature(text)
    assert e.value.field == "signature"


def test_url_safe_and_unpadded_signatures_are_accepted():
    raw = bytes(range(256))
    assert decode_signature(base64.urlsafe_b64encode(raw).decode().rstrip("=")) == raw


def test_a_release_targets_exactly_the_patch_app_version():
    r = release(patch(version="5.0"), "10")
    assert r.target.client_versions[0].contains(Version.parse("5.0.0"))
    assert not r.target.client_versions[0].contains(Version.parse("5.0.1"))
    assert not r.target.client_versions[0].contains(Version.parse("4.9"))
    compiled = r.target.compile()
    assert compiled.matches(Device(Platform.ANDROID, user_id="u", client_version="5.0"))
    assert not compiled.matches(Device(Platform.IOS, user_id="u", client_version="5.0"))


def test_releases_refuse_patches_that_are_not_ready_or_rolled_back_and_the_live_limit():
    with pytest.raises(Conflict):
        release(patch(state=PatchState.AWAITING_UPLOAD, file=None), "1")
    with pytest.raises(Conflict, match="rolled back"):
        release(patch(state=PatchState.ROLLED_BACK), "1")
    with pytest.raises(Conflict, match="live releases"):
        new_release(patch(), ReleaseInput("official"), release_id="1", live_releases=10, at=AT, by="u")


def test_priority_newer_patch_then_official_then_newer_release():
    p1, p2 = patch("1"), patch("2")
    a = release(p1, "10", "official")
    b = release(p2, "11", "gray")
    c = release(p2, "12", "official", at="2026-01-01T00:00:01.000000+00:00")
    d = release(p2, "13", "gray", at="2026-01-01T00:00:02.000000+00:00")
    ordered = [r.id for r, _ in in_priority_order([(a, p1), (b, p2), (c, p2), (d, p2)])]
    assert ordered == ["12", "13", "11", "10"]


def test_release_state_moves():
    r = release(patch(), "1")
    paused = r.pause(at=AT, reason="guardrail: x")
    assert paused.state is TaskState.PAUSED and paused.paused_reason == "guardrail: x"
    with pytest.raises(Conflict):
        paused.pause(at=AT)
    resumed = paused.resume(at=AT)
    assert resumed.state is TaskState.RUNNING and resumed.paused_reason is None
    ended = resumed.end(at=AT)
    for move in (ended.end, ended.resume, ended.pause):
        with pytest.raises(Conflict, match="ended"):
            move(at=AT)


def test_rollback_needs_something_to_roll_back():
    with pytest.raises(Conflict, match="nothing to roll back"):
        patch().roll_back(seq=1, at=AT, by="u", ever_released=False)
    done = patch().roll_back(seq=3, at=AT, by="u", ever_released=True)
    assert done.state is PatchState.ROLLED_BACK and done.rollback_seq == 3 and not done.usable
    with pytest.raises(Conflict, match="already rolled back"):
        done.roll_back(seq=4, at=AT, by="u", ever_released=True)


def test_the_rollback_directive_lists_the_revoked_patches_of_one_app_version():
    patches = [
        patch("1", rollback_seq=2, state=PatchState.ROLLED_BACK),
        patch("2"),
        patch("3", rollback_seq=5, state=PatchState.ROLLED_BACK),
        patch("4", version="6.0", rollback_seq=9, state=PatchState.ROLLED_BACK),
    ]
    assert rollback_directive(patches, Version.parse("5.0.0")) == (["1", "3"], 5)
    assert rollback_directive(patches, Version.parse("7.0")) == ([], 0)
    payload = patch_payload(release(patches[1], "8"), patches[1], url="u", revoked=["1", "3"], rollback_seq=5)
    assert (payload["patchId"], payload["order"], payload["revoked"], payload["rollbackSeq"]) == (
        "2",
        2,
        ["1", "3"],
        5,
    )
    assert no_patch_payload(revoked=["1"], rollback_seq=5) == {
        "patchId": None,
        "revoked": ["1"],
        "rollbackSeq": 5,
    }


@pytest.mark.parametrize(
    ("applied", "failed", "tripped"),
    [(18, 1, False), (19, 1, True), (0, 19, False), (100, 4, False), (95, 5, True), (0, 20, True)],
)
def test_guardrail_5_percent_after_20_reports(applied, failed, tripped):
    assert (Guardrail(5, 20).verdict(applied, failed) is not None) is tripped


@given(st.integers(0, 500), st.integers(0, 500), st.integers(1, 100), st.integers(1, 200))
def test_guardrail_is_monotonic_in_failures(applied, failed, percent, minimum):
    g = Guardrail(percent, minimum)
    if g.verdict(applied, failed):
        assert g.verdict(applied, failed + 1)


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ("5%", "guardrail"),
        ({"failurePercent": 101}, "guardrail.failurePercent"),
        ({"failurePercent": True}, "guardrail.failurePercent"),
        ({"failurePercent": 5, "minReports": 0}, "guardrail.minReports"),
        ({"failurePercent": 5, "window": 3}, "guardrail.window"),
    ],
)
def test_bad_guardrails(value, field):
    with pytest.raises(ValidationError) as e:
        Guardrail.parse(value)
    assert e.value.field == field


def test_reports():
    ok = parse_report({"patchId": "7", "outcome": "applied", "releaseId": "9"})
    assert (ok.patch_id, ok.release_id, ok.outcome, ok.reason) == ("7", "9", Outcome.APPLIED, "")
    bad = parse_report({"patchId": "7", "outcome": "failed", "reason": "NPE"})
    assert bad.outcome is Outcome.FAILED and bad.reason == "NPE"
    for data, field in (
        ({"outcome": "applied"}, "patchId"),
        ({"patchId": "7"}, "outcome"),
        ({"patchId": "7", "outcome": "failed"}, "reason"),
        ({"patchId": "7", "outcome": "failed", "reason": "x" * 501}, "reason"),
        ({"patchId": "7", "outcome": "applied", "releaseId": "r1"}, "releaseId"),
    ):
        with pytest.raises(ValidationError) as e:
            parse_report(data)
        assert e.value.field == field
