"""Request bodies of the console API: camelCase on the wire, strict types, no unknown fields."""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticError
from pydantic.alias_generators import to_camel

from chalicelib.domain.errors import ValidationError

M = TypeVar("M", bound=BaseModel)

_RULES = {
    "missing": "is required",
    "extra_forbidden": "is not a known field",
    "string_type": "must be a string",
    "int_type": "must be an integer",
    "bool_type": "must be a boolean",
    "dict_type": "must be an object",
    "list_type": "must be an array",
}


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, alias_generator=to_camel, frozen=True)


def validate(model: type[M], data: dict[str, Any]) -> M:
    """Raises ValidationError naming the first offending field (dotted path) and its rule."""
    try:
        return model.model_validate(data)
    except PydanticError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "body"
        raise ValidationError(field, _RULES.get(first["type"], first["msg"])) from None


class LoginBody(Body):
    username: str
    password: str


class CreateWorkspaceBody(Body):
    app_id: str
    workspace_id: str
    name: str


class UpdateWorkspaceBody(Body):
    time_zone: str


class CreateUserBody(Body):
    username: str
    password: str
    role: str


class ChangeRoleBody(Body):
    role: str
    version: int | None = None


class CreateAccessKeyBody(Body):
    role: str
    description: str = ""


class CreateUploadBody(Body):
    purpose: str
    filename: str


class CreateWhitelistBody(Body):
    name: str
    kind: str = Field(alias="type")
    ids: str | None = None
    patterns: list[str] | None = None


class UpdateWhitelistBody(Body):
    name: str | None = None
    patterns: list[str] | None = None
    version: int | None = None


class MembersBody(Body):
    ids: str


class ImportBody(Body):
    filename: str


class CreateReleaseRuleBody(Body):
    kind: str = Field(alias="type")
    platform: str
    name: str
    value: str


class UpdateReleaseRuleBody(Body):
    kind: str | None = Field(default=None, alias="type")
    platform: str | None = None
    name: str | None = None
    value: str | None = None
    version: int | None = None


class BatchDeleteBody(Body):
    rule_ids: list[str]


class CheckBody(Body):
    """A device's context, as the reference client and the SDKs send it."""

    app_id: str
    workspace_id: str
    platform: str
    client_version: str | None = None
    user_id: str | None = None
    device_id: str | None = None
    os_version: str | None = None
    model: str | None = None
    city: str | None = None
    net_type: str | None = None
    channel: str | None = None
    protocol: Literal[1, 2] | None = None  # 2: the client keeps time-window grants (docs/delivery.md)


class DeliverySettingsBody(Body):
    poll_seconds: Any  # checked by the domain (domain.manifests.check_poll_seconds): one rule, one message


class CreateUpgradePackageBody(Body):
    platform: str
    version: str
    distribution: str | None = None
    description: str | None = None
    verification_code: str | None = None
    store_url: str | None = None
    valid_days: int | None = None
    tester_limit: int | None = None
    bundle_id: str | None = None
    filename: str | None = None


class UpdateUpgradePackageBody(Body):
    description: str | None = None
    verification_code: str | None = None  # "" removes it
    store_url: str | None = None
    valid_days: int | None = None
    tester_limit: int | None = None
    bundle_id: str | None = None
    revision: int | None = None


class PackageUploadBody(Body):
    kind: str = "package"  # package | icon | symbols
    filename: str


class CreateUpgradeTaskBody(Body):
    release_type: str = Field(alias="type")
    mode: str | int
    gray_model: str | None = None
    whitelist_ids: list[str | int] | None = None
    end_time: str | int | None = None
    users_count: int | None = None
    client_versions: list[dict[str, Any] | str] | None = None
    rules: list[dict[str, Any]] | None = None
    guide_memo: str | None = None
    description: str | None = None
    need_client_net_type: str | None = None
    silent_period_days: int | None = None


class UpdateUpgradeTaskBody(Body):
    """Fields left out keep their value; ``type`` and ``grayModel`` are accepted only unchanged."""

    release_type: str | None = Field(default=None, alias="type")
    mode: str | int | None = None
    gray_model: str | None = None
    whitelist_ids: list[str | int] | None = None
    end_time: str | int | None = None
    users_count: int | None = None
    client_versions: list[dict[str, Any] | str] | None = None
    rules: list[dict[str, Any]] | None = None
    guide_memo: str | None = None
    description: str | None = None
    need_client_net_type: str | None = None
    silent_period_days: int | None = None
    revision: int | None = None


class TaskStatusBody(Body):
    action: str
    revision: int | None = None
