"""Partners linked to a removed partner (SPEC 5.2, 5.3): once a removal has marked every identifier
of the partner removed, each other partner of the program on one of its strong links (an e-mail
address, a device, a payout account: `links.GUARDED_JOINS`) is scored again against those links, by
a review: an internal event of its own, recorded through the events' outbox (delivered at least
once) and scored by the score function like any event. A device or e-mail address shared with a
removed subject is strong evidence (SPEC 5.2), and so is a payout account (`signals.cluster`): the
review flags the partner the one way anything flags, its case, holds, marks and notification.

Not reviewed: customers (a purchase's device or typed address says nothing of the partner; a
customer is judged by its own purchases), partners removed already, IPs and look-alike keys (weak
alone), and a crowded link that is no evidence (`links.crowded_links`, unless `links.farmed`).

Across the network (SPEC 5.3): the partners of every other program on the same identifiers are
reviewed in their own program by the same rules (`network_review_bodies`), scored there by the
identifiers' network marks (`network_flagged`). Such a review names nothing of the removal's
program: not its program, partner, case or name; its id is a keyed digest
(`network_review_id`)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

from functions.shared.domain.identity import address_in_other_role
from functions.shared.domain.links import GUARDED_JOINS, crowded_links, farmed
from functions.shared.domain.model import NO_LINK, LinkKey, LinkState, Subject, as_utc
from functions.shared.domain.profiles import identifiers_of
from functions.shared.inputs import FUTURE_TOLERANCE

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
    review reads beside the removed partner's own link (`Engine.plan`)."""
    own = [key for key in identifiers_of(removed) if key[0] in GUARDED_JOINS]
    other = [found for kind, value in own if (found := address_in_other_role(kind, value)) is not None]
    return list(dict.fromkeys([*own, *other]))


def partners_to_review(
    removed: Subject, states: dict[LinkKey, LinkState], *, elsewhere: bool = False
) -> dict[str, list[LinkKey]]:
    """Each other partner on the removed partner's strong links (`states`, as read after its marks),
    with the links it shares: none on a crowded link unless it is a farm's, no customer, none
    removed already. Nor one flagged already on a link where another partner was removed before:
    that removal reviewed it, and its case holds its rewards; without that, a farm removed one
    account at a time reviewed every account left at each removal (n² reviews for n accounts).
    `elsewhere`: `states` are another program's links of the same identifiers (the removed partner
    is none of their members: a partner there may have its id)."""
    crowds = crowded_links(states)
    itself = frozenset() if elsewhere else frozenset({removed.key})
    found: dict[str, list[LinkKey]] = {}
    for key, state in states.items():
        if key[0] not in GUARDED_JOINS or (key in crowds and not farmed(key, state)):
            continue
        reviewed_before = bool(state.removed - itself)
        for member in sorted(state.members - state.removed - itself):
            kind, _, partner_id = member.partition(":")
            if kind != "partner" or not partner_id or (reviewed_before and member in state.flagged):
                continue
            found.setdefault(partner_id, []).append(key)
    return dict(sorted(found.items()))


def across_the_network(removed: Subject, states: dict[LinkKey, LinkState]) -> list[LinkKey]:
    """The removed partner's strong identifiers whose partners in the network's other programs are
    reviewed: those that are evidence in its own program (`states`): not a crowd there (unless a
    farm's). A fingerprint an SDK gives 250 partners of one program says nothing of anyone in
    another, and the removal does not mark a crowded identifier across the network anyway."""
    crowds = crowded_links(states)
    return [
        key
        for key in strong_identifiers(removed)
        if key not in crowds or farmed(key, states.get(key, NO_LINK))
    ]


def review_id(case_id: str, partner_id: str) -> str:
    """One review per removal and partner, whoever asks (the removal again, the sweep finishing it):
    the same id, so the event is recorded once and scored once."""
    digest = hashlib.sha256(f"{case_id}/{partner_id}".encode()).hexdigest()[:24]
    return REVIEW_ID_PREFIX + digest


def network_review_id(
    removal_program: str, case_id: str, program_id: str, partner_id: str, pepper: bytes
) -> str:
    """A review in another program (`program_id`) of the network: one per removal and partner, as
    `review_id`, but a keyed digest (the network's pepper), so that the program reviewing cannot tell
    which program's case, nor which case, it comes from, whatever ids it tries."""
    named = f"network:{removal_program}/{case_id}/{program_id}/{partner_id}".encode()
    return REVIEW_ID_PREFIX + hmac.new(pepper, named, hashlib.sha256).hexdigest()[:24]


Review = tuple[str, dict[str, Any]]
"""A review to record: its program, and its body."""


def reviews_due(reviews: list[Review], recorded: Collection[tuple[str, str]]) -> tuple[list[Review], int]:
    """Of a removal's reviews (`review_bodies`, then `network_review_bodies`), those to record now:
    the first `REVIEWS_PER_CALL` not `recorded` already (by program and id), whichever programs
    they are in; and how many are left after them."""
    due = [(program_id, body) for program_id, body in reviews if (program_id, body["id"]) not in recorded]
    return due[:REVIEWS_PER_CALL], max(0, len(due) - REVIEWS_PER_CALL)


def review_bodies(
    case_id: str, removed: Subject, states: dict[LinkKey, LinkState], at: datetime
) -> list[dict[str, Any]]:
    """The reviews a removal (of `removed` by case `case_id`, done at `at`) records: one per partner
    to review (`partners_to_review`), naming the links it shares with the removed partner."""
    return [
        _review(review_id(case_id, partner_id), partner_id, keys, at)
        | {"removed": {"partner_id": removed.id, "case_id": case_id}}
        for partner_id, keys in partners_to_review(removed, states).items()
    ]


def network_review_bodies(
    case_id: str,
    removed: Subject,
    program_id: str,
    states: dict[LinkKey, LinkState],
    at: datetime,
    pepper: bytes,
) -> list[dict[str, Any]]:
    """The reviews a removal records in another program of the network (`program_id`, whose links
    of the removed partner's identifiers are `states`): one per partner there to review, by the
    in-program rules (`partners_to_review`), naming that program's own links it is on. Nothing of
    the removal: no removed partner, case or program (SPEC 5.3); the score function finds the
    removal's mark on the identifiers' network items (`network_flagged`)."""
    return [
        _review(
            network_review_id(removed.program_id, case_id, program_id, partner_id, pepper),
            partner_id,
            keys,
            at,
        )
        for partner_id, keys in partners_to_review(removed, states, elsewhere=True).items()
    ]


def _review(event_id: str, partner_id: str, keys: list[LinkKey], at: datetime) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": REVIEW_TYPE,
        "occurred_at": as_utc(at).isoformat(),
        "partner_id": partner_id,
        "links": [{"kind": kind, "value": value} for kind, value in keys],
    }


def reaches_back(partner: Subject | None, at: datetime) -> datetime:
    """What a review (at `at`) flags the partner from, and so holds from: its sign-up (every reward
    of theirs still to be paid), not the removal's time. The shared identifier is the partner's
    evidence from when it was shared, not from when the other partner was removed: a second
    account's pending rewards are the fraud's as much as its later ones. A partner never seen
    signing up: all of them. But never before a dispute of the partner's was approved
    (`approved_at`, and the minutes an event may be dated ahead of it): the security team judged it
    up to then, and what the verdict released is the
    partner's (SPEC 5.3: an approval withdraws that subject's marks; another removed partner on the
    identifier flags it again, from then on). A partner approved before approvals were dated (active
    again after a flag, no `approved_at`): from the review's own time, the one bound known safe."""
    if partner is None:
        return EARLIEST
    since = partner.signup_at or EARLIEST
    if partner.approved_at is not None:  # by the events' clock: a reward the verdict released may
        # be dated up to `FUTURE_TOLERANCE` past the cycle's time (SPEC 3.1), and stays released
        return max(since, partner.approved_at + FUTURE_TOLERANCE)
    if partner.status == "active" and partner.flagged_at is not None:  # only an approval unflags
        return max(since, at)
    return since
