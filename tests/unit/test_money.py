"""Amounts as the API shows them: in their currency's decimal places (ISO 4217 minor units)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from functions.shared.money import amount_text, to_micros


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        ("12.5", "USD", "12.50"),
        ("1000", "JPY", "1000"),  # shown as 1000.00, which no yen amount is
        ("1000", "jpy", "1000"),
        ("1.5", "BHD", "1.500"),
        ("0.123456", "EUR", "0.123456"),  # more places than the currency's: every one shown
        ("7", None, "7.00"),
    ],
)
def test_an_amount_is_shown_in_its_currencys_decimal_places(amount, currency, shown):
    assert amount_text(to_micros(Decimal(amount)), currency) == shown
