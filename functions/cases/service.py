"""What program teams read and do: case views, the drawer, rewards, overrides, the summary."""

from __future__ import annotations

import base64
import binascii
import json
from collections import defaultdict
from datetime import datetime
from typing import Any

from functions.shared.errors import Conflict, InvalidInput
from functions.shared.money import amount_text, to_micros
from functions.shared.runtime import Dependencies
from functions.shared.storage.port_partners import REWARD_STATUSES, Case, Reward

VIEW_STATUSES = {"active": ("open", "disputed"), "resolved": ("approved", "declined")}
VIEW_SORTS = {"active": ("flagged_at", "hold_amount"), "resolved": ("flagged_at", "resolved_at")}


# --- shaping -------------------------------------------------------------------------------
def primary_hold(case: Case) -> tuple[str | None, int]:
    """The currency holding the most, for the case's one `hold_amount` (all are in `hold_amounts`)."""
    held = {c: m for c, m in case.hold_micros.items() if m}
    if not held:
        return None, 0
    currency = max(sorted(held), key=lambda c: held[c])
    return currency, held[currency]


def case_json(case: Case) -> dict[str, Any]:
    currency, micros = primary_hold(case)
    return {
        "id": case.case_id,
        "subject": {"type": case.subject_type, "id": case.subject_id, "name": case.subject_name},
        "reasons": case.reasons,
        "hold_amount": {"amount": amount_text(micros), "currency": currency},
        "hold_amounts": [
            {"amount": amount_text(m), "currency": c} for c, m in sorted(case.hold_micros.items()) if m
        ],
        "held_rewards": case.held_count,
        "flagged_at": case.flagged_at,
        "disputed_at": case.disputed_at,
        "resolved_at": case.resolved_at,
        "status": case.status,
        "dispute_reason": case.dispute_reason,
    }


def reward_json(reward: Reward) -> dict[str, Any]:
    return {
        "id": reward.reward_id,
        "partner_id": reward.partner_id,
        "customer_id": reward.customer_id,
        "transaction_id": reward.transaction_id,
        "amount": amount_text(to_micros(reward.amount)),
        "currency": reward.currency,
        "status": reward.status,
        "created_at": reward.created_at,
        "source": reward.source,
        "overridden": reward.overridden,
        "case_id": reward.case_id,
    }


# --- paging -------------------------------------------------------------------------------
def _sort_key(case: Case, sort: str) -> tuple[Any, str]:
    if sort == "hold_amount":
        return (primary_hold(case)[1], case.case_id)
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
) -> dict[str, Any]:
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
    return {
        "items": [case_json(c) for c in page],
        "next_cursor": encode_cursor(_sort_key(page[-1], sort), query) if more and page else None,
    }


# --- the drawer -----------------------------------------------------------------------------
def case_detail(deps: Dependencies, program_id: str, case_id: str) -> dict[str, Any]:
    repository = deps.repository
    case = repository.get_case(program_id, case_id)
    subject = repository.get_subject(program_id, case.subject_type, case.subject_id)
    rewards = repository.subject_rewards(program_id, case.subject_type, case.subject_id)
    held = [r for r in rewards if r.status == "on_hold" and r.case_id == case_id]
    detail = case_json(case)
    detail["partner" if case.subject_type == "partner" else "customer"] = {
        "id": subject.id,
        "name": subject.name,
        "email": subject.email,
        "country": subject.country,
        "group": subject.group,
        "team": subject.team,
        "keys": [subject.id],
        "revenue": [
            {"amount": amount_text(m), "currency": c} for c, m in sorted(subject.revenue_micros.items())
        ],
        "segments": list(subject.segments),
        "tags": list(subject.tags),
        "signup_at": subject.signup_at,
        "status": subject.status,
    }
    detail["held_reward_list"] = [reward_json(r) for r in held]
    detail["audit"] = [
        {"at": e.at, "action": e.action, "actor": e.actor, "detail": e.detail}
        for e in repository.case_audit(program_id, case_id)
    ]
    return detail


# --- rewards ------------------------------------------------------------------------------
def list_rewards(
    deps: Dependencies,
    program_id: str,
    partner_id: str | None,
    customer_id: str | None,
    status: str | None,
    limit: int,
    cursor: str | None,
) -> dict[str, Any]:
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
    return {
        "items": [reward_json(r) for r in page],
        "next_cursor": encode_cursor((last.created_at.isoformat(), last.reward_id), query)
        if more and last
        else None,
    }


def override_reward(deps: Dependencies, program_id: str, reward_id: str, actor: str) -> dict[str, Any]:
    return reward_json(deps.repository.override_reward(program_id, reward_id, actor, deps.clock.now()))


def summary(deps: Dependencies, program_id: str) -> dict[str, Any]:
    active = deps.repository.list_cases(program_id, "active")
    held: dict[str, int] = defaultdict(int)
    count = 0
    for case in active + [c for c in deps.repository.list_cases(program_id, "resolved") if c.held_count]:
        count += case.held_count
        for currency, micros in case.hold_micros.items():
            held[currency] += micros
    return {
        "open_cases": sum(1 for c in active if c.status == "open"),
        "disputed_cases": sum(1 for c in active if c.status == "disputed"),
        "held_rewards": {
            "count": count,
            "amounts": [{"currency": c, "amount": amount_text(m)} for c, m in sorted(held.items()) if m],
        },
    }


# --- removals -------------------------------------------------------------------------------
def remove_partner(
    deps: Dependencies, program_id: str, case_id: str, block_reapply: bool, actor: str
) -> dict[str, Any]:
    from functions.score.identity import network_keys_of, network_pepper, program_token

    repository = deps.repository
    case = repository.get_case(program_id, case_id)
    if case.subject_type != "partner":
        raise Conflict(f"case {case_id} is about a customer; only partners can be removed")
    subject = repository.get_subject(program_id, "partner", case.subject_id)
    pepper = network_pepper()
    removed = repository.remove_partner(
        program_id,
        case_id,
        block_reapply,
        actor,
        deps.clock.now(),
        network_keys_of(subject.email_normalized, subject.devices, pepper),
        program_token(program_id, pepper),
    )
    deps.publisher.publish(
        "PartnerRemoved",
        {
            "program_id": program_id,
            "case_id": case_id,
            "partner_id": subject.id,
            "block_reapply": block_reapply,
            "archived_rewards": removed.archived_count,
            "by": actor,
        },
    )
    return removed_json(removed)


def removed_json(case: Case) -> dict[str, Any]:
    return {
        "case_id": case.case_id,
        "partner": {"id": case.subject_id, "name": case.subject_name},
        "team": case.subject_team,
        "flag_reason": case.reasons[0] if case.reasons else None,
        "flagged_at": case.flagged_at,
        "archived_rewards": {
            "count": case.archived_count,
            "amounts": [
                {"currency": c, "amount": amount_text(m)} for c, m in sorted(case.archived_micros.items())
            ],
        },
        "removed_at": case.removed_at,
        "removed_by": case.removed_by,
        "block_reapply": case.block_reapply,
    }


def removed_partners(deps: Dependencies, program_id: str) -> dict[str, Any]:
    return {"items": [removed_json(c) for c in deps.repository.list_cases(program_id, "removed")]}
