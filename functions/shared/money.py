"""Money: exact decimals in the domain and the API, integer micro-units in storage.

DynamoDB numbers are exact, but pynamodb serializes numbers through floats; integers of micro-units
(amount x 10^6, the finest precision the API accepts) stay exact all the way and add up safely in
update expressions."""

from __future__ import annotations

from decimal import Decimal

MICROS = Decimal(1_000_000)


def to_micros(amount: Decimal) -> int:
    scaled = amount * MICROS
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} has more than 6 decimal places")
    return int(scaled)


def from_micros(micros: int) -> Decimal:
    return (Decimal(micros) / MICROS).normalize() if micros else Decimal("0")


def amount_text(micros: int) -> str:
    """At least two decimals, as money is read: 12.5 -> '12.50'."""
    value = from_micros(micros)
    return f"{value:.2f}" if value == value.quantize(Decimal("0.01")) else format(value, "f")
