"""Which queued events a synchronous decision scores before its own, so that the request scoring
on its path keeps a partner's events in the order they arrived (README "Synchronous decision").

An integration that sends a partner's sign-up (202, queued) and a moment later that partner's
self-referring purchase with `?wait=decision` must get the decision the queue would give in
arrival order: the purchase scored with the partner on file (`self_referral`), not before it.
So the request first scores the events still waiting in the outbox that arrived before its own,
recently, and concern one of its subjects: its partner, or the customer it names. Only those:
another partner's events do not change this decision, and scoring them would spend the wait.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from functions.shared.domain.model import StoredEvent

QUEUED_WINDOW = timedelta(seconds=60)
"""How far back a synchronous decision looks for events still queued. The queue scores an event
within a second or two of its 202 (the relay sends what it missed within minutes): older events
still waiting are stuck or retried, not merely in flight, and reading further back would read
more of a busy program's outbox for nothing this request can put in order."""
QUEUED_PER_SHARD = 25
"""The most queued events read of each outbox shard (`keys.OUTBOX_SHARDS`), the newest of the
window: one query page each, 200 events at most, however many wait. A program sending 3,000
events a second has thousands waiting at any moment; under such a load these are the last tens of
milliseconds, and a program sending tens a second is read whole."""


def window(event: StoredEvent) -> tuple[datetime, datetime]:
    """Received at or after the first time and before the second: what `recently_queued` reads."""
    return event.received_at - QUEUED_WINDOW, event.received_at


def subjects(event_type: str, body: dict[str, Any]) -> frozenset[tuple[str, str]]:
    """The partner and the customer an event concerns, as its stored body names them (the body as
    accepted: validated at the edge, identifiers kept as sent)."""
    partner: Any = None
    customer: Any = None
    if event_type in ("partnership.created", "account.updated"):
        partner = (body.get("partner") or {}).get("id")
    elif event_type == "transaction.created":
        partner = body.get("partner_id")
        customer = (body.get("customer") or {}).get("id")
    elif event_type == "reward.created":
        reward = body.get("reward") or {}
        partner, customer = reward.get("partner_id"), reward.get("customer_id")
    named = {("partner", partner), ("customer", customer)}
    return frozenset((kind, key) for kind, key in named if isinstance(key, str) and key.strip())


def goes_first(event: StoredEvent, queued: list[StoredEvent]) -> list[StoredEvent]:
    """Of the queued events read, those to score before `event`, in the order received: still
    queued, of its program, received within `QUEUED_WINDOW` before it (one received in the same
    instant cannot be put before it), and sharing its partner or its customer."""
    start, end = window(event)
    mine = subjects(event.type, event.body)
    first = [
        other
        for other in queued
        if other.program_id == event.program_id
        and other.event_id != event.event_id
        and other.status == "queued"
        and start <= other.received_at < end
        and mine & subjects(other.type, other.body)
    ]
    return sorted(first, key=lambda other: (other.received_at, other.event_id))
