"""The loyalty part of the in-memory fake."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from functions.loyalty import caps
from functions.loyalty.caps import QuotaChange
from functions.shared.domain.model import Notification
from functions.shared.errors import NotFound
from functions.shared.storage.port_loyalty import (
    LIFETIME,
    BalanceChange,
    Campaign,
    CustomerChange,
    HistoryEntry,
    LoyaltyAction,
    LoyaltyCustomer,
    LoyaltyState,
    PeriodTotals,
    Workflow,
    WorkflowRun,
    day_period,
)


@dataclass
class _State:
    customers: dict[tuple[str, str], LoyaltyCustomer] = field(default_factory=dict)
    periods: dict[tuple[str, str, str], PeriodTotals] = field(default_factory=dict)
    history: dict[tuple[str, str], list[HistoryEntry]] = field(default_factory=dict)
    actions: dict[tuple[str, str], LoyaltyAction] = field(default_factory=dict)
    campaigns: dict[tuple[str, str], Campaign] = field(default_factory=dict)
    campaign_customers: dict[tuple[str, str, str], int] = field(default_factory=dict)
    workflows: dict[str, dict[str, Workflow]] = field(default_factory=dict)
    workflow_runs: dict[tuple[str, str], WorkflowRun] = field(default_factory=dict)


class LoyaltyMemory:
    """Loyalty storage in memory; uses the fake's `_lock` for atomicity, and its notification
    outbox (`PartnersMemory`: what `pending_notifications` lists and the relay delivers)."""

    _lock: threading.RLock
    _notifications: dict[tuple[str, str], Notification]

    def _loyalty(self) -> _State:
        with self._lock:
            if not hasattr(self, "_loyalty_state"):
                self._loyalty_state = _State()
            return self._loyalty_state

    # --- earn and spend ----------------------------------------------------------------
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
        with self._lock:
            state = self._loyalty()
            campaign = state.campaigns.get((program_id, campaign_id)) if campaign_id else None
            if campaign is not None and campaign_shards is not None:
                campaign = replace(
                    campaign, shards=tuple(s for s in campaign.shards if s.index in campaign_shards)
                )
            return copy.deepcopy(
                LoyaltyState(
                    customer=state.customers.get((program_id, customer_id)),
                    action=state.actions.get((program_id, action_id)) if action_id else None,
                    periods={
                        p: state.periods[(program_id, customer_id, p)]
                        for p in periods
                        if (program_id, customer_id, p) in state.periods
                    },
                    campaign=campaign,
                    campaign_granted=(
                        state.campaign_customers.get((program_id, campaign.campaign_id, customer_id))
                        if campaign
                        else None
                    ),
                    workflows=tuple(self.list_workflows(program_id)) if with_workflows else (),
                )
            )

    def record_loyalty_action(self, change: BalanceChange) -> bool:
        action = change.action
        p, c = action.program_id, action.customer_id
        with self._lock:
            state = self._loyalty()
            if (p, action.action_id) in state.actions or not self._at_version(p, c, change.expected_version):
                return False
            grant = change.grant
            if grant is not None:
                campaign = state.campaigns.get((p, grant.campaign_id))
                granted = state.campaign_customers.get((p, grant.campaign_id, c))
                if (
                    campaign is None
                    or campaign.revision != grant.revision
                    or any(campaign.shards[g.index].used > g.ceiling for g in grant.shards)
                    or (granted is None) != grant.first_for_customer
                    or (granted is not None and granted > grant.customer_ceiling)
                ):
                    return False
                shards = list(campaign.shards)
                for g in grant.shards:
                    shard = shards[g.index]
                    shards[g.index] = replace(
                        shard, used=shard.used + g.points, customers=shard.customers + int(g.new_customer)
                    )
                state.campaigns[(p, grant.campaign_id)] = replace(campaign, shards=tuple(shards))
                state.campaign_customers[(p, grant.campaign_id, c)] = (granted or 0) + grant.points
            state.actions[(p, action.action_id)] = copy.deepcopy(action)
            if change.workflows_due is not None:
                state.workflow_runs[(p, action.action_id)] = change.workflows_due
            self._store(p, c, change.expected_version, change.customer, change.periods)
            return True

    def _at_version(self, program_id: str, customer_id: str, expected_version: int) -> bool:
        customer = self._loyalty().customers.get((program_id, customer_id))
        return (customer.version if customer else 0) == expected_version

    def _store(
        self,
        program_id: str,
        customer_id: str,
        expected_version: int,
        customer: LoyaltyCustomer,
        periods: tuple[PeriodTotals, ...],
    ) -> None:
        state = self._loyalty()
        state.customers[(program_id, customer_id)] = copy.deepcopy(
            replace(customer, version=expected_version + 1)
        )
        for period in periods:
            state.periods[(program_id, customer_id, period.period)] = copy.deepcopy(period)

    # --- customers -----------------------------------------------------------------------
    def get_loyalty_customer(self, program_id: str, customer_id: str) -> LoyaltyCustomer:
        with self._lock:
            customer = self._loyalty().customers.get((program_id, customer_id))
            if customer is None:
                raise NotFound(f"customer {customer_id} not found")
            return copy.deepcopy(customer)

    def loyalty_customers(self, program_id: str, customer_ids: Sequence[str]) -> list[LoyaltyCustomer]:
        with self._lock:
            found = (self._loyalty().customers.get((program_id, c)) for c in dict.fromkeys(customer_ids))
            return [copy.deepcopy(customer) for customer in found if customer is not None]

    def loyalty_periods(
        self, program_id: str, customer_id: str, periods: tuple[str, ...]
    ) -> dict[str, PeriodTotals]:
        return self.read_loyalty_state(program_id, customer_id, periods=periods).periods

    def loyalty_day_items(
        self, program_id: str, customer_id: str, first: date, last: date
    ) -> dict[date, PeriodTotals]:
        with self._lock:
            low, high = day_period(first), day_period(last)
            return {
                date.fromisoformat(period[1:]): copy.deepcopy(found)
                for (p, c, period), found in self._loyalty().periods.items()
                if p == program_id and c == customer_id and period[0] == "D" and low <= period <= high
            }

    def loyalty_history_page(
        self, program_id: str, customer_id: str, before: tuple[int, int] | None, limit: int
    ) -> list[tuple[tuple[int, int], HistoryEntry]]:
        # the position is the entry's place in commit order (DynamoDB's: version and place in it);
        # only the page is copied (a view reads a long history a page at a time)
        with self._lock:
            entries = self._loyalty().history.get((program_id, customer_id), [])
            end = len(entries) if before is None else min(len(entries), before[0] + (before[1] > 0))
            newest_first = range(end - 1, max(0, end - limit) - 1, -1)
            return copy.deepcopy([((n, 0), entries[n]) for n in newest_first])

    def change_loyalty_customer(self, change: CustomerChange) -> bool:
        p, c = change.customer.program_id, change.customer.customer_id
        with self._lock:
            if (p, c) not in self._loyalty().customers or not self._at_version(p, c, change.expected_version):
                return False
            self._store(p, c, change.expected_version, change.customer, change.periods)
            self._loyalty().history.setdefault((p, c), []).extend(copy.deepcopy(change.history))
            for n in change.notifications:  # in the outbox with the change, as `Notify` puts them
                self._notifications[(n.program_id, n.notification_id)] = copy.deepcopy(n)
            return True

    def customers_above(
        self,
        program_id: str,
        aggregation: str,
        period: str,
        threshold: int,
        *,
        without_marker: str | None = None,
    ) -> list[str]:
        with self._lock:
            state = self._loyalty()
            if period == LIFETIME:
                found = [
                    (c.customer_id, c.lifetime, c.markers)
                    for (p, _), c in state.customers.items()
                    if p == program_id
                ]
            else:
                found = [
                    (c, t.totals, t.markers)
                    for (p, c, key), t in state.periods.items()
                    if p == program_id and key == period
                ]
            return sorted(
                customer
                for customer, totals, markers in found
                if totals.of(aggregation) > threshold and (without_marker not in markers)
            )

    # --- campaigns -----------------------------------------------------------------------
    def put_campaign(
        self, campaign: Campaign, expected_revision: int, quotas: tuple[QuotaChange, ...] = ()
    ) -> bool:
        with self._lock:
            state = self._loyalty()
            current = state.campaigns.get((campaign.program_id, campaign.campaign_id))
            if (current.revision if current else 0) != expected_revision:
                return False
            shards = campaign.shards
            if current is not None:
                shards = current.shards
                if any(q.ceiling is not None and shards[q.index].used > q.ceiling for q in quotas):
                    return False
                if any(q.within_quota and shards[q.index].used > shards[q.index].quota for q in quotas):
                    return False
                shards = tuple(
                    replace(shard, quota=shard.used if q.quota is None else q.quota, left_seen=None)
                    for shard, q in zip(shards, quotas, strict=True)
                )
            state.campaigns[(campaign.program_id, campaign.campaign_id)] = replace(campaign, shards=shards)
            return True

    def mark_campaign_left(
        self, program_id: str, campaign_id: str, revision: int, left: int, shards: tuple[int, ...]
    ) -> None:
        with self._lock:
            state = self._loyalty()
            campaign = state.campaigns.get((program_id, campaign_id))
            if campaign is None or campaign.revision != revision:
                return  # its settings changed since: nothing is marked
            state.campaigns[(program_id, campaign_id)] = replace(
                campaign,
                shards=tuple(
                    replace(s, left_seen=(revision, left))
                    if s.index in shards and caps.tighter(s.left_seen, revision, left)
                    else s
                    for s in campaign.shards
                ),
            )

    def get_campaign(self, program_id: str, campaign_id: str) -> Campaign:
        with self._lock:
            campaign = self._loyalty().campaigns.get((program_id, campaign_id))
            if campaign is None:
                raise NotFound(f"campaign {campaign_id} not found")
            return campaign

    def campaigns_page(self, program_id: str, after: str | None, limit: int) -> list[Campaign]:
        with self._lock:
            found = sorted(
                (campaign_id, campaign)
                for (program, campaign_id), campaign in self._loyalty().campaigns.items()
                if program == program_id and (after is None or campaign_id > after)
            )
            return [replace(campaign, shards=()) for _, campaign in found[:limit]]

    def list_every_campaign(self, program_id: str) -> tuple[int, int]:
        return 0, 0  # the list is read from the campaigns themselves: none is ever left out

    # --- workflows -----------------------------------------------------------------------
    def put_workflow(
        self, workflow: Workflow, admit: Callable[[Mapping[str, Workflow], Workflow], None]
    ) -> Workflow:
        with self._lock:
            workflows = self._loyalty().workflows.setdefault(workflow.program_id, {})
            admit(workflows, workflow)
            workflows[workflow.workflow_id] = copy.deepcopy(workflow)
            return workflow

    def get_workflow(self, program_id: str, workflow_id: str) -> Workflow:
        with self._lock:
            workflow = self._loyalty().workflows.get(program_id, {}).get(workflow_id)
            if workflow is None:
                raise NotFound(f"workflow {workflow_id} not found")
            return copy.deepcopy(workflow)

    def list_workflows(self, program_id: str) -> list[Workflow]:
        with self._lock:
            workflows = self._loyalty().workflows.get(program_id, {})
            return [copy.deepcopy(workflows[k]) for k in sorted(workflows)]

    def delete_workflow(self, program_id: str, workflow_id: str) -> None:
        with self._lock:
            workflows = self._loyalty().workflows.get(program_id, {})
            if workflow_id not in workflows:
                raise NotFound(f"workflow {workflow_id} not found")
            del workflows[workflow_id]

    # --- workflow runs behind the queue --------------------------------------------------
    def workflow_runs_due(self, program_id: str, before: datetime, limit: int) -> list[WorkflowRun]:
        with self._lock:
            runs = [r for (p, _), r in self._loyalty().workflow_runs.items() if p == program_id]
            return sorted((r for r in runs if r.at < before), key=lambda r: r.at)[:limit]

    def workflow_run_done(self, run: WorkflowRun) -> None:
        with self._lock:
            state = self._loyalty()
            state.workflow_runs.pop((run.program_id, run.action_id), None)
            slot = (run.program_id, run.customer_id)
            customer = state.customers.get(slot)
            if customer is not None and run.action_id in customer.runs_due:
                runs_due = {a: t for a, t in customer.runs_due.items() if a != run.action_id}
                state.customers[slot] = replace(customer, runs_due=runs_due, version=customer.version + 1)
