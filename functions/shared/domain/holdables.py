"""A subject's holdable rewards, kept on its own item (issue 15: a flag holds without a query).

A flag puts the subject's `new` and `pending` rewards on hold (a partner's from the flag on, a
customer's all). Scoring reads the subject's item in its one `BatchGetItem` anyway, so the item
lists them: at most `LISTED_MOST` entries, each enough to write the hold (id, status, creation
time, amount, currency, partner, customer, and whether an approval released it). What does not fit
is not lost: the `unlisted` mark says "holdable rewards created at or before this time may be
missing here", and a flag reaching back that far asks the index instead (the bounded fallback).
Pure: the rules decide the changes, the stores apply them (every change is per entry or per mark,
so concurrent writers never undo each other's).

The list may also name a reward that is no longer holdable (a sweep, a removal or another
subject's flag moved it): the hold written for it is refused by its condition, and scoring then
asks the index and writes the list anew (`change(..., found=...)`). So a stale entry costs one
refused transaction, once; a missing one could cost a hold, which is why every way a reward
becomes holdable (it arrives, or an approval puts it back to `pending`) lists it or marks it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from functions.shared.domain.model import Holdables, Reward
from functions.shared.money import from_micros, to_micros

LISTED_MOST = 8  # entries kept on a subject's item (about 80 bytes each)
EVERYTHING = 2**62  # the mark of a writer that did not read the list: any flag asks the index
HOLDABLE = ("new", "pending")
RELEASED = "released"  # an entry's last field, for a reward an approval of its partner's case released
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class ListChange:
    """What to write on a subject's item: entries set (texts), entries taken out (reward ids),
    unlisted marks added and taken out. Never the same reward id or mark both ways."""

    add: frozenset[str] = field(default_factory=frozenset)
    remove: frozenset[str] = field(default_factory=frozenset)
    unlisted_add: frozenset[int] = field(default_factory=frozenset)
    unlisted_remove: frozenset[int] = field(default_factory=frozenset)

    def __bool__(self) -> bool:
        return bool(self.add or self.remove or self.unlisted_add or self.unlisted_remove)


NO_CHANGE = ListChange()


def micros(at: datetime) -> int:
    return (at - _EPOCH) // timedelta(microseconds=1)


def entry(reward: Reward) -> str:
    """A reward as listed. Identifiers hold no blanks (SPEC 3.1), so a space separates fields;
    `released` closes one an approval of its partner's case released (`rewards.released`: its
    partner's flags hold it no more), absent otherwise."""
    fields = (
        str(micros(reward.created_at)),
        reward.status,
        str(to_micros(reward.amount)),
        reward.currency,
        reward.reward_id,
        reward.partner_id,
        reward.customer_id or "",
    )
    return " ".join((*fields, RELEASED) if reward.released else fields)


def listed_id(text: str) -> str:
    return text.split(" ")[4]


def _created(text: str) -> int:
    return int(text.split(" ", 1)[0])


def reward_of(program_id: str, text: str) -> Reward:
    created, status, amount, currency, reward_id, partner_id, customer_id, *released = text.split(" ")
    return Reward(
        program_id=program_id,
        reward_id=reward_id,
        partner_id=partner_id,
        amount=from_micros(int(amount)),
        currency=currency,
        status=status,
        created_at=_EPOCH + timedelta(microseconds=int(created)),
        source="listed",  # not listed: a hold does not write it
        customer_id=customer_id or None,
        released=released == [RELEASED],
    )


def candidates(listed: Holdables, program_id: str, since: datetime | None) -> list[Reward] | None:
    """The subject's holdable rewards created at or after `since` (None: all), from its list, in
    creation order; None when the list cannot tell (one may be unlisted): then ask the index."""
    floor = micros(since) if since is not None else None
    if listed.unlisted and (floor is None or max(listed.unlisted) >= floor):
        return None
    found = [
        reward_of(program_id, text) for text in listed.entries if floor is None or _created(text) >= floor
    ]
    return sorted(found, key=lambda r: (r.created_at, r.reward_id))


def change(
    listed: Holdables,
    *,
    arriving: Iterable[Reward] = (),
    leaving: Iterable[Reward] = (),
    unknown: Iterable[Reward] = (),
    found: Iterable[Reward] | None = None,
    found_since: datetime | None = None,
) -> ListChange:
    """What the subject's list becomes. `arriving`: rewards that became holdable (listed, or
    marked when they do not fit); `leaving`: rewards held, archived or declined (taken out);
    `unknown`: holdable rewards of a writer that did not read the list (marked). `found`: the
    subject's rewards as the index gave them from `found_since` on (None: all): what they show
    not holdable is taken out, what they show holdable listed, and the marks they cover lifted.
    The newest `LISTED_MOST` stay; older ones go under the mark."""
    arriving, leaving, unknown = list(arriving), list(leaving), list(unknown)
    if found is None and not (arriving or leaving or unknown):
        return NO_CHANGE  # most events: nothing to list (scoring asks for every event)
    current = {listed_id(text): text for text in listed.entries}
    kept = dict(current)
    marks = set(listed.unlisted)
    if found is not None:
        for reward in found:
            if reward.status in HOLDABLE and not reward.overridden:
                kept[reward.reward_id] = entry(reward)
            else:
                kept.pop(reward.reward_id, None)
        floor = micros(found_since) if found_since is not None else None
        # the index answered for everything created from `found_since` on: marks there are lifted
        covered = {mark for mark in marks if floor is None or mark >= floor}
        marks -= covered
        if covered and floor is not None:
            marks.add(floor - 1)
    for reward in leaving:
        kept.pop(reward.reward_id, None)
    for reward in arriving:
        kept[reward.reward_id] = entry(reward)
    marks |= {micros(r.created_at) for r in unknown}
    if len(kept) > LISTED_MOST:
        ordered = sorted(kept.items(), key=lambda pair: (_created(pair[1]), pair[0]))
        out = ordered[: len(ordered) - LISTED_MOST]
        marks.add(max(_created(text) for _, text in out))
        kept = dict(ordered[len(out) :])
    top = {max(marks)} if marks else set()  # one mark says all the others do
    return ListChange(
        add=frozenset(text for reward_id, text in kept.items() if current.get(reward_id) != text),
        remove=frozenset(reward_id for reward_id in current if reward_id not in kept),
        unlisted_add=frozenset(top - listed.unlisted),
        unlisted_remove=frozenset(listed.unlisted - top),
    )


def applied(listed: Holdables, change_: ListChange) -> Holdables:
    """The list after a change (what both stores keep)."""
    entries = {listed_id(text): text for text in listed.entries}
    for reward_id in change_.remove:
        entries.pop(reward_id, None)
    for text in change_.add:
        entries[listed_id(text)] = text
    return Holdables(
        frozenset(entries.values()),
        frozenset((listed.unlisted - change_.unlisted_remove) | change_.unlisted_add),
    )


EVERYTHING_UNLISTED = ListChange(unlisted_add=frozenset({EVERYTHING}))
