"""What an integration exporting from a SQL database sends, through the real handlers on moto
(SPEC 3.1, 3.4): a LEFT JOIN that found no row (an address, a location or a reward of nulls or
blanks), codes from CHAR(n) columns padded with blanks (`"GB "`, `"EUR "`), one id sequence per
table (earn 1 and spend 1), a query string that sends every parameter, blank ones too.

Null or blank is absent, silently: the event's notes name values sent wrong, not values not sent."""

from __future__ import annotations

import copy

import pytest

from functions.shared.domain.writes import PutCase, Step
from tests.integration.scoring_support import drain, status
from tests.integration.test_loyalty_support import Loyalty, clock_fixture  # noqa: F401 (fixture)
from tests.integration.test_paging_limits import LISTINGS
from tests.integration.test_removed_pages import a_case
from tests.support import call, proxy_event, sample

SYDNEY = {"lat": -33.87, "lon": 151.21}  # far from the sample's address, in London


def post(body, key):
    return call("ingest", proxy_event("POST", "/v1/events", body, key))


def scored(aws, tenant, event):
    answer = post(event, tenant.keys["integration"])
    assert answer.status == 202, answer
    drain(aws)
    seen = status(tenant, event["id"])
    assert seen["status"] == "scored", seen
    return seen


def rewards_of(tenant, partner_id):
    key = tenant.keys["fraud"]
    answer = call("cases", proxy_event("GET", "/v1/rewards", None, key, query={"partner_id": partner_id}))
    assert answer.status == 200, answer
    return answer.body["items"]


NULL_ADDRESS = dict.fromkeys(("country", "line1", "city", "region", "postal_code", "lat", "lon"))
BLANK_ADDRESS = dict.fromkeys(NULL_ADDRESS, "")


@pytest.mark.parametrize(
    "put",
    [
        lambda e: e["partner"]["address"].update(lat="", lon=""),
        lambda e: e["partner"]["address"].update(lat=" ", lon=None, region="", postal_code=None),
        lambda e: e["partner"].update(address=dict(NULL_ADDRESS)),
        lambda e: e["partner"].update(address=dict(BLANK_ADDRESS)),
        lambda e: e["partner"].update(address={}),
        lambda e: e["partner"].update(address=""),
        lambda e: e["session"].update(ip_location={"lat": None, "lon": None}),
        lambda e: e["session"].update(ip_location={"lat": "", "lon": ""}),
        lambda e: e["session"].update(ip_location={}),
        lambda e: e["session"].update(ip_location=" ", user_agent="", device_fingerprint=""),
        lambda e: e["partner"].update(group="", team=None, tags="", segments=None),
    ],
    ids=[
        "address-lat-lon-blank",
        "address-parts-blank-or-null",
        "address-of-nulls",
        "address-of-blanks",
        "address-empty",
        "address-blank",
        "location-of-nulls",
        "location-of-blanks",
        "location-empty",
        "session-blanks",
        "partner-blanks",
    ],
)
def test_a_null_or_blank_optional_value_is_absent_without_a_note(aws, tenant, put):
    event = sample("partnership.created")
    put(event)

    assert scored(aws, tenant, event)["notes"] == []


def test_blank_coordinates_leave_the_rest_of_the_address_judged(aws, tenant):
    event = sample("partnership.created")
    event["partner"]["address"].update(lat="", lon="")  # the city is placed from its name instead
    event["session"]["ip_location"] = dict(SYDNEY)

    seen = scored(aws, tenant, event)

    assert seen["notes"] == []
    assert "location_far_from_address" in {r["code"] for r in seen["decision"]["reasons"]}


@pytest.mark.parametrize(
    ("put", "note"),
    [
        (
            lambda e: e["session"].update(ip_location={"lat": 51.5, "lon": None}),
            "session.ip_location ignored: not coordinates {lat, lon} in degrees",
        ),
        (
            lambda e: e["partner"].update(address={"country": "", "city": "London"}),
            "partner.address ignored: not an address with an ISO 3166 alpha-2 country",
        ),
        (
            lambda e: e["partner"]["address"].update(lat="north"),
            "partner.address.lat ignored: not a latitude in degrees",
        ),
    ],
    ids=["half-a-location", "a-city-without-its-country", "a-latitude-in-words"],
)
def test_a_value_sent_wrong_is_still_named(aws, tenant, put, note):
    event = sample("partnership.created")
    put(event)

    assert scored(aws, tenant, event)["notes"] == [note]


def test_codes_padded_with_blanks_are_trimmed(aws, tenant):
    # Given a partner, its address, a customer and a reward as CHAR(2) and CHAR(3) columns send them
    partner = sample("partnership.created")
    partner["partner"].update(country="GB ")
    partner["partner"]["address"].update(country="GB ")
    partner["session"]["ip_location"] = dict(SYDNEY)
    purchase = sample("transaction.created")
    purchase["transaction"]["currency"] = "usd "
    purchase["customer"]["country"] = "US "
    purchase["reward"]["currency"] = " USD"
    bonus = sample("reward.created")
    bonus["reward"].update(currency="EUR ", transaction_id=None, customer_id=None)

    # When they are sent, Then each is taken as its code: nothing refused, nothing ignored
    signed_up = scored(aws, tenant, partner)
    assert signed_up["notes"] == []
    assert "location_far_from_address" in {r["code"] for r in signed_up["decision"]["reasons"]}
    assert scored(aws, tenant, purchase)["notes"] == []
    assert scored(aws, tenant, bonus)["notes"] == []
    kept = {r["id"]: (r["amount"], r["currency"]) for r in rewards_of(tenant, "p_1001")}
    assert kept == {"r_7001": ("49.99", "USD"), "r_7002": ("12.50", "EUR")}


@pytest.mark.parametrize(
    "reward",
    [
        {"id": None, "amount": None, "currency": None},
        {"id": "", "amount": " ", "currency": ""},
        {"id": None, "amount": ""},
        {},
    ],
    ids=["nulls", "blanks", "some-left-out", "empty"],
)
def test_a_reward_of_nulls_is_no_reward(aws, tenant, reward):
    event = sample("transaction.created", reward=reward)

    assert scored(aws, tenant, event)["notes"] == []
    assert rewards_of(tenant, "p_1001") == []


def test_a_reward_with_some_fields_is_still_refused_naming_the_missing_ones(aws, tenant):
    event = sample("transaction.created", reward={"id": "r_7001", "amount": None, "currency": None})

    answer = post(event, tenant.keys["integration"])

    assert answer.status == 422, answer
    assert {e["field"] for e in answer.body["errors"]} == {"reward.amount", "reward.currency"}


def test_a_reward_of_nulls_with_a_field_it_does_not_name_is_refused(aws, tenant):
    event = sample("transaction.created", reward={"id": None, "amount": None, "curency": None})

    answer = post(event, tenant.keys["integration"])

    assert answer.status == 422, answer
    assert "reward.curency" in {e["field"] for e in answer.body["errors"]}


def test_a_spend_with_an_earns_id_is_told_that_earns_and_spends_share_one_id_space(tenant, clock):
    # Given an export with one sequence per table: earn 1, then spend 1
    loyalty = Loyalty(tenant.keys)
    assert loyalty.earn("m1", 100, id="1").status == 200

    spent = loyalty.spend("m1", 10, id="1")

    assert spent.status == 409, spent
    assert spent.body["detail"] == (
        "id '1' was already used by an earn: earns and spends share one id space, so give each spend "
        "an id no earn has (prefix them, e.g. earn-17 and spend-17)"
    )
    assert loyalty.customer("m1").body["balance"] == 100  # nothing spent


def test_an_earn_with_a_spends_id_or_another_body_is_told_the_same(tenant, clock):
    loyalty = Loyalty(tenant.keys)
    loyalty.earn("m1", 100, id="e1")
    assert loyalty.spend("m1", 10, id="s1").status == 200

    earned = loyalty.earn("m1", 5, id="s1")
    changed = loyalty.spend("m1", 20, id="s1")

    assert (
        earned.status == 409
        and "already used by a spend: earns and spends share one id space" in (earned.body["detail"])
    )
    assert changed.status == 409 and changed.body["detail"] == (
        "id 's1' was already used by a spend with a different body (earns and spends share one id space)"
    )
    assert loyalty.spend("m1", 10, id="s1").body == {"balance": 90}  # a retry answers as the first time


@pytest.mark.parametrize(("function", "path"), LISTINGS)
@pytest.mark.parametrize("blank", ["", " "])
def test_a_blank_limit_is_absent(aws, tenant, security_key, function, path, blank):
    aws.repository.apply(Step([PutCase(a_case(tenant.program_id, 0))]))  # c0000, whose audit is listed
    key = security_key if function == "disputes" else tenant.keys["fraud"]

    answer = call(function, proxy_event("GET", path, None, key, query={"limit": blank, "cursor": blank}))

    assert answer.status == 200, answer


@pytest.mark.parametrize("blank", ["", " "])
def test_a_blank_timeout_is_absent_with_or_without_a_wait(aws, tenant, blank):
    """An ingest tester's: `?wait=decision&timeout_ms=` was 422, where a blank `limit` is absent."""
    key = tenant.keys["integration"]
    for n, query in enumerate(({"wait": "decision", "timeout_ms": blank}, {"timeout_ms": blank})):
        event = sample("partnership.created")
        event["id"] = f"evt-blank-timeout-{n}"
        answer = call("ingest", proxy_event("POST", "/v1/events", event, key, query=query))
        assert answer.status in (200, 202), answer


# --- a retry sent the other way a SQL export sends the same event ----------------------------
def _without(event, *path):
    event = copy.deepcopy(event)
    *parents, last = path
    holder = event
    for part in parents:
        holder = holder[part]
    holder.pop(last, None)
    return event


def _sent_in_both_ways_is_one_event(aws, tenant, first, retry):
    key = tenant.keys["integration"]
    answer = post(first, key)
    assert answer.status == 202, answer

    again = post(retry, key)

    assert again.status == 202, again  # not 409 "already used with a different body"
    assert again.body == answer.body
    drain(aws)
    assert status(tenant, first["id"])["status"] == "scored"


NULL_REWARD = {"id": None, "amount": None, "currency": None}


@pytest.mark.parametrize("reward", [NULL_REWARD, {}, {"id": "", "amount": " ", "currency": None}])
@pytest.mark.parametrize("reward_first", [True, False], ids=["of-nulls-first", "none-first"])
def test_a_retry_with_or_without_a_reward_of_nulls_is_the_same_event(aws, tenant, reward, reward_first):
    with_it = sample("transaction.created", reward=reward)
    without = _without(with_it, "reward")
    first, retry = (with_it, without) if reward_first else (without, with_it)

    _sent_in_both_ways_is_one_event(aws, tenant, first, retry)

    assert rewards_of(tenant, "p_1001") == []


@pytest.mark.parametrize("path", [("session", "ip_location"), ("partner", "address")])
def test_a_retry_without_an_object_of_nulls_is_the_same_event(aws, tenant, path):
    first = sample("partnership.created")
    first[path[0]][path[1]] = {"lat": None, "lon": None} if path[1] == "ip_location" else dict(NULL_ADDRESS)

    _sent_in_both_ways_is_one_event(aws, tenant, first, _without(first, *path))


def test_a_retry_with_a_padded_code_trimmed_is_the_same_event(aws, tenant):
    first = sample("transaction.created")
    first["transaction"]["currency"] = "USD "
    first["customer"].update(country="US ", ip=" 8.8.4.4 ")
    retry = copy.deepcopy(first)
    retry["transaction"]["currency"] = "USD"
    retry["customer"].update(country="US", ip="8.8.4.4")

    _sent_in_both_ways_is_one_event(aws, tenant, first, retry)

    assert status(tenant, first["id"])["notes"] == []  # the padded address is the address, not ignored
    assert [r["id"] for r in rewards_of(tenant, "p_1001")] == ["r_7001"]  # one reward, not two


@pytest.mark.parametrize("form", ["blanks_absent", "nulls_absent", "legacy"])
def test_a_retry_of_a_body_stored_before_reading_it_so_is_the_same_event(aws, tenant, form):
    """A body stored by a version that hashed it in an older form (a padded code apart from its
    trimmed one, a reward of nulls apart from none), retried in the form this version equates: the
    stored body, read as this version reads one, is the retry's (a reviewer: it was 409, and a
    client told so sends it again under a new id, counted twice)."""
    from datetime import UTC, datetime

    from functions.shared.documents import document_hash, legacy_hash
    from functions.shared.domain.model import StoredEvent

    first = sample("transaction.created", id=f"stored-{form}", reward=NULL_REWARD)
    first["transaction"]["currency"] = "USD "
    hashed = legacy_hash(first) if form == "legacy" else document_hash(first, form=form)
    at = datetime(2026, 11, 2, 9, tzinfo=UTC)
    aws.repository.record_event(
        StoredEvent(tenant.program_id, first["id"], first["type"], first, hashed, at, at)
    )
    retry = _without(first, "reward")
    retry["transaction"]["currency"] = "USD"

    again = post(retry, tenant.keys["integration"])

    assert again.status == 202, again
    changed = copy.deepcopy(retry)
    changed["transaction"]["amount"] = "1.00"
    assert post(changed, tenant.keys["integration"]).status == 409


def test_a_retry_that_says_something_else_is_still_a_conflict(aws, tenant):
    key = tenant.keys["integration"]
    first = sample("transaction.created", reward=NULL_REWARD)
    assert post(first, key).status == 202

    answer = post(sample("transaction.created"), key)  # now with a reward

    assert answer.status == 409, answer


# --- an object whose fields are objects is sent wrong, not absent ------------------------------
@pytest.mark.parametrize(
    "reward",
    [
        {"id": {}, "amount": {}, "currency": {}},
        {"id": {"v": None}, "amount": None, "currency": None},
        {"id": [], "amount": None, "currency": None},
    ],
    ids=["every-field-an-object", "a-field-an-object-of-nulls", "a-field-a-list"],
)
def test_a_reward_whose_fields_are_objects_is_refused(aws, tenant, reward):
    answer = post(sample("transaction.created", reward=reward), tenant.keys["integration"])

    assert answer.status == 422, answer
    assert "reward.id" in {e["field"] for e in answer.body["errors"]}


@pytest.mark.parametrize(
    ("put", "note"),
    [
        (
            lambda e: e["session"].update(ip_location={"lat": {}, "lon": {"deg": None}}),
            "session.ip_location ignored: not coordinates {lat, lon} in degrees",
        ),
        (
            lambda e: e["session"].update(ip_location={"lat": [], "lon": []}),
            "session.ip_location ignored: not coordinates {lat, lon} in degrees",
        ),
        (
            lambda e: e["partner"].update(address={"country": {}, "city": {"name": ""}}),
            "partner.address ignored: not an address with an ISO 3166 alpha-2 country",
        ),
        (
            lambda e: e["partner"].update(group={"name": {}}),
            "partner.group ignored: not a text of at most 200 characters",
        ),
    ],
    ids=["location-of-objects", "location-of-lists", "address-of-objects", "group-an-object"],
)
def test_an_optional_object_whose_fields_are_objects_is_named_as_sent_wrong(aws, tenant, put, note):
    event = sample("partnership.created")
    put(event)

    assert scored(aws, tenant, event)["notes"] == [note]
