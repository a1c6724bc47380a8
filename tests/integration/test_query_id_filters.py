"""An id filter that is no identifier is a 422 naming it, through the real handlers on moto:
`GET /v1/rewards?partner_id=p_2%20` (a blank pasted after the id), `partner_id=p%232` and a
customer id behind a zero-width space answered 200 with no reward, as if the partner had none,
while a 129-character one was a 422. No id can hold those characters (SPEC 3.1), so such a filter
names no one, and saying so tells the caller its query, not the partner, is wrong."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import quote

import pytest

from functions.shared.domain.model import Reward
from functions.shared.domain.writes import PutReward, Step
from tests.support import call, proxy_event


@pytest.fixture
def reward(aws, tenant):
    at = datetime(2026, 11, 2, 9, tzinfo=UTC)
    row = Reward(
        tenant.program_id, "r1", "p_2", Decimal("10"), "USD", "pending", at, "api", customer_id="c-1"
    )
    aws.repository.apply(Step([PutReward(row)]))


def _rewards(tenant, **query):
    return call("cases", proxy_event("GET", "/v1/rewards", None, tenant.keys["fraud"], query=query))


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("partner_id", "p_2 "),  # a trailing blank
        ("partner_id", " p_2"),
        ("partner_id", "p#2"),
        ("partner_id", "p/2"),
        ("partner_id", ".."),
        ("customer_id", "\u200bc-1"),  # a zero-width space before it
        ("customer_id", "c-1\u00a0"),
        ("customer_id", "c\u20111"),  # a non-breaking hyphen, as a word processor writes it
        ("partner_id", "a" * 129),
    ],
)
def test_an_id_filter_that_names_no_one_is_refused_by_name(aws, tenant, reward, name, value):
    answer = _rewards(tenant, **{name: value})

    assert answer.status == 422, answer
    assert [e["field"] for e in answer.body["errors"]] == [f"query.{name}"]


def test_an_id_filter_that_is_an_identifier_still_filters(aws, tenant, reward):
    by_partner = _rewards(tenant, partner_id="p_2")
    by_customer = _rewards(tenant, customer_id="c-1")
    none = _rewards(tenant, partner_id="p_3")

    assert [r["id"] for r in by_partner.body["items"]] == ["r1"]
    assert [r["id"] for r in by_customer.body["items"]] == ["r1"]
    assert (none.status, none.body["items"]) == (200, [])


@pytest.mark.parametrize(
    ("function", "path", "body_of"),
    [
        ("loyalty", "/v1/loyalty/campaigns/{}", "campaign"),
        ("loyalty", "/v1/loyalty/workflows/{}", "workflow"),
        ("webhooks", "/v1/webhooks/{}", "webhook"),
    ],
)
@pytest.mark.parametrize("written", ["a b", "é", "x" * 129, "a#b"])
def test_a_put_under_an_id_that_is_no_identifier_says_why_and_makes_nothing(
    aws, tenant, function, path, body_of, written
):
    """A PUT makes what it names: under an id that cannot be one it was a 404 "nothing at ...",
    which told someone creating it nothing; a GET of such an id is still a 404 (there is nothing)."""
    from tests.integration.test_loyalty_support import campaign_settings, workflow_settings

    bodies = {
        "campaign": campaign_settings("soft"),
        "workflow": workflow_settings(),
        "webhook": {"url": "http://127.0.0.1:9/hook", "events": ["PartnerFlagged"]},
    }
    at = path.format(quote(written, safe=""))

    answer = call(function, proxy_event("PUT", at, bodies[body_of], tenant.keys["admin"]))

    assert answer.status == 422, answer
    [error] = answer.body["errors"]
    assert error["field"].startswith("path.") and "letters, digits" in error["message"], error
    assert call(function, proxy_event("GET", at, None, tenant.keys["admin"])).status == 404
