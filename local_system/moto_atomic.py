"""Gives moto's DynamoDB the atomicity DynamoDB has.

DynamoDB applies each conditional write and each transaction atomically. moto checks a condition and
then writes with nothing in between held, so two threads can both pass `attribute_not_exists` (or
lose each other's item). The local system and the tests serve requests on many threads, so every
data-plane call into moto's DynamoDB backend is made to hold one lock, as one DynamoDB item would.
Our code still relies only on conditions and transactions, never on this lock: it only makes the
stand-in honest.

It also makes moto's queries read in key order (`moto_key_order`), as DynamoDB's do, rather than
walk the whole table, its SQS queues receive and delete without walking every message
(`moto_sqs`), and moto free the models its backends no longer hold (`moto_memory`): everything that
runs against moto the way the local system does (the local system, the tests, the evaluation, the
benchmarks) gets all of them by calling `make_moto_dynamodb_atomic()`."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

_LOCK = threading.RLock()
_OPERATIONS = (
    "put_item",
    "get_item",
    "update_item",
    "delete_item",
    "query",
    "scan",
    "batch_get_item",
    "batch_write_item",
    "transact_write_items",
    "transact_get_items",
    "describe_table",  # counts the items: a walk of the table that a concurrent write would break
)


# moto hands these the stored item itself, and writes its answer after the lock is released: an
# update from another thread changes that item in place meanwhile (a broken or torn answer, where
# DynamoDB answers with the item as it was). They answer with a copy taken under the lock, unless
# moto calls them from inside another locked operation (a transaction reads and updates each of its
# items through them), which uses the answer before it lets the lock go.
_SNAPSHOTS = frozenset({"get_item", "put_item", "update_item"})
_held = threading.local()


def _locked(method: Callable[..., Any]) -> Callable[..., Any]:
    snapshot = method.__name__ in _SNAPSHOTS

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            outermost = not getattr(_held, "depth", 0)
            _held.depth = getattr(_held, "depth", 0) + 1
            try:
                answer = method(*args, **kwargs)
            finally:
                _held.depth -= 1
            if snapshot and outermost and answer is not None:
                import copy

                return copy.deepcopy(answer)
            return answer

    wrapper.__moto_atomic__ = True  # type: ignore[attr-defined]
    return wrapper


def make_moto_dynamodb_atomic() -> None:
    from moto.dynamodb.models import DynamoDBBackend

    from local_system.moto_key_order import make_moto_queries_use_key_order
    from local_system.moto_memory import make_moto_track_instances_weakly
    from local_system.moto_overhead import make_moto_cheaper
    from local_system.moto_sqs import make_moto_queues_fast
    from local_system.moto_update import make_moto_updates_fast

    make_moto_updates_fast()  # innermost: it stands for moto's update_item; the rest wrap it
    make_moto_transactions_cheap()  # first: the lock then wraps the journaled transaction
    make_moto_queries_use_key_order()  # then: indexes a transaction's keys once its journal has undone it
    make_moto_cheaper()
    make_moto_queues_fast()  # SQS: receives and deletes at the cost of the messages handed out
    make_moto_track_instances_weakly()  # a deleted message, or a copy handed out, freed

    for name in _OPERATIONS:
        method = getattr(DynamoDBBackend, name)
        if not getattr(method, "__moto_atomic__", False):
            setattr(DynamoDBBackend, name, _locked(method))


class _KeepTables:
    """Stands in for the `copy` module inside moto's DynamoDB backend: its transactions back up a
    whole table per item written (a deep copy, O(table) each); the journal below backs up only the
    items a transaction touches, so copying the table is skipped."""

    @staticmethod
    def deepcopy(value: Any, memo: Any = None) -> Any:
        import copy

        from moto.dynamodb.models.table import Table

        return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    def __getattr__(self, name: str) -> Any:
        import copy

        return getattr(copy, name)


def _journaled(method: Callable[..., Any]) -> Callable[..., Any]:
    """A transaction that fails puts back exactly the items it touched, as DynamoDB would."""

    @functools.wraps(method)
    def wrapper(backend: Any, transact_items: list[dict[str, Any]]) -> Any:
        import copy

        from moto.dynamodb.models.dynamo_type import DynamoType

        journal = []
        for entry in transact_items:
            _, op = next(iter(entry.items()))
            table = backend.tables.get(op.get("TableName"))
            if table is None:
                continue
            key = op.get("Key") or op.get("Item") or {}
            if table.hash_key_attr not in key:
                continue
            hash_value = DynamoType(key[table.hash_key_attr])
            range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr in key else None
            journal.append(
                (table, hash_value, range_value, copy.deepcopy(table.get_item(hash_value, range_value)))
            )
        try:
            return method(backend, transact_items)
        except Exception:
            for table, hash_value, range_value, before in reversed(journal):
                if range_value is not None:
                    if before is None:
                        table.items.get(hash_value, {}).pop(range_value, None)
                    else:
                        table.items[hash_value][range_value] = before
                elif before is None:
                    table.items.pop(hash_value, None)
                else:
                    table.items[hash_value] = before
            raise

    wrapper.__moto_journaled__ = True  # type: ignore[attr-defined]
    return wrapper


def make_moto_transactions_cheap() -> None:
    import moto.dynamodb.models as backend_module
    from moto.dynamodb.models import DynamoDBBackend

    method = DynamoDBBackend.transact_write_items
    if getattr(method, "__moto_journaled__", False):
        return
    backend_module.copy = _KeepTables()  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = _journaled(method)  # type: ignore[method-assign]
