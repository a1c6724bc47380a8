"""What the domain asks storage to write: the decided changes, item by item, each with the
condition under which the decision still holds.

The rules (the modules beside this one) decide; a store only applies. A `Step` is written
entirely or not at all (a DynamoDB transaction, at most `MAX_STEP_ITEMS` items; the in-memory
store under its lock). When a condition no longer holds, the store writes nothing and raises
`StepRefused` naming the write that failed; the caller reads again and decides again. A change
too big for one step is a list of steps, each safe to apply again (set additions, conditional
moves), so a run that stops half way is finished by the next one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from functions.shared.domain.holdables import ListChange
from functions.shared.domain.model import (
    AuditEntry,
    Case,
    LinkKey,
    Notification,
    Reason,
    Reward,
    StoredEvent,
    Subject,
)
from functions.shared.errors import DomainError

TRANSACT_LIMIT = 100  # DynamoDB's TransactWriteItems limit
# kept free in every step for the program's summary figures (`domain/summary.py`): its totals and the
# day of a case opened, or the two days a case's flag moves between (`FlagMoved`)
SUMMARY_ITEMS = 3
MAX_STEP_ITEMS = TRANSACT_LIMIT - SUMMARY_ITEMS  # what the rules may put in one step


@dataclass(frozen=True, slots=True)
class ScoreEvent:
    """The event's decision; only while the event is not scored yet."""

    program_id: str
    event_id: str
    decision: dict[str, Any]
    case_id: str | None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class WriteProfile:
    """The subject's profile as decided, written whole but for its revenue (added by others), on
    condition that its version is still `expect_version` (0: not stored yet). Sets are written
    whole too: the profile read was the latest.

    With `before` (the profile as read, whose version is `expect_version`), a store may write only
    the fields that differ from it: the version condition holds only while the stored profile is
    that one, but for two fields changed without a new version: `marks_pending` (the marks' last
    step), always written, and `customer_marks` (the sweep's rewrite of a customer's marks), written
    only when the event changed it, so that a rewrite meanwhile stays noted."""

    subject: Subject
    expect_version: int
    arrivals: int = 0  # rewards of this partner arriving with the event (added to `reward_seq`)
    listed: ListChange | None = None  # its holdable rewards' list (`holdables`), entry by entry
    before: Subject | None = None


@dataclass(frozen=True, slots=True)
class UpdateProfile:
    """Sets the given fields of a stored profile (and, with `bump`, counts a new version), on
    condition that each field in `expect` still has the value given. Without changes or a new
    version (`guard`), only the condition: a step that holds only while the profile does."""

    program_id: str
    subject_type: str
    subject_id: str
    changes: dict[str, Any]
    expect: dict[str, Any] = field(default_factory=dict)
    bump: bool = True

    @classmethod
    def guard(cls, program_id: str, subject_type: str, subject_id: str, **expect: Any) -> UpdateProfile:
        return cls(program_id, subject_type, subject_id, {}, expect=expect, bump=False)


@dataclass(frozen=True, slots=True)
class PartnerArrival:
    """A reward (and a transaction's revenue) arriving for a partner scored in another subject's
    event: counts the arrival on the partner (`reward_seq`, so a removal in flight sees it), on
    condition that the partner's status and flag case are still what was read (`expect_status`
    None: the partner is not stored: its list and the revenue are kept on its item for the profile
    it will have, and nothing else is written)."""

    program_id: str
    partner_id: str
    expect_status: str | None
    expect_flag_case: str | None
    currency: str | None = None
    micros: int = 0
    reward: bool = True
    listed: ListChange | None = None  # the partner's holdable rewards' list; written stored or not
    # a partner not stored: its item keeps the revenue for its profile to take when first written;
    # whether the item kept some already (the first is its own, on condition that there was none)
    revenue_kept: bool = False
    # a large commission (`signals.large_reward`): only while the partner's version is the one read,
    # and counted as a new version, so that a payout change scored beside it, which writes under
    # the version it read, is decided again with the commission, and this purchase with the change
    expect_version: int | None = None


@dataclass(frozen=True, slots=True)
class MarkLink:
    """Adds members to (and takes them from) the sets of one identifier's link item; with
    `count_up`, adds one to each of those velocity slots and takes the `stale` slots away
    (`velocity`); with `expect_members`, only while the item names that many members (no one
    joined since they were read: `links.guarded_joins`)."""

    program_id: str
    key: LinkKey
    add: dict[str, frozenset[str]] = field(default_factory=dict)  # members | flagged | removed | blocked
    remove: dict[str, frozenset[str]] = field(default_factory=dict)
    count_up: frozenset[str] = frozenset()
    stale: frozenset[str] = frozenset()
    expect_members: int | None = None


@dataclass(frozen=True, slots=True)
class SpillIdentifier:
    """Keeps one identifier of a subject outside its profile (`profiles.PROFILE_KEEPS`): an item of
    its own, written once whatever the retries (idempotent)."""

    program_id: str
    subject_type: str
    subject_id: str
    field: str  # emails | devices | ips | payouts
    value: str


@dataclass(frozen=True, slots=True)
class MarkNetwork:
    """The same for one identifier's platform-level network item (tokens only)."""

    key: LinkKey
    add: dict[str, frozenset[str]] = field(default_factory=dict)  # programs | flagged | removed
    remove: dict[str, frozenset[str]] = field(default_factory=dict)
    # a subject's mark and its tokens (`links.giver_tokens`), kept as the identifier's first giver
    # unless one is kept already (`links.network_first`)
    first: str | None = None
    first_by: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class CountUp:
    program_id: str
    name: str
    expires_at: int  # epoch seconds


@dataclass(frozen=True, slots=True)
class PutReward:
    """A new reward; only if its id is free."""

    reward: Reward


@dataclass(frozen=True, slots=True)
class MoveReward:
    """One reward from `expect` to `status`; only if it is still `expect` (with `never_overridden`,
    was never overridden; with `expect_case`, is still under that case: a held reward the dispute
    cycle moved under another case of its subject leaves that case's figures, not the one read).
    `case_id` is written when given; `released`, the approval of its partner's case that puts it
    back to `pending` (`Reward.released`), for good."""

    program_id: str
    reward_id: str
    expect: str
    status: str
    case_id: str | None = None
    overridden: bool | None = None
    released: bool = False
    never_overridden: bool = False
    expect_case: str | None = None


@dataclass(frozen=True, slots=True)
class PutCase:
    """A new case; only if its id is free."""

    case: Case


NO_VERDICT = ""  # `UpdateCase.expect_verdict`: no verdict recorded (no verdict is an empty text)


@dataclass(frozen=True, slots=True)
class UpdateCase:
    """Changes one case, on condition that its status is one of `expect` (any, when empty; the
    case must exist), with `expect_flags`, that exactly that many events have flagged its subject
    under it (`Case.flags`: no flag merged since it was read), with `expect_verdict`, that the
    security team's verdict is that one (`NO_VERDICT`: that there is none yet), and with
    `expect_held`, that it holds that many rewards (a plan that moved every held reward it read
    ends only if no other is held: an index read a moment behind a hold does not leave that reward
    held under a case that is done). Figures are added (negative to take away), `flags` too;
    `reasons` are merged per code: the detail replaced, the count raised, the first time kept."""

    program_id: str
    case_id: str
    expect: tuple[str, ...] = ()
    changes: dict[str, Any] = field(default_factory=dict)
    held: int = 0
    hold_micros: dict[str, int] = field(default_factory=dict)
    archived: int = 0
    archived_micros: dict[str, int] = field(default_factory=dict)
    reasons: tuple[Reason, ...] = ()
    flags: int = 0
    expect_flags: int | None = None
    expect_verdict: str | None = None
    expect_held: int | None = None
    flag_moved: FlagMoved | None = None  # with `changes["flagged_at"]`, the flag's earlier time


@dataclass(frozen=True, slots=True)
class FlagMoved:
    """An active case's flag moved back (`UpdateCase.flag_moved`, SPEC 4): an event dated before
    the case's flag, arriving after it, flagged its subject too. The case is flagged when that event
    occurred (`changes["flagged_at"]`), and the day's figures move with it: the case leaves the day
    and the reason codes it was counted under (`was_at`, `was_codes`) for the event's day and codes."""

    was_at: datetime
    was_codes: tuple[str, ...]
    codes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Audit:
    program_id: str
    case_id: str
    entry: AuditEntry
    entry_id: str


@dataclass(frozen=True, slots=True)
class LocateCase:
    """Which program a case id belongs to, for the routes that name a case by its id alone (the
    security team's verdicts): written when the case is disputed, the same every time."""

    case_id: str
    program_id: str


@dataclass(frozen=True, slots=True)
class Notify:
    """A notification, kept in the outbox until the bus has it."""

    notification: Notification


@dataclass(frozen=True, slots=True)
class RecordEvent:
    """An internal event the step records (`linked_earlier`'s reviews), in the events' outbox until
    scoring takes it (sent to the queue after the commit, or by the relay). Unconditional: its id is
    the scored event's, the partner's and the link's, and only the step that scores that event
    writes it (`ScoreEvent` guards it)."""

    event: StoredEvent


@dataclass(frozen=True, slots=True)
class CountSummary:
    """Adds to a program's summary figures (SPEC 3.2 `GET /v1/summary`): case counts by status,
    held rewards (count and micro-units per currency), and, for a case opened, its flag in the
    day's figures (`flag_day`, its reason codes). Unconditional: it rides in the step whose
    conditions decide the change it counts, so it is counted exactly when that change is written.
    Derived from the step by `summary.counted`, never written by a rule by hand."""

    program_id: str
    cases: dict[str, int] = field(default_factory=dict)  # status -> +1 / -1
    held: int = 0
    held_micros: dict[str, int] = field(default_factory=dict)
    days: tuple[DayFlags, ...] = ()  # the flag days whose figures change, each its own item

    @property
    def items(self) -> int:
        """The items it writes: the totals, and one a day."""
        return 1 + len(self.days)


@dataclass(frozen=True, slots=True)
class DayFlags:
    """What a step adds to one day's flag figures: the cases flagged that day (a case opened, or
    one whose flag moved to it; -1 for one whose flag moved from it) and their reason codes."""

    day: str  # YYYY-MM-DD (UTC)
    flags: int
    reasons: dict[str, int] = field(default_factory=dict)  # reason code -> cases flagged with it
    expires_at: int = 0  # epoch seconds: a day's figures outlive the 30 days shown, then go


@dataclass(frozen=True, slots=True)
class ListRewards:
    """Changes a subject's list of holdable rewards (`holdables`), stored or not (the list of a
    subject not stored yet waits on its item for the profile). Unconditional: per entry."""

    program_id: str
    subject_type: str
    subject_id: str
    change: ListChange


@dataclass(frozen=True, slots=True)
class ClaimTransaction:
    """A transaction's id, taken by the event that recorded it: only if free, or taken by this very
    event (a retry of its scoring). A second event of one transaction counts it once."""

    program_id: str
    transaction_id: str
    event_id: str
    # the transaction's customer: an API reward naming only the transaction is tied to it (SPEC 4)
    customer_id: str | None = None
    # the rewards waiting on it (`AwaitTransaction`) as read: all are released (tied by the same
    # step), and the claim holds only while no other came meanwhile
    waiting: int = 0


@dataclass(frozen=True, slots=True)
class AwaitTransaction:
    """An API reward naming only a transaction that no event recorded yet (events arrive out of
    order, SPEC 4) leaves its entry (`holdables.entry`) waiting on the transaction's claim, to be
    tied to the transaction's customer by the event that claims it. Added to a set: concurrent
    rewards never undo each other's; only while no event recorded the transaction, and while fewer
    than `most` wait (the claim ties them all in its own step: rewards scored at once, each having
    read room, must not pass it together)."""

    program_id: str
    transaction_id: str
    entry: str
    most: int


@dataclass(frozen=True, slots=True)
class TieReward:
    """A reward becomes a customer's (its customer, and the customer's index of rewards), whatever
    its status; only a reward that exists."""

    program_id: str
    reward_id: str
    customer_id: str


Write = (
    ScoreEvent
    | WriteProfile
    | UpdateProfile
    | PartnerArrival
    | MarkLink
    | MarkNetwork
    | SpillIdentifier
    | CountUp
    | PutReward
    | MoveReward
    | PutCase
    | UpdateCase
    | Audit
    | LocateCase
    | Notify
    | RecordEvent
    | CountSummary
    | ListRewards
    | ClaimTransaction
    | AwaitTransaction
    | TieReward
)


@dataclass
class Step:
    """Writes applied together or not at all."""

    writes: list[Write] = field(default_factory=list)

    def add(self, *writes: Write) -> Step:
        self.writes.extend(writes)
        return self

    def __len__(self) -> int:
        return len(self.writes)

    def notifications(self) -> list[Notification]:
        return [w.notification for w in self.writes if isinstance(w, Notify)]


class StepRefused(DomainError):
    """A condition of the step no longer held: nothing was written. `write` is the write whose
    condition failed (None when the store could not tell)."""

    def __init__(self, detail: str, write: Write | None = None) -> None:
        super().__init__(detail)
        self.write = write
