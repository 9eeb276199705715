"""Device events, schema 1 (chalicelib/domain/events.py): strict parsing into facts, and reach."""

from __future__ import annotations

import pytest

from chalicelib.domain.errors import ValidationError
from chalicelib.domain.events import Count, Release, Stage, device_hash, parse_batch, reach

NOW = 1_800_000_000


def body(*events, **changes):
    return {"schema": 1, "appId": "A1", "workspaceId": "w", "platform": "iOS", "deviceId": "dev-1",
            "clientVersion": "10.2.0", "events": list(events), **changes}  # fmt: skip


def ev(kind="check.answered", release="upgrade-task-7", n=0, **extra):
    return {"id": f"event-{n:04d}", "type": kind, "at": NOW - 60, "release": release, **extra}


@pytest.mark.parametrize(
    ("text", "product", "ref"),
    [
        ("upgrade-task-12", "upgrade", "upgrade-task-12"),
        ("h5-task-3", "h5", "h5-task-3"),
        ("hotpatch-release-7", "hotpatch", "hotpatch-release-7"),
        ("config:feed_v2", "config", "config:feed_v2"),
    ],
)
def test_releases_are_named_as_the_manifests_name_them(text, product, ref):
    release = Release.parse(text)
    assert (release.product, release.ref) == (product, ref)


@pytest.mark.parametrize(
    "text", ["upgrade-12", "h5-task-", "hotpatch-release-x", "config:", "config:a b", 12]
)
def test_anything_else_is_not_a_release(text):
    with pytest.raises(ValidationError) as refused:
        Release.parse(text)
    assert refused.value.field == "release"


def test_a_batch_becomes_facts_with_the_dimensions_of_the_device():
    batch = parse_batch(
        body(
            ev(),
            ev("download.failed", n=1, reason=" disk full "),
            ev("config.active", "config:k", n=2, value="on"),
        ),
        tenant_key="A1#w",
        now=NOW,
    )
    stages = [(f.release.ref, f.stage, f.detail) for f in batch.facts]
    assert stages == [
        ("upgrade-task-7", Stage.OFFERED, ""),
        ("upgrade-task-7", Stage.DOWNLOAD_FAILED, "disk full"),
        ("config:k", Stage.CONFIG_ACTIVE, "on"),
    ]
    fact = batch.facts[0]
    assert (fact.platform.value, fact.client_version, fact.day) == ("ios", "10.2", "2027-01-15")
    assert fact.device_hash == device_hash("A1#w", "dev-1") != device_hash("A2#w", "dev-1")
    assert "dev-1" not in fact.device_hash and 0 <= fact.shard < 16


def test_a_long_config_value_is_counted_by_its_hash_and_a_long_reason_is_refused():
    long_value = parse_batch(body(ev("config.active", "config:k", value="v" * 500)), tenant_key="t", now=NOW)
    assert long_value.facts[0].detail.startswith("sha256:")
    with pytest.raises(ValidationError) as refused:
        parse_batch(body(ev("install.failed", "h5-task-1", reason="r" * 201)), tenant_key="t", now=NOW)
    assert refused.value.field == "events[0].reason"


@pytest.mark.parametrize(
    ("event", "field"),
    [
        (ev(at=True), "events[0].at"),
        (ev(at=NOW + 3600), "events[0].at"),
        (ev(reason="why"), "events[0].reason"),
        (ev(value="x"), "events[0].value"),
        (ev("config.active", "config:k"), "events[0].value"),
        (ev("config.active", "upgrade-task-1", value="x"), "events[0].type"),
        (ev("install.failed", "h5-task-1", reason="a#b"), "events[0].reason"),
        (ev(extra=1), "events[0].extra"),
        ("not an object", "events[0]"),
    ],
)
def test_each_bad_event_names_its_field(event, field):
    with pytest.raises(ValidationError) as refused:
        parse_batch(body(event), tenant_key="t", now=NOW)
    assert refused.value.field == field


def test_reach_adds_up_counters_per_stage_day_and_client():
    counts = [
        Count(Stage.OFFERED, "2026-12-01", "android", "4", "", 5),
        Count(Stage.OFFERED, "2026-12-02", "android", "4", "", 2),
        Count(Stage.OFFERED, "2026-12-02", "ios", "4.1", "", 3),
        Count(Stage.INSTALL_FAILED, "2026-12-02", "ios", "4.1", "signature", 1),
    ]
    answer = reach(Release("upgrade", "9"), counts)
    assert answer["funnel"]["offered"] == 10 and answer["funnel"]["installFailed"] == 1
    assert answer["failures"] == {"download": {}, "install": {"signature": 1}}
    assert [(d["day"], d["offered"]) for d in answer["byDay"]] == [("2026-12-01", 5), ("2026-12-02", 5)]
    assert [(c["platform"], c["offered"]) for c in answer["byClient"]] == [("android", 7), ("ios", 3)]
