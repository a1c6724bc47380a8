"""The loyalty bodies' models and their documented schemas (no network): a blank optional field is
absent and the OpenAPI document says it may be blank; a workflow's payload numbers are kept as
sent through the service on the in-memory store (history and bus), or refused, never rounded."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from jsonschema import Draft202012Validator
from pydantic import TypeAdapter, ValidationError

from functions.loyalty import service
from functions.loyalty.models import EarnRequest, WorkflowSettings
from functions.shared.documents import read_json
from tests.unit.test_loyalty_rules import Loyalty


@pytest.fixture(scope="module")
def document():
    from functions.openapi.handler import openapi_document

    return json.loads(openapi_document())


def _validator(document, path: str, method: str) -> Draft202012Validator:
    schema = document["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
    return Draft202012Validator({**schema, "components": document["components"]})


BLANK_BODIES = [
    (
        "/v1/loyalty/earn",
        "post",
        {
            "id": "e1",
            "customer_id": "m1",
            "points": 5,
            "kind": "purchase",
            "occurred_at": "",
            "campaign_id": " ",
        },
    ),
    (
        "/v1/loyalty/earn",
        "post",
        {
            "id": "e1",
            "customer_id": "m1",
            "points": 5,
            "kind": "campaign_bonus",
            "campaign_id": "c1",
            "occurred_at": "\t",
        },
    ),
    ("/v1/loyalty/spend", "post", {"id": "s1", "customer_id": "m1", "points": 5, "occurred_at": ""}),
    ("/v1/loyalty/customers/{customer_id}/suspend", "post", {"note": ""}),
    (
        "/v1/loyalty/campaigns/{campaign_id}",
        "put",
        {"total_cap": 1, "per_customer_cap": 1, "limit_behavior": "soft", "starts_at": "", "ends_at": " "},
    ),
]


@pytest.mark.parametrize(("path", "method", "body"), BLANK_BODIES)
def test_the_document_takes_a_blank_optional_field_as_the_api_does(document, path, method, body):
    errors = [e.message for e in _validator(document, path, method).iter_errors(body)]

    assert errors == []


@pytest.mark.parametrize(
    "change",
    [
        {"kind": "purchase", "campaign_id": "c1"},
        {"kind": "campaign_bonus", "campaign_id": ""},
        {"kind": None},
    ],
)
def test_the_document_refuses_what_the_api_refuses(document, change):
    body = {"id": "e1", "customer_id": "m1", "points": 5, **change}

    assert not _validator(document, "/v1/loyalty/earn", "post").is_valid(body)
    with pytest.raises(ValidationError):
        TypeAdapter(EarnRequest).validate_python(body)


def test_the_documented_payload_number_says_how_many_digits_are_kept(document):
    communication = document["components"]["schemas"]["Communication"]
    payload = communication["properties"]["payload"]["anyOf"]  # an object, or null or blank: none
    [kept] = [m for m in payload if m.get("type") == "object"]
    assert {m.get("type") for m in payload} == {"object", "null", "string"}
    members = kept["additionalProperties"]["anyOf"]

    assert {m["type"] for m in members} == {"string", "integer", "number", "boolean", "null"}
    assert (
        "a 64-bit float holds as written" in next(m for m in members if m["type"] == "number")["description"]
    )


# --- payload numbers through the service on the in-memory store ------------------------------
PAYLOAD = '{"price": 12.5, "n": 0.1, "ratio": 1e-7, "count": 123456789012345678901234567890, "t": "x"}'


def _settings(payload: str) -> dict:
    return read_json(
        '{"trigger": {"event": "points.earned"}, "enabled": true, "filter": {"aggregation": "earned",'
        ' "date_range": "today", "customer": "current", "threshold": 5},'
        f' "actions": [{{"type": "communication", "event": "warn", "payload": {payload}}}]}}'
    )


def _exact(value) -> object:
    return json.loads(json.dumps(value), parse_float=Decimal)


def test_payload_numbers_are_kept_as_sent_in_memory():
    loyalty = Loyalty()  # the in-memory store, as the unit tests of SPEC 8 use it
    settings = WorkflowSettings.model_validate(_settings(PAYLOAD))
    stored = service.put_workflow(loyalty.deps, loyalty.program.program_id, "w1", settings)
    loyalty.earn("m1", 10)

    expected = json.loads(PAYLOAD, parse_float=Decimal)
    assert _exact(stored["actions"][0]["payload"]) == expected
    read = service.get_workflow(loyalty.deps, loyalty.program.program_id, "w1")
    assert _exact(read["actions"][0]["payload"]) == expected
    assert _exact(loyalty.view("m1")["history"][0]["payload"]) == expected
    sent = [d["payload"] for t, d in loyalty.bus.published if t == "LoyaltyCommunication"]
    assert [_exact(p) for p in sent] == [expected]


@pytest.mark.parametrize(
    "number", ["12345678901234567.5", "0.1000000000000000055511151231257827", "1e400", "1e-400"]
)
def test_a_payload_number_a_float_cannot_hold_is_refused(number):
    with pytest.raises(ValidationError, match="a 64-bit float holds as written"):
        WorkflowSettings.model_validate(_settings(f'{{"x": {number}}}'))
