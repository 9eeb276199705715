"""Settings from the environment: the only reader of ``os.environ`` in Lambda code.

Every AWS resource name derives from one stack name (``MDS_STACK``, e.g. ``mds-dev``), so the
CloudFormation template in ``infra/``, the Lambda environment and the local stack agree by
construction: table ``Users`` is ``<stack>-Users``, the event queue is ``<stack>-events``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

ENV_STACK = "MDS_STACK"
ENV_ARTIFACTS_BUCKET = "MDS_ARTIFACTS_BUCKET"
ENV_DELIVERY_BUCKET = "MDS_DELIVERY_BUCKET"
ENV_KMS_KEY_ID = "MDS_KMS_KEY_ID"
ENV_MASTER_KEY_FILE = "MDS_MASTER_KEY_FILE"
ENV_CDN_BASE_URL = "MDS_CDN_BASE_URL"
ENV_CDN_DISTRIBUTION_ID = "MDS_CDN_DISTRIBUTION_ID"
ENV_API_BASE_URL = "MDS_API_BASE_URL"  # the API's public base: absolute download links in client answers
ENV_FILE_UPLOAD_HOST = "MDS_FILE_UPLOAD_HOST"  # GetMcubeFileToken Host; default <api base>/mcube-files
ENV_TOKEN_TTL = "MDS_TOKEN_TTL_SECONDS"
ENV_MAX_BODY_BYTES = "MDS_MAX_BODY_BYTES"
ENV_LOG_LEVEL = "MDS_LOG_LEVEL"
ENV_PASSWORD_WORK = "MDS_PASSWORD_SCRYPT_LOG2_N"  # scrypt cost of new password hashes (old ones keep theirs)
ENV_PUBLISH_MODE = "MDS_PUBLISH_MODE"  # queued (the default): the publish worker; inline: in the request
ENV_REGION = "AWS_DEFAULT_REGION"
ENV_ENDPOINT_URL = "AWS_ENDPOINT_URL"

DEFAULT_STACK = "mds-dev"
DEFAULT_PASSWORD_WORK = 15  # n=2**15, r=8: 32 MiB per hash
PASSWORD_WORK_RANGE = range(10, 21)
PUBLISH_MODES = ("queued", "inline")


@dataclass(frozen=True)
class Settings:
    stack: str
    region: str
    artifacts_bucket: str
    delivery_bucket: str
    kms_key_id: str | None
    master_key_file: str | None
    cdn_base_url: str
    api_base_url: str
    cdn_distribution_id: str | None
    token_ttl_seconds: int
    max_body_bytes: int
    log_level: str
    aws_endpoint_url: str | None
    file_upload_host: str = ""  # empty: the API's own route (docs/openapi.md, "Size: local and AWS")
    password_log2_n: int = DEFAULT_PASSWORD_WORK
    publish_mode: str = "queued"

    def table_name(self, logical_name: str) -> str:
        return f"{self.stack}-{logical_name}"

    @property
    def events_queue(self) -> str:
        return events_queue_name(self.stack)

    @property
    def events_dlq(self) -> str:
        return f"{self.stack}-events-dlq"

    @property
    def device_events_queue(self) -> str:
        return device_events_queue_name(self.stack)

    @property
    def publish_queue(self) -> str:
        return publish_queue_name(self.stack)


def events_queue_name(stack: str | None = None) -> str:
    """The S3 ObjectCreated queue; Chalice needs it at import time for ``on_sqs_message``."""
    return f"{stack or os.environ.get(ENV_STACK, DEFAULT_STACK)}-events"


def device_events_queue_name(stack: str | None = None) -> str:
    """The queue between ``POST /client/v1/events`` and the aggregator (needed at import time too)."""
    return f"{stack or os.environ.get(ENV_STACK, DEFAULT_STACK)}-device-events"


def publish_queue_name(stack: str | None = None) -> str:
    """The queue between a committed change and the publish worker (docs/architecture.md)."""
    return f"{stack or os.environ.get(ENV_STACK, DEFAULT_STACK)}-publish"


@lru_cache(maxsize=1)
def settings() -> Settings:
    env = os.environ
    stack = env.get(ENV_STACK, DEFAULT_STACK)
    return Settings(
        stack=stack,
        region=env.get(ENV_REGION, "us-east-1"),
        artifacts_bucket=env.get(ENV_ARTIFACTS_BUCKET, f"{stack}-artifacts"),
        delivery_bucket=env.get(ENV_DELIVERY_BUCKET, f"{stack}-delivery"),
        kms_key_id=env.get(ENV_KMS_KEY_ID) or None,
        master_key_file=env.get(ENV_MASTER_KEY_FILE) or None,
        cdn_base_url=env.get(ENV_CDN_BASE_URL, "http://127.0.0.1:8001").rstrip("/"),
        api_base_url=(env.get(ENV_API_BASE_URL) or "http://127.0.0.1:8000").rstrip("/"),
        cdn_distribution_id=env.get(ENV_CDN_DISTRIBUTION_ID) or None,
        token_ttl_seconds=int(env.get(ENV_TOKEN_TTL, "3600")),
        max_body_bytes=int(env.get(ENV_MAX_BODY_BYTES, str(1024 * 1024))),
        log_level=env.get(ENV_LOG_LEVEL, "INFO"),
        file_upload_host=(env.get(ENV_FILE_UPLOAD_HOST) or "").rstrip("/"),
        aws_endpoint_url=env.get(ENV_ENDPOINT_URL) or None,
        password_log2_n=_password_work(env.get(ENV_PASSWORD_WORK)),
        publish_mode=_publish_mode(env.get(ENV_PUBLISH_MODE)),
    )


def _password_work(text: str | None) -> int:
    """The test suite lowers it (Devise's ``stretches`` in test, Django's test hashers); a deployment
    may raise it. Out of range is a configuration error, never a silently weak hash."""
    if not text:
        return DEFAULT_PASSWORD_WORK
    if not text.isdigit() or int(text) not in PASSWORD_WORK_RANGE:
        raise ValueError(
            f"{ENV_PASSWORD_WORK} must be a whole number from {PASSWORD_WORK_RANGE.start} "
            f"to {PASSWORD_WORK_RANGE.stop - 1} (got {text!r})"
        )
    return int(text)


def _publish_mode(text: str | None) -> str:
    """``queued``: a console write answers once committed and the publish worker publishes (Lambda
    and ``make run``); ``inline``: the request publishes before answering (the test suite reads its
    own writes from the CDN at once, as Celery's eager mode or Django's locmem mail do)."""
    if not text:
        return PUBLISH_MODES[0]
    if text not in PUBLISH_MODES:
        raise ValueError(f"{ENV_PUBLISH_MODE} must be one of {', '.join(PUBLISH_MODES)} (got {text!r})")
    return text


def reload() -> Settings:
    """Forget cached settings (tests and the local stack change the environment)."""
    settings.cache_clear()
    return settings()
