"""Shared pieces of the DynamoDB adapter: the model factory, the one error translation, and the
base class the per-domain adapter mixins build on.

pynamodb fixes `Meta.table_name` when a model class is created, so `build_models(table_name, host,
region)` creates the classes for one configuration (a test, the local system, a Lambda). All item
types live in one table, told apart by the `item_type` discriminator. Each domain contributes its
item classes through a builder in `ITEM_BUILDERS` (see `dynamodb.py`).
"""

from __future__ import annotations

import functools
import json
import random
import re
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

from pynamodb.attributes import DiscriminatorAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import PynamoDBException
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from functions.shared import aws_calls
from functions.shared.documents import json_default
from functions.shared.domain.linked_removal import REVIEW_WORKERS
from functions.shared.domain.model import Notification, StoredEvent
from functions.shared.errors import Conflict, StorageRefused, StorageUnavailable
from functions.shared.storage import keys, schema

ItemBuilder = Callable[[type[Model]], dict[str, type[Model]]]


def _index_class(definition: schema.IndexDefinition) -> type[GlobalSecondaryIndex]:
    sort_attribute = UnicodeAttribute if definition.sort_key_type == "S" else NumberAttribute
    meta = type("Meta", (), {"index_name": definition.name, "projection": AllProjection()})
    attributes = {
        "Meta": meta,
        definition.partition_key: UnicodeAttribute(hash_key=True),
        definition.sort_key: sort_attribute(range_key=True),
    }
    return type(f"{definition.name}_index", (GlobalSecondaryIndex,), attributes)


@dataclass(frozen=True)
class Models:
    """The pynamodb classes bound to one table: `models.items["event"]`, `models.indexes["outbox"]`."""

    # Built by `build_models` at run time: their attributes (keys, index keys, item fields) are
    # invisible to a type checker, hence Any; the item classes declare them.
    base: Any
    items: dict[str, Any]
    indexes: dict[str, GlobalSecondaryIndex]
    shared: Connection = field(repr=False)  # every class's, and the transactions' (`build_models`)

    def __getattr__(self, name: str) -> Any:
        """An item class by name (`models.case`): built by the factory, so typed as Any here;
        its attributes are pynamodb's, checked when the item classes are declared."""
        try:
            return self.items[name]
        except KeyError:
            raise AttributeError(name) from None

    def connection(self) -> Connection:
        """The low-level connection for transactions (`TransactWrite`)."""
        return self.shared


# the most threads of one environment that call DynamoDB at once: a synchronous decision's outbox
# shards, or the hold sweep's shards with one removal's review workers (`linked_removal`)
POOL_CONNECTIONS = max(keys.OUTBOX_SHARDS, keys.FLAGGED_SHARDS + REVIEW_WORKERS) + 2


def build_models(
    table_name: str, builders: tuple[ItemBuilder, ...], host: str | None = None, region: str = "us-east-1"
) -> Models:
    """The classes of `builders` bound to one table, sharing a new connection (a botocore session
    and client made on its first request, with the handlers botocore then has). The classes are
    made once per configuration and process (`_classes`), so the connection is the classes': a
    second `build_models` of one configuration moves the first one's item calls to its own (both
    made alike; a Lambda makes one)."""
    base, items, bound = _classes(table_name, builders, host, region)
    # pynamodb gives each class a connection of its own, each a botocore session and client made
    # on its class's first request (tens of milliseconds each, a dozen classes on a Lambda's first
    # requests); one table, one key schema: every class and the transactions share one
    base._connection = None
    shared = base._get_connection()
    for model in items.values():
        model._connection = shared
    return Models(base, items, bound, shared.connection)


@functools.cache
def _classes(
    table_name: str, builders: tuple[ItemBuilder, ...], host: str | None, region: str
) -> tuple[type[Model], dict[str, type[Model]], dict[str, GlobalSecondaryIndex]]:
    """The classes for one configuration, made once per process (pynamodb's class creation costs
    about 20 ms a set: a Lambda makes its one; a test process would make one per test)."""
    meta_attributes: dict[str, Any] = {
        "table_name": table_name,
        "region": region,
        **aws_calls.STORE.pynamodb_meta(),
        # a connection for each shard read side by side (`side_by_side`), kept: with pynamodb's 10,
        # a synchronous decision's outbox reads opened new ones, a TLS handshake each, every time;
        # the hold sweep's shards, one of them finishing a removal's reviews side by side, as many
        "max_pool_connections": POOL_CONNECTIONS,
    }
    if host:
        meta_attributes["host"] = host
    meta = type("Meta", (), meta_attributes)

    index_attributes: dict[str, Any] = {}
    index_objects: dict[str, GlobalSecondaryIndex] = {}
    for definition in schema.INDEXES:
        index_objects[definition.name] = _index_class(definition)()
        # GSI key attributes must exist on the model too; shared attributes are declared once.
        index_attributes.setdefault(definition.partition_key, UnicodeAttribute(null=True))
        sort_attribute = UnicodeAttribute if definition.sort_key_type == "S" else NumberAttribute
        index_attributes.setdefault(definition.sort_key, sort_attribute(null=True))

    base: type[Model] = type(
        "Item",
        (Model,),
        {
            "Meta": meta,
            schema.PARTITION_KEY: UnicodeAttribute(hash_key=True),
            schema.SORT_KEY: UnicodeAttribute(range_key=True),
            "item_type": DiscriminatorAttribute(),
            schema.TTL_ATTRIBUTE: NumberAttribute(null=True),
            **index_attributes,
            **index_objects,
        },
    )
    items: dict[str, type[Model]] = {}
    for builder in builders:
        items.update(builder(base))
    # pynamodb binds a copy of each index to the model class: query through those copies
    return base, items, {name: getattr(base, name) for name in index_objects}


_RETRYABLE_REASONS = {
    "ThrottlingError",
    "ProvisionedThroughputExceeded",
    "TransactionConflict",
    "InternalServerError",
}


class StorageBug(RuntimeError):
    """DynamoDB refused a request as malformed: a bug in this code, never the caller's fault."""


def domain_error(exc: PynamoDBException, detail: str, conflict: str | None = None) -> Exception:
    """The one place where a DynamoDB error becomes a domain error: a failed condition is a
    conflict (final; `conflict` says what it means, when not `detail`); throttling, a service
    error or a network fault is unavailability (retry); a validation error is a bug (logged as
    one). `detail` says what was being done: "creating program p", not "program p exists", which
    a table that did not answer would then claim."""
    from botocore.exceptions import (
        CredentialRetrievalError,
        NoCredentialsError,
        ParamValidationError,
        PartialCredentialsError,
    )

    code = getattr(exc, "cause_response_code", None)
    cause = getattr(exc, "cause", None)
    if isinstance(cause, NoCredentialsError):  # never sent: nothing to sign with
        return StorageRefused(f"{detail}: no AWS credentials found (AWS_PROFILE, or the usual variables)")
    if isinstance(cause, PartialCredentialsError | CredentialRetrievalError):
        return StorageRefused(f"{detail}: the AWS credentials are incomplete or could not be read")
    if isinstance(cause, ParamValidationError):  # botocore refused to send it: a bug, as DynamoDB's
        return _bug(exc, detail)
    if code == "ConditionalCheckFailedException":
        return Conflict(conflict or detail)
    if code == "TransactionCanceledException":
        codes = [getattr(r, "code", None) for r in (getattr(exc, "cancellation_reasons", None) or [])]
        return _transaction_error(exc, codes, detail)
    if code == "ValidationException":
        return _bug(exc, detail)
    if code in _REFUSED:
        return StorageRefused(f"{detail}: {_REFUSED[code]}")
    return StorageUnavailable(f"{detail}: the table did not answer")


# what no retry of the caller's passes: the deployment's configuration (TABLE_NAME, the region, IAM,
# credentials), which an operator mends (queued work stays due meanwhile: `errors.retried_later`)
_REFUSED = {
    "ResourceNotFoundException": "the table does not exist (check TABLE_NAME and the region)",
    "AccessDeniedException": "access to the table is denied (check the credentials' permissions)",
    "UnrecognizedClientException": "AWS does not recognise the credentials",
    "InvalidSignatureException": "AWS refused the credentials' signature (check the secret key)",
    "ExpiredTokenException": "the credentials have expired",
}


def _transaction_error(exc: PynamoDBException, codes: list[str | None], detail: str) -> Exception:
    if any(c == "ValidationError" for c in codes):
        return _bug(exc, detail)
    if "ConditionalCheckFailed" in codes and not any(c in _RETRYABLE_REASONS for c in codes):
        return Conflict(detail)
    return StorageUnavailable(f"{detail}: the table did not answer")


def _bug(exc: PynamoDBException, detail: str) -> Exception:
    from functions.shared.observability import logger

    logger.error(
        "DynamoDB refused a request as malformed: a bug", extra={"detail": detail, "error": str(exc)}
    )
    return StorageBug(f"{detail}: {exc}")


def condition_failed(exc: PynamoDBException) -> bool:
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


class DynamoBase:
    """What every adapter mixin stands on: the models and a consistent single-item read."""

    def __init__(self, models: Models) -> None:
        self._m = models

    def _record_notification(self, tx: TransactWrite, n: Notification) -> None:
        """A notification into the outbox, in the transaction of the change that causes it (SPEC 6):
        the relay publishes what the function's own publish after the commit did not."""
        tx.save(
            self._m.notification(
                keys.notification_pk(n.program_id, n.notification_id),
                keys.NOTIFICATION_SK,
                program_id=n.program_id,
                notification_id=n.notification_id,
                name=n.name,
                detail=json.dumps(n.detail, default=json_default),
                created_at=n.created_at,
                outbox_pk=keys.outbox_pk(n.program_id, keys.outbox_shard(n.notification_id)),
                outbox_sk=keys.notification_outbox_sk(n.created_at, n.notification_id),
            )
        )

    def _get(self, model: type[Model], pk: str, sk: str) -> Any:
        try:
            return model.get(pk, sk, consistent_read=True)
        except model.DoesNotExist:
            return None
        except PynamoDBException as exc:
            raise domain_error(exc, f"reading {_readable(model, pk)} failed") from exc


def _readable(model: type[Model], pk: str) -> str:
    """An item as a person names it in an error (`program demo`), not by its table key
    (`PROGRAM#demo`, which an operator's message used to show)."""
    kind = re.sub(r"(?<!^)(?=[A-Z])", " ", model.__name__.removesuffix("Item")).lower() or "item"
    return f"{kind} {pk.rsplit('#', 1)[-1]}"


# --- packed attributes -------------------------------------------------------------------------
def pack_json(value: dict[str, Any]) -> bytes:
    """An event's body and its decision as stored: JSON deflated. A sign-up's body is about 620
    bytes of JSON and 420 deflated, a flag's decision with its reasons' details a few hundred and
    half that: the item stays under 1 KB, so each write of it (recorded, then scored in the scoring
    transaction at 2 WCU per KB) costs one unit less (issue 15). What JSON has no type for (a number
    read with its digits) is written as `documents.json_default` writes it."""
    return zlib.compress(json.dumps(value, sort_keys=True, default=json_default).encode(), 6)


def unpacked_json(packed: bytes | None, plain: str | None) -> Any:
    """A packed attribute, or the plain JSON one of an item written before packing, or None."""
    if packed:
        return json.loads(zlib.decompress(packed))
    return json.loads(plain) if plain else None


EVENT_RETENTION = timedelta(days=400)


def event_item(model: type[Model], event: StoredEvent) -> Model:
    """An event's item as recorded: in the outbox until scoring takes it (`outbox_pk`), kept
    `EVENT_RETENTION` after it was received."""
    return model(
        keys.event_pk(event.program_id, event.event_id),
        keys.EVENT_SK,
        program_id=event.program_id,
        event_id=event.event_id,
        type=event.type,
        packed_body=pack_json(event.body),
        body_hash=event.body_hash,
        occurred_at=event.occurred_at,
        received_at=event.received_at,
        status=event.status,
        outbox_pk=keys.outbox_pk(event.program_id, keys.outbox_shard(event.event_id)),
        outbox_sk=keys.outbox_sk(event.received_at, event.event_id),
        expires_at=int((event.received_at + EVENT_RETENTION).timestamp()),
    )


BATCH_GET_LIMIT = 100  # keys a BatchGetItem takes
BATCH_GET_TRIES = 8  # rounds in a row that leave keys unread before the read is given up


def batch_read(
    model: type[Model], wanted: Sequence[tuple[str, str]], *, what: str, consistent: bool = True
) -> Iterator[dict[str, Any]]:
    """The items of `wanted` (partition and sort keys) as DynamoDB returns them (raw), a hundred a
    request. Keys a request leaves unread (a throttled partition: `UnprocessedKeys`) are asked again
    after a pause that grows with each round, as AWS advises; pynamodb's `batch_get` asked again at
    once and for ever. After `BATCH_GET_TRIES` rounds in a row that left keys unread, the read is
    `StorageUnavailable` (retryable: the request's 503, the run back on its queue)."""
    names = (model._hash_key_attribute().attr_name, model._range_key_attribute().attr_name)
    keyed = [{names[0]: {"S": pk}, names[1]: {"S": sk}} for pk, sk in dict.fromkeys(wanted)]
    for start in range(0, len(keyed), BATCH_GET_LIMIT):
        pending: list[dict[str, Any]] | None = keyed[start : start + BATCH_GET_LIMIT]
        for round_ in range(BATCH_GET_TRIES + 1):
            page, pending = model._batch_get_page(pending, consistent_read=consistent, attributes_to_get=None)
            yield from page or []
            if not pending:
                break
            if round_ == BATCH_GET_TRIES:
                raise StorageUnavailable(f"{what}: {len(pending)} keys still unread after {round_} rounds")
            time.sleep(random.uniform(0, min(1.0, 0.025 * 2**round_)))  # noqa: S311 (jitter)


_Item = TypeVar("_Item", bound=Model)


def batch_items(
    model: type[_Item], wanted: Sequence[tuple[str, str]], *, what: str, consistent: bool = True
) -> Iterator[_Item]:
    """`batch_read`'s items as instances of `model`."""
    return map(model.from_raw_data, batch_read(model, wanted, what=what, consistent=consistent))


_Found = TypeVar("_Found")


def side_by_side(read: Callable[[int], list[_Found]], shards: int) -> list[_Found]:
    """What `read(shard)` finds in every shard of a partition spread over `shards`: the first on
    this thread (the others then share the client it made), the rest side by side."""
    found = read(0)
    with ThreadPoolExecutor(max_workers=shards - 1) as pool:
        for part in pool.map(read, range(1, shards)):
            found += part
    return found
