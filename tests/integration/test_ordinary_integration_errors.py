"""What an ordinary integration is told about two things it commonly sends wrong (a precision
tester of the thirty-ninth session): an address with the port its proxy header carried, and a field
the API does not take. Each is refused, nothing recorded, with words that say what to send."""

from __future__ import annotations

import pytest

from functions.shared.errors import NotFound
from tests.support import call, proxy_event, sample


def post(body, key):
    return call("ingest", proxy_event("POST", "/v1/events", body, key))


@pytest.mark.parametrize(
    ("given", "address"),
    [("87.32.1.1:51234", "87.32.1.1"), ("[2001:db8::7]:443", "2001:db8::7")],
)
def test_an_address_with_its_port_is_refused_saying_to_send_it_without(aws, tenant, given, address):
    event = sample("partnership.created")
    event["session"]["ip"] = given

    answer = post(event, tenant.keys["integration"])

    assert answer.status == 422, answer
    assert answer.body["errors"] == [
        {
            "field": "session.ip",
            "message": f"not an IPv4 or IPv6 address: send the address without its port ({address})",
        }
    ]
    with pytest.raises(NotFound):
        aws.repository.get_event(tenant.program_id, event["id"])


def test_a_field_the_api_does_not_take_is_named_with_where_to_find_those_it_does(aws, tenant):
    event = sample("partnership.created")
    event["partner"]["phone"] = "+44 20 7946 0000"

    answer = post(event, tenant.keys["integration"])

    assert answer.status == 422, answer
    assert answer.body["errors"] == [
        {
            "field": "partner.phone",
            "message": "not a field of partner: send only the fields GET /v1/openapi.json lists for it",
        }
    ]
    with pytest.raises(NotFound):
        aws.repository.get_event(tenant.program_id, event["id"])
