"""Partners linked to a removed partner (SPEC 5.2, 5.3): once a removal has marked every identifier
of the partner removed, each other partner of the program on one of its strong links (an e-mail
address, a device, a payout account: `links.GUARDED_JOINS`) is scored again against those links, by
a review: an internal event of its own, recorded through the events' outbox (delivered at least
once) and scored by the score function like any event. A device or e-mail address shared with a
removed subject is strong evidence (SPEC 5.2), and so is a payout account (`signals.cluster`): the
review flags the partner the one way anything flags, its case, holds, marks and notification.

Not reviewed: customers (a purchase's device or typed address says nothing of the partner; a
customer is judged by its own purchases), partners removed already, IPs and look-alike keys (weak
alone), and a crowded link that is no evidence (`links.crowded_links`, unless `links.farmed`)."""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

from functions.shared.domain.identity import address_in_other_role, names_an_account
from functions.shared.domain.links import GUARDED_JOINS, crowded_links, farmed
from functions.shared.domain.model import NO_LINK, LinkKey, LinkState, Subject, as_utc
from functions.shared.domain.profiles import identifiers_of

REVIEW_TYPE = "partner.linked_to_removed"
"""The type of a review (never accepted from an integration: not one of SPEC 3.1's types)."""
REVIEW_ID_PREFIX = "linked_removal_"
"""The ids of reviews (`review_id`): the system's; `POST /v1/events` refuses an id that begins so."""
REVIEWS_PER_CALL = 200
"""New reviews one finishing of a removal records at most: a removal request's time stays bounded
(the cases function's timeout) however many partners share the removed one's identifiers. The
removal is not noted done while more are left: asked again, or by the hold sweep, it goes on."""
REVIEW_WORKERS = 8  # reviews recorded side by side (each a conditional put: waiting on DynamoDB)
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)  # SPEC 3.1: no event occurs before it


def strong_identifiers(removed: Subject) -> list[LinkKey]:
    """The removed partner's links whose other members a removal reviews: every e-mail address,
    device and payout account it ever used (its spilled ones too, when read), and each address in
    its other role (`identity.address_in_other_role`: a partner paid into its login address as a
    PayPal account, or signed up with its PayPal account's address as a login), whose members the
    review reads beside the removed partner's own link (`Engine.plan`). Not a payout key that names
    no account (`identity.names_an_account`: `NA`, `PAYPAL`), kept before such fields were none:
    every partner that typed the word is on it."""
    own = [
        key
        for key in identifiers_of(removed)
        if key[0] in GUARDED_JOINS and (key[0] != "payout" or names_an_account(key[1]))
    ]
    other = [found for kind, value in own if (found := address_in_other_role(kind, value)) is not None]
    return list(dict.fromkeys([*own, *other]))


def partners_to_review(removed: Subject, states: dict[LinkKey, LinkState]) -> dict[str, list[LinkKey]]:
    """Each other partner on the removed partner's strong links (`states`, as read after its marks),
    with the links it shares: none on a crowded link unless it is a farm's, no customer, none
    removed already. Nor one flagged already on a link where another partner was removed before:
    that removal reviewed it, and its case holds its rewards; without that, a farm removed one
    account at a time reviewed every account left at each removal (n² reviews for n accounts).
    An address is one identifier in either role (`identity.address_in_other_role`): a partner
    removed for its login address reviewed the partners paid at it as a PayPal account, and the
    other way round, so its removal mark in the other role's link counts as much as in the link's
    own."""
    crowds = crowded_links(states)
    found: dict[str, list[LinkKey]] = {}
    for key, state in states.items():
        if key[0] not in GUARDED_JOINS or (key in crowds and not farmed(key, state)):
            continue
        other = address_in_other_role(*key)
        removed_there = states.get(other, NO_LINK).removed if other is not None else frozenset()
        reviewed_before = bool((state.removed | removed_there) - {removed.key})
        for member in sorted(state.members - state.removed - {removed.key}):
            kind, _, partner_id = member.partition(":")
            if kind != "partner" or not partner_id or (reviewed_before and member in state.flagged):
                continue
            found.setdefault(partner_id, []).append(key)
    return dict(sorted(found.items()))


def review_id(case_id: str, partner_id: str) -> str:
    """One review per removal and partner, whoever asks (the removal again, the sweep finishing it):
    the same id, so the event is recorded once and scored once."""
    digest = hashlib.sha256(f"{case_id}/{partner_id}".encode()).hexdigest()[:24]
    return REVIEW_ID_PREFIX + digest


def reviews_due(bodies: list[dict[str, Any]], recorded: Collection[str]) -> tuple[list[dict[str, Any]], int]:
    """Of a removal's reviews (`review_bodies`), those to record now: the first `REVIEWS_PER_CALL`
    not `recorded` already (by id); and how many are left after them."""
    due = [body for body in bodies if body["id"] not in recorded]
    return due[:REVIEWS_PER_CALL], max(0, len(due) - REVIEWS_PER_CALL)


def review_bodies(
    case_id: str, removed: Subject, states: dict[LinkKey, LinkState], at: datetime
) -> list[dict[str, Any]]:
    """The reviews a removal (of `removed` by case `case_id`, done at `at`) records: one per partner
    to review (`partners_to_review`), naming the links it shares with the removed partner."""
    return [
        {
            "id": review_id(case_id, partner_id),
            "type": REVIEW_TYPE,
            "occurred_at": as_utc(at).isoformat(),
            "partner_id": partner_id,
            "removed": {"partner_id": removed.id, "case_id": case_id},
            "links": [{"kind": kind, "value": value} for kind, value in keys],
        }
        for partner_id, keys in partners_to_review(removed, states).items()
    ]


def reaches_back(partner: Subject | None, at: datetime) -> datetime:
    """What a review (at `at`) flags the partner from, and so holds from: its sign-up (every reward
    of theirs still to be paid), not the removal's time. The shared identifier is the partner's
    evidence from when it was shared, not from when the other partner was removed: a second
    account's pending rewards are the fraud's as much as its later ones. A partner never seen
    signing up: all of them. But never before a dispute of the partner's was approved
    (`approved_at`): the security team judged the partner and its identifiers up to then (SPEC 5.3:
    an approval withdraws that subject's marks; another removed partner on the identifier flags it
    again, from then on), and what the verdict released stays released whatever its date
    (`rewards.released`). A partner approved before approvals were dated (active again after a
    flag, no `approved_at`): from the review's own time, the one bound known safe."""
    if partner is None:
        return EARLIEST
    since = partner.signup_at or EARLIEST
    if partner.approved_at is not None:
        return max(since, partner.approved_at)
    if partner.status == "active" and partner.flagged_at is not None:  # only an approval unflags
        return max(since, at)
    return since
