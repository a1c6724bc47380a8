"""A rolling window's `customer: all` audience (SPEC 8), swept at every batch of earns through the
real handlers against moto: it costs in proportion to what may change (SPEC 1), and still finds
every customer whose window went above the threshold since the last sweep."""

from __future__ import annotations

import pytest

from functions.shared.storage import keys_loyalty
from tests.integration.test_loyalty_support import (  # noqa: F401 (fixtures)
    DynamoCalls,
    Loyalty,
    bus_fixture,
    clock_fixture,
    run_queued_workflows,
    workflow_settings,
)

OVER_3000_IN_30_DAYS = workflow_settings(
    date_range="last_30_days", threshold=3000, customer="all", kind="purchase"
)
CANDIDATES = [f"c{n:02d}" for n in range(12)]


@pytest.fixture
def loyalty(tenant, clock) -> Loyalty:
    return Loyalty(tenant.keys)


def days_read(dynamodb: DynamoCalls, program_id: str) -> set[str]:
    """The customers whose day items a call read (a query of the customer's own partition)."""
    read = set()
    for params in dynamodb.named("Query"):
        if "IndexName" in params:
            continue  # the audience index
        (pk,) = [v["S"] for v in params["ExpressionAttributeValues"].values() if "#LCUST#" in v.get("S", "")]
        read.add(pk.removeprefix(keys_loyalty.customer_pk(program_id, "")))
    return read


def communicated(bus) -> list[str]:
    return sorted(e["customer_id"] for e in bus.events("LoyaltyCommunication"))


def test_a_sweep_reads_again_only_the_days_of_customers_who_changed_since_it_judged_them(
    loyalty, tenant, bus, clock
):
    # Given a 30-day workflow over 3,000 points for every customer, and twelve customers who earned
    # 1,600 points today: the window touches October and November, and each has a month above
    # 3000 / 2, so each may be above, and none is
    assert loyalty.workflow("big", OVER_3000_IN_30_DAYS).status == 200
    for customer in CANDIDATES:
        assert loyalty.earn(customer, 1600, kind="purchase").status == 200  # its run included
    # and one of them then earns 1,401 "other" points, which the workflow's trigger does not match
    assert loyalty.earn("c05", 1401, kind="other").status == 200  # no run of its own

    # When another customer's purchase is run
    with DynamoCalls() as dynamodb:
        assert loyalty.earn("newcomer", 10, kind="purchase").status == 200  # and its run

    # Then the sweep found c05 above and ran the actions for it; it read the days of c05 and of the
    # earner only: the others have not changed since the last sweep judged them at or below
    assert communicated(bus) == ["c05"]
    assert days_read(dynamodb, tenant.program_id) == {"c05", "newcomer"}
    # and it read the candidates' customer items together, not one by one
    assert len(dynamodb.named("BatchGetItem")) == 1
    # found through the two months' entries of the audience index, each of its shards once (not
    # thirty days' entries: 210 queries)
    audience = [params for params in dynamodb.named("Query") if "IndexName" in params]
    assert len(audience) == 2 * keys_loyalty.LOYALTY_SHARDS
    assert len(dynamodb.named("TransactGetItems")) == 3  # the earn, its run's earner, c05 as it fires


def test_a_candidate_changed_by_an_earn_the_trigger_does_not_match_is_judged_again(loyalty, bus, clock):
    # Given the twelve candidates judged at or below by a sweep
    assert loyalty.workflow("big", OVER_3000_IN_30_DAYS).status == 200
    for customer in CANDIDATES:
        assert loyalty.earn(customer, 1600, kind="purchase").status == 200

    # When, over the next days, c03 earns 1,401 more and c07 1,400 of kind "other" (c03 above, c07 at
    # the threshold), each found by the sweep of someone else's purchase
    clock.advance(days=3)
    assert loyalty.earn("c07", 1400, kind="other").status == 200
    assert loyalty.earn("c03", 1401, kind="other").status == 200
    assert loyalty.earn("newcomer", 10, kind="purchase").status == 200

    # Then c03 alone had the actions: above, strictly, in its 30 days
    assert communicated(bus) == ["c03"]
    # and c07's next such earn takes it above: the next purchase's sweep finds it
    assert loyalty.earn("c07", 1, kind="other").status == 200
    assert loyalty.earn("newcomer", 10, kind="purchase").status == 200
    assert communicated(bus) == ["c03", "c07"]
