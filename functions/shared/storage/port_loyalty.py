"""The loyalty part of the storage port (SPEC 3.4 and 8): customers, balances, aggregates,
idempotent earn/spend actions, campaigns and workflows.

Concurrency is the store's, never the process's. Everything in a customer's partition (profile,
period totals, workflow markers, history) changes only together with the profile's version: a
writer reads one consistent snapshot, computes the new state and writes it on condition that the
version is still the one it read (optimistic concurrency). Campaign counters, shared by every
customer, are guarded by conditions on their own values. A write whose condition no longer holds
changes nothing and answers False; the caller reads again and decides again.

Periods are named by ids: `D2026-11-02` (a day), `W2026-11-02` (the week starting that Monday),
`M2026-11`, `Y2026`, and `L` (lifetime, kept on the customer itself).
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from functions.loyalty.caps import QuotaChange, Shard, ShardGrant
from functions.shared.domain.model import Notification

AGGREGATIONS = ("earned", "bonus", "spent")
LIFETIME = "L"


def day_period(day: date) -> str:
    return f"D{day.isoformat()}"


def week_period(day: date) -> str:
    return f"W{(day - timedelta(days=day.weekday())).isoformat()}"  # weeks start on Monday


def month_period(day: date) -> str:
    return f"M{day:%Y-%m}"


def year_period(day: date) -> str:
    return f"Y{day.year:04d}"


def periods_of(day: date) -> tuple[str, str, str, str]:
    """The day, week, month and year an action of that local day counts in."""
    return day_period(day), week_period(day), month_period(day), year_period(day)


@dataclass(frozen=True)
class Totals:
    earned: int = 0
    bonus: int = 0
    spent: int = 0

    def of(self, aggregation: str) -> int:
        return int(getattr(self, aggregation))

    def plus(self, other: Totals) -> Totals:
        return Totals(self.earned + other.earned, self.bonus + other.bonus, self.spent + other.spent)


@dataclass(frozen=True)
class PeriodTotals:
    """A customer's totals in one period, and the workflows whose actions it already had there
    (workflow id -> the local day they ran)."""

    period: str
    totals: Totals = Totals()
    markers: dict[str, str] = field(default_factory=dict)
    # a day's only: of its totals, what arrived on a later local day (an earn or a spend dated back),
    # by the day it arrived: a rolling window's value at the start of a day between had none of it
    late: dict[date, Totals] = field(default_factory=dict)


@dataclass(frozen=True)
class LoyaltyCustomer:
    program_id: str
    customer_id: str
    status: str
    balance: int
    version: int
    lifetime: Totals
    created_at: datetime
    markers: dict[str, str] = field(default_factory=dict)  # lifetime and rolling-window workflows
    # runs still due of the customer's earns that matched a workflow that suspends or blocks: action
    # id -> the earn's time; its spends wait for them (`workflows.spend_waits_for`)
    runs_due: dict[str, datetime] = field(default_factory=dict)
    blocked_from: str | None = (
        None  # while blocked: the status the block was made from (`statuses.status_after`)
    )


@dataclass(frozen=True)
class LoyaltyAction:
    """An accepted earn or spend, kept for idempotency: a retry gets `answer` again."""

    program_id: str
    action_id: str
    kind: str  # earn | spend
    customer_id: str
    body_hash: str
    answer: dict[str, Any]
    at: datetime


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    action: str  # suspended | unsuspended | blocked | unblocked | communication
    by: str
    note: str | None = None
    event: str | None = None
    payload: dict[str, Any] | None = None


@dataclass(frozen=True)
class Campaign:
    program_id: str
    campaign_id: str
    total_cap: int
    per_customer_cap: int
    limit_behavior: str  # soft | dynamic | hard
    starts_at: datetime | None
    ends_at: datetime | None
    updated_at: datetime
    revision: int = 0  # bumped by every settings change; grants are checked against it
    # the total's counter shards read: every one (`get_campaign`), or in an earn's first snapshot
    # only the customer's; the totals below are the campaign's only when every shard was read
    shards: tuple[Shard, ...] = ()

    @property
    def granted_total(self) -> int:
        return sum(s.used for s in self.shards)

    @property
    def customers(self) -> int:
        return sum(s.customers for s in self.shards)


@dataclass(frozen=True)
class WorkflowAction:
    type: str  # communication | suspend | block
    event: str | None = None
    payload: dict[str, Any] | None = None


@dataclass(frozen=True)
class Workflow:
    program_id: str
    workflow_id: str
    trigger_kind: str | None  # None: any earn
    aggregation: str
    date_range: str
    audience: str  # current | all
    threshold: int
    actions: tuple[WorkflowAction, ...]
    enabled: bool
    updated_at: datetime
    # what its markers are kept under: its id while it keeps the actions it was made with, and a
    # new key each time its actions change (`workflows.revised`), so that a customer who had the
    # old actions has not had the new ones (SPEC 8: they run for whoever has not had them yet)
    revision: str | None = None

    @property
    def marker(self) -> str:
        return f"{self.workflow_id}#{self.revision}" if self.revision else self.workflow_id


@dataclass(frozen=True)
class LoyaltyState:
    """One consistent snapshot of what an earn or spend decides on."""

    customer: LoyaltyCustomer | None
    action: LoyaltyAction | None = None
    periods: dict[str, PeriodTotals] = field(default_factory=dict)
    campaign: Campaign | None = None
    campaign_granted: int | None = None  # this customer's bonus from the campaign; None: never had one
    workflows: tuple[Workflow, ...] = ()


@dataclass(frozen=True)
class CampaignGrant:
    """Bonus points granted from a campaign, valid only while the counters are at most the ceilings
    (the values before this grant) and the campaign settings are still at `revision`: the
    customer's counter, and each counter shard the points are spread over (`caps.ShardGrant`)."""

    campaign_id: str
    points: int
    revision: int
    customer_ceiling: int
    first_for_customer: bool
    shards: tuple[ShardGrant, ...]


@dataclass(frozen=True)
class BalanceChange:
    """An earn or a spend, written at once: the action, the customer and the totals of the periods
    it counts in (their new state), and a campaign grant."""

    action: LoyaltyAction
    expected_version: int  # 0: the customer does not exist yet (an earn creates it)
    customer: LoyaltyCustomer  # stored at version expected_version + 1
    periods: tuple[PeriodTotals, ...] = ()
    grant: CampaignGrant | None = None
    workflows_due: WorkflowRun | None = None  # an earn that matched workflows: run them behind the queue


@dataclass(frozen=True)
class WorkflowRun:
    """That an earn's workflows are to be run (SPEC 8: asynchronously, within seconds): recorded in
    the earn's own transaction, sent to the workflow queue after it, taken out when they ran."""

    program_id: str
    action_id: str
    customer_id: str
    kind: str  # the earn's kind, which the workflows' triggers match
    at: datetime  # when the earn was committed
    # the workflows the earn matched, in its environment (on the queue's message; a relayed run,
    # from the due-run item, names none): a runner whose kept list lacks one reads it again
    workflow_ids: tuple[str, ...] = ()
    # the earn's `occurred_at`, whose day's periods it counted in (None: the day of `at`, as for a
    # run recorded before it was kept): its run judges them as well as the day it was received in
    occurred_at: datetime | None = None


@dataclass(frozen=True)
class CustomerChange:
    """A status change, history entries and workflow markers, written at once: the customer and
    the periods whose markers changed, in their new state, and the notifications the change causes
    (SPEC 6), recorded in the notification outbox in the same write (`notifications.recorded`)."""

    expected_version: int
    customer: LoyaltyCustomer  # stored at version expected_version + 1
    periods: tuple[PeriodTotals, ...] = ()
    history: tuple[HistoryEntry, ...] = ()
    notifications: tuple[Notification, ...] = ()


class LoyaltyPort(abc.ABC):
    """Loyalty storage, in domain terms."""

    # --- earn and spend ----------------------------------------------------------------
    @abc.abstractmethod
    def read_loyalty_state(
        self,
        program_id: str,
        customer_id: str,
        *,
        action_id: str | None = None,
        periods: tuple[str, ...] = (),
        campaign_id: str | None = None,
        campaign_shards: tuple[int, ...] | None = None,
        with_workflows: bool = False,
    ) -> LoyaltyState:
        """The customer, the action under that id, the customer's totals in those periods, the
        campaign (with those counter shards, None: every one) with the customer's bonus from it,
        and the program's workflows: all as of one instant (one serializable read)."""

    @abc.abstractmethod
    def record_loyalty_action(self, change: BalanceChange) -> bool:
        """Writes an earn or spend. False, writing nothing, when the action id is taken, the
        customer is no longer at `expected_version`, or the grant no longer fits its ceilings."""

    # --- customers -----------------------------------------------------------------------
    @abc.abstractmethod
    def get_loyalty_customer(self, program_id: str, customer_id: str) -> LoyaltyCustomer:
        """Raises NotFound."""

    @abc.abstractmethod
    def loyalty_customers(self, program_id: str, customer_ids: Sequence[str]) -> list[LoyaltyCustomer]:
        """Those customers as they are now (strongly consistent), in any order; an id with no
        customer is left out. Read together: a hundred in one request."""

    @abc.abstractmethod
    def loyalty_periods(
        self, program_id: str, customer_id: str, periods: tuple[str, ...]
    ) -> dict[str, PeriodTotals]:
        """The customer's totals in those periods (absent: nothing happened in it)."""

    @abc.abstractmethod
    def loyalty_day_items(
        self, program_id: str, customer_id: str, first: date, last: date
    ) -> dict[date, PeriodTotals]:
        """The customer's day periods from `first` to `last`, days with activity only."""

    def loyalty_days(self, program_id: str, customer_id: str, first: date, last: date) -> dict[date, Totals]:
        """The customer's totals per local day from `first` to `last`, days with activity only."""
        return {
            day: found.totals
            for day, found in self.loyalty_day_items(program_id, customer_id, first, last).items()
        }

    @abc.abstractmethod
    def loyalty_history_page(
        self, program_id: str, customer_id: str, before: tuple[int, int] | None, limit: int
    ) -> list[tuple[tuple[int, int], HistoryEntry]]:
        """The customer's history newest first, strictly before the position `before`, at most
        `limit` entries, each with its position (commit order): one query, whatever the history."""

    @abc.abstractmethod
    def change_loyalty_customer(self, change: CustomerChange) -> bool:
        """Writes the change, its notifications into the outbox (`NotificationsPort`) with it.
        False, writing nothing, when the customer is no longer at `expected_version` (or no
        longer exists)."""

    @abc.abstractmethod
    def customers_above(
        self,
        program_id: str,
        aggregation: str,
        period: str,
        threshold: int,
        *,
        without_marker: str | None = None,
    ) -> list[str]:
        """Customers whose `aggregation` in `period` is strictly above `threshold` (and who have no
        marker of that workflow there), found through an index: the cost follows the customers
        listed, not the program's. Like any index, it may lag the latest writes slightly."""

    # --- campaigns -----------------------------------------------------------------------
    @abc.abstractmethod
    def put_campaign(
        self, campaign: Campaign, expected_revision: int, quotas: tuple[QuotaChange, ...] = ()
    ) -> bool:
        """Creates a campaign with its `shards` (`expected_revision` 0: on condition that it does
        not exist), or writes the settings and `revision` to every shard and each shard's quota
        as `quotas` say (`caps.requota`), on condition that every shard is still at
        `expected_revision` and within its ceiling. False, writing nothing, otherwise."""

    @abc.abstractmethod
    def mark_campaign_left(
        self, program_id: str, campaign_id: str, revision: int, left: int, shards: tuple[int, ...]
    ) -> None:
        """Marks on those counter shards that at most `left` points are left under the cap at
        `revision` (`caps.left_marks`, from every shard read together), each on condition that it
        is still at `revision` and on its own: a shard changed since, or busy, is left as it is.
        Idempotent. A cap change (`put_campaign`) clears the marks; a mark of an older revision
        means nothing anyway."""

    @abc.abstractmethod
    def get_campaign(self, program_id: str, campaign_id: str) -> Campaign:
        """The settings and every counter shard. Raises NotFound."""

    @abc.abstractmethod
    def campaigns_page(self, program_id: str, after: str | None, limit: int) -> list[Campaign]:
        """The program's campaigns by id, strictly after the id `after`, at most `limit`: their
        settings as last saved, without counter shards (a campaign's figures are its own read)."""

    @abc.abstractmethod
    def list_every_campaign(self, program_id: str) -> tuple[int, int]:
        """The one-off backfill of the program's list of campaigns (`fraudctl
        backfill-campaign-list`): every campaign saved before the list was kept joins it, with its
        settings. Returns (campaigns found outside the list, campaigns listed). Safe to run again,
        and while the system runs. A store whose list is its campaigns has none to list: (0, 0)."""

    # --- workflows -----------------------------------------------------------------------
    @abc.abstractmethod
    def put_workflow(
        self, workflow: Workflow, admit: Callable[[Mapping[str, Workflow], Workflow], None]
    ) -> Workflow:
        """Creates or replaces one, once `admit`, given the program's workflows as they are when it
        is written (id -> workflow) and this one, lets it (`workflows.admit`: it raises Conflict to
        refuse)."""

    @abc.abstractmethod
    def get_workflow(self, program_id: str, workflow_id: str) -> Workflow:
        """Raises NotFound."""

    @abc.abstractmethod
    def list_workflows(self, program_id: str) -> list[Workflow]:
        """Ordered by id."""

    @abc.abstractmethod
    def delete_workflow(self, program_id: str, workflow_id: str) -> None:
        """Raises NotFound."""

    # --- workflow runs behind the queue --------------------------------------------------
    @abc.abstractmethod
    def workflow_runs_due(self, program_id: str, before: datetime, limit: int) -> list[WorkflowRun]:
        """Earns recorded before `before` whose workflows have not run yet (their send failed, or
        the function stopped after the commit), oldest first within a shard, at most `limit`."""

    @abc.abstractmethod
    def workflow_run_done(self, run: WorkflowRun) -> None:
        """The earn's workflows ran: it leaves the due runs, and its customer's `runs_due` where it
        is there (a change of the customer: its version moves, so an earn or a spend that read it
        before reads again). Idempotent."""
