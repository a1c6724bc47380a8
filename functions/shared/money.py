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


# ISO 4217 currencies whose minor unit is not 2 decimal places; every other code has 2.
_ZERO_PLACES = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_MINOR_UNITS = {
    **dict.fromkeys(_ZERO_PLACES.split(), 0),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
    **dict.fromkeys(["CLF", "UYW"], 4),
}


def decimal_places(currency: str) -> int:
    return _MINOR_UNITS.get(currency.upper(), 2)


def amount_text(micros: int, currency: str | None = None) -> str:
    """As money is read in its currency: at least its decimal places (12.5 USD '12.50', 1000 JPY
    '1000', 1.5 BHD '1.500'; two without a currency), more only when the amount has them."""
    value = from_micros(micros)
    places = decimal_places(currency) if currency else 2
    step = Decimal(1).scaleb(-places)
    return format(value.quantize(step), "f") if value == value.quantize(step) else format(value, "f")
