"""Campaign cap behaviours (SPEC 8): soft, dynamic and hard, at their boundaries, one cap or both."""

from __future__ import annotations

import pytest

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
