"""Scoring customers and rewards through the real engine and hold sweep (the customer-side red team
of the twenty-fifth session)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from functions.hold_sweep.service import sweep
from functions.shared.clock import FixedClock
from functions.shared.messaging import InMemoryPublisher
from functions.shared.runtime import Dependencies
from tests.integration.scoring_support import purchase, signup  # noqa: F401
from tests.support import sample
from tests.unit.live_scoring import PROGRAM, live, make_engine, reasons  # noqa: F401

PARTNER_EMAIL = "kai.brandt@brandtmedia.de"


def api_reward(
    reward_id: str,
    partner_id: str,
    at: str,
    *,
    customer: str | None = None,
    transaction: str | None = None,
    amount: str = "10.00",
    currency: str = "USD",
) -> dict[str, Any]:
    event = sample("reward.created", id=f"ev-{reward_id}", occurred_at=at)
    event["reward"] = {"id": reward_id, "partner_id": partner_id, "amount": amount, "currency": currency}
    if customer:
        event["reward"]["customer_id"] = customer
    if transaction:
        event["reward"]["transaction_id"] = transaction
    return event


def kai(engine: Any, **changes: Any) -> None:
    """An honest-looking partner, Kai Brandt, at home (81.2.69.40, fp-home), signed up 1 Nov."""
    fields: dict[str, Any] = dict(
        email=PARTNER_EMAIL, name="Kai Brandt", ip="81.2.69.40", device="fp-home", at="2026-11-01T08:00:00Z"
    )
    fields.update(changes)
    live(engine, signup("p-kai", **fields))


def status(engine: Any, reward_id: str) -> str:
    return engine.repository.get_reward(PROGRAM, reward_id).status


def run_sweep(engine: Any, at: str) -> None:
    now = datetime.fromisoformat(at.replace("Z", "+00:00")).astimezone(UTC)
    sweep(Dependencies(engine.repository, InMemoryPublisher(), FixedClock(now)))
