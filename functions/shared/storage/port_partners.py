"""The partner-program part of the storage port (SPEC 3.2, 4, 5, 7): subjects (partners and referred
customers), identity links, velocity counters, rewards, cases with their audit trail, holds."""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

LinkKey = tuple[str, str]  # (kind, value): ("device", "fp-1"), ("email", "ada@example.com"), ...

REWARD_STATUSES = ("new", "pending", "approved", "on_hold", "declined", "paid", "archived")
HOLDABLE = ("new", "pending")


def subject_key(subject_type: str, subject_id: str) -> str:
    return f"{subject_type}:{subject_id}"


@dataclass
class Subject:
    """A partner or a referred customer of one program, as scoring knows it."""

    program_id: str
    type: str  # partner | customer
    id: str
    name: str = ""
    email: str | None = None  # as sent
    email_normalized: str | None = None
    devices: frozenset[str] = frozenset()
    ips: frozenset[str] = frozenset()
    payout: str | None = None
    country: str | None = None
    group: str | None = None
    team: str | None = None
    tags: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    signup_at: datetime | None = None
    status: str = "active"  # active | flagged | removed
    flagged_at: datetime | None = None
    active_case_id: str | None = None  # the open or disputed case; none once it is resolved
    flag_case_id: str | None = None  # the case whose holds a flagged subject's new rewards join
    last_payout_change_at: datetime | None = None
    revenue_micros: dict[str, int] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return subject_key(self.type, self.id)


@dataclass(frozen=True)
class LinkState:
    """Who used one identifier in a program, and which of them are flagged, removed, blocked."""

    members: frozenset[str] = frozenset()
    flagged: frozenset[str] = frozenset()
    removed: frozenset[str] = frozenset()
    blocked: frozenset[str] = frozenset()


@dataclass(frozen=True)
class NetworkState:
    """One identifier across the network: opaque program tokens only."""

    programs: frozenset[str] = frozenset()
    flagged: frozenset[str] = frozenset()
    removed: frozenset[str] = frozenset()


@dataclass
class Snapshot:
    """Everything scoring reads for one event, in one round trip."""

    subject: Subject | None
    partner: Subject | None
    links: dict[LinkKey, LinkState]
    network: dict[LinkKey, NetworkState]
    counters: dict[str, int]


@dataclass
class Reward:
    program_id: str
    reward_id: str
    partner_id: str
    amount: Decimal
    currency: str
    status: str
    created_at: datetime
    source: str  # transaction | api
    customer_id: str | None = None
    transaction_id: str | None = None
    overridden: bool = False
    case_id: str | None = None


@dataclass
class Case:
    program_id: str
    case_id: str
    subject_type: str
    subject_id: str
    subject_name: str
    reasons: list[dict[str, str]]
    status: str  # open | disputed | approved | declined | removed
    flagged_at: datetime
    flag_event_id: str
    hold_micros: dict[str, int] = field(default_factory=dict)
    held_count: int = 0
    disputed_at: datetime | None = None
    dispute_reason: str | None = None
    resolved_at: datetime | None = None
    verdict: str | None = None
    verdict_note: str | None = None
    removed_at: datetime | None = None
    removed_by: str | None = None
    block_reapply: bool = False
    archived_count: int = 0
    archived_micros: dict[str, int] = field(default_factory=dict)
    subject_team: str | None = None


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    action: str
    actor: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class Flag:
    """Open a case on the subject, or add reasons to its active one."""

    reasons: list[dict[str, str]]
    at: datetime
    event_id: str
    case_id: str  # used when a new case is opened


@dataclass
class ScoringWrite:
    """All an event's scoring changes, written together or not at all."""

    program_id: str
    event_id: str
    decision: dict[str, Any]
    subject: Subject  # the subject's profile after this event
    expected_case_id: str | None  # the active case the snapshot showed (a concurrency guard)
    links: list[LinkKey]  # identifiers to link the subject to
    network: list[LinkKey]  # network identifiers (hashed) to record this program under
    counters: list[tuple[str, int]]  # velocity counters to increment, with their expiry (epoch s)
    reward: Reward | None = None
    revenue: tuple[str, str, int] | None = None  # (partner id, currency, micros) to add
    flag: Flag | None = None


@dataclass
class ScoringOutcome:
    case_id: str | None
    opened: bool
    held: list[Reward]
    already_scored: bool = False


class PartnersPort(abc.ABC):
    """Partner-program storage, in domain terms."""

    @abc.abstractmethod
    def scoring_snapshot(
        self,
        program_id: str,
        subject: tuple[str, str],
        partner_id: str | None,
        links: list[LinkKey],
        network: list[LinkKey],
        counters: list[str],
    ) -> Snapshot:
        """The subject, the referring partner (for transactions), the link, network and counter
        items, read together."""

    @abc.abstractmethod
    def record_scoring(self, write: ScoringWrite, network_token: str) -> ScoringOutcome:
        """Writes the decision, profile, links, counters, reward and flag at once. When the event
        was already scored, changes nothing (`already_scored`). Raises Conflict when the subject's
        active case changed since the snapshot (the caller reads again and retries). A flag holds
        the subject's holdable rewards from the flag time on, in the same write."""

    @abc.abstractmethod
    def mark_event_failed(self, program_id: str, event_id: str, reason: str) -> None: ...

    @abc.abstractmethod
    def get_subject(self, program_id: str, subject_type: str, subject_id: str) -> Subject:
        """Raises NotFound."""

    @abc.abstractmethod
    def get_case(self, program_id: str, case_id: str) -> Case:
        """Raises NotFound."""

    @abc.abstractmethod
    def case_audit(self, program_id: str, case_id: str) -> list[AuditEntry]: ...

    @abc.abstractmethod
    def list_cases(self, program_id: str, view: str) -> list[Case]:
        """Every case of a view (`active`, `resolved`, `removed`), newest flag first (`removed`:
        newest removal first)."""

    @abc.abstractmethod
    def get_reward(self, program_id: str, reward_id: str) -> Reward:
        """Raises NotFound."""

    @abc.abstractmethod
    def subject_rewards(
        self, program_id: str, subject_type: str, subject_id: str, since: datetime | None = None
    ) -> list[Reward]:
        """A partner's or customer's rewards in creation order, from `since` on."""

    @abc.abstractmethod
    def hold_rewards(
        self, program_id: str, case_id: str, rewards: list[Reward], actor: str, at: datetime
    ) -> list[Reward]:
        """Puts each still-holdable, never-overridden reward on hold for the case, adding to the
        case's hold figures; returns those it held (a reward changed meanwhile is skipped)."""

    # --- reward changes made by people and schedules (SPEC 3.2, 4, 7) ----------------------
    @abc.abstractmethod
    def override_reward(self, program_id: str, reward_id: str, actor: str, at: datetime) -> Reward:
        """on_hold -> approved, for good: no sweep or verdict holds it again. Raises NotFound, or
        Conflict when the reward is not on hold."""

    @abc.abstractmethod
    def flagged_subjects(self, shard: int) -> list[Subject]:
        """The flagged subjects of every program in one shard of the `flagged` index."""

    @abc.abstractmethod
    def flagged_shards(self) -> int: ...

    # --- disputes and removals (SPEC 3.2, 3.3, 7) ------------------------------------------
    @abc.abstractmethod
    def open_dispute(self, program_id: str, case_id: str, reason: str, actor: str, at: datetime) -> Case:
        """open -> disputed. Raises NotFound, or Conflict from any other status."""

    @abc.abstractmethod
    def disputes(self) -> list[Case]:
        """Disputed cases of every program, with or without a verdict, oldest dispute first."""

    @abc.abstractmethod
    def record_verdict(self, case_id: str, verdict: str, note: str, actor: str, at: datetime) -> Case:
        """Records (or replaces) the verdict of a disputed case of any program. Raises NotFound for
        a case that is not disputed anywhere."""

    @abc.abstractmethod
    def resolve_dispute(self, case: Case, at: datetime, network: list[LinkKey], token: str) -> list[Reward]:
        """Applies the recorded verdict: held rewards back to pending (approve) or declined
        (decline), case resolved, subject unflagged (approve: on every identifier it is linked
        under) or left flagged (decline). Safe to repeat and to resume: returns the rewards the
        verdict moved, including those moved by a run that stopped half way or ran alongside.
        Raises Conflict when the case is no longer disputed with a verdict."""

    @abc.abstractmethod
    def remove_partner(
        self,
        program_id: str,
        case_id: str,
        block_reapply: bool,
        actor: str,
        at: datetime,
        network: list[LinkKey],
        token: str,
    ) -> Case:
        """Removes the case's partner from the program: rewards archived (held ones leave the hold
        figures of whichever case held them), case `removed`, the partner's identifiers marked
        removed (and blocked) here and in the network. Raises NotFound, or Conflict when the case
        is resolved or already removed or not a partner's."""
