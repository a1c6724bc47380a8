"""What program teams read and do: case views, the drawer, rewards, overrides, the summary,
removals. The rules are in `functions.shared.domain` (`rewards`, `removal`); this module reads,
asks the rules, and has their decisions written."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from functions.shared import paging, views
from functions.shared.changes import carry_out, retrying
from functions.shared.domain import hold_order
from functions.shared.domain.cases import CASE_VIEWS
from functions.shared.domain.identity import name_searched, network_pepper, searchable_name
from functions.shared.domain.model import REWARD_STATUSES, Case, Reward, Subject
from functions.shared.domain.removal import check_removable, removal_asked_again, removal_plan
from functions.shared.domain.rewards import overridden, override_step
from functions.shared.domain.summary import first_day_shown
from functions.shared.errors import NotFound, StorageUnavailable, invalid_query
from functions.shared.observability import logger
from functions.shared.paging import cursor_time, encode_cursor, filtered_page, read_page
from functions.shared.removals import finish_removal
from functions.shared.runtime import Dependencies
from functions.shared.storage.port import CasesPort, RemovalsPort

VIEW_SORTS = {"active": ("flagged_at", "hold_amount"), "resolved": ("flagged_at", "resolved_at")}


# --- paging -------------------------------------------------------------------------------
def _sort_key(case: Case, sort: str) -> tuple[Any, str]:
    if sort == "hold_amount":  # where the order placed it as read (its key may lag its holds)
        place = case.hold_place
        if place is None:
            place = hold_order.order_place(case.hold_micros)
        return (place, case.case_id)
    value = getattr(case, sort)
    return ((value.isoformat() if isinstance(value, datetime) else ""), case.case_id)


def decode_cursor(cursor: str, query: dict[str, Any]) -> tuple[Any, str]:
    kind = int if query.get("sort") == "hold_amount" else str  # what _sort_key puts first
    first, case_id = paging.decode_cursor(cursor, query, (kind, str))
    return first, case_id


def list_cases(
    deps: Dependencies,
    program_id: str,
    view: str,
    q: str | None,
    status: str | None,
    sort: str,
    order: str,
    limit: int,
    cursor: str | None,
) -> views.CasePage:
    refused = {}
    if sort not in VIEW_SORTS[view]:
        refused["sort"] = f"one of {', '.join(VIEW_SORTS[view])} for the {view} view"
    if status is not None and status not in CASE_VIEWS[view]:
        refused["status"] = f"one of {', '.join(CASE_VIEWS[view])} for the {view} view"
    if refused:
        raise invalid_query(refused)
    query = {
        "program_id": program_id,
        "view": view,
        "q": q or "",
        "status": status or "",
        "sort": sort,
        "order": order,
    }
    return _case_page_from_index(
        deps.repository, program_id, view, q, status, sort, order, limit, cursor, query
    )


def _case_page_from_index(
    store: CasesPort,
    program_id: str,
    view: str,
    q: str | None,
    status: str | None,
    sort: str,
    order: str,
    limit: int,
    cursor: str | None,
    query: dict[str, Any],
) -> views.CasePage:
    """Flag order is the `cases_by_view` index's own order, resolution order (the resolved view) the
    order of the resolved cases' entries on the `disputes` index, hold-amount order (the active
    view) the `cases_by_hold` index's: the page is read from the index past the cursor's position,
    and a search or filter reads at most `paging.SCAN_BUDGET` cases per request (a page cut short by it
    still carries a cursor: the listing goes on from where it stopped)."""
    after: tuple[Any, str] | None = None
    if cursor:
        found = decode_cursor(cursor, query)
        after = _hold_position(found) if sort == "hold_amount" else _position(found)
    needle = searchable_name(q) if q else None
    if needle is not None and not needle.strip():  # blanks or invisible characters alone: no search
        needle = None
    page, stop, more = filtered_page(
        store.cases_in_view(program_id, view, order == "desc", after, by=sort),
        lambda c: (needle is None or name_searched(needle, c.subject_name)) and status in (None, c.status),
        limit,
    )
    return views.CasePage(
        items=[views.case_view(c) for c in page],
        next_cursor=encode_cursor(_sort_key(stop, sort), query) if more and stop else None,
    )


def _position(after: tuple[Any, str]) -> tuple[datetime, str]:
    """A cursor's (time, id) position; a time that does not parse is a cursor this API never gave."""
    return cursor_time(after[0]), after[1]


def _hold_position(after: tuple[Any, str]) -> tuple[int, str]:
    """A cursor's (micro-units, id) position; an amount no key can hold is a cursor this API never
    gave."""
    if not hold_order.orderable(after[0]):
        raise paging.not_given()
    return after[0], after[1]


# --- the drawer -----------------------------------------------------------------------------
HELD_SHOWN = 50  # held rewards the drawer lists, newest first
AUDIT_SHOWN = 50  # audit entries the drawer lists, newest first


def case_detail(deps: Dependencies, program_id: str, case_id: str) -> views.CaseDetail:
    """The drawer: the case, its subject, the newest `HELD_SHOWN` of the rewards it holds (the case
    counts them all: `held_rewards`; `GET /v1/rewards` lists every one) and the newest `AUDIT_SHOWN`
    entries of its trail (older ones: `GET /v1/cases/{id}/audit` from `audit_next_cursor`). A case
    holding tens of thousands of rewards answers about as much as one holding a few."""
    store: CasesPort = deps.repository
    case = store.get_case(program_id, case_id)
    subject = store.get_subject(program_id, case.subject_type, case.subject_id)
    held: list[Reward] = []
    if case.held_count > 0:  # the case's own index: what it holds, whatever else its subject has
        held = list(islice(store.case_held_rewards(program_id, case_id), HELD_SHOWN))
    audit = audit_page(store, program_id, case_id, AUDIT_SHOWN, None)
    return views.case_detail(case, subject, held, audit)


def case_audit(
    deps: Dependencies, program_id: str, case_id: str, limit: int, cursor: str | None
) -> views.AuditPage:
    store: CasesPort = deps.repository
    store.get_case(program_id, case_id)  # NotFound: no such case in this program
    return audit_page(store, program_id, case_id, limit, cursor)


def audit_page(
    store: CasesPort, program_id: str, case_id: str, limit: int, cursor: str | None
) -> views.AuditPage:
    """A case's audit trail newest first, a page past the cursor's position (its time and entry)."""
    query = {"audit": case_id, "program_id": program_id}
    before = _position(decode_cursor(cursor, query)) if cursor else None
    page, more = read_page(store.case_audit(program_id, case_id, before), limit)
    last = page[-1][0] if page else None
    return views.AuditPage(
        items=[views.audit_view(entry) for _, entry in page],
        next_cursor=encode_cursor((last[0].isoformat(), last[1]), query) if more and last else None,
    )


# --- rewards ------------------------------------------------------------------------------
def list_rewards(
    deps: Dependencies,
    program_id: str,
    partner_id: str | None,
    customer_id: str | None,
    status: str | None,
    limit: int,
    cursor: str | None,
) -> views.RewardPage:
    if status is not None and status not in REWARD_STATUSES:
        raise invalid_query({"status": "unknown reward status"}, f"unknown status '{status}'")
    query = {
        "program_id": program_id,
        "partner_id": partner_id or "",
        "customer_id": customer_id or "",
        "status": status or "",
    }
    before = _position(decode_cursor(cursor, query)) if cursor else None  # instants keep their offsets
    store: CasesPort = deps.repository
    if partner_id or customer_id:
        # newest first, as the program's listing: one subject's index, a filtered page within a budget
        kind, subject_id = ("partner", partner_id) if partner_id else ("customer", customer_id or "")
        page, stop, more = filtered_page(
            store.subject_rewards_newest_first(program_id, kind, subject_id, before),
            lambda r: status in (None, r.status) and customer_id in (None, "", r.customer_id),
            limit,
        )
    else:
        page, more = read_page(store.program_rewards(program_id, status, before), limit)
        stop = page[-1] if page else None
    return views.RewardPage(
        items=[views.reward_view(r) for r in page],
        next_cursor=encode_cursor((stop.created_at.isoformat(), stop.reward_id), query)
        if more and stop
        else None,
    )


def override_reward(deps: Dependencies, program_id: str, reward_id: str, actor: str) -> views.RewardView:
    store: CasesPort = deps.repository
    now = deps.clock.now()

    def attempt() -> Reward:
        reward = store.get_reward(program_id, reward_id)
        try:  # a removed partner's reward is never paid (`override_step`)
            partner: Subject | None = store.get_subject(program_id, "partner", reward.partner_id)
        except NotFound:
            partner = None
        try:
            carry_out(store, [override_step(reward, actor, now, partner)], deps.publisher)
        except StorageUnavailable:
            # its answer lost after the commit (a timeout): read back whether it was made; answered
            # 503, its retry would have been refused (409: not on hold) for an override made
            again = store.get_reward(program_id, reward_id)
            if overridden(again):
                return again
            raise
        return replace(reward, status="approved", overridden=True)

    return views.reward_view(retrying(attempt, f"overriding reward {reward_id}"))


def summary(deps: Dependencies, program_id: str) -> views.Summary:
    """The figures kept as cases change (`domain/summary.py`): a small query per summary shard,
    whatever the history."""
    store: CasesPort = deps.repository
    today = deps.clock.now().astimezone(UTC).date()
    return views.summary(store.summary_figures(program_id, first_day_shown(today)), today)


# --- removals -------------------------------------------------------------------------------
def remove_partner(
    deps: Dependencies,
    program_id: str,
    case_id: str,
    block_reapply: bool,
    actor: str,
    seen: str | None = None,
) -> views.RemovedPartner:
    """SPEC 3.2: the case and the partner removed in a first step, then the partner's rewards
    archived and their identifiers marked removed (and blocked), however many, then what arrived
    meanwhile (`finish_removal`): a partner who keeps sending rewards is removed all the same. A
    removal that stopped after its first step is finished by the same removal asked again (SPEC 3:
    a 503 is safe to retry), or by the hold sweep; asked again once done, it answers as done. One
    that left partners on its links to review (more than `linked_removal.REVIEWS_PER_CALL`) is
    answered as done, what the team asked for (the partner removed, every reward of theirs
    archived), and stays under way until the hold sweep, or the same removal asked again, has
    reviewed the rest. `seen`: the case's status as the caller saw it (`check_removable`)."""
    store: RemovalsPort = deps.repository
    now = deps.clock.now()
    pepper = network_pepper()

    def attempt() -> tuple[Case, Subject | None, bool]:
        case = store.get_case(program_id, case_id)
        if case.status == "removed" and case.subject_type == "partner":
            subject = store.get_subject(program_id, "partner", case.subject_id)
            going = removal_asked_again(case, subject, block_reapply, actor)
            return case, None, going  # under way: this ask finishes it, whole; else done already
        check_removable(case, seen)  # the first step holds only while the case is as read
        subject = store.get_subject(program_id, "partner", case.subject_id)
        rewards = store.subject_rewards(program_id, "partner", subject.id)
        plan = removal_plan(case, subject, rewards, pepper, block_reapply, actor, now)
        # forward only from its first step: a later step refused (a reward overridden meanwhile,
        # say) has the next attempt read the case removed, and finish the removal from a new read
        carry_out(store, plan.steps, deps.publisher)
        return case, subject, True

    case, read, going = retrying(attempt, f"removing the partner of case {case_id}")
    if not going:
        return views.removed_partner(case)
    finished = finish_removal(store, deps.publisher, case, read, pepper, now, deps.queue)
    if finished.reviews_left:  # the partner removed, its rewards archived: the rest is the sweep's
        logger.info(
            "removal leaves partners on its identifiers to review to the hold sweep",
            extra={"case_id": case_id, "reviews_left": finished.reviews_left},
        )
    return views.removed_partner(finished.case)


def removed_partners(
    deps: Dependencies, program_id: str, limit: int, cursor: str | None
) -> views.RemovedPage:
    """Newest removal first, read from the removed view's partition of `cases_by_view` past the
    cursor's (removed_at, case_id) position: a page reads about a page, whatever the program has
    removed. The cursor is bound to the program too, so another program's is refused, not misread."""
    store: CasesPort = deps.repository
    query = {"view": "removed", "program_id": program_id}
    after = _position(decode_cursor(cursor, query)) if cursor else None
    cases = store.cases_in_view(program_id, "removed", True, after, by="removed_at")
    page, more = read_page(cases, limit)
    last = page[-1] if page else None
    return views.RemovedPage(
        items=[views.removed_partner(c) for c in page],
        next_cursor=encode_cursor((_removal_time(last).isoformat(), last.case_id), query)
        if more and last
        else None,
    )


def _removal_time(case: Case) -> datetime:
    if case.removed_at is None:  # never in the removed view: its index key is the removal time
        raise ValueError(f"case {case.case_id} is listed as removed without a removal time")
    return case.removed_at
