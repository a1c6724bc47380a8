"""Aggregated-attributes workflows (SPEC 8), run behind the workflow queue after an earn commits.

A workflow's actions run for a customer when its aggregation is strictly above the threshold and
the workflow's marker says they have not run yet. The marker is written with the actions' history
and status change, in one write conditioned on the customer's version, so concurrent evaluations
run them once. Where the marker lives decides when the workflow re-arms:
- calendar ranges (today, week, month, year): on the customer's item of that period, so a new
  period starts without it;
- lifetime: on the customer; it never re-arms;
- rolling windows: on the customer, holding the last local day the aggregation was seen above the
  threshold; it re-arms when, on some day since, the window's value at the start of that day (once
  old points had left it, and without what arrived later dated back into it: `periods.at_start`)
  was at or below the threshold.
`customer: all` also looks for everyone else above the threshold through the audience index, at
once per workflow for all the runs a Lambda environment received before the sweep started (see
`_sweep_due`).

The earn records that its workflows are due in its own transaction (`WorkflowRun`), then sends
that reference to the queue (`dispatch`); the queue's consumer runs them (`run_due`) and takes the
run out; the relay sends again what is still due a while later. Nothing here is the earn's answer.
"""

from __future__ import annotations

import itertools
import json
import weakref
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from functions.loyalty import notifications, periods, workflow_cache
from functions.loyalty.retry import backoff
from functions.loyalty.statuses import TRANSITIONS, status_after
from functions.shared.domain import actors
from functions.shared.domain.model import Program
from functions.shared.errors import Conflict, DomainError, StorageRefused, StorageUnavailable
from functions.shared.observability import logger, metrics
from functions.shared.replaces import ANYTHING, Replaces
from functions.shared.replaces import check as check_replaces
from functions.shared.runtime import Dependencies
from functions.shared.storage.port_loyalty import (
    LIFETIME,
    CustomerChange,
    HistoryEntry,
    LoyaltyCustomer,
    PeriodTotals,
    Workflow,
    WorkflowRun,
)

FIRE_ATTEMPTS = 20


MAX_WORKFLOWS = 50  # per program: every earn matches its kind against them (cached)
# A program's workflows are kept together (one item of at most 400 KB, read with an earn's snapshot
# when its cache is cold): fifty of ten actions with twenty 256-character texts each do not fit, and
# a text of emoji takes four bytes a character. What they take together, as `stored_size` counts it,
# is bounded below the item's limit with room for what the count leaves out.
WORKFLOWS_STORED_MAX = 300_000


def stored_size(workflow: Workflow) -> int:
    """About the bytes a workflow takes where it is kept: its id and actions as UTF-8 JSON, and a
    fixed allowance for its filter, trigger and times (under 200 bytes as stored)."""
    actions = [[action.type, action.event, action.payload] for action in workflow.actions]
    return len(workflow.workflow_id.encode()) + len(json.dumps(actions, ensure_ascii=False).encode()) + 200


def admit(
    workflow_id: str, limit: int | None = None, replaces: Replaces = ANYTHING
) -> Callable[[Mapping[str, Workflow], Workflow], None]:
    """The check a store makes, given the program's workflows as it writes (atomically with the
    write: id -> workflow) and the one it saves as `workflow_id`: a program has at most `limit`, a
    replacement is no new one; they take at most `WORKFLOWS_STORED_MAX` together, unless it
    replaces one at least as large; and the one there is what the PUT says it replaces
    (`replaces`)."""

    most = MAX_WORKFLOWS if limit is None else limit

    def check(existing: Mapping[str, Workflow], saved: Workflow) -> None:
        there = existing.get(workflow_id)
        check_replaces(f"workflow {workflow_id}", replaces, there.updated_at if there else None)
        if there is None and len(existing) >= most:
            raise Conflict(f"a program has at most {most} workflows")
        size = stored_size(saved) + sum(stored_size(w) for k, w in existing.items() if k != workflow_id)
        # one no larger than the one it replaces is taken: a program over the bound (saved before
        # it) may still switch one off, or shrink it
        if size > WORKFLOWS_STORED_MAX and (there is None or stored_size(saved) > stored_size(there)):
            raise Conflict(
                f"a program's workflows take at most {WORKFLOWS_STORED_MAX // 1000} KB together; with "
                f"this one they would take {-(-size // 1000)} KB: shorten its payloads, or delete a workflow"
            )

    return check


# An earn that matched a workflow that suspends or blocks notes its run on the customer until it ran:
# the customer's spends wait for it, so points earned are not spent in the second before the
# workflow that suspends for them runs (SPEC 8 lets it run asynchronously). A run that has not run
# within SPEND_WAIT holds no spend longer: longer than a run is redelivered for (five receives, three
# minutes apart, then the dead-letter queue, alarmed), so a throttled run still holds them.
SPEND_WAIT = timedelta(minutes=20)
SPEND_RETRY_SECONDS = 2  # a spend held for a run is told to come back after this (a run takes seconds)
RUNS_NOTED = 20  # notes kept; past them one more (`MORE_RUNS`) holds the spends by time alone
MORE_RUNS = "more runs"  # no action id holds a blank (`inputs.IDENTIFIER_PATTERN`): no run clears it


def may_suspend(
    workflow: Workflow, customer: LoyaltyCustomer, found: dict[str, PeriodTotals], today: date
) -> bool:
    """Whether the run of an earn that left the customer (and its periods, `found`) so may suspend
    or block them: the workflow does, its actions have not run in the period the earn counts in
    (its marker there: a calendar period's, the lifetime's; a rolling window's when it saw the
    customer above today), and the customer's value is above its threshold. A rolling window is not
    read by an earn: its value is at most the lifetime's, which stands for it (more customers wait,
    none that may be suspended is missed)."""
    if not any(action.type in ("suspend", "block") for action in workflow.actions):
        return False
    if workflow.date_range in periods.CALENDAR:
        period = found.get(periods.calendar_period(workflow.date_range, today))
        if period is not None and workflow.marker in period.markers:
            return False  # ran in this period: not again before the next
        value = period.totals.of(workflow.aggregation) if period else 0
    else:  # lifetime, or a rolling window bounded by it
        seen = customer.markers.get(workflow.marker)
        if seen is not None and (workflow.date_range == "lifetime" or date.fromisoformat(seen) >= today):
            return False  # ran for good (lifetime never re-arms), or a window seen above today already
        value = customer.lifetime.of(workflow.aggregation)
    return value > workflow.threshold


def runs_noted(runs_due: dict[str, datetime], action_id: str, at: datetime) -> dict[str, datetime]:
    """The customer's due runs with this earn's, those older than `SPEND_WAIT` dropped. Past
    `RUNS_NOTED`, no note is dropped for the new one (its run would then hold nothing once the
    others ran): `MORE_RUNS` is set to the earn's time instead, and holds the spends until
    `SPEND_WAIT` after it, whatever runs are done meanwhile."""
    kept = {a: t for a, t in runs_due.items() if at - t < SPEND_WAIT}
    if len(kept) >= RUNS_NOTED:
        return {**kept, MORE_RUNS: max(at, kept.get(MORE_RUNS, at))}
    return {**kept, action_id: at}


def spend_waits_for(customer: LoyaltyCustomer, now: datetime) -> str | None:
    """The earn whose run a spend now waits for (the newest noted; `MORE_RUNS` for several), or
    None."""
    waiting = [(t, a) for a, t in customer.runs_due.items() if now - t < SPEND_WAIT]
    return max(waiting)[1] if waiting else None


def revised(previous: Workflow | None, workflow: Workflow) -> Workflow:
    """A workflow saved over `previous` (None: made now, or made again after its deletion): the
    same markers while its actions are the same (a new threshold does not run the same actions
    again for whoever had them in the period), a new revision when they change or it is made anew.
    A new range counts in its own periods: a customer who had the actions today under `today` has
    no marker in this month's period, so `month_to_date` may run them once more this month (markers
    are per period, and a period of one range says nothing of another's)."""
    if previous is not None and previous.actions == workflow.actions:
        return replace(workflow, revision=previous.revision)
    return replace(workflow, revision=workflow.updated_at.strftime("%Y%m%dT%H%M%S%f"))


@dataclass(frozen=True)
class Marker:
    """That a workflow ran for a customer: on a period item (calendar ranges) or on the customer
    (`LIFETIME`: lifetime and rolling windows, whose value is the last day seen above). Kept under
    the workflow's `marker` key (its id, and its revision once its actions changed)."""

    workflow_id: str
    period: str
    value: str
    expected: str | None = None  # the value it must still have (None: not set)


def matches(workflow: Workflow, kind: str) -> bool:
    return workflow.enabled and workflow.trigger_kind in (None, kind)


def dispatch(deps: Dependencies, program: Program, run: WorkflowRun) -> None:
    """After the earn's commit, which recorded the run as due: hands it to the workflow queue. A
    send that fails is logged and counted; the relay sends the run again, so it is never lost.
    Without a queue (the in-memory store of unit tests) the workflows run here."""
    try:
        if deps.workflow_queue is None:
            run_due(deps, program, run, receipt())
        else:
            deps.workflow_queue.send(run, deps.clock.now())
    except DomainError as error:
        logger.warning("workflow run not sent", extra={"action_id": run.action_id, "error": error.detail})
        metrics.add_metric(name="LoyaltyWorkflowSendFailures", unit=MetricUnit.Count, value=1)


def run_due(deps: Dependencies, program: Program, run: WorkflowRun, received: int) -> None:
    """Runs an earn's workflows from references (every read made here), then takes the run out of
    the due ones. Idempotent: markers keep actions from running twice, so a redelivery or a relayed
    copy changes nothing. A storage outage raises (the message comes back); other failures are
    logged and counted per workflow. `received`: the `receipt()` taken when the run was received."""
    matching = [w for w in workflow_cache.program_workflows(deps, program.program_id) if matches(w, run.kind)]
    if not matching or set(run.workflow_ids) - {w.workflow_id for w in matching}:
        # the earn matched workflows in its environment (named on the run, or any for a relayed
        # one): a list this one kept from before the earn may lack one made in the seconds before
        # it, beside others it knows, so the list as it is now decides
        fresh = workflow_cache.program_workflows(deps, program.program_id, read_since=run.at)
        matching = [w for w in fresh if matches(w, run.kind)]
    if matching:
        for day in judged_days(run.at, run.occurred_at, program):
            _run(deps, program, run.customer_id, matching, day, received)
    deps.repository.workflow_run_done(run)


# How far before its arrival an earn's own day is still judged: a delivery's lag across midnight. An
# earn dated further back counts in a period that closed (SPEC 8 judges aggregations as of now):
# judged there, one late import would run a month-old period's actions on its whole audience.
OWN_DAY_LAG = timedelta(hours=1)


def judged_days(arrived: datetime, occurred_at: datetime | None, program: Program) -> tuple[date, ...]:
    """The days whose periods an earn's run judges (and its earn, for the spend wait): the day it
    arrived in and, SPEC 8 counting points by `occurred_at`, its own day when it is ahead (SPEC 3.1
    takes up to five minutes) or at most `OWN_DAY_LAG` behind. Judged by the arrival's day alone, an
    earn dated across midnight took the customer above a threshold where no run looked."""
    received = periods.local_day(arrived, program.timezone)
    if occurred_at is None or arrived - occurred_at > OWN_DAY_LAG:
        return (received,)
    return tuple(dict.fromkeys((received, periods.local_day(occurred_at, program.timezone))))


def run_for_earn(deps: Dependencies, program: Program, customer_id: str, kind: str, at: datetime) -> None:
    """The workflows of an earn of `kind` by `customer_id` at `at`, from references only."""
    matching = [w for w in workflow_cache.program_workflows(deps, program.program_id) if matches(w, kind)]
    if matching:
        _run(deps, program, customer_id, matching, periods.local_day(at, program.timezone), receipt())


# Order of events in this Lambda environment: receipts of runs and starts of audience sweeps.
_order = itertools.count()
# when (in that order) each audience sweep last started, per store, program, workflow and day judged
_sweeps: dict[tuple[int, str, str, date], int] = {}


def receipt() -> int:
    """Taken when a batch of runs is received: every run in it was sent, so its earn committed,
    before any sweep that starts afterwards."""
    return next(_order)


def _sweep_due(deps: Dependencies, workflow: Workflow, day: date, received: int) -> bool:
    """An audience sweep is due unless one of the same day's periods started in this environment
    after the run was received: that sweep saw everything the run's earn changed. One sweep per
    workflow, day and batch, then (a batch with runs of two days sweeps each day's periods)."""
    key = (id(deps.repository), workflow.program_id, workflow.workflow_id, day)
    started = _sweeps.get(key)
    if started is not None and started > received:
        return False
    _sweeps[key] = next(_order)
    return True


def _run(
    deps: Dependencies,
    program: Program,
    customer_id: str,
    matching: list[Workflow],
    today: date,
    received: int,
) -> None:
    failed: Exception | None = None  # what the run raises: a store's failure before a fault
    for workflow in matching:
        try:
            evaluate(deps, program, workflow, customer_id, today)
            if workflow.audience == "all" and _sweep_due(deps, workflow, today, received):
                others = [other for other in audience(deps, program, workflow, today) if other != customer_id]
                if workflow.date_range in periods.ROLLING_DAYS:
                    _sweep_rolling(deps, program, workflow, others, today)
                else:
                    for other in others:
                        evaluate(deps, program, workflow, other, today)
        except (StorageUnavailable, StorageRefused) as error:
            # the store did not answer, or refused what no retry of the caller's passes but an
            # operator's fix does (credentials expired, a grant being rolled out): the run stays due
            # and comes back, then goes to the dead-letter queue; markers make running it again
            # harmless, so the other workflows run first (one failing held back every other's actions);
            # it outranks a fault of another workflow's, which would give the whole run up at once
            failed = failed if isinstance(failed, StorageUnavailable | StorageRefused) else error
        except DomainError as error:
            logger.warning(
                "workflow evaluation failed",
                extra={
                    "workflow_id": workflow.workflow_id,
                    "customer_id": customer_id,
                    "error": error.detail,
                },
            )
            metrics.add_metric(name="LoyaltyWorkflowFailures", unit=MetricUnit.Count, value=1)
        except Exception as error:  # a fault of this code with one workflow: the others still run
            logger.exception("workflow run failed", extra={"workflow_id": workflow.workflow_id})
            failed = failed or error
    if failed is not None:
        raise failed


def audience(deps: Dependencies, program: Program, workflow: Workflow, today: date) -> list[str]:
    """Customers who may be above the threshold, from the audience index (never a scan)."""
    repository = deps.repository
    if workflow.date_range not in periods.ROLLING_DAYS:
        return repository.customers_above(
            program.program_id,
            workflow.aggregation,
            periods.calendar_period(workflow.date_range, today),
            workflow.threshold,
            without_marker=workflow.marker,
        )
    # a rolling window: the customers above a share of the threshold in a week or month it touches
    touched, floor = periods.audience_periods(workflow.date_range, today, workflow.threshold)
    candidates: set[str] = set()
    for period in touched:
        candidates.update(repository.customers_above(program.program_id, workflow.aggregation, period, floor))
    return sorted(candidates)


def _sweep_rolling(
    deps: Dependencies, program: Program, workflow: Workflow, candidates: list[str], today: date
) -> None:
    """A rolling window's audience: the candidates' customer items read a hundred at a time; a
    candidate's days only when it is not marked today and changed since it was judged here."""
    for customer in deps.repository.loyalty_customers(program.program_id, candidates):
        marker = _rolling_due(deps, workflow, customer, today, customer.markers.get(workflow.marker))
        if marker is not None:
            fire(deps, program, workflow, customer.customer_id, marker)


# A rolling window's value changes only with the customer's own actions, each of which moves its
# version (a day item is written with the customer, on its version): a customer found at or below the
# threshold on a day, at a version, is so for as long as both hold. A sweep runs at every batch of
# earns and reads every candidate (a week or month of the window above its share: `audience_periods`);
# remembering that verdict here spares it their days while they do not change. What is kept is only
# a saving: every environment judges again whatever it has not judged, at whatever version it reads.
_JUDGED_KEPT = 50_000  # per store (about 10 MB)
_judged: weakref.WeakKeyDictionary[object, OrderedDict[tuple[Any, ...], int]] = weakref.WeakKeyDictionary()


def _judged_at(repository: object) -> OrderedDict[tuple[Any, ...], int]:
    return _judged.setdefault(repository, OrderedDict())


def _not_above(repository: object, key: tuple[Any, ...], version: int) -> None:
    judged = _judged_at(repository)
    judged[key] = version
    judged.move_to_end(key)
    while len(judged) > _JUDGED_KEPT:
        judged.popitem(last=False)


def evaluate(
    deps: Dependencies,
    program: Program,
    workflow: Workflow,
    customer_id: str,
    today: date,
) -> bool:
    """Runs the workflow's actions for one customer if its filter says so. True when they ran."""
    if workflow.date_range not in periods.ROLLING_DAYS:
        # a calendar range or lifetime: `fire` checks the filter in the snapshot it reads anyway
        marker: Marker | None = Marker(
            workflow.marker, periods.calendar_period(workflow.date_range, today), today.isoformat()
        )
    else:
        marker = _rolling_marker(deps, program, workflow, customer_id, today)
    return marker is not None and fire(deps, program, workflow, customer_id, marker)


def _rolling_marker(
    deps: Dependencies, program: Program, workflow: Workflow, customer_id: str, today: date
) -> Marker | None:
    """The marker to write if a rolling window's actions are due now, else None."""
    customer = deps.repository.read_loyalty_state(program.program_id, customer_id).customer
    if customer is None:
        return None
    return _rolling_due(deps, workflow, customer, today, customer.markers.get(workflow.marker))


def _rolling_due(
    deps: Dependencies, workflow: Workflow, customer: LoyaltyCustomer, today: date, seen: str | None
) -> Marker | None:
    length = periods.ROLLING_DAYS[workflow.date_range]
    first, _ = periods.window(workflow.date_range, today)
    through = date.fromisoformat(seen) if seen else None
    if through is not None and through >= today:
        return None  # already seen above today: the actions ran, or were not due again
    aggregation, threshold = workflow.aggregation, workflow.threshold
    judged: tuple[Any, ...] = (customer.program_id, customer.customer_id, workflow.marker, today, length)
    judged += (aggregation, threshold)
    if _judged_at(deps.repository).get(judged) == customer.version:
        return None  # found at or below the threshold today, and the customer has not changed since
    # enough days to know the window's value at the start of every day since `through`
    start = first if through is None else min(first, through - timedelta(days=length - 2))
    days = deps.repository.loyalty_day_items(customer.program_id, customer.customer_id, start, today)
    now = {day: found.totals for day, found in days.items()}
    if periods.rolling_sum(now, first, today, aggregation) <= threshold:
        _not_above(deps.repository, judged, customer.version)
        return None
    marker = Marker(workflow.marker, LIFETIME, today.isoformat(), expected=seen)
    if through is None:
        return marker
    for day in periods.days_between(through + timedelta(days=1), today):
        if periods.at_start(days, day, length, aggregation) <= threshold:
            return marker  # it dipped to the threshold or below since: re-armed
    # above ever since it was last seen: remember how far, so that the next look starts there
    advanced = replace(customer, markers={**customer.markers, workflow.marker: today.isoformat()})
    deps.repository.change_loyalty_customer(CustomerChange(customer.version, advanced))
    return None


def fire(
    deps: Dependencies,
    program: Program,
    workflow: Workflow,
    customer_id: str,
    marker: Marker,
) -> bool:
    """Writes the marker, the history, the status change and their notifications (into the
    outbox) at once, then publishes them. False when another evaluation got there first."""
    repository = deps.repository
    for attempt in range(FIRE_ATTEMPTS):
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
        at = deps.clock.now()
        changed, entries, events = _actions(program, workflow, customer, at)
        recorded = notifications.recorded(program.program_id, customer_id, customer.version + 1, at, events)
        if repository.change_loyalty_customer(
            CustomerChange(customer.version, changed, changed_periods, tuple(entries), recorded)
        ):
            metrics.add_metric(name="LoyaltyWorkflowRuns", unit=MetricUnit.Count, value=1)
            notifications.deliver(deps, recorded)  # what the bus misses stays for the relay
            return True
        backoff(attempt)
    # the run stays due and comes back (its message, or the relay): given up here, its actions
    # would be lost, and a spend that waited for them let through
    raise StorageUnavailable(
        f"customer {customer_id} kept changing while workflow {workflow.workflow_id} ran"
    )


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
    program: Program, workflow: Workflow, customer: LoyaltyCustomer, at: datetime
) -> tuple[LoyaltyCustomer, list[HistoryEntry], list[tuple[str, dict[str, Any]]]]:
    """The customer after the workflow's actions, their history entries and notifications (name,
    detail). A workflow never unsuspends or unblocks: suspending a blocked customer changes nothing."""
    by = actors.workflow(workflow.workflow_id)
    about = {
        "program_id": program.program_id,
        "customer_id": customer.customer_id,
        "workflow_id": workflow.workflow_id,
    }
    status, blocked_from = customer.status, customer.blocked_from
    entries: list[HistoryEntry] = []
    events: list[tuple[str, dict[str, Any]]] = []
    for action in workflow.actions:
        if action.type == "communication":
            payload = action.payload or {}
            entries.append(HistoryEntry(at, "communication", by, event=action.event, payload=payload))
            events.append(
                ("LoyaltyCommunication", {**about, "event": action.event, "payload": payload, "at": at})
            )
        elif action.type in ("suspend", "block") and status in TRANSITIONS[action.type].applies_to:
            change = TRANSITIONS[action.type]
            status, blocked_from = status_after(action.type, status, blocked_from)
            entries.append(HistoryEntry(at, change.action, by))
            if change.bus_event:
                events.append((change.bus_event, {**about, "by": by, "at": at}))
        elif action.type == "suspend" and status == "blocked" and blocked_from != "suspended":
            # blocked by hand before this run: the suspension waits under the block, so an unblock
            # leaves the customer suspended (a run does not suspend twice in its period); announced
            # as any suspension is
            blocked_from = "suspended"
            entries.append(HistoryEntry(at, "suspended", by, note="under the block"))
            suspended = TRANSITIONS["suspend"].bus_event
            if suspended:
                events.append((suspended, {**about, "by": by, "at": at}))
    return replace(customer, status=status, blocked_from=blocked_from), entries, events
