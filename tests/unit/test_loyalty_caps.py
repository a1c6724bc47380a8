"""Campaign cap behaviours (SPEC 8): soft, dynamic and hard, at their boundaries, one cap or both."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace

import pytest

from functions.loyalty import caps
from functions.loyalty.caps import Decision, decide


def total_cap(behavior: str, granted: int, bonus: int, cap: int = 1000) -> Decision:
    return decide(
        behavior, bonus, total_cap=cap, total_granted=granted, customer_cap=10**9, customer_granted=0
    )


def customer_cap(behavior: str, granted: int, bonus: int, cap: int = 25) -> Decision:
    return decide(
        behavior, bonus, total_cap=10**9, total_granted=0, customer_cap=cap, customer_granted=granted
    )


@pytest.mark.parametrize(
    ("behavior", "points", "limited_by"),
    [("soft", 100, None), ("dynamic", 50, "campaign"), ("hard", 0, "campaign")],
)
def test_spec_example_total_cap_1000_with_950_granted_and_a_bonus_of_100(behavior, points, limited_by):
    decision = total_cap(behavior, granted=950, bonus=100)

    assert (decision.points, decision.limited_by) == (points, limited_by)


@pytest.mark.parametrize(
    ("behavior", "points", "limited_by"),
    [("soft", 6, None), ("dynamic", 5, "customer"), ("hard", 0, "customer")],
)
def test_spec_example_customer_cap_25_with_20_granted_and_a_bonus_of_6(behavior, points, limited_by):
    decision = customer_cap(behavior, granted=20, bonus=6)

    assert (decision.points, decision.limited_by) == (points, limited_by)


@pytest.mark.parametrize("behavior", ["soft", "dynamic", "hard"])
def test_a_bonus_that_fits_exactly_is_granted_whole(behavior):
    assert total_cap(behavior, granted=950, bonus=50) == Decision(50, None, *_ceilings(behavior, 50))
    assert customer_cap(behavior, granted=20, bonus=5).points == 5


def _ceilings(behavior, points, cap=1000):
    return (cap - 1, 10**9 - 1) if behavior == "soft" else (cap - points, 10**9 - points)


@pytest.mark.parametrize(
    ("behavior", "points", "limited_by"),
    [("soft", 51, None), ("dynamic", 50, "campaign"), ("hard", 0, "campaign")],
)
def test_a_bonus_one_point_over(behavior, points, limited_by):
    decision = total_cap(behavior, granted=950, bonus=51)

    assert (decision.points, decision.limited_by) == (points, limited_by)


@pytest.mark.parametrize("behavior", ["soft", "dynamic", "hard"])
@pytest.mark.parametrize("granted", [1000, 1050])
def test_nothing_once_the_cap_is_reached_or_passed(behavior, granted):
    assert total_cap(behavior, granted=granted, bonus=1) == Decision(0, "campaign", 0, 0)
    assert customer_cap(behavior, granted=25 + granted - 1000, bonus=1) == Decision(0, "customer", 0, 0)


@pytest.mark.parametrize(
    ("behavior", "points", "limited_by"),
    [("soft", 20, None), ("dynamic", 10, "customer"), ("hard", 0, "customer")],
)
def test_both_caps_at_once_the_customer_one_cuts(behavior, points, limited_by):
    decision = decide(behavior, 20, total_cap=100, total_granted=70, customer_cap=30, customer_granted=20)

    assert (decision.points, decision.limited_by) == (points, limited_by)


@pytest.mark.parametrize(
    ("behavior", "points", "limited_by"),
    [("soft", 10, None), ("dynamic", 3, "campaign"), ("hard", 0, "campaign")],
)
def test_both_caps_at_once_both_cut_and_the_campaign_is_named(behavior, points, limited_by):
    decision = decide(behavior, 10, total_cap=100, total_granted=95, customer_cap=30, customer_granted=27)

    assert (decision.points, decision.limited_by) == (points, limited_by)


def test_soft_grants_nothing_when_either_cap_is_already_reached():
    campaign_full = decide("soft", 5, total_cap=100, total_granted=100, customer_cap=30, customer_granted=0)
    customer_full = decide("soft", 5, total_cap=100, total_granted=10, customer_cap=30, customer_granted=30)
    both_full = decide("soft", 5, total_cap=100, total_granted=100, customer_cap=30, customer_granted=30)

    assert (campaign_full.points, campaign_full.limited_by) == (0, "campaign")
    assert (customer_full.points, customer_full.limited_by) == (0, "customer")
    assert (both_full.points, both_full.limited_by) == (0, "campaign")


@pytest.mark.parametrize(
    ("behavior", "total_ceiling", "customer_ceiling"),
    [("soft", 99, 29), ("dynamic", 100 - 8, 30 - 8), ("hard", 100 - 8, 30 - 8)],
)
def test_the_grant_holds_only_while_the_counters_stay_under_its_ceilings(
    behavior, total_ceiling, customer_ceiling
):
    # the ceiling is the most a counter may hold before this grant, so that after it:
    # soft started below the cap, dynamic and hard end at most at the cap
    decision = decide(behavior, 8, total_cap=100, total_granted=10, customer_cap=30, customer_granted=2)

    assert (decision.total_ceiling, decision.customer_ceiling) == (total_ceiling, customer_ceiling)


def test_an_unknown_behaviour_is_refused():
    with pytest.raises(ValueError, match="unknown"):
        decide("generous", 1, total_cap=1, total_granted=0, customer_cap=1, customer_granted=0)


# --- the total split over counter shards -----------------------------------------------------------
def shards_with(*used_quota: tuple[int, int]) -> tuple[caps.Shard, ...]:
    return tuple(caps.Shard(j, used, quota) for j, (used, quota) in enumerate(used_quota))


def sharded(
    behavior, bonus, shards, own=0, total_cap=None, customer_cap=10**9, customer_granted=0, revision=1
):
    return caps.decide_sharded(
        behavior,
        bonus,
        total_cap=sum(s.quota for s in shards) if total_cap is None else total_cap,
        revision=revision,
        shards=shards,
        own=own,
        customer_cap=customer_cap,
        customer_granted=customer_granted,
        first_for_customer=customer_granted == 0,
    )


def test_a_new_campaign_shares_its_cap_over_every_shard():
    shards = caps.initial_shards(1003)

    assert [s.index for s in shards] == list(range(caps.CAMPAIGN_SHARDS))
    assert sum(s.quota for s in shards) == 1003
    assert max(s.quota for s in shards) - min(s.quota for s in shards) == 1
    assert all(s.used == 0 for s in shards)


def test_a_campaign_kept_in_one_item_keeps_its_counters_on_shard_0():
    shards = caps.initial_shards(1000, granted=960, customers=7)

    assert (shards[0].used, shards[0].customers) == (960, 7)
    assert sum(s.room for s in shards) == 40 and all(s.room == 5 for s in shards)
    assert caps.initial_shards(100, granted=130)[0].room == 0  # already past its cap: no room


def test_the_shard_is_a_stable_hash_of_the_customer_the_same_in_every_process():
    customers = [f"m{n}" for n in range(200)]
    here = [caps.shard_of(c) for c in customers]
    script = f"from functions.loyalty import caps; print([caps.shard_of(c) for c in {customers!r}])"

    for seed in ("1", "2"):  # str hashes differ between processes: hash() would not do
        other = subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        )
        assert other.stdout.strip() == str(here)
    assert set(here) == set(range(caps.CAMPAIGN_SHARDS))


@pytest.mark.parametrize("behavior", ["soft", "dynamic", "hard"])
def test_a_bonus_that_fits_in_the_customers_shard_is_decided_there(behavior):
    own = caps.Shard(3, used=100, quota=125)

    decision = sharded(behavior, 25, (own,), own=3, total_cap=1000)

    assert decision == caps.ShardedDecision(
        25, None, 10**9 - (1 if behavior == "soft" else 25), (caps.ShardGrant(3, 25, 100, True),)
    )


@pytest.mark.parametrize("behavior", ["soft", "dynamic", "hard"])
def test_a_bonus_that_does_not_fit_in_the_customers_shard_needs_every_shard(behavior):
    assert sharded(behavior, 26, (caps.Shard(3, used=100, quota=125),), own=3, total_cap=1000) is None


@pytest.mark.parametrize(
    ("behavior", "points", "limited_by"),
    [("soft", 6, None), ("dynamic", 5, "customer"), ("hard", 0, "customer")],
)
def test_the_customers_own_cap_cuts_in_the_shard(behavior, points, limited_by):
    decision = sharded(
        behavior, 6, (caps.Shard(0, 0, 125),), total_cap=1000, customer_cap=25, customer_granted=20
    )

    assert (decision.points, decision.limited_by) == (points, limited_by)
    assert sum(g.points for g in decision.shards) == points


@pytest.mark.parametrize(
    ("behavior", "points", "limited_by"),
    [("soft", 100, None), ("dynamic", 50, "campaign"), ("hard", 0, "campaign")],
)
def test_spec_example_on_shards_cap_1000_with_950_granted_and_a_bonus_of_100(behavior, points, limited_by):
    # 950 granted, unevenly: the customer's shard (0) is full, the rest have 50 of room between them
    shards = shards_with((125, 125), (100, 125), (125, 125), (100, 125), *[(125, 125)] * 4)

    decision = sharded(behavior, 100, shards, own=0)

    assert (decision.points, decision.limited_by) == (points, limited_by)
    after = {g.index: g.points for g in decision.shards}
    if behavior == "dynamic":  # exactly the room, shard by shard
        assert after == {1: 25, 3: 25}
    if behavior == "soft":  # every room filled, the excess on the first shard touched
        assert after == {1: 75, 3: 25}
        assert all(g.ceiling == shards[g.index].used for g in decision.shards)
        assert [g.new_customer for g in decision.shards] == [True, False]


def test_a_spread_grant_takes_the_customers_shard_first_then_the_others_in_order():
    shards = shards_with((0, 10), (0, 10), (0, 10), (0, 10), (0, 10), (0, 10), (0, 10), (0, 10))

    decision = sharded("hard", 25, shards, own=5)

    assert [(g.index, g.points, g.ceiling) for g in decision.shards] == [(5, 10, 0), (0, 10, 0), (1, 5, 0)]


@pytest.mark.parametrize("behavior", ["soft", "dynamic", "hard"])
def test_once_every_shard_is_full_or_past_its_quota_every_bonus_gets_0(behavior):
    passed = shards_with((175, 125), *[(125, 125)] * 7)  # a soft pass: 1050 for a cap of 1000

    assert sharded(behavior, 1, (passed[0],), own=0, total_cap=1000) is None  # no room: every shard
    assert sharded(behavior, 1, passed, own=0, total_cap=1000) == caps.ShardedDecision(0, "campaign", 0, ())


@pytest.mark.parametrize("behavior", ["soft", "dynamic", "hard"])
@pytest.mark.parametrize("customer_granted", [0, 25])
def test_a_shard_marked_with_nothing_left_at_the_revision_decides_0_alone_as_every_shard_would(
    behavior, customer_granted
):
    passed = shards_with((175, 125), *[(125, 125)] * 7)  # a soft pass: 1050 for a cap of 1000
    marked = replace(passed[3], left_seen=(4, 0))
    customer = {"customer_cap": 25, "customer_granted": customer_granted}
    every = sharded(behavior, 5, passed, own=3, total_cap=1000, **customer)

    alone = sharded(behavior, 5, (marked,), own=3, total_cap=1000, revision=4, **customer)

    assert alone == every == caps.ShardedDecision(0, "campaign", 0, ())
    # a mark of an older revision (the cap changed since) means nothing: every shard is read
    assert sharded(behavior, 5, (marked,), own=3, total_cap=1000, revision=5) is None


@pytest.mark.parametrize(
    ("behavior", "bonus", "customer_granted", "alone"),
    [
        ("hard", 30, 0, True),  # 10 left at most: a bonus of 30 gets nothing, whatever is left now
        ("hard", 10, 0, False),  # it may still fit: every shard
        ("hard", 30, 25, True),  # cut by the customer's cap too: "campaign" when both cut
        ("dynamic", 30, 0, False),  # what is left is granted: it must be known exactly
        ("dynamic", 30, 25, True),  # nothing for this customer, and the campaign cuts it too
        ("soft", 30, 0, False),  # starts below the cap: the whole bonus
    ],
)
def test_a_shard_marked_with_some_left_decides_alone_only_what_less_left_decides_the_same(
    behavior, bonus, customer_granted, alone
):
    # 990 of 1000 granted when every shard was read; since then, 5 more (the true room is 5)
    now = shards_with(*[(125, 125)] * 6, (120, 125), (125, 125))
    mine = replace(shards_with((0, 0))[0], left_seen=(2, 10))
    customer = {"customer_cap": 25, "customer_granted": customer_granted}
    every = sharded(behavior, bonus, now, own=0, total_cap=1000, revision=2, **customer)

    decided = sharded(behavior, bonus, (mine,), own=0, total_cap=1000, revision=2, **customer)

    assert decided == (every if alone else None)
    if alone:
        assert every == caps.ShardedDecision(0, "campaign", 0, ())


def test_left_marks_name_the_shards_to_mark_after_every_shard_read_cut_a_bonus_to_nothing():
    full = shards_with(*[(125, 125)] * 8)  # 1000 granted, the cap
    partly = tuple(replace(s, left_seen=(2, 0)) if s.index in (1, 6) else s for s in full)
    cut = caps.ShardedDecision(0, "campaign", 0, ())
    every = tuple(range(caps.CAMPAIGN_SHARDS))

    assert caps.left_marks(1000, 2, full, cut) == (0, every)
    assert caps.left_marks(1000, 2, partly, cut) == (0, (0, 2, 3, 4, 5, 7))
    assert caps.left_marks(1000, 3, partly, cut) == (0, every)  # marks of an older revision
    assert caps.left_marks(1010, 2, partly, cut) == (10, (0, 2, 3, 4, 5, 7))  # 0 says more than 10
    assert caps.left_marks(1000, 2, full, caps.ShardedDecision(0, "customer", 0, ())) == (0, ())
    assert caps.left_marks(1010, 2, full, caps.ShardedDecision(10, "campaign", 0, ())) == (0, ())
    assert caps.left_marks(900, 2, full[:1], cut) == (0, ())  # one shard read: the sum is not known


def test_raising_a_cap_adds_room_evenly():
    shards = shards_with((20, 25), (25, 25), *[(0, 25)] * 6)  # 45 of 200 granted

    changes = caps.requota(shards, 280)  # 80 more room

    assert [c.quota for c in changes] == [35, 35, 35, 35, 35, 35, 35, 35]
    assert all(c.ceiling is None for c in changes)  # room only grows: no grant can break it


def test_raising_a_passed_soft_cap_first_brings_the_shard_past_its_quota_back():
    shards = shards_with((175, 125), *[(125, 125)] * 7)  # 1050 for 1000

    raised = caps.requota(shards, 1090)  # 40 left under the new cap

    assert [c.quota for c in raised] == [180, 130, 130, 130, 130, 130, 130, 130]
    assert raised[0].ceiling == 175  # set from what it granted, which nothing can move
    still_over = caps.requota(shards, 1040)  # the new cap is still passed: closed
    assert [c.quota for c in still_over] == [None] * 8


def test_lowering_a_cap_takes_room_where_there_is_some_on_condition_it_is_still_there():
    shards = shards_with((0, 25), (20, 25), *[(10, 25)] * 6)  # 80 granted of 200, 120 of room

    changes = caps.requota(shards, 120)  # 40 of room left

    rooms = [c.quota - s.used for c, s in zip(changes, shards, strict=True)]
    assert sum(rooms) == 40 and rooms[1] == 5  # shard 1 had only 5: it keeps them
    assert all(c.ceiling == c.quota for c in changes if c.quota < shards[c.index].quota)
    assert changes[1].ceiling is None  # nothing taken from it: no condition


@pytest.mark.parametrize("new_cap", [80, 50, 0])
def test_lowering_a_cap_to_what_was_granted_or_below_closes_every_shard(new_cap):
    shards = shards_with((0, 25), (20, 25), *[(10, 25)] * 6)  # 80 granted

    assert caps.requota(shards, new_cap) == tuple(caps.QuotaChange(j, None) for j in range(8))
