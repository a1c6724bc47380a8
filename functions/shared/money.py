"""Money: exact decimals in the domain and the API, integer micro-units in storage.

DynamoDB numbers are exact, but pynamodb serializes numbers through floats; integers of micro-units
(amount x 10^6, the finest precision the API accepts) stay exact all the way and add up safely in
update expressions."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

MICROS = Decimal(1_000_000)


def to_micros(amount: Decimal) -> int:
    scaled = amount * MICROS
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} has more than 6 decimal places")
    return int(scaled)


def from_micros(micros: int) -> Decimal:
    return (Decimal(micros) / MICROS).normalize() if micros else Decimal("0")


@lru_cache(maxsize=1)
def currencies() -> dict[str, int]:
    """Every ISO 4217 code of money and its decimal places (its minor unit), from the `iso4217`
    package's copy of the standard's table, read on the first amount checked. Codes the standard
    gives no minor unit (gold, special drawing rights, `XXX`: no program pays in them) are left out."""
    import iso4217

    units = {code: str(entry.get("CcyMnrUnts") or "") for code, entry in iso4217.raw_table.items() if code}
    return {code: int(places) for code, places in units.items() if places.isdigit()}


def decimal_places(currency: str) -> int:
    """A currency's decimal places (2 for a code the table does not have: only what was stored before
    currencies were checked)."""
    return currencies().get(currency.upper(), 2)


def amount_text(micros: int, currency: str | None = None) -> str:
    """As money is read in its currency: at least its decimal places (12.5 USD '12.50', 1000 JPY
    '1000', 1.5 BHD '1.500'; two without a currency), more only when the amount has them."""
    value = from_micros(micros)
    places = decimal_places(currency) if currency else 2
    step = Decimal(1).scaleb(-places)
    return format(value.quantize(step), "f") if value == value.quantize(step) else format(value, "f")
