"""The DynamoDB adapter of the storage port, on pynamodb.

`DynamoRepository` is the port on DynamoDB; each domain adds its part as a mixin over `DynamoBase`
and its item classes through `ITEM_BUILDERS`. AWS errors become domain errors in
`dynamodb_base.domain_error`; the one exception is a transaction cancelled because one of its own
conditions no longer held, which the writer of that transaction tells apart first (the partners'
`apply` names the refused write in `StepRefused`; the loyalty writes read again and decide anew).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from pynamodb.attributes import BinaryAttribute, ListAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import PynamoDBException
from pynamodb.models import Model

from functions.shared.config import ConfigurationError
from functions.shared.domain.model import ApiKey, Program, RecordOutcome, SigningSecrets, StoredEvent
from functions.shared.errors import NotFound
from functions.shared.sealing import SecretSealer, program_context
from functions.shared.storage import keys
from functions.shared.storage.dynamodb_base import (
    DynamoBase,
    ItemBuilder,
    Models,
    batch_items,
    condition_failed,
    domain_error,
    event_item,
    side_by_side,
    unpacked_json,
)
from functions.shared.storage.dynamodb_base import build_models as build_base_models
from functions.shared.storage.dynamodb_loyalty import LoyaltyDynamo, loyalty_items
from functions.shared.storage.dynamodb_partners import PartnersDynamo, partner_items
from functions.shared.storage.port import KeyRecord, Repository


def core_items(base: type[Model]) -> dict[str, type[Model]]:
    """Programs, keys and events."""

    class ProgramItem(base, discriminator="program"):  # type: ignore[valid-type,misc,call-arg]
        program_id = UnicodeAttribute()
        name = UnicodeAttribute()
        timezone = UnicodeAttribute()
        # the current and previous signing secrets, sealed together (`sealing.program_context`)
        sealed_signing_secrets = UnicodeAttribute(null=True)
        signing_secret = UnicodeAttribute(null=True)  # in clear: programs written before sealing
        previous_signing_secret = UnicodeAttribute(null=True)
        previous_signing_secret_until = UTCDateTimeAttribute(null=True)
        unsigned_accepted_until = UTCDateTimeAttribute(null=True)
        created_at = UTCDateTimeAttribute()

    class ApiKeyItem(base, discriminator="api_key"):  # type: ignore[valid-type,misc,call-arg]
        key_id = UnicodeAttribute()
        program_id = UnicodeAttribute(null=True)
        role = UnicodeAttribute()
        actor = UnicodeAttribute()
        secret_hash = UnicodeAttribute()
        created_at = UTCDateTimeAttribute()
        revoked_at = UTCDateTimeAttribute(null=True)
        last_used_at = UTCDateTimeAttribute(null=True)
        created_by = UnicodeAttribute(null=True)  # the admin key that made it (`ApiKey.created_by`)

    class EventItem(base, discriminator="event"):  # type: ignore[valid-type,misc,call-arg]
        program_id = UnicodeAttribute()
        event_id = UnicodeAttribute()
        type = UnicodeAttribute()
        body = UnicodeAttribute(null=True)  # items written before bodies were packed
        packed_body = BinaryAttribute(null=True, legacy_encoding=False)  # `pack_json`
        body_hash = UnicodeAttribute()
        occurred_at = UTCDateTimeAttribute()
        received_at = UTCDateTimeAttribute()
        status = UnicodeAttribute()
        decision = UnicodeAttribute(null=True)  # items scored before decisions were packed
        packed_decision = BinaryAttribute(null=True, legacy_encoding=False)  # `pack_json`
        case_id = UnicodeAttribute(null=True)
        failure = UnicodeAttribute(null=True)
        notes = ListAttribute(of=UnicodeAttribute, null=True)

    return {"program": ProgramItem, "api_key": ApiKeyItem, "event": EventItem}


ITEM_BUILDERS: tuple[ItemBuilder, ...] = (core_items, partner_items, loyalty_items)


def build_models(table_name: str, host: str | None = None, region: str = "us-east-1") -> Models:
    return build_base_models(table_name, ITEM_BUILDERS, host, region)


class DynamoRepository(PartnersDynamo, LoyaltyDynamo, DynamoBase, Repository):
    """The storage port on DynamoDB. A program's signing secrets are sealed with `sealer` before
    they are written (never in clear in the table) and opened only when a signature is checked."""

    def __init__(self, models: Models, sealer: SecretSealer | None = None) -> None:
        super().__init__(models)
        self._sealer = sealer

    # --- programs and keys -------------------------------------------------------------
    def _sealed(self, program: Program) -> str | None:
        if program.signing is None:
            return None
        if self._sealer is None:
            raise ConfigurationError(
                "a program's signing secret is sealed before it is stored: no key to seal it with"
            )
        text = json.dumps(list(program.signing.opened))
        return self._sealer.seal(text, program_context(program.program_id))

    def _program(self, item: Any) -> Program:
        signing = None
        if item.sealed_signing_secrets:
            sealed, program_id, sealer = item.sealed_signing_secrets, item.program_id, self._sealer

            def opened() -> tuple[str, str | None]:
                if sealer is None:
                    raise ConfigurationError(
                        f"program {program_id}'s signing secrets: no key to open them with"
                    )
                current, previous = json.loads(sealer.open(sealed, program_context(program_id)))
                return current, previous

            signing = SigningSecrets(opened, sealed)
        elif item.signing_secret:  # written in clear before sealing: read as it is, sealed when next saved
            signing = SigningSecrets.clear(item.signing_secret, item.previous_signing_secret)
        return Program(
            program_id=item.program_id,
            name=item.name,
            created_at=item.created_at,
            timezone=item.timezone,
            signing=signing,
            previous_signing_secret_until=item.previous_signing_secret_until,
            unsigned_accepted_until=item.unsigned_accepted_until,
        )

    def create_program(self, program: Program) -> None:
        item = self._m.program(
            keys.program_item_pk(program.program_id),
            keys.PROGRAM_SK,
            program_id=program.program_id,
            name=program.name,
            timezone=program.timezone,
            sealed_signing_secrets=self._sealed(program),
            created_at=program.created_at,
            # listed on the sparse `programs` index
            programs_pk=keys.PROGRAMS_INDEX_PK,
            created_sk=keys.created_sk(program.created_at, program.program_id),
        )
        try:
            item.save(condition=self._m.base.pk.does_not_exist())
        except PynamoDBException as exc:
            raise domain_error(
                exc, f"creating program {program.program_id}", f"program {program.program_id} exists"
            ) from exc

    def get_program(self, program_id: str) -> Program:
        return self._program(self._program_item(program_id))

    def _program_item(self, program_id: str) -> Any:
        item = self._get(self._m.program, keys.program_item_pk(program_id), keys.PROGRAM_SK)
        if item is None:  # a program made before each had its own partition
            item = self._get(self._m.program, keys.program_pk(), keys.program_sk(program_id))
        if item is None:
            raise NotFound(f"program {program_id} not found")
        return item

    def save_signing_secrets(self, program: Program, read: Program) -> None:
        item, m = self._program_item(program.program_id), self._m.program
        # as read: every save seals anew (a fresh ciphertext, even for the same secret)
        sealed = read.signing.sealed if read.signing is not None else None
        unchanged = (
            m.sealed_signing_secrets == sealed
            if isinstance(sealed, str)
            else m.sealed_signing_secrets.does_not_exist()  # none yet, or in clear (before sealing)
        )
        values = (
            (m.sealed_signing_secrets, self._sealed(program)),
            (m.previous_signing_secret_until, program.previous_signing_secret_until),
            (m.unsigned_accepted_until, program.unsigned_accepted_until),
        )
        try:
            item.update(
                actions=[
                    # none is no attribute (pynamodb would store NULL, which `unchanged` reads as a secret)
                    *(
                        attribute.remove() if value is None else attribute.set(value)
                        for attribute, value in values
                    ),
                    m.signing_secret.remove(),  # a program written before sealing: no longer in clear
                    m.previous_signing_secret.remove(),
                ],
                condition=self._m.base.pk.exists() & unchanged,
            )
        except PynamoDBException as exc:
            meanwhile = f"program {program.program_id}'s signing secrets changed meanwhile"
            raise domain_error(exc, f"changing program {program.program_id}", meanwhile) from exc

    def list_programs(self) -> list[Program]:
        index = self._m.indexes["programs"]
        try:
            found = {item.program_id: self._program(item) for item in index.query(keys.PROGRAMS_INDEX_PK)}
            for item in self._m.program.query(keys.program_pk()):  # made before the index
                found.setdefault(item.program_id, self._program(item))
        except PynamoDBException as exc:
            raise domain_error(exc, "listing programs failed") from exc
        return [found[program_id] for program_id in sorted(found)]

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
            created_by=key.created_by,
        )
        if key.program_id is not None:  # listed on the program_keys index until revoked
            item.program_keys_pk = keys.program_keys_pk(key.program_id)
            item.created_sk = keys.created_sk(key.created_at, key.key_id)
        try:
            item.save(condition=self._m.base.pk.does_not_exist())
        except PynamoDBException as exc:
            raise domain_error(exc, f"creating key {key.key_id}", f"key {key.key_id} exists") from exc

    def get_api_key(self, key_id: str) -> ApiKey:
        item = self._get(self._m.api_key, keys.api_key_pk(key_id), keys.API_KEY_SK)
        if item is None:
            raise NotFound(f"key {key_id} not found")
        return _api_key(item)

    def load_credentials(self, key_id: str) -> tuple[KeyRecord, Program | None]:
        item = self._get(self._m.api_key, keys.api_key_pk(key_id), keys.API_KEY_SK)
        if item is None:
            raise NotFound(f"key {key_id} not found")
        record = _key_record(item)
        if record.key.program_id is None:
            return record, None
        try:
            return record, self.get_program(record.key.program_id)
        except NotFound:
            raise NotFound(f"key {key_id} belongs to no program") from None

    def load_key(self, key_id: str) -> KeyRecord:
        item = self._get(self._m.api_key, keys.api_key_pk(key_id), keys.API_KEY_SK)
        if item is None:
            raise NotFound(f"key {key_id} not found")
        return _key_record(item)

    def revoke_api_key(self, key_id: str, at: datetime) -> ApiKey:
        item = self._get(self._m.api_key, keys.api_key_pk(key_id), keys.API_KEY_SK)
        if item is None:
            raise NotFound(f"key {key_id} not found")
        if item.revoked_at is None:
            try:
                item.update(
                    # out of the program's listing in the same write
                    actions=[self._m.api_key.revoked_at.set(at), self._m.base.program_keys_pk.remove()],
                    condition=self._m.api_key.revoked_at.does_not_exist(),
                )
            except PynamoDBException as exc:
                if not condition_failed(exc):
                    raise domain_error(exc, f"revoking key {key_id} failed") from exc
                item.refresh()
        return _api_key(item)

    def list_api_keys(self, program_id: str) -> list[KeyRecord]:
        index = self._m.indexes["program_keys"]
        try:
            query = index.query(keys.program_keys_pk(program_id), scan_index_forward=False)
            return [_key_record(item) for item in query if isinstance(item, self._m.api_key)]
        except PynamoDBException as exc:
            raise domain_error(exc, "listing the program's keys failed") from exc

    def note_key_used(self, key_id: str, at: datetime, unless_since: datetime) -> bool:
        item = self._m.api_key(keys.api_key_pk(key_id), keys.API_KEY_SK)
        last_used = self._m.api_key.last_used_at
        try:
            item.update(
                actions=[last_used.set(at)],
                condition=self._m.base.pk.exists()
                & self._m.api_key.revoked_at.does_not_exist()
                & (last_used.does_not_exist() | (last_used < unless_since)),
            )
        except PynamoDBException as exc:
            if condition_failed(exc):
                return False
            raise domain_error(exc, f"recording the use of key {key_id} failed") from exc
        return True

    # --- events --------------------------------------------------------------------------
    def record_event(self, event: StoredEvent) -> RecordOutcome:
        item = event_item(self._m.event, event)
        try:
            item.save(condition=self._m.base.pk.does_not_exist())
            return RecordOutcome(event, created=True)
        except PynamoDBException as exc:
            if not condition_failed(exc):
                raise domain_error(exc, f"recording event {event.event_id} failed") from exc
        return RecordOutcome(self.get_event(event.program_id, event.event_id), created=False)

    def get_event(self, program_id: str, event_id: str) -> StoredEvent:
        item = self._get(self._m.event, keys.event_pk(program_id, event_id), keys.EVENT_SK)
        if item is None:
            raise NotFound(f"event {event_id} not found")
        return _event(item)

    def get_events(self, refs: list[tuple[str, str]]) -> dict[tuple[str, str], StoredEvent]:
        wanted = list(dict.fromkeys((keys.event_pk(p, e), keys.EVENT_SK) for p, e in refs))
        found: dict[tuple[str, str], StoredEvent] = {}
        try:
            for item in batch_items(self._m.event, wanted, what="reading a batch of events"):
                found[(item.program_id, item.event_id)] = _event(item)
        except PynamoDBException as exc:
            raise domain_error(exc, "reading a batch of events failed") from exc
        return found

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
                found.extend(_event(item) for item in query if isinstance(item, self._m.event))
        except PynamoDBException as exc:
            raise domain_error(exc, "reading the outbox failed") from exc
        found.sort(key=lambda e: e.received_at)
        return found[:limit]

    def recently_queued(
        self, program_id: str, received_after: datetime, received_before: datetime, per_shard: int
    ) -> list[StoredEvent]:
        if per_shard <= 0 or received_after >= received_before:
            return []
        index = self._m.indexes["outbox"]
        # "<time>#": at or after `received_after`; every key of `received_before` sorts above it
        lower, upper = keys.outbox_sk(received_after, ""), keys.outbox_sk(received_before, "")

        def newest(shard: int) -> list[StoredEvent]:  # one query of `per_shard` items at most
            query = index.query(
                keys.outbox_pk(program_id, shard),
                range_key_condition=self._m.base.outbox_sk.between(lower, upper),
                scan_index_forward=False,
                limit=per_shard,
            )
            return [_event(item) for item in query if isinstance(item, self._m.event)]

        try:
            found = side_by_side(newest, keys.OUTBOX_SHARDS)
        except PynamoDBException as exc:
            raise domain_error(exc, "reading the outbox failed") from exc
        return sorted(found, key=lambda e: e.arrival)

    def outbox_pages(
        self, program_id: str, received_before: datetime, page_size: int
    ) -> Iterator[list[StoredEvent]]:
        index = self._m.indexes["outbox"]
        upper = keys.outbox_sk(received_before, "")
        for shard in range(keys.OUTBOX_SHARDS):
            page: list[StoredEvent] = []
            try:
                for item in index.query(
                    keys.outbox_pk(program_id, shard),
                    range_key_condition=self._m.base.outbox_sk < upper,
                    page_size=page_size,
                ):
                    if isinstance(item, self._m.event):
                        page.append(_event(item))
                    if len(page) >= page_size:
                        yield page
                        page = []
            except PynamoDBException as exc:
                raise domain_error(exc, "reading the outbox failed") from exc
            if page:
                yield page

    def clear_outbox(self, program_id: str, event_id: str) -> None:
        item = self._m.event(keys.event_pk(program_id, event_id), keys.EVENT_SK)
        try:
            item.update(
                actions=[self._m.base.outbox_pk.remove(), self._m.base.outbox_sk.remove()],
                condition=self._m.base.pk.exists(),
            )
        except PynamoDBException as exc:
            if condition_failed(exc):
                return
            raise domain_error(exc, f"clearing event {event_id} from the outbox failed") from exc


def _api_key(item: Any) -> ApiKey:
    return ApiKey(
        key_id=item.key_id,
        program_id=item.program_id,
        role=item.role,
        actor=item.actor,
        secret_hash=item.secret_hash,
        created_at=item.created_at,
        revoked_at=item.revoked_at,
        created_by=item.created_by,
    )


def _key_record(item: Any) -> KeyRecord:
    return KeyRecord(_api_key(item), item.last_used_at)


def _event(item: Any) -> StoredEvent:
    return StoredEvent(
        program_id=item.program_id,
        event_id=item.event_id,
        type=item.type,
        body=unpacked_json(item.packed_body, item.body),
        body_hash=item.body_hash,
        occurred_at=item.occurred_at,
        received_at=item.received_at,
        status=item.status,
        decision=unpacked_json(item.packed_decision, item.decision),
        case_id=item.case_id,
        failure=item.failure,
        notes=tuple(item.notes or ()),
    )
