"""moto's DynamoDB at the cost of the items a request touches, not of the whole table; moto's SQS
at the cost of a message, not of the queue.

Queries: moto 5.2 answers a Query on a table's key by sorting and filtering every item of the table;
``install()`` hands it the queried partition's items only (same order, same filters after).

Transactions:

moto 5.2 backs up a TransactWriteItems by deep-copying every table the transaction names, once per
action, to restore it if the transaction is cancelled: the cost grows with the table, so on the local
stack one transaction of the reach counters took 0.4 s once a few thousand facts were stored, and
every UnitOfWork commit of the suite paid for the size of its table.

``install()`` keeps moto's own transaction logic (its validation, condition checks, error shapes)
and changes only the backup: the items the actions name are copied before the transaction and put
back if it fails. Deep-copying a Table in moto's DynamoDB module becomes a no-op, so moto's own
restore assigns each table to itself. Used by the local stack and by the tests' in-process moto;
``tests/integration/test_moto_speedups.py`` checks that both backups leave the same state.

SQS: moto 5.2 renders every attribute of a queue on each SendMessage (to read one flag), which counts
the visible, delayed and in-flight messages; each message asks the time through a chain of datetime
conversions, twice. With a thousand messages queued a send took 20 ms and a receive 0.9 s. Here a
message compares against ``time.time()`` (the same clock moto reads, without the conversions) and
attribute names are converted once; the rules for visibility and delay are moto's own.
"""

from __future__ import annotations

import copy
import functools
import time
import types
from typing import Any

from moto.dynamodb import models
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table
from moto.sqs import models as sqs_models

ORIGINAL = models.DynamoDBBackend.transact_write_items
ORIGINAL_QUERY = Table.query
ORIGINAL_SQS = (sqs_models.Message.visible, sqs_models.Message.delayed, sqs_models.camelcase_to_underscores)
_Key = tuple[str, DynamoType, DynamoType | None]


def _deepcopy_but_tables(value: Any, memo: dict[int, Any] | None = None) -> Any:
    return value if isinstance(value, Table) else copy.deepcopy(value, memo)


def _touched(backend: Any, transact_items: list[dict[str, Any]]) -> dict[_Key, Item | None]:
    """A copy of every item the actions name, as it is now (None: absent)."""
    before: dict[_Key, Item | None] = {}
    for action in transact_items:
        for op in action.values():
            table = backend.tables.get(op.get("TableName")) if isinstance(op, dict) else None
            key = (op.get("Key") or op.get("Item") or {}) if table is not None else {}
            if table is None or table.hash_key_attr not in key:
                continue  # moto refuses the action itself; nothing of it is written
            hash_value = DynamoType(key[table.hash_key_attr])
            range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr in key else None
            if table.range_key_attr and range_value is None:
                continue
            found = table.items.get(hash_value)
            if range_value is not None:
                found = found.get(range_value) if isinstance(found, dict) else None
            before[(table.name, hash_value, range_value)] = copy.deepcopy(found)
    return before


def _restore(backend: Any, before: dict[_Key, Item | None]) -> None:
    for (name, hash_value, range_value), item in before.items():
        table = backend.tables[name]
        if range_value is None:
            if item is None:
                table.items.pop(hash_value, None)
            else:
                table.items[hash_value] = item
        elif item is None:
            table.items.get(hash_value, {}).pop(range_value, None)
        else:
            table.items[hash_value][range_value] = item


@functools.wraps(ORIGINAL)
def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
    before = _touched(self, transact_items)
    try:
        ORIGINAL(self, transact_items)
    except Exception:
        _restore(self, before)
        raise


@functools.wraps(ORIGINAL_QUERY)
def query(self: Table, hash_key: DynamoType | None, *args: Any, **kwargs: Any) -> Any:
    index_name = args[6] if len(args) > 6 else kwargs.get("index_name")  # moto passes it 8th
    if index_name or hash_key is None:
        return ORIGINAL_QUERY(self, hash_key, *args, **kwargs)
    found = self.items.get(hash_key)
    partition = [] if found is None else list(found.values()) if self.range_key_attr else [found]
    partition.sort(key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)
    self.all_items = lambda: partition  # type: ignore[method-assign] # moto reads the table through it
    try:
        return ORIGINAL_QUERY(self, hash_key, *args, **kwargs)
    finally:
        del self.all_items


def _visible(message: Any) -> bool:
    return time.time() * 1000.0 > message.visible_at


def _delayed(message: Any) -> bool:
    return time.time() * 1000.0 < message.delayed_until


def install() -> None:
    """Idempotent."""
    if models.DynamoDBBackend.transact_write_items is transact_write_items:
        return
    Table.query = query  # type: ignore[method-assign]
    models.copy = types.SimpleNamespace(deepcopy=_deepcopy_but_tables)  # type: ignore[attr-defined]
    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    sqs_models.Message.visible = property(_visible)  # type: ignore[method-assign]
    sqs_models.Message.delayed = property(_delayed)  # type: ignore[method-assign]
    sqs_models.camelcase_to_underscores = functools.lru_cache(maxsize=256)(ORIGINAL_SQS[2])


def uninstall() -> None:
    """moto as it ships (for the equivalence test)."""
    models.copy = copy  # type: ignore[attr-defined]
    Table.query = ORIGINAL_QUERY  # type: ignore[method-assign]
    models.DynamoDBBackend.transact_write_items = ORIGINAL  # type: ignore[method-assign]
    sqs_models.Message.visible, sqs_models.Message.delayed, sqs_models.camelcase_to_underscores = ORIGINAL_SQS
