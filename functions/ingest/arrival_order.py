"""Which queued events a synchronous decision scores before its own, so that the request scoring
on its path keeps a partner's events in the order they arrived (README "Synchronous decision").

An integration that sends a partner's sign-up (202, queued) and a moment later that partner's
self-referring purchase with `?wait=decision` must get the decision the queue would give in
arrival order: the purchase scored with the partner on file (`self_referral`), not before it.
So the request first scores the events still waiting in the outbox that arrived before its own,
recently, and concern one of its subjects (its partner, or the customer it names) or share an
identifier with it (a device, an IP, an e-mail address: four sign-ups queued from one device
before a fifth that asks for its decision are what flags the fifth). Only those, and at most
`MOST_FIRST`: any other event does not change this decision, and scoring it would spend the wait.
It does so for every event, a known partner's too: a login from a new device queued a moment
before the partner's own purchase through its link, from that device, is what makes the purchase a
self-referral (a fraud tester's: skipped for partners on file, it was `allow` for good).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from functions.shared.domain.identity import (
    email_keys,
    ip_key,
    names_an_account,
    near_probes,
    other_payout_keys,
    payout_key,
    public_ip,
    usable_device,
)
from functions.shared.domain.model import StoredEvent
from functions.shared.event_subjects import CUSTOMER_FIELDS, PARTNER_FIELDS, field_at, named
from functions.shared.inputs import canonical_ip

QUEUED_WINDOW = timedelta(seconds=60)
"""How far back a synchronous decision looks for events still queued. The queue scores an event
within a second or two of its 202 (the relay sends what it missed within minutes): older events
still waiting are stuck or retried, not merely in flight, and reading further back would read
more of a busy program's outbox for nothing this request can put in order."""
QUEUED_PER_SHARD = 13
"""The most queued events read of each outbox shard (`keys.OUTBOX_SHARDS`), the newest of the
window: one query page each, 208 events at most, however many wait. A program sending 3,000
events a second has thousands waiting at any moment; under such a load these are the last tens of
milliseconds, and a program sending tens a second is read whole."""


MOST_FIRST = 10
"""The most queued events one request scores before its own, the newest of those that go first:
concurrent requests of one burst each score the others' events (whichever pass comes second finds
the event scored and writes nothing), so what one request does for the rest is bounded, and ten
earlier sign-ups on one device are more than any count of `weights` asks for."""


def window(event: StoredEvent) -> tuple[datetime, datetime]:
    """Received at or after the first time and before the second: what `recently_queued` reads."""
    return event.received_at - QUEUED_WINDOW, event.received_at


def subjects(event_type: str, body: dict[str, Any]) -> frozenset[tuple[str, str]]:
    """The partner and the customer an event concerns, as its stored body names them
    (`event_subjects`: the body as accepted, identifiers kept as sent; one stored under older rules
    may have another shape, which names nothing here)."""
    pairs = (
        ("partner", named(PARTNER_FIELDS, event_type, body)),
        ("customer", named(CUSTOMER_FIELDS, event_type, body)),
    )
    return frozenset((kind, key) for kind, key in pairs if isinstance(key, str) and key.strip())


# where an event's body gives the identifiers a session or a purchase links by
_IDENTIFIERS = {
    "device": (("session", "device_fingerprint"), ("customer", "device_fingerprint")),
    "ip": (("session", "ip"), ("customer", "ip")),
    "email": (("partner", "email"), ("customer", "email")),
    "payout": (("partner", "payout_account"),),
}
# the kinds a crowd of strangers shares (a carrier's IP; a common local part's skeleton, its
# near-duplicate keys): more than MOST_FIRST queued events sharing one order nothing (`goes_first`)
CROWD_KINDS = frozenset({"ip", "email_skeleton", "email_near"})


def identifiers(body: dict[str, Any]) -> frozenset[tuple[str, str]]:
    """The identifiers an event's body names, keyed as the engine links them (`identity`): a device
    normalized (a placeholder such as `unknown` none), an IP by its key (a private one none), an
    e-mail address as its mailbox with its skeleton and near-duplicate keys (`email_similar`), a
    payout account by its key and its other keys (an IBAN's domestic form), so that what links two
    events links them here."""
    found: set[tuple[str, str]] = set()
    for kind, paths in _IDENTIFIERS.items():
        for section, field in paths:
            if isinstance(value := field_at(body, (section, field)), str) and value.strip():
                found |= _keyed(kind, value)
    return frozenset(found)


def _keyed(kind: str, value: str) -> set[tuple[str, str]]:
    if kind == "device":
        return {(kind, device)} if (device := usable_device(value)) else set()
    if kind == "email":
        if "@" not in value:
            return set()
        keys = email_keys(value)
        near = {("email_near", probe.key) for probe in near_probes(value)}
        return {(kind, keys.normalized), ("email_skeleton", keys.skeleton), *near}
    if kind == "payout":
        key = payout_key(value)
        return {(kind, k) for k in (key, *other_payout_keys(key)) if names_an_account(k)}
    try:
        address = canonical_ip(value.strip())  # as the event's model reads it
    except ValueError:
        return set()
    return {(kind, ip_key(address))} if public_ip(address) else set()


def goes_first(event: StoredEvent, queued: list[StoredEvent]) -> list[StoredEvent]:
    """Of the queued events read, those to score before `event`, in the order received: still
    queued, of its program, received within `QUEUED_WINDOW` before it (one received in the same
    instant cannot be put before it), sharing its partner, its customer or one of its identifiers;
    the newest `MOST_FIRST` of them. An identifier of `CROWD_KINDS` more than `MOST_FIRST` of them
    share (a carrier's IP) orders nothing: scoring ten of a crowd first made a cluster of ten, where
    in arrival order the crowd's link is evidence about no one, and put those ten before the
    crowd's older events. A device, an address or a payout account that many share is a farm's,
    not a crowd's (eleven sign-ups in a minute on one device): it orders, the newest ten."""
    start, end = window(event)
    mine = identifiers(event.body)
    candidates = {
        other.event_id: (other, subjects(other.type, other.body), identifiers(other.body))
        for other in queued
        if other.program_id == event.program_id
        and other.event_id != event.event_id
        and other.status == "queued"
        and start <= other.received_at < end
    }
    shared = Counter(key for _, _, keys in candidates.values() for key in keys & mine)
    usable = subjects(event.type, event.body) | {
        key for key in mine if key[0] not in CROWD_KINDS or shared[key] <= MOST_FIRST
    }
    first = [other for other, named, keys in candidates.values() if usable & (named | keys)]
    return sorted(first, key=lambda other: other.arrival)[-MOST_FIRST:]
