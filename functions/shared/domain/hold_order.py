"""The Active tab's hold-amount order (SPEC 3.2 `sort=hold_amount`), once: which currency is a
case's hold amount, which amounts the order can place (which cases are in it:
`cases.in_hold_order`). The stores keep the order in an index (`cases_by_hold`)
from these; they decide nothing of it. Imports nothing: the table's keys read it."""

from __future__ import annotations

ORDERED_VIEW = "active"  # hold_amount is a sort of the active view only (cases/service VIEW_SORTS)
HOLD_DIGITS = 38  # DynamoDB keeps 38 significant digits: every amount it stores has fewer


def orderable(micros: int) -> bool:
    """An amount the order can place (any a store can hold): fewer than `HOLD_DIGITS` digits."""
    return -(10**HOLD_DIGITS) < micros < 10**HOLD_DIGITS


def primary_hold(hold_micros: dict[str, int]) -> tuple[str | None, int]:
    """The currency holding the most (ties: the first by code) and its micro-units; (None, 0) when
    nothing is held. The case's one `hold_amount`, and its place in the hold-amount order."""
    held = {c: m for c, m in hold_micros.items() if m}
    if not held:
        return None, 0
    currency = max(sorted(held), key=lambda c: held[c])
    return currency, held[currency]
