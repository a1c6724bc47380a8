"""Loyalty: a customer a workflow (or a teammate) suspended, then blocked, then unblocked, comes back
*active*: the suspension is gone with no `unsuspended` in the history, and the customer spends.
Unblock undoes the block; it should leave the customer as the block found them (suspended)."""

from __future__ import annotations

import pytest

from tests.integration.test_loyalty_support import Loyalty, clock_fixture  # noqa: F401 (fixtures)


@pytest.fixture
def loyalty(tenant, clock) -> Loyalty:
    return Loyalty(tenant.keys)


def test_unblocking_a_suspended_customer_does_not_lift_the_suspension(loyalty):
    assert loyalty.earn("mule", 5000).status == 200
    assert loyalty.status("mule", "suspend", {"note": "5,000 points in a minute"}).status == 200
    assert loyalty.status("mule", "block", {"note": "looking into it"}).status == 200
    assert loyalty.status("mule", "unblock", {"note": "the block was a mistake"}).status == 200

    view = loyalty.customer("mule").body
    actions = [entry["action"] for entry in view["history"]]
    assert actions == ["suspended", "blocked", "unblocked"]  # nobody ever unsuspended them
    assert view["status"] == "suspended", view["status"]
    assert loyalty.spend("mule", 5000).status == 409  # a suspended customer cannot spend


def test_a_workflow_suspension_is_lifted_by_unblock_and_never_comes_back():
    """A suspending workflow suspends a mule; a teammate blocks, then unblocks: the customer is
    active, still above the threshold, and the workflow will not suspend them again this period
    (its marker is there): they spend everything."""
    from functions.loyalty import service
    from tests.unit.test_loyalty_rules import Loyalty as Service

    loyalty = Service()
    loyalty.workflow("cash-out", threshold=3000, actions=[{"type": "suspend"}])
    loyalty.earn("mule", 5000)  # crosses 3000 today: the workflow suspends
    assert loyalty.view("mule")["status"] == "suspended"
    service.change_status(loyalty.deps, loyalty.fraud, "mule", "block", None)
    service.change_status(loyalty.deps, loyalty.fraud, "mule", "unblock", None)
    loyalty.earn("mule", 1)  # still above the threshold today; the workflow ran already
    assert loyalty.view("mule")["status"] == "suspended", "unblock lifted the workflow's suspension"
