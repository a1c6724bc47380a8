"""The in-memory fake of the storage port: same contract as the DynamoDB adapter, no network.

A lock makes each method atomic, as a conditional write or a transaction is in DynamoDB."""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from operator import attrgetter

from functions.shared.domain.model import ApiKey, Program, RecordOutcome, StoredEvent
from functions.shared.errors import Conflict, NotFound
from functions.shared.storage import keys
from functions.shared.storage.memory_loyalty import LoyaltyMemory
from functions.shared.storage.memory_partners import PartnersMemory
from functions.shared.storage.port import KeyRecord, Repository

_ARRIVAL = attrgetter("arrival")  # the outbox's order: `StoredEvent.arrival`


class InMemoryRepository(PartnersMemory, LoyaltyMemory, Repository):
    def __init__(self) -> None:
        super().__init__()  # the domain parts set up their own stores
        self._lock = threading.RLock()
        self._programs: dict[str, Program] = {}
        self._keys: dict[str, ApiKey] = {}
        self._key_uses: dict[str, datetime] = {}
        self._events: dict[tuple[str, str], StoredEvent] = {}
        self._outbox: set[tuple[str, str]] = set()

    def create_program(self, program: Program) -> None:
        with self._lock:
            if program.program_id in self._programs:
                raise Conflict(f"program {program.program_id} exists")
            self._programs[program.program_id] = program

    def save_signing_secrets(self, program: Program, read: Program) -> None:
        with self._lock:
            stored = self.get_program(program.program_id)
            if stored.signing is not read.signing:  # each save stores a new one
                raise Conflict(f"program {program.program_id}'s signing secrets changed meanwhile")
            self._programs[program.program_id] = replace(
                stored,
                signing=program.signing,
                previous_signing_secret_until=program.previous_signing_secret_until,
                unsigned_accepted_until=program.unsigned_accepted_until,
            )

    def get_program(self, program_id: str) -> Program:
        with self._lock:
            if program_id not in self._programs:
                raise NotFound(f"program {program_id} not found")
            return self._programs[program_id]

    def list_programs(self) -> list[Program]:
        with self._lock:
            return sorted(self._programs.values(), key=lambda p: p.program_id)

    def create_api_key(self, key: ApiKey) -> None:
        with self._lock:
            if key.key_id in self._keys:
                raise Conflict(f"key {key.key_id} exists")
            self._keys[key.key_id] = key

    def get_api_key(self, key_id: str) -> ApiKey:
        with self._lock:
            if key_id not in self._keys:
                raise NotFound(f"key {key_id} not found")
            return self._keys[key_id]

    def load_credentials(self, key_id: str) -> tuple[KeyRecord, Program | None]:
        with self._lock:
            key = self.get_api_key(key_id)
            record = KeyRecord(key, self._key_uses.get(key_id))
            if key.program_id is None:
                return record, None
            if key.program_id not in self._programs:
                raise NotFound(f"key {key_id} belongs to no program")
            return record, self._programs[key.program_id]

    def load_key(self, key_id: str) -> KeyRecord:
        with self._lock:
            return KeyRecord(self.get_api_key(key_id), self._key_uses.get(key_id))

    def revoke_api_key(self, key_id: str, at: datetime) -> ApiKey:
        with self._lock:
            key = self.get_api_key(key_id)
            if key.revoked_at is None:
                key = replace(key, revoked_at=at)
                self._keys[key_id] = key
            return key

    def list_api_keys(self, program_id: str) -> list[KeyRecord]:
        with self._lock:
            listed = [
                KeyRecord(key, self._key_uses.get(key.key_id))
                for key in self._keys.values()
                if key.program_id == program_id and key.active
            ]
        return sorted(listed, key=lambda r: (r.key.created_at, r.key.key_id), reverse=True)

    def note_key_used(self, key_id: str, at: datetime, unless_since: datetime) -> bool:
        with self._lock:
            key = self._keys.get(key_id)
            last = self._key_uses.get(key_id)
            if key is None or not key.active or (last is not None and last >= unless_since):
                return False
            self._key_uses[key_id] = at
            return True

    def record_event(self, event: StoredEvent) -> RecordOutcome:
        with self._lock:
            slot = (event.program_id, event.event_id)
            if slot in self._events:
                return RecordOutcome(self._events[slot], created=False)
            self._keep_event(event)
            return RecordOutcome(event, created=True)

    def get_event(self, program_id: str, event_id: str) -> StoredEvent:
        with self._lock:
            if (program_id, event_id) not in self._events:
                raise NotFound(f"event {event_id} not found")
            return copy.deepcopy(self._events[(program_id, event_id)])

    def get_events(self, refs: list[tuple[str, str]]) -> dict[tuple[str, str], StoredEvent]:
        with self._lock:
            return {ref: copy.deepcopy(self._events[ref]) for ref in refs if ref in self._events}

    def outbox(self, program_id: str, received_before: datetime, limit: int) -> list[StoredEvent]:
        with self._lock:
            waiting = [
                self._events[slot]
                for slot in self._outbox
                if slot[0] == program_id and self._events[slot].received_at < received_before
            ]
            waiting.sort(key=lambda e: e.received_at)
            return [copy.deepcopy(e) for e in waiting[:limit]]

    def recently_queued(
        self, program_id: str, received_after: datetime, received_before: datetime, per_shard: int
    ) -> list[StoredEvent]:
        if per_shard <= 0:
            return []
        with self._lock:
            shards: dict[int, list[StoredEvent]] = {}
            for slot in self._outbox:
                event = self._events[slot]
                if slot[0] == program_id and received_after <= event.received_at < received_before:
                    shards.setdefault(keys.outbox_shard(event.event_id), []).append(event)
            newest = [e for waiting in shards.values() for e in sorted(waiting, key=_ARRIVAL)[-per_shard:]]
            return [copy.deepcopy(e) for e in sorted(newest, key=_ARRIVAL)]

    def outbox_pages(
        self, program_id: str, received_before: datetime, page_size: int
    ) -> Iterator[list[StoredEvent]]:
        waiting = self.outbox(program_id, received_before, len(self._outbox))
        for start in range(0, len(waiting), page_size):
            yield waiting[start : start + page_size]

    def clear_outbox(self, program_id: str, event_id: str) -> None:
        with self._lock:
            self._outbox.discard((program_id, event_id))
