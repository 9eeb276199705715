"""Writes the client conformance kit (``clients/conformance/vectors/*.json``) from the Python domain.

Run ``python -m clients.conformance.generate [OUT_DIR]``. Every expected value is computed by the
domain code the server runs (versions, targeting, delivery, manifests, product answers, ``.amr``
verification) or, for the client state machine, stated here and checked against the Python reference
client by ``tests/unit/test_conformance_python.py``. Keys and seeds are fixed, so the output is
byte-identical from run to run (``tests/unit/test_conformance_kit.py`` regenerates and compares): a change
of semantics shows up as a diff of these files in review. The format is described in
``clients/conformance/README.md``.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from pathlib import Path
from typing import Any

from chalicelib.domain.answers import answer_for
from chalicelib.domain.delivery import Candidate, NeedsServer, decide_each, device_claim
from chalicelib.domain.errors import ValidationError
from chalicelib.domain.grants import REFUSALS, Grant, identity_hash
from chalicelib.domain.manifests import (
    POLL_DEFAULT_SECONDS,
    SCHEMA,
    Envelope,
    b64url,
    canonical_json,
    cut_to_json,
    find_segment,
    index_document,
    product_section_document,
    sha256_hex,
    unb64url,
)
from chalicelib.domain.rollout import bucket
from chalicelib.domain.targeting import (
    CompiledTarget,
    Device,
    normalize_network,
    parse_target,
    reported_network,
)
from chalicelib.domain.versions import Cut, Version, VersionRange, segment_index
from chalicelib.domain.whitelists import member_hash, published_shards, shard_of

KIT_SCHEMA = "mds-conformance/1"
HERE = Path(__file__).resolve().parent
VECTORS = HERE / "vectors"
NOW = 1_800_000_000  # every vector's clock, epoch seconds
APP, WORKSPACE = "KIT_APP", "default"

# --- fixed keys ------------------------------------------------------------------------------------


def _ed25519(name: str) -> tuple[str, bytes, bytes]:
    """(key ID, private raw, public raw) from a fixed seed: the kit's manifest keys."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    from chalicelib.security.signing import key_id_of

    private = hashlib.sha256(f"mds-conformance/{name}".encode()).digest()
    public = (
        Ed25519PrivateKey.from_private_bytes(private)
        .public_key()
        .public_bytes(Encoding.Raw, PublicFormat.Raw)
    )
    return key_id_of(public), private, public


CURRENT = _ed25519("current")
RETIRED = _ed25519("retired")
STRANGER = _ed25519("stranger")  # a key no app pins


def pinned(*keys: tuple[str, bytes, bytes]) -> dict[str, str]:
    return {key_id: base64.b64encode(public).decode() for key_id, _, public in keys}


def sealed(document: Any, key: tuple[str, bytes, bytes] = CURRENT) -> str:
    """The envelope file text for ``document`` (what the CDN serves)."""
    from chalicelib.security.signing import sign

    key_id, private, _ = key
    return sign(private, key_id, canonical_json(document)).to_bytes().decode()


def rsa_key(name: str) -> Any:
    from chalicelib.security import rsa_keys

    return rsa_keys.load_private_key((HERE / "keys" / f"rsa-{name}-test.pem").read_bytes())


def rsa_public_pem(name: str) -> str:
    from chalicelib.security import rsa_keys

    return rsa_keys.public_key_pem(rsa_key(name))


# --- shared fixtures -------------------------------------------------------------------------------

WHITELIST_ID, WHITELIST_SALT = "7", "9f3a0c"
WHITELIST_MEMBERS = ["alice", "bob", "12345", "user-042"]
REGEX_ID = "8"
REGEX_PATTERNS = ["staff_\\d+", "qa-[a-z]{2,4}"]
WHITELIST_VERSION = "c0ffee0000000001"
WHITELIST_PATH = f"w/{APP}/{WORKSPACE}/{WHITELIST_ID}/{WHITELIST_VERSION}/"


def index_whitelists() -> dict[str, Any]:
    return {
        WHITELIST_ID: {
            "type": "normal",
            "salt": WHITELIST_SALT,
            "version": WHITELIST_VERSION,
            "path": WHITELIST_PATH,
        },
        REGEX_ID: {"type": "regex", "patterns": REGEX_PATTERNS},
    }


def shard_files(identities: Iterable[str | None]) -> dict[str, str]:
    """The signed shards of the normal list that these identities fall in (what a device fetches)."""
    shards = published_shards(WHITELIST_SALT, WHITELIST_MEMBERS)
    files = {}
    for identity in sorted({i for i in identities if i}):
        shard = shard_of(member_hash(WHITELIST_SALT, identity))
        document = {
            "schema": SCHEMA,
            "whitelistId": WHITELIST_ID,
            "version": WHITELIST_VERSION,
            "shard": shard,
            "hashes": shards[shard],
        }
        files[f"{WHITELIST_PATH}{shard}.json"] = sealed(document)
    return files


class KitMembership:
    """Membership the way a device has it: through the published shards and regex patterns."""

    def __init__(self, files: Mapping[str, str]) -> None:
        from chalicelib.manifests.reader import PublishedMembership

        keys = {key_id: public for key_id, _, public in (CURRENT,)}
        self._published = PublishedMembership(
            index_whitelists(), lambda path: files[path].encode() if path in files else None, keys
        )

    def contains(self, whitelist_id: str, user_id: str) -> bool:
        return self._published.contains(whitelist_id, user_id)


def device_of(context: Mapping[str, Any]) -> Device:
    return Device.from_context(context)


def field_of(action: Callable[[], Any]) -> str | None:
    """The field a ValidationError names, or None if ``action`` succeeds."""
    try:
        action()
    except ValidationError as exc:
        return exc.field
    return None


# --- versions --------------------------------------------------------------------------------------


def versions_group() -> dict[str, Any]:
    given = [
        "10.1.32",
        "1.0",
        "1.0.0",
        "01.2",
        "5.0.1b",
        "1A",
        "beta",
        "v10.2",
        "V1.0",
        "v.1",
        " 2.0 ",
        "1..2",
        "",
        ".1",
        "1.",
        "1.0-beta",
        "1.0+build",
        "v 1",
        "１.0",
        "1." + "9" * 19,
        "1." * 40 + "1",
        "0" * 30 + "7",
    ]
    reported = [
        "v10.2",
        "10.2.0-beta",
        "10.2.0+build5",
        "v10.2.0-rc.1+exp.sha.5114f85",
        " 10.1.40 ",
        "-beta",
        "+5",
        "10..2-beta",
        "4.0",
        "not-a-version!",
        "beta",
    ]
    lenient = ["12.1", "12.0 beta 2", "8.1.0_r3", "R", "", "v12.1", "12.0-beta", "v", "١٢", "10.0.19045.3803"]
    pairs = [
        ("10.1.4", "10.1.32"),
        ("1.0", "1.0.0"),
        ("1", "1.0.0.0"),
        ("1", "1a"),
        ("1a", "1b"),
        ("1b", "2"),
        ("0", "beta"),
        ("beta", "0beta"),
        ("beta", "1"),
        ("1.0.alpha", "1.0.beta"),
        ("1A", "1a"),
        ("v10.2", "1.0"),
        ("10.2", "v10.2"),
        ("1.0.0beta", "1.0.0"),
        ("10.2.0", "10.10"),
        ("999999999999999998", "999999999999999999"),
        ("01.2", "1.02"),
        ("2a0", "2a"),
    ]

    def parse_case(text: str, parse: Callable[[str, str], Version]) -> dict[str, Any]:
        try:
            return {"input": text, "canonical": parse(text, "clientVersion").canonical}
        except ValidationError as exc:
            return {"input": text, "error": exc.field}

    def order(a: str, b: str) -> int:
        x, y = Version.parse(a), Version.parse(b)
        return (x > y) - (x < y)

    ranges = [
        ({"min": "10.1.32", "max": None}, ["10.1.4", "10.1.32", "10.1.40", "10.2.0", "9"]),
        ({"min": "8.0", "max": "12.0"}, ["8", "7.9.9", "12", "12.0.0.1", "10.3"]),
        (
            {"min": "1.0", "max": "2.0", "minInclusive": False, "maxInclusive": False},
            ["1", "1.0.0.1", "1.9z", "2"],
        ),
        ({"min": None, "max": "5.0", "maxInclusive": False}, ["0", "4.9.9", "5", "5.0.0"]),
        ({"min": "9.2.1", "max": "9.2.1"}, ["9.2.1", "9.2.1.0", "9.2.1a"]),
    ]
    range_cases = [
        {
            "range": VersionRange.from_json(r).to_json(),
            "version": v,
            "contains": Version.parse(v) in VersionRange.from_json(r),
        }
        for r, versions in ranges
        for v in versions
    ]
    cut_sets = [
        [Cut.below(Version.parse("4")), Cut.below(Version.parse("5"))],
        [
            Cut.below(Version.parse("10.1.32")),
            Cut.over(Version.parse("10.2")),
            Cut.below(Version.parse("11")),
        ],
    ]
    segments = [
        {"cuts": [cut_to_json(c) for c in cuts], "version": v, "index": segment_index(Version.parse(v), cuts)}
        for cuts in cut_sets
        for v in ["3.9", "4", "4.0.0", "4.5", "5", "10.1.4", "10.1.32", "10.2", "10.2.0.1", "11", "12"]
    ]
    return {
        "parse": [parse_case(t, Version.parse) for t in given],
        "parseReported": [parse_case(t, Version.parse_reported) for t in reported],
        "parseLenient": [
            {"input": t, "canonical": None if (v := Version.parse_lenient(t)) is None else v.canonical}
            for t in lenient
        ],
        "compare": [{"a": a, "b": b, "order": order(a, b)} for a, b in pairs],
        "ranges": range_cases,
        "segments": segments,
    }


# --- targeting -------------------------------------------------------------------------------------


def _target(**parts: Any) -> dict[str, Any]:
    return parse_target(parts).compile().to_json()


def targeting_group() -> dict[str, Any]:
    shanghai_rules = [
        {"type": "city", "operation": 1, "values": ["Shanghai"]},
        {"type": "model", "operation": 2, "values": ["VIVO X5M"]},
        {"type": "osVersion", "operation": 3, "values": ["8.0-12.0"]},
        {"type": "network", "operation": 1, "values": ["Wi-Fi"]},
    ]
    base = {
        "platform": "android",
        "clientVersion": "10.2",
        "userId": "alice",
        "city": "shanghai",
        "model": "MI 9",
        "osVersion": "10",
        "netType": "WIFI",
    }
    targets = {
        "story3": _target(platform="android", rules=shanghai_rules),
        "ios": _target(platform="ios"),
        "all": _target(),
        "range": _target(clientVersions=[{"min": "10.1.32", "max": "10.2"}, {"min": "10.3", "max": None}]),
        "cityExclude": _target(rules=[{"type": "city", "operation": 2, "values": ["Beijing", "上海市"]}]),
        "modelInclude": _target(rules=[{"type": "model", "operation": 1, "values": ["Pixel 8", "VIVO X5M"]}]),
        "osInclude": _target(rules=[{"type": "osVersion", "operation": 1, "values": ["10", "12.1"]}]),
        "osExclude": _target(rules=[{"type": "osVersion", "operation": 2, "values": ["10"]}]),
        "osOutOfRange": _target(rules=[{"type": "osVersion", "operation": 4, "values": ["8.0-9.9", "13-"]}]),
        "net4g5g": _target(rules=[{"type": "network", "operation": 1, "values": ["4G", "5G"]}]),
        "netNotWifi": _target(rules=[{"type": "network", "operation": 2, "values": ["WLAN"]}]),
        "netCellular": _target(rules=[{"type": "network", "operation": 1, "values": ["WWAN"]}]),
        "netNotCellular": _target(rules=[{"type": "network", "operation": 2, "values": ["cellular"]}]),
        "istanbul": _target(
            rules=[{"type": "city", "operation": 1, "values": ["istanbul", "Straße", "ΟΔΟΣ"]}]
        ),
        "rollout0": _target(rollout={"basisPoints": 0, "salt": "task-42"}),
        "rollout9999": _target(rollout={"basisPoints": 9999, "salt": "task-42"}),
        "rollout10000": _target(rollout={"basisPoints": 10000, "salt": "task-42"}),
        "rollout20": _target(rollout={"percent": 20, "salt": "feed_v2"}),
        "whitelist": _target(whitelistIds=[WHITELIST_ID]),
        "regex": _target(whitelistIds=[REGEX_ID]),
        "eitherList": _target(whitelistIds=[WHITELIST_ID, REGEX_ID]),
        "listAndRollout": _target(whitelistIds=[WHITELIST_ID], rollout={"percent": 50, "salt": "half"}),
        "unknownList": _target(whitelistIds=["99"]),
    }

    def vary(**changes: Any) -> dict[str, Any]:
        return {k: v for k, v in {**base, **changes}.items() if v is not None}

    devices = {
        "base": vary(),
        "ios": vary(platform="ios"),
        "noCity": vary(city=None),
        "emptyCity": vary(city=""),
        "beijing": vary(city="  BEIJING "),
        "shanghaiCity": vary(city="上海市"),
        "vivo": vary(model="vivo x5m"),
        "noModel": vary(model=None),
        "os7": vary(osVersion="7.1.2"),
        "os12": vary(osVersion="12.0.0"),
        "os13": vary(osVersion="13 beta"),
        "osGarbage": vary(osVersion="R"),
        "noOs": vary(osVersion=None),
        "vOs": vary(osVersion="v12.1"),
        "lte": vary(netType=" lte "),
        "nr": vary(netType="NR"),
        "wwan": vary(netType="WWAN"),
        "wlan": vary(netType="wlan"),
        "wifiSpaced": vary(netType="wi fi"),
        "noNet": vary(netType=None),
        "androidCode1": vary(netType="1"),  # the Android mPaaS SDK's NetworkUtils codes
        "androidCode2": vary(netType="2"),
        "androidCode3": vary(netType=" 3"),
        "androidCode4": vary(netType=4),  # as a JSON number
        "androidCode9": vary(netType="9"),  # no such code: matches no network
        "v10.1.4": vary(clientVersion="10.1.4"),
        "v10.1.32": vary(clientVersion="10.1.32"),
        "v10.1.40-beta": vary(clientVersion="v10.1.40-beta"),
        "v10.2.0+build5": vary(clientVersion="10.2.0+build5"),
        "v10.2.1": vary(clientVersion="10.2.1"),
        "v10.3": vary(clientVersion="10.3"),
        "noVersion": vary(clientVersion=None),
        "İSTANBUL": vary(city="İSTANBUL"),
        "STRASSE": vary(city="STRASSE"),
        "STRAẞE": vary(city="STRAẞE"),
        "greek": vary(city="ΟΔΟΣ"),
        "nelSpaced": vary(city="\x85Shanghai\u3000"),
        "bomSpaced": vary(city="\ufeffShanghai"),
        "bob": vary(userId="bob"),
        "numericUser": vary(userId=12345),
        "deviceOnly": vary(userId=None, deviceId="user-042"),
        "anonymous": vary(userId=None),
        "staff": vary(userId="staff_17"),
        "staffPartial": vary(userId="xstaff_17"),
        "qa": vary(userId="qa-ops"),
        "qaLong": vary(userId="qa-opsxx"),
        "carol": vary(userId="carol"),
    }
    rollout_users = [f"user-{n:03d}" for n in range(40)]
    for user in rollout_users:
        devices[user] = vary(userId=user)

    all_shards = shard_files(device_of(d).identity for d in devices.values())
    membership = KitMembership(all_shards)
    matches = [
        {
            "target": target_name,
            "device": device_name,
            "matches": CompiledTarget.from_json(target).matches(device_of(context), membership),
        }
        for target_name, target in targets.items()
        for device_name, context in devices.items()
        if target_name.startswith("rollout") or not device_name.startswith("user-")
    ]
    bad_devices = [
        {"platform": "android", "clientVersion": "1..0"},
        {"platform": "android", "clientVersion": "-beta"},
        {"platform": "android", "clientVersion": 10},
        {"platform": "android", "userId": True},
        {"platform": "android", "userId": 1.5},
        {"platform": "android", "userId": 2**53},
        {"platform": "android", "deviceId": -(2**53)},
        {"platform": "android", "city": 5},
        {"platform": "windows"},
        {"platform": "all"},
        {"userId": "u"},
    ]
    identities = ["alice", "bob", "", "12345", "用户", "user-042", "staff_17"]
    salts = ["task-42", "feed_v2", "s", "config-7"]
    return {
        "whitelists": index_whitelists(),
        "publicKeys": pinned(CURRENT),
        "buckets": [{"salt": s, "identity": i, "bucket": bucket(s, i)} for s in salts for i in identities],
        "networks": [
            {"input": n, "token": normalize_network(n)}
            for n in [
                "2G",
                "3g",
                "4G",
                "LTE",
                "lte ",
                "5G",
                "NR",
                "WiFi",
                "Wi-Fi",
                "wi_fi",
                "wi fi",
                "WLAN",
                "WWAN",
                "ethernet",
                " 4g\u3000",
            ]
        ],
        "reportedNetworks": [
            {"input": n, "token": reported_network(n)}
            for n in ["1", "2", "3", " 4 ", "5", "9", "WWAN", "wwan", "Cellular", "WIFI", "4G", "LTE"]
        ],
        "files": all_shards,
        "targets": targets,
        "devices": devices,
        "matches": matches,
        "deviceErrors": [{"device": d, "error": field_of(lambda d=d: device_of(d))} for d in bad_devices],
    }


# --- envelopes -------------------------------------------------------------------------------------


def envelopes_group() -> dict[str, Any]:
    document = {"schema": 1, "sequence": 7, "note": "上海 – ok"}
    good = sealed(document)
    data = json.loads(good)
    tampered_payload = json.dumps({**data, "payload": b64url(canonical_json({**document, "sequence": 8}))})
    signature = bytearray(base64.urlsafe_b64decode(data["sig"] + "=="))
    signature[0] ^= 1
    tampered_sig = json.dumps({**data, "sig": b64url(bytes(signature))})
    non_canonical_payload = b'{ "sequence" : 7,\n  "schema": 1 }'
    from chalicelib.security.signing import sign

    raw_envelope = sign(CURRENT[1], CURRENT[0], non_canonical_payload)
    spaced_envelope = (
        f'{{\n  "v": 1,\n  "sig": "{b64url(raw_envelope.signature)}",\n  '
        f'"payload": "{b64url(raw_envelope.payload)}",\n  "keyId": "{raw_envelope.key_id}"\n}}'
    )
    cases = [
        ("valid", good, {"valid": True, "document": document}),
        ("retired key still pinned", sealed(document, RETIRED), {"valid": True, "document": document}),
        ("tampered payload", tampered_payload, {"valid": False, "reason": "signature"}),
        ("tampered signature", tampered_sig, {"valid": False, "reason": "signature"}),
        ("unknown key", sealed(document, STRANGER), {"valid": False, "reason": "unknown-key"}),
        (
            "non-canonical payload bytes are verified as they are",
            spaced_envelope,
            {"valid": True, "document": {"schema": 1, "sequence": 7}},
        ),
        ("envelope version 2", json.dumps({**data, "v": 2}), {"valid": False, "reason": "format"}),
        ("not JSON", "<html>504 Gateway Timeout</html>", {"valid": False, "reason": "format"}),
        (
            "no signature",
            json.dumps({k: v for k, v in data.items() if k != "sig"}),
            {"valid": False, "reason": "format"},
        ),
    ]
    for name, text, expected in cases:  # the expectations above are what the reference reader does
        assert _open(text, pinned(CURRENT, RETIRED)) == expected, name
    retired_unpinned = {
        "name": "retired key no longer pinned",
        "file": sealed(document, RETIRED),
        "publicKeys": pinned(CURRENT),
        "valid": False,
        "reason": "unknown-key",
    }
    assert _open(retired_unpinned["file"], pinned(CURRENT)) == {"valid": False, "reason": "unknown-key"}
    return {
        "publicKeys": pinned(CURRENT, RETIRED),
        "cases": [{"name": n, "file": t, **e} for n, t, e in cases] + [retired_unpinned],
    }


def _open(text: str, keys: Mapping[str, str]) -> dict[str, Any]:
    from chalicelib.security.signing import verify

    try:
        envelope = Envelope.parse(text.encode())
    except ValueError:
        return {"valid": False, "reason": "format"}
    raw_keys = {k: base64.b64decode(v) for k, v in keys.items()}
    if envelope.key_id not in raw_keys:
        return {"valid": False, "reason": "unknown-key"}
    if not verify(envelope, raw_keys):
        return {"valid": False, "reason": "signature"}
    return {"valid": True, "document": envelope.document()}


# --- manifests (delivery, scenarios) ---------------------------------------------------------------


PUBLISHED_AT = "2027-01-15T08:00:00.000000+00:00"


def publish(
    platform: str,
    products: Mapping[str, list[Candidate]],
    *,
    sequence: int,
    key: tuple[str, bytes, bytes] = CURRENT,
    poll_seconds: int = POLL_DEFAULT_SECONDS,
) -> tuple[str, dict[str, str]]:
    """(index path, {path: file text}): what the publisher writes for one platform, without the store."""
    files: dict[str, str] = {}

    def entry(product: str, segment: Any) -> dict[str, str]:
        document = segment.document()
        digest = sha256_hex(canonical_json(document))
        path = f"m/{APP}/{WORKSPACE}/{product}/{platform}/seg/{key[0]}/{digest}.json"
        files[path] = sealed(document, key)
        return {"path": path, "sha256": digest}

    sections = {
        product: product_section_document(products[product], partial(entry, product))
        for product in sorted(products)
    }
    whitelist_ids = sorted({w for section in sections.values() for w in section["whitelists"]})
    whitelists = {w: index_whitelists()[w] for w in whitelist_ids}
    index = index_document(APP, WORKSPACE, platform, sections, whitelists, poll_seconds)
    path = f"m/{APP}/{WORKSPACE}/{platform}/index.json"
    files[path] = sealed({**index, "sequence": sequence, "publishedAt": PUBLISHED_AT}, key)
    return path, files


def upgrade_payload(task_id: str, status: int, version: str, **extra: Any) -> dict[str, Any]:
    payload = {
        "resultStatus": status,
        "downloadURL": f"https://cdn.example/dl/{task_id}.apk",
        "guideMemo": f"Please update to {version}",
        "newestVersion": version,
        "upgradeShortVersion": version,
        "upgradeFullVersion": version,
        "needClientNetType": "",
        "taskId": task_id,
        **extra,
    }
    if status == 202:
        payload.setdefault("silentPeriodDays", 3)
    return payload


def candidate(cid: str, target: dict[str, Any], payload: dict[str, Any], **extra: Any) -> Candidate:
    return Candidate(id=cid, target=parse_target(target).compile(), payload=payload, **extra)


def delivery_group() -> dict[str, Any]:
    v4 = {"platform": "android", "clientVersions": [{"min": "4.0", "max": "4.0"}]}
    upgrades = [
        candidate(
            "upgrade-task-9",
            {"platform": "android", "clientVersions": [{"max": "5.1", "maxInclusive": False}]},
            upgrade_payload("9", 204, "5.1"),
        ),
        candidate("upgrade-task-3", {**v4, "whitelistIds": [WHITELIST_ID]}, upgrade_payload("3", 206, "5.0")),
        candidate("upgrade-task-2", {**v4, "whitelistIds": [REGEX_ID]}, upgrade_payload("2", 202, "5.0")),
        candidate(
            "upgrade-task-5", {**v4}, upgrade_payload("5", 202, "5.0"), dynamic=True, not_after=NOW + 3600
        ),
        candidate(
            "upgrade-task-4",
            {"platform": "android", "clientVersions": [{"min": "3.0", "max": "3.9"}]},
            upgrade_payload("4", 202, "5.0"),
            not_after=NOW,
        ),
        candidate("upgrade-task-1", {"platform": "android"}, upgrade_payload("1", 202, "5.0")),
    ]
    index_path, files = publish("android", {"upgrade": upgrades}, sequence=3)
    index = json.loads(Envelope.parse(files[index_path].encode()).payload)["products"]["upgrade"]
    segment_cases = []
    for version in [None, "3.5", "4", "4.0.0", "v4.0-beta", "4.0.1", "5.0.9", "5.1", "6"]:
        client_version = None if version is None else Version.parse_reported(version)
        segment_cases.append({"clientVersion": version, "path": find_segment(index, client_version)["path"]})

    h5 = [
        candidate(
            "h5-task-8",
            {"platform": "android", "whitelistIds": [WHITELIST_ID]},
            {"h5Id": "12345678", "version": "1.0.0.2"},
            subject="12345678",
        ),
        candidate(
            "h5-task-7",
            {"platform": "android"},
            {"h5Id": "12345678", "version": "1.0.0.1"},
            subject="12345678",
        ),
        candidate(
            "h5-task-6",
            {"platform": "android", "clientVersions": [{"min": "10.1.32"}]},
            {"h5Id": "87654321", "version": "2.0.0.1"},
            subject="87654321",
            not_after=NOW + 60,
        ),
        candidate(
            "h5-task-5",
            {"platform": "android", "rules": [{"type": "city", "operation": 1, "values": ["Hangzhou"]}]},
            {"h5Id": "11112222", "version": "3.0"},
            subject="11112222",
            dynamic=True,
            not_after=NOW + 60,
        ),
    ]
    devices = {
        "whitelisted 4.0": {"platform": "android", "clientVersion": "4.0", "userId": "alice"},
        "regex-listed 4.0": {"platform": "android", "clientVersion": "4.0", "userId": "staff_3"},
        "other 4.0": {"platform": "android", "clientVersion": "4.0", "userId": "carol"},
        "3.5 after notAfter": {"platform": "android", "clientVersion": "3.5", "userId": "carol"},
        "5.0.2": {"platform": "android", "clientVersion": "5.0.2", "deviceId": "d-1"},
        "5.1": {"platform": "android", "clientVersion": "5.1", "userId": "alice"},
        "no version": {"platform": "android", "userId": "bob"},
        "10.1.4 in Hangzhou": {
            "platform": "android",
            "clientVersion": "10.1.4",
            "userId": "bob",
            "city": "Hangzhou",
        },
        "10.1.40 bob": {"platform": "android", "clientVersion": "10.1.40", "userId": "bob"},
        "10.1.40 carol": {"platform": "android", "clientVersion": "10.1.40", "userId": "carol"},
    }
    shards = shard_files(device_of(d).identity for d in devices.values())
    membership = KitMembership(shards)
    decisions = []
    for product, candidates in (("upgrade", upgrades), ("h5", h5)):
        for name, context in devices.items():
            for now in (NOW, NOW + 3600):
                case: dict[str, Any] = {"candidates": product, "device": name, "now": now}
                try:
                    chosen = decide_each(candidates, device_of(context), membership, now=now)
                    case["chosen"] = {s: c.id for s, c in chosen.items()}
                except NeedsServer as needs:
                    case["askServer"] = needs.candidate.id
                decisions.append(case)
    # time windows as a device holds them: a closed window before an open one, then an official release
    window = {"dynamic": True, "not_after": NOW + 3600}
    windows = [
        candidate("upgrade-task-12", v4, upgrade_payload("12", 206, "5.2"), closed=True, **window),
        candidate("upgrade-task-11", v4, upgrade_payload("11", 204, "5.1"), **window),
        candidate("upgrade-task-10", {"platform": "android"}, upgrade_payload("10", 202, "5.0")),
    ]
    for name in ("other 4.0", "whitelisted 4.0", "5.0.2"):
        for held in ([], ["upgrade-task-12"], ["upgrade-task-11"], ["upgrade-task-12", "upgrade-task-11"]):
            case = {"candidates": "windows", "device": name, "now": NOW, "held": held}
            claim = device_claim(lambda c, held=held: c.id in held)
            try:
                chosen = decide_each(windows, device_of(devices[name]), membership, now=NOW, claim=claim)
                case["chosen"] = {s: c.id for s, c in chosen.items()}
            except NeedsServer as needs:
                case["askServer"] = needs.candidate.id
            decisions.append(case)
    return {
        "whitelists": index_whitelists(),
        "publicKeys": pinned(CURRENT),
        "segments": {"index": index, "cases": segment_cases},
        "files": shards,
        "candidates": {
            "upgrade": [c.to_json() for c in upgrades],
            "h5": [c.to_json() for c in h5],
            "windows": [c.to_json() for c in windows],
        },
        "devices": devices,
        "decisions": decisions,
    }


# --- product answers -------------------------------------------------------------------------------


def answers_group() -> dict[str, Any]:
    from chalicelib.domain.answers import answer_for
    from chalicelib.domain.config import interval_seconds, typed_value

    everyone = {"platform": "android"}
    hotpatch_entry = {
        "patchId": "14",
        "releaseId": "3",
        "appVersion": "5.0",
        "order": 14,
        "path": "hp/KIT_APP/default/14/ab/fix.js",
        "url": "https://cdn.example/hp/KIT_APP/default/14/ab/fix.js",
        "filename": "fix.js",
        "kind": "blob",
        "size": 10,
        "sha256": "ab" * 32,
        "signature": "c2ln",
        "keyId": "0d94becd99e286f5",
        "signer": "mds",
        "revoked": ["12"],
        "rollbackSeq": 2,
    }
    cases = [
        ("upgrade", {}, {"platform": "android", "userId": "alice"}),
        (
            "upgrade",
            {"": candidate("upgrade-task-1", everyone, upgrade_payload("1", 202, "5.0"))},
            {"platform": "android", "userId": "alice"},
        ),
        (
            "upgrade",
            {
                "": candidate(
                    "upgrade-task-2", everyone, upgrade_payload("2", 204, "5.0", needClientNetType="4G,WIFI")
                )
            },
            {"platform": "android", "deviceId": "d"},
        ),
        (
            "upgrade",
            {"": candidate("upgrade-task-3", everyone, upgrade_payload("3", 206, "5.0.1.2"))},
            {"platform": "android", "userId": 77},
        ),
        ("config", {}, {"platform": "ios"}),
        (
            "config",
            {
                "": candidate(
                    "config-constant",
                    everyone,
                    {
                        "configs": {
                            "a": {"value": "1", "type": "number"},
                            "Load_Config_Interval": {"value": "600", "type": "number"},
                        }
                    },
                ),
                "feed_v2": candidate(
                    "config-7-0", everyone, {"value": "true", "type": "boolean"}, subject="feed_v2"
                ),
            },
            {"platform": "android"},
        ),
        (
            "h5",
            {
                "87654321": candidate(
                    "h5-task-2", everyone, {"h5Id": "87654321", "version": "2"}, subject="87654321"
                ),
                "12345678": candidate(
                    "h5-task-1", everyone, {"h5Id": "12345678", "version": "1.0.0.1"}, subject="12345678"
                ),
            },
            {"platform": "android", "userId": "bob"},
        ),
        ("h5", {}, {"platform": "android"}),
        (
            "hotpatch",
            {"": candidate("hotpatch-release-3", everyone, hotpatch_entry)},
            {"platform": "android", "userId": "u"},
        ),
        (
            "hotpatch",
            {
                "": candidate(
                    "hotpatch-none-5", everyone, {"patchId": None, "revoked": ["12", "14"], "rollbackSeq": 3}
                )
            },
            {"platform": "android"},
        ),
        ("hotpatch", {}, {"platform": "android"}),
    ]
    typed = [
        ("string", "hello"),
        ("number", "12"),
        ("number", "-3"),
        ("number", "12.5"),
        ("boolean", "true"),
        ("boolean", "false"),
        ("boolean", "TRUE"),
        ("json", '{"a":[1,2]}'),
    ]
    intervals = [
        {},
        {"Load_Config_Interval": {"value": "600", "type": "number"}},
        {"Load_Config_Interval": {"value": "-5", "type": "number"}},
        {"Load_Config_Interval": {"value": "soon", "type": "string"}},
    ]
    return {
        "answers": [
            {
                "product": p,
                "chosen": {s: c.to_json() for s, c in chosen.items()},
                "device": d,
                "answer": answer_for(p, chosen, device_of(d)),
            }
            for p, chosen, d in cases
        ],
        "configValues": [{"type": t, "text": x, "value": typed_value(t, x)} for t, x in typed],
        "configIntervals": [{"configs": c, "seconds": interval_seconds(c)} for c in intervals],
    }


# --- .amr ------------------------------------------------------------------------------------------


def _amr(files: Mapping[str, bytes], *, key: str = "h5", version: str = "1.0.0.1") -> bytes:
    from chalicelib.packaging import amr, h5zip

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "p.zip"
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, data in files.items():
                archive.writestr(zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0)), data)
        with path.open("rb") as f:
            report = h5zip.inspect(
                f, h5_id="12345678", resource_type="normal", tenant_app_id=APP, workspace_id=WORKSPACE
            )
            out = io.BytesIO()
            amr.build(
                f,
                report,
                out,
                private_key=rsa_key(key),
                descriptor_fields={"version": version, "mainUrl": report.main_entry or ""},
            )
    return out.getvalue()


AMR_FILES = {
    "12345678/www/index.html": b"<!DOCTYPE html><html><body>kit</body></html>",
    "12345678/www/css/app.css": b"body{color:#333}\n" * 40,
    "12345678/www/img/logo.png": bytes(range(256)) * 3,
}


def amr_group() -> dict[str, Any]:
    from chalicelib.packaging import amr

    good = _amr(AMR_FILES)
    files = {name.split("/", 1)[1]: hashlib.sha256(data).hexdigest() for name, data in AMR_FILES.items()}
    logo_offset = good.index(bytes(range(256)))
    flipped = bytearray(good)
    flipped[logo_offset + 5] ^= 0x01
    manifest_flipped = bytearray(good)
    manifest_flipped[512 + 20] ^= 0x01  # inside CERT.json
    end = len(good) - 1024  # the two zero blocks
    extra_member = _extra_member(good)
    cases = [
        ("good", good, None, "h5", None),
        ("good with descriptor digest", good, hashlib.sha256(good).hexdigest(), "h5", None),
        ("flipped byte in a file", bytes(flipped), None, "h5", "digest"),
        ("flipped byte in CERT.json", bytes(manifest_flipped), None, "h5", "signature"),
        ("wrong key", good, None, "other", "signature"),
        ("truncated inside a file", good[: logo_offset + 100], None, "h5", "truncated"),
        ("truncated before the end blocks", good[:end], None, "h5", "truncated"),
        ("extra member", extra_member, None, "h5", "extra"),
        ("data after the end", good + b"\x01" + bytes(511), None, "h5", "extra"),
        ("descriptor digest differs", good, "00" * 32, "h5", "digest"),
    ]
    out = []
    for name, data, expected_sha256, key, reason in cases:
        try:
            verified = amr.verify(io.BytesIO(data), rsa_public_pem(key), expected_sha256=expected_sha256)
            outcome: dict[str, Any] = {"valid": True, "version": verified.version, "files": files}
        except amr.AmrError:
            outcome = {"valid": False, "reason": reason}
        assert outcome["valid"] == (reason is None), name
        out.append(
            {
                "name": name,
                "amr": base64.b64encode(data).decode(),
                "expectedSha256": expected_sha256,
                "key": key,
                **outcome,
            }
        )
    return {
        "publicKeys": {"h5": rsa_public_pem("h5"), "other": rsa_public_pem("other")},
        "h5Id": "12345678",
        "cases": out,
    }


def _extra_member(good: bytes) -> bytes:
    """``good`` with one more canonical member (not in the manifest) before the end blocks."""
    import tarfile

    info = tarfile.TarInfo("12345678/www/evil.js")
    info.size, info.mode, info.mtime = 4, 0o644, 0
    header = info.tobuf(tarfile.USTAR_FORMAT)
    return good[:-1024] + header + b"evil" + bytes(508) + bytes(1024)


# --- client scenarios ------------------------------------------------------------------------------


def _index_of(files: Mapping[str, str], path: str) -> dict[str, Any]:
    return json.loads(Envelope.parse(files[path].encode()).payload)


def scenarios_group() -> dict[str, Any]:
    from chalicelib.security import rsa_keys

    device = {"platform": "android", "clientVersion": "4.0", "userId": "alice", "netType": "WIFI"}
    bob = {**device, "userId": "bob"}
    official = candidate("upgrade-task-1", {"platform": "android"}, upgrade_payload("1", 204, "5.0"))
    single = candidate("upgrade-task-2", {"platform": "android"}, upgrade_payload("2", 202, "5.0"))
    window_end = NOW + 30 * 86400
    window = candidate(
        "upgrade-task-5",
        {"platform": "android"},
        upgrade_payload("5", 206, "5.0"),
        dynamic=True,
        not_after=window_end,
    )
    closed = Candidate(**{**window.__dict__, "closed": True})
    feed = candidate(
        "config-item-1", {"platform": "android"}, {"key": "feed_v2", "type": "boolean", "value": "true"},
        subject="feed_v2",
    )  # fmt: skip
    soon = candidate(
        "upgrade-task-6", {"platform": "android"}, upgrade_payload("6", 204, "5.0"), not_after=NOW + 60
    )
    i1, v1 = publish("android", {"upgrade": [official]}, sequence=5)
    _, v_old = publish("android", {"upgrade": [single]}, sequence=4)
    _, v2 = publish("android", {"upgrade": [single]}, sequence=6)
    _, v_dyn = publish("android", {"upgrade": [window]}, sequence=7)
    _, v_dyn2 = publish("android", {"upgrade": [window], "config": [feed]}, sequence=8)
    _, v_dyn3 = publish("android", {"upgrade": [window, single], "config": [feed]}, sequence=9)
    _, v_closed = publish("android", {"upgrade": [closed]}, sequence=10)
    _, v_ended = publish("android", {"upgrade": []}, sequence=11)
    _, v_config = publish("android", {"upgrade": [official], "config": [feed]}, sequence=12)
    _, v_only_config = publish("android", {"config": [feed]}, sequence=13)
    _, v_poll = publish("android", {"upgrade": [official]}, sequence=14, poll_seconds=900)
    _, v_soon = publish("android", {"upgrade": [soon, official]}, sequence=15, poll_seconds=900)
    seg = lambda files: _index_of(files, i1)["products"]["upgrade"]["segments"][0]["path"]  # noqa: E731
    answer_204 = {**official.payload, "userId": "alice"}
    answer_202 = {**single.payload, "userId": "alice"}
    granted = {**window.payload, "userId": "alice"}
    nothing = {"resultStatus": 201, "userId": "alice"}
    assert answer_for("upgrade", {}, device_of(device)) == nothing
    api = "POST /client/v1/upgrade/check 200"

    def grant(**changes: Any) -> dict[str, Any]:
        """A grant envelope (as the API returns it) for alice's place in ``window``, with ``changes``."""
        fields = {
            "app_id": APP, "workspace_id": WORKSPACE, "product": "upgrade", "candidate_id": window.id,
            "identity": identity_hash("alice"), "until": window_end, "issued_at": NOW,
        }  # fmt: skip
        key = changes.pop("key", CURRENT)
        return json.loads(sealed(Grant(**(fields | changes)).document(), key))

    def tampered(envelope: dict[str, Any]) -> dict[str, Any]:
        document = json.loads(unb64url(envelope["payload"])) | {"identity": identity_hash("mallory")}
        return envelope | {"payload": b64url(canonical_json(document))}

    def get(path: str, status: int) -> str:
        return f"GET /{path} {status}"

    def serve(files: Mapping[str, str], etag: str) -> dict[str, Any]:
        return {
            path: {"body": text, "etag": f'"{etag}"' if path == i1 else None} for path, text in files.items()
        }

    upgrade = [
        {
            "name": "304 reuse",
            "steps": [
                {
                    "cdn": serve(v1, "e5"),
                    "expect": {
                        "answer": answer_204,
                        "stale": False,
                        "static": True,
                        "prompt": True,
                        "requests": [get(i1, 200), get(seg(v1), 200)],
                        "nextCheckAt": NOW + POLL_DEFAULT_SECONDS,
                    },
                },
                {
                    "cdn": serve(v1, "e5"),
                    "expect": {
                        "answer": answer_204,
                        "stale": False,
                        "static": True,
                        "requests": [get(i1, 304)],
                    },
                },
            ],
        },
        {
            "name": "a change to another product costs only the index request",
            "steps": [
                {"cdn": serve(v1, "e5"), "expect": {"answer": answer_204, "static": True}},
                {
                    "cdn": serve(v_config, "e12"),
                    "expect": {
                        "answer": answer_204,
                        "static": True,
                        "stale": False,
                        "requests": [get(i1, 200)],
                    },
                },
            ],
        },
        {
            "name": "next check: the index's poll interval, or an entry's end when sooner",
            "steps": [
                {"cdn": serve(v_poll, "e14"), "expect": {"answer": answer_204, "nextCheckAt": NOW + 900}},
                {
                    "cdn": serve(v_soon, "e15"),
                    "expect": {"answer": {**soon.payload, "userId": "alice"}, "nextCheckAt": NOW + 60},
                },
                {
                    "cdn": serve(v_soon, "e15"),
                    "now": NOW + 60,
                    "expect": {"answer": answer_204, "nextCheckAt": NOW + 60 + 900},
                },
            ],
        },
        {
            "name": "older sequence refused, last good kept, answer marked stale",
            "steps": [
                {"cdn": serve(v1, "e5"), "expect": {"answer": answer_204, "stale": False}},
                {
                    "cdn": serve(v_old, "e4"),
                    "expect": {
                        "answer": answer_204,
                        "stale": True,
                        "refused": "rollback",
                        "requests": [get(i1, 200)],
                    },
                },
                {
                    "cdn": serve(v2, "e6"),
                    "expect": {
                        "answer": answer_202,
                        "stale": False,
                        "requests": [get(i1, 200), get(seg(v2), 200)],
                    },
                },
            ],
        },
        {
            "name": "network error uses the last good manifest",
            "steps": [
                {"cdn": serve(v1, "e5"), "expect": {"answer": answer_204, "stale": False}},
                {
                    "cdn": {i1: {"error": "network"}},
                    "expect": {"answer": answer_204, "stale": True, "refused": "network", "requests": []},
                },
                {
                    "cdn": {i1: {"error": "network"}},
                    "restart": True,
                    "expect": {"answer": answer_204, "stale": True, "refused": "network", "requests": []},
                },
            ],
        },
        {
            "name": "tampered index uses the last good manifest",
            "steps": [
                {"cdn": serve(v1, "e5"), "expect": {"answer": answer_204, "stale": False}},
                {
                    "cdn": {
                        **serve(v2, "e6"),
                        i1: {"body": v2[i1].replace('"sig":"', '"sig":"AA'), "etag": '"e6"'},
                    },
                    "expect": {"answer": answer_204, "stale": True, "refused": "signature"},
                },
            ],
        },
        {
            "name": "first check offline is a typed error",
            "steps": [
                {"cdn": {i1: {"error": "network"}}, "expect": {"error": "network"}},
            ],
        },
        {
            "name": "first check with a bad signature is a typed error",
            "steps": [
                {
                    "cdn": {
                        **serve(v1, "e5"),
                        i1: {"body": sealed(_index_of(v1, i1), STRANGER), "etag": '"e5"'},
                    },
                    "expect": {"error": "unknown-key"},
                },
            ],
        },
        {
            "name": "cached dynamic answer reused only for the same product section and device context",
            "api": {"answer": granted},
            "steps": [
                {
                    "cdn": serve(v_dyn, "e7"),
                    "expect": {
                        "answer": granted,
                        "static": False,
                        "requests": [get(i1, 200), get(seg(v_dyn), 200), api],
                    },
                },
                {
                    "cdn": serve(v_dyn, "e7"),
                    "expect": {"answer": granted, "static": True, "requests": [get(i1, 304)]},
                },
                {
                    "cdn": serve(v_dyn, "e7"),
                    "device": {**device, "netType": "4G"},
                    "expect": {"answer": granted, "static": False, "requests": [get(i1, 304), api]},
                },
                {  # a new index, the upgrade section unchanged (config changed): the answer stands
                    "cdn": serve(v_dyn2, "e8"),
                    "expect": {"answer": granted, "static": True, "requests": [get(i1, 200)]},
                },
                {  # the upgrade section changed: ask again
                    "cdn": serve(v_dyn3, "e9"),
                    "expect": {
                        "answer": granted,
                        "static": False,
                        "requests": [get(i1, 200), get(seg(v_dyn3), 200), api],
                    },
                },
            ],
        },
        {
            "name": "a granted place stays on the device: no API call across context changes, a closed "
            "window and a restart",
            "api": {"answer": {**granted, "grants": [grant()]}},
            "steps": [
                {
                    "cdn": serve(v_dyn, "e7"),
                    "expect": {
                        "answer": granted,
                        "static": False,
                        "requests": [get(i1, 200), get(seg(v_dyn), 200), api],
                    },
                },
                {
                    "cdn": serve(v_dyn, "e7"),
                    "device": {**device, "netType": "4G"},
                    "expect": {"answer": granted, "static": True, "requests": [get(i1, 304)]},
                },
                {
                    "cdn": serve(v_closed, "e10"),
                    "expect": {
                        "answer": granted,
                        "static": True,
                        "requests": [get(i1, 200), get(seg(v_closed), 200)],
                    },
                },
                {
                    "cdn": serve(v_closed, "e10"),
                    "restart": True,
                    "expect": {"answer": granted, "static": True, "requests": [get(i1, 304)]},
                },
                {  # another user on the same device holds no place: the closed window is skipped
                    "cdn": serve(v_closed, "e10"),
                    "device": bob,
                    "expect": {
                        "answer": {**nothing, "userId": "bob"},
                        "static": True,
                        "requests": [get(i1, 304)],
                    },
                },
                {  # the window has ended: the grant is worth nothing, whatever the manifest says
                    "cdn": serve(v_closed, "e10"),
                    "now": window_end,
                    "expect": {"answer": nothing, "static": True, "requests": [get(i1, 304)]},
                },
                {
                    "cdn": serve(v_ended, "e11"),
                    "now": window_end,
                    "expect": {
                        "answer": nothing,
                        "static": True,
                        "requests": [get(i1, 200), get(seg(v_ended), 200)],
                    },
                },
            ],
        },
        {
            "name": "a closed window is skipped without asking",
            "steps": [
                {
                    "cdn": serve(v_closed, "e10"),
                    "expect": {
                        "answer": nothing,
                        "static": True,
                        "requests": [get(i1, 200), get(seg(v_closed), 200)],
                    },
                },
            ],
        },
        {
            "name": "grants that do not verify, or are another's, are not held",
            "api": {
                "answer": {
                    **granted,
                    "grants": [
                        tampered(grant()),
                        grant(key=STRANGER),
                        grant(workspace_id="other"),
                        grant(app_id="OTHER_APP"),
                        grant(product="h5"),
                        grant(candidate_id="upgrade-task-6"),
                        grant(identity=identity_hash("bob")),
                        grant(until=NOW),
                        {"not": "an envelope"},
                    ],
                }
            },
            "steps": [
                {"cdn": serve(v_dyn, "e7"), "expect": {"answer": granted, "static": False}},
                {
                    "cdn": serve(v_closed, "e10"),
                    "expect": {
                        "answer": nothing,
                        "static": True,
                        "requests": [get(i1, 200), get(seg(v_closed), 200)],
                    },
                },
            ],
        },
        {
            "name": "202 single reminder prompts once per silent period",
            "steps": [
                {"cdn": serve(v2, "e6"), "now": NOW, "expect": {"answer": answer_202, "prompt": True}},
                {
                    "cdn": serve(v2, "e6"),
                    "now": NOW + 86400,
                    "expect": {"answer": answer_202, "prompt": False},
                },
                {
                    "cdn": serve(v2, "e6"),
                    "now": NOW + 3 * 86400 - 1,
                    "restart": True,
                    "expect": {"answer": answer_202, "prompt": False},
                },
                {
                    "cdn": serve(v2, "e6"),
                    "now": NOW + 3 * 86400 + 1,
                    "expect": {"answer": answer_202, "prompt": True},
                },
            ],
        },
        {
            "name": "nothing published asks the API",
            "api": {"answer": nothing},
            "steps": [
                {"cdn": {}, "expect": {"answer": nothing, "static": False, "requests": [get(i1, 404), api]}},
                {  # an index without an upgrade section: nothing of upgrade is published either
                    "cdn": serve(v_only_config, "e13"),
                    "expect": {
                        "answer": nothing,
                        "static": False,
                        "requests": [get(i1, 200), api],
                        "nextCheckAt": NOW + POLL_DEFAULT_SECONDS,
                    },
                },
            ],
        },
    ]

    # hotpatch: P1 then P2 official; P2 rolled back; an older manifest must not bring P2 back
    key = rsa_key("h5")
    key_id = rsa_keys.key_id(key)
    patch_files = {"13": b"patch one;\n", "14": b"patch two (misbehaves);\n"}

    def patch(pid: str, revoked: list[str], seq: int) -> Candidate:
        data = patch_files[pid]
        path = f"hp/{APP}/{WORKSPACE}/{pid}/{hashlib.sha256(data).hexdigest()}/fix.js"
        payload = {
            "patchId": pid,
            "releaseId": f"r{pid}",
            "appVersion": "5.0",
            "order": int(pid),
            "path": path,
            "url": f"https://cdn.example/{path}",
            "filename": "fix.js",
            "kind": "blob",
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "signature": base64.b64encode(rsa_keys.sign(key, data)).decode(),
            "keyId": key_id,
            "signer": "mds",
            "revoked": revoked,
            "rollbackSeq": seq,
        }
        return candidate(
            f"hotpatch-release-r{pid}",
            {"platform": "android", "clientVersions": [{"min": "5.0", "max": "5.0"}]},
            payload,
        )

    p1, p2, p1_after = patch("13", [], 0), patch("14", [], 0), patch("13", ["14"], 1)
    hi, h1 = publish("android", {"hotpatch": [p1]}, sequence=1)
    _, h2 = publish("android", {"hotpatch": [p2, p1]}, sequence=2)
    _, h3 = publish("android", {"hotpatch": [p1_after]}, sequence=3)
    blobs = {
        p.payload["path"]: {"body64": base64.b64encode(patch_files[p.payload["patchId"]]).decode()}
        for p in (p1, p2)
    }
    bad_blob = {p2.payload["path"]: {"body64": base64.b64encode(b"patch two (tampered);\n").decode()}}

    def hserve(files: Mapping[str, str], etag: str, extra: Mapping[str, Any] = blobs) -> dict[str, Any]:
        return {
            **{p: {"body": t, "etag": f'"{etag}"' if p == hi else None} for p, t in files.items()},
            **extra,
        }

    hotpatch = [
        {
            "name": "rollback survives a stale manifest",
            "steps": [
                {"cdn": hserve(h1, "h1"), "expect": {"applied": "13", "actions": ["applied 13"]}},
                {"cdn": hserve(h2, "h2"), "expect": {"applied": "14", "actions": ["applied 14"]}},
                {
                    "cdn": hserve(h3, "h3"),
                    "expect": {"applied": "13", "actions": ["removed 14", "applied 13"]},
                },
                {"cdn": hserve(h2, "h2"), "expect": {"applied": "13", "actions": [], "stale": True}},
                {"replay": p2.payload, "expect": {"applied": "13", "actions": []}},
            ],
        },
        {
            "name": "a patch whose bytes differ is refused and the applied one kept",
            "steps": [
                {"cdn": hserve(h1, "h1"), "expect": {"applied": "13", "actions": ["applied 13"]}},
                {
                    "cdn": hserve(h2, "h2", {**blobs, **bad_blob}),
                    "expect": {"applied": "13", "actions": ["refused 14: digest"]},
                },
            ],
        },
    ]
    return {
        "app": {"appId": APP, "workspaceId": WORKSPACE},
        "publicKeys": pinned(CURRENT),
        "patchKeys": {key_id: rsa_public_pem("h5")},
        "now": NOW,
        "upgrade": {"device": device, "scenarios": upgrade},
        "hotpatch": {
            "device": {"platform": "android", "clientVersion": "5.0", "userId": "alice"},
            "scenarios": hotpatch,
        },
    }


# --- grants ----------------------------------------------------------------------------------------


def grants_group() -> dict[str, Any]:
    """Time-window grants as a device checks them before counting a place as its own."""
    until = NOW + 3600
    alice = {"platform": "android", "clientVersion": "4.0", "userId": "alice", "deviceId": "d-1"}
    fields = {
        "app_id": APP, "workspace_id": WORKSPACE, "product": "upgrade", "candidate_id": "upgrade-task-5",
        "identity": identity_hash("alice"), "until": until, "issued_at": NOW - 60,
    }  # fmt: skip

    def grant(key: tuple[str, bytes, bytes] = CURRENT, **changes: Any) -> str:
        return sealed(Grant(**(fields | changes)).document(), key)

    good = grant()
    envelope = json.loads(good)
    signature = bytearray(unb64url(envelope["sig"]))
    signature[0] ^= 1
    bad_document = sealed({**Grant(**fields).document(), "type": "mds-grant/2"})
    no_until = sealed({k: v for k, v in Grant(**fields).document().items() if k != "until"})
    cases: list[tuple[str, str, dict[str, Any], int]] = [
        ("valid", good, alice, NOW),
        ("valid until the last second", good, alice, until - 1),
        ("run out", good, alice, until),
        ("tampered signature", json.dumps(envelope | {"sig": b64url(bytes(signature))}), alice, NOW),
        (
            "tampered payload",
            json.dumps(envelope | {"payload": b64url(canonical_json(Grant(**fields | {"until": until * 2})
                                                                     .document()))}),
            alice,
            NOW,
        ),
        ("signed by a key the app does not pin", grant(STRANGER), alice, NOW),
        ("not an envelope", '{"grant": true}', alice, NOW),
        ("not a grant document", bad_document, alice, NOW),
        ("a grant without until", no_until, alice, NOW),
        ("another workspace", grant(workspace_id="staging"), alice, NOW),
        ("another app", grant(app_id="OTHER_APP"), alice, NOW),
        ("another product", grant(product="h5"), alice, NOW),
        ("another release", grant(candidate_id="upgrade-task-6"), alice, NOW),
        ("another user", grant(identity=identity_hash("bob")), alice, NOW),
        ("the device's ID while it has a user ID", grant(identity=identity_hash("d-1")), alice, NOW),
        (
            "the device's ID when it has no user ID",
            grant(identity=identity_hash("d-1")),
            {"platform": "android", "deviceId": "d-1"},
            NOW,
        ),
        ("a device with neither ID", good, {"platform": "android"}, NOW),
    ]  # fmt: skip
    reasons = {text: code for code, text in REFUSALS.items()}
    out = []
    for name, text, device, now in cases:
        case: dict[str, Any] = {
            "name": name, "file": text, "product": "upgrade", "candidate": "upgrade-task-5",
            "device": device, "now": now,
        }  # fmt: skip
        opened = _open(text, pinned(CURRENT))
        if not opened["valid"]:
            case |= {"held": False, "reason": opened["reason"]}
            out.append(case)
            continue
        try:
            found = Grant.from_document(opened["document"])
        except ValueError:
            case |= {"held": False, "reason": "format"}
            out.append(case)
            continue
        refusal = found.refusal(
            app_id=APP, workspace_id=WORKSPACE, product="upgrade", candidate_id="upgrade-task-5",
            identity=device_of(device).identity, now=now,
        )  # fmt: skip
        case |= {"held": True} if refusal is None else {"held": False, "reason": reasons[refusal]}
        out.append(case)
    return {"app": {"appId": APP, "workspaceId": WORKSPACE}, "publicKeys": pinned(CURRENT), "cases": out}


# --- writing ---------------------------------------------------------------------------------------

GROUPS: dict[str, Callable[[], dict[str, Any]]] = {
    "versions": versions_group,
    "targeting": targeting_group,
    "envelopes": envelopes_group,
    "delivery": delivery_group,
    "answers": answers_group,
    "amr": amr_group,
    "grants": grants_group,
    "scenarios": scenarios_group,
}


def render(group: str) -> bytes:
    body = {"schema": KIT_SCHEMA, "group": group, **GROUPS[group]()}
    return (json.dumps(body, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def generate(out_dir: Path = VECTORS) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for group in GROUPS:
        path = out_dir / f"{group}.json"
        path.write_bytes(render(group))
        written.append(path)
    return written


if __name__ == "__main__":
    for written in generate(Path(sys.argv[1]) if len(sys.argv) > 1 else VECTORS):
        print(written)
