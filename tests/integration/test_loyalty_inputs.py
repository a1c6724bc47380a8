"""What the loyalty API makes of its inputs, through the real handlers on moto (SPEC 3, 3.4): a body
without its kind or action type still names every bad field; an optional field sent blank is absent
(SPEC 3.1, as on `/v1/events`); what is not JSON (NaN, Infinity, a key twice) is 400 on every route;
a workflow's payload numbers are kept as sent, or refused, never changed."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import Aws, Tenant
from tests.integration.test_loyalty_support import (  # noqa: F401 (fixtures)
    Loyalty,
    bus_fixture,
    campaign_settings,
    clock_fixture,
    workflow_settings,
)
from tests.integration.test_webhooks_delivery import hooks, pump, receiver, subscribe  # noqa: F401 (fixtures)
from tests.integration.webhook_support import Receiver
from tests.support import call, proxy_event


@pytest.fixture
def loyalty(tenant, clock) -> Loyalty:
    return Loyalty(tenant.keys)


def _errors(answer) -> dict[str, str]:
    assert answer.status == 422, answer
    assert answer.headers["content-type"] == "application/problem+json"
    return {e["field"]: e["message"] for e in answer.body["errors"]}


def _earn(**body: Any) -> dict[str, Any]:
    return {"id": "earn-1", "customer_id": "m1", "points": 10, **body}


# --- a body without its kind names every bad field ----------------------------------------
KINDS = "one of purchase, campaign_bonus, other"


@pytest.mark.parametrize("kind", ["absent", None])
def test_an_earn_without_a_kind_names_every_bad_field_and_the_kinds(loyalty, kind):
    body: dict[str, Any] = {"id": "a b", "customer_id": "", "points": -1}
    if kind != "absent":
        body["kind"] = kind

    errors = _errors(loyalty.request("POST", "/v1/loyalty/earn", body, role="integration"))

    assert set(errors) == {"kind", "id", "customer_id", "points"}
    assert errors["kind"] == f"required, {KINDS}"
    assert not any("None" in m or "discriminator" in m for m in errors.values()), errors


def test_an_earn_of_an_unknown_kind_says_which_kinds_there_are(loyalty):
    body = _earn(kind="refund", campaign_id="summer sale", extra=1)

    errors = _errors(loyalty.request("POST", "/v1/loyalty/earn", body, role="integration"))

    assert errors["kind"] == KINDS
    assert set(errors) == {"kind", "campaign_id", "extra"}
    assert "refund" not in json.dumps(errors)


def test_an_earn_of_a_known_kind_still_names_its_own_fields(loyalty):
    body = {"id": "e 1", "customer_id": "m1", "points": 0, "kind": "purchase", "campaign_id": "summer"}

    errors = _errors(loyalty.request("POST", "/v1/loyalty/earn", body, role="integration"))

    assert set(errors) == {"id", "points", "campaign_id"}
    assert "only with kind campaign_bonus" in errors["campaign_id"]


@pytest.mark.parametrize("action", [{"event": "bad name"}, {"type": None}, {"type": "email"}])
def test_a_workflow_action_without_a_known_type_names_the_types(loyalty, action):
    settings = workflow_settings(actions=[{"type": "suspend"}, action])
    settings["filter"]["threshold"] = -1

    errors = _errors(loyalty.workflow("w1", settings))

    assert errors["actions.1.type"].endswith("one of communication, suspend, block"), errors
    assert "filter.threshold" in errors
    if "event" in action:
        assert "actions.1.event" in errors
    assert not any("None" in m or "discriminator" in m for m in errors.values()), errors
    assert loyalty.workflow("w1").status == 404


# --- an optional field sent blank is absent -----------------------------------------------
def test_blank_optional_fields_of_an_earn_and_a_spend_are_absent(loyalty):
    earned = loyalty.request(
        "POST", "/v1/loyalty/earn", _earn(kind="purchase", occurred_at="", campaign_id=" "), "integration"
    )
    again = loyalty.request(
        "POST", "/v1/loyalty/earn", _earn(kind="purchase", occurred_at="", campaign_id=" "), "integration"
    )
    spent = loyalty.spend("m1", 4, occurred_at="\t")

    assert earned.status == 200, earned
    assert again.body == earned.body  # a retry, answered as before
    assert spent.status == 200 and spent.body == {"balance": 6}
    assert loyalty.customer("m1").body["aggregates"]["earned"]["today"] == 10  # at the time received


# a note that shows nothing is blank too (a loyalty tester's: a lone zero-width space was kept)
@pytest.mark.parametrize("note", ["  ", "\u200b", " \u2060\u00ad ", "\U000e0020"])  # a tag character too
@pytest.mark.parametrize("change", ["suspend", "block"])
def test_a_blank_note_is_no_note(loyalty, change, note):
    loyalty.earn("m1", 5)

    answer = loyalty.status("m1", change, {"note": note})

    assert answer.status == 200, answer
    assert "note" not in answer.body["history"][-1]


@pytest.mark.parametrize("note", ["ok\u0000", "\u001b[2J", "refund \u202eevil"])
def test_a_note_a_person_cannot_read_is_refused_and_changes_nothing(loyalty, note):
    """A status change's note is shown in the customer's history and in webhooks."""
    loyalty.earn("m1", 5)

    answer = loyalty.status("m1", "suspend", {"note": note})

    assert answer.status == 422 and set(_errors(answer)) == {"note"}, answer
    assert loyalty.customer("m1").body["status"] == "active"


def test_blank_optional_fields_of_a_campaign_and_a_workflow_are_absent(loyalty):
    campaign = loyalty.campaign("c1", campaign_settings("hard", starts_at="", ends_at=" "))
    settings = workflow_settings()
    settings["trigger"]["kind"] = ""
    workflow = loyalty.workflow("w1", settings)

    assert campaign.status == 200, campaign
    assert (campaign.body["starts_at"], campaign.body["ends_at"]) == (None, None)
    assert workflow.status == 200, workflow
    assert workflow.body["trigger"] == {"event": "points.earned"}  # any earn


@pytest.mark.parametrize("first", [{}, {"occurred_at": None}, {"occurred_at": ""}, {"campaign_id": "  "}])
@pytest.mark.parametrize(
    "retry",
    [{}, {"occurred_at": ""}, {"campaign_id": ""}, {"occurred_at": None}, {"campaign_id": "\ufeff\u3000"}],
)
def test_a_retry_sending_blank_what_the_first_left_out_is_the_same_earn(loyalty, first, retry):
    earned = loyalty.request("POST", "/v1/loyalty/earn", _earn(kind="purchase", **first), "integration")
    again = loyalty.request("POST", "/v1/loyalty/earn", _earn(kind="purchase", **retry), "integration")

    assert earned.status == 200, earned
    assert again.status == 200 and again.body == earned.body, again  # a retry (it was a 409)
    assert loyalty.customer("m1").body["balance"] == earned.body["balance"]


def test_a_blank_required_field_is_still_refused(loyalty):
    errors = _errors(loyalty.bonus("m1", 5, ""))

    assert set(errors) == {"campaign_id"}


# --- what is not JSON is 400 on every route -----------------------------------------------
NOT_JSON = {
    "nan": '{"id": "x-1", "customer_id": "m1", "points": NaN}',
    "infinity": '{"id": "x-1", "customer_id": "m1", "points": Infinity}',
    "minus-infinity": '{"id": "x-1", "customer_id": "m1", "points": -Infinity}',
    "key-twice": '{"id": "x-1", "customer_id": "m1", "points": 5, "points": 500000}',
    "nested-key-twice": '{"id": "x-1", "customer_id": "m1", "points": 5, "x": {"a": 1, "a": 1}}',
    # an exponent past what a Decimal holds (it was a 500 on every route)
    "huge-exponent": '{"id": "x-1", "customer_id": "m1", "points": 1e99999999999999999999}',
    "tiny-exponent": '{"id": "x-1", "customer_id": "m1", "points": 1E-100000000000000000000}',
    "blank": "   \n",  # no JSON at all (it was a 422 naming a field "4")
    "empty": "",  # no body at all (it was a 422 naming the field "(body)")
}
ROUTES = [
    ("loyalty", "POST", "/v1/loyalty/earn", "integration"),
    ("loyalty", "POST", "/v1/loyalty/spend", "integration"),
    ("loyalty", "POST", "/v1/loyalty/customers/m1/suspend", "fraud"),
    ("loyalty", "PUT", "/v1/loyalty/workflows/w1", "fraud"),
    ("loyalty", "PUT", "/v1/loyalty/campaigns/c1", "fraud"),
    ("ingest", "POST", "/v1/events", "integration"),
    ("disputes", "POST", "/v1/cases/case_1/dispute", "fraud"),
    ("keys", "POST", "/v1/keys", "admin"),
]


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r[1]} {r[2]}")
@pytest.mark.parametrize("case", NOT_JSON)
def test_a_body_that_is_not_json_is_400_on_every_route(loyalty, tenant: Tenant, route, case):
    function, method, path, role = route
    loyalty.earn("m1", 1000)

    answer = call(function, proxy_event(method, path, NOT_JSON[case], tenant.keys[role]))

    if case == "empty" and path.endswith("/suspend"):  # its body (a note) is optional: none is fine
        assert answer.status == 200, answer
        return
    assert answer.status == 400, answer
    assert answer.headers["content-type"] == "application/problem+json"
    if "twice" in case:
        assert "appears more than once" in answer.body["detail"]
        assert '"points"' in answer.body["detail"] or '"a"' in answer.body["detail"]
    elif "exponent" in case:
        assert "exponent out of any range" in answer.body["detail"]
    elif case in ("blank", "empty"):
        assert f"the body is {case}: send a JSON object" == answer.body["detail"]
    else:
        assert "Infinity" in answer.body["detail"] or "NaN" in answer.body["detail"]
    assert loyalty.customer("m1").body["balance"] == 1000


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r[1]} {r[2]}")
def test_a_null_body_is_json_that_is_not_an_object_on_every_route(loyalty, tenant: Tenant, route):
    # it read "the body is empty" (a 400), though a body was sent
    function, method, path, role = route
    loyalty.earn("m1", 1000)

    answer = call(function, proxy_event(method, path, "null", tenant.keys[role]))

    if path.endswith("/suspend"):  # its body (a note) is optional: `null` sends none
        assert answer.status == 200, answer
        return
    assert answer.status == 422, answer
    assert answer.body["detail"] == "the body must be a JSON object"
    assert loyalty.customer("m1").body["balance"] == 1000


# --- payload numbers: kept as sent or refused, never changed -------------------------------
KEPT = '{"price": 12.5, "n": 0.1, "ratio": 1e-7, "count": 123456789012345678901234567890, "neg": -2.25}'


def _exact(text: str) -> Any:
    return json.loads(text, parse_float=Decimal)


def _communication(payload: str) -> str:
    settings = workflow_settings(threshold=5)
    text = json.dumps(settings)
    return text.replace('{"template": "terms"}', payload)


@pytest.mark.parametrize("payload", ["null", '""', '"  "'], ids=["null", "empty", "blank"])
def test_a_communication_payload_null_or_blank_is_none_as_when_left_out(loyalty, tenant, payload):
    # a loyalty tester: left out was accepted (`{}`), null a 422 "Input should be a valid dictionary"
    answer = call(
        "loyalty",
        proxy_event("PUT", "/v1/loyalty/workflows/w1", _communication(payload), tenant.keys["fraud"]),
    )

    assert answer.status == 200, answer
    assert loyalty.workflow("w1").body["actions"][0]["payload"] == {}


def test_a_communication_payload_of_another_type_is_refused_naming_it_alone(loyalty, tenant):
    answer = call(
        "loyalty", proxy_event("PUT", "/v1/loyalty/workflows/w1", _communication("5"), tenant.keys["fraud"])
    )

    assert set(_errors(answer)) == {"actions.0.payload"}
    assert loyalty.workflow("w1").status == 404


def test_payload_numbers_a_float_cannot_hold_are_refused_not_rounded(loyalty, tenant):
    payload = '{"order": 12345678901234567.5, "n": 0.1000000000000000055511151231257827, "ok": 1}'

    answer = call(
        "loyalty",
        proxy_event("PUT", "/v1/loyalty/workflows/w1", _communication(payload), tenant.keys["fraud"]),
    )

    errors = _errors(answer)
    assert set(errors) == {"actions.0.payload.order", "actions.0.payload.n"}
    assert "a 64-bit float holds as written" in errors["actions.0.payload.order"]
    assert loyalty.workflow("w1").status == 404


def test_a_payload_number_of_more_than_15_digits_a_float_holds_is_kept_and_the_refusal_says_so(
    loyalty, tenant
):
    # the rule is "kept as sent, or refused": 16 and 17 digits a float writes back the same are
    # kept; the 422 and README said "at most 15 significant digits", a rule the API never held
    payload = '{"a": 123456789012345.6, "b": 1.2345678901234568e+16}'
    fraud = tenant.keys["fraud"]

    put = call("loyalty", proxy_event("PUT", "/v1/loyalty/workflows/w1", _communication(payload), fraud))
    read = call("loyalty", proxy_event("GET", "/v1/loyalty/workflows/w1", None, fraud))
    refused = call(
        "loyalty",
        proxy_event("PUT", "/v1/loyalty/workflows/w2", _communication('{"c": 12345678901234567.5}'), fraud),
    )

    assert put.status == 200, put
    assert _exact(read.raw["body"])["actions"][0]["payload"] == _exact(payload)
    message = _errors(refused)["actions.0.payload.c"]
    assert "at most 15" not in message
    assert message.startswith("a number a 64-bit float holds as written")


def test_payload_numbers_are_stored_read_and_sent_as_they_were_sent(
    aws: Aws,
    hooks: dict[str, str],  # noqa: F811 (the fixture imported above)
    tenant: Tenant,
    receiver: Receiver,  # noqa: F811 (the fixture imported above)
    loyalty: Loyalty,
    bus,
):
    subscribe(tenant, receiver, events=["LoyaltyCommunication"])
    put = call(
        "loyalty", proxy_event("PUT", "/v1/loyalty/workflows/w1", _communication(KEPT), tenant.keys["fraud"])
    )
    assert put.status == 200, put

    loyalty.earn("m1", 10)
    pump(hooks, lambda: len(receiver.got) == 1)

    expected = _exact(KEPT)
    assert _exact(put.raw["body"])["actions"][0]["payload"] == expected
    read = call("loyalty", proxy_event("GET", "/v1/loyalty/workflows/w1", None, tenant.keys["fraud"]))
    assert _exact(read.raw["body"])["actions"][0]["payload"] == expected
    customer = call("loyalty", proxy_event("GET", "/v1/loyalty/customers/m1", None, tenant.keys["fraud"]))
    assert _exact(customer.raw["body"])["history"][0]["payload"] == expected
    assert [_exact(json.dumps(e["payload"])) for e in bus.events("LoyaltyCommunication")] == [expected]
    assert _exact(receiver.got[0].body)["data"]["payload"] == expected


@pytest.mark.parametrize("campaign", ["", "   ", None])
def test_a_campaign_bonus_naming_a_blank_campaign_says_one_is_required(loyalty, campaign):
    """Blank is absent (SPEC 3.1): it was refused with the list of an identifier's characters, where
    leaving it out said `Field required`."""
    body = {
        "id": "bonus-blank",
        "customer_id": "m1",
        "points": 5,
        "kind": "campaign_bonus",
        "campaign_id": campaign,
    }

    answer = loyalty.request("POST", "/v1/loyalty/earn", body, role="integration")

    assert answer.status == 422, answer
    [error] = answer.body["errors"]
    assert error["field"] == "campaign_id" and "required with kind campaign_bonus" in error["message"], error


@pytest.mark.parametrize("action", ["earn", "spend"])
def test_a_never_of_other_systems_as_occurred_at_is_told_the_bounds(loyalty, action):
    # left out, the time received is taken; `9999-12-31` is told the bounds, not to leave it out
    answer = getattr(loyalty, action)("m1", 5, occurred_at="9999-12-31T23:59:59Z")
    assert _errors(answer) == {"occurred_at": "a time from 2000-01-01 to 5 minutes after now, not in 9999"}


@pytest.mark.parametrize("date_range", ["week_to_date", "lifetime"])
def test_the_view_counts_an_action_dated_past_midnight_in_the_items_it_shares_with_today(
    loyalty, clock, bus, date_range
):
    # an earn dated Thursday 00:01 at Wednesday 23:57 is in this week's item and the lifetime, which
    # the workflows read at once: a view that took it out showed 80 where "earned > 150" had fired
    clock._at = datetime.fromisoformat("2026-11-04T23:57:00Z")
    assert loyalty.workflow("w", workflow_settings(date_range=date_range, threshold=150)).status == 200
    assert loyalty.earn("m1", 80, occurred_at="2026-11-04T23:57:00Z").status == 200
    assert loyalty.earn("m1", 100, occurred_at="2026-11-05T00:01:00Z").status == 200
    assert len(bus.events("LoyaltyCommunication")) == 1
    assert loyalty.customer("m1").body["aggregates"]["earned"][date_range] == 180
