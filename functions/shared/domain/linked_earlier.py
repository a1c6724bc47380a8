"""Partners who gave an identifier after another partner did, scored before that partner's event
arrived (events out of order, SPEC 4; an order tester's B1): each is reviewed as of its own time.

An e-mail address or a payout account shared with an earlier partner is evidence against the one
who gave it later (`signals.email_duplicate`, `signals.cluster_signal`). Sent in time order, the
later one's event reads the earlier one on the link, and flags. Sent the other way round, the
later one's event read no one, and the earlier one's event, arriving after, must not be judged on
a member that joined after it (that flagged the honest owner of an address, and the one who copied
it went unflagged). So the earlier event is judged on the link as it stood at its time
(`signals.as_they_stood`), and each partner that joined the link after it is reviewed: an internal
event of its own, recorded with the earlier event's decision (in its transaction, so it is never
lost), handed to scoring by the outbox relay, and scored like any event, on the links it names as
each stood when the partner gave it (the earlier partner now among them). It flags the one way
anything flags, from the time the partner gave the identifier.

The links whose members' join times are kept and whose sharing is strong evidence: an address, a
payout account, a device (its partners' times: `links.PARTNERS_TIMES_ONLY`). Not reviewed:
customers (what a shopper typed is no evidence about a partner, and a shopper is judged by its own
purchases),
partners removed already, members of unknown time (joined before times were kept: they read as
earlier than everyone), a crowded link (no evidence), and a member at the same instant (read by
both, as one scripted second is)."""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from datetime import datetime
from typing import Any

from functions.shared.domain.links import GUARDED_JOINS, JOIN_TIMES_KINDS, join_times
from functions.shared.domain.model import PARTNER_KEY, LinkKey, LinkState, as_utc

REVIEW_TYPE = "partner.linked_to_earlier"
"""The type of these reviews (never accepted from an integration: not one of SPEC 3.1's types)."""
REVIEW_ID_PREFIX = "linked_earlier_"
"""The ids of these reviews (`review_id`): the system's; `POST /v1/events` refuses an id that begins so."""
REVIEWS_PER_EVENT = 8
"""Partners one event reviews at most, those not flagged yet first, then the earliest: a step's
room (`writes.MAX_STEP_ITEMS`) is shared with the holds. An address a crowd of throwaway accounts
gave after its owner reviews the first of them; the others, each reading the ones before it, were
flagged by their own events."""
REVIEWED_KINDS = JOIN_TIMES_KINDS & GUARDED_JOINS


def later_joiners(
    me: str, at: datetime, states: dict[LinkKey, LinkState], crowds: Collection[LinkKey]
) -> dict[str, tuple[datetime, list[LinkKey]]]:
    """Of the links a partner's event at `at` joins now (not naming it yet; not crowded), those of
    `REVIEWED_KINDS`: each other partner on them, not removed, that gave the identifier after `at`,
    with the earliest time it gave one of them and the links. None for a customer's event."""
    if not me.startswith(PARTNER_KEY):
        return {}
    found: dict[str, tuple[datetime, list[LinkKey]]] = {}
    for key, state in states.items():
        if key[0] not in REVIEWED_KINDS or key in crowds or me in state.members:
            continue
        for member, joined in join_times(state).items():
            if joined <= at or member == me or member in state.removed or not member.startswith(PARTNER_KEY):
                continue
            partner_id = member.removeprefix(PARTNER_KEY)
            first, keys = found.get(partner_id, (joined, []))
            found[partner_id] = (min(first, joined), [*keys, key])
    return found


def review_id(event_id: str, partner_id: str) -> str:
    """One review per earlier event and partner: the same id however often the event is planned."""
    digest = hashlib.sha256(f"{event_id}/{partner_id}".encode()).hexdigest()[:24]
    return REVIEW_ID_PREFIX + digest


def review_bodies(
    event_id: str,
    earlier: tuple[str, str],
    found: dict[str, tuple[datetime, list[LinkKey]]],
    flagged: Collection[str],
) -> list[dict[str, Any]]:
    """The reviews an event (`event_id`, of the partner `earlier`, as (type, id)) records of the
    partners `later_joiners` found: at most `REVIEWS_PER_EVENT`, those not in `flagged` (member
    keys) first, then by the time each gave the identifier. Each is dated when its partner gave it."""
    ordered = sorted(found.items(), key=lambda pair: (PARTNER_KEY + pair[0] in flagged, pair[1][0], pair[0]))
    return [
        {
            "id": review_id(event_id, partner_id),
            "type": REVIEW_TYPE,
            "occurred_at": as_utc(joined).isoformat(),
            "partner_id": partner_id,
            "earlier": {"subject_type": earlier[0], "subject_id": earlier[1], "event_id": event_id},
            "links": [{"kind": kind, "value": value} for kind, value in keys],
        }
        for partner_id, (joined, keys) in ordered[:REVIEWS_PER_EVENT]
    ]
