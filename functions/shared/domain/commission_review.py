"""A large commission sent with its purchase just after the partner changed its payout details
(SPEC 3.1 `transaction.created`'s `reward`, SPEC 5.1 `unusual_activity`; an evasion tester's high
finding): the same money sent as a `reward.created` flagged the partner
(`payout_changed_before_large_reward`), sent with a purchase it was judged as the customer's
purchase alone, and stayed payable to details set moments before.

A purchase's subject is its customer, whose case holds the customer's rewards: the partner is
judged by a review of its own. A purchase whose commission is large and came within the window
after the partner's payout change, as its read showed the partner, records one: an internal event,
recorded with the purchase's decision (in its transaction, so it is never lost), sent to scoring at
once (the outbox relay sends it should that fail), and scored as a `reward.created` of that money is,
against the partner as it then stands. It flags the partner from the purchase's time, and the flag's
hold takes the commission, recorded `pending` by the purchase before.

Received the other way round (the payout change after the purchase), the change finds the
commission among the partner's rewards (`signals.payout_before_listed_rewards`), as it does an API
reward's."""

from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import Decimal
from typing import Any

from functions.shared.domain.model import as_utc

REVIEW_TYPE = "partner.commission_after_payout_change"
"""The type of these reviews (never accepted from an integration: not one of SPEC 3.1's types)."""
REVIEW_ID_PREFIX = "commission_review_"
"""The ids of these reviews (`review_id`): the system's; `POST /v1/events` refuses an id that begins so."""


def review_id(event_id: str) -> str:
    """One review per purchase: the same id however often its event is planned."""
    return REVIEW_ID_PREFIX + hashlib.sha256(f"{event_id}/commission".encode()).hexdigest()[:24]


def review_body(
    event_id: str, partner_id: str, reward: tuple[str, Decimal, str], at: datetime
) -> dict[str, Any]:
    """The review a purchase (`event_id`, at `at`) records of its partner for its commission
    `reward` (id, amount, currency)."""
    reward_id, amount, currency = reward
    return {
        "id": review_id(event_id),
        "type": REVIEW_TYPE,
        "occurred_at": as_utc(at).isoformat(),
        "partner_id": partner_id,
        "event_id": event_id,
        "reward": {"id": reward_id, "amount": str(amount), "currency": currency},
    }
