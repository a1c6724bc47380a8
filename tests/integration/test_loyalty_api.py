"""Earn, spend, customer status, idempotency, bad input, roles and isolation through the real
loyalty handler against moto (SPEC 3.4)."""

from __future__ import annotations

import json

import pytest

from tests.integration.test_loyalty_support import (  # noqa: F401 (fixtures)
    Loyalty,
    bus_fixture,
    campaign_settings,
    clock_fixture,
    loyalty_sample,
    workflow_settings,
)
from tests.support import call, proxy_event


@pytest.fixture
def loyalty(tenant, clock) -> Loyalty:
    return Loyalty(tenant.keys)


@pytest.fixture
def other(other_tenant, clock) -> Loyalty:
    return Loyalty(other_tenant.keys)


def test_an_earn_creates_the_customer_and_answers_the_balance(loyalty):
    answer = loyalty.request("POST", "/v1/loyalty/earn", loyalty_sample("earn"), role="integration")

    assert answer.status == 200, answer
    assert answer.body == {"granted": 120, "requested": 120, "balance": 120, "limited_by": None}
    seen = loyalty.customer("member-42").body
    assert seen["customer_id"] == "member-42"
    assert (seen["status"], seen["balance"], seen["history"]) == ("active", 120, [])
    assert seen["aggregates"]["earned"] == {
        "today": 120,
        "week_to_date": 120,
        "month_to_date": 120,
        "year_to_date": 120,
        "last_7_days": 120,
        "last_30_days": 120,
        "lifetime": 120,
    }
    assert set(seen["aggregates"]["bonus"].values()) == {0}


def test_balances_are_exact_and_never_negative(loyalty):
    loyalty.earn("m1", 100)
    assert loyalty.spend("m1", 60).body == {"balance": 40}

    refused = loyalty.spend("m1", 41)

    assert refused.status == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert "lower than" in refused.body["detail"]
    assert loyalty.spend("m1", 40).body == {"balance": 0}
    seen = loyalty.customer("m1").body
    assert seen["balance"] == 0
    assert seen["aggregates"]["spent"]["today"] == 100


def test_a_retry_answers_the_same_and_changes_nothing(loyalty):
    body = loyalty_sample("earn", occurred_at=None)
    del body["occurred_at"]  # "the time received" both times: still the same body
    first = loyalty.request("POST", "/v1/loyalty/earn", body, role="integration")
    reordered = dict(reversed(list(body.items())))
    second = loyalty.request("POST", "/v1/loyalty/earn", reordered, role="integration")
    spent = loyalty.spend("member-42", 20, id="spend-1")
    spent_again = loyalty.spend("member-42", 20, id="spend-1")

    assert first.status == second.status == 200
    assert first.body == second.body
    assert spent.body == spent_again.body == {"balance": 100}
    assert loyalty.customer("member-42").body["balance"] == 100


def test_a_retry_writing_its_number_otherwise_or_an_absent_field_as_null_is_the_same_body(loyalty):
    sent = '{"id": "e-1", "customer_id": "m1", "points": 100, "kind": "purchase"}'
    first = loyalty.request("POST", "/v1/loyalty/earn", sent, role="integration")

    for retry in (
        sent.replace("100", "100.0"),
        sent.replace("100", "1e2"),
        sent.replace('"kind"', '"occurred_at": null, "campaign_id": null, "kind"'),
    ):
        again = loyalty.request("POST", "/v1/loyalty/earn", retry, role="integration")
        assert again.status == 200 and again.body == first.body, (retry, again)
    assert loyalty.customer("m1").body["balance"] == 100
    other = loyalty.request("POST", "/v1/loyalty/earn", sent.replace("100", "100.5e0"), role="integration")
    assert other.status == 422  # not a whole number: refused before any comparison


def test_another_body_under_a_used_id_is_409_and_changes_nothing(loyalty):
    loyalty.earn("m1", 10, id="a-1")

    changed = loyalty.earn("m1", 11, id="a-1")
    as_spend = loyalty.spend("m1", 10, id="a-1")

    assert changed.status == as_spend.status == 409
    assert "different body" in changed.body["detail"]
    assert loyalty.customer("m1").body["balance"] == 10


@pytest.mark.parametrize("media_type", ["text/plain", "multipart/form-data"])
def test_a_suspension_without_a_body_is_taken_whatever_media_type_the_request_names(loyalty, media_type):
    # its body is optional: an empty one named text/plain was a 415, named multipart a 500
    loyalty.earn("m1", 500)
    path = "/v1/loyalty/customers/m1/suspend"

    answer = call(
        "loyalty", proxy_event("POST", path, "", loyalty.keys["fraud"], {"Content-Type": media_type})
    )

    assert (answer.status, answer.body["status"]) == (200, "suspended"), answer


def test_a_suspended_customer_earns_but_cannot_spend_until_unsuspended(loyalty, bus):
    loyalty.earn("m1", 500)

    suspended = loyalty.status("m1", "suspend", {"note": "points farming suspected"})
    earned = loyalty.earn("m1", 100)
    refused = loyalty.spend("m1", 50)
    unsuspended = loyalty.status("m1", "unsuspend", role="admin")
    spent = loyalty.spend("m1", 50)

    assert suspended.status == 200 and suspended.body["status"] == "suspended"
    assert earned.status == 200 and earned.body["balance"] == 600
    assert refused.status == 409 and "suspended" in refused.body["detail"]
    assert unsuspended.body["status"] == "active"
    assert spent.status == 200 and spent.body == {"balance": 550}
    history = loyalty.customer("m1").body["history"]
    assert [(h["action"], h["by"]) for h in history] == [
        ("suspended", "Program A fraud"),
        ("unsuspended", "Program A admin"),
    ]
    assert history[0]["note"] == "points farming suspected"
    assert history[0]["at"] == "2026-11-04T12:00:00Z"
    assert [e["customer_id"] for e in bus.events("CustomerSuspended")] == ["m1"]
    assert bus.events("CustomerSuspended")[0]["by"] == "Program A fraud"


def test_a_blocked_customer_can_neither_earn_nor_spend(loyalty, bus):
    loyalty.earn("m1", 500, id="before-block")
    loyalty.status("m1", "block")

    earn = loyalty.earn("m1", 10)
    spend = loyalty.spend("m1", 10)
    retry = loyalty.earn("m1", 500, id="before-block")  # a retry of an accepted earn answers the same

    assert earn.status == spend.status == 409
    assert "blocked" in earn.body["detail"] and "blocked" in spend.body["detail"]
    assert retry.status == 200 and retry.body["balance"] == 500
    assert loyalty.customer("m1").body["balance"] == 500
    assert len(bus.events("CustomerBlocked")) == 1
    assert loyalty.status("m1", "unblock").body["status"] == "active"
    assert loyalty.earn("m1", 10).status == 200


def test_a_status_change_that_does_not_apply_is_409_and_changes_nothing(loyalty):
    for start, into in (("active", None), ("suspended", "suspend"), ("blocked", "block")):
        loyalty.earn(start, 5)
        if into:
            loyalty.status(start, into)
    refused = [
        ("active", "unsuspend"),
        ("active", "unblock"),
        ("suspended", "suspend"),
        ("blocked", "block"),
        ("blocked", "suspend"),
        ("blocked", "unsuspend"),
    ]

    for customer, change in refused:
        answer = loyalty.status(customer, change)
        assert answer.status == 409, (customer, change, answer)
        assert f"is {customer}" in answer.body["detail"]
    for customer in ("active", "suspended", "blocked"):
        seen = loyalty.customer(customer).body
        assert seen["status"] == customer
        assert len(seen["history"]) == (0 if customer == "active" else 1)


def test_a_suspended_customer_can_be_blocked_and_unblocking_leaves_it_suspended(loyalty):
    # unblocking lifts the block, not the suspension under it (it made the customer active, with
    # no `unsuspended` in its history, and a workflow does not suspend twice in one period)
    loyalty.earn("m1", 5)
    loyalty.status("m1", "suspend")

    assert loyalty.status("m1", "block").body["status"] == "blocked"
    assert loyalty.status("m1", "unblock").body["status"] == "suspended"
    assert loyalty.status("m1", "unsuspend").body["status"] == "active"
    assert [h["action"] for h in loyalty.customer("m1").body["history"]] == [
        "suspended",
        "blocked",
        "unblocked",
        "unsuspended",
    ]


BAD_EARNS = {
    "zero": (lambda b: b.update(points=0), "points"),
    "negative": (lambda b: b.update(points=-5), "points"),
    "fraction": (lambda b: b.update(points=1.5), "points"),
    "string": (lambda b: b.update(points="10"), "points"),
    "boolean": (lambda b: b.update(points=True), "points"),
    "missing-customer": (lambda b: b.pop("customer_id"), "customer_id"),
    "kind": (lambda b: b.update(kind="refund"), "kind"),
    "unknown-field": (lambda b: b.update(colour="red"), "colour"),
    "time": (lambda b: b.update(occurred_at="yesterday"), "occurred_at"),
    "naive-time": (lambda b: b.update(occurred_at="2026-11-04T10:00:00"), "occurred_at"),
    "future": (lambda b: b.update(occurred_at="2026-11-05T12:00:00Z"), "occurred_at"),
    "year-1": (lambda b: b.update(occurred_at="0001-01-01T00:00:00Z"), "occurred_at"),
    "year-1999": (lambda b: b.update(occurred_at="1999-12-31T23:59:59Z"), "occurred_at"),
    "year-9999": (lambda b: b.update(occurred_at="9999-12-31T23:59:59Z"), "occurred_at"),
    "unix-time": (lambda b: b.update(occurred_at=1762000000), "occurred_at"),
    "campaign-on-purchase": (lambda b: b.update(campaign_id="summer"), "campaign_id"),
    "bonus-without-campaign": (lambda b: b.update(kind="campaign_bonus"), "campaign_id"),
    "unknown-campaign": (lambda b: b.update(kind="campaign_bonus", campaign_id="nope"), "campaign_id"),
    "bad-id": (lambda b: b.update(id="has space"), "id"),
}


def test_a_bad_earn_is_422_naming_the_field_and_changes_nothing(loyalty):
    for case, (change, field) in BAD_EARNS.items():
        body = loyalty_sample("earn")
        change(body)

        answer = loyalty.request("POST", "/v1/loyalty/earn", body, role="integration")

        assert answer.status == 422, (case, answer)
        assert answer.headers["content-type"] == "application/problem+json"
        assert field in [e["field"] for e in answer.body["errors"]], (case, answer.body)
        assert answer.body["detail"], case
    assert loyalty.customer("member-42").status == 404


def test_a_bonus_outside_the_campaign_dates_is_422(loyalty):
    loyalty.campaign(
        "nov", campaign_settings("hard", starts_at="2026-11-05T00:00:00Z", ends_at="2026-11-30T00:00:00Z")
    )

    early = loyalty.bonus("m1", 10, "nov")
    late = loyalty.bonus("m1", 10, "nov", occurred_at="2026-12-01T00:00:00Z")
    inside = loyalty.bonus("m1", 10, "nov", occurred_at="2026-11-04T12:00:00Z")

    assert early.status == 422 and early.body["errors"][0]["field"] == "occurred_at"
    assert "starts" in early.body["detail"]
    assert late.status == 422  # in the future as well as after the end
    assert inside.status == 422
    assert loyalty.campaign("nov").body["granted_total"] == 0
    assert loyalty.customer("m1").status == 404


def test_spend_for_an_unknown_customer_is_404_and_a_bad_spend_is_422(loyalty):
    assert loyalty.spend("nobody", 5).status == 404
    bad = loyalty.spend("nobody", 5, kind="purchase")
    assert bad.status == 422 and bad.body["errors"][0]["field"] == "kind"
    for change in ("suspend", "unsuspend", "block", "unblock"):
        assert loyalty.status("nobody", change).status == 404


@pytest.mark.parametrize(
    "occurred_at",
    [
        "0001-01-01T00:00:00Z",
        "1999-12-31T23:59:59Z",
        "2000-01-01T00:30:00+01:00",  # 1999 in UTC
        "9999-12-31T23:59:59Z",
    ],
)
def test_a_spend_outside_2000_to_5_minutes_ahead_is_422(loyalty, occurred_at):
    loyalty.earn("m1", 50)
    body = {"id": "spend-old", "customer_id": "m1", "points": 5, "occurred_at": occurred_at}

    answer = loyalty.request("POST", "/v1/loyalty/spend", body, role="integration")

    assert answer.status == 422, answer
    assert [e["field"] for e in answer.body["errors"]] == ["occurred_at"]


def test_a_status_change_with_a_bad_note_is_422_and_changes_nothing(loyalty):
    loyalty.earn("m1", 5)

    answer = loyalty.status("m1", "suspend", {"note": "x", "reason": "y"})

    assert answer.status == 422 and answer.body["errors"][0]["field"] == "reason"
    assert loyalty.customer("m1").body["status"] == "active"


def test_malformed_json_is_400(loyalty):
    answer = loyalty.request("POST", "/v1/loyalty/earn", '{"id": ', role="integration")

    assert answer.status == 400


ROUTE_ROLES = [
    ("POST", "/v1/loyalty/earn", {"integration", "admin"}),
    ("POST", "/v1/loyalty/spend", {"integration", "admin"}),
    ("GET", "/v1/loyalty/customers/m1", {"fraud", "admin"}),
    ("POST", "/v1/loyalty/customers/m1/suspend", {"fraud", "admin"}),
    ("POST", "/v1/loyalty/customers/m1/unsuspend", {"fraud", "admin"}),
    ("POST", "/v1/loyalty/customers/m1/block", {"fraud", "admin"}),
    ("POST", "/v1/loyalty/customers/m1/unblock", {"fraud", "admin"}),
    ("GET", "/v1/loyalty/campaigns/c1", {"fraud", "admin"}),
    ("PUT", "/v1/loyalty/campaigns/c1", {"fraud", "admin"}),
    ("GET", "/v1/loyalty/workflows", {"fraud", "admin"}),
    ("GET", "/v1/loyalty/workflows/w1", {"fraud", "admin"}),
    ("PUT", "/v1/loyalty/workflows/w1", {"fraud", "admin"}),
    ("DELETE", "/v1/loyalty/workflows/w1", {"fraud", "admin"}),
]


def test_each_route_admits_its_roles_only(loyalty, tenant, security_key):
    keys = {**tenant.keys, "security": security_key}
    for method, path, allowed in ROUTE_ROLES:
        for role, key in keys.items():
            answer = call("loyalty", proxy_event(method, path, None, key))
            if role in allowed:
                assert answer.status not in (401, 403), (method, path, role, answer)
            else:
                assert answer.status == 403, (method, path, role, answer)
        assert call("loyalty", proxy_event(method, path, None, None)).status == 401


def test_another_programs_customer_campaign_and_workflow_are_404(loyalty, other):
    loyalty.earn("m1", 50)
    loyalty.campaign("c1", campaign_settings("soft"))
    loyalty.workflow("w1", workflow_settings())

    assert other.customer("m1").status == 404
    assert other.status("m1", "suspend").status == 404
    assert other.spend("m1", 10).status == 404
    assert other.campaign("c1").status == 404
    assert other.bonus("m1", 10, "c1").status == 422  # an unknown campaign, for that program
    assert other.workflow("w1").status == 404
    assert other.request("DELETE", "/v1/loyalty/workflows/w1").status == 404
    assert other.request("GET", "/v1/loyalty/workflows").body == {"items": []}
    # the same ids are theirs to use, and stay apart
    assert other.earn("m1", 7).body["balance"] == 7
    assert loyalty.customer("m1").body["balance"] == 50


def test_the_routes_are_in_the_openapi_document(aws):
    document = json.loads(call("openapi", proxy_event("GET", "/v1/openapi.json")).raw["body"])

    assert "/v1/loyalty/earn" in document["paths"]
    assert "delete" in document["paths"]["/v1/loyalty/workflows/{workflow_id}"]


def test_points_are_json_integers_and_a_status_change_body_is_an_object(loyalty):
    body = {"id": "earn-float", "customer_id": "m1", "points": 10.0, "kind": "purchase"}

    earned = loyalty.request("POST", "/v1/loyalty/earn", body, role="integration")
    listed = loyalty.request("POST", "/v1/loyalty/customers/m1/suspend", [None, None], role="fraud")

    assert earned.status == 200 and earned.body["granted"] == 10, earned
    assert listed.status == 422, listed


@pytest.mark.parametrize(
    "points",
    ["5.000000000000000000001", "1e400", "10.5e0", "1e999999999", "-1e999999999"],
    ids=["past-a-floats-digits", "huge", "exp", "past-decimals-limits", "negative"],
)
def test_points_are_judged_on_the_digits_sent_not_on_the_nearest_float(loyalty, points):
    # 5.000000000000000000001 is 5.0 as a float, 1e400 infinity: neither is a whole number of points
    text = f'{{"id": "earn-digits", "customer_id": "m1", "points": {points}, "kind": "purchase"}}'

    answer = loyalty.request("POST", "/v1/loyalty/earn", text, role="integration")

    assert answer.status == 422 and answer.body["errors"][0]["field"] == "points", answer
    assert loyalty.customer("m1").status == 404  # nothing written
    whole = text.replace(points, "5.000")  # the same number as 5 in other digits: accepted
    assert loyalty.request("POST", "/v1/loyalty/earn", whole, role="integration").body["granted"] == 5


@pytest.mark.parametrize("points", ["1e17", "1e18", "1e20", "1e999999999"])
def test_points_too_many_are_told_the_fields_own_bound_whatever_their_size(loyalty, points):
    # a loyalty tester: 1e20 was told "under 10^18", and 1e17 then "at most 10^9"
    text = f'{{"id": "earn-many", "customer_id": "m1", "points": {points}, "kind": "purchase"}}'

    answer = loyalty.request("POST", "/v1/loyalty/earn", text, role="integration")

    assert answer.status == 422, answer
    [error] = answer.body["errors"]
    assert error["field"] == "points" and "less than or equal to 1000000000" in error["message"], error
    assert loyalty.customer("m1").status == 404  # nothing written


@pytest.mark.parametrize("cap", ["1e16", "1e20", "-1e20"])
def test_a_cap_too_large_or_below_zero_is_told_the_caps_own_bound(loyalty, cap):
    settings = f'{{"total_cap": {cap}, "per_customer_cap": 1, "limit_behavior": "soft"}}'

    answer = loyalty.request("PUT", "/v1/loyalty/campaigns/big", settings, role="fraud")

    assert answer.status == 422, answer
    [error] = answer.body["errors"]
    bound = "greater than or equal to 0" if cap.startswith("-") else "less than or equal to 1000000000000000"
    assert error["field"] == "total_cap" and bound in error["message"], error


def test_a_campaign_end_of_9999_is_refused_saying_its_year_is_the_matter(loyalty):
    """`9999-12-31T23:59:59Z`, other systems' "never", was refused as "an RFC 3339 time with an
    offset, from 2000-01-01", which it is: the year was the matter, and no end is the field left out."""
    settings = {
        "total_cap": 10,
        "per_customer_cap": 5,
        "limit_behavior": "soft",
        "ends_at": "9999-12-31T23:59:59Z",
    }

    answer = loyalty.campaign("forever", settings)

    assert answer.status == 422, answer
    [error] = answer.body["errors"]
    assert error["field"] == "ends_at" and "before the year 3000, not in 9999" in error["message"], error
