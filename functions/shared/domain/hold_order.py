"""The Active tab's hold-amount order (SPEC 3.2 `sort=hold_amount`), once: which currency is a
case's hold amount, where its whole hold places it, which amounts the order can place (which cases
are in it: `cases.in_hold_order`). The stores keep the order in an index (`cases_by_hold`) from
these; they decide nothing of it. Imports only the reference rates (data): the table's keys read it.

Currencies are compared by their worth in euros at the ECB's reference rates of one day
(`reference_rates.PER_EURO`, `AS_OF`), never at face value: 100,000 IDR is worth about 5 EUR, not
more than 9,000 EUR. A currency the ECB publishes no rate for has no known worth: a case holding
only such currencies ranks below every case holding a currency with a rate and above a case
holding nothing (in `order=desc`: after the first, before the second), among its kind by the
largest amount it holds. A case holding both is placed by the worth of the currencies with a
rate."""

from __future__ import annotations

from fractions import Fraction

from functions.shared.reference_rates import PER_EURO

ORDERED_VIEW = "active"  # hold_amount is a sort of the active view only (cases/service VIEW_SORTS)
HOLD_DIGITS = 38  # DynamoDB keeps 38 significant digits: every amount it stores has fewer
RATED_FROM = 10**37  # the places of a case whose hold has a known worth: this plus its euro micro-units
_PLACE_MAX = 10**HOLD_DIGITS - 1
_RATES = {currency: Fraction(rate) for currency, rate in PER_EURO.items()}


def orderable(micros: int) -> bool:
    """An amount the order can place (any a store can hold): fewer than `HOLD_DIGITS` digits."""
    return -(10**HOLD_DIGITS) < micros < 10**HOLD_DIGITS


def rated(currency: str) -> bool:
    """A currency the ECB publishes a euro reference rate for."""
    return currency in _RATES


def _held(hold_micros: dict[str, int]) -> dict[str, int]:
    return {c: m for c, m in hold_micros.items() if m}


def euro_worth(currency: str, micros: int) -> Fraction:
    """An amount of a currency with a rate, in euro micro-units (exact)."""
    return micros / _RATES[currency]


def primary_hold(hold_micros: dict[str, int]) -> tuple[str | None, int]:
    """The currency worth the most in euros (ties: the first by code) and its micro-units; among
    currencies without a rate, only when the case holds no other, the one holding the most; (None,
    0) when nothing is held. The case's one `hold_amount`."""
    held = _held(hold_micros)
    if not held:
        return None, 0
    known = sorted(c for c in held if rated(c))
    if known:
        currency = max(known, key=lambda c: euro_worth(c, held[c]))
    else:
        currency = max(sorted(held), key=lambda c: held[c])
    return currency, held[currency]


def order_place(hold_micros: dict[str, int]) -> int:
    """Where a case's whole hold places it in the order (the number `keys.case_hold_sk` keeps):
    `RATED_FROM` plus the euro micro-units of every currency with a rate, added (rounded down);
    for a hold in currencies without a rate alone, the largest amount's micro-units, below
    `RATED_FROM`; 0 for nothing held. Clamped into the order's range (no hold reaches its ends)."""
    held = _held(hold_micros)
    if not held:
        return 0
    known = [c for c in held if rated(c)]
    if known:
        worth = int(sum((euro_worth(c, held[c]) for c in known), Fraction(0)) // 1)
        return RATED_FROM + min(max(worth, 0), _PLACE_MAX - RATED_FROM)
    return min(max(max(held.values()), 1), RATED_FROM - 1)
