"""Hotpatches: signed patch packages for one installed app version, their releases, rollback, guardrails.

A **patch** fixes one app version on one platform (``android 5.0``). Its file (a zip or an opaque blob:
a script, a binary diff) is uploaded with a presigned POST, checked, and **signed**: either by MDS with
the tenant's patch key (``signer: mds``), or by the developer, whose signature is verified on upload
against the public key they registered (``signer: developer``). Devices verify the same RSASSA-PKCS1-v1_5
SHA-256 signature over the file bytes before applying it (docs/formats.md "Hotpatch packages").

A **release** delivers a patch: ``gray`` to one or more whitelists (optionally narrowed by advanced
rules) or ``official`` to every device on the patch's app version. Releases pause / continue / end
like upgrade tasks (``ended`` is terminal), and may carry a **guardrail**: pause automatically once
``failurePercent`` of at least ``minReports`` device reports say the patch failed to apply.

**Priority** for one device (``priority_key``): the newer patch (higher ID) first; within a patch,
official before whitelist gray; then the most recently created release.

**Rollback** revokes a patch for good: its live releases end, it can never be released again, and
every manifest for its app version carries ``revoked`` (the IDs of every revoked patch of that
version) and ``rollbackSeq`` (a per-platform counter that only grows). A device that applied a revoked
patch removes it and takes whatever the manifest now gives (the previous good patch, or none); it keeps
the revoked set and the highest ``rollbackSeq`` it has seen, so no stale manifest makes it re-apply one.
"""

from __future__ import annotations

import base64
import binascii
import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from chalicelib.domain.errors import Conflict, MissingParameter, ValidationError, present
from chalicelib.domain.rollouts import Guardrail as ReleaseGuardrail
from chalicelib.domain.targeting import Platform, Target, parse_target
from chalicelib.domain.upgrade import ReleaseType, TaskState, check_text
from chalicelib.domain.versions import Version, VersionRange

PRODUCT = "hotpatch"  # the delivery product name: manifests, publishing, rollouts

MAX_LIVE_RELEASES = 10  # per patch, as for upgrade packages
MAX_SIGNATURE_BYTES = 2048  # a 16384-bit RSA signature
MAX_REASON = 500  # characters of a device's failure reason
DEFAULT_MIN_REPORTS = 20


class Signer(enum.StrEnum):
    MDS = "mds"  # signed on upload with the tenant's patch key
    DEVELOPER = "developer"  # carries the developer's own signature, verified on upload

    @classmethod
    def parse(cls, value: object) -> Signer:
        if value is None or value == "":
            return cls.MDS
        for member in cls:
            if isinstance(value, str) and value.strip().lower() == member.value:
                return member
        raise ValidationError("signer", "must be mds or developer")


class PatchState(enum.StrEnum):
    AWAITING_UPLOAD = "awaitingUpload"  # created; its file has not passed the checks yet
    READY = "ready"  # file checked, signed and on the CDN: can be released
    ROLLED_BACK = "rolledBack"  # revoked for good (terminal)


@dataclass(frozen=True)
class PatchFile:
    """The checked file as devices get it: an immutable path in the delivery bucket (behind the CDN)."""

    path: str
    filename: str
    size: int
    sha256: str
    kind: str  # "zip" | "blob"
    signature: str  # base64 RSASSA-PKCS1-v1_5 SHA-256 over the file bytes
    key_id: str  # which public key verifies it (rsa_keys.key_id)
    md5: str = ""  # measured with the SHA-256 (mPaaS answers name it); older files have none

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "filename": self.filename,
            "size": self.size,
            "sha256": self.sha256,
            "kind": self.kind,
            "signature": self.signature,
            "keyId": self.key_id,
            "md5": self.md5,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PatchFile:
        return cls(
            path=data["path"],
            filename=data["filename"],
            size=int(data["size"]),
            sha256=data["sha256"],
            kind=data["kind"],
            signature=data["signature"],
            key_id=data["keyId"],
            md5=data.get("md5", ""),
        )


@dataclass(frozen=True)
class Patch:
    id: str
    platform: Platform
    app_version: Version
    description: str
    signer: Signer
    state: PatchState
    created_at: str
    created_by: str
    updated_at: str
    file: PatchFile | None = None
    pending_upload: str | None = None
    developer_signature: str | None = None  # base64, as given at creation (developer-signed patches)
    rollback_seq: int | None = None
    rolled_back_at: str | None = None
    rolled_back_by: str | None = None
    lock_version: int | None = None

    @property
    def usable(self) -> bool:
        return self.state is PatchState.READY and self.file is not None

    def ready(self, file: PatchFile, *, at: str) -> Patch:
        return replace(self, file=file, pending_upload=None, state=PatchState.READY, updated_at=at)

    def roll_back(self, *, seq: int, at: str, by: str, ever_released: bool) -> Patch:
        """Revoke the patch. Raises Conflict when there is nothing to roll back."""
        if self.state is PatchState.ROLLED_BACK:
            raise Conflict(
                f"patch {self.id} was already rolled back (rollbackSeq {self.rollback_seq})", field="patchId"
            )
        if not self.usable or not ever_released:
            raise Conflict(
                f"patch {self.id} has never been released: there is nothing to roll back", field="patchId"
            )
        return replace(
            self,
            state=PatchState.ROLLED_BACK,
            rollback_seq=seq,
            rolled_back_at=at,
            rolled_back_by=by,
            updated_at=at,
        )


@dataclass(frozen=True)
class PatchSpec:
    platform: Platform
    app_version: Version
    description: str
    signer: Signer
    signature: str | None  # base64, developer-signed patches only


def decode_signature(value: object, field_name: str = "signature") -> bytes:
    """A base64 (standard or URL-safe) RSA signature.

    Raises:
        ValidationError: naming ``field_name``.
    """
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(field_name, "must be a base64 RSA-SHA256 signature of the file")
    text = value.strip()
    try:
        raw = base64.b64decode(
            text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4), validate=True
        )
    except (binascii.Error, ValueError):
        raise ValidationError(field_name, "must be base64 (the RSA-SHA256 signature of the file)") from None
    if not 64 <= len(raw) <= MAX_SIGNATURE_BYTES:
        raise ValidationError(field_name, f"is {len(raw)} bytes; an RSA signature is 256-2048 bytes")
    return raw


def parse_patch_spec(
    *, platform: object, app_version: object, description: object = None, signer: object = None,
    signature: object = None,
) -> PatchSpec:  # fmt: skip
    """Validate a new patch's fields.

    Raises:
        ValidationError: naming ``platform``, ``appVersion``, ``signer``, ``signature`` or ``description``.
    """
    parsed_platform = Platform.parse(platform)
    if parsed_platform is Platform.ALL:
        raise ValidationError("platform", "must be android or ios")
    if app_version in (None, ""):
        raise MissingParameter("appVersion")
    version = Version.parse(app_version, "appVersion")
    kind = Signer.parse(signer)
    text = None
    if kind is Signer.DEVELOPER:
        if signature in (None, ""):
            raise ValidationError(
                "signature",
                "is required for a developer-signed patch: the base64 RSA-SHA256 signature of the file",
            )
        decode_signature(signature)
        text = str(signature).strip()
    elif signature not in (None, ""):
        raise ValidationError(
            "signature", "only developer-signed patches carry a signature (MDS signs the rest)"
        )
    return PatchSpec(parsed_platform, version, check_text("description", description), kind, text)


def target_range(version: Version) -> VersionRange:
    """The client versions a patch is for: exactly its app version."""
    return VersionRange(version, version)


# ------------------------------------------------------------------------------------------ releases


@dataclass(frozen=True)
class Guardrail(ReleaseGuardrail):
    """The guardrail rule of every release (``domain.rollouts.Guardrail``), fed by apply reports (one
    per device and patch); hotpatch's wire form names the minimum ``minReports``."""

    def to_json(self) -> dict[str, int]:
        return {"failurePercent": self.failure_percent, "minReports": self.min_devices}

    @classmethod
    def parse(cls, value: object) -> Guardrail | None:
        """``{"failurePercent": 1-100, "minReports": 1-1000000 (default 20)}`` or None.

        Raises:
            ValidationError: naming ``guardrail.failurePercent`` / ``guardrail.minReports``.
        """
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise ValidationError("guardrail", "must be an object {failurePercent, minReports}")
        unknown = set(value) - {"failurePercent", "minReports"}
        if unknown:
            raise ValidationError(f"guardrail.{sorted(unknown)[0]}", "is not a known field")
        if "failurePercent" not in value:
            raise MissingParameter("guardrail.failurePercent")
        percent = _int_in("guardrail.failurePercent", value["failurePercent"], 1, 100)
        minimum = _int_in("guardrail.minReports", value.get("minReports", DEFAULT_MIN_REPORTS), 1, 1_000_000)
        return cls(percent, minimum)

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Guardrail | None:
        return None if not data else cls(int(data["failurePercent"]), int(data["minReports"]))


def _int_in(field_name: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationError(field_name, f"must be an integer from {low} to {high}")
    return value


@dataclass(frozen=True)
class PatchRelease:
    id: str
    patch_id: str
    release_type: ReleaseType
    target: Target
    state: TaskState
    created_at: str
    created_by: str
    updated_at: str
    guardrail: Guardrail | None = None
    description: str = ""
    paused_reason: str | None = None
    lock_version: int | None = None

    @property
    def kind(self) -> str:
        return "official" if self.release_type is ReleaseType.OFFICIAL else "whitelist"

    def is_live(self) -> bool:
        return self.state is not TaskState.ENDED

    def is_running(self) -> bool:
        return self.state is TaskState.RUNNING

    def pause(self, *, at: str, reason: str | None = None) -> PatchRelease:
        self._require(TaskState.RUNNING, "paused")
        return replace(self, state=TaskState.PAUSED, updated_at=at, paused_reason=reason)

    def resume(self, *, at: str) -> PatchRelease:
        self._require(TaskState.PAUSED, "continued")
        return replace(self, state=TaskState.RUNNING, updated_at=at, paused_reason=None)

    def end(self, *, at: str) -> PatchRelease:
        if self.state is TaskState.ENDED:
            raise Conflict(
                f"release {self.id} has ended; an ended release cannot be ended again", field="action"
            )
        return replace(self, state=TaskState.ENDED, updated_at=at)

    def _require(self, wanted: TaskState, verb: str) -> None:
        if self.state is TaskState.ENDED:
            raise Conflict(f"release {self.id} has ended; an ended release cannot be {verb}", field="action")
        if self.state is not wanted:
            raise Conflict(
                f"release {self.id} is {self.state.value}; only a {wanted.value} release can be {verb}",
                field="action",
            )


@dataclass(frozen=True)
class ReleaseInput:
    release_type: object
    whitelist_ids: Sequence[object] | None = None
    rules: Sequence[object] | None = None
    guardrail: object = None
    description: object = None


def new_release(
    patch: Patch, data: ReleaseInput, *, release_id: str, live_releases: int, at: str, by: str
) -> PatchRelease:
    """Validate a release of ``patch``.

    Raises:
        ValidationError: ``type``, ``whitelistIds``, ``rules[i]...``, ``guardrail.*``, ``description``.
        Conflict: the patch is not ready, was rolled back, or has ``MAX_LIVE_RELEASES`` live releases.
    """
    if patch.state is PatchState.ROLLED_BACK:
        raise Conflict(f"patch {patch.id} was rolled back; upload a new patch instead", field="patchId")
    if not patch.usable:
        raise Conflict(f"patch {patch.id} has no checked file yet; upload it first", field="patchId")
    if data.release_type in (None, ""):
        raise MissingParameter("type")
    kinds = {t.value: t for t in ReleaseType}
    if not isinstance(data.release_type, str) or data.release_type.strip().lower() not in kinds:
        raise ValidationError("type", "must be one of: gray, official")
    release_type = kinds[data.release_type.strip().lower()]
    whitelist_ids = list(data.whitelist_ids or [])
    if release_type is ReleaseType.GRAY and not whitelist_ids:
        raise ValidationError("whitelistIds", "a gray release needs at least one whitelist")
    if release_type is ReleaseType.OFFICIAL and whitelist_ids:
        raise ValidationError("whitelistIds", "only gray releases have whitelists")
    if release_type is ReleaseType.OFFICIAL and data.rules:
        raise ValidationError("rules", "advanced rules apply to gray releases only")
    target = parse_target(
        {
            "platform": patch.platform.value,
            "clientVersions": [target_range(patch.app_version).to_json()],
            "rules": list(data.rules or []),
            "whitelistIds": whitelist_ids,
        }
    )
    release = PatchRelease(
        id=release_id,
        patch_id=patch.id,
        release_type=release_type,
        target=target,
        state=TaskState.RUNNING,
        created_at=at,
        created_by=by,
        updated_at=at,
        guardrail=Guardrail.parse(data.guardrail),
        description=check_text("description", data.description),
    )
    if live_releases >= MAX_LIVE_RELEASES:
        raise Conflict(
            f"patch {patch.id} already has {live_releases} live releases "
            f"(at most {MAX_LIVE_RELEASES}); end one first",
            field="patchId",
        )
    return release


_KIND_RANK = {"official": 1, "whitelist": 0}


def priority_key(release: PatchRelease, patch: Patch) -> tuple[int, int, str, int]:
    """Sorts from lowest to highest priority: newer patch, then official > gray, then newer release."""
    return (int(patch.id), _KIND_RANK[release.kind], release.created_at, int(release.id))


def in_priority_order(pairs: Iterable[tuple[PatchRelease, Patch]]) -> list[tuple[PatchRelease, Patch]]:
    return sorted(pairs, key=lambda pair: priority_key(*pair), reverse=True)


# ----------------------------------------------------------------------------------- device payloads


def rollback_directive(patches: Iterable[Patch], app_version: Version) -> tuple[list[str], int]:
    """(revoked patch IDs of ``app_version``, the highest rollbackSeq among them; 0 if none)."""
    revoked = sorted(
        (p for p in patches if p.state is PatchState.ROLLED_BACK and p.app_version == app_version),
        key=lambda p: int(p.id),
    )
    return [p.id for p in revoked], max((p.rollback_seq or 0 for p in revoked), default=0)


def patch_payload(
    release: PatchRelease, patch: Patch, *, url: str, revoked: list[str], rollback_seq: int
) -> dict[str, Any]:
    """What a device is told when ``release`` is chosen (canonical JSON: no floats)."""
    file = present(patch.file, "a released patch's file")
    return {
        "patchId": patch.id,
        "releaseId": release.id,
        "appVersion": patch.app_version.text.strip(),
        "order": int(patch.id),  # a device never replaces a patch with a lower one unless it was revoked
        "path": file.path,
        "url": url,
        "filename": file.filename,
        "kind": file.kind,
        "size": file.size,
        "sha256": file.sha256,
        "signature": file.signature,
        "keyId": file.key_id,
        "signer": patch.signer.value,
        "revoked": list(revoked),
        "rollbackSeq": rollback_seq,
    }


def no_patch_payload(*, revoked: list[str], rollback_seq: int) -> dict[str, Any]:
    return {"patchId": None, "revoked": list(revoked), "rollbackSeq": rollback_seq}


# ------------------------------------------------------------------------------------- device reports


class Outcome(enum.StrEnum):
    APPLIED = "applied"
    FAILED = "failed"


@dataclass(frozen=True)
class Report:
    patch_id: str
    release_id: str | None
    outcome: Outcome
    reason: str


def parse_report(data: Mapping[str, Any]) -> Report:
    """A device's apply outcome: ``patchId``, ``outcome`` (applied | failed), ``reason`` (failed only,
    at most 500 characters), optional ``releaseId``.

    Raises:
        ValidationError: naming the field.
    """
    patch_id = data.get("patchId")
    if patch_id in (None, ""):
        raise MissingParameter("patchId")
    if not isinstance(patch_id, str) or not patch_id.isdigit():
        raise ValidationError("patchId", "must be a patch ID (digits)")
    release_id = data.get("releaseId")
    if release_id in (None, ""):
        release_id = None
    elif not isinstance(release_id, str) or not release_id.isdigit():
        raise ValidationError("releaseId", "must be a release ID (digits)")
    raw = data.get("outcome")
    if raw in (None, ""):
        raise MissingParameter("outcome")
    if raw not in tuple(o.value for o in Outcome):
        raise ValidationError("outcome", "must be applied or failed")
    outcome = Outcome(raw)
    reason = check_text("reason", data.get("reason"), limit=MAX_REASON)
    if outcome is Outcome.FAILED and not reason:
        raise ValidationError("reason", "is required when the outcome is failed")
    if outcome is Outcome.APPLIED and reason:
        raise ValidationError("reason", "only failed outcomes have a reason")
    return Report(patch_id, release_id, outcome, reason)
