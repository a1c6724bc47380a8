"""Velocity counts (SPEC 5.1 `velocity` and `unusual_activity`): how many events of one kind came
from one identifier (an IP, a device, a partner's account) in the event's hour and the two hours
before, hours of UTC whatever offset the event's time was sent with, so every event of the two
hours before it is counted, wherever the clock's hours fall (the event's hour and one before
counted as few as 60 minutes back: a burst split around an empty hour, three at 00:58 and three at
02:00, was seen by none of its events); and, for an event received after its
hour was over, the hour after too: there it finds the ones dated after it and received before
(SPEC 4: times are the events' own), so a burst sent newest first is seen by its last-received
event as one sent in order is by its last (counting only the hours before, it was seen by none).
An event received within its own hour has nothing there to find (but what came with a clock
minutes fast) and does not read it: a key less per count.

A count is kept where the event writes anyway (issue 15: every item written is capacity paid):
- on the identifier's link item, as a slot per hour (`<kind>:<hour>`), when the event joins that
  link (a new member, a new mark): the count rides on a write the event makes already;
- else on a counter item of its own for that hour, with an expiry (`CountUp`).
Reading sums both places, so it does not matter which one each event chose, and concurrent events
never conflict: each adds one to a number (DynamoDB's `ADD`), nothing is compared. The write that
adds a slot to a link takes away the slots older than `KEPT_HOURS` before the event's hour, so a
link keeps a handful; a slot left behind by a link no one joins again is never read (its hour is
past) and costs a few bytes.

A count whose hour has reached `SATURATED` is read but that hour no longer added to
(`unsaturated`): past it, the count says "a burst" to every later event of its hours whatever
comes, and adding to it was, on a crowded
identifier (a proxy's public IP sent for every session, an SDK's one fingerprint, whose link is
written no more), one counter item that every event of the program wrote in its transaction
(SPEC 1).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from functools import lru_cache
from typing import NamedTuple

from functions.shared.domain.model import LinkKey, LinkState, as_utc

COUNTER_LIFETIME = timedelta(hours=4)  # a counter item's expiry after its event (read 3 hours at most)
HOUR = timedelta(hours=1)
KEPT_HOURS = 3  # a link's slots this many hours before the event's hour and older are taken away
AFTER = 3  # a count's hours: its own, the one and the two before, then (read late) the one after
HOURS_FROM = (0, -1, -2, 1)  # those hours from the event's (`hour_labels`'s order)


class Velocity(NamedTuple):  # tuples: two made per event, and a frozen dataclass's init is slow
    """One count an event reads and adds to: the counter items of its hour, the two hours before
    and, read late, the hour after (`names`, in that order: `HOURS_FROM`), the start of the event's
    hour (`hour`), and the slots of the same hours on the identifier's link (`link`, None: the count
    has no link, such as a partner's account changes)."""

    names: tuple[str, ...]
    hour: datetime
    link: LinkKey | None = None
    slots: tuple[str, ...] = ()

    def total(self, counters: Mapping[str, int], links: Mapping[LinkKey, LinkState]) -> int:
        """Events of its hours, from both places (a hot path: every count of every event)."""
        total = 0
        for name in self.names:
            total += counters.get(name, 0)
        if self.link is not None and (state := links.get(self.link)) is not None and state.counts:
            for slot in self.slots:
                total += state.counts.get(slot, 0)
        return total

    def own_hour(self, counters: Mapping[str, int], links: Mapping[LinkKey, LinkState]) -> int:
        """Of those, the events of the event's own hour (the one it adds to)."""
        return self._of_hour(0, counters, links)

    def later(self, counters: Mapping[str, int], links: Mapping[LinkKey, LinkState]) -> int:
        """Of those, the events of the hour after (dated after this one, received before it)."""
        return self._of_hour(AFTER, counters, links) if len(self.names) > AFTER else 0

    def counter_hours(self) -> list[tuple[str, datetime]]:
        """Each of its counter items' names with the start of the hour it counts."""
        return [(name, self.hour + HOUR * HOURS_FROM[n]) for n, name in enumerate(self.names)]

    def _of_hour(self, n: int, counters: Mapping[str, int], links: Mapping[LinkKey, LinkState]) -> int:
        count = counters.get(self.names[n], 0)
        if self.link is not None and (state := links.get(self.link)) is not None and state.counts:
            count += state.counts.get(self.slots[n], 0)
        return count


class Tally(NamedTuple):
    """What an event adds: one on `name` (a counter item expiring at `expires_at`), or, when the
    event writes `link` anyway, one on its `slot` there, taking the link's `stale` slots away."""

    name: str
    expires_at: int  # epoch seconds
    link: LinkKey | None = None
    slot: str = ""
    stale: frozenset[str] = frozenset()


def velocity(
    kind: str, identifier: str, at: datetime, link: LinkKey | None = None, received: datetime | None = None
) -> Velocity:
    """The count of `kind` events (`signup`, `txn`, `account`) from `identifier` around `at`, an
    event received at `received` (the hour after is read when that is past the event's hour)."""
    at = as_utc(at)  # a burst sent with a different offset per event still fills one hour
    labels = hour_labels(at.year, at.month, at.day, at.hour)
    start = at.replace(minute=0, second=0, microsecond=0)
    late = received is not None and received >= start + HOUR
    hours: tuple[str, ...] = labels if late else labels[:AFTER]
    names = tuple([f"{kind}:{identifier}:{hour}" for hour in hours])
    if link is None:
        return Velocity(names, start)
    return Velocity(names, start, link, tuple([f"{kind}:{hour}" for hour in hours]))


def recorded_by_another(recorded_by: str | None, event_id: str) -> bool:
    """Whether a transaction's id was claimed by another event (`Snapshot.transaction_event`): the
    same transaction sent again under a new event id, whose revenue and commission count once
    (`scoring_plan`), and which counts once in velocity too (`repeated`)."""
    return recorded_by not in (None, event_id)


def repeated(
    event_id: str, signed_up_before: bool, recorded_by: str | None = None, same_customer: bool = False
) -> bool:
    """Whether an event repeats one already counted: it adds no count of its own, and raises no
    velocity reason (the counts hold its original: it is no burst the first was not). A partner's
    sign-up when the partner signed up before (an integration that sends `partnership.created`
    again under a new event id, on every retry or every sync, made one account three sign-ups from
    its IP, then flagged its colleagues on that IP); a purchase whose transaction another event
    recorded for the same customer (a re-export under new event ids counted one traveller's three
    purchases as five; another customer's purchase under a reused id is a purchase of its own).
    Velocity counts accounts and purchases (SPEC 5.1), not the times an integration sends them."""
    return signed_up_before or (recorded_by_another(recorded_by, event_id) and same_customer)


# a count this high is a burst to every event that reads it (the limits are 3 and 5): counted on, it
# would say no more, and write one item per event
SATURATED = 64


def unsaturated(
    counts: Mapping[str, Velocity], counters: Mapping[str, int], links: Mapping[LinkKey, LinkState]
) -> list[Velocity]:
    """The counts an event adds one to: those whose own hour holds fewer than `SATURATED` as read
    (each hour is capped alone: capped on the three hours read, a steady burst's first hour filled
    and the two after it added nothing, and the fourth read an empty window, its first events clean
    every third hour, a reviewer found). A crowded link is written no more, so its count falls on
    the hour's counter item: counted on, that was one item that every event on a proxy's IP or an
    SDK's fingerprint wrote (3,000 a second at SPEC 1's rate, three times a partition's write limit,
    and concurrent transactions on one item cancel each other). Capped, it takes the first
    `SATURATED` events of each hour and is read as a burst by the rest: a farm past 200 accounts on
    one IP, or a sign-up farm on a mall's Wi-Fi its customers crowded, is still one (a first version
    counted a crowded identifier not at all, and a reviewer found both run clean)."""
    return [counted for counted in counts.values() if counted.own_hour(counters, links) < SATURATED]


# how long after its start an hour's counter item found at `SATURATED` is known to hold it without
# reading it: a counter item is only added to until it expires, `COUNTER_LIFETIME` after an event of
# its hour at the earliest; an hour short of that (with room for an event dated minutes ahead,
# `inputs.FUTURE_TOLERANCE`: a test holds it), past the three hours that read it as it happens
SATURATED_KNOWN_FOR = COUNTER_LIFETIME - HOUR


def saturated_hours(counted: Velocity, counters: Mapping[str, int]) -> dict[str, datetime]:
    """The counter items of `counted`'s hours that hold `SATURATED` or more by themselves, each with
    the time until which they are known to (`SATURATED_KNOWN_FOR` after their hour starts): while
    then, a score function may take one as `SATURATED` without reading it, and decides the same
    (`unsaturated` adds nothing to its hour, and a count with it is said as `SATURATED` or more).

    The counter item alone, not with the link's slot of the same hour, though a count reads both:
    the item never falls before it expires, while the slot is taken away as stale by a join dated
    `KEPT_HOURS` after its hour, and an event may be dated minutes ahead of the clock
    (`inputs.FUTURE_TOLERANCE`), so a join dated 13:00 and received at 12:56 takes the slot of
    hour 10 while events of hour 12 still read it (a reviewer's probe: 64 remembered, what was left
    read). Ending the fact early instead would tie it to the tolerance and to every reader's clock;
    the counter item alone is exact, and a crowd's counts fall on it (its link takes no slot)."""
    return {
        name: start + SATURATED_KNOWN_FOR
        for name, start in counted.counter_hours()
        if counters.get(name, 0) >= SATURATED
    }


def tallies(counts: Iterable[Velocity], at: datetime, links: Mapping[LinkKey, LinkState]) -> list[Tally]:
    """The event's one added to each of its `counts` (this hour's), with the stale slots of each
    count's link (`links`: the states read) named."""
    expires = int((at + COUNTER_LIFETIME).timestamp())
    found: list[Tally] = []
    for counted in counts:
        if counted.link is None:
            found.append(Tally(counted.names[0], expires))
            continue
        stale = stale_slots(links.get(counted.link), at)
        found.append(Tally(counted.names[0], expires, counted.link, counted.slots[0], stale))
    return found


def stale_slots(state: LinkState | None, at: datetime) -> frozenset[str]:
    """The link's slots of hours `KEPT_HOURS` or more before the event's (slots end in their hour,
    `%Y%m%dT%H`, which sorts as time does)."""
    if state is None or not state.counts:
        return frozenset()
    at = as_utc(at)
    oldest_kept = _oldest_kept(at.year, at.month, at.day, at.hour)
    return frozenset(slot for slot in state.counts if slot.rpartition(":")[2] < oldest_kept)


@lru_cache(maxsize=4096)
def _oldest_kept(year: int, month: int, day: int, hour: int) -> str:
    start = datetime(year, month, day, hour)  # noqa: DTZ001 (wall-clock fields only)
    return hour_label(start - timedelta(hours=KEPT_HOURS - 1))


@lru_cache(maxsize=4096)
def hour_labels(year: int, month: int, day: int, hour: int) -> tuple[str, str, str, str]:
    """The labels of a UTC hour, of the two hours before and of the hour after."""
    start = datetime(year, month, day, hour)  # noqa: DTZ001 (wall-clock fields only)
    return hour_label(start), hour_label(start - HOUR), hour_label(start - 2 * HOUR), hour_label(start + HOUR)


def hour_label(hour: datetime) -> str:
    """`%Y%m%dT%H` without strftime (a hot path: two per count of every event)."""
    return f"{hour.year:04d}{hour.month:02d}{hour.day:02d}T{hour.hour:02d}"
