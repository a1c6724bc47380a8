"""`partner.address` and `session.ip_location` through the real ingest and score handlers on moto:
an unknown key inside either is ignored alone, the rest of the object kept and the key named in the
event's notes (SPEC 3.1: an event is never refused for what detection can do without; a misspelt
`zip` dropped the whole address, with a note that blamed its country), and a value sent wrong in
one of their fields is ignored the same way, its note naming exactly that value."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from functions.shared.domain.model import StoredEvent
from tests.integration.scoring_support import drain, status
from tests.support import call, proxy_event, sample

SYDNEY = {"lat": -33.87, "lon": 151.21}  # far from the sample's address, in London


def post(body, key):
    return call("ingest", proxy_event("POST", "/v1/events", body, key))


def _address(event):
    return event["partner"].setdefault("address", {"country": "GB", "lat": 51.5226, "lon": -0.1571})


def _location(event):
    return event["session"].setdefault("ip_location", {"lat": 51.5, "lon": -0.12})


NOT_AN_ADDRESS_FIELD = "not a field of partner.address (country, line1, city, region, postal_code, lat, lon)"
NOT_A_LOCATION_FIELD = "not a field of session.ip_location (lat, lon)"


@pytest.mark.parametrize("event_type", ["partnership.created", "account.updated"])
@pytest.mark.parametrize(
    ("put", "notes"),
    [
        (
            lambda e: _address(e).update(zip="NW1 5LR"),
            [f"partner.address.zip ignored: {NOT_AN_ADDRESS_FIELD}"],
        ),
        (
            lambda e: _address(e).update(state="England", zip="NW1"),
            [
                f"partner.address.state ignored: {NOT_AN_ADDRESS_FIELD}",
                f"partner.address.zip ignored: {NOT_AN_ADDRESS_FIELD}",
            ],
        ),
        (
            lambda e: _address(e).update(line2="Flat 3"),
            [f"partner.address.line2 ignored: {NOT_AN_ADDRESS_FIELD}"],
        ),
        (
            lambda e: _location(e).update(accuracy_km=5),
            [f"session.ip_location.accuracy_km ignored: {NOT_A_LOCATION_FIELD}"],
        ),
    ],
    ids=["zip", "state-and-zip", "line2", "accuracy"],
)
def test_an_unknown_key_inside_an_address_or_a_location_is_ignored_alone_and_named_in_the_notes(
    aws, tenant, event_type, put, notes
):
    event = sample(event_type)
    about_the_address = notes[0].startswith("partner.address")
    if about_the_address:  # a session far from the address: the address is judged, so it was kept
        event["session"]["ip_location"] = dict(SYDNEY)
    put(event)

    answer = post(event, tenant.keys["integration"])
    drain(aws)

    assert answer.status == 202, answer
    scored = status(tenant, event["id"])
    assert scored["status"] == "scored" and scored["notes"] == notes
    if about_the_address:
        assert "location_far_from_address" in {r["code"] for r in scored["decision"]["reasons"]}


def test_a_valid_address_with_a_region_sent_wrong_is_accepted_and_its_note_names_the_region(aws, tenant):
    event = sample("partnership.created")
    event["partner"]["address"]["region"] = {"name": "England"}
    event["session"]["ip_location"] = SYDNEY

    answer = post(event, tenant.keys["integration"])
    drain(aws)

    assert answer.status == 202, answer
    scored = status(tenant, event["id"])
    assert scored["status"] == "scored"
    assert scored["notes"] == ["partner.address.region ignored: not a text of at most 200 characters"]
    # the rest of the address is kept: its coordinates are 17,000 km from the session's
    assert "location_far_from_address" in {r["code"] for r in scored["decision"]["reasons"]}


def test_an_address_of_no_country_is_still_ignored_whole_with_a_note_that_says_so(aws, tenant):
    event = sample("partnership.created")
    event["partner"]["address"]["country"] = "QQ"
    event["session"]["ip_location"] = {"lat": 91, "lon": -0.12}

    answer = post(event, tenant.keys["integration"])
    drain(aws)

    assert answer.status == 202, answer
    assert status(tenant, event["id"])["notes"] == [
        "partner.address ignored: not an address with an ISO 3166 alpha-2 country",
        "session.ip_location ignored: not coordinates {lat, lon} in degrees",
    ]


def test_a_stored_event_accepted_with_an_unknown_key_in_its_address_is_scored_without_that_key(aws, tenant):
    # Given an event accepted while an unknown key there ignored the whole address, still queued
    # when this code scores it
    event = sample("partnership.created")
    event["partner"]["address"]["zip"] = "NW1 5LR"
    event["session"]["ip_location"] = {**SYDNEY, "accuracy_km": 5}
    at = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
    aws.repository.record_event(
        StoredEvent(tenant.program_id, event["id"], event["type"], event, "h", at, at)
    )
    aws.sqs.send_message(
        QueueUrl=aws.resources.queue_url,
        MessageBody=json.dumps({"program_id": tenant.program_id, "event_id": event["id"]}),
    )

    # When it is scored
    drain(aws)

    # Then it is scored, never failed, with the address and the location less their unknown keys
    scored = status(tenant, event["id"])
    assert scored["status"] == "scored", scored
    assert scored["notes"] == [
        "partner.address.zip ignored: not a field of partner.address "
        "(country, line1, city, region, postal_code, lat, lon)",
        "session.ip_location.accuracy_km ignored: not a field of session.ip_location (lat, lon)",
    ]
    assert "location_far_from_address" in {r["code"] for r in scored["decision"]["reasons"]}


def test_an_address_of_thousands_of_unknown_keys_is_scored_its_notes_naming_ten(aws, tenant):
    """An ingest tester's: each unknown key was a note of its own, kept on the event's item; 3,800
    of them (42 KB of body) passed DynamoDB's 400 KB item and the event, accepted, failed scoring."""
    event = sample("partnership.created")
    event["partner"]["address"].update({f"k{n:05d}": 1 for n in range(3800)})
    assert len(json.dumps(event)) < 64 * 1024

    answer = post(event, tenant.keys["integration"])
    assert answer.status == 202, answer
    drain(aws)

    scored = status(tenant, event["id"])
    assert scored["status"] == "scored", scored
    assert scored["notes"] == [
        *(f"partner.address.k{n:05d} ignored: {NOT_AN_ADDRESS_FIELD}" for n in range(10)),
        "3790 more keys of partner.address ignored: not fields of partner.address",
    ]
    assert aws.repository.get_event(tenant.program_id, event["id"]).body["partner"]["address"]["line1"]
