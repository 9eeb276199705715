"""What every in-process benchmark needs: moto with the template's resources and the app's settings."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

STACK = "mds-bench"


@contextlib.contextmanager
def moto_stack(tmp: Path) -> Iterator[Any]:
    """In-process moto holding every table, bucket and queue of infra/template.json; yields them."""
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1",
        MDS_STACK=STACK, MDS_MASTER_KEY_FILE=str(tmp / "master.key"), MDS_LOG_LEVEL="WARNING",
    )  # fmt: skip
    # no publish worker runs in-process: a change publishes before it answers (bench/publish_latency.py
    # measures the queued path on the local stack)
    os.environ.setdefault("MDS_PUBLISH_MODE", "inline")
    os.environ.pop("AWS_ENDPOINT_URL", None)
    from moto import mock_aws

    from mds.local.resources import ensure_resources

    with mock_aws():
        resources = ensure_resources(None, stack=STACK)
        os.environ["MDS_ARTIFACTS_BUCKET"] = resources.buckets["ArtifactsBucket"]
        os.environ["MDS_DELIVERY_BUCKET"] = resources.buckets["DeliveryBucket"]
        yield resources
