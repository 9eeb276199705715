"""PynamoDB models. Table names come from settings at call time (``<stack>-<Logical>``), and
key schemas must match ``infra/template.json`` (a test compares them)."""

from __future__ import annotations

from typing import cast

from pynamodb.attributes import (
    BinaryAttribute,
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import MetaProtocol, Model

from chalicelib.config import settings


class _TableName:
    """Resolves ``Meta.table_name`` on every access, so the stack name is read from settings at
    call time (PynamoDB rebuilds its connection when the name changes)."""

    def __init__(self, logical: str) -> None:
        self.logical = logical

    def __get__(self, obj: object, owner: type | None = None) -> str:
        return settings().table_name(self.logical)


def _meta(logical: str) -> MetaProtocol:
    """A model's ``Meta``; PynamoDB fills in the settings not given here when it builds the model."""
    return cast(MetaProtocol, type("Meta", (), {"table_name": _TableName(logical), "max_retry_attempts": 3}))


class TenantModel(Model):
    Meta = _meta("Tenants")
    tenant = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    created_at = UnicodeAttribute()
    created_by = UnicodeAttribute()
    time_zone = UnicodeAttribute(null=True)  # None: the default zone (domain/time_zones.py)
    version = VersionAttribute()


class UserModel(Model):
    Meta = _meta("Users")
    username = UnicodeAttribute(hash_key=True)
    password_hash = UnicodeAttribute()
    is_superuser = BooleanAttribute(default=False)
    created_at = UnicodeAttribute()
    created_by = UnicodeAttribute()
    version = VersionAttribute()


class MembershipsByUser(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_user"
        projection = AllProjection()

    username = UnicodeAttribute(hash_key=True)
    tenant = UnicodeAttribute(range_key=True)


class MembershipModel(Model):
    Meta = _meta("Memberships")
    tenant = UnicodeAttribute(hash_key=True)
    username = UnicodeAttribute(range_key=True)
    role = UnicodeAttribute()
    created_at = UnicodeAttribute()
    created_by = UnicodeAttribute()
    version = VersionAttribute()
    by_user = MembershipsByUser()


class AccessKeysByTenant(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_tenant"
        projection = AllProjection()

    tenant = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class AccessKeyModel(Model):
    Meta = _meta("AccessKeys")
    access_key_id = UnicodeAttribute(hash_key=True)
    tenant = UnicodeAttribute()
    role = UnicodeAttribute()
    description = UnicodeAttribute(default="")
    secret_sealed = BinaryAttribute(legacy_encoding=False)
    status = UnicodeAttribute()
    created_at = UnicodeAttribute()
    created_by = UnicodeAttribute()
    revoked_at = UnicodeAttribute(null=True)
    version = VersionAttribute()
    by_tenant = AccessKeysByTenant()


class AuditModel(Model):
    Meta = _meta("Audit")
    tenant = UnicodeAttribute(hash_key=True)
    entry_id = UnicodeAttribute(range_key=True)  # "<ISO time>#<request id>#<n>": sorts by time
    at = UnicodeAttribute()
    actor = UnicodeAttribute()
    action = UnicodeAttribute()
    entity_type = UnicodeAttribute()
    entity_id = UnicodeAttribute()
    outcome = UnicodeAttribute()
    request_id = UnicodeAttribute()
    source_ip = UnicodeAttribute(null=True)
    detail = UnicodeAttribute(null=True)
    before = JSONAttribute(null=True)
    after = JSONAttribute(null=True)


class UploadModel(Model):
    Meta = _meta("Uploads")
    tenant = UnicodeAttribute(hash_key=True)
    upload_id = UnicodeAttribute(range_key=True)
    purpose = UnicodeAttribute()
    filename = UnicodeAttribute()
    object_key = UnicodeAttribute()
    max_bytes = NumberAttribute()
    status = UnicodeAttribute()
    created_at = UnicodeAttribute()
    created_by = UnicodeAttribute()
    size = NumberAttribute(null=True)
    etag = UnicodeAttribute(null=True)
    received_at = UnicodeAttribute(null=True)
    error = UnicodeAttribute(null=True)
    subject = UnicodeAttribute(null=True)  # the entity the file is for, e.g. a whitelist ID
    result = JSONAttribute(null=True)  # what processing reported (counts, rejected lines)
    version = VersionAttribute()


class EphemeralModel(Model):
    """Short-lived facts: seen request nonces, rate-limit event logs. DynamoDB TTL removes them."""

    Meta = _meta("Ephemeral")
    key = UnicodeAttribute(hash_key=True)
    hits = NumberAttribute(default=0, attr_name="count")  # not ``count``: that is Model.count()
    # a rate limit's sliding log (pynamodb types of= as the element type; these elements are numbers)
    times: ListAttribute[float] = ListAttribute(of=NumberAttribute, null=True)  # type: ignore[arg-type]
    revision = NumberAttribute(null=True)  # the log's optimistic lock
    expires_at = TTLAttribute()


class MetricModel(Model):
    """Device-event reach (chalicelib/domain/events.py): under ``<tenant>#<release>#<shard>``, counters
    (``n#<stage>#<day>#<platform>#<clientVersion>#<detail>``) and the facts already counted
    (``seen#<stage>#<detail>#<device hash>``, kept ``FACT_TTL_DAYS``)."""

    Meta = _meta("Metrics")
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    devices = NumberAttribute(default=0)
    expires_at = TTLAttribute(null=True)


class RolloutPlanModel(Model):
    """A progressive rollout plan (chalicelib/domain/rollouts.py) under ``rollout#<tenant>#<release>``
    in the Tenants table: few items, so the scheduler can find every plan with one scan."""

    Meta = _meta("Tenants")
    tenant = UnicodeAttribute(hash_key=True)
    plan = JSONAttribute()
    version = VersionAttribute()


class SequenceModel(Model):
    """Per-tenant counters for the numeric IDs mPaaS clients expect (whitelists, rules, ...).
    Lives in the Tenants table under ``seq#<tenant>`` keys."""

    Meta = _meta("Tenants")
    tenant = UnicodeAttribute(hash_key=True)
    value = NumberAttribute(default=0)


class WhitelistModel(Model):
    Meta = _meta("Whitelists")
    tenant = UnicodeAttribute(hash_key=True)
    whitelist_id = UnicodeAttribute(range_key=True)  # numeric text; "name#<lower name>" for name guards
    name = UnicodeAttribute()
    kind = UnicodeAttribute(null=True)
    member_count = NumberAttribute(default=0, attr_name="count")  # not ``count``: that is Model.count()
    content_version = UnicodeAttribute(null=True)  # S3 VersionId of the member list now in force
    patterns = JSONAttribute(null=True)
    salt = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute(null=True)
    created_by = UnicodeAttribute(null=True)
    updated_at = UnicodeAttribute(null=True)
    version = VersionAttribute()


class ReleaseRuleModel(Model):
    Meta = _meta("ReleaseRules")
    tenant = UnicodeAttribute(hash_key=True)
    rule_id = UnicodeAttribute(range_key=True)
    rule_type = UnicodeAttribute()
    platform = UnicodeAttribute()
    name = UnicodeAttribute()
    value = UnicodeAttribute()
    created_at = UnicodeAttribute()
    created_by = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = VersionAttribute()


class UpgradePackageModel(Model):
    """Release packages; ``version#<platform>#<canonical version>`` guard items keep versions unique."""

    Meta = _meta("UpgradePackages")
    tenant = UnicodeAttribute(hash_key=True)
    package_id = UnicodeAttribute(range_key=True)  # numeric text; "version#…" for guards
    platform = UnicodeAttribute()
    distribution = UnicodeAttribute(null=True)
    app_version = UnicodeAttribute(null=True)  # the package's version as entered ("version" is the lock)
    description = UnicodeAttribute(null=True)
    download_key = UnicodeAttribute(null=True)
    code_digest = UnicodeAttribute(null=True)
    store_url = UnicodeAttribute(null=True)
    valid_days = NumberAttribute(null=True)
    tester_limit = NumberAttribute(null=True)
    bundle_id = UnicodeAttribute(null=True)
    file = JSONAttribute(null=True)
    file_error = UnicodeAttribute(null=True)
    pending_upload = UnicodeAttribute(null=True)
    detected = JSONAttribute(null=True)
    warnings = JSONAttribute(null=True)
    icon = JSONAttribute(null=True)
    symbols = JSONAttribute(null=True)
    symbol_bundles = JSONAttribute(null=True)
    created_at = UnicodeAttribute(null=True)
    created_by = UnicodeAttribute(null=True)
    updated_at = UnicodeAttribute(null=True)
    version = VersionAttribute()


class UpgradeTaskModel(Model):
    Meta = _meta("UpgradeTasks")
    tenant = UnicodeAttribute(hash_key=True)
    task_id = UnicodeAttribute(range_key=True)  # numeric text
    package_id = UnicodeAttribute()
    release_type = UnicodeAttribute()
    gray_model = UnicodeAttribute(null=True)
    mode = NumberAttribute()
    target = JSONAttribute()  # the rule engine's input form (Target.to_json)
    guide_memo = UnicodeAttribute(default="")
    description = UnicodeAttribute(default="")
    state = UnicodeAttribute()
    end_time = NumberAttribute(null=True)  # epoch seconds
    users_count = NumberAttribute(null=True)
    need_net_type = UnicodeAttribute(null=True)
    silent_days = NumberAttribute(null=True)
    created_at = UnicodeAttribute()
    created_by = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = VersionAttribute()


class QuotaClaimModel(Model):
    """Time-window quotas: one counter per task (``task#<id>``: ``claimed`` of ``quota``) and one claim
    per (task, user) (``task#<id>#u#<sha256 of the identity>``). TTL: a while after the task's end."""

    Meta = _meta("QuotaClaims")
    tenant = UnicodeAttribute(hash_key=True)
    claim_key = UnicodeAttribute(range_key=True)
    claimed = NumberAttribute(null=True)
    quota = NumberAttribute(null=True)
    claimed_at = NumberAttribute(null=True)
    expires_at = TTLAttribute(null=True)


class ConfigItemModel(Model):
    """Switch configuration: ``item#<key>`` (the current item, optimistic lock ``version``) and
    ``hist#<key>#<seq>`` (every version of it, kept after changes and deletion)."""

    Meta = _meta("ConfigItems")
    tenant = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    data = JSONAttribute(null=True)  # the item's export form; null in a deletion's history entry
    seq = NumberAttribute(null=True)  # item: its latest history number; history: its own
    action = UnicodeAttribute(null=True)  # history: what made this version
    import_id = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute(null=True)
    created_by = UnicodeAttribute(null=True)
    updated_at = UnicodeAttribute(null=True)
    updated_by = UnicodeAttribute(null=True)
    version = VersionAttribute()


class _H5Item(Model):
    """The ``H5`` table holds every H5 item of a tenant under one partition, told apart by the
    range key's prefix: ``settings``, ``app#<h5Id>``, ``res#<id>`` (numeric; ``ver#<h5Id>#<version>``
    guards keep versions unique per app), ``task#<id>``. See store/h5_records.py."""

    Meta = _meta("H5")
    tenant = UnicodeAttribute(hash_key=True)
    item_key = UnicodeAttribute(range_key=True)


class H5SettingsModel(_H5Item):
    vhost = UnicodeAttribute(null=True)
    rsa_sealed = BinaryAttribute(null=True, legacy_encoding=False)  # PKCS#8 DER, sealed (secretbox)
    rsa_key_id = UnicodeAttribute(null=True)
    rsa_public_pem = UnicodeAttribute(null=True)
    updated_at = UnicodeAttribute(null=True)
    version = VersionAttribute()


class H5AppModel(_H5Item):
    h5_id = UnicodeAttribute(null=True)
    name = UnicodeAttribute(null=True)
    resource_type = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute(null=True)
    created_by = UnicodeAttribute(null=True)
    updated_at = UnicodeAttribute(null=True)
    version = VersionAttribute()


class H5ResourceModel(_H5Item):
    resource_id = UnicodeAttribute(null=True)
    h5_id = UnicodeAttribute(null=True)
    data = JSONAttribute(null=True)  # every field of the resource (store/h5_records.py)
    status = UnicodeAttribute(null=True)
    version = VersionAttribute()


class H5TaskModel(_H5Item):
    task_id = UnicodeAttribute(null=True)
    resource_id = UnicodeAttribute(null=True)
    h5_id = UnicodeAttribute(null=True)
    data = JSONAttribute(null=True)
    state = UnicodeAttribute(null=True)  # read by the time-window quota claim's condition
    end_time = NumberAttribute(null=True)
    version = VersionAttribute()


class HotpatchModel(Model):
    """Hotpatch patches (``patch#<id>``), releases (``release#<id>``) and keys (``key#mds``,
    ``key#developer``) of a tenant; report counters and per-device marks live in partitions
    ``<tenant>#hp…`` of the same table (store/hotpatch.py)."""

    Meta = _meta("Hotpatches")
    tenant = UnicodeAttribute(hash_key=True)
    item_key = UnicodeAttribute(range_key=True)
    kind = UnicodeAttribute(null=True)
    data = JSONAttribute(null=True)  # the entity's fields (domain/hotpatch.py)
    version = VersionAttribute()


ALL_MODELS: tuple[type[Model], ...] = (
    TenantModel,
    UserModel,
    MembershipModel,
    AccessKeyModel,
    AuditModel,
    UploadModel,
    EphemeralModel,
    MetricModel,
    RolloutPlanModel,
    SequenceModel,
    WhitelistModel,
    ReleaseRuleModel,
    UpgradePackageModel,
    UpgradeTaskModel,
    QuotaClaimModel,
    HotpatchModel,
    ConfigItemModel,
    H5SettingsModel,
    H5AppModel,
    H5ResourceModel,
    H5TaskModel,
)
