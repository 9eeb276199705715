"""Version upgrades: release packages, release tasks, which task a device gets, and what it is told.

A **package** is one build of the app for one platform: an Android ``.apk``, or an iOS App Store link,
Enterprise ``.ipa`` or TestFlight public link. A **task** releases a package to some devices:

- ``official`` (everyone the task targets) or ``gray``: to one or more whitelists, or to the first N
  distinct users who ask before an end time (``timeWindow``);
- a mode the client shows it with: single reminder (202, respects the client's silent period),
  multiple reminders (204), forced (206);
- the client versions it upgrades (default: every version below the package's), and for gray tasks
  advanced rules (city, model, network, OS version — the rule engine's ``Target``).

Status is derived, never stored by hand: a task is stored ``running``/``paused``/``ended`` and is
*ended* from its end time on as well; a package's status follows from its tasks (``package_status``).
State changes go through ``UpgradeTask.pause/resume/end``, which refuse illegal moves (ended is terminal).

**Priority** when several live tasks match one device (``priority_key``, the only place it is encoded):
the higher package version wins; within one package official > whitelist gray > time-window gray;
among tasks of the same type, the most recently created. See docs/upgrade.md.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.errors import Conflict, MissingParameter, ValidationError
from chalicelib.domain.release_tasks import (
    KIND_RANK,
    Lifecycle,
    ReleaseType,
    TaskState,
    parse_time,
)
from chalicelib.domain.release_tasks import ReleaseStatus as PackageStatus  # noqa: F401
from chalicelib.domain.release_tasks import release_status as package_status  # noqa: F401
from chalicelib.domain.targeting import NETWORK_TOKENS, Platform, Target, normalize_network, parse_target
from chalicelib.domain.text import free_text
from chalicelib.domain.versions import Version, VersionRange

MAX_LIVE_TASKS = 10  # per package (mPaaS: "up to 10 release tasks ... concurrently")
DEFAULT_SILENT_DAYS = 3
MAX_SILENT_DAYS = 365
MAX_USERS_COUNT = 100_000_000
MAX_TEXT = 1000  # prompt message, descriptions
MAX_TESTFLIGHT_DAYS = 90  # Apple: a TestFlight build expires after 90 days
MAX_TESTFLIGHT_TESTERS = 10_000  # Apple: a public link admits at most 10,000 testers


# ----------------------------------------------------------------------------------------- packages


class Distribution(enum.StrEnum):
    """How a package reaches devices. Android has one way; iOS three."""

    APK = "apk"
    APP_STORE = "appStore"
    ENTERPRISE = "enterprise"
    TESTFLIGHT = "testFlight"

    @property
    def platform(self) -> Platform:
        return Platform.ANDROID if self is Distribution.APK else Platform.IOS

    @property
    def has_file(self) -> bool:
        """An uploaded installable file (APK, IPA) rather than a store link."""
        return self in (Distribution.APK, Distribution.ENTERPRISE)

    @property
    def has_store_url(self) -> bool:
        return self in (Distribution.APP_STORE, Distribution.TESTFLIGHT)

    @classmethod
    def parse(cls, value: object, platform: Platform) -> Distribution:
        """Android: ``apk`` (the default). iOS: ``appStore``, ``enterprise`` or ``testFlight`` (required).

        Raises:
            ValidationError: naming ``distribution``.
        """
        if value is None or value == "":
            if platform is Platform.ANDROID:
                return cls.APK
            raise MissingParameter("distribution")
        found = _DISTRIBUTIONS.get(str(value).strip().lower().replace("-", "").replace("_", ""))
        if found is None or found.platform is not platform:
            allowed = [d.value for d in cls if d.platform is platform]
            raise ValidationError(
                "distribution", f"must be one of: {', '.join(allowed)} for {platform.value}"
            )
        return found


_DISTRIBUTIONS = {d.value.lower(): d for d in Distribution}


@dataclass(frozen=True)
class StoredFile:
    """A file kept for a package: an exact S3 object version and what we measured of it."""

    object_key: str
    version_id: str | None
    filename: str
    size: int
    sha256: str
    md5: str = ""  # measured with the SHA-256; files kept before it was measured have none


@dataclass(frozen=True)
class UpgradePackage:
    id: str
    platform: Platform
    distribution: Distribution
    version: Version
    description: str
    download_key: str  # secret part of the in-app download link (bypasses the verification code)
    created_at: str
    created_by: str
    updated_at: str
    code_digest: str | None = None  # the download verification code, as a keyed digest
    store_url: str | None = None  # App Store address / TestFlight public link
    valid_days: int | None = None  # TestFlight
    tester_limit: int | None = None  # TestFlight
    bundle_id: str | None = None  # Enterprise
    file: StoredFile | None = None  # the APK / IPA in force
    file_error: str | None = None  # why the last uploaded file was refused
    pending_upload: str | None = None  # the upload ID a new file is expected from
    detected: Mapping[str, Any] | None = None  # what the file itself says (versionName, bundle ID...)
    warnings: tuple[str, ...] = ()
    icon: StoredFile | None = None
    symbols: StoredFile | None = None
    symbol_bundles: tuple[str, ...] = ()
    lock_version: int | None = None

    @property
    def usable(self) -> bool:
        """Can be released: store-link packages always, file packages once a valid file is in."""
        return not self.distribution.has_file or self.file is not None

    @property
    def verification_required(self) -> bool:
        return self.code_digest is not None

    @property
    def link_expires_at(self) -> int | None:
        """TestFlight: when the public link stops being offered (epoch seconds), ``validDays`` after the
        package was created (Apple counts a build's days from its upload); None for other kinds."""
        if self.distribution is not Distribution.TESTFLIGHT or self.valid_days is None:
            return None
        return parse_time("createdAt", self.created_at) + self.valid_days * 86_400

    def offered(self, now: int) -> bool:
        """Usable and, for TestFlight, its link not yet expired: what delivery may hand out."""
        expires = self.link_expires_at
        return self.usable and (expires is None or now < expires)

    @property
    def file_status(self) -> str:
        """``none`` (store link), ``ready``, ``failed`` (the last file was refused) or ``awaitingUpload``."""
        if not self.distribution.has_file:
            return "none"
        if self.file is not None:
            return "ready"
        return "failed" if self.file_error else "awaitingUpload"


_CODE = re.compile(r"^[A-Za-z0-9]{4,32}$")
_BUNDLE_ID = re.compile(r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_URL = re.compile(r"^(https|itms-apps|itms-beta)://[^\s/$.?#][^\s]*$", re.IGNORECASE)


def check_text(field_name: str, value: object, *, limit: int = MAX_TEXT) -> str:
    """Free text (descriptions, prompts): a string of at most ``limit`` characters, no control
    characters other than newlines and tabs."""
    return free_text(field_name, value, limit=limit)


def check_verification_code(value: object) -> str:
    if not isinstance(value, str) or not _CODE.match(value):
        raise ValidationError("verificationCode", "must be 4-32 letters or digits")
    return value


def _int_in(field_name: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationError(field_name, f"must be an integer from {low} to {high}")
    return value


@dataclass(frozen=True)
class PackageSpec:
    """What a person enters for a new package, validated (``parse_package_spec``)."""

    platform: Platform
    distribution: Distribution
    version: Version
    description: str
    verification_code: str | None
    store_url: str | None
    valid_days: int | None
    tester_limit: int | None
    bundle_id: str | None


def parse_package_spec(
    *,
    platform: object,
    distribution: object = None,
    version: object,
    description: object = None,
    verification_code: object = None,
    store_url: object = None,
    valid_days: object = None,
    tester_limit: object = None,
    bundle_id: object = None,
) -> PackageSpec:
    """Validate a new package's fields against its distribution.

    Raises:
        ValidationError: naming the field (``platform``, ``version``, ``storeUrl``, ``validDays``...).
    """
    parsed_platform = Platform.parse(platform)
    if parsed_platform is Platform.ALL:
        raise ValidationError("platform", "must be android or ios")
    kind = Distribution.parse(distribution, parsed_platform)
    if version is None or version == "":
        raise MissingParameter("version")
    parsed_version = Version.parse(version, "version")
    code = None
    if verification_code not in (None, ""):
        if not kind.has_file:
            raise ValidationError(
                "verificationCode", "only APK and Enterprise packages have a download link to protect"
            )
        code = check_verification_code(verification_code)
    url = check_store_url(kind, store_url)
    days = testers = None
    if kind is Distribution.TESTFLIGHT:
        if valid_days is None:
            raise MissingParameter("validDays")
        if tester_limit is None:
            raise MissingParameter("testerLimit")
        days = _int_in("validDays", valid_days, 1, MAX_TESTFLIGHT_DAYS)
        testers = _int_in("testerLimit", tester_limit, 1, MAX_TESTFLIGHT_TESTERS)
    else:
        for name, value in (("validDays", valid_days), ("testerLimit", tester_limit)):
            if value is not None:
                raise ValidationError(name, "only TestFlight packages have it")
    bundle = None
    if bundle_id not in (None, ""):
        if kind is not Distribution.ENTERPRISE:
            raise ValidationError("bundleId", "only Enterprise packages have it")
        if not isinstance(bundle_id, str) or len(bundle_id) > 155 or not _BUNDLE_ID.match(bundle_id):
            raise ValidationError("bundleId", "must be a reverse-DNS identifier, e.g. com.example.app")
        bundle = bundle_id
    return PackageSpec(
        platform=parsed_platform,
        distribution=kind,
        version=parsed_version,
        description=check_text("description", description),
        verification_code=code,
        store_url=url,
        valid_days=days,
        tester_limit=testers,
        bundle_id=bundle,
    )


def check_store_url(kind: Distribution, value: object) -> str | None:
    if not kind.has_store_url:
        if value not in (None, ""):
            raise ValidationError("storeUrl", "only App Store and TestFlight packages have a store URL")
        return None
    if value in (None, ""):
        raise MissingParameter("storeUrl")
    if not isinstance(value, str) or len(value) > 1024 or not _URL.match(value.strip()):
        raise ValidationError("storeUrl", "must be an https:// (or itms-apps://) address")
    return value.strip()


def file_warnings(package: UpgradePackage, detected: Mapping[str, Any]) -> tuple[str, ...]:
    """What the uploaded file says that contradicts what was entered (the file is still accepted)."""
    warnings = []
    if package.distribution is Distribution.APK:
        if detected.get("versionNameIsReference"):
            warnings.append("the APK's versionName is a resource reference; it was not compared")
        elif detected.get("versionName") is None:
            warnings.append("the APK's manifest has no versionName")
        elif not _same_version(detected["versionName"], package.version):
            warnings.append(
                f"the APK's versionName is {detected['versionName']}, not {package.version} as entered"
            )
    elif package.distribution is Distribution.ENTERPRISE:
        short = detected.get("shortVersion")
        if short is None:
            warnings.append("the app's Info.plist has no CFBundleShortVersionString")
        elif not _same_version(short, package.version):
            warnings.append(
                f"the app's CFBundleShortVersionString is {short}, not {package.version} as entered"
            )
        bundle = detected.get("bundleId")
        if package.bundle_id and bundle and bundle != package.bundle_id:
            warnings.append(f"the app's bundle ID is {bundle}, not {package.bundle_id} as entered")
    return tuple(warnings)


def _same_version(text: str, version: Version) -> bool:
    try:
        return Version.parse(text) == version
    except ValidationError:
        return False


def short_version(version: Version) -> str:
    """``upgradeShortVersion``: the first three parts as written (``9.9.0.0000001`` → ``9.9.0``)."""
    return ".".join(version.text.strip().split(".")[:3])


# -------------------------------------------------------------------------------------------- tasks


class GrayModel(enum.StrEnum):
    WHITELIST = "whitelist"
    TIME_WINDOW = "timeWindow"


class UpgradeMode(enum.IntEnum):
    """The client's ``resultStatus`` for each mode (203 and 205 are obsolete; 201 = up to date)."""

    SINGLE = 202
    MULTIPLE = 204
    FORCED = 206

    @classmethod
    def parse(cls, value: object) -> UpgradeMode:
        """``single``/``multiple``/``forced`` or the codes 202/204/206.

        Raises:
            ValidationError: naming ``mode``.
        """
        if isinstance(value, str):
            text = value.strip().lower()
            if text.isdigit():
                value = int(text)
            elif text.upper() in cls.__members__:
                return cls[text.upper()]
        if isinstance(value, int) and not isinstance(value, bool) and value in cls._value2member_map_:
            return cls(value)
        raise ValidationError("mode", "must be single (202), multiple (204) or forced (206)")


def _enum(cls: type[enum.StrEnum], field_name: str, value: object) -> Any:
    if value is None or value == "":
        raise MissingParameter(field_name)
    for member in cls:
        if isinstance(value, str) and member.value.lower() == value.strip().lower():
            return member
    raise ValidationError(field_name, "must be one of: " + ", ".join(m.value for m in cls))


def parse_net_types(value: object) -> str | None:
    """``needClientNetType``: comma-separated networks (``"4G, wifi"`` → ``"4G,WIFI"``), or None."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValidationError("needClientNetType", "must be a comma-separated text, e.g. 4G,WIFI")
    tokens: list[str] = []
    for part in value.split(","):
        token = normalize_network(part)
        if token not in NETWORK_TOKENS:
            raise ValidationError("needClientNetType", "each value must be one of: 2G, 3G, 4G, 5G, WIFI")
        if token.upper() not in tokens:
            tokens.append(token.upper())
    return ",".join(tokens)


@dataclass(frozen=True)
class UpgradeTask(Lifecycle):
    id: str
    package_id: str
    release_type: ReleaseType
    gray_model: GrayModel | None
    mode: UpgradeMode
    target: Target  # platform, client versions, rules, whitelist IDs
    guide_memo: str
    description: str
    state: TaskState
    created_at: str
    created_by: str
    updated_at: str
    end_time: int | None = None  # time window: epoch seconds
    users_count: int | None = None  # time window: how many distinct users may get it
    need_net_type: str | None = None
    silent_days: int | None = None  # single reminder
    lock_version: int | None = None

    @property
    def dynamic(self) -> bool:
        """Needs a server-side claim (the time-window quota)."""
        return self.gray_model is GrayModel.TIME_WINDOW

    @property
    def kind(self) -> str:
        """``official``, ``whitelist`` or ``timeWindow``: what the priority and the status look at."""
        return ReleaseType.OFFICIAL.value if self.gray_model is None else self.gray_model.value


@dataclass(frozen=True)
class TaskInput:
    """A new task as entered (console/API/CLI), before validation."""

    release_type: object
    mode: object
    gray_model: object = None
    whitelist_ids: Sequence[object] | None = None
    end_time: object = None
    users_count: object = None
    client_versions: Sequence[object] | None = None
    rules: Sequence[object] | None = None
    guide_memo: object = None
    description: object = None
    need_net_type: object = None
    silent_days: object = None


def new_task(
    package: UpgradePackage,
    data: TaskInput,
    *,
    task_id: str,
    live_tasks: int,
    now: int,
    at: str,
    by: str,
) -> UpgradeTask:
    """Validate a new task for ``package`` (which already has ``live_tasks`` live tasks).

    Raises:
        ValidationError: naming the field and the rule (``type``, ``grayModel``, ``mode``,
            ``whitelistIds``, ``endTime``, ``usersCount``, ``clientVersions[0].max``, ``rules[1].values``...).
        Conflict: the package has no usable file yet, or already has ``MAX_LIVE_TASKS`` live tasks.
    """
    if not package.usable:
        detail = f": {package.file_error}" if package.file_error else "; upload one first"
        raise Conflict(f"package {package.id} has no valid file{detail}", field="packageId")
    kind = package.distribution
    release_type = _enum(ReleaseType, "type", data.release_type)
    if release_type is ReleaseType.OFFICIAL and kind in (Distribution.TESTFLIGHT, Distribution.ENTERPRISE):
        raise ValidationError("type", f"{_label(kind)} packages are released gray only")
    gray_model: GrayModel | None = None
    if release_type is ReleaseType.GRAY:
        gray_model = _enum(GrayModel, "grayModel", data.gray_model)
        if kind is Distribution.ENTERPRISE and gray_model is not GrayModel.WHITELIST:
            raise ValidationError("grayModel", "Enterprise packages are released to whitelists only")
    elif data.gray_model not in (None, ""):
        raise ValidationError("grayModel", "only gray releases have a model")
    mode = UpgradeMode.parse(data.mode) if data.mode not in (None, "") else None
    if mode is None:
        raise MissingParameter("mode")
    if kind is Distribution.TESTFLIGHT and mode is UpgradeMode.FORCED:
        raise ValidationError("mode", "TestFlight packages take single or multiple reminders only")

    whitelist_ids = list(data.whitelist_ids or [])
    if gray_model is GrayModel.WHITELIST and not whitelist_ids:
        raise ValidationError("whitelistIds", "a whitelist gray release needs at least one whitelist")
    if gray_model is not GrayModel.WHITELIST and whitelist_ids:
        raise ValidationError("whitelistIds", "only whitelist gray releases have whitelists")

    end_time = users_count = None
    if gray_model is GrayModel.TIME_WINDOW:
        if data.end_time in (None, ""):
            raise MissingParameter("endTime")
        end_time = parse_time("endTime", data.end_time)
        if end_time <= now:
            raise ValidationError("endTime", "must be in the future")
        if data.users_count is None:
            raise MissingParameter("usersCount")
        users_count = _int_in("usersCount", data.users_count, 1, MAX_USERS_COUNT)
    else:
        for name, value in (("endTime", data.end_time), ("usersCount", data.users_count)):
            if value not in (None, ""):
                raise ValidationError(name, "only time-window gray releases have it")

    if release_type is ReleaseType.OFFICIAL and data.rules:
        raise ValidationError("rules", "advanced rules apply to gray releases only")
    below = VersionRange(None, package.version, max_inclusive=False)
    target = parse_target(
        {
            "platform": package.platform.value,
            "clientVersions": list(data.client_versions) if data.client_versions else [below.to_json()],
            "rules": list(data.rules or []),
            "whitelistIds": whitelist_ids,
        }
    )
    for i, r in enumerate(target.client_versions):
        if r.max is None or r.max > package.version or (r.max == package.version and r.max_inclusive):
            raise ValidationError(
                f"clientVersions[{i}]",
                f"must lie below the package version {package.version} (an upgrade goes up)",
            )

    testers = package.tester_limit or 0
    if kind is Distribution.TESTFLIGHT and users_count is not None and users_count > testers:
        raise ValidationError(
            "usersCount", f"must be at most the TestFlight link's tester limit ({package.tester_limit})"
        )
    expires = package.link_expires_at
    if expires is not None and now >= expires:
        raise Conflict(
            f"package {package.id}'s TestFlight link expired after {package.valid_days} days; "
            "raise validDays or add the new build",
            field="validDays",
        )

    silent_days = None
    if mode is UpgradeMode.SINGLE:
        silent_days = (
            DEFAULT_SILENT_DAYS
            if data.silent_days is None
            else _int_in("silentPeriodDays", data.silent_days, 1, MAX_SILENT_DAYS)
        )
    elif data.silent_days is not None:
        raise ValidationError("silentPeriodDays", "only single-reminder tasks have a silent period")

    task = UpgradeTask(
        id=task_id,
        package_id=package.id,
        release_type=release_type,
        gray_model=gray_model,
        mode=mode,
        target=target,
        guide_memo=check_text("guideMemo", data.guide_memo),
        description=check_text("description", data.description),
        state=TaskState.RUNNING,
        created_at=at,
        created_by=by,
        updated_at=at,
        end_time=end_time,
        users_count=users_count,
        need_net_type=parse_net_types(data.need_net_type),
        silent_days=silent_days,
    )
    if live_tasks >= MAX_LIVE_TASKS:
        raise Conflict(
            f"package {package.id} already has {live_tasks} live tasks (at most {MAX_LIVE_TASKS}); "
            "end one first",
            field="packageId",
        )
    return task


def check_tester_limit(package: UpgradePackage, whitelist_sizes: Sequence[int | None]) -> None:
    """A TestFlight whitelist task may reach at most the link's ``testerLimit`` users: the sizes of its
    whitelists (None: a regex list, which has no bounded size) must add up to no more.

    Raises:
        ValidationError: naming ``whitelistIds[i]`` (a regex list) or ``whitelistIds`` (too many users).
    """
    if package.distribution is not Distribution.TESTFLIGHT or not whitelist_sizes:
        return
    limit = package.tester_limit or 0
    for i, size in enumerate(whitelist_sizes):
        if size is None:
            raise ValidationError(
                f"whitelistIds[{i}]",
                f"a regex whitelist has no bounded size; TestFlight admits {limit} testers",
            )
    total = sum(s for s in whitelist_sizes if s is not None)
    if total > limit:
        raise ValidationError(
            "whitelistIds",
            f"the whitelists hold {total} users, more than the TestFlight tester limit ({limit})",
        )


def _label(kind: Distribution) -> str:
    return {Distribution.TESTFLIGHT: "TestFlight", Distribution.ENTERPRISE: "Enterprise"}.get(
        kind, kind.value
    )


# --------------------------------------------------------------------------------- status, priority


_KIND_RANK = KIND_RANK


def priority_key(task: UpgradeTask, package: UpgradePackage) -> tuple[Version, int, str, int]:
    """A key that sorts tasks from lowest to highest priority (sort with ``reverse=True``):

    1. the higher package version wins;
    2. within a package: official > whitelist gray > time-window gray;
    3. same type: the most recently created task (creation time, then the numeric ID, which only grows).
    """
    return (package.version, _KIND_RANK[task.kind], task.created_at, int(task.id))


def in_priority_order(
    pairs: Iterable[tuple[UpgradeTask, UpgradePackage]],
) -> list[tuple[UpgradeTask, UpgradePackage]]:
    """``(task, package)`` pairs, the one a device gets first when several match."""
    return sorted(pairs, key=lambda pair: priority_key(*pair), reverse=True)


# ----------------------------------------------------------------------------------- client answer

UP_TO_DATE = 201  # resultStatus when no task applies


def answer_payload(task: UpgradeTask, package: UpgradePackage, download_url: str) -> dict[str, Any]:
    """What the mPaaS client is told when ``task`` is chosen (the caller adds ``userId``)."""
    payload: dict[str, Any] = {
        "resultStatus": int(task.mode),
        "downloadURL": download_url,
        "guideMemo": task.guide_memo,
        "newestVersion": package.version.text.strip(),
        "upgradeShortVersion": short_version(package.version),
        "upgradeFullVersion": package.version.text.strip(),
        "needClientNetType": task.need_net_type or "",
        "taskId": task.id,
    }
    if task.mode is UpgradeMode.SINGLE:
        payload["silentPeriodDays"] = task.silent_days or DEFAULT_SILENT_DAYS
    if package.file is not None:  # what an SDK checks the downloaded APK / IPA against
        payload["fileSha256"] = package.file.sha256
        payload["fileSize"] = package.file.size
    return payload
