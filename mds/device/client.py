"""Reference device client (pure Python: httpx + the shared, pure decision code; no AWS SDK).

For a check round (every product at once, or one product) it:
1. fetches its platform's one index with ``If-None-Match`` (a 304 costs only headers), verifies its
   signature against the pinned public keys and refuses a sequence lower than the highest it has seen
   (rollback protection);
2. per product, fetches its segment (immutable, cached on disk by digest) and checks its SHA-256
   against the index;
3. evaluates locally with ``decide_each``, fetching a whitelist shard only when a candidate needs it;
   a time-window entry counts as claimed when the device holds a valid signed grant for it
   (``domain.grants``), is skipped when it is ``closed`` and the device holds none;
4. calls the dynamic check API only when an open time-window entry it holds no grant for applies, and
   keeps the grants the API hands back (so it never asks about that entry again);
5. on network errors, HTTP errors of the index (5xx) and refused indexes falls back to the last good
   manifest it stored.

``protocol=1`` reads the deprecated per-product indexes instead (one request per product, no grants):
what clients of protocol 1 do, kept for the conformance kit until every SDK has moved.

Files and state live in ``state_dir`` (what an app would keep in its private storage).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from chalicelib.domain.answers import answer_for
from chalicelib.domain.delivery import NeedsServer, decide_each, device_claim
from chalicelib.domain.grants import Grant, identity_hash
from chalicelib.domain.manifests import section_digest
from chalicelib.domain.targeting import Device
from chalicelib.manifests.reader import ManifestError, PublishedView, open_envelope


@dataclass
class Decision:
    answer: dict[str, Any]
    static: bool  # answered from the CDN manifests alone
    sequence: int | None
    candidate_id: str | None = None  # the chosen candidate of the "" subject (products with one answer)
    chosen: dict[str, str] = field(default_factory=dict)  # subject -> chosen candidate id
    bytes_transferred: int = 0
    requests: list[str] = field(default_factory=list)
    stale: bool = False  # answered from the last good manifest (network error or a refused index)
    refused: str | None = None  # why the fresh index was not used
    prompt: bool = False  # show the upgrade prompt now (silent period applied to single reminders)
    next_check_at: int | None = None  # epoch seconds: the index's poll interval (or an entry's end)


PRODUCTS = ("upgrade", "h5", "config", "hotpatch")


@dataclass
class Round:
    """One check round: a decision per product from one index request."""

    decisions: dict[str, Decision]
    requests: list[str]  # every request of the round, the index first
    bytes_transferred: int
    stale: bool = False
    refused: str | None = None
    next_check_at: int | None = None


class DeviceClient:
    def __init__(
        self,
        cdn_url: str,
        api_url: str,
        *,
        app_id: str,
        workspace_id: str,
        public_keys: Mapping[str, bytes],
        state_dir: Path,
        transport: httpx.BaseTransport | None = None,
        api_transport: httpx.BaseTransport | None = None,
        clock: Any = time.time,
        protocol: int = 2,
    ) -> None:
        self._cdn = httpx.Client(base_url=cdn_url.rstrip("/"), transport=transport, timeout=10)
        self._api = httpx.Client(base_url=api_url.rstrip("/"), transport=api_transport, timeout=10)
        self.app_id, self.workspace_id = app_id, workspace_id
        self._keys = dict(public_keys)
        self._dir = Path(state_dir)
        self._dir.mkdir(parents=True, exist_ok=True)
        self._clock = clock
        if protocol not in (1, 2):
            raise ValueError(f"protocol: is {protocol!r}; 1 (per-product indexes) or 2 (one index)")
        self._protocol = protocol

    @property
    def state_dir(self) -> Path:
        """Where this device keeps its files (companions such as the config client store theirs here)."""
        return self._dir

    def post(self, path: str, body: Mapping[str, Any]) -> httpx.Response:
        """POST JSON to the MDS API (device endpoints: events, reports)."""
        return self._api.post(path, json=dict(body))

    # --- the check ------------------------------------------------------------------------------

    def check(self, product: str, device: Device) -> Decision:
        """One product (its requests include the index request of the round)."""
        round_ = self.check_round(device, (product,))
        decision = round_.decisions[product]
        decision.requests, decision.bytes_transferred = round_.requests, round_.bytes_transferred
        return decision

    def check_round(self, device: Device, products: tuple[str, ...] = PRODUCTS) -> Round:
        """Every product in ``products`` from one conditional index request (protocol 1: one each).

        Raises:
            httpx.HTTPError, ManifestError: the index could not be read and none is stored yet.
        """
        meter = Decision(answer={}, static=True, sequence=None)  # the index requests
        decisions: dict[str, Decision] = {}
        if self._protocol == 1:
            for product in products:
                path = f"m/{self.app_id}/{self.workspace_id}/{product}/{device.platform.value}/index.json"
                index = self._fresh_or_last_good(path, meter)
                decisions[product] = self._decide(product, device, index, path, meter)
        else:
            path = f"m/{self.app_id}/{self.workspace_id}/{device.platform.value}/index.json"
            index = self._fresh_or_last_good(path, meter)
            for product in products:
                decisions[product] = self._decide(product, device, index, path, meter)
        for decision in decisions.values():
            decision.prompt = self._prompt(decision.answer)
        return Round(
            decisions,
            meter.requests + [r for d in decisions.values() for r in d.requests],
            meter.bytes_transferred + sum(d.bytes_transferred for d in decisions.values()),
            meter.stale,
            meter.refused,
            next(iter(decisions.values())).next_check_at if decisions else None,
        )

    def _fresh_or_last_good(self, path: str, meter: Decision) -> dict[str, Any] | None:
        try:
            return self._index(path, meter)
        except (httpx.TransportError, httpx.HTTPStatusError, ManifestError) as exc:
            # an outage (no network, or the CDN answering 5xx) or a refused index: keep the last good one
            index = self._last_good(path)
            meter.stale, meter.refused = True, str(exc)
            if index is None:
                raise
            return index

    def _prompt(self, answer: dict[str, Any]) -> bool:
        """Whether the app should show the upgrade prompt now. Forced (206) and multiple (204) always
        prompt; a single reminder (202) prompts once per silent period (default 3 days) per task."""
        status = answer.get("resultStatus")
        if status in (204, 206):
            return True
        if status != 202:
            return False
        state = self._state()
        key = f"{self.app_id}/{self.workspace_id}/{answer.get('taskId')}"
        now = self._clock()
        last = state.get("prompted", {}).get(key)
        if last is not None and now - last < float(answer.get("silentPeriodDays") or 3) * 86400:
            return False
        state.setdefault("prompted", {})[key] = now
        self._save_state(state)
        return True

    def _decide(
        self, product: str, device: Device, index: dict[str, Any] | None, path: str, meter: Decision
    ) -> Decision:
        decision = Decision(answer={}, static=True, sequence=None, stale=meter.stale, refused=meter.refused)
        view = (
            PublishedView(index, self._keys, lambda path: self._immutable(path, decision)) if index else None
        )
        now = int(self._clock())
        if view is not None:  # the index says when to look again, even with nothing for this product
            decision.sequence, decision.next_check_at = view.sequence, _next_check(view.index, now)
        section = view.section(product) if view is not None else None
        if view is None or section is None:  # nothing published for this product yet
            decision.answer = self._ask_server(product, device, decision)
            return decision
        candidates, membership = view.candidates_for(product, device), view.membership()
        held = (
            None
            if self._protocol == 1
            else device_claim(lambda c: self.grant_refusal(product, c.id, device, now=now) is None)
        )
        # what the API's answer for this context depends on: this product's section (protocol 1: the index)
        scope = (
            f"{path}@{decision.sequence}" if self._protocol == 1 else f"{product}@{section_digest(section)}"
        )
        try:
            chosen = decide_each(candidates, device, membership, now=now, claim=held)
        except NeedsServer as needs:
            decision.answer = self._dynamic_answer(product, device, decision, scope, needs.candidate, now)
            return decision
        decision.chosen = {subject: c.id for subject, c in chosen.items()}
        decision.candidate_id = decision.chosen.get("")
        decision.answer = self._static_answer(product, chosen, device)
        return decision

    def _dynamic_answer(
        self, product: str, device: Device, decision: Decision, scope: str, candidate: Any, now: int
    ) -> dict[str, Any]:
        """Ask the API once per published section and device context: the answer for the same context
        cannot change until the section does (a granted claim stays granted, a full quota stays full) or
        the entry expires. Any change in the context (version, network, city...) asks again."""
        state = self._state()
        context = hashlib.sha256(json.dumps(_context(device), sort_keys=True).encode()).hexdigest()[:32]
        key = f"{scope}:{candidate.id}:{context}"
        cached = state.get("dynamic", {}).get(key)
        if cached is not None and (candidate.not_after is None or now < candidate.not_after):
            decision.candidate_id = candidate.id
            return cached
        answer = self._ask_server(product, device, decision)
        state = self._state()
        prefix = scope.split("@")[0] + "@"
        state["dynamic"] = {  # answers of this product's older sections are of no use any more
            k: v
            for k, v in state.get("dynamic", {}).items()
            if not k.startswith(prefix) or k.startswith(scope + ":")
        }
        state["dynamic"][key] = answer
        self._save_state(state)
        return answer

    # --- grants ---------------------------------------------------------------------------------

    def grant_refusal(self, product: str, candidate_id: str, device: Device, *, now: int) -> str | None:
        """Why the device holds no usable grant for ``candidate_id`` (None: it holds one). The stored
        grant is verified again every time (``check_grant``)."""
        identity = device.identity
        stored = self._state().get("grants", {}).get(_grant_key(product, candidate_id, identity or ""))
        if stored is None:
            return "no grant"
        return self.check_grant(stored, product, candidate_id, device, now=now)

    def check_grant(
        self, envelope: Any, product: str, candidate_id: str, device: Device, *, now: int
    ) -> str | None:
        """Why the grant ``envelope`` does not give ``candidate_id`` of ``product`` to ``device`` at
        ``now`` (None: it does): signature by a pinned key, then this workspace, release, device, time."""
        try:
            grant = Grant.from_document(
                open_envelope(json.dumps(envelope).encode(), self._keys, f"grant for {candidate_id}")
            )
        except (ManifestError, ValueError) as exc:
            return str(exc)
        return grant.refusal(
            app_id=self.app_id,
            workspace_id=self.workspace_id,
            product=product,
            candidate_id=candidate_id,
            identity=device.identity,
            now=now,
        )

    def grants(self) -> list[dict[str, Any]]:
        """The grant envelopes the device keeps (as the API handed them out)."""
        return list(self._state().get("grants", {}).values())

    def _keep_grants(self, envelopes: list[Any], now: int) -> None:
        """Store the grants of an API answer that verify and are for this workspace; drop expired ones."""
        state = self._state()
        kept = {}
        for key, stored in state.get("grants", {}).items():
            try:
                if Grant.from_document(json.loads(_payload(stored))).until > now:
                    kept[key] = stored
            except (ValueError, KeyError, TypeError):
                continue
        for envelope in envelopes:
            try:
                grant = Grant.from_document(open_envelope(json.dumps(envelope).encode(), self._keys, "grant"))
            except (ManifestError, ValueError):
                continue  # not ours or not a grant: the device simply asks again next time
            if (grant.app_id, grant.workspace_id) == (self.app_id, self.workspace_id) and grant.until > now:
                kept[f"{grant.product}|{grant.candidate_id}|{grant.identity}"] = envelope
        state["grants"] = kept
        self._save_state(state)

    def _static_answer(self, product: str, chosen: Any, device: Device) -> dict[str, Any]:
        return answer_for(product, chosen, device)

    def _ask_server(self, product: str, device: Device, decision: Decision) -> dict[str, Any]:
        decision.static = False
        body = {"appId": self.app_id, "workspaceId": self.workspace_id, **_context(device)}
        if self._protocol >= 2:
            body["protocol"] = self._protocol
        reply = self._api.post(f"/client/v1/{product}/check", json=body)
        decision.requests.append(f"POST /client/v1/{product}/check {reply.status_code}")
        decision.bytes_transferred += len(reply.content)
        reply.raise_for_status()
        answer = reply.json()
        grants = answer.pop("grants", None) if isinstance(answer, dict) else None
        if grants:
            self._keep_grants(list(grants), int(self._clock()))
        return answer

    # --- H5 offline packages ---------------------------------------------------------------------

    def sync_h5(self, device: Device, public_key_pem: str) -> dict[str, dict[str, Any]]:
        """Check ``h5`` and bring each H5 app to the version chosen for this device: download its
        ``.amr`` from the CDN, verify the signature (the app's H5 public key) and every file digest, and
        install it into ``<state>/h5/<h5Id>/<version>/``. When the answer offers a diff from the version
        installed now, only the changed files are downloaded and applied (falling back to the full package
        if that fails). A tampered or truncated package is refused and nothing of it is installed.
        Returns ``{h5Id: {"version", "path", "installed", "via" (full|diff), "error"}}``."""
        import tempfile

        from chalicelib.packaging import amr

        decision = self.check("h5", device)
        state = self._state()
        current = state.setdefault("h5", {})
        results: dict[str, dict[str, Any]] = {}
        for package in decision.answer.get("packages", []):
            h5_id, version = str(package["h5Id"]), str(package["version"])
            dest = self._dir / "h5" / h5_id / version
            result: dict[str, Any] = {
                "version": version,
                "path": str(dest),
                "installed": False,
                "error": None,
                "release": decision.chosen.get(h5_id),  # the candidate (task) that chose this version
            }
            results[h5_id] = result
            if dest.is_dir() and current.get(h5_id) == version:
                result["installed"] = True
                continue
            if dest.exists():
                import shutil

                shutil.rmtree(dest)
            diff = package.get("diff")
            base = self._dir / "h5" / h5_id / str(diff["baseVersion"]) if diff else None
            if diff and base is not None and current.get(h5_id) == diff["baseVersion"] and base.is_dir():
                try:  # only the changed files; every file of the result is checked against the target
                    with tempfile.TemporaryFile(dir=self._dir) as spool:
                        self._download(diff["url"], spool, decision)
                        amr.apply_diff(base, spool, public_key_pem, dest, expected_sha256=diff.get("sha256"))
                    result.update(installed=True, via="diff")
                except (httpx.HTTPError, amr.AmrError) as exc:
                    result["diffError"] = str(exc)  # fall back to the full package
            if not result["installed"]:
                try:
                    with tempfile.TemporaryFile(dir=self._dir) as spool:
                        self._download(package["amrUrl"], spool, decision)
                        amr.extract_verified(
                            spool, public_key_pem, dest, expected_sha256=package.get("sha256")
                        )
                except (httpx.HTTPError, amr.AmrError) as exc:
                    result["error"] = str(exc)
                    continue
                result.update(installed=True, via="full")
            current[h5_id] = version
        for h5_id in [h for h in current if h not in results]:
            del current[h5_id]  # no longer delivered to this device
        self._save_state(state)
        return results

    def _download(self, url: str, spool: Any, decision: Decision) -> None:
        with self._cdn.stream("GET", url) as reply:
            decision.requests.append(f"GET {url} {reply.status_code}")
            reply.raise_for_status()
            for chunk in reply.iter_bytes(64 * 1024):
                decision.bytes_transferred += len(chunk)
                spool.write(chunk)
        spool.seek(0)

    def installed_h5(self) -> dict[str, str]:
        """``{h5Id: version}`` the device has installed and uses now."""
        return dict(self._state().get("h5", {}))

    # --- files ----------------------------------------------------------------------------------

    def _index(self, path: str, decision: Decision) -> dict[str, Any] | None:
        state = self._state()
        etag = state.get("etags", {}).get(path)
        headers = {"If-None-Match": etag} if etag and self._file(path).exists() else {}
        reply = self._cdn.get("/" + path, headers=headers)
        decision.requests.append(f"GET /{path} {reply.status_code}")
        decision.bytes_transferred += _header_bytes(reply) + len(reply.content)
        if reply.status_code == 404:
            return None
        if reply.status_code == 304:
            return open_envelope(self._file(path).read_bytes(), self._keys, "index")
        reply.raise_for_status()
        index = open_envelope(reply.content, self._keys, "index")
        seen = state.get("sequences", {}).get(path, 0)
        if int(index["sequence"]) < seen:
            raise ManifestError(f"index sequence {index['sequence']} is older than {seen} (rollback refused)")
        self._file(path).parent.mkdir(parents=True, exist_ok=True)
        self._file(path).write_bytes(reply.content)
        state.setdefault("etags", {})[path] = reply.headers.get("ETag", "")
        state.setdefault("sequences", {})[path] = int(index["sequence"])
        self._save_state(state)
        return index

    def _last_good(self, path: str) -> dict[str, Any] | None:
        stored = self._file(path)
        return open_envelope(stored.read_bytes(), self._keys, "index") if stored.exists() else None

    def _immutable(self, path: str, decision: Decision) -> bytes | None:
        stored = self._file(path)
        if stored.exists():
            return stored.read_bytes()
        reply = self._cdn.get("/" + path)
        decision.requests.append(f"GET /{path} {reply.status_code}")
        decision.bytes_transferred += _header_bytes(reply) + len(reply.content)
        if reply.status_code == 404:
            return None
        reply.raise_for_status()
        stored.parent.mkdir(parents=True, exist_ok=True)
        stored.write_bytes(reply.content)
        return reply.content

    def _file(self, path: str) -> Path:
        return self._dir / "files" / path

    def _state(self) -> dict[str, Any]:
        path = self._dir / "state.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def _save_state(self, state: dict[str, Any]) -> None:
        tmp = self._dir / "state.json.tmp"
        tmp.write_text(json.dumps(state))
        tmp.replace(self._dir / "state.json")


def _context(device: Device) -> dict[str, Any]:
    values = {
        "platform": device.platform.value,
        "clientVersion": str(device.client_version) if device.client_version is not None else None,
        "userId": device.user_id,
        "deviceId": device.device_id,
        "osVersion": str(device.os_version) if device.os_version is not None else None,
        "model": device.model,
        "city": device.city,
        "netType": device.net_type,
        "channel": device.channel,
    }
    return {k: v for k, v in values.items() if v is not None}


def _grant_key(product: str, candidate_id: str, identity: str) -> str:
    return f"{product}|{candidate_id}|{identity_hash(identity)}"


def _payload(envelope: Any) -> bytes:
    from chalicelib.domain.manifests import unb64url

    return unb64url(envelope["payload"])


def _next_check(index: Mapping[str, Any], now: int) -> int:
    """When the device should check again: after the poll interval, or when an entry ends if sooner."""
    poll = index.get("poll", {}).get("seconds")
    due = now + int(poll) if poll else now
    not_after = index.get("notAfter")
    return min(due, int(not_after)) if not_after and int(not_after) > now else due


def _header_bytes(reply: httpx.Response) -> int:
    return sum(len(k) + len(v) + 4 for k, v in reply.headers.items()) + 17
