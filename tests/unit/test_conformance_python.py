"""The Python reference client (mds/device + the shared domain) runs the whole conformance kit
(clients/conformance/vectors/*.json, see clients/conformance/README.md), as every other port does."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from chalicelib.domain.delivery import Candidate, NeedsServer, decide_each, device_claim
from chalicelib.domain.errors import ValidationError
from chalicelib.domain.manifests import cut_from_json
from chalicelib.domain.rollout import bucket
from chalicelib.domain.targeting import CompiledTarget, Device, normalize_network, reported_network
from chalicelib.domain.versions import Version, VersionRange, segment_index
from chalicelib.manifests.reader import ManifestError, PublishedMembership, open_envelope, segment_path_for
from mds.device.client import DeviceClient
from mds.device.hotpatch import HotpatchClient

VECTORS = Path(__file__).resolve().parents[2] / "clients" / "conformance" / "vectors"


def kit(group: str) -> dict[str, Any]:
    data = json.loads((VECTORS / f"{group}.json").read_text("utf-8"))
    assert data["schema"] == "mds-conformance/1" and data["group"] == group
    return data


def raw_keys(keys: dict[str, str]) -> dict[str, bytes]:
    return {key_id: base64.b64decode(public) for key_id, public in keys.items()}


def membership(data: dict[str, Any]) -> PublishedMembership:
    files = data["files"]
    return PublishedMembership(
        data["whitelists"],
        lambda path: files[path].encode() if path in files else None,
        raw_keys(data["publicKeys"]),
    )


# --- versions --------------------------------------------------------------------------------------

VERSIONS = kit("versions")


@pytest.mark.parametrize(
    ("case", "parse"),
    [(c, Version.parse) for c in VERSIONS["parse"]]
    + [(c, Version.parse_reported) for c in VERSIONS["parseReported"]],
)
def test_versions_parse(case, parse):
    if "error" in case:
        with pytest.raises(ValidationError) as exc:
            parse(case["input"], "clientVersion")
        assert exc.value.field == case["error"]
    else:
        assert parse(case["input"], "clientVersion").canonical == case["canonical"]


def test_versions_lenient_compare_ranges_segments():
    for case in VERSIONS["parseLenient"]:
        found = Version.parse_lenient(case["input"])
        assert (None if found is None else found.canonical) == case["canonical"], case
    for case in VERSIONS["compare"]:
        a, b = Version.parse(case["a"]), Version.parse(case["b"])
        assert (a > b) - (a < b) == case["order"], case
    for case in VERSIONS["ranges"]:
        assert (Version.parse(case["version"]) in VersionRange.from_json(case["range"])) is case[
            "contains"
        ], case
    for case in VERSIONS["segments"]:
        cuts = [cut_from_json(c) for c in case["cuts"]]
        assert segment_index(Version.parse(case["version"]), cuts) == case["index"], case


# --- targeting -------------------------------------------------------------------------------------

TARGETING = kit("targeting")


def test_targeting_buckets_and_networks():
    for case in TARGETING["buckets"]:
        assert bucket(case["salt"], case["identity"]) == case["bucket"], case
    for case in TARGETING["networks"]:
        assert normalize_network(case["input"]) == case["token"], case
    for case in TARGETING["reportedNetworks"]:
        assert reported_network(case["input"]) == case["token"], case


def test_targeting_matches():
    lists = membership(TARGETING)
    targets = {name: CompiledTarget.from_json(t) for name, t in TARGETING["targets"].items()}
    devices = {name: Device.from_context(d) for name, d in TARGETING["devices"].items()}
    wrong = [
        (case["target"], case["device"])
        for case in TARGETING["matches"]
        if targets[case["target"]].matches(devices[case["device"]], lists) is not case["matches"]
    ]
    assert wrong == [] and len(TARGETING["matches"]) > 500


def test_targeting_device_errors():
    for case in TARGETING["deviceErrors"]:
        with pytest.raises(ValidationError) as exc:
            Device.from_context(case["device"])
        assert exc.value.field == case["error"], case


# --- envelopes -------------------------------------------------------------------------------------

ENVELOPES = kit("envelopes")


@pytest.mark.parametrize("case", ENVELOPES["cases"], ids=lambda c: c["name"])
def test_envelopes(case):
    keys = raw_keys(case.get("publicKeys", ENVELOPES["publicKeys"]))
    if case["valid"]:
        assert open_envelope(case["file"].encode(), keys, "index") == case["document"]
    else:
        with pytest.raises(ManifestError):
            open_envelope(case["file"].encode(), keys, "index")


# --- delivery --------------------------------------------------------------------------------------

DELIVERY = kit("delivery")


def test_segment_selection_by_cuts():
    index = DELIVERY["segments"]["index"]
    for case in DELIVERY["segments"]["cases"]:
        context = {"platform": "android", "clientVersion": case["clientVersion"]}
        assert segment_path_for(index, Device.from_context(context))["path"] == case["path"], case


def test_decide_each():
    candidates = {
        name: [Candidate.from_json(c) for c in group] for name, group in DELIVERY["candidates"].items()
    }
    for case in DELIVERY["decisions"]:
        device = Device.from_context(DELIVERY["devices"][case["device"]])
        held = set(case.get("held", []))  # the grants the device holds
        try:
            chosen = decide_each(
                candidates[case["candidates"]], device, membership(DELIVERY), now=case["now"],
                claim=device_claim(lambda c, held=held: c.id in held),
            )  # fmt: skip
            assert {s: c.id for s, c in chosen.items()} == case["chosen"], case
        except NeedsServer as needs:
            assert needs.candidate.id == case.get("askServer"), case


# --- answers ---------------------------------------------------------------------------------------

ANSWERS = kit("answers")


def test_product_answers():
    from chalicelib.domain.answers import answer_for
    from chalicelib.domain.config import interval_seconds, typed_value

    for case in ANSWERS["answers"]:
        chosen = {s: Candidate.from_json(c) for s, c in case["chosen"].items()}
        assert answer_for(case["product"], chosen, Device.from_context(case["device"])) == case["answer"], (
            case
        )
    for case in ANSWERS["configValues"]:
        assert typed_value(case["type"], case["text"]) == case["value"], case
    for case in ANSWERS["configIntervals"]:
        assert interval_seconds(case["configs"]) == case["seconds"], case


# --- .amr ------------------------------------------------------------------------------------------

AMR = kit("amr")


@pytest.mark.parametrize("case", AMR["cases"], ids=lambda c: c["name"])
def test_amr_verification(case):
    from chalicelib.packaging import amr

    data = io.BytesIO(base64.b64decode(case["amr"]))
    key = AMR["publicKeys"][case["key"]]
    if case["valid"]:
        verified = amr.verify(data, key, expected_sha256=case["expectedSha256"])
        assert {f.path: f.sha256 for f in verified.files} == case["files"]
        assert verified.version == case["version"]
    else:
        with pytest.raises(amr.AmrError):
            amr.verify(data, key, expected_sha256=case["expectedSha256"])


# --- grants ----------------------------------------------------------------------------------------

GRANTS = kit("grants")


@pytest.mark.parametrize("case", GRANTS["cases"], ids=lambda c: c["name"])
def test_grants(case, tmp_path):
    """The reference client's own check of a stored grant (the one it runs at every decision)."""
    client = DeviceClient(
        "http://cdn.kit", "http://api.kit", app_id=GRANTS["app"]["appId"],
        workspace_id=GRANTS["app"]["workspaceId"], public_keys=raw_keys(GRANTS["publicKeys"]), state_dir=tmp_path,
    )  # fmt: skip
    try:
        envelope = json.loads(case["file"])
    except json.JSONDecodeError:
        envelope = case["file"]
    refusal = client.check_grant(
        envelope, case["product"], case["candidate"], Device.from_context(case["device"]), now=case["now"]
    )
    assert (refusal is None) is case["held"], refusal
    if not case["held"]:
        assert grant_reason(refusal) == case["reason"], refusal


def grant_reason(refusal: str) -> str:
    from chalicelib.domain.grants import REFUSALS as GRANT_REFUSALS

    codes = {text: code for code, text in GRANT_REFUSALS.items()}
    if refusal in codes:
        return codes[refusal]
    for words, reason in REFUSALS.items():
        if words in refusal:
            return reason
    return "format"


# --- client scenarios ------------------------------------------------------------------------------

SCENARIOS = kit("scenarios")


class KitCdn:
    """The step's CDN as an HTTP server would be: ETag / If-None-Match, 404 for what it lacks, or a
    transport error."""

    def __init__(self) -> None:
        self.files: dict[str, Any] = {}
        self.api_answer: dict[str, Any] | None = None

    def cdn(self, request: httpx.Request) -> httpx.Response:
        entry = self.files.get(request.url.path.lstrip("/"))
        if entry is None:
            return httpx.Response(404)
        if "error" in entry:
            raise httpx.ConnectError("kit: network down", request=request)
        etag = entry.get("etag")
        if etag and request.headers.get("If-None-Match") == etag:
            return httpx.Response(304, headers={"ETag": etag})
        body = base64.b64decode(entry["body64"]) if "body64" in entry else entry["body"].encode()
        return httpx.Response(200, content=body, headers={"ETag": etag} if etag else {})

    def api(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/client/v1/hotpatch/report":
            return httpx.Response(200, json={"ok": True})
        assert self.api_answer is not None, "the scenario did not expect the dynamic API"
        assert json.loads(request.content)["protocol"] == 2
        return httpx.Response(200, json=self.api_answer)


REFUSALS = {
    "rollback": "rollback",
    "signature does not verify": "signature",
    "not one of the pinned keys": "unknown-key",
    "network down": "network",
}


def refusal(decision_refused: str | None, error: BaseException | None = None) -> str | None:
    text = decision_refused if error is None else f"{type(error).__name__}: {error}"
    if text is None:
        return None
    for words, reason in REFUSALS.items():
        if words in text:
            return reason
    return "network" if isinstance(error, httpx.TransportError) else text


def make_client(tmp_path: Path, server: KitCdn, clock: list[int]) -> DeviceClient:
    return DeviceClient(
        "http://cdn.kit", "http://api.kit",
        app_id=SCENARIOS["app"]["appId"], workspace_id=SCENARIOS["app"]["workspaceId"],
        public_keys=raw_keys(SCENARIOS["publicKeys"]), state_dir=tmp_path,
        transport=httpx.MockTransport(server.cdn), api_transport=httpx.MockTransport(server.api),
        clock=lambda: clock[0],
    )  # fmt: skip


@pytest.mark.parametrize("scenario", SCENARIOS["upgrade"]["scenarios"], ids=lambda s: s["name"])
def test_upgrade_scenarios(scenario, tmp_path):
    server, clock = KitCdn(), [SCENARIOS["now"]]
    server.api_answer = scenario.get("api", {}).get("answer")
    client = make_client(tmp_path, server, clock)
    for number, step in enumerate(scenario["steps"]):
        server.files, clock[0] = step["cdn"], step.get("now", SCENARIOS["now"])
        if step.get("restart"):  # a new process on the same storage
            client = make_client(tmp_path, server, clock)
        device = Device.from_context(step.get("device", SCENARIOS["upgrade"]["device"]))
        expect = step["expect"]
        try:
            decision = client.check("upgrade", device)
        except (httpx.TransportError, ManifestError) as exc:
            assert "error" in expect, (number, exc)
            assert refusal(None, exc) == expect["error"]
            continue
        assert "error" not in expect, number
        got = {
            "answer": decision.answer,
            "stale": decision.stale,
            "static": decision.static,
            "prompt": decision.prompt,
            "requests": decision.requests,
            "refused": refusal(decision.refused),
            "nextCheckAt": decision.next_check_at,
        }
        assert {k: got[k] for k in expect} == expect, number


@pytest.mark.parametrize("scenario", SCENARIOS["hotpatch"]["scenarios"], ids=lambda s: s["name"])
def test_hotpatch_scenarios(scenario, tmp_path):
    server, clock = KitCdn(), [SCENARIOS["now"]]
    checker = make_client(tmp_path, server, clock)
    patches = HotpatchClient(
        checker, cdn_url="http://cdn.kit", api_url="http://api.kit",
        app_id=SCENARIOS["app"]["appId"], workspace_id=SCENARIOS["app"]["workspaceId"],
        patch_keys=SCENARIOS["patchKeys"], state_dir=tmp_path,
        transport=httpx.MockTransport(server.cdn), api_transport=httpx.MockTransport(server.api),
    )  # fmt: skip
    device = Device.from_context(SCENARIOS["hotpatch"]["device"])
    for number, step in enumerate(scenario["steps"]):
        if "replay" in step:
            result = patches.apply_answer(step["replay"], device)
        else:
            server.files = step["cdn"]
            result = patches.sync(device)
        actions = [a.split(": ")[0] + ": digest" if "SHA-256" in a else a for a in result.actions]
        got = {"applied": result.applied, "actions": actions, "stale": result.stale}
        assert {k: got[k] for k in step["expect"]} == step["expect"], number
