"""One atomic commit: the change and its audit entries land together or not at all.

Services collect writes on a ``UnitOfWork`` and call ``commit()``; it issues a single DynamoDB
``TransactWriteItems``. Each write carries the error to raise if its condition fails (a duplicate
name, a stale version), so a cancelled transaction is reported as what actually went wrong.
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, TypeVar

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.config import settings
from chalicelib.domain.audit import AuditEntry
from chalicelib.domain.errors import Conflict, MdsError, VersionConflict
from chalicelib.store.audit_log import to_model as audit_model

T = TypeVar("T")

_MAX_ITEMS = 100  # DynamoDB's TransactWriteItems limit
# Audit entry IDs are "<time>#<request id>#<n>"; a request that commits twice (e.g. a package, then its
# upload) must not reuse n, or its second entry would replace the first. Unique per process is enough:
# one request runs in one process.
_AUDIT_NUMBERS = itertools.count()


@dataclass
class _Op:
    kind: str  # "check" | "delete" | "save" | "update"
    args: tuple
    kwargs: dict
    on_conflict: MdsError


@dataclass
class UnitOfWork:
    _ops: list[_Op] = field(default_factory=list)
    _audit: list[AuditEntry] = field(default_factory=list)

    def save(self, model: Model, *, condition: Any = None, on_conflict: MdsError | None = None) -> None:
        self._add("save", (model,), {"condition": condition}, on_conflict)

    def update(
        self, model: Model, actions: list, *, condition: Any = None, on_conflict: MdsError | None = None
    ) -> None:
        self._add("update", (model, actions), {"condition": condition}, on_conflict)

    def delete(
        self,
        model: Model,
        *,
        condition: Any = None,
        on_conflict: MdsError | None = None,
        versioned: bool = True,
    ) -> None:
        """``versioned=False`` for items deleted without reading them first (e.g. name guards)."""
        self._add(
            "delete", (model,), {"condition": condition, "add_version_condition": versioned}, on_conflict
        )

    def check(
        self,
        model_cls: type[Model],
        hash_key: str,
        range_key: str | None,
        condition: Any,
        on_conflict: MdsError,
    ) -> None:
        self._add("check", (model_cls, hash_key, range_key), {"condition": condition}, on_conflict)

    def audit(self, entry: AuditEntry) -> None:
        self._audit.append(entry.redacted())

    def commit(self) -> None:
        audit_ops = [
            _Op(
                "save",
                (audit_model(entry, next(_AUDIT_NUMBERS)),),
                {},
                Conflict("audit entry collision; try again"),
            )
            for entry in self._audit
        ]
        ops = self._ordered(self._ops + audit_ops)
        if len(ops) > _MAX_ITEMS:
            raise ValueError(f"a unit of work holds at most {_MAX_ITEMS} writes")
        try:
            with TransactWrite(connection=_connection(settings().region)) as tx:
                for op in ops:
                    getattr(tx, "condition_check" if op.kind == "check" else op.kind)(*op.args, **op.kwargs)
        except TransactWriteError as exc:
            raise _translate(exc, ops) from exc
        finally:
            self._ops.clear()
            self._audit.clear()

    def _add(self, kind: str, args: tuple, kwargs: dict, on_conflict: MdsError | None) -> None:
        self._ops.append(_Op(kind, args, kwargs, on_conflict or VersionConflict(_stale_message(args[0]))))

    @staticmethod
    def _ordered(ops: list[_Op]) -> list[_Op]:
        # PynamoDB sends condition checks, deletes, puts, updates in that order (each group in
        # call order); cancellation reasons come back in the same order, so keep ours aligned.
        order = {"check": 0, "delete": 1, "save": 2, "update": 3}
        return sorted(ops, key=lambda op: order[op.kind])


@lru_cache(maxsize=4)
def _connection(region: str) -> Connection:
    """One connection per container: building a botocore client per commit costs milliseconds."""
    return Connection(region=region)


def _stale_message(target: Any) -> str:
    name = getattr(target, "__name__", type(target).__name__).removesuffix("Model").lower()
    return f"the {name} was changed by someone else; reload and try again"


def _translate(exc: TransactWriteError, ops: list[_Op]) -> MdsError:
    reasons = exc.cancellation_reasons or []
    for op, reason in zip(ops, reasons, strict=False):
        if reason is not None and reason.code == "ConditionalCheckFailed":
            return op.on_conflict
    if exc.cause_response_code == "TransactionConflictException" or any(
        r is not None and r.code == "TransactionConflict" for r in reasons
    ):
        return Conflict("a concurrent change touched the same item; try again")
    return MdsError(f"storage error: {exc.cause_response_code or exc}")


def retry_on_conflict(attempt: Callable[[], T], *, tries: int = 5) -> T:
    """Run ``attempt`` — read fresh state, build a ``UnitOfWork``, commit — until it commits.

    Optimistic locking: a concurrent change makes the commit fail with ``VersionConflict``; the next
    try reads the new state and merges again, after a jittered, growing pause. The last conflict is
    raised.
    """
    for n in range(tries):
        try:
            return attempt()
        except VersionConflict:
            if n == tries - 1:
                raise
            time.sleep(random.uniform(0, 0.02 * 2**n))
    raise AssertionError("unreachable")
