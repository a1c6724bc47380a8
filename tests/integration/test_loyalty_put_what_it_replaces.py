"""A PUT of a campaign or a workflow that says what it replaces (`replaces`: the `updated_at` read, or
null for none yet) changes nothing when that is no longer so (the console's tester: a teammate's raise
of a campaign's cap was undone by a stale page's save, answered "Campaign saved"; "New workflow" under
an id in use replaced that workflow). Left out, a PUT replaces whatever is there, as before."""

from __future__ import annotations

import pytest

from tests.integration.test_loyalty_support import (  # noqa: F401 (fixtures)
    Loyalty,
    campaign_settings,
    clock_fixture,
    workflow_settings,
)


@pytest.fixture
def loyalty(tenant, clock) -> Loyalty:
    return Loyalty(tenant.keys)


def test_a_stale_campaign_save_is_a_409_and_the_teammates_change_stands(loyalty, clock):
    assert (
        loyalty.campaign("summer", campaign_settings("soft", total=100_000, per_customer=500)).status == 200
    )
    seen = loyalty.campaign("summer").body["updated_at"]  # both teammates read it
    clock.advance(seconds=30)
    raised = campaign_settings("soft", total=250_000, per_customer=500, replaces=seen)
    assert loyalty.campaign("summer", raised).status == 200  # A raises the total cap

    stale = loyalty.campaign(
        "summer", campaign_settings("soft", total=100_000, per_customer=800, replaces=seen)
    )

    assert stale.status == 409, stale.body
    assert "changed since you read it" in stale.body["detail"]
    now = loyalty.campaign("summer").body
    assert (now["total_cap"], now["per_customer_cap"]) == (250_000, 500)
    again = campaign_settings("soft", total=250_000, per_customer=800, replaces=now["updated_at"])
    assert loyalty.campaign("summer", again).status == 200  # read again, then changed


def test_a_campaign_made_with_replaces_null_is_refused_over_one_of_its_id(loyalty):
    assert loyalty.campaign("promo", campaign_settings("hard", replaces=None)).status == 200  # none yet

    second = loyalty.campaign("promo", campaign_settings("soft", total=5, replaces=None))

    assert second.status == 409 and "exists already" in second.body["detail"], second.body
    assert loyalty.campaign("promo").body["limit_behavior"] == "hard"
    assert loyalty.campaign("promo", campaign_settings("soft", total=5)).status == 200  # left out: replaces


def test_a_new_workflow_under_an_id_in_use_is_a_409_and_the_first_stands(loyalty):
    block = workflow_settings(threshold=50_000, actions=[{"type": "block"}])
    assert loyalty.workflow("wf-1", {**block, "replaces": None}).status == 200

    other = workflow_settings(threshold=900_000, actions=[{"type": "suspend"}])
    answer = loyalty.workflow("wf-1", {**other, "replaces": None})

    assert answer.status == 409 and "exists already" in answer.body["detail"], answer.body
    assert loyalty.workflow("wf-1").body["actions"] == [{"type": "block"}]


def test_a_stale_workflow_save_and_one_of_a_workflow_deleted_since_are_409s(loyalty, clock):
    assert loyalty.workflow("wf-2", workflow_settings(threshold=100)).status == 200
    seen = loyalty.workflow("wf-2").body["updated_at"]
    clock.advance(seconds=5)
    assert loyalty.workflow("wf-2", {**workflow_settings(threshold=200), "replaces": seen}).status == 200

    stale = loyalty.workflow("wf-2", {**workflow_settings(threshold=300), "replaces": seen})
    assert stale.status == 409 and "changed since you read it" in stale.body["detail"], stale.body
    assert loyalty.workflow("wf-2").body["filter"]["threshold"] == 200

    current = loyalty.workflow("wf-2").body["updated_at"]
    assert loyalty.request("DELETE", "/v1/loyalty/workflows/wf-2").status == 204
    gone = loyalty.workflow("wf-2", {**workflow_settings(threshold=400), "replaces": current})
    assert gone.status == 409 and "no longer exists" in gone.body["detail"], gone.body
