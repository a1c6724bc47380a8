"""Aggregated-attributes workflows (SPEC 8), run right after an earn commits.

A workflow's actions run for a customer when its aggregation is strictly above the threshold and
the workflow's marker says they have not run yet. The marker is written with the actions' history
and status change, in one write conditioned on the customer's version, so concurrent evaluations
run them once. Where the marker lives decides when the workflow re-arms:
- calendar ranges (today, week, month, year): on the customer's item of that period, so a new
  period starts without it;
- lifetime: on the customer; it never re-arms;
- rolling windows: on the customer, holding the last local day the aggregation was seen above the
  threshold; it re-arms when, on some day since, the window's value at the start of that day (once
  old points had left it) was at or below the threshold.
`customer: all` also looks for everyone else above the threshold through the audience index.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from functions.loyalty import periods
from functions.loyalty.retry import backoff
from functions.shared.domain.model import Program
from functions.shared.errors import DomainError
from functions.shared.observability import logger, metrics
from functions.shared.runtime import Dependencies
from functions.shared.storage.port_loyalty import (
    LIFETIME,
    BalanceChange,
    CustomerChange,
    HistoryEntry,
    LoyaltyCustomer,
    LoyaltyState,
    PeriodTotals,
    Workflow,
    day_period,
    periods_of,
)

FIRE_ATTEMPTS = 20


@dataclass(frozen=True)
class Marker:
    """That a workflow ran for a customer: on a period item (calendar ranges) or on the customer
    (`LIFETIME`: lifetime and rolling windows, whose value is the last day seen above)."""

    workflow_id: str
    period: str
    value: str
    expected: str | None = None  # the value it must still have (None: not set)


@dataclass(frozen=True)
class Known:
    """The earning customer right after its commit, and its totals in today's day, week, month and
    year (absent: zero): what the earn already read, so evaluating it costs no read."""

    customer: LoyaltyCustomer
    periods: dict[str, PeriodTotals]


def matches(workflow: Workflow, kind: str) -> bool:
    return workflow.enabled and workflow.trigger_kind in (None, kind)


def after_earn(
    deps: Dependencies,
    program: Program,
    kind: str,
    before: LoyaltyState,
    change: BalanceChange,
    now: datetime,
) -> None:
    """Runs the workflows an earn triggers, right after it commits, with what the earn already read.
    The earn is committed already: a failure here is logged and counted, never the earn's answer."""
    matching = [w for w in before.workflows if matches(w, kind)]
    if matching:
        today = periods.local_day(now, program.timezone)
        _run(deps, program, change.action.customer_id, matching, today, _known_after(before, change, today))


def run_for_earn(deps: Dependencies, program: Program, customer_id: str, kind: str, at: datetime) -> None:
    """The same, from references only (a queue consumer running workflows after the fact): every read
    is made here. Idempotent, like `after_earn`: markers keep actions from running twice."""
    state = deps.repository.read_loyalty_state(program.program_id, customer_id, with_workflows=True)
    matching = [w for w in state.workflows if matches(w, kind)]
    if matching:
        _run(deps, program, customer_id, matching, periods.local_day(at, program.timezone), None)


def _run(
    deps: Dependencies,
    program: Program,
    customer_id: str,
    matching: list[Workflow],
    today: date,
    known: Known | None,
) -> None:
    for workflow in matching:
        try:
            wrote = evaluate(deps, program, workflow, customer_id, today, known)
            if wrote or workflow.date_range in periods.ROLLING_DAYS:
                known = None  # the customer may have moved on: read it again
            if workflow.audience == "all":
                for other in audience(deps, program, workflow, today):
                    if other != customer_id:
                        evaluate(deps, program, workflow, other, today)
        except DomainError as error:
            known = None
            logger.warning(
                "workflow evaluation failed",
                extra={
                    "workflow_id": workflow.workflow_id,
                    "customer_id": customer_id,
                    "error": error.detail,
                },
            )
            metrics.add_metric(name="LoyaltyWorkflowFailures", unit=MetricUnit.Count, value=1)


def _known_after(before: LoyaltyState, change: BalanceChange, today: date) -> Known:
    found = dict(before.periods)
    found.update({p.period: p for p in change.periods})
    return Known(
        replace(change.customer, version=change.expected_version + 1),
        {p: found[p] for p in periods_of(today) if p in found},
    )


def audience(deps: Dependencies, program: Program, workflow: Workflow, today: date) -> list[str]:
    """Customers who may be above the threshold, from the audience index (never a scan)."""
    repository = deps.repository
    if workflow.date_range not in periods.ROLLING_DAYS:
        return repository.customers_above(
            program.program_id,
            workflow.aggregation,
            periods.calendar_period(workflow.date_range, today),
            workflow.threshold,
            without_marker=workflow.workflow_id,
        )
    # A sum over n days above T has a day above T // n: those days' customers are the candidates.
    first, last = periods.window(workflow.date_range, today)
    floor = workflow.threshold // periods.ROLLING_DAYS[workflow.date_range]
    candidates: set[str] = set()
    for day in periods.days_between(first, last):
        candidates.update(
            repository.customers_above(program.program_id, workflow.aggregation, day_period(day), floor)
        )
    return sorted(candidates)


def evaluate(
    deps: Dependencies,
    program: Program,
    workflow: Workflow,
    customer_id: str,
    today: date,
    known: Known | None = None,
) -> bool:
    """Runs the workflow's actions for one customer if its filter says so. True when they ran."""
    if known is None and workflow.date_range not in periods.ROLLING_DAYS:
        # an audience member: `fire` checks the filter in the snapshot it reads anyway
        marker: Marker | None = Marker(
            workflow.workflow_id, periods.calendar_period(workflow.date_range, today), today.isoformat()
        )
    else:
        marker = _due(deps, program, workflow, customer_id, today, known)
    return marker is not None and fire(deps, program, workflow, customer_id, marker, known)


def _due(
    deps: Dependencies,
    program: Program,
    workflow: Workflow,
    customer_id: str,
    today: date,
    known: Known | None,
) -> Marker | None:
    """The marker to write if the actions are due now, else None."""
    if workflow.date_range in periods.ROLLING_DAYS:
        customer = (
            known.customer
            if known
            else deps.repository.read_loyalty_state(program.program_id, customer_id).customer
        )
        if customer is None:
            return None
        return _rolling_due(deps, workflow, customer, today, customer.markers.get(workflow.workflow_id))
    assert known is not None
    marker = Marker(
        workflow.workflow_id, periods.calendar_period(workflow.date_range, today), today.isoformat()
    )
    return marker if _with_marker(workflow, known.customer, known.periods, marker) else None


def _rolling_due(
    deps: Dependencies, workflow: Workflow, customer: LoyaltyCustomer, today: date, seen: str | None
) -> Marker | None:
    length = periods.ROLLING_DAYS[workflow.date_range]
    first, _ = periods.window(workflow.date_range, today)
    through = date.fromisoformat(seen) if seen else None
    if through is not None and through >= today:
        return None  # already seen above today: the actions ran, or were not due again
    # enough days to know the window's value at the start of every day since `through`
    start = first if through is None else min(first, through - timedelta(days=length - 2))
    days = deps.repository.loyalty_days(customer.program_id, customer.customer_id, start, today)
    aggregation, threshold = workflow.aggregation, workflow.threshold
    if periods.rolling_sum(days, first, today, aggregation) <= threshold:
        return None
    marker = Marker(workflow.workflow_id, LIFETIME, today.isoformat(), expected=seen)
    if through is None:
        return marker
    for day in periods.days_between(through + timedelta(days=1), today):
        at_start = periods.rolling_sum(
            days, day - timedelta(days=length - 1), day - timedelta(days=1), aggregation
        )
        if at_start <= threshold:
            return marker  # it dipped to the threshold or below since: re-armed
    # above ever since it was last seen: remember how far, so that the next look starts there
    advanced = replace(customer, markers={**customer.markers, workflow.workflow_id: today.isoformat()})
    deps.repository.change_loyalty_customer(CustomerChange(customer.version, advanced))
    return None


def fire(
    deps: Dependencies,
    program: Program,
    workflow: Workflow,
    customer_id: str,
    marker: Marker,
    known: Known | None = None,
) -> bool:
    """Writes the marker, the history and the status change at once, then publishes. False when
    another evaluation got there first."""
    repository = deps.repository
    for attempt in range(FIRE_ATTEMPTS):
        if known is not None:
            customer, found = known.customer, known.periods
        else:
            state = repository.read_loyalty_state(
                program.program_id, customer_id, periods=() if marker.period == LIFETIME else (marker.period,)
            )
            if state.customer is None:
                return False
            customer, found = state.customer, state.periods
        marked = _with_marker(workflow, customer, found, marker)
        if marked is None:
            return False  # not due in this state (or another evaluation ran the actions)
        customer, changed_periods = marked
        changed, entries, events = _actions(deps, program, workflow, customer)
        if repository.change_loyalty_customer(
            CustomerChange(customer.version, changed, changed_periods, tuple(entries))
        ):
            metrics.add_metric(name="LoyaltyWorkflowRuns", unit=MetricUnit.Count, value=1)
            for detail_type, detail in events:
                publish(deps, detail_type, detail)
            return True
        known = None
        backoff(attempt)
    logger.warning("workflow gave up on a busy customer", extra={"customer_id": customer_id})
    return False


def _with_marker(
    workflow: Workflow, customer: LoyaltyCustomer, found: dict[str, PeriodTotals], marker: Marker
) -> tuple[LoyaltyCustomer, tuple[PeriodTotals, ...]] | None:
    """The customer and period items with the marker set, or None when the actions are not due in
    this state: the aggregation is not above the threshold, or the marker moved (they ran)."""
    aggregation, threshold = workflow.aggregation, workflow.threshold
    if marker.period == LIFETIME:
        if workflow.date_range == "lifetime" and customer.lifetime.of(aggregation) <= threshold:
            return None
        if customer.markers.get(marker.workflow_id) != marker.expected:
            return None
        return replace(customer, markers={**customer.markers, marker.workflow_id: marker.value}), ()
    period = found.get(marker.period)
    if period is None or period.totals.of(aggregation) <= threshold or marker.workflow_id in period.markers:
        return None
    return customer, (replace(period, markers={**period.markers, marker.workflow_id: marker.value}),)


def _actions(
    deps: Dependencies, program: Program, workflow: Workflow, customer: LoyaltyCustomer
) -> tuple[LoyaltyCustomer, list[HistoryEntry], list[tuple[str, dict[str, Any]]]]:
    """The customer after the workflow's actions, their history entries and bus events. A workflow
    never unsuspends or unblocks: suspending a blocked customer changes nothing."""
    at, by = deps.clock.now(), f"workflow:{workflow.workflow_id}"
    about = {
        "program_id": program.program_id,
        "customer_id": customer.customer_id,
        "workflow_id": workflow.workflow_id,
    }
    status = customer.status
    entries: list[HistoryEntry] = []
    events: list[tuple[str, dict[str, Any]]] = []
    for action in workflow.actions:
        if action.type == "communication":
            payload = action.payload or {}
            entries.append(HistoryEntry(at, "communication", by, event=action.event, payload=payload))
            events.append(
                ("LoyaltyCommunication", {**about, "event": action.event, "payload": payload, "at": at})
            )
        elif action.type == "suspend" and status == "active":
            status = "suspended"
            entries.append(HistoryEntry(at, "suspended", by))
            events.append(("CustomerSuspended", {**about, "by": by, "at": at}))
        elif action.type == "block" and status != "blocked":
            status = "blocked"
            entries.append(HistoryEntry(at, "blocked", by))
            events.append(("CustomerBlocked", {**about, "by": by, "at": at}))
    return replace(customer, status=status), entries, events


def publish(deps: Dependencies, detail_type: str, detail: dict[str, Any]) -> None:
    """After the commit: a bus that does not answer loses the notification, never the change."""
    try:
        deps.publisher.publish(detail_type, detail)
    except DomainError as error:
        logger.warning("publishing failed", extra={"detail_type": detail_type, "error": error.detail})
        metrics.add_metric(name="LoyaltyPublishFailures", unit=MetricUnit.Count, value=1)
