"""Loyalty: earn, spend, customer status, campaigns and workflows (SPEC 3.4, 8).

Every earn and spend decides on one consistent snapshot (`read_loyalty_state`) and writes in one
transaction guarded by conditions (`record_loyalty_action`); when a condition no longer holds
(a concurrent earn, a retry of the same id, a campaign counter that moved) nothing is written and
the decision is made again on a fresh snapshot. No lock is held in memory: Lambdas run in parallel.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from functions.loyalty import caps, notifications, periods, workflow_cache, workflows
from functions.loyalty.models import CampaignSettings, EarnRequest, SpendRequest, WorkflowSettings
from functions.loyalty.retry import MAX_ATTEMPTS, backoff
from functions.loyalty.statuses import TRANSITIONS, status_after
from functions.shared import paging, replaces
from functions.shared.auth import Principal
from functions.shared.documents import document_hash, same_document
from functions.shared.domain.model import Program, as_utc
from functions.shared.errors import (
    Conflict,
    DecisionPending,
    DomainError,
    InvalidInput,
    NotFound,
    StorageUnavailable,
)
from functions.shared.inputs import IDENTIFIER_PATTERN, check_event_time
from functions.shared.observability import logger, metrics
from functions.shared.problems import api_time
from functions.shared.runtime import Dependencies
from functions.shared.storage.port_loyalty import (
    BalanceChange,
    Campaign,
    CampaignGrant,
    CustomerChange,
    HistoryEntry,
    LoyaltyAction,
    LoyaltyCustomer,
    PeriodTotals,
    Totals,
    Workflow,
    WorkflowAction,
    WorkflowRun,
    day_period,
    month_period,
    periods_of,
    week_period,
    year_period,
)

PUT_CAMPAIGN_ATTEMPTS = 20  # a cap change races every bonus on the shards; then 503 (retryable)


ONE_ID_SPACE = "earns and spends share one id space"
_AN = {"earn": "an earn", "spend": "a spend"}


def _replay(action: LoyaltyAction, kind: str, raw: Any) -> dict[str, Any]:
    # one id space (`keys_loyalty`'s action key, kept for the actions already stored): an export with
    # a sequence per table sends earn 1 and spend 1, and is told which one holds the id
    used_by = _AN.get(action.kind, action.kind)
    if action.kind != kind:
        raise Conflict(
            f"id '{action.action_id}' was already used by {used_by}: {ONE_ID_SPACE}, so give each "
            f"{kind} an id no {action.kind} has (prefix them, e.g. earn-17 and spend-17)"
        )
    if not same_document(action.body_hash, raw, kind):
        raise Conflict(
            f"id '{action.action_id}' was already used by {used_by} with a different body ({ONE_ID_SPACE})"
        )
    return action.answer


def _bad(field: str, message: str, detail: str) -> InvalidInput:
    return InvalidInput(detail, [{"field": field, "message": message}])


# --- earn and spend ------------------------------------------------------------------------
def earn(deps: Dependencies, program: Program, request: EarnRequest, raw: Any) -> dict[str, Any]:
    now = deps.clock.now()
    if request.kind == "campaign_bonus" and request.campaign_id is None:
        raise _bad("campaign_id", "required with kind campaign_bonus", "a campaign bonus needs a campaign_id")
    if request.kind != "campaign_bonus" and request.campaign_id is not None:
        raise _bad(
            "campaign_id",
            "only with kind campaign_bonus",
            f"campaign_id is only for campaign bonuses, not kind '{request.kind}'",
        )
    occurred_at = request.occurred_at or now  # its bound is checked once its id is known to be new
    action_day = periods.local_day(occurred_at, program.timezone)  # the periods the earn counts in
    action_periods = periods_of(action_day)
    today = periods.local_day(now, program.timezone)  # and the day it is received: its run judges both
    today_periods = periods_of(today)
    judged = workflows.judged_days(now, occurred_at, program)  # as its run will (the spend wait)
    digest = document_hash(raw, "earn")
    matching = [
        w
        for w in workflow_cache.program_workflows(deps, program.program_id)
        if workflows.matches(w, request.kind)
    ]
    matched = tuple(w.workflow_id for w in matching)
    due = (
        WorkflowRun(
            program.program_id, request.id, request.customer_id, request.kind, now, matched, occurred_at
        )
        if matched
        else None
    )
    own_shard = caps.shard_of(request.customer_id)
    shards: tuple[int, ...] | None = (own_shard,)  # the campaign's counter shards to read
    marks: tuple[Campaign, int, tuple[int, ...]] | None = None  # shut for this bonus: what is left
    attempt = 0
    while attempt < MAX_ATTEMPTS:
        state = deps.repository.read_loyalty_state(
            program.program_id,
            request.customer_id,
            action_id=request.id,
            periods=tuple(dict.fromkeys(today_periods + action_periods)),
            campaign_id=request.campaign_id,
            campaign_shards=shards,
        )
        if state.action is not None:
            return _replay(state.action, "earn", raw)
        # after the id: a retry reaching a copy whose clock is behind the first one's answers as then
        check_event_time(request.occurred_at, now)
        customer = state.customer or _new_customer(program, request.customer_id, now)
        if customer.status == "blocked":
            raise Conflict(
                f"customer {request.customer_id} is blocked: a blocked customer cannot earn points"
            )
        granted, limited_by, grant = request.points, None, None
        if request.campaign_id is not None:
            decision = _campaign_decision(
                state.campaign, state.campaign_granted, request, occurred_at, own_shard
            )
            if decision is None:  # the bonus does not fit in the customer's shard: read every shard
                shards = None
                continue
            assert state.campaign is not None
            campaign = state.campaign
            left, to_mark = caps.left_marks(campaign.total_cap, campaign.revision, campaign.shards, decision)
            marks = (campaign, left, to_mark) if to_mark else None
            granted, limited_by = decision.points, decision.limited_by
            if granted:
                grant = CampaignGrant(
                    campaign_id=request.campaign_id,
                    points=granted,
                    revision=state.campaign.revision,
                    customer_ceiling=decision.customer_ceiling,
                    first_for_customer=state.campaign_granted is None,
                    shards=decision.shards,
                )
        delta = Totals(earned=granted, bonus=granted if request.kind == "campaign_bonus" else 0)
        balance = customer.balance + granted
        lifetime = customer.lifetime.plus(delta)
        counted = _counted(state.periods, action_day, delta, today) if granted else ()
        after = {**state.periods, **{p.period: p for p in counted}}
        # its run may suspend them: their spends wait for it (`workflows.SPEND_WAIT`)
        earned = replace(customer, lifetime=lifetime)
        spends_wait = any(workflows.may_suspend(w, earned, after, day) for w in matching for day in judged)
        answer = {
            "granted": granted,
            "requested": request.points,
            "balance": balance,
            "limited_by": limited_by,
        }
        change = BalanceChange(
            action=LoyaltyAction(
                program.program_id, request.id, "earn", request.customer_id, digest, answer, now
            ),
            expected_version=customer.version,
            customer=replace(
                customer,
                balance=balance,
                lifetime=lifetime,
                runs_due=workflows.runs_noted(customer.runs_due, request.id, now)
                if spends_wait
                else customer.runs_due,
            ),
            periods=counted,
            grant=grant,
            workflows_due=due,
        )
        if deps.repository.record_loyalty_action(change):
            break
        backoff(attempt)
        attempt += 1
    else:
        raise StorageUnavailable(f"customer {request.customer_id} is changing too fast; retry")
    metrics.add_metric(name="LoyaltyEarns", unit=MetricUnit.Count, value=1)
    if marks is not None:
        _mark_left(deps, *marks)
    if due is not None:
        workflows.dispatch(deps, program, due)
    return answer


def _mark_left(deps: Dependencies, campaign: Campaign, left: int, shards: tuple[int, ...]) -> None:
    """Every shard read, the campaign cut the bonus to nothing: what was left is marked on the
    shards, so that the later bonuses it cuts to nothing (every one, once the cap is used up) are
    decided on the customer's shard alone, not on all of them, until the settings change. Only a
    saving: a mark that fails is logged, and those bonuses read every shard as before."""
    try:
        deps.repository.mark_campaign_left(
            campaign.program_id, campaign.campaign_id, campaign.revision, left, shards
        )
    except DomainError as error:
        found = {"campaign_id": campaign.campaign_id, "error": error.detail}
        logger.warning("campaign's room left not marked", extra=found)


def _new_customer(program: Program, customer_id: str, now: datetime) -> LoyaltyCustomer:
    """A customer is created by its first earn (version 0: not stored yet)."""
    return LoyaltyCustomer(program.program_id, customer_id, "active", 0, 0, Totals(), now)


def _counted(
    found: dict[str, PeriodTotals], action_day: date, delta: Totals, arrived: date
) -> tuple[PeriodTotals, ...]:
    """The action's day, week, month and year with its points added; on its day, when it arrived on
    a later one (dated back), noted as arrived then (`PeriodTotals.late`)."""
    counted = []
    for period in periods_of(action_day):
        current = found.get(period, PeriodTotals(period))
        late = current.late
        if period == day_period(action_day) and arrived > action_day:
            late = {**late, arrived: late.get(arrived, Totals()).plus(delta)}
        counted.append(replace(current, totals=current.totals.plus(delta), late=late))
    return tuple(counted)


def _campaign_decision(
    campaign: Campaign | None,
    customer_granted: int | None,
    request: EarnRequest,
    occurred_at: datetime,
    own_shard: int,
) -> caps.ShardedDecision | None:
    """The grant on the shards read; None when they do not decide it (read every shard)."""
    if campaign is None:
        raise _bad("campaign_id", "unknown campaign", f"campaign {request.campaign_id} does not exist")
    if campaign.starts_at is not None and occurred_at < campaign.starts_at:
        raise _bad(
            "occurred_at",
            "before the campaign starts",
            f"campaign {campaign.campaign_id} starts at {api_time(as_utc(campaign.starts_at))}",
        )
    if campaign.ends_at is not None and occurred_at > campaign.ends_at:
        raise _bad(
            "occurred_at",
            "after the campaign ended",
            f"campaign {campaign.campaign_id} ended at {api_time(as_utc(campaign.ends_at))}",
        )
    return caps.decide_sharded(
        campaign.limit_behavior,
        request.points,
        total_cap=campaign.total_cap,
        revision=campaign.revision,
        shards=campaign.shards,
        own=own_shard,
        customer_cap=campaign.per_customer_cap,
        customer_granted=customer_granted or 0,
        first_for_customer=customer_granted is None,
    )


def spend(deps: Dependencies, program: Program, request: SpendRequest, raw: Any) -> dict[str, Any]:
    now = deps.clock.now()
    occurred_at = request.occurred_at or now  # its bound is checked once its id is known to be new
    action_day = periods.local_day(occurred_at, program.timezone)
    action_periods = periods_of(action_day)
    today = periods.local_day(now, program.timezone)  # a spend dated back is noted as late there
    digest = document_hash(raw, "spend")
    for attempt in range(MAX_ATTEMPTS):
        state = deps.repository.read_loyalty_state(
            program.program_id, request.customer_id, action_id=request.id, periods=action_periods
        )
        if state.action is not None:
            return _replay(state.action, "spend", raw)
        check_event_time(request.occurred_at, now)  # after the id, as an earn's
        customer = state.customer
        if customer is None:
            raise NotFound(f"customer {request.customer_id} not found")
        if customer.status != "active":
            raise Conflict(
                f"customer {request.customer_id} is {customer.status}: "
                f"a {customer.status} customer cannot spend points"
            )
        if waited := workflows.spend_waits_for(customer, now):
            raise DecisionPending(
                f"customer {request.customer_id} earned points a workflow that may suspend them is "
                f"still deciding on (earn {waited}): spend again in a few seconds",
                workflows.SPEND_RETRY_SECONDS,
            )
        if customer.balance < request.points:
            raise Conflict(
                f"the balance of customer {request.customer_id} ({customer.balance}) is lower than "
                f"the {request.points} points to spend"
            )
        delta = Totals(spent=request.points)
        balance = customer.balance - request.points
        answer = {"balance": balance}
        change = BalanceChange(
            action=LoyaltyAction(
                program.program_id, request.id, "spend", request.customer_id, digest, answer, now
            ),
            expected_version=customer.version,
            customer=replace(customer, balance=balance, lifetime=customer.lifetime.plus(delta)),
            periods=_counted(state.periods, action_day, delta, today),
        )
        if deps.repository.record_loyalty_action(change):
            metrics.add_metric(name="LoyaltySpends", unit=MetricUnit.Count, value=1)
            return answer
        backoff(attempt)
    raise StorageUnavailable(f"customer {request.customer_id} is changing too fast; retry")


# --- customers -----------------------------------------------------------------------------
VIEW_READS = 4  # passes at most: a customer changing faster than its view is read is a 503 to retry
# A customer view's history: its newest entries, as many as `paging.ANSWER_BUDGET` holds as answered
# (daily communications with large payloads passed Lambda's 6 MB answer in weeks) and at most
# VIEW_HISTORY_MOST (tiny entries: some 50,000 fit, 250 queries a view). What is older is left out
# (`history_complete` false) and read a page at a time from `GET .../history`.
VIEW_HISTORY_MOST = 2_000
VIEW_HISTORY_PAGE = 200  # entries a query while the view's history is read, newest first


def customer_view(deps: Dependencies, program: Program, customer_id: str) -> dict[str, Any]:
    """The customer as of one moment: its profile, periods, days and history are separate reads, so
    they are read again while the profile's version moved between the first read and the last (an
    earn landing between them showed today's earned above the lifetime's)."""
    return _customer_and_view(deps, program, customer_id)[1]


def _with_change(view: dict[str, Any], status: str, entry: HistoryEntry) -> dict[str, Any]:
    """The view read at the version a change by hand was made on, with that change: its status and
    its history entry, the newest (the oldest shown left out when the view showed all it could)."""
    history = [*view["history"], _history_json(entry)]
    complete = view["history_complete"] and len(history) <= VIEW_HISTORY_MOST
    shown = history if complete else history[1:]
    return {**view, "status": status, "history": shown, "history_complete": complete}


def _customer_and_view(
    deps: Dependencies, program: Program, customer_id: str
) -> tuple[LoyaltyCustomer, dict[str, Any]]:
    repository = deps.repository
    today = periods.local_day(deps.clock.now(), program.timezone)
    first, _ = periods.window("last_30_days", today)
    customer = repository.get_loyalty_customer(program.program_id, customer_id)
    for _read in range(VIEW_READS):
        found = repository.loyalty_periods(
            program.program_id, customer_id, (week_period(today), month_period(today), year_period(today))
        )
        days = repository.loyalty_days(program.program_id, customer_id, first, today)
        history, complete = _newest_history(repository, program.program_id, customer_id)
        again = repository.get_loyalty_customer(program.program_id, customer_id)
        if again.version == customer.version:
            break
        customer = again
    else:  # never one moment: figures of two moments are refused, not shown
        raise StorageUnavailable(f"customer {customer_id} is changing too fast to be shown; retry")
    return customer, {
        "customer_id": customer.customer_id,
        "status": customer.status,
        "balance": customer.balance,
        "aggregates": periods.figures(today, customer.lifetime, found, days),
        "history": history,
        "history_complete": complete,
    }


def _newest_history(repository: Any, program_id: str, customer_id: str) -> tuple[list[dict[str, Any]], bool]:
    """The customer's history oldest first: as many of its newest entries as one answer holds
    (`VIEW_HISTORY_MOST`, `paging.fitting`), and whether that is every entry. Read newest first a
    query at a time, only as far as the view goes (one entry past it, to tell)."""
    read: list[dict[str, Any]] = []

    def newest() -> Iterator[dict[str, Any]]:
        last = None
        while True:
            page = repository.loyalty_history_page(program_id, customer_id, last, VIEW_HISTORY_PAGE)
            for _, entry in page:
                read.append(_history_json(entry))
                yield read[-1]
            if len(page) < VIEW_HISTORY_PAGE:
                return
            last = page[-1][0]

    shown = min(paging.fitting(itertools.islice(newest(), VIEW_HISTORY_MOST + 1)), VIEW_HISTORY_MOST)
    return read[:shown][::-1], shown == len(read)


def history_page(
    deps: Dependencies, program: Program, customer_id: str, limit: int, cursor: str | None
) -> dict[str, Any]:
    """The customer's history newest first, a page at a time (one query past the cursor)."""
    repository = deps.repository
    repository.get_loyalty_customer(program.program_id, customer_id)  # 404 for one never seen
    query = {"program_id": program.program_id, "customer_id": customer_id}
    before = paging.decode_cursor(cursor, query, (int, int)) if cursor else None
    if before is not None and not (0 <= before[0] < 10**12 and 0 <= before[1] < 1000):
        raise paging.not_given()  # no entry's position (`keys.history_sk`); a key DynamoDB refuses
    found = repository.loyalty_history_page(program.program_id, customer_id, before, limit + 1)
    items = [_history_json(entry) for _, entry in found[:limit]]
    shown = paging.fitting(items)  # a page of large communications ends sooner
    more = len(found) > shown
    return {
        "items": items[:shown],
        "next_cursor": paging.encode_cursor(found[shown - 1][0], query) if more else None,
    }


def _history_json(entry: HistoryEntry) -> dict[str, Any]:
    shown: dict[str, Any] = {"at": entry.at, "action": entry.action, "by": entry.by}
    if entry.note is not None:
        shown["note"] = entry.note
    if entry.action == "communication":
        shown.update(event=entry.event, payload=entry.payload or {})
    return shown


def change_status(
    deps: Dependencies, principal: Principal, customer_id: str, change: str, note: str | None
) -> dict[str, Any]:
    """A status change by hand (SPEC 3.4): written to the history with the actor's name."""
    program = principal.program
    assert program is not None
    applies_to, _, action, bus_event = TRANSITIONS[change]
    for attempt in range(MAX_ATTEMPTS):
        # the answer is read before the change, at the version it is made on: once made, nothing
        # is left to read (a read failing after the commit would answer 503 for a change made, and
        # its retry 409)
        customer, view = _customer_and_view(deps, program, customer_id)
        if customer.status not in applies_to:
            raise Conflict(f"customer {customer_id} is {customer.status}: cannot {change}")
        at = deps.clock.now()
        entry = HistoryEntry(at=at, action=action, by=principal.actor, note=note)
        new_status, blocked_from = status_after(change, customer.status, customer.blocked_from)
        changed = replace(customer, status=new_status, blocked_from=blocked_from)
        events: list[tuple[str, dict[str, Any]]] = []
        if bus_event is not None:
            detail = {
                "program_id": program.program_id,
                "customer_id": customer_id,
                "by": principal.actor,
                "at": at,
            }
            events.append((bus_event, {**detail, "note": note} if note else detail))
        recorded = notifications.recorded(program.program_id, customer_id, customer.version + 1, at, events)
        if _made(deps, CustomerChange(customer.version, changed, history=(entry,), notifications=recorded)):
            break
        backoff(attempt)
    else:
        raise StorageUnavailable(f"customer {customer_id} is changing too fast; retry")
    notifications.deliver(deps, recorded)  # after the commit; what the bus misses, the relay sends
    return _with_change(view, new_status, entry)


def _made(deps: Dependencies, change: CustomerChange) -> bool:
    """Writes a change by hand; True once it is made, False when the customer moved on meanwhile. A
    write whose answer was lost (a timeout after the commit) is read back: its history entry, at the
    version it made, says whether it was made. Answered 503, its retry would have been refused as a
    change that no longer applies (409) for a change that was made."""
    try:
        return deps.repository.change_loyalty_customer(change)
    except StorageUnavailable:
        customer, (entry, *_) = change.customer, change.history
        version = change.expected_version + 1
        found = deps.repository.loyalty_history_page(
            customer.program_id, customer.customer_id, (version, 1), 1
        )
        if found == [((version, 0), entry)]:
            return True
        raise


# --- campaigns -----------------------------------------------------------------------------
def put_campaign(
    deps: Dependencies, program_id: str, campaign_id: str, settings: CampaignSettings
) -> dict[str, Any]:
    """Creates or changes a campaign; a changed cap moves the shards' quotas (`caps.requota`). The
    write is conditioned on the revision read (and, lowering a cap, on shards keeping the room taken
    from them): under heavy bonus traffic near the cap it may take a few attempts, then 503."""
    if settings.starts_at and settings.ends_at and settings.ends_at <= settings.starts_at:
        raise _bad("ends_at", "not after starts_at", "a campaign must end after it starts")
    seen = replaces.replaces_of(settings)
    for attempt in range(PUT_CAMPAIGN_ATTEMPTS):
        current = _stored_campaign(deps, program_id, campaign_id)
        # held by the write's condition on the revision read: a change between is read again here
        replaces.check(f"campaign {campaign_id}", seen, current.updated_at if current else None)
        revision = current.revision if current else 0
        changed = Campaign(
            program_id=program_id,
            campaign_id=campaign_id,
            total_cap=settings.total_cap,
            per_customer_cap=settings.per_customer_cap,
            limit_behavior=settings.limit_behavior,
            # kept and answered in UTC, as every time the API gives (sent with any offset)
            starts_at=as_utc(settings.starts_at) if settings.starts_at else None,
            ends_at=as_utc(settings.ends_at) if settings.ends_at else None,
            updated_at=deps.clock.now(),
            revision=revision + 1,
            shards=current.shards if current else caps.initial_shards(settings.total_cap),
        )
        quotas = caps.requota(current.shards, settings.total_cap) if current else ()
        try:
            if deps.repository.put_campaign(changed, revision, quotas):
                return campaign_json(changed)
        except StorageUnavailable:
            # its answer lost after the commit (a timeout): read back whether it is this change;
            # answered 503, its retry (`replaces` the time read before) was refused as changed since
            made = _stored_campaign(deps, program_id, campaign_id)
            if made is None or (made.revision, made.updated_at) != (changed.revision, changed.updated_at):
                raise  # not this change (its revision, made at its moment): not made
            return campaign_json(made)
        backoff(attempt)
    raise StorageUnavailable(f"campaign {campaign_id} is granting too fast to change now; retry")


def _stored_campaign(deps: Dependencies, program_id: str, campaign_id: str) -> Campaign | None:
    """The campaign as stored, or None when there is none."""
    try:
        return deps.repository.get_campaign(program_id, campaign_id)
    except NotFound:
        return None


def get_campaign(deps: Dependencies, program_id: str, campaign_id: str) -> dict[str, Any]:
    return campaign_json(deps.repository.get_campaign(program_id, campaign_id))


_IDENTIFIER = re.compile(IDENTIFIER_PATTERN)


def campaigns_page(deps: Dependencies, program_id: str, limit: int, cursor: str | None) -> dict[str, Any]:
    """The program's campaigns by id, a page at a time (one query past the cursor's id)."""
    query = {"campaigns": program_id}
    after = paging.decode_cursor(cursor, query, (str,))[0] if cursor else None
    if after is not None and not _IDENTIFIER.fullmatch(after):  # an edited cursor: no campaign id
        raise paging.not_given()
    found = deps.repository.campaigns_page(program_id, after, limit + 1)
    page = found[:limit]
    return {
        "items": [_settings_json(campaign) for campaign in page],
        "next_cursor": paging.encode_cursor((page[-1].campaign_id,), query) if len(found) > limit else None,
    }


def _settings_json(campaign: Campaign) -> dict[str, Any]:
    figures = ("granted_total", "customers")
    return {name: value for name, value in campaign_json(campaign).items() if name not in figures}


def campaign_json(campaign: Campaign) -> dict[str, Any]:
    return {
        "id": campaign.campaign_id,
        "total_cap": campaign.total_cap,
        "per_customer_cap": campaign.per_customer_cap,
        "limit_behavior": campaign.limit_behavior,
        "starts_at": campaign.starts_at,
        "ends_at": campaign.ends_at,
        "granted_total": campaign.granted_total,
        "customers": campaign.customers,
        "updated_at": campaign.updated_at,
    }


# --- workflows -----------------------------------------------------------------------------
def put_workflow(
    deps: Dependencies, program_id: str, workflow_id: str, settings: WorkflowSettings
) -> dict[str, Any]:
    workflow = Workflow(
        program_id=program_id,
        workflow_id=workflow_id,
        trigger_kind=settings.trigger.kind,
        aggregation=settings.filter.aggregation,
        date_range=settings.filter.date_range,
        audience=settings.filter.customer,
        threshold=settings.filter.threshold,
        actions=tuple(
            WorkflowAction(step.type, getattr(step, "event", None), getattr(step, "payload", None))
            for step in settings.actions
        ),
        enabled=settings.enabled,
        updated_at=deps.clock.now(),
    )
    previous = _stored_workflow(deps, program_id, workflow_id)
    admitted = workflows.admit(workflow_id, replaces=replaces.replaces_of(settings))
    saving = workflows.revised(previous, workflow)
    try:
        stored = deps.repository.put_workflow(saving, admitted)
    except StorageUnavailable:
        # its answer lost after the commit (a timeout): read back whether it was saved; answered
        # 503, its retry (`replaces` the time read before) was refused as changed since, by itself
        if _stored_workflow(deps, program_id, workflow_id) != saving:
            raise
        stored = saving
    workflow_cache.forget(program_id)
    return workflow_json(stored)


def _stored_workflow(deps: Dependencies, program_id: str, workflow_id: str) -> Workflow | None:
    """The workflow as stored, or None when there is none."""
    try:
        return deps.repository.get_workflow(program_id, workflow_id)
    except NotFound:
        return None


def get_workflow(deps: Dependencies, program_id: str, workflow_id: str) -> dict[str, Any]:
    return workflow_json(deps.repository.get_workflow(program_id, workflow_id))


def list_workflows(deps: Dependencies, program_id: str) -> dict[str, Any]:
    return {"items": [workflow_json(w) for w in deps.repository.list_workflows(program_id)]}


def delete_workflow(deps: Dependencies, program_id: str, workflow_id: str) -> None:
    try:
        deps.repository.delete_workflow(program_id, workflow_id)
    except StorageUnavailable:
        # its answer lost after the commit (a timeout): read back whether it is gone; answered 503,
        # its retry got a 404 for a workflow it had deleted
        if _stored_workflow(deps, program_id, workflow_id) is not None:
            raise
    workflow_cache.forget(program_id)


def workflow_json(workflow: Workflow) -> dict[str, Any]:
    """The workflow as it was PUT, with its `id` and `updated_at` (a PUT takes the settings alone)."""
    trigger: dict[str, Any] = {"event": "points.earned"}
    if workflow.trigger_kind is not None:
        trigger["kind"] = workflow.trigger_kind
    actions = [
        {"type": a.type, "event": a.event, "payload": a.payload or {}}
        if a.type == "communication"
        else {"type": a.type}
        for a in workflow.actions
    ]
    return {
        "id": workflow.workflow_id,
        "trigger": trigger,
        "filter": {
            "aggregation": workflow.aggregation,
            "date_range": workflow.date_range,
            "customer": workflow.audience,
            "threshold": workflow.threshold,
        },
        "actions": actions,
        "enabled": workflow.enabled,
        "updated_at": workflow.updated_at,
    }
