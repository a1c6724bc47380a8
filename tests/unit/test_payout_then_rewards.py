"""Red team: SPEC 5.1 `unusual_activity` "payout details changed just before large rewards". The
rule (`signals.payout_before_large_reward`) judges one reward at a time against a per-currency table
(`weights.LARGE_REWARD`): a currency not in the table is never large, and the table had twenty. The
payout change here is made from the partner's own device and home IP (an account opened to cash
out, or a taker on the owner's machine), so only this rule can see it."""

from __future__ import annotations

import pytest

from tests.integration.scoring_support import signup
from tests.unit.live_scoring import live, make_engine
from tests.unit.test_detection import payout_update, reward


@pytest.mark.parametrize(
    "amount,currency",
    [("750.00", "USD"), ("10000.00", "AED"), ("30000.00", "TRY"), ("60000.00", "CZK"), ("100000.00", "THB")],
)
def test_a_large_reward_in_any_currency_just_after_new_payout_details_flags(amount, currency):
    engine = make_engine()
    live(engine, signup("p1", at="2026-10-01T09:00:00Z"))
    live(engine, payout_update("p1", "2026-11-02T09:00:00Z"))
    decision = live(engine, reward("p1", amount, "2026-11-02T12:00:00Z", currency))
    assert decision["action"] == "flag", (amount, currency, decision)
