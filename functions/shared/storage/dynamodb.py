"""The DynamoDB adapter of the storage port, on pynamodb.

Models are built by `build_models(table_name, host, region)`: pynamodb fixes `Meta.table_name` when a
model class is created, so a factory lets each configuration (a test, the local system, a Lambda)
point its own models at its own table. All item types live in one table and are told apart by the
`item_type` discriminator. AWS errors become domain errors in `_domain_error`, nowhere else.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.attributes import (
    DiscriminatorAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import PynamoDBException
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from functions.shared.errors import Conflict, NotFound, StorageUnavailable
from functions.shared.storage import keys, schema
from functions.shared.storage.port import (
    ApiKey,
    Program,
    RecordOutcome,
    Repository,
    StoredEvent,
)

EVENT_RETENTION = timedelta(days=400)


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
    """The pynamodb classes bound to one table."""

    base: type[Model]
    program: type[Model]
    api_key: type[Model]
    event: type[Model]
    indexes: dict[str, GlobalSecondaryIndex]


def build_models(table_name: str, host: str | None = None, region: str = "us-east-1") -> Models:
    meta_attributes: dict[str, Any] = {
        "table_name": table_name,
        "region": region,
        "max_retry_attempts": 3,
        "connect_timeout_seconds": 5,
        "read_timeout_seconds": 10,
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

    base = type(
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

    class ProgramItem(base, discriminator="program"):  # type: ignore[valid-type,misc,call-arg]
        program_id = UnicodeAttribute()
        name = UnicodeAttribute()
        timezone = UnicodeAttribute()
        signing_secret = UnicodeAttribute(null=True)
        created_at = UTCDateTimeAttribute()

    class ApiKeyItem(base, discriminator="api_key"):  # type: ignore[valid-type,misc,call-arg]
        key_id = UnicodeAttribute()
        program_id = UnicodeAttribute(null=True)
        role = UnicodeAttribute()
        actor = UnicodeAttribute()
        secret_hash = UnicodeAttribute()
        created_at = UTCDateTimeAttribute()
        revoked_at = UTCDateTimeAttribute(null=True)

    class EventItem(base, discriminator="event"):  # type: ignore[valid-type,misc,call-arg]
        program_id = UnicodeAttribute()
        event_id = UnicodeAttribute()
        type = UnicodeAttribute()
        body = UnicodeAttribute()
        body_hash = UnicodeAttribute()
        occurred_at = UTCDateTimeAttribute()
        received_at = UTCDateTimeAttribute()
        status = UnicodeAttribute()
        decision = UnicodeAttribute(null=True)
        case_id = UnicodeAttribute(null=True)
        failure = UnicodeAttribute(null=True)

    # pynamodb binds a copy of each index to the model class: query through those copies
    bound = {name: getattr(base, name) for name in index_objects}
    return Models(base, ProgramItem, ApiKeyItem, EventItem, bound)


def _domain_error(exc: PynamoDBException, detail: str) -> Exception:
    """The one place where a DynamoDB error becomes a domain error."""
    code = getattr(exc, "cause_response_code", None)
    if code in ("ConditionalCheckFailedException", "TransactionCanceledException"):
        return Conflict(detail)
    if code == "ResourceNotFoundException":
        return StorageUnavailable(f"table not found: {exc}")
    return StorageUnavailable(f"{detail}: {code or exc}")


def outbox_shard(event_id: str) -> int:
    return int(hashlib.sha256(event_id.encode()).hexdigest()[:8], 16) % keys.OUTBOX_SHARDS


class DynamoRepository(Repository):
    def __init__(self, models: Models) -> None:
        self._m = models

    # --- programs and keys -------------------------------------------------------------
    def create_program(self, program: Program) -> None:
        item = self._m.program(
            keys.program_pk(),
            keys.program_sk(program.program_id),
            program_id=program.program_id,
            name=program.name,
            timezone=program.timezone,
            signing_secret=program.signing_secret,
            created_at=program.created_at,
        )
        try:
            item.save(condition=self._m.base.pk.does_not_exist())
        except PynamoDBException as exc:
            raise _domain_error(exc, f"program {program.program_id} exists") from exc

    def get_program(self, program_id: str) -> Program:
        item = self._get(self._m.program, keys.program_pk(), keys.program_sk(program_id))
        if item is None:
            raise NotFound(f"program {program_id} not found")
        return _program(item)

    def list_programs(self) -> list[Program]:
        try:
            return [_program(item) for item in self._m.program.query(keys.program_pk())]
        except PynamoDBException as exc:
            raise _domain_error(exc, "listing programs failed") from exc

    def create_api_key(self, key: ApiKey) -> None:
        item = self._m.api_key(
            keys.api_key_pk(key.key_id),
            keys.API_KEY_SK,
            key_id=key.key_id,
            program_id=key.program_id,
            role=key.role,
            actor=key.actor,
            secret_hash=key.secret_hash,
            created_at=key.created_at,
        )
        try:
            item.save(condition=self._m.base.pk.does_not_exist())
        except PynamoDBException as exc:
            raise _domain_error(exc, f"key {key.key_id} exists") from exc

    def get_api_key(self, key_id: str) -> ApiKey:
        item = self._get(self._m.api_key, keys.api_key_pk(key_id), keys.API_KEY_SK)
        if item is None:
            raise NotFound(f"key {key_id} not found")
        return _api_key(item)

    def load_credentials(self, key_id: str) -> tuple[ApiKey, Program | None]:
        key = self.get_api_key(key_id)
        if key.program_id is None:
            return key, None
        try:
            return key, self.get_program(key.program_id)
        except NotFound:
            raise NotFound(f"key {key_id} belongs to no program") from None

    def revoke_api_key(self, key_id: str, at: datetime) -> ApiKey:
        item = self._get(self._m.api_key, keys.api_key_pk(key_id), keys.API_KEY_SK)
        if item is None:
            raise NotFound(f"key {key_id} not found")
        if item.revoked_at is None:
            try:
                item.update(
                    actions=[self._m.api_key.revoked_at.set(at)],
                    condition=self._m.api_key.revoked_at.does_not_exist(),
                )
            except PynamoDBException as exc:
                if getattr(exc, "cause_response_code", "") != "ConditionalCheckFailedException":
                    raise _domain_error(exc, f"revoking key {key_id} failed") from exc
                item.refresh()
        return _api_key(item)

    # --- events --------------------------------------------------------------------------
    def record_event(self, event: StoredEvent) -> RecordOutcome:
        item = self._m.event(
            keys.event_pk(event.program_id, event.event_id),
            keys.EVENT_SK,
            program_id=event.program_id,
            event_id=event.event_id,
            type=event.type,
            body=json.dumps(event.body, sort_keys=True, default=str),
            body_hash=event.body_hash,
            occurred_at=event.occurred_at,
            received_at=event.received_at,
            status=event.status,
            outbox_pk=keys.outbox_pk(event.program_id, outbox_shard(event.event_id)),
            outbox_sk=keys.outbox_sk(event.received_at, event.event_id),
            expires_at=int((event.received_at + EVENT_RETENTION).timestamp()),
        )
        try:
            item.save(condition=self._m.base.pk.does_not_exist())
            return RecordOutcome(event, created=True)
        except PynamoDBException as exc:
            if getattr(exc, "cause_response_code", "") != "ConditionalCheckFailedException":
                raise _domain_error(exc, f"recording event {event.event_id} failed") from exc
        return RecordOutcome(self.get_event(event.program_id, event.event_id), created=False)

    def get_event(self, program_id: str, event_id: str) -> StoredEvent:
        item = self._get(self._m.event, keys.event_pk(program_id, event_id), keys.EVENT_SK)
        if item is None:
            raise NotFound(f"event {event_id} not found")
        return _event(item)

    def outbox(self, program_id: str, received_before: datetime, limit: int) -> list[StoredEvent]:
        index = self._m.indexes["outbox"]
        upper = keys.outbox_sk(received_before, "")
        found: list[StoredEvent] = []
        try:
            for shard in range(keys.OUTBOX_SHARDS):
                query = index.query(
                    keys.outbox_pk(program_id, shard),
                    range_key_condition=self._m.base.outbox_sk < upper,
                    limit=limit,
                )
                found.extend(_event(item) for item in query)
        except PynamoDBException as exc:
            raise _domain_error(exc, "reading the outbox failed") from exc
        found.sort(key=lambda e: e.received_at)
        return found[:limit]

    def clear_outbox(self, program_id: str, event_id: str) -> None:
        item = self._m.event(keys.event_pk(program_id, event_id), keys.EVENT_SK)
        try:
            item.update(
                actions=[self._m.base.outbox_pk.remove(), self._m.base.outbox_sk.remove()],
                condition=self._m.base.pk.exists(),
            )
        except PynamoDBException as exc:
            if getattr(exc, "cause_response_code", "") == "ConditionalCheckFailedException":
                return
            raise _domain_error(exc, f"clearing event {event_id} from the outbox failed") from exc

    # --- helpers -------------------------------------------------------------------------
    def _get(self, model: type[Model], pk: str, sk: str) -> Any:
        try:
            return model.get(pk, sk, consistent_read=True)
        except model.DoesNotExist:
            return None
        except PynamoDBException as exc:
            raise _domain_error(exc, f"reading {pk} failed") from exc


def _program(item: Any) -> Program:
    return Program(
        program_id=item.program_id,
        name=item.name,
        created_at=item.created_at,
        timezone=item.timezone,
        signing_secret=item.signing_secret,
    )


def _api_key(item: Any) -> ApiKey:
    return ApiKey(
        key_id=item.key_id,
        program_id=item.program_id,
        role=item.role,
        actor=item.actor,
        secret_hash=item.secret_hash,
        created_at=item.created_at,
        revoked_at=item.revoked_at,
    )


def _event(item: Any) -> StoredEvent:
    return StoredEvent(
        program_id=item.program_id,
        event_id=item.event_id,
        type=item.type,
        body=json.loads(item.body),
        body_hash=item.body_hash,
        occurred_at=item.occurred_at,
        received_at=item.received_at,
        status=item.status,
        decision=json.loads(item.decision) if item.decision else None,
        case_id=item.case_id,
        failure=item.failure,
    )
