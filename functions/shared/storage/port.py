"""The storage port: what the domain asks of storage, in domain terms.

Two implementations honour it: `DynamoRepository` (pynamodb, the real thing) and
`InMemoryRepository` (a fake for fast tests). tests/integration/test_repository_contract.py runs
the same contract against both. Nothing above this port imports pynamodb or boto3.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from functions.shared.storage.port_loyalty import LoyaltyPort
from functions.shared.storage.port_partners import PartnersPort

ROLES = ("integration", "viewer", "fraud", "admin", "security")
PLATFORM = None  # program_id of platform-level keys (the security team)


@dataclass(frozen=True)
class Program:
    program_id: str
    name: str
    created_at: datetime
    timezone: str = "UTC"
    signing_secret: str | None = None


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    program_id: str | None
    role: str
    actor: str
    secret_hash: str
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class StoredEvent:
    program_id: str
    event_id: str
    type: str
    body: dict[str, Any]
    body_hash: str
    occurred_at: datetime
    received_at: datetime
    status: str = "queued"  # queued | scored | failed
    decision: dict[str, Any] | None = None
    case_id: str | None = None
    failure: str | None = None


@dataclass(frozen=True)
class RecordOutcome:
    """What `record_event` did: stored the event now, or found one already under that id."""

    event: StoredEvent
    created: bool


@dataclass
class OutboxPage:
    events: list[StoredEvent] = field(default_factory=list)


class Repository(PartnersPort, LoyaltyPort, abc.ABC):
    """The whole port: programs, keys and events here; the partner and loyalty parts in their
    own modules."""

    # --- programs and keys -------------------------------------------------------------
    @abc.abstractmethod
    def create_program(self, program: Program) -> None: ...

    @abc.abstractmethod
    def get_program(self, program_id: str) -> Program:
        """Raises NotFound."""

    @abc.abstractmethod
    def list_programs(self) -> list[Program]: ...

    @abc.abstractmethod
    def create_api_key(self, key: ApiKey) -> None: ...

    @abc.abstractmethod
    def get_api_key(self, key_id: str) -> ApiKey:
        """Raises NotFound."""

    @abc.abstractmethod
    def load_credentials(self, key_id: str) -> tuple[ApiKey, Program | None]:
        """The key and its program in one round trip. Raises NotFound for an unknown key."""

    @abc.abstractmethod
    def revoke_api_key(self, key_id: str, at: datetime) -> ApiKey:
        """Marks the key revoked (idempotent). Raises NotFound."""

    # --- events --------------------------------------------------------------------------
    @abc.abstractmethod
    def record_event(self, event: StoredEvent) -> RecordOutcome:
        """Stores the event and puts it in the outbox unless its id is taken; then returns the
        stored one untouched. Exactly one of concurrent writers of one id gets created=True."""

    @abc.abstractmethod
    def get_event(self, program_id: str, event_id: str) -> StoredEvent:
        """Raises NotFound."""

    @abc.abstractmethod
    def outbox(self, program_id: str, received_before: datetime, limit: int) -> list[StoredEvent]:
        """Events of a program still in the outbox, received before the given time, oldest
        first, at most `limit`."""

    @abc.abstractmethod
    def clear_outbox(self, program_id: str, event_id: str) -> None:
        """Takes an event out of the outbox (scoring has it). Idempotent."""
