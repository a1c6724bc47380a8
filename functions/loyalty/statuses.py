"""A loyalty customer's status (SPEC 3.4): active, suspended or blocked, and the changes between
them, whether made by hand (`service.change_status`) or by a workflow's action
(`workflows._actions`, which only suspends and blocks)."""

from __future__ import annotations

from typing import NamedTuple


class Transition(NamedTuple):
    applies_to: frozenset[str]  # the statuses it changes
    status: str  # the status after
    action: str  # the customer's history entry
    bus_event: str | None  # the notification it sends, if any


TRANSITIONS: dict[str, Transition] = {
    "suspend": Transition(frozenset({"active"}), "suspended", "suspended", "CustomerSuspended"),
    "unsuspend": Transition(frozenset({"suspended"}), "active", "unsuspended", None),
    "block": Transition(frozenset({"active", "suspended"}), "blocked", "blocked", "CustomerBlocked"),
    "unblock": Transition(frozenset({"blocked"}), "active", "unblocked", None),
}


def status_after(change: str, status: str, blocked_from: str | None) -> tuple[str, str | None]:
    """The status a change leaves, and what a block was made from: an unblock goes back there (a
    customer suspended, then blocked, then unblocked is suspended again: the unblock lifted the
    block, not the suspension a workflow or a teammate set, which a workflow does not set twice in
    one period)."""
    if change == "block":
        return "blocked", status
    if change == "unblock":
        return blocked_from or TRANSITIONS[change].status, None
    return TRANSITIONS[change].status, None
