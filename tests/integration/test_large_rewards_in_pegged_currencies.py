"""A large reward just after new payout details (SPEC 5.1 `unusual_activity`) in a currency held at a
fixed rate to the dollar or the euro (an evasion tester's: 5,000 PAB, 3,000,000 XOF and 5,000 BAM,
each worth far more than the 200 US dollars that flag, were never judged by size, and the reward
was payable to the new details). Through the real ingest and score handlers on moto."""

from __future__ import annotations

from decimal import Decimal

import pytest

from functions.score import weights
from tests.integration.scoring_support import signup, status
from tests.integration.test_scoring_signals import decide, payout_update, reason_codes, reward_of


def test_each_pegged_line_is_its_anchors_at_the_peg_rounded_down():
    for code, (anchor, rate) in weights.PEGGED.items():
        at_the_peg = weights.LARGE_REWARD[anchor] * Decimal(rate)
        assert at_the_peg * Decimal("0.9") <= weights.LARGE_REWARD[code] <= at_the_peg, code


@pytest.mark.parametrize(
    ("amount", "currency", "flags"),
    [
        ("5000.00", "PAB", True),
        ("200.00", "BMD", True),  # the dollar's line, at one to one
        ("2000.000", "JOD", True),
        ("5000.00", "BAM", True),
        ("3000000", "XOF", True),
        ("30000", "XPF", True),  # New Caledonia's and French Polynesia's franc
        ("500000.00", "RUB", True),
        ("5000.00", "GIP", True),  # held at par to the pound (the session reviewer's)
        ("50000.00", "NAD", True),  # to the rand
        ("200000.00", "BTN", True),  # to the rupee
        ("150.00", "BMD", False),  # control: small, as 150 dollars are
        ("100000", "XOF", False),
    ],
)
def test_a_large_reward_in_a_pegged_currency_after_new_payout_details_flags(
    aws, tenant, amount, currency, flags
):
    decide(aws, tenant, signup("p1", at="2026-10-01T08:00:00Z"))
    bonus = reward_of("p1", "bonus-1", "2026-11-02T10:00:00Z", amount=amount)
    bonus["reward"]["currency"] = currency

    _, decision = decide(aws, tenant, payout_update("p1", 1, 9), bonus)

    assert ("unusual_activity" in reason_codes(decision)) == flags, decision
    assert (decision["action"] == "flag") == flags
    assert bool(status(tenant, "bonus-1")["case_id"]) == flags
