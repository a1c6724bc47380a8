"""Links between subjects through shared identifiers: which links an event joins, the crowded ones
that are evidence about no one, and the network items it joins."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from functions.shared.domain.identity import NEAR_DUPLICATE_KINDS, NEAR_SPANS_LIMIT, crowd_limit
from functions.shared.domain.model import (
    NO_LINK,
    PARTNER_KEY,
    LinkKey,
    LinkState,
    NetworkState,
    as_utc,
    evolve,
)


def crowded_links(states: dict[LinkKey, LinkState]) -> set[LinkKey]:
    """The link items that stopped being evidence and being written: crowded past their kind's limit."""
    near, most = crowd_limit("email_near"), crowd_limit("device")
    return {
        key
        for key, state in states.items()
        if len(state.members) >= (near if key[0] in NEAR_DUPLICATE_KINDS else most)
        or len(state.spans) >= NEAR_SPANS_LIMIT  # one member's address changed over and over
    }


def farmed(key: LinkKey, state: LinkState) -> bool:
    """A crowded link still evidence when read: an identifier whose sharing is strong evidence
    (`GUARDED_JOINS`: an address, a device, a payout account) most of whose members the program
    removed is a farm's, not a crowd's. Without it, a farm that gave up its first two hundred
    accounts on one device had every later one pass with no device signal, and a removal's block
    on the device stopped no one. Flags alone do not make a farm: a fingerprint an SDK sends for
    every browser flags its first accounts too (three on one device), and their approvals withdraw
    those marks; even with a member removed and blocked there, an SDK's fingerprint holds mostly
    flagged members, and its every newcomer would be blocked. (A blocked partner who crowds its
    own device with throwaway accounts makes each of them a `blocked_reapply` case first; removed,
    they make the device a farm.) Still not written: no more members."""
    return key[0] in GUARDED_JOINS and 2 * len(state.removed) > len(state.members)


# the identifiers a purchase's customer shares with strangers by the thousand: an integration's
# proxy IP sent as every session's, an SDK's one fingerprint for every browser (SPEC 1)
CROWDS_RECALLED = frozenset({"ip", "device"})


def crowd_for_good(key: LinkKey, state: LinkState) -> bool:
    """A crowded link that no purchase will ever read as evidence: crowded, it stays so (members
    only grow), and a crowd is no evidence (`crowded_links`) unless it is a farm's (`farmed`: most
    of its members removed), which an IP never is. A device is one when most of its members are
    removed; only partners are removed, and a crowded link takes no new member (`links_to_join`; a
    profile does not keep a crowded device, so no removal marks it: `profiles.with_identifiers`),
    so a device at most half of whose members are partners never will be. What a purchase still
    reads of such a link is its velocity slots (`velocity`); a partner's account change reads its
    members too (`Engine.unfamiliar`), so only a purchase's read leaves it out."""
    if key[0] not in CROWDS_RECALLED or not crowded_links({key: state}):
        return False
    if key[0] not in GUARDED_JOINS:
        return True
    partners = sum(1 for member in state.members if member.startswith(PARTNER_KEY))
    return 2 * partners <= len(state.members)


# Identifiers anyone can give as another's: an address (as a PayPal account, typed into a payout
# field), a payout account (an IBAN read off an invoice). Their links keep when each member first
# gave them (`LinkState.since`), so that one who gave it after another is no evidence against the
# other (`as_it_stood`). A device's keeps its partners' (`PARTNERS_TIMES_ONLY`): a partner's sign-up
# arriving after those of partners that came to its device later is judged on the device as it
# stood, and they are reviewed (`linked_earlier`); a device's customers, many on a shop's till, keep
# none (each entry is some 45 bytes on an item rewritten at each join), and read as there before.
JOIN_TIMES_KINDS = frozenset({"email", "payout", "device"})
PARTNERS_TIMES_ONLY = frozenset({"device"})
# How far apart events are still judged in the order of their times rather than their arrival: what
# several servers, a queue's backlog or an outage put out of order (`without_later`,
# `linked_earlier`). Further apart is history sent out of order, judged in arrival order as before
# (README: send a backfill in time order): an integration's SQL export sends an old sign-up with
# today's address, and a device's clock can be set back; neither may make an account look first
# on an identifier it took months after its owner.
LATE_WITHIN = timedelta(hours=24)
# a member's entries on one link at most: its first, and the times its earlier events moved it back
# to (`moves_back`), the last of them kept for its sign-up (a partner's logins sent newest first,
# then its sign-up); each entry is some 45 bytes on an item rewritten at every join
SINCE_KEPT = 6


def join_entries(
    me: str, states: dict[LinkKey, LinkState], crowds: Collection[LinkKey], at: datetime, signup: bool = False
) -> dict[LinkKey, str]:
    """Of an event's links (`states`, as read), those of `JOIN_TIMES_KINDS` (a device's for a
    partner only) the subject joins now (not crowded, not naming it yet), each with the entry
    `<time> <member>` (the event's time) its item gains; and those whose time it moves back
    (`moves_back`: an earlier event arriving late, a partner's logins sent before its sign-up). A
    member without a time joined before times were kept and never gets one (`given_since`)."""
    entry = f"{as_utc(at).isoformat()} {me}"
    found: dict[LinkKey, str] = {}
    for key, state in states.items():
        if key[0] not in JOIN_TIMES_KINDS or key in crowds:
            continue
        if key[0] in PARTNERS_TIMES_ONLY and not me.startswith(PARTNER_KEY):
            continue
        if me not in state.members or moves_back(state, me, at, signup):
            found[key] = entry
    return found


def moves_back(state: LinkState, me: str, at: datetime, signup: bool = False) -> bool:
    """Whether an event of a member of the link, at `at`, moves its time there back: to before its
    time, but no further than `LATE_WITHIN` before the time its first scored event gave (the latest
    of its entries: each one after it is earlier), and while it keeps fewer than `SINCE_KEPT` (the
    last place kept for its sign-up, `signup`: the event a partner's time on its links most often
    is, whatever number of its logins was sent before it). An
    integration's backfill of an old sign-up carrying today's payout account (an SQL export's usual
    shape) would have made a partner paid into a removed partner's account look first on it; and a
    chain of events each a day earlier than the last would have walked an account's time back past
    an honest owner's, and its item past DynamoDB's 400 KB (a reviewer's findings)."""
    mine = [when for member, when in map(_entry, state.since) if member == me]
    room = SINCE_KEPT if signup else SINCE_KEPT - 1
    return bool(mine) and max(mine) - LATE_WITHIN <= at < min(mine) and len(mine) < room


@lru_cache(maxsize=65536)
def _entry(entry: str) -> tuple[str, datetime]:
    """A join entry `<time> <member>` as (member, time): read at every event on its link, parsed once
    per environment."""
    text, _, member = entry.partition(" ")
    return member, datetime.fromisoformat(text)


def join_times(state: LinkState) -> dict[str, datetime]:
    """When each member of a link first gave its identifier, of those its item keeps a time for (a
    member joined before the times were kept has none)."""
    first: dict[str, datetime] = {}
    for member, at in map(_entry, state.since):
        if member not in first or at < first[member]:
            first[member] = at
    return first


_BEFORE_TIMES_KEPT = datetime.min.replace(tzinfo=UTC)


def given_since(own: LinkState, me: str, at: datetime) -> datetime:
    """When `me` gave the identifier of its link `own`, as an event at `at` that gives it sees it:
    the time the link keeps for it; before anyone with a time when it has none (it joined before
    times were kept, so everyone with one came after it); `at` when the link does not name it yet
    (it gives it now)."""
    if me not in own.members:
        return at
    return join_times(own).get(me, _BEFORE_TIMES_KEPT)


def as_it_stood(state: LinkState, since: datetime) -> LinkState:
    """An address's or a payout account's link as it stood when a member gave it at `since`: the
    members who gave it later left out, with their marks. Anyone can type another's address as its
    PayPal account, or its IBAN as its own payout account: a throwaway account that flags itself and
    then gives an honest partner's address or account is no evidence against the partner who had it
    first. One at the same instant stays (a ring's accounts scripted in one second; a frame there
    would need the victim's very second). A member of unknown time (joined before times were kept)
    stays, as before."""
    later = frozenset(member for member, at in join_times(state).items() if at > since)
    if not later & state.members:
        return state
    return evolve(
        state,
        members=state.members - later,
        flagged=state.flagged - later,
        removed=state.removed - later,
        blocked=state.blocked - later,
    )


def without_later(state: LinkState, at: datetime) -> LinkState:
    """An address's or a partner's device's link as an event at `at` reads it: without the members
    that gave it after `at`, no more than `LATE_WITHIN` after, whose events arrived first (they are
    reviewed as of their own time: `linked_earlier`), flagged or not (a flag keeps no time: the
    account that copied an owner's address is flagged for it, and the owner's sign-up arriving after
    must not read that flag). Not one the program removed or blocked: the team's decision is
    evidence whenever it came, and a sign-up dated before a removed partner came to a device is
    still its `blocked_reapply` (a device's clock set back). One at the same instant stays, and so
    does one of unknown time."""
    horizon = at + LATE_WITHIN
    return _without_joined(state, lambda joined: at < joined <= horizon)


def without_history(state: LinkState, me: str, at: datetime) -> LinkState:
    """A link of an event of `me` at `at` without the other members that gave it more than
    `LATE_WITHIN` after it (history read in arrival order: `without_later` keeps them): what the
    event's decision would be without it. Does its flag stand on what came before it?"""
    horizon = at + LATE_WITHIN
    return _without_joined(state, lambda joined: joined > horizon, keep=me)


def _without_joined(state: LinkState, left_out: Callable[[datetime], bool], keep: str = "") -> LinkState:
    """A link without the members whose join time is `left_out`, with their flags; never `keep`, nor
    one the program removed or blocked (the team's decision is evidence whenever it came)."""
    if not state.since:
        return state
    marked = state.removed | state.blocked
    gone = frozenset(
        member
        for member, joined in join_times(state).items()
        if left_out(joined) and member not in marked and member != keep
    )
    if not gone & state.members:
        return state
    return evolve(state, members=state.members - gone, flagged=state.flagged - gone)


def merged(state: LinkState, other: LinkState) -> LinkState:
    """Two link items of one identifier read as one (an address under its key of today and the key
    it had before: `identity.keyed_before`; a payout account under its key and its other key:
    `identity.other_payout_keys`)."""
    if other is NO_LINK or not other.members:
        return state
    return LinkState(
        members=state.members | other.members,
        flagged=state.flagged | other.flagged,
        removed=state.removed | other.removed,
        blocked=state.blocked | other.blocked,
        spans=state.spans | other.spans,
        names=state.names | other.names,
        counts={**other.counts, **state.counts},
        via=state.via | other.via,
        since=state.since | other.since,
    )


def network_first(payout: Iterable[LinkKey], states: dict[LinkKey, NetworkState]) -> list[LinkKey]:
    """Of the network items of the payout account an event gives (in each of its forms), those that
    learn their first giver from it: the ones that never learnt one and hold no mark (an item
    written before, marked already, cannot tell who came first: its marks stay read as they were).

    A payout account is typed, and no one checks it is the typist's (an IBAN off an invoice). A
    throwaway of one program typing an honest partner's IBAN, then flagging itself, made that
    partner `network_flagged` (80) when it joined another program with it, and that flag marked the
    partner's address for every program (an evasion tester's high finding). In one program a link
    keeps when each member gave it (`as_it_stood`); the network keeps no one's data, only opaque
    marks, and now, for a payout account, the mark of the subject that gave it first
    (`NetworkState.first`, kept once: `MarkNetwork.first`), with tokens of its login address and
    device (`giver_tokens`): to an event of that subject, wherever it is, the others' marks are
    weak evidence (`first_givers_marks`). One more item write for an account the
    network never saw, under each of its keys; an account's key the network has not seen yet, given
    by an event whose account another key of names a first giver already (the account written in
    another form), takes that giver (`known_first_giver`)."""
    return [
        key
        for key in dict.fromkeys(payout)
        if (state := states[key]).first is None and not state.flagged and not state.removed
    ]


GIVER_TOKEN = 16
"""Hex digits of an identifier's network key kept as a first giver's token (`giver_tokens`)."""


def giver_tokens(network_keys: Iterable[str]) -> frozenset[str]:
    """Opaque tokens of a subject's login address and device (their network keys, shortened): what
    tells, in any program, that an event is the first giver's of a payout account (`network_first`)."""
    return frozenset(key[:GIVER_TOKEN] for key in network_keys)


def known_first_giver(states: Iterable[NetworkState]) -> tuple[str, frozenset[str]] | None:
    """The first giver one of an account's keys names (`network_first`), if any does."""
    return next(((s.first, s.first_by) for s in states if s.first is not None), None)


def first_givers_marks(state: NetworkState, giver: frozenset[str]) -> NetworkState:
    """A payout account's network item as evidence (SPEC 5.3: the same person flagged or removed in
    another program), to an event whose subject's tokens are `giver` (`giver_tokens`). To the
    subject that gave it first (its login address or device the first giver's), the marks of those
    that gave it after are set apart (`later`), weak evidence (`signals.network_signal`): the one
    paid into the account gave it first, and one that typed it after may have typed it to frame.
    To anyone else every mark is as strong as ever: a fraudster that gave its account first on a
    clean account, then used it on one flagged or removed, is not that first giver coming back. An
    item that never learnt its first giver: every mark."""
    if (
        state.first is None
        or not (state.first_by & giver)
        or (state.flagged | state.removed) <= {state.first}
    ):
        return state
    kept = frozenset({state.first})
    later = (state.flagged | state.removed) - kept
    return NetworkState(state.flagged & kept, state.removed & kept, state.first, state.first_by, later)


def merged_network(state: NetworkState, other: NetworkState) -> NetworkState:
    """Two network items of one identifier read as one (a payout account under its key and its
    other key: `identity.other_payout_keys`)."""
    if not other.flagged and not other.removed and not other.later:
        return state
    return NetworkState(
        flagged=state.flagged | other.flagged,
        removed=state.removed | other.removed,
        later=state.later | other.later,
    )


def links_to_join(
    me: str,
    states: dict[LinkKey, LinkState],
    crowds: set[LinkKey] | None = None,
    flag: bool = False,
    spans: dict[LinkKey, str] | None = None,
    via: dict[LinkKey, str] | None = None,
) -> list[LinkKey]:
    """The link items an event adds its subject to: none that is crowded, and none that names the
    subject already (members only ever grow, so what the snapshot saw stays true at commit), unless
    the event flags and the write carries the flag's mark the item lacks (a mark is taken away only
    with a new version of the subject, which the write expects), or the item lacks the event's
    span entry (`spans`: an `email_near` key's `<member> <block>`; another address of the subject
    under the same key), or the item lacks the partner a customer bought through (`via`: a device's,
    `customers_of`). Near-duplicate `email_near` marks go in the later marks steps, never in a
    rewrite of a key that names the subject."""
    skip = crowded_links(states) if crowds is None else crowds
    spans, via = spans or {}, via or {}
    return [
        key
        for key, state in states.items()
        if key not in skip
        and (
            me not in state.members
            or (flag and key[0] != "email_near" and me not in state.flagged)
            or (key in spans and spans[key] not in state.spans and _spans_kept(me, state))
            or key in via
        )
    ]


# an `email_near` key's spans of one member, at most: its address and the one it changed to; more
# are not kept, so that one account changing its address over and over does not crowd the key (an
# evasion tester's: one throwaway's twelve changes crowded the key of a removed partner's address,
# which then named no one, and the partner came back under its name a letter off, `allow 0`)
SPANS_PER_MEMBER = NEAR_SPANS_LIMIT // crowd_limit("email_near")


def _spans_kept(me: str, state: LinkState) -> bool:
    """Whether another span of `me` is kept on the key (`SPANS_PER_MEMBER`)."""
    return sum(1 for span in state.spans if span.rpartition(" ")[0] == me) < SPANS_PER_MEMBER


# The identifier a purchase's customer was on that keeps the partner it bought through: a device,
# not typed (an address at checkout is anyone's to type), and one person's (an IP is a household's,
# an office's or a café's: a partner at its customers' connection later flagged ordinary partners
# in the evaluation, its `ordinary` 13 -> 17; SPEC 5.2, an IP alone is weak).
CUSTOMERS_OF_KINDS = frozenset({"device"})
# the partners a device keeps: a till that customers of many partners use would otherwise grow its
# item with each (read and written whole at every event on it), past DynamoDB's 400 KB at about
# 3,000; the first ones are those a ring's partner meets, its customers on the ring's phones
VIA_KEPT = 8


def customers_of(
    links: dict[str, LinkKey], states: dict[LinkKey, LinkState], partner: str, at: datetime
) -> dict[LinkKey, str]:
    """A purchase's device link key with the entry `<time> <partner>` (the purchase's time, the
    partner it was made through) its link item lacks (`LinkState.via`): the first purchase through
    that partner on the device, while it keeps fewer than `VIA_KEPT`. A partner that later signs up
    or logs in there for the first time is `self_referral`, as one there first is
    (`signals.bought_on_by_own_customers`)."""
    entry = f"{as_utc(at).isoformat()} {partner}"
    return {
        key: entry
        for role, key in links.items()
        if role in CUSTOMERS_OF_KINDS
        and len((state := states.get(key, NO_LINK)).via) < VIA_KEPT
        and all(kept.partition(" ")[2] != partner for kept in state.via)
    }


# Identifiers whose sharing is strong evidence on its own (SPEC 5.2: the same e-mail address, a
# device, a payout account): an event joining one expects the members it read.
GUARDED_JOINS = frozenset({"email", "device", "payout"})


def guarded_joins(me: str, states: dict[LinkKey, LinkState], links: list[LinkKey]) -> dict[LinkKey, int]:
    """Of the links an event joins, those whose sharing is strong evidence, each with the count of
    members the event read: its write stands only if no one joined meanwhile. Two sign-ups with one
    address scored at the same moment each read the other's absence; unguarded, both were allowed
    and neither ever named the other. Guarded, the later write is refused, its event reads again and
    sees the first. Members only ever join, so an unchanged count is an unchanged set. Busy kinds
    (an IP, a look-alike key) are left unguarded: their signals are weak and concurrent joins common."""
    return {
        key: len(states[key].members)
        for key in links
        if key[0] in GUARDED_JOINS and me not in states[key].members
    }


def network_to_join(
    network: dict[str, LinkKey],
    local: dict[str, LinkKey],
    skip: set[LinkKey],
    states: dict[LinkKey, NetworkState],
    marks: dict[str, str],
) -> list[LinkKey]:
    """The network items an event writes: those that lack one of the subject's `marks` (its flag or
    removal mark while it is flagged or removed: `{"flagged": mark}`), never those whose identifier
    is crowded in the program (a value many people share is no one's, and would be one hot item for
    the whole platform). An unmarked subject's event writes none: the network signal reads marks
    only, so an identifier's use alone is not worth a write (issue 15: two items per sign-up)."""
    keys = dict.fromkeys(key for role, key in network.items() if local.get(role) not in skip)
    return [
        key for key in keys if any(mark not in getattr(states[key], name) for name, mark in marks.items())
    ]
