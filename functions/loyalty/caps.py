"""Campaign point caps (SPEC 8): how much of a bonus a campaign grants, and under which condition
that grant stays true when it is written.

Both caps apply at once: the campaign's total and the customer's own. `soft` grants the whole bonus
to an action that starts below both caps, `dynamic` grants what is left under both, `hard` grants
nothing that would pass either. The grant is only valid while the counters have not moved past its
ceilings; the store checks that in the same transaction that moves them, so concurrent earns can
never grant more than the behaviour allows.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Decision:
    points: int
    limited_by: str | None  # "campaign" | "customer" | None (the whole bonus)
    total_ceiling: int  # the most the campaign's total may hold before this grant (0 if none)
    customer_ceiling: int  # the same for the customer's total


def decide(
    behavior: str,
    bonus: int,
    *,
    total_cap: int,
    total_granted: int,
    customer_cap: int,
    customer_granted: int,
) -> Decision:
    total_left = total_cap - total_granted
    customer_left = customer_cap - customer_granted
    cut_by = "campaign" if bonus > total_left else "customer" if bonus > customer_left else None
    if behavior == "soft":
        if total_left > 0 and customer_left > 0:  # starts below both: the whole bonus
            return Decision(bonus, None, total_cap - 1, customer_cap - 1)
        return Decision(0, "campaign" if total_left <= 0 else "customer", 0, 0)
    if behavior == "dynamic":
        points = max(0, min(bonus, total_left, customer_left))
        if points == 0:
            return Decision(0, cut_by, 0, 0)
        return Decision(points, cut_by, total_cap - points, customer_cap - points)
    if behavior == "hard":
        if cut_by is not None:
            return Decision(0, cut_by, 0, 0)
        return Decision(bonus, None, total_cap - bonus, customer_cap - bonus)
    raise ValueError(f"unknown limit behaviour {behavior!r}")


# --- the campaign's total, split over counter shards ------------------------------------------
# One counter item takes ~1,000 writes/s; a capped bonus is a transactional write (2 units), so one
# campaign's total is split over CAMPAIGN_SHARDS items, each with its own quota of the cap. The
# shards' rooms (quota - used) add up to exactly what is left under the cap and no grant takes more
# than a room (but a soft pass), so the sum never passes the cap; a bonus that does not fit in the
# customer's shard is decided on every shard (near the cap only).
CAMPAIGN_SHARDS = 8


@dataclass(frozen=True)
class Shard:
    """One counter shard of a campaign: points granted through it, its quota of the total cap, and
    customers whose first bonus was counted on it."""

    index: int
    used: int = 0
    quota: int = 0
    customers: int = 0
    # (revision, points left under the cap) when every shard was last read together and the
    # campaign cut a bonus to nothing (`left_marks`): at that revision, at most that much is left
    left_seen: tuple[int, int] | None = None

    @property
    def room(self) -> int:
        return max(0, self.quota - self.used)


@dataclass(frozen=True)
class ShardGrant:
    """Points added to one shard, valid only while the shard's `used` is at most `ceiling` (and the
    campaign's settings still at the revision read)."""

    index: int
    points: int
    ceiling: int
    new_customer: bool = False  # the customer's first bonus: counted on this shard


@dataclass(frozen=True)
class ShardedDecision:
    points: int
    limited_by: str | None
    customer_ceiling: int
    shards: tuple[ShardGrant, ...]  # empty when nothing is granted


def shard_of(customer_id: str) -> int:
    """The customer's counter shard: a stable hash (the same in every process, unlike `hash()`)."""
    digest = hashlib.blake2b(customer_id.encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") % CAMPAIGN_SHARDS


def _shares(amount: int) -> list[int]:
    """`amount` split over the shards as evenly as whole points allow."""
    return [
        amount // CAMPAIGN_SHARDS + (1 if j < amount % CAMPAIGN_SHARDS else 0) for j in range(CAMPAIGN_SHARDS)
    ]


def _shares_within(amount: int, limits: list[int]) -> list[int]:
    """`amount` (at most the sum of `limits`) split as evenly as each one's limit allows."""
    given = [0] * len(limits)
    left = amount
    for position, j in enumerate(sorted(range(len(limits)), key=lambda j: limits[j])):
        given[j] = min(limits[j], -(-left // (len(limits) - position)))
        left -= given[j]
    assert left == 0, (amount, limits)
    return given


def initial_shards(total_cap: int, granted: int = 0, customers: int = 0) -> tuple[Shard, ...]:
    """A new campaign's shards (or one kept in a single item before, its counters on shard 0): the
    room left under the cap shared evenly."""
    rooms = _shares(max(0, total_cap - granted))
    used = [granted] + [0] * (CAMPAIGN_SHARDS - 1)
    counted = [customers] + [0] * (CAMPAIGN_SHARDS - 1)
    return tuple(Shard(j, used[j], used[j] + rooms[j], counted[j]) for j in range(CAMPAIGN_SHARDS))


@dataclass(frozen=True)
class QuotaChange:
    """A shard's new quota under a changed cap, valid while its `used` is at most `ceiling`."""

    index: int
    quota: int | None  # None: the shard's own `used` at the write (closed at what it granted)
    ceiling: int | None = None  # None: whatever it granted meanwhile
    within_quota: bool = False  # and on condition that it is not past its quota (no soft pass since)


def requota(shards: tuple[Shard, ...], total_cap: int) -> tuple[QuotaChange, ...]:
    """The shards' quotas under a new total cap, with conditions that concurrent grants rarely
    break: the rooms (quota - used) always add up to what is left under the cap, so the room to add
    or take away is `left - sum(rooms)`, and a grant within quotas only moves room into `used`
    (the conditions: no shard went past its quota since the read, which only a soft pass does).
    Raising adds room evenly (a shard past its quota, after a soft pass, first gets back to it);
    lowering takes room away where there is some, each shard on condition that it still has it;
    lowering to what was granted or below closes every shard at what it granted by then."""
    rooms = [s.room for s in shards]
    left = max(0, total_cap - sum(s.used for s in shards))
    if left == 0:
        return tuple(QuotaChange(s.index, None) for s in shards)
    if left >= sum(rooms):
        added = _shares(left - sum(rooms))
        return tuple(
            QuotaChange(s.index, s.quota + more, within_quota=True)
            if s.used <= s.quota
            else QuotaChange(s.index, s.used + more, s.used)  # past its quota: nothing grants on it
            for s, more in zip(shards, added, strict=True)
        )
    changes = []
    for s, keep in zip(shards, _shares_within(left, rooms), strict=True):
        quota = s.quota - (s.room - keep)
        changes.append(QuotaChange(s.index, quota, quota if quota < s.quota else None, within_quota=True))
    return tuple(changes)


def decide_sharded(
    behavior: str,
    bonus: int,
    *,
    total_cap: int,
    revision: int,
    shards: tuple[Shard, ...],
    own: int,
    customer_cap: int,
    customer_granted: int,
    first_for_customer: bool,
) -> ShardedDecision | None:
    """The grant, decided on the shards read. With only the customer's shard read (`own`), the
    whole bonus fitting in it decides it: every behaviour agrees then, the campaign not cutting it.
    Otherwise None: read every shard, unless the customer's shard knows how much at most is left
    (`left_seen` at the campaign's `revision`) and the campaign cuts the bonus to nothing on that
    much: with less left it cuts it to nothing too, which is what every shard read would give.
    With every shard read, `decide` on their sum, the grant spread over shards with room."""
    by_index = {s.index: s for s in shards}
    mine = by_index[own]
    if len(by_index) < CAMPAIGN_SHARDS:
        if bonus > mine.room:
            return _shut(behavior, bonus, total_cap, revision, mine, customer_cap, customer_granted)
        fits = decide(
            behavior,
            bonus,
            total_cap=mine.quota,
            total_granted=mine.used,
            customer_cap=customer_cap,
            customer_granted=customer_granted,
        )
        if not fits.points:
            return ShardedDecision(0, fits.limited_by, 0, ())
        grant = ShardGrant(own, fits.points, mine.quota - fits.points, first_for_customer)
        return ShardedDecision(fits.points, fits.limited_by, fits.customer_ceiling, (grant,))
    decision = decide(
        behavior,
        bonus,
        total_cap=total_cap,
        total_granted=sum(s.used for s in shards),
        customer_cap=customer_cap,
        customer_granted=customer_granted,
    )
    if not decision.points:
        return ShardedDecision(0, decision.limited_by, 0, ())
    spread = _spread(decision.points, by_index, own, first_for_customer)
    return ShardedDecision(decision.points, decision.limited_by, decision.customer_ceiling, spread)


def _shut(
    behavior: str,
    bonus: int,
    total_cap: int,
    revision: int,
    mine: Shard,
    customer_cap: int,
    customer_granted: int,
) -> ShardedDecision | None:
    """0 ("campaign") when the campaign cuts the bonus to nothing with the most that can be left
    (`left_seen` at this revision): `used` only grows and the cap moves only with the revision, so
    less is left now, and a campaign that cuts a bonus to nothing cuts it to nothing with less
    (soft: nothing was left; dynamic: nothing is granted and the bonus stays above what is left;
    hard: the bonus stays above what is left). None otherwise: read every shard."""
    if mine.left_seen is None or mine.left_seen[0] != revision:
        return None
    bound = decide(
        behavior,
        bonus,
        total_cap=total_cap,
        total_granted=total_cap - mine.left_seen[1],
        customer_cap=customer_cap,
        customer_granted=customer_granted,
    )
    if bound.points or bound.limited_by != "campaign":
        return None
    return ShardedDecision(0, "campaign", 0, ())


def left_marks(
    total_cap: int, revision: int, shards: tuple[Shard, ...], decision: ShardedDecision
) -> tuple[int, tuple[int, ...]]:
    """What is left under the cap, and the shards to mark with it at `revision`, after a decision
    on every shard read together that the campaign cut to nothing (so the bonuses it cuts to
    nothing are decided on a customer's shard alone until the settings change): those not marked
    at this revision with as little left. None to mark after any other decision."""
    if (
        len({s.index for s in shards}) < CAMPAIGN_SHARDS
        or decision.points
        or decision.limited_by != "campaign"
    ):
        return 0, ()
    left = max(0, total_cap - sum(s.used for s in shards))
    return left, tuple(s.index for s in shards if tighter(s.left_seen, revision, left))


def tighter(seen: tuple[int, int] | None, revision: int, left: int) -> bool:
    """Whether `left` at `revision` says more than the mark `seen`: a mark is only ever lowered
    within a revision (a slower earn's higher figure, still true, says less)."""
    return seen is None or seen[0] != revision or seen[1] > left


def _spread(
    points: int, shards: dict[int, Shard], own: int, first_for_customer: bool
) -> tuple[ShardGrant, ...]:
    """`points` over the shards with room, the customer's own first, each conditioned on its `used`
    as read (it only grows: `used <= read` is `used == read`). What no room takes (a soft grant
    passing the cap) goes on the first shard touched, so after it every shard is at or past its
    quota and every later bonus is decided on the sum: 0."""
    order = [own] + [j for j in sorted(shards) if j != own]
    amounts: dict[int, int] = {}
    left = points
    for j in order:
        take = min(left, shards[j].room)
        if take:
            amounts[j] = take
            left -= take
    if left:  # a soft grant past the cap: its excess on the first shard touched (or the customer's)
        first = next(iter(amounts), own)
        amounts[first] = amounts.get(first, 0) + left
    firsts = next(iter(amounts))
    return tuple(
        ShardGrant(j, amount, shards[j].used, first_for_customer and j == firsts)
        for j, amount in amounts.items()
    )
