"""The storage ports: what each capability asks of storage, in domain terms, and nothing more.

| port | used by |
|---|---|
| `ProgramsPort` (programs, keys) | auth at the API edge, fraudctl, the outbox relay |
| `EventsPort` (events, their outbox) | ingest, the outbox relay, scoring |
| `StepsPort` (apply a decided step; notifications wait in the outbox) | all that change state |
| `ScoringPort` | score |
| `CasesPort` (cases, rewards, holds, overrides, removals) | cases, hold_sweep |
| `DisputesPort` | disputes |
| `NotificationsPort` (the notification outbox) | the notification relay, every publisher |
| `LoyaltyPort` (`port_loyalty.py`) | loyalty |

Two stores implement them all (`Repository`): `DynamoRepository` (pynamodb) and
`InMemoryRepository` (plain dictionaries). Neither holds a rule: the rules decide
(`functions.shared.domain`) and the stores apply (`apply`). The contract tests run the same
tests against both. Nothing above this module imports pynamodb or boto3.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from functions.shared.domain.model import (
    ApiKey,
    AuditEntry,
    Case,
    LinkKey,
    LinkState,
    Notification,
    Program,
    RecordOutcome,
    Reward,
    Snapshot,
    StoredEvent,
    Subject,
)
from functions.shared.domain.summary import SummaryFigures
from functions.shared.domain.writes import Step
from functions.shared.storage.port_loyalty import LoyaltyPort


@dataclass(frozen=True)
class KeyRecord:
    """An API key as stored, with when it was last used: recorded at most once a minute by the
    authentication path (`functions.shared.auth.note_use`), so no request pays a write for it."""

    key: ApiKey
    last_used_at: datetime | None = None


class ProgramsPort(abc.ABC):
    @abc.abstractmethod
    def create_program(self, program: Program) -> None: ...

    @abc.abstractmethod
    def get_program(self, program_id: str) -> Program:
        """Raises NotFound."""

    @abc.abstractmethod
    def list_programs(self) -> list[Program]: ...

    @abc.abstractmethod
    def save_signing_secrets(self, program: Program, read: Program) -> None:
        """Stores the program's signing secret and the one it replaced (with its end), if its
        secrets are still as `read` found them: Conflict when another rotation was saved meanwhile
        (the two would each print a secret, and one would never be accepted); NotFound when the
        program is not stored."""

    @abc.abstractmethod
    def create_api_key(self, key: ApiKey) -> None: ...

    @abc.abstractmethod
    def get_api_key(self, key_id: str) -> ApiKey:
        """Raises NotFound."""

    @abc.abstractmethod
    def load_credentials(self, key_id: str) -> tuple[KeyRecord, Program | None]:
        """The key (with its last use) and its program. Raises NotFound for an unknown key."""

    @abc.abstractmethod
    def load_key(self, key_id: str) -> KeyRecord:
        """The key with its last use, without its program (the edge authorizer reads only API-key
        items). Raises NotFound for an unknown key."""

    @abc.abstractmethod
    def revoke_api_key(self, key_id: str, at: datetime) -> ApiKey:
        """Marks the key revoked (idempotent); a revoked key leaves its program's listing at once.
        Raises NotFound."""

    @abc.abstractmethod
    def list_api_keys(self, program_id: str) -> list[KeyRecord]:
        """A program's keys not revoked, newest first, by a query (never a scan). Platform keys
        belong to no program and are never listed."""

    @abc.abstractmethod
    def note_key_used(self, key_id: str, at: datetime, unless_since: datetime) -> bool:
        """Records `at` as the key's last use unless it was last used at or after `unless_since`
        (one conditional write, so concurrent callers write once). False when nothing was written:
        used recently, revoked, or unknown."""


class EventsPort(abc.ABC):
    @abc.abstractmethod
    def record_event(self, event: StoredEvent) -> RecordOutcome:
        """Stores the event and puts it in the outbox unless its id is taken; then returns the
        stored one untouched. Exactly one of concurrent writers of one id gets created=True."""

    @abc.abstractmethod
    def get_event(self, program_id: str, event_id: str) -> StoredEvent:
        """Raises NotFound."""

    @abc.abstractmethod
    def get_events(self, refs: list[tuple[str, str]]) -> dict[tuple[str, str], StoredEvent]:
        """The events found among (program, event id) references, read together (one round trip
        per 100): the score function reads its SQS batch's events at once. Unknown ones are left out."""

    @abc.abstractmethod
    def outbox(self, program_id: str, received_before: datetime, limit: int) -> list[StoredEvent]:
        """Events of a program still in the outbox, received before the given time, oldest
        first, at most `limit`."""

    @abc.abstractmethod
    def recently_queued(
        self, program_id: str, received_after: datetime, received_before: datetime, per_shard: int
    ) -> list[StoredEvent]:
        """Events of a program still in the outbox received at or after `received_after` and
        before `received_before`, oldest first: of each outbox shard (`keys.outbox_shard`), the
        newest `per_shard`, so that what is read stays bounded however many wait. A synchronous
        decision reads it to score first what arrived before its event."""

    @abc.abstractmethod
    def outbox_pages(
        self, program_id: str, received_before: datetime, page_size: int
    ) -> Iterator[list[StoredEvent]]:
        """Every event of a program still in the outbox, received before the given time, page by
        page (each shard in turn): what a relay sends again, read once per run."""

    @abc.abstractmethod
    def clear_outbox(self, program_id: str, event_id: str) -> None:
        """Takes an event out of the outbox (scoring has it, or it failed for good). Idempotent."""

    @abc.abstractmethod
    def mark_event_failed(self, program_id: str, event_id: str, reason: str) -> None:
        """An event that cannot be scored: `failed`, out of the outbox (unless scored meanwhile)."""


class NotificationsPort(abc.ABC):
    @abc.abstractmethod
    def pending_notifications(self, program_id: str, limit: int) -> list[Notification]:
        """Notifications of a program the bus does not have yet, oldest first."""

    @abc.abstractmethod
    def notifications_delivered(self, notifications: list[Notification]) -> None:
        """The bus has them: out of the outbox, in one round trip per 25. Idempotent."""


class StepsPort(NotificationsPort, abc.ABC):
    @abc.abstractmethod
    def apply(self, step: Step) -> None:
        """Writes every write of the step, or none: raises StepRefused naming the write whose
        condition no longer held, StorageUnavailable when the store does not answer. The step's
        notifications wait in the outbox until `notifications_delivered`."""


class SubjectsPort(abc.ABC):
    @abc.abstractmethod
    def get_subject(self, program_id: str, subject_type: str, subject_id: str) -> Subject:
        """Raises NotFound. With the identifiers spilled out of its profile (`Subject.spilled`)."""

    @abc.abstractmethod
    def spilled_identifiers(
        self, program_id: str, subject_type: str, subject_id: str
    ) -> frozenset[tuple[str, str]]:
        """The subject's identifiers kept outside its profile (`SpillIdentifier`), however many."""

    @abc.abstractmethod
    def subject_rewards(
        self,
        program_id: str,
        subject_type: str,
        subject_id: str,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[Reward]:
        """A partner's or customer's rewards in creation order, from `since` on, and up to `until`
        (inclusive) when given: a read bounded in time is bounded in size whatever the history."""

    @abc.abstractmethod
    def subject_rewards_newest_first(
        self, program_id: str, subject_type: str, subject_id: str, before: tuple[datetime, str] | None = None
    ) -> Iterator[Reward]:
        """A partner's or customer's rewards newest first by (created_at, reward_id), strictly before
        the position `before`, read lazily from its index page by page: a caller that stops early
        has read about what it took, however many rewards the subject has."""


class ScoringPort(EventsPort, StepsPort, SubjectsPort, abc.ABC):
    @abc.abstractmethod
    def scoring_snapshot(
        self,
        program_id: str,
        subject: tuple[str, str],
        partner_id: str | None,
        links: list[LinkKey],
        network: list[LinkKey],
        counters: list[str],
        reward_id: str | None = None,
        customer_id: str | None = None,
        transaction_id: str | None = None,
    ) -> Snapshot:
        """The subject, the referring partner (for transactions), the link, network and counter
        items, and whether the reward id is taken, read together; with `customer_id` (a reward
        through the API for a customer), that customer's list of holdable rewards too; with
        `transaction_id`, the event that recorded that transaction, if one did."""


class HoldsPort(StepsPort, SubjectsPort, abc.ABC):
    """What holding a subject's due rewards needs (`functions.shared.holds`)."""


class CasesPort(HoldsPort, abc.ABC):
    @abc.abstractmethod
    def get_case(self, program_id: str, case_id: str) -> Case:
        """Raises NotFound."""

    @abc.abstractmethod
    def case_held_rewards(self, program_id: str, case_id: str) -> Iterator[Reward]:
        """The rewards on hold under the case, newest first by (created_at, reward_id), read lazily
        (`case_held`): however many rewards its subject has in other states."""

    @abc.abstractmethod
    def case_audit(
        self, program_id: str, case_id: str, before: tuple[datetime, str] | None = None
    ) -> Iterator[tuple[tuple[datetime, str], AuditEntry]]:
        """A case's audit trail newest first, each entry with its position (its time and id),
        strictly before the position `before`, read lazily page by page."""

    @abc.abstractmethod
    def get_reward(self, program_id: str, reward_id: str) -> Reward:
        """Raises NotFound."""

    @abc.abstractmethod
    def place_in_hold_order(self, program_id: str) -> tuple[int, int]:
        """The one-off backfill of the hold-amount order (`fraudctl backfill-hold-order`): every
        active case that has no place in it (stored before the order was kept), or another place
        than its holds give it now (keyed at face value before currencies were compared in euros,
        or at the reference rates of before), is placed by its holds. Returns (cases found without
        their place, cases placed). Safe to run again, and while the system runs. A store that
        orders from the holds directly has nothing to place: (0, 0)."""

    @abc.abstractmethod
    def cases_in_view(
        self,
        program_id: str,
        view: str,
        newest_first: bool,
        after: tuple[Any, str] | None = None,
        by: str = "flagged_at",
    ) -> Iterator[Case]:
        """A view's cases (`active`, `resolved`) in flag order, (flagged_at, case_id), the removed view
        in removal order whatever `by` asks ((removed_at, case_id): `cases.view_time`), or the resolved
        view in resolution order (`by="resolved_at"`: (resolved_at, case_id)), strictly past the
        position `after`, read lazily from an index page by page: a caller that stops after a page
        has read about a page, whatever the view holds. The active view also in hold-amount order
        (`by="hold_amount"`: (`hold_order.order_place` of its holds, case_id), `after` an
        (int, str) position; "newest first" is then largest first): each case placed by its holds
        when the read starts (a store that keeps the order as keys sets those its hold changes left
        stale first: docs/design.md, "The Active tab by hold amount")."""

    @abc.abstractmethod
    def program_rewards(
        self, program_id: str, status: str | None = None, before: tuple[datetime, str] | None = None
    ) -> Iterator[Reward]:
        """The program's rewards (with `status`, only those in it), newest first by (created_at,
        reward_id), strictly before the position `before`, read lazily from a sharded index: what a
        caller takes is about what is read, whatever the table holds."""

    @abc.abstractmethod
    def summary_figures(self, program_id: str, since: date) -> SummaryFigures:
        """The program's kept summary figures, with the flag days from `since` on (one query)."""

    @abc.abstractmethod
    def flagged_subjects(self, shard: int) -> list[Subject]:
        """The flagged subjects of every program in one shard of the `flagged` index."""

    @abc.abstractmethod
    def flagged_shards(self) -> int: ...


class RemovalsPort(EventsPort, CasesPort, abc.ABC):
    """What finishing a removal needs (`functions.shared.removals`): the case's port, the removed
    partner's links as they stand, and the events' outbox for the reviews of the partners on them
    (`linked_removal`)."""

    @abc.abstractmethod
    def read_links(self, program_id: str, link_keys: list[LinkKey]) -> dict[LinkKey, LinkState]:
        """The link items of `link_keys`, read together (an item not stored: an empty `LinkState`)."""


class DisputesPort(HoldsPort, abc.ABC):
    @abc.abstractmethod
    def get_case(self, program_id: str, case_id: str) -> Case:
        """Raises NotFound."""

    @abc.abstractmethod
    def disputes(self, after: tuple[datetime, str, str] | None = None) -> Iterator[Case]:
        """Disputed cases of every program, with or without a verdict, oldest dispute first
        (`cases.dispute_position`), strictly past the position `after`, read lazily from an index
        page by page: a caller that stops after a page has read about a page."""

    @abc.abstractmethod
    def case_program(self, case_id: str) -> str | None:
        """The program of a case that was ever disputed (`LocateCase`), or None."""

    @abc.abstractmethod
    def list_programs(self) -> list[Program]: ...

    @abc.abstractmethod
    def get_program(self, program_id: str) -> Program:
        """Raises NotFound."""


class Repository(ProgramsPort, ScoringPort, RemovalsPort, DisputesPort, LoyaltyPort, abc.ABC):
    """Every port: what a store implements."""
