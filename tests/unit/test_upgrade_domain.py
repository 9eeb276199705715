"""The upgrade domain without I/O: priority, derived status, the task state machine, validation, the
client answer; and the file inspectors (binary XML, APK, IPA, dSYM) on built and damaged inputs."""

from __future__ import annotations

import ast
import io
import struct
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.errors import Conflict, ValidationError
from chalicelib.domain.targeting import Device, Platform
from chalicelib.domain.upgrade import (
    MAX_LIVE_TASKS,
    Distribution,
    PackageStatus,
    TaskInput,
    TaskState,
    UpgradeMode,
    UpgradePackage,
    answer_payload,
    in_priority_order,
    new_task,
    package_status,
    parse_net_types,
    parse_package_spec,
    parse_time,
    priority_key,
    short_version,
)
from chalicelib.domain.versions import Version
from chalicelib.packaging.app_files import inspect_apk, inspect_ipa, inspect_symbols
from chalicelib.packaging.axml import BinaryXmlError, read_manifest
from tests import app_files

NOW = 1_800_000_000


def package(
    version: str = "5.0", distribution: Distribution = Distribution.APP_STORE, pid: str = "1"
) -> UpgradePackage:
    return UpgradePackage(
        id=pid,
        platform=distribution.platform,
        distribution=distribution,
        version=Version.parse(version),
        description="",
        download_key="k",
        created_at="2026-01-01T00:00:00.000000+00:00",
        created_by="user:t",
        updated_at="2026-01-01T00:00:00.000000+00:00",
        store_url="https://apps.apple.com/app/id1" if distribution.has_store_url else None,
    )


_clock = iter(range(1, 10_000))


def task(pkg: UpgradePackage, release: str = "official", mode: str = "single", **kwargs):
    n = next(_clock)
    data = TaskInput(release_type=release, mode=mode, **kwargs)
    return new_task(
        pkg, data, task_id=str(n), live_tasks=0, now=NOW, at=f"2026-01-01T00:00:{n:02d}.000000+00:00", by="t"
    )


def whitelist_task(pkg, mode="single", **kwargs):
    return task(pkg, "gray", mode, gray_model="whitelist", whitelist_ids=["7"], **kwargs)


def window_task(pkg, mode="single", **kwargs):
    return task(pkg, "gray", mode, gray_model="timeWindow", end_time=NOW + 3600, users_count=50, **kwargs)


# --- priority ------------------------------------------------------------------------------------------


def test_the_guides_example_b_wins_until_paused_or_ended_then_a():
    p = package("5.0")
    a = whitelist_task(p, "single", client_versions=["4.0-4.0"])
    b = whitelist_task(p, "forced", client_versions=["4.0-4.0"])
    assert [t.id for t, _p in in_priority_order([(a, p), (b, p)])] == [b.id, a.id]

    def winner(tasks):
        live = [(t, p) for t in tasks if t.is_running(NOW)]
        return in_priority_order(live)[0][0].id

    assert winner([a, b]) == b.id
    assert winner([a, b.pause(now=NOW, at="x")]) == a.id
    assert winner([a, b.end(now=NOW, at="x")]) == a.id


def test_version_then_type_then_recency():
    p50, p51 = package("5.0", pid="1"), package("5.1", pid="2")
    window = window_task(p50)
    listed = whitelist_task(p50)
    official_old = task(p50, "official")
    official_new = task(p50, "official")
    gray_51 = window_task(p51)
    order = in_priority_order(
        [(window, p50), (official_old, p50), (gray_51, p51), (listed, p50), (official_new, p50)]
    )
    assert [t.id for t, _p in order] == [gray_51.id, official_new.id, official_old.id, listed.id, window.id]
    # numeric versions, not text: 5.10 > 5.9
    p59, p510 = package("5.9", pid="3"), package("5.10", pid="4")
    assert priority_key(task(p59), p59) < priority_key(task(p510), p510)
    # same creation time: the higher (later) ID wins
    t1, t2 = task(p50), task(p50)
    same_time = [(replace(t1, created_at="same"), p50), (replace(t2, created_at="same"), p50)]
    assert in_priority_order(same_time)[0][0].id == t2.id


# --- status ----------------------------------------------------------------------------------------------


def test_package_status_is_derived_from_its_tasks():
    p = package()
    gray, official = whitelist_task(p), task(p)
    assert package_status([], now=NOW) is PackageStatus.TO_BE_RELEASED
    assert package_status([gray, official], now=NOW) is PackageStatus.OFFICIAL
    assert package_status([gray, official.pause(now=NOW, at="x")], now=NOW) is PackageStatus.GRAY
    assert package_status([gray, official.end(now=NOW, at="x")], now=NOW) is PackageStatus.GRAY
    assert package_status([gray.pause(now=NOW, at="x")], now=NOW) is PackageStatus.PAUSED
    assert (
        package_status([gray.end(now=NOW, at="x"), official.end(now=NOW, at="x")], now=NOW)
        is PackageStatus.FINISHED
    )
    assert package_status([window_task(p)], now=NOW + 3600) is PackageStatus.FINISHED  # past its end time


def test_state_machine_rejects_illegal_moves():
    t = task(package())
    with pytest.raises(Conflict, match="only a paused task can be continued"):
        t.resume(now=NOW, at="x")
    paused = t.pause(now=NOW, at="x")
    assert paused.state is TaskState.PAUSED and paused.updated_at == "x"
    with pytest.raises(Conflict):
        paused.pause(now=NOW, at="x")
    ended = paused.resume(now=NOW, at="x").end(now=NOW, at="x")
    for move in (ended.pause, ended.resume, ended.end):
        with pytest.raises(Conflict, match="ended"):
            move(now=NOW, at="x")
    expired = window_task(package())
    assert expired.status(NOW + 3599) is TaskState.RUNNING and expired.status(NOW + 3600) is TaskState.ENDED
    with pytest.raises(Conflict, match="end time has passed"):
        expired.pause(now=NOW + 3600, at="x")


# --- validation -------------------------------------------------------------------------------------------


def test_defaults_every_client_version_below_the_package():
    t = task(package("5.0"))
    assert t.target.platform is Platform.IOS and len(t.target.client_versions) == 1
    compiled = t.target.compile()
    assert compiled.matches(Device("ios", client_version="4.9.9"))
    assert not compiled.matches(Device("ios", client_version="5.0"))
    assert not compiled.matches(Device("android", client_version="4.0"))
    assert t.silent_days == 3 and task(package(), mode="multiple").silent_days is None


@pytest.mark.parametrize(
    ("distribution", "kwargs", "field"),
    [
        (Distribution.TESTFLIGHT, {"release": "official"}, "type"),
        (Distribution.TESTFLIGHT, {"release": "gray", "mode": "forced", "gray_model": "whitelist", "whitelist_ids": ["1"]}, "mode"),
        (Distribution.ENTERPRISE, {"release": "official"}, "type"),
        (Distribution.ENTERPRISE, {"release": "gray", "gray_model": "timeWindow", "end_time": NOW + 60, "users_count": 1}, "grayModel"),
    ],
)  # fmt: skip
def test_platform_constraints(distribution, kwargs, field):
    p = replace(
        package(distribution=distribution), file=app_files_stored() if distribution.has_file else None
    )
    release = kwargs.pop("release")
    mode = kwargs.pop("mode", "single")
    with pytest.raises(ValidationError) as caught:
        task(p, release, mode, **kwargs)
    assert caught.value.field == field


def app_files_stored():
    from chalicelib.domain.upgrade import StoredFile

    return StoredFile("k", None, "a", 1, "0" * 64)


def test_live_task_limit_and_unusable_packages():
    p = package()
    with pytest.raises(Conflict, match="10 live tasks"):
        new_task(
            p,
            TaskInput("official", "single"),
            task_id="1",
            live_tasks=MAX_LIVE_TASKS,
            now=NOW,
            at="x",
            by="t",
        )
    apk = package(distribution=Distribution.APK)
    with pytest.raises(Conflict, match="no valid file; upload one first"):
        task(apk)
    with pytest.raises(Conflict, match="not a zip"):
        task(replace(apk, file_error="file: is not an APK: it is not a zip archive"))


def test_small_parsers():
    assert (
        UpgradeMode.parse("Forced") is UpgradeMode.FORCED and UpgradeMode.parse("204") is UpgradeMode.MULTIPLE
    )
    for bad in ("203", 205, True, "loud", None):
        with pytest.raises(ValidationError):
            UpgradeMode.parse(bad)
    epoch = int(datetime(2027, 1, 15, 2, tzinfo=UTC).timestamp())
    assert (
        parse_time("endTime", "2027-01-15T10:00:00+08:00")
        == epoch
        == parse_time("endTime", "2027-01-15T02:00:00Z")
    )
    assert parse_time("endTime", "2027-01-15T02:00:00") == epoch  # no zone: UTC
    assert parse_time("endTime", 5) == 5
    with pytest.raises(ValidationError):
        parse_time("endTime", "soon")
    assert parse_net_types(" wifi,4G, WLAN ,lte") == "WIFI,4G"
    assert parse_net_types("") is None
    assert (
        short_version(Version.parse("9.9.0.0000001")) == "9.9.0"
        and short_version(Version.parse("5.0")) == "5.0"
    )
    spec = parse_package_spec(platform="Android", version="5.0.1.2", verification_code="AB12")
    assert spec.distribution is Distribution.APK and spec.verification_code == "AB12"
    with pytest.raises(ValidationError, match="distribution"):
        parse_package_spec(platform="android", distribution="appStore", version="1")


def test_answer_payload_has_the_mpaas_fields():
    p = package("9.9.0.0000001")
    t = whitelist_task(p, "single", guide_memo="New!", need_net_type="4g,wifi")
    assert answer_payload(t, p, "https://x/y") == {
        "resultStatus": 202,
        "downloadURL": "https://x/y",
        "guideMemo": "New!",
        "newestVersion": "9.9.0.0000001",
        "upgradeShortVersion": "9.9.0",
        "upgradeFullVersion": "9.9.0.0000001",
        "needClientNetType": "4G,WIFI",
        "taskId": t.id,
        "silentPeriodDays": 3,
    }
    assert "silentPeriodDays" not in answer_payload(task(p, mode="forced"), p, "u")


def test_answer_payload_names_the_file_digest_an_sdk_checks_the_download_against():
    from chalicelib.domain.upgrade import StoredFile

    p = replace(package("9.9"), file=StoredFile("k", None, "app.apk", 1234, "ab" * 32))
    answer = answer_payload(task(p, mode="forced"), p, "u")
    assert (answer["fileSha256"], answer["fileSize"]) == ("ab" * 32, 1234)


# --- file inspection -----------------------------------------------------------------------------------------


def test_binary_manifest_by_name_and_by_resource_id():
    assert read_manifest(app_files.binary_manifest("com.a", "1.2.3", 7)).version_name == "1.2.3"
    obfuscated = read_manifest(app_files.binary_manifest("com.a", "4.5", 9, obfuscated=True))
    assert (obfuscated.package, obfuscated.version_name, obfuscated.version_code) == ("com.a", "4.5", 9)
    assert read_manifest(app_files.binary_manifest(version_name=None)).version_name is None


def test_a_version_name_that_references_a_resource_is_reported_not_guessed():
    data = bytearray(app_files.binary_manifest(version_name="x"))
    # the versionName attribute is the last 20 bytes before the end-element and end-namespace chunks
    at = len(data) - 48 - 20
    struct.pack_into("<IIIHBBI", data, at, *struct.unpack_from("<III", data, at), 8, 0, 0x01, 0x7F040001)
    info = read_manifest(bytes(data))
    assert info.version_name is None and info.version_name_is_reference


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_damaged_manifests_raise_only_binary_xml_errors(data):
    original = app_files.binary_manifest()
    cut = data.draw(st.integers(0, len(original)))
    flips = data.draw(st.lists(st.tuples(st.integers(0, len(original) - 1), st.integers(0, 255)), max_size=4))
    damaged = bytearray(original[:cut])
    for at, value in flips:
        if at < len(damaged):
            damaged[at] = value
    try:
        read_manifest(bytes(damaged))
    except BinaryXmlError:
        pass


def test_inspectors_refuse_what_is_not_what_it_claims():
    with pytest.raises(ValidationError, match="not a zip archive"):
        inspect_apk(io.BytesIO(b"PK\x03\x04 truncated"))
    with pytest.raises(ValidationError, match="no AndroidManifest.xml"):
        inspect_apk(io.BytesIO(app_files.zip_of({"classes.dex": b""})))
    assert inspect_ipa(io.BytesIO(app_files.ipa("2.0", bundle_id="com.b"))).bundle_id == "com.b"
    with pytest.raises(ValidationError, match=r"no Payload/<name>.app"):
        inspect_ipa(io.BytesIO(app_files.zip_of({"Payload/readme.txt": b""})))
    with pytest.raises(ValidationError, match="Info.plist is not a property list"):
        inspect_ipa(io.BytesIO(app_files.zip_of({"Payload/A.app/Info.plist": b"<plist><dict><key>"})))
    with pytest.raises(ValidationError, match="not gzip-compressed"):
        inspect_symbols(io.BytesIO(app_files.zip_of({"A.dSYM/x": b""})))
    with pytest.raises(ValidationError, match="no .dSYM bundle"):
        inspect_symbols(io.BytesIO(app_files.tgz({"A.dSYM/Contents/Info.plist": b""})))
    assert inspect_symbols(io.BytesIO(app_files.dsym("X"))).bundles == ("X.app.dSYM",)


def test_packaging_is_pure():
    root = Path(__file__).resolve().parents[2] / "chalicelib" / "packaging"
    for path in root.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names.append(node.module)
            for name in names:
                assert name.split(".")[0] not in ("boto3", "botocore", "pynamodb", "chalice"), (
                    path.name,
                    name,
                )
                if name.startswith("chalicelib"):
                    assert name.startswith(
                        ("chalicelib.domain", "chalicelib.packaging", "chalicelib.security")
                    ), (path.name, name)
