"""Makes moto's generated IDs replayable from the journal.

moto draws every ID (SQS message IDs, S3 version IDs, request IDs...) from one shared random
source. The journal keeps only state-changing requests, so replaying them from a single seed
would draw different IDs than the original run did (the skipped reads drew numbers too), and an
S3 version ID or SQS message ID stored before a restart would no longer exist after it.

Instead every journaled request runs with its own random source, seeded with a value stored in
its journal entry; reads, running concurrently in other threads, keep using moto's shared one.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from random import Random

from moto.moto_api._internal import mock_random
from moto.moto_api._internal.moto_random import MotoRandom

_current = threading.local()


class _PerThreadMotoRandom(MotoRandom):
    """moto's random singleton, answering from the current thread's seeded source if it has one.
    Every Random method draws through ``random()`` or ``getrandbits()``, so these two suffice."""

    def random(self) -> float:
        rng = getattr(_current, "rng", None)
        return rng.random() if rng is not None else super().random()

    def getrandbits(self, k: int) -> int:
        rng = getattr(_current, "rng", None)
        return rng.getrandbits(k) if rng is not None else super().getrandbits(k)


def install() -> None:
    """Idempotent. moto modules hold references to the singleton, so it changes class in place
    rather than being replaced."""
    if type(mock_random) is not _PerThreadMotoRandom:
        mock_random.__class__ = _PerThreadMotoRandom
    _make_multipart_upload_ids_replayable()


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """IDs moto generates in this thread, inside the block, depend only on ``seed``."""
    _current.rng = Random(seed)
    try:
        yield
    finally:
        _current.rng = None


def _make_multipart_upload_ids_replayable() -> None:
    """moto takes S3 multipart upload IDs from ``os.urandom``; UploadPart and
    CompleteMultipartUpload name the ID, so on replay it must come out the same."""
    from moto.s3 import models

    original = models.FakeMultipart.__init__
    if getattr(original, "_mds_replayable", False):
        return

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        original(self, *args, **kwargs)
        self.id = mock_random.get_random_string(length=58)

    __init__._mds_replayable = True  # type: ignore[attr-defined]
    models.FakeMultipart.__init__ = __init__  # type: ignore[method-assign]
