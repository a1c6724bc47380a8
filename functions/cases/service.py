"""What program teams read and do: case views, the drawer, rewards, overrides, the summary,
removals. The rules are in `functions.shared.domain.rules`; this module reads, asks the rules,
and has their decisions written."""

from __future__ import annotations

import base64
import binascii
import json
from collections import defaultdict
from dataclasses import replace
from datetime import datetime
from typing import Any

from functions.shared import views
from functions.shared.changes import carry_out, retrying
from functions.shared.domain import rules
from functions.shared.domain.identity import network_pepper
from functions.shared.domain.model import REWARD_STATUSES, Case, Reward
from functions.shared.errors import InvalidInput
from functions.shared.runtime import Dependencies
from functions.shared.storage.port import CasesPort

VIEW_STATUSES = {"active": ("open", "disputed"), "resolved": ("approved", "declined")}
VIEW_SORTS = {"active": ("flagged_at", "hold_amount"), "resolved": ("flagged_at", "resolved_at")}


# --- paging -------------------------------------------------------------------------------
def _sort_key(case: Case, sort: str) -> tuple[Any, str]:
    if sort == "hold_amount":
        return (views.primary_hold(case)[1], case.case_id)
    value = getattr(case, sort)
    return ((value.isoformat() if isinstance(value, datetime) else ""), case.case_id)


def encode_cursor(position: tuple[Any, str], query: dict[str, Any]) -> str:
    raw = json.dumps({"after": list(position), "query": query}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, query: dict[str, Any]) -> tuple[Any, str]:
    kind = int if query.get("sort") == "hold_amount" else str  # what _sort_key puts first
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        after, made_for = raw["after"], raw["query"]
        if not (isinstance(after, list) and len(after) == 2 and type(after[0]) is kind):
            raise ValueError("not a position")
        if not isinstance(after[1], str):
            raise ValueError("not a position")
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise InvalidInput(
            "the cursor is not one this API gave", [{"field": "cursor", "message": "invalid"}]
        ) from None
    if made_for != query:
        raise InvalidInput(
            "the cursor belongs to another query: keep view, q, status, sort and order when paging",
            [{"field": "cursor", "message": "belongs to another query"}],
        )
    return after[0], after[1]


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
    errors = []
    if sort not in VIEW_SORTS[view]:
        errors.append(
            {"field": "sort", "message": f"one of {', '.join(VIEW_SORTS[view])} for the {view} view"}
        )
    if status is not None and status not in VIEW_STATUSES[view]:
        errors.append(
            {"field": "status", "message": f"one of {', '.join(VIEW_STATUSES[view])} for the {view} view"}
        )
    if errors:
        raise InvalidInput("; ".join(f"{e['field']}: {e['message']}" for e in errors), errors)
    query = {"view": view, "q": q or "", "status": status or "", "sort": sort, "order": order}
    cases = deps.repository.list_cases(program_id, view)
    if q:
        needle = q.casefold()
        cases = [c for c in cases if needle in c.subject_name.casefold()]
    if status:
        cases = [c for c in cases if c.status == status]
    descending = order == "desc"
    cases.sort(key=lambda c: _sort_key(c, sort), reverse=descending)
    if cursor:
        after = tuple(decode_cursor(cursor, query))
        cases = [
            c for c in cases if (_sort_key(c, sort) < after if descending else _sort_key(c, sort) > after)
        ]
    page = cases[:limit]
    more = len(cases) > limit
    return views.CasePage(
        items=[views.case_view(c) for c in page],
        next_cursor=encode_cursor(_sort_key(page[-1], sort), query) if more and page else None,
    )


# --- the drawer -----------------------------------------------------------------------------
def case_detail(deps: Dependencies, program_id: str, case_id: str) -> views.CaseDetail:
    store: CasesPort = deps.repository
    case = store.get_case(program_id, case_id)
    subject = store.get_subject(program_id, case.subject_type, case.subject_id)
    rewards = store.subject_rewards(program_id, case.subject_type, case.subject_id)
    held = [r for r in rewards if r.status == "on_hold" and r.case_id == case_id]
    return views.case_detail(case, subject, held, store.case_audit(program_id, case_id))


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
        raise InvalidInput(
            f"unknown status '{status}'", [{"field": "status", "message": "unknown reward status"}]
        )
    repository = deps.repository
    if partner_id:
        rewards = repository.subject_rewards(program_id, "partner", partner_id)
        if customer_id:
            rewards = [r for r in rewards if r.customer_id == customer_id]
    elif customer_id:
        rewards = repository.subject_rewards(program_id, "customer", customer_id)
    elif status == "on_hold":
        # every held reward belongs to a case: read the active cases' subjects, never the table
        rewards = []
        seen: set[tuple[str, str]] = set()
        for case in repository.list_cases(program_id, "active") + repository.list_cases(
            program_id, "resolved"
        ):
            if (case.subject_type, case.subject_id) not in seen:
                seen.add((case.subject_type, case.subject_id))
                rewards += repository.subject_rewards(program_id, case.subject_type, case.subject_id)
    else:
        raise InvalidInput(
            "give partner_id or customer_id (or status=on_hold for every held reward)",
            [{"field": "partner_id", "message": "required without customer_id, unless status is on_hold"}],
        )
    if status:
        rewards = [r for r in rewards if r.status == status]
    rewards.sort(key=lambda r: (r.created_at, r.reward_id))
    query = {"partner_id": partner_id or "", "customer_id": customer_id or "", "status": status or ""}
    if cursor:
        after = tuple(decode_cursor(cursor, query))
        rewards = [r for r in rewards if (r.created_at.isoformat(), r.reward_id) > after]
    page = rewards[:limit]
    more = len(rewards) > limit
    last = page[-1] if page else None
    return views.RewardPage(
        items=[views.reward_view(r) for r in page],
        next_cursor=encode_cursor((last.created_at.isoformat(), last.reward_id), query)
        if more and last
        else None,
    )


def override_reward(deps: Dependencies, program_id: str, reward_id: str, actor: str) -> views.RewardView:
    store: CasesPort = deps.repository
    now = deps.clock.now()

    def attempt() -> Reward:
        reward = store.get_reward(program_id, reward_id)
        carry_out(store, [rules.override_step(reward, actor, now)], deps.publisher)
        return replace(reward, status="approved", overridden=True)

    return views.reward_view(retrying(attempt, f"overriding reward {reward_id}"))


def summary(deps: Dependencies, program_id: str) -> views.Summary:
    store: CasesPort = deps.repository
    active = store.list_cases(program_id, "active")
    held: dict[str, int] = defaultdict(int)
    count = 0
    for case in active + [c for c in store.list_cases(program_id, "resolved") if c.held_count]:
        count += case.held_count
        for currency, micros in case.hold_micros.items():
            held[currency] += micros
    return views.Summary(
        open_cases=sum(1 for c in active if c.status == "open"),
        disputed_cases=sum(1 for c in active if c.status == "disputed"),
        held_rewards=views.HeldRewards(count=count, amounts=views.money(held)),
    )


# --- removals -------------------------------------------------------------------------------
def remove_partner(
    deps: Dependencies, program_id: str, case_id: str, block_reapply: bool, actor: str
) -> views.RemovedPartner:
    """SPEC 3.2: the partner's rewards archived, their identifiers marked removed (and blocked),
    however many; a removal stopped half way is finished by the client's retry."""
    store: CasesPort = deps.repository
    now = deps.clock.now()
    pepper = network_pepper()

    def attempt() -> Case:
        case = store.get_case(program_id, case_id)
        rules.check_removable(case)
        subject = store.get_subject(program_id, "partner", case.subject_id)
        rewards = store.subject_rewards(program_id, "partner", subject.id)
        plan = rules.removal_plan(case, subject, rewards, pepper, block_reapply, actor, now)
        carry_out(store, plan.steps, deps.publisher)
        return store.get_case(program_id, case_id)

    return views.removed_partner(retrying(attempt, f"removing the partner of case {case_id}"))


def removed_partners(deps: Dependencies, program_id: str) -> views.RemovedPage:
    store: CasesPort = deps.repository
    return views.RemovedPage(
        items=[views.removed_partner(c) for c in store.list_cases(program_id, "removed")]
    )
