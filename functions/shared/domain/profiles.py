"""A subject's profile: the fields an event changes, which of them merge and which the latest event
sets, and every identifier that names the subject (SPEC 5)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Set
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from functions.shared.domain.identity import email_keys, near_keys, other_payout_keys, same_payout_account
from functions.shared.domain.model import LinkKey, Subject, as_utc, evolve
from functions.shared.domain.territories import postal_territory, served_abroad


@dataclass(frozen=True)
class Home:
    """A partner's address as `location_far_from_address` reads one: its country, city and region
    to place it by, or the coordinates it came with."""

    country: str
    city: str | None = None
    region: str | None = None
    lat: float | None = None
    lon: float | None = None
    # kept only where it places the address (`postal_territory`, `served_abroad`)
    postal_code: str | None = None


def home_text(address: Any) -> str | None:
    """What a profile keeps of an address (`Subject.home`), so that an account change, which sends
    only the fields that changed (SPEC 3.1), is located against the address given before: the
    parts that place it, compact JSON; for an address nothing places (no city, no coordinates) its
    country alone, which places nothing but is an address given (an older event received late
    fills a field left empty, and would bring back the address the partner moved from). Not the
    street: nothing reads it."""
    if address is None:
        return None
    parts = {
        "country": address.country,
        "city": address.city,
        "region": address.region,
        "lat": address.lat,
        "lon": address.lon,
        # a French address in Réunion is placed there by its postal code, an APO's ZIP code says it
        # is the US armed forces' abroad: kept then, never else
        "postal_code": address.postal_code
        if postal_territory(address.country, address.postal_code)
        or served_abroad(address.country, None, None, address.postal_code)
        else None,
    }
    return json.dumps({k: v for k, v in parts.items() if v is not None}, separators=(",", ":"))


def home_of(text: str | None) -> Home | None:
    return Home(**json.loads(text)) if text else None


def swept(status: str, removal_pending: bool) -> bool:
    """Whether a subject is on the hold sweep's work list (the `flagged` index): flagged, or removed
    with its removal still under way (`Subject.removal_pending`: the sweep finishes what a removal
    interrupted left, should no one ask for it again)."""
    return status == "flagged" or (status == "removed" and removal_pending)


def identifiers_of(subject: Subject, keyed_before: bool = False) -> list[LinkKey]:
    """Every link item that names a subject: each e-mail it ever used (with the near-duplicate
    forms it is linked under: a partner's `email_near` keys too), each device, IP and payout
    account, however many (those spilled out of the profile too, when read: `spilled`).
    `keyed_before`: each address's key before 2026-12-05 too, where a flag written then is to be
    withdrawn (never written: nothing else is kept there)."""
    found: dict[LinkKey, None] = {}
    spilled: dict[str, set[str]] = {}
    for name, value in subject.spilled:
        spilled.setdefault(name, set()).add(value)
    addresses = set(subject.emails) | ({subject.email} if subject.email else set())
    addresses |= spilled.get("emails", set())
    for address in sorted(addresses):
        keys = email_keys(address)
        found[("email", keys.normalized)] = None
        if keyed_before and keys.before:
            found[("email", keys.before)] = None
        found[("email_skeleton", keys.skeleton)] = None
        for near, _span in near_keys(address) if subject.type == "partner" else ():
            found[("email_near", near)] = None
    if subject.email_normalized:
        found[("email", subject.email_normalized)] = None
    for kind, values in (("device", subject.devices), ("ip", subject.ips)):
        for value in sorted(values | spilled.get(f"{kind}s", set())):
            found[(kind, value)] = None
    payouts = subject.payouts | ({subject.payout} if subject.payout else set())
    payouts |= spilled.get("payouts", set())
    for payout in sorted(payouts):
        found[("payout", payout)] = None
        for also in other_payout_keys(payout):  # its domestic form's link, which names it too
            found[("payout", also)] = None
    return list(found)


# every field `identifiers_of` reads (a crowded payout account is the `payout` field, in no set)
_IDENTIFYING = ("emails", "email", "email_normalized", "devices", "ips", "payouts", "payout", "spill_count")


def adds_identifiers(read: Subject | None, written: Subject) -> int:
    """1 when a profile write may add identifiers, else 0: both stores count it in
    `identifier_seq`, by which a removal's mop-up knows to mark again. `read`: the profile the
    write was decided from (the version it expects); without one, any identifier counts."""
    if read is None:
        return int(any(getattr(written, name) for name in _IDENTIFYING))
    return int(any(getattr(written, name) != getattr(read, name) for name in _IDENTIFYING))


# Fields that keep a time of their own, whatever order events arrive in: the earliest sign-up and
# the latest payout change (what `payout_soon_after_signup` and `unusual_activity` measure from)
EARLIEST_FIELDS = frozenset({"signup_at"})
LATEST_FIELDS = frozenset({"last_payout_change_at"})


def payout_changed(
    subject: Subject | None, activity: str, payout: str | None, at: datetime, used_before: bool = False
) -> bool:
    """Whether an account change sets new payout details: named so, or carrying an account other
    than the partner's on file (an integration may send a settings form as one `profile_update`; one
    account in its other form, an IBAN's sort code and account number written domestically, is no
    other: `identity.same_payout_account`), unless the partner is not on file yet, or the event is
    older than its profile's last change and carries details the partner used before (a late login
    carrying the details of then; `used_before`: its payout link names it, or is a crowd that names
    no one; or a payout change came after it: they are the ones changed from). Details it never
    used, sent late, are a change all the same: a settings form received after a later login was
    missed, and the large reward after it paid. A partner's first details are a change too, sign-up
    received or not: one that joined before the integration went live sends its account first when
    it changes it, a taker's form included (a sign-up received later giving the same account undoes
    nothing, but judges nothing either: `signals.payout_changed_after_signup`)."""
    if activity == "payout_update":
        return True
    if payout is None or subject is None or same_payout_account(payout, subject.payout):
        return False
    if subject.changed_at is None or at >= subject.changed_at:
        return True
    # older than the profile's last change: new details only when no change of the partner's own
    # came after it (a late login resending the account the partner changed away from later, its
    # sign-up not received yet, flagged the reward between them), and details it never used
    changed_later = subject.last_payout_change_at is not None and subject.last_payout_change_at > at
    used = any(same_payout_account(payout, p) for p in subject.payouts)
    return not changed_later and not used and not used_before


# Fields whose new value is merged with what the profile holds whatever order events arrive in
MERGED_FIELDS = frozenset({"unfamiliar", "payout_changes"})
# A reward is judged against the latest change at or before it, and may arrive up to the window
# (two days) late: every change of the window before the newest is kept, and the one before them,
# or changes toggled after a late reward's time (four were enough) pushed out the one before it.
# Else the newest PAYOUT_CHANGES_KEPT; at most PAYOUT_CHANGES_MOST (about 30 bytes each: a partner
# toggling its details faster than that is a burst of its own).
PAYOUT_CHANGES_KEPT = 4
PAYOUT_CHANGES_MOST = 32
PAYOUT_CHANGES_WINDOW = timedelta(hours=48)  # `weights.PAYOUT_CHANGE_WINDOW_HOURS`


def payout_changes_noted(current: Subject, at: datetime) -> tuple[str, ...]:
    """The profile's payout change times with one more (`Subject.payout_changes`): those within
    PAYOUT_CHANGES_WINDOW before the newest, or else the newest PAYOUT_CHANGES_KEPT."""
    ordered = sorted({as_utc(changed).isoformat() for changed in (*payout_change_times(current), at)})
    since = (datetime.fromisoformat(ordered[-1]) - PAYOUT_CHANGES_WINDOW).isoformat()
    # and the one before them: a reward up to the window late, up to the window after its change,
    # is judged against a change up to twice the window before the newest
    recent = sum(1 for text in ordered if text >= since) + 1
    return tuple(ordered[-min(max(recent, PAYOUT_CHANGES_KEPT), PAYOUT_CHANGES_MOST) :])


def payout_change_times(subject: Subject) -> list[datetime]:
    """The payout change times a profile keeps (`Subject.payout_changes`), and its last change,
    which a profile written before these were kept has alone."""
    changes = [datetime.fromisoformat(text) for text in subject.payout_changes]
    if subject.last_payout_change_at is not None:
        changes.append(subject.last_payout_change_at)
    return changes


def payout_change_before(subject: Subject | None, at: datetime) -> datetime | None:
    """The latest payout change at or before `at`: a reward dated between two changes, received
    after both, is the money of the first (judged against the last alone, it was before it and
    flagged nothing)."""
    if subject is None:
        return None
    return max((changed for changed in payout_change_times(subject) if changed <= at), default=None)


def profile_changes(current: Subject, changes: dict[str, Any], at: datetime) -> Subject:
    """An event's field changes on a profile. An event older than the profile's last change does
    not undo what that change set (events arrive late and out of order), but it still gives what
    no event has given yet (a sign-up received after a login: the name, e-mail, country) and its
    own times (`EARLIEST_FIELDS`, `LATEST_FIELDS`): it used to be dropped whole, and a payout change
    received after a later login was never seen by the reward it preceded. Identifiers are added
    either way (`with_identifiers`)."""
    if current.changed_at is None or at >= current.changed_at:
        return evolve(current, **changes, changed_at=at)
    given: dict[str, Any] = {}
    for name, value in changes.items():
        held = getattr(current, name)
        if name in LATEST_FIELDS:
            take = held is None or value > held
        elif name in EARLIEST_FIELDS:
            take = held is None or value < held
        elif name in MERGED_FIELDS:
            take = True
        else:
            take = held is None or held == "" or held == ()
        if take:
            given[name] = value
    return evolve(current, **given) if given else current


PROFILE_KEEPS = 50  # identifiers of one kind a profile keeps; more are spilled, one item each


def with_identifiers(
    profile: Subject,
    *,
    email: str | None,
    device: str | None,
    ip: str | None,
    payout: str | None,
    crowds: Iterable[LinkKey] = (),
    known: Set[LinkKey] = frozenset(),
) -> Subject:
    """The profile with this event's identifiers added to those it ever used, except a device, IP
    or payout account whose link is crowded (`crowds`): it names no one, so no flag, removal or
    approval ever writes to it (issue 14). A profile keeps `PROFILE_KEEPS` of each kind; a new one
    past them is spilled (`spilled`, `spill_count`: an item of its own, `SpillIdentifier`), unless
    its link names the subject already (`known`: spilled before). Kept whole, the profile of a
    partner rotating devices or IPs grew with every login: each event wrote it whole (a transaction
    pays every kilobyte twice), and past DynamoDB's 400 KB item its events could not be scored."""
    skip = set(crowds)
    device = None if ("device", device or "") in skip else device
    ip = None if ("ip", ip or "") in skip else ip
    payout = None if ("payout", payout or "") in skip else payout
    changes: dict[str, Any] = {}
    spills: set[tuple[str, str]] = set()
    for name, value in (("emails", email), ("devices", device), ("ips", ip), ("payouts", payout)):
        kept: frozenset[str] = getattr(profile, name)
        if not value or value in kept or (name, value) in profile.spilled:
            continue
        if len(kept) < PROFILE_KEEPS:
            changes[name] = kept | {value}  # a union copies the set: only when it adds
        elif _link_of(name, value) not in known:
            spills.add((name, value))
    if spills:
        changes["spilled"] = profile.spilled | spills
        changes["spill_count"] = profile.spill_count + len(spills)
    return evolve(profile, **changes)


def _link_of(name: str, value: str) -> LinkKey:
    """The link item an identifier of a profile field is linked under."""
    if name == "emails":
        return ("email", email_keys(value).normalized)
    return (name[:-1], value)  # devices, ips, payouts
