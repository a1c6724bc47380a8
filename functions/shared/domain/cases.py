"""Cases: their statuses, the console's views of them, and the reasons they gather (SPEC 4, 10)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from functions.shared.domain.hold_order import ORDERED_VIEW
from functions.shared.domain.model import Case, Reason, as_utc, evolve

ACTIVE = ("open", "disputed")  # a subject's active case: new signals add reasons to it
TAKES_HOLDS = ("open", "disputed", "declined")  # never approved or removed (SPEC 4)
RESOLVED = ("approved", "declined")
CASE_VIEWS = {"active": ACTIVE, "resolved": RESOLVED, "removed": ("removed",)}
CASE_STATUSES = tuple(status for statuses in CASE_VIEWS.values() for status in statuses)


def view_of(status: str) -> str:
    return next(view for view, statuses in CASE_VIEWS.items() if status in statuses)


def view_time(view: str) -> str:
    """The case time a view is kept in order of (the `cases_by_view` index's sort key): the removed
    view by removal, every other view by flag."""
    return "removed_at" if view == "removed" else "flagged_at"


def dispute_position(case: Case) -> tuple[datetime, str, str]:
    """Where a disputed case stands in the security team's list (`GET /v1/disputes`, oldest dispute
    first, across programs): its dispute time, then program and case ids (the `disputes` index's
    sort key). A verdict does not move it."""
    return (case.disputed_at or case.flagged_at, case.program_id, case.case_id)


def in_hold_order(status: str) -> bool:
    """Only the active view's cases are in the hold-amount order (`hold_order`): a case leaves it
    when it leaves the view (resolved or removed), for good."""
    return view_of(status) == ORDERED_VIEW


def case_reasons(reasons: list[dict[str, str]], at: datetime) -> tuple[Reason, ...]:
    """A decision's reasons as case reasons: one per code (SPEC 4), in the decision's order; each
    one's `first` sorts by instant (UTC: an event's time keeps the offset it was sent with, and
    `11:00+05:00` written as text sorts after `07:00Z`, which came later)."""
    seen: dict[str, Reason] = {}
    first = as_utc(at).isoformat()
    for n, reason in enumerate(reasons):
        seen.setdefault(reason["code"], Reason(reason["code"], reason["detail"], 1, f"{first}#{n:02d}"))
    return tuple(seen.values())


def merge_reasons(current: list[Reason], new: Iterable[Reason]) -> list[Reason]:
    """Each code once: its most recent detail, how often it fired, where it first appeared."""
    merged = {r.code: evolve(r) for r in current}
    for reason in new:
        kept = merged.get(reason.code)
        if kept is None:
            merged[reason.code] = evolve(reason)
        else:
            kept.detail, kept.count = reason.detail, kept.count + reason.count
    return sorted(merged.values(), key=lambda r: (r.first, r.code))


def evidence_of(case: Case) -> dict[str, int]:
    """How often each of a case's reasons has fired: what a verdict on it is decided on."""
    return {r.code: r.count for r in case.reasons}
