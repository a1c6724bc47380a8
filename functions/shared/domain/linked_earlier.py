"""Partners who gave an identifier after another partner did, scored before that partner's event
arrived (events out of order, SPEC 4; an order tester's B1 and B3): each is reviewed as of its own
time.

An e-mail address, a device or a payout account shared with an earlier partner is evidence against
the one who gave it later (`signals.email_duplicate`, `signals.device_signals`,
`signals.cluster_signal`). Sent in time order, the later one's event reads the earlier one on the
link, and flags. Sent the other way round, the later one's event read no one, and the earlier one's
event, arriving after, must not be judged on a member that joined after it (that flagged the honest
owner of an address, and the one who copied it went unflagged; a device farm's first account, not
its third). So the earlier event is judged on the link as it stood at its time
(`signals.as_they_stood`), and each partner that joined the link after it is reviewed: an internal
event of its own, recorded with the earlier event's decision (in its transaction, so it is never
lost), sent to scoring at once (the outbox relay sends it should that fail), and scored like any
event, on the links it names as each stood when the partner gave it (the earlier partner now among
them). It flags the one way anything flags, from the time the partner gave the identifier.

The links whose members' join times are kept and whose sharing is strong evidence: an address, a
payout account, a device (its partners' times: `links.PARTNERS_TIMES_ONLY`). Not reviewed:
customers (what a shopper typed is no evidence about a partner, and a shopper is judged by its own
purchases), partners removed already, members of unknown time (joined before times were kept: they
read as earlier than everyone), a crowded link (no evidence), and a member at the same instant
(read by both, as one scripted second is)."""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from datetime import datetime
from typing import Any

from functions.shared.domain.links import GUARDED_JOINS, JOIN_TIMES_KINDS, LATE_WITHIN, join_times, moves_back
from functions.shared.domain.model import PARTNER_KEY, LinkKey, LinkState, as_utc

REVIEW_TYPE = "partner.linked_to_earlier"
"""The type of these reviews (never accepted from an integration: not one of SPEC 3.1's types)."""
REVIEW_ID_PREFIX = "linked_earlier_"
"""The ids of these reviews (`review_id`): the system's; `POST /v1/events` refuses an id that begins so."""
REVIEWS_PER_EVENT = 8
"""Reviews one event records at most, those of partners not flagged yet first, then the earliest: a
step's room (`writes.MAX_STEP_ITEMS`) is shared with the holds. An address a crowd of throwaway
accounts gave after its owner reviews the first of them; the others, each reading the ones before
it, were flagged by their own events."""
REVIEWED_KINDS = JOIN_TIMES_KINDS & GUARDED_JOINS

Later = dict[tuple[str, LinkKey], datetime]
"""Each partner to review (its id) and link, with the time it gave the link's identifier."""


def later_joiners(
    me: str, at: datetime, states: dict[LinkKey, LinkState], crowds: Collection[LinkKey], signup: bool = False
) -> Later:
    """Of a partner's event's links of `REVIEWED_KINDS` (not crowded) that it joins now or whose time
    it moves back (`links.moves_back`), each other partner on one, not removed, that gave the
    identifier after `at` (and no more than `links.LATE_WITHIN` after) and before this partner's
    time of before on the link: its event did not read this partner, which was not on the link yet,
    or read as coming after it (`links.without_later`). None for a customer's event."""
    if not me.startswith(PARTNER_KEY):
        return {}
    found: Later = {}
    for key, state in states.items():
        if key[0] not in REVIEWED_KINDS or key in crowds:
            continue
        times = join_times(state)
        mine = times.get(me)  # None: it joins now
        if me in state.members and not moves_back(state, me, at, signup):
            continue  # its time on the link stays (`links.join_entries`): nothing new to anyone
        for member, joined in times.items():
            if not at < joined <= at + LATE_WITHIN or (mine is not None and joined >= mine):
                continue
            if member == me or member in state.removed or not member.startswith(PARTNER_KEY):
                continue
            found[(member.removeprefix(PARTNER_KEY), key)] = joined
    return found


def review_id(event_id: str, partner_id: str, key: LinkKey) -> str:
    """One review per earlier event, partner and link: the same id however often the event is planned."""
    digest = hashlib.sha256(f"{event_id}/{partner_id}/{key[0]}/{key[1]}".encode()).hexdigest()[:24]
    return REVIEW_ID_PREFIX + digest


def review_bodies(
    event_id: str,
    earlier: tuple[str, str],
    found: Later,
    flagged: Collection[str],
    flagged_at: datetime | None = None,
) -> list[dict[str, Any]]:
    """The reviews an event (`event_id`, of the partner `earlier`, as (type, id), flagged since
    `flagged_at` once the event is decided, or not) records of what `later_joiners` found: one per
    partner and link, dated when the partner gave that link's identifier (a review naming two links
    given hours apart flagged from the earlier of them, what the other told only later); at most
    `REVIEWS_PER_EVENT`, partners not in `flagged` (member keys) first, then by time. A review
    reads the earlier partner's flag only from `flagged_at` on (a link's marks keep no time)."""
    ordered = sorted(found.items(), key=lambda pair: (PARTNER_KEY + pair[0][0] in flagged, pair[1], pair[0]))
    return [
        {
            "id": review_id(event_id, partner_id, key),
            "type": REVIEW_TYPE,
            "occurred_at": as_utc(joined).isoformat(),
            "partner_id": partner_id,
            "earlier": {
                "subject_type": earlier[0],
                "subject_id": earlier[1],
                "event_id": event_id,
                "flagged_at": as_utc(flagged_at).isoformat() if flagged_at is not None else None,
            },
            "links": [{"kind": key[0], "value": key[1]}],
        }
        for (partner_id, key), joined in ordered[:REVIEWS_PER_EVENT]
    ]
