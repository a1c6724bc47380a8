"""Gives moto's DynamoDB the atomicity DynamoDB has.

DynamoDB applies each conditional write and each transaction atomically. moto checks a condition and
then writes with nothing in between held, so two threads can both pass `attribute_not_exists` (or
lose each other's item). The local system and the tests serve requests on many threads, so every
data-plane call into moto's DynamoDB backend is made to hold one lock, as one DynamoDB item would.
Our code still relies only on conditions and transactions, never on this lock: it only makes the
stand-in honest."""

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
)


def _locked(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            return method(*args, **kwargs)

    wrapper.__moto_atomic__ = True  # type: ignore[attr-defined]
    return wrapper


def make_moto_dynamodb_atomic() -> None:
    from moto.dynamodb.models import DynamoDBBackend

    for name in _OPERATIONS:
        method = getattr(DynamoDBBackend, name)
        if not getattr(method, "__moto_atomic__", False):
            setattr(DynamoDBBackend, name, _locked(method))
