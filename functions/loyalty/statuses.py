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
