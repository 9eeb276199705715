"""H5 offline packages: H5 apps, their resource versions ("resources"), and the release tasks of those.

Rules (PRODUCT.md §2, user guide chapter 5, spec/mpaas-openapi-wire.md §6.1):

- An **H5 ID** is exactly 8 digits. The IDs built into the client SDK (20000196, 66666692, 68687029,
  68687209) are refused; IDs starting with ``666666`` or ``20000`` are accepted with a warning.
- An H5 app has one **resource type**, ``global`` or ``normal``, fixed at creation or by its first resource.
- A **resource** is one package version (unique per app) with client version ranges per platform written
  ``"<ios>;<android>"`` (``";1.0.0"`` = Android only; an empty max = no limit; for platform ``all`` both
  sides of the min are needed and the max has both sides or neither; min > max is refused), a main URL
  for normal packages (``^/[\\w /]+\\.html$``), extend info (a JSON object; ``asyncReqRate`` 0..86400 s),
  download network (0 Wi-Fi only / 1 any), install type (0 on open / 1 preload), ``repeatNebula`` (0/1,
  global only).
- A **task** releases one resource: ``official``, or ``gray`` to whitelists or to the first N users until an
  end time at most 7 days ahead (``time_window``), with advanced rules for gray. Lifecycle and priority
  ranks are the shared ones (``domain.release_tasks``): per H5 app the higher version wins, then official >
  whitelist gray > time-window gray, then the most recent task.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from chalicelib.domain.errors import Conflict, MissingParameter, ValidationError, present
from chalicelib.domain.release_tasks import KIND_RANK, Lifecycle, ReleaseType, TaskState, parse_time
from chalicelib.domain.targeting import Platform, Target, parse_target
from chalicelib.domain.text import free_text
from chalicelib.domain.versions import Version, VersionRange

RESERVED_IDS = frozenset({"20000196", "66666692", "68687029", "68687209"})
DISCOURAGED_PREFIXES = ("666666", "20000")
MAX_ASYNC_REQ_RATE = 86_400
MAX_WINDOW_SECONDS = 7 * 24 * 3600
MAX_USERS_COUNT = 100_000_000
MAX_NAME = 64
MAX_MEMO = 1000
MAX_EXTEND_INFO = 4096
MAX_LIVE_TASKS = 10  # per resource, as for upgrade packages
DEFAULT_FIRST_VERSION = "0.0.0.1"  # batch import: a new H5 app's first version

_H5_ID = re.compile(r"^[0-9]{8}$")
_MAIN_URL = re.compile(r"^/[\w /]+\.html$")
_VHOST = re.compile(r"^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$")


# ------------------------------------------------------------------------------------------ settings


def check_vhost(value: object) -> str:
    """A virtual host domain such as ``h5app.com`` (lower-cased; no scheme, port or path).

    Raises:
        ValidationError: naming ``vhost``.
    """
    if not isinstance(value, str) or not value.strip():
        raise MissingParameter("vhost")
    text = value.strip().lower()
    if not _VHOST.match(text) or text.split(".")[-1].isdigit():
        raise ValidationError("vhost", "must be a domain name such as h5app.com (no scheme, port or path)")
    return text


# ------------------------------------------------------------------------------------------- H5 apps


def check_h5_id(value: object, field_name: str = "h5Id") -> tuple[str, tuple[str, ...]]:
    """(the ID, warnings). Raises ValidationError naming ``field_name`` for a malformed or reserved ID."""
    if value is None or value == "":
        raise MissingParameter(field_name)
    text = str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""
    if not _H5_ID.match(text):
        raise ValidationError(field_name, "must be exactly 8 digits, e.g. 12345678")
    if text in RESERVED_IDS:
        raise ValidationError(
            field_name,
            f"{text} is built into the client SDK and cannot be used (reserved: "
            + ", ".join(sorted(RESERVED_IDS))
            + ")",
        )
    warnings = tuple(
        f"H5 IDs starting with {prefix} are discouraged (the client SDK uses that range)"
        for prefix in DISCOURAGED_PREFIXES
        if text.startswith(prefix)
    )
    return text, warnings


def check_text(field_name: str, value: object, *, limit: int, required: bool = False) -> str:
    """Short free text: a string of at most ``limit`` characters without control characters."""
    return free_text(field_name, value, limit=limit, required=required)


class ResourceType(enum.StrEnum):
    GLOBAL = "global"  # mPaaS ResourceType 0: shared resources under ID/<domain>/<appId>_<workspaceId>/
    NORMAL = "normal"  # mPaaS ResourceType 1 ("private"): ID/www/index.html

    @property
    def code(self) -> int:
        return 0 if self is ResourceType.GLOBAL else 1

    @classmethod
    def parse(cls, value: object, field_name: str = "resourceType") -> ResourceType:
        """``global``/``normal``, or the mPaaS codes 0 (global) / 1 (normal)."""
        if isinstance(value, bool):
            raise ValidationError(field_name, "must be global (0) or normal (1)")
        if isinstance(value, int) or (isinstance(value, str) and value.strip() in ("0", "1")):
            return cls.GLOBAL if int(value) == 0 else cls.NORMAL if int(value) == 1 else cls._bad(field_name)
        if isinstance(value, str):
            text = value.strip().lower()
            if text in ("private",):
                return cls.NORMAL
            for member in cls:
                if member.value == text:
                    return member
        return cls._bad(field_name)

    @staticmethod
    def _bad(field_name: str) -> ResourceType:
        raise ValidationError(field_name, "must be global (0) or normal (1)")


@dataclass(frozen=True)
class H5App:
    h5_id: str
    name: str
    resource_type: ResourceType | None  # None until the first resource fixes it
    created_at: str
    created_by: str
    updated_at: str
    lock_version: int | None = None


# ----------------------------------------------------------------------------------------- resources


def parse_platform(value: object) -> Platform:
    """``all``, ``android`` or ``ios`` (any case). Raises ValidationError naming ``platform``."""
    if value is None or value == "":
        raise MissingParameter("platform")
    return Platform.parse(value.strip() if isinstance(value, str) else value, "platform")


def _sides(field_name: str, value: object) -> tuple[str, str]:
    if value is None:
        return "", ""
    if not isinstance(value, str):
        raise ValidationError(field_name, 'must be "<ios>;<android>", e.g. "10.1.32;10.2.0"')
    text = value.strip()
    if not text:
        return "", ""
    if text.count(";") != 1:
        raise ValidationError(field_name, 'must be "<ios>;<android>" with one ";" (";1.0.0" = Android only)')
    ios, android = (side.strip() for side in text.split(";"))
    return ios, android


def parse_client_ranges(platform: Platform, minimum: object, maximum: object) -> dict[Platform, VersionRange]:
    """The client version range per platform the resource is for (inclusive; no max = no limit).

    Raises:
        ValidationError: naming ``clientVersionMin`` or ``clientVersionMax``.
    """
    lows = dict(zip((Platform.IOS, Platform.ANDROID), _sides("clientVersionMin", minimum), strict=True))
    highs = dict(zip((Platform.IOS, Platform.ANDROID), _sides("clientVersionMax", maximum), strict=True))
    wanted = (Platform.IOS, Platform.ANDROID) if platform is Platform.ALL else (platform,)
    if platform is Platform.ALL and bool(highs[Platform.IOS]) != bool(highs[Platform.ANDROID]):
        raise ValidationError(
            "clientVersionMax", "for platform all, give both sides (ios;android) or neither"
        )
    ranges: dict[Platform, VersionRange] = {}
    for p in wanted:
        if not lows[p]:
            raise ValidationError(
                "clientVersionMin", f'needs the {p.value} minimum ("<ios>;<android>", e.g. "10.1.32;10.2.0")'
            )
        low = Version.parse(lows[p], "clientVersionMin")
        high = Version.parse(highs[p], "clientVersionMax") if highs[p] else None
        if high is not None and high < low:
            raise ValidationError(
                "clientVersionMin", f"the {p.value} minimum {low} is higher than the maximum {high}"
            )
        ranges[p] = VersionRange(low, high)
    return ranges


def ranges_text(ranges: Mapping[Platform, VersionRange], side: str) -> str:
    """The ``"<ios>;<android>"`` form of the mins (``side="min"``) or maxes back."""

    def one(p: Platform) -> str:
        r = ranges.get(p)
        value = None if r is None else getattr(r, side)
        return "" if value is None else value.text

    text = f"{one(Platform.IOS)};{one(Platform.ANDROID)}"
    return "" if text == ";" else text


def check_main_url(value: object, resource_type: ResourceType) -> str:
    """Normal packages: the entry page, matching ``^/[\\w /]+\\.html$`` (e.g. ``/www/index.html``)."""
    if value is None or value == "":
        if resource_type is ResourceType.NORMAL:
            raise MissingParameter("mainUrl")
        return ""
    if not isinstance(value, str) or len(value) > 256 or not _MAIN_URL.match(value):
        raise ValidationError("mainUrl", r"must match ^/[\w /]+\.html$, e.g. /www/index.html")
    return value


def parse_extend_info(value: object) -> str:
    """Extend info as canonical JSON object text (``""`` when none); ``asyncReqRate`` 0..86400 seconds.

    Raises:
        ValidationError: naming ``extendInfo`` or ``extendInfo.asyncReqRate``.
    """
    if value is None or value == "" or value == {}:
        return ""
    data: Any = value
    if isinstance(value, str):
        if len(value) > MAX_EXTEND_INFO:
            raise ValidationError("extendInfo", f"must be at most {MAX_EXTEND_INFO} characters")
        try:
            data = json.loads(value)
        except ValueError:
            raise ValidationError(
                "extendInfo", 'must be a JSON object, e.g. {"asyncReqRate": 1800}'
            ) from None
    if not isinstance(data, dict):
        raise ValidationError("extendInfo", 'must be a JSON object, e.g. {"asyncReqRate": 1800}')
    if "asyncReqRate" in data:
        rate = data["asyncReqRate"]
        if isinstance(rate, str) and rate.strip().isdigit():
            rate = int(rate.strip())
        if isinstance(rate, bool) or not isinstance(rate, int) or not 0 <= rate <= MAX_ASYNC_REQ_RATE:
            raise ValidationError(
                "extendInfo.asyncReqRate",
                f"must be an integer number of seconds from 0 to {MAX_ASYNC_REQ_RATE}",
            )
        data = {**data, "asyncReqRate": rate}
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    if len(text) > MAX_EXTEND_INFO:
        raise ValidationError("extendInfo", f"must be at most {MAX_EXTEND_INFO} characters")
    return text


def _flag(field_name: str, value: object, default: int, meaning: str) -> int:
    if value is None or value == "":
        return default
    if isinstance(value, str) and value.strip() in ("0", "1"):
        return int(value.strip())
    if isinstance(value, bool) or value not in (0, 1):
        raise ValidationError(field_name, f"must be 0 or 1 ({meaning})")
    return int(value)


@dataclass(frozen=True)
class ResourceSpec:
    """A new resource's fields, validated (``parse_resource_spec``)."""

    h5_id: str
    h5_name: str
    version: Version
    platform: Platform
    client_ranges: Mapping[Platform, VersionRange]
    main_url: str
    extend_info: str
    resource_type: ResourceType
    download_network: int
    install_type: int
    repeat_nebula: int
    vhost: str


SPEC_KEYS = frozenset(
    {
        "h5Id", "h5Name", "version", "platform", "clientVersionMin", "clientVersionMax", "mainUrl",
        "extendInfo", "resourceType", "downloadNetwork", "installType", "repeatNebula", "vhost",
    }
)  # fmt: skip


def parse_resource_spec(
    spec: Mapping[str, Any], *, app: H5App | None, configured_vhost: str | None
) -> ResourceSpec:
    """Validate a resource's fields against its H5 app (None: the app is created with it) and the
    tenant's vhost.

    Raises:
        ValidationError: naming the field (camelCase, as in ``SPEC_KEYS``).
        Conflict: a resource type other than the app's (``field: resourceType``).
    """
    unknown = sorted(set(spec) - SPEC_KEYS)
    if unknown:
        raise ValidationError(unknown[0], "unknown field")
    h5_id, _ = check_h5_id(spec.get("h5Id"))
    if app is not None and app.h5_id != h5_id:
        raise ValidationError("h5Id", f"must be {app.h5_id}")
    name = check_text("h5Name", spec.get("h5Name"), limit=MAX_NAME) or (app.name if app else "")
    if not name:
        raise MissingParameter("h5Name")
    if spec.get("version") in (None, ""):
        raise MissingParameter("version")
    version = Version.parse(spec["version"], "version")
    platform = parse_platform(spec.get("platform"))
    ranges = parse_client_ranges(platform, spec.get("clientVersionMin"), spec.get("clientVersionMax"))
    fixed = app.resource_type if app is not None else None
    raw_type = spec.get("resourceType")
    if raw_type is None or raw_type == "":
        if fixed is None:
            raise MissingParameter("resourceType")
        resource_type = fixed
    else:
        resource_type = ResourceType.parse(raw_type)
    if fixed is not None and resource_type is not fixed:
        raise Conflict(
            f"H5 app {h5_id} holds {fixed.value} packages; "
            f"its resource type cannot change to {resource_type.value}",
            field="resourceType",
        )
    main_url = check_main_url(spec.get("mainUrl"), resource_type)
    extend_info = parse_extend_info(spec.get("extendInfo"))
    download_network = _flag("downloadNetwork", spec.get("downloadNetwork"), 1, "0 Wi-Fi only, 1 any network")
    install_type = _flag("installType", spec.get("installType"), 0, "0 install on open, 1 preload")
    repeat_nebula = _flag("repeatNebula", spec.get("repeatNebula"), 0, "0 or 1")
    if resource_type is ResourceType.NORMAL:
        repeat_nebula = 0  # only global packages have it (mPaaS tools send it anyway)
    if not configured_vhost:
        raise Conflict("configure the H5 vhost first (settings)", field="vhost")
    vhost = spec.get("vhost")
    if vhost not in (None, "") and check_vhost(vhost) != configured_vhost:
        raise ValidationError("vhost", f"must be the configured vhost {configured_vhost}")
    return ResourceSpec(
        h5_id=h5_id,
        h5_name=name,
        version=version,
        platform=platform,
        client_ranges=ranges,
        main_url=main_url,
        extend_info=extend_info,
        resource_type=resource_type,
        download_network=download_network,
        install_type=install_type,
        repeat_nebula=repeat_nebula,
        vhost=configured_vhost,
    )


class ResourceStatus(enum.StrEnum):
    UPLOADING = "uploading"  # created, waiting for the zip
    PROCESSING = "processing"  # the zip arrived and is being turned into an .amr
    READY = "ready"
    FAILED = "failed"


@dataclass(frozen=True)
class PackageFiles:
    """What processing produced: where the .amr and h5.json live and what was measured."""

    amr_key: str  # in the artifacts bucket (private: export, re-publication)
    h5json_key: str
    cdn_prefix: str  # in the delivery bucket, served by the CDN: an unguessable folder per version
    size: int
    sha256: str
    md5: str
    key_id: str  # the RSA key the .amr is signed with

    @property
    def amr_name(self) -> str:
        return self.amr_key.rsplit("/", 1)[-1]

    @property
    def cdn_amr(self) -> str:
        return self.cdn_prefix + self.amr_name

    @property
    def cdn_h5json(self) -> str:
        return self.cdn_prefix + "h5.json"


@dataclass(frozen=True)
class H5Resource:
    id: str
    h5_id: str
    h5_name: str
    version: Version
    platform: Platform
    client_ranges: Mapping[Platform, VersionRange]
    main_url: str
    extend_info: str
    resource_type: ResourceType
    download_network: int
    install_type: int
    repeat_nebula: int
    vhost: str
    status: ResourceStatus
    created_at: str
    created_by: str
    updated_at: str
    updated_by: str
    failure: str | None = None
    upload_id: str | None = None
    files: PackageFiles | None = None
    descriptor: Mapping[str, Any] = field(default_factory=dict)  # the h5.json content
    cdn_prefix: str = ""  # where its files go in the delivery bucket (unguessable, fixed at creation)
    source_sha256: str | None = None  # batch import: the inner zip it came from (re-runs find it)
    diff: Mapping[str, Any] | None = None  # a diff package from the previous released version, if built
    on_cdn: bool = True  # its files are in the delivery bucket (False once every task has ended)
    lock_version: int | None = None

    @property
    def platforms(self) -> tuple[Platform, ...]:
        return tuple(self.client_ranges)


def resource_from_spec(
    spec: ResourceSpec,
    *,
    resource_id: str,
    status: ResourceStatus,
    at: str,
    by: str,
    upload_id: str | None,
    cdn_prefix: str,
) -> H5Resource:
    entered = {f.name: getattr(spec, f.name) for f in fields(ResourceSpec)}  # every spec field, as is
    return H5Resource(
        **{**entered, "client_ranges": dict(spec.client_ranges)},
        id=resource_id,
        status=status,
        created_at=at,
        created_by=by,
        updated_at=at,
        updated_by=by,
        upload_id=upload_id,
        cdn_prefix=cdn_prefix,
    )


def next_version(existing: Iterable[Version]) -> str:
    """Batch import's default version: ``0.0.0.1`` for an app without versions, else the highest
    version + 1 in its last numeric part (``1.0.0.9`` → ``1.0.0.10``)."""
    versions = list(existing)
    if not versions:
        return DEFAULT_FIRST_VERSION
    parts = max(versions).text.strip().split(".")
    last = parts[-1]
    digits = re.match(r"[0-9]*", last).group(0)  # type: ignore[union-attr]
    parts[-1] = str(int(digits or "0") + 1)
    return ".".join(parts)


# ---------------------------------------------------------------------------------------------- tasks


class GrayModel(enum.StrEnum):
    WHITELIST = "whitelist"
    TIME_WINDOW = "time_window"

    @classmethod
    def parse(cls, value: object) -> GrayModel:
        if value is None or value == "":
            raise MissingParameter("grayModel")
        text = str(value).strip().lower().replace("-", "_")
        aliases = {"whitelist": cls.WHITELIST, "1": cls.WHITELIST, "time_window": cls.TIME_WINDOW,
                   "timewindow": cls.TIME_WINDOW, "2": cls.TIME_WINDOW}  # fmt: skip
        if text not in aliases:
            raise ValidationError("grayModel", "must be whitelist (1) or time_window (2)")
        return aliases[text]


def parse_release_type(value: object) -> ReleaseType:
    """``gray``/``official``, or the mPaaS PublishType codes 2 (gray) / 3 (official)."""
    if value is None or value == "":
        raise MissingParameter("type")
    text = str(value).strip().lower()
    found = {"gray": ReleaseType.GRAY, "grey": ReleaseType.GRAY, "2": ReleaseType.GRAY,
             "official": ReleaseType.OFFICIAL, "3": ReleaseType.OFFICIAL}.get(text)  # fmt: skip
    if found is None or isinstance(value, bool):
        raise ValidationError("type", "must be gray (2) or official (3)")
    return found


@dataclass(frozen=True)
class H5Task(Lifecycle):
    id: str
    resource_id: str
    h5_id: str
    version: Version
    release_type: ReleaseType
    gray_model: GrayModel | None
    target: Target  # rules and whitelist IDs (the client ranges come from the resource)
    memo: str
    name: str
    state: TaskState
    created_at: str
    created_by: str
    updated_at: str
    end_time: int | None = None
    users_count: int | None = None
    lock_version: int | None = None

    @property
    def dynamic(self) -> bool:
        return self.gray_model is GrayModel.TIME_WINDOW

    @property
    def kind(self) -> str:
        """``official``, ``whitelist`` or ``timeWindow`` (the shared priority ranks)."""
        if self.gray_model is None:
            return "official"
        return "whitelist" if self.gray_model is GrayModel.WHITELIST else "timeWindow"


def new_task(
    resource: H5Resource,
    data: Mapping[str, Any],
    *,
    task_id: str,
    live_tasks: int,
    now: int,
    at: str,
    by: str,
) -> H5Task:
    """Validate a release task for ``resource``.

    ``data``: ``type`` gray|official, ``grayModel`` whitelist|time_window, ``whitelistIds``, ``endTime``
    (ISO-8601 or ``YYYY-MM-DD hh:mm:ss`` UTC, or epoch seconds; within 7 days), ``usersCount``, ``rules``
    (the rule engine's rule JSON), ``memo``, ``name``.

    Raises:
        ValidationError: naming the field; Conflict: the resource is not ready, or has 10 live tasks.
    """
    known = {"type", "grayModel", "whitelistIds", "endTime", "usersCount", "rules", "memo", "name"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValidationError(unknown[0], "unknown field")
    if resource.status is not ResourceStatus.READY:
        detail = f": {resource.failure}" if resource.failure else ""
        raise Conflict(
            f"resource {resource.id} is {resource.status.value}{detail}; "
            "only a ready package can be released",
            field="resourceId",
        )
    release_type = parse_release_type(data.get("type"))
    gray_model = None
    if release_type is ReleaseType.GRAY:
        gray_model = GrayModel.parse(data.get("grayModel"))
    elif data.get("grayModel") not in (None, "", 0):
        raise ValidationError("grayModel", "only gray releases have a model")
    raw_ids = data.get("whitelistIds") or []
    if isinstance(raw_ids, str | int) and not isinstance(raw_ids, bool):  # mPaaS: "12,34"
        raw_ids = [part.strip() for part in str(raw_ids).split(",") if part.strip()]
    if not isinstance(raw_ids, list | tuple):
        raise ValidationError("whitelistIds", "must be a list of whitelist IDs (or a comma-separated text)")
    whitelist_ids = list(raw_ids)
    if gray_model is GrayModel.WHITELIST and not whitelist_ids:
        raise ValidationError("whitelistIds", "a whitelist gray release needs at least one whitelist")
    if gray_model is not GrayModel.WHITELIST and whitelist_ids:
        raise ValidationError("whitelistIds", "only whitelist gray releases have whitelists")
    end_time = users_count = None
    if gray_model is GrayModel.TIME_WINDOW:
        if data.get("endTime") in (None, ""):
            raise MissingParameter("endTime")
        end_time = parse_time("endTime", data["endTime"])
        if end_time <= now:
            raise ValidationError("endTime", "must be in the future")
        if end_time > now + MAX_WINDOW_SECONDS:
            raise ValidationError("endTime", "must be within 7 days from now")
        count = data.get("usersCount")
        if count is None or count == "":
            raise MissingParameter("usersCount")
        if isinstance(count, str) and count.strip().isdigit():
            count = int(count)
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_USERS_COUNT:
            raise ValidationError("usersCount", f"must be an integer from 1 to {MAX_USERS_COUNT}")
        users_count = count
    else:
        for name in ("endTime", "usersCount"):
            if data.get(name) not in (None, "", 0):
                raise ValidationError(name, "only time-window gray releases have it")
    rules = list(data.get("rules") or [])
    if release_type is ReleaseType.OFFICIAL and rules:
        raise ValidationError("rules", "advanced rules apply to gray releases only")
    target = parse_target({"rules": rules, "whitelistIds": [str(w) for w in whitelist_ids]})
    if live_tasks >= MAX_LIVE_TASKS:
        raise Conflict(
            f"resource {resource.id} already has {live_tasks} live tasks "
            f"(at most {MAX_LIVE_TASKS}); end one first",
            field="resourceId",
        )
    return H5Task(
        id=task_id,
        resource_id=resource.id,
        h5_id=resource.h5_id,
        version=resource.version,
        release_type=release_type,
        gray_model=gray_model,
        target=target,
        memo=check_text("memo", data.get("memo"), limit=MAX_MEMO),
        name=check_text("name", data.get("name"), limit=MAX_NAME),
        state=TaskState.RUNNING,
        created_at=at,
        created_by=by,
        updated_at=at,
        end_time=end_time,
        users_count=users_count,
    )


def device_target(task: H5Task, resource: H5Resource, platform: Platform) -> Target | None:
    """What a device of ``platform`` must match to get ``task``: the resource's client range for that
    platform plus the task's rules and whitelists; None when the resource is not for that platform."""
    client_range = resource.client_ranges.get(platform)
    if client_range is None:
        return None
    return Target(
        platform=platform,
        client_versions=(client_range,),
        rules=task.target.rules,
        whitelist_ids=task.target.whitelist_ids,
    )


def priority_key(task: H5Task) -> tuple[Version, int, str, int]:
    """Sorts tasks of one H5 app from lowest to highest priority (sort with ``reverse=True``):
    higher version, then official > whitelist gray > time-window gray, then the most recent."""
    return (task.version, KIND_RANK[task.kind], task.created_at, int(task.id))


def in_priority_order(tasks: Sequence[H5Task]) -> list[H5Task]:
    return sorted(tasks, key=priority_key, reverse=True)


def diff_base(
    resource: H5Resource, candidates: Iterable[H5Resource], released: set[str]
) -> H5Resource | None:
    """The version a diff package for ``resource`` starts from: the highest lower version of the same app
    that is ready and has been released (has or had a task), i.e. what devices most likely hold."""
    lower = [
        r
        for r in candidates
        if r.h5_id == resource.h5_id
        and r.id != resource.id
        and r.id in released
        and r.status is ResourceStatus.READY
        and r.files is not None
        and r.version < resource.version
    ]
    return max(lower, key=lambda r: r.version) if lower else None


def payload(
    resource: H5Resource, task: H5Task, *, amr_url: str, h5json_url: str, diff_url: str | None = None
) -> dict[str, Any]:
    """What a device is told for the chosen version of one H5 app (``diff``: only the files changed since
    ``baseVersion``, for devices that have that version installed)."""
    files = present(resource.files, "the files of a delivered (ready) resource")
    extra: dict[str, Any] = {}
    if resource.diff and diff_url:
        extra["diff"] = {
            "baseVersion": resource.diff["baseVersion"],
            "url": diff_url,
            "sha256": resource.diff["sha256"],
            "size": resource.diff["size"],
        }
    return {
        **extra,
        "h5Id": resource.h5_id,
        "h5Name": resource.h5_name,
        "version": resource.version.text,
        "resourceId": resource.id,
        "taskId": task.id,
        "amrUrl": amr_url,
        "h5JsonUrl": h5json_url,
        "sha256": files.sha256,
        "md5": files.md5,
        "size": files.size,
        "keyId": files.key_id,
        "vhost": resource.vhost,
        "mainUrl": resource.main_url,
        "resourceType": resource.resource_type.value,
        "extendInfo": resource.extend_info,
        "downloadNetwork": resource.download_network,
        "installType": resource.install_type,
    }
