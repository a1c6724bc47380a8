"""The served OpenAPI document describes the API as it behaves (SPEC 3): every status each operation
can answer, problem documents for every error, 204s without a body."""

from __future__ import annotations

import json

import pytest

from functions.shared.inputs import BLANK_PATTERN
from functions.shared.partner_events import EVENT_TYPES
from functions.shared.routes import ANY_ROLE, ROUTES

OPERATIONS = [r for r in ROUTES if r.function != "openapi"]
PROBLEM = {"$ref": "#/components/schemas/Problem"}


@pytest.fixture(scope="module")
def document():
    from functions.openapi.handler import openapi_document

    return json.loads(openapi_document())


def _operation(document, route):
    return document["paths"][route.path][route.method.lower()]


@pytest.mark.parametrize("route", OPERATIONS, ids=lambda r: f"{r.method} {r.path}")
def test_each_operation_documents_every_error_it_can_answer_as_a_problem(document, route):
    operation = _operation(document, route)
    # 429: the key's rate limit at the edge (WAF, the local gateway); 413 and 415: the gate reads
    # the size and media type of any body sent, before it knows whether the operation takes one
    expected = {400, 401, 413, 415, 422, 429, 503}
    expected |= {403} if set(route.roles) != set(ANY_ROLE) else set()
    expected |= {404} if "{" in route.path else set()
    expected |= set(route.answers)

    errors = {int(code) for code in operation["responses"] if int(code) >= 400}

    assert errors == expected
    for code in errors:
        content = operation["responses"][str(code)]["content"]
        assert content == {"application/problem+json": {"schema": PROBLEM}}, code
    assert "WWW-Authenticate" in operation["responses"]["401"]["headers"]
    assert "Retry-After" in operation["responses"]["503"]["headers"]
    assert "Retry-After" in operation["responses"]["429"]["headers"]
    for code in route.answers:  # only an answer that may pass when retried says when
        retried = "Retry-After" in operation["responses"][str(code)].get("headers", {})
        assert retried == (code in route.retried), code


def test_a_spend_documents_its_409_to_retry(document):
    """A contract tester's: the spend's 409 while a workflow has not run carries Retry-After and
    passes when retried, which the document did not say (its 409 read as a refusal that stands)."""
    conflict = document["paths"]["/v1/loyalty/spend"]["post"]["responses"]["409"]

    assert "Retry-After" in conflict["headers"]
    assert "/problems/decision-pending" in conflict["description"]


def test_a_204_has_no_body_and_the_problem_schema_names_each_field(document):
    deleted = document["paths"]["/v1/loyalty/workflows/{workflow_id}"]["delete"]["responses"]
    problem = document["components"]["schemas"]["Problem"]

    assert "content" not in deleted["204"]
    assert set(problem["required"]) == {"type", "title", "status", "detail"}
    assert problem["properties"]["errors"]["items"]["required"] == ["field", "message"]
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_path_ids_are_documented_as_identifiers(document):
    from functions.shared.inputs import IDENTIFIER_PATTERN

    parameter = document["paths"]["/v1/events/{event_id}"]["get"]["parameters"][0]

    assert parameter["schema"]["pattern"] == IDENTIFIER_PATTERN
    assert parameter["schema"]["maxLength"] == 128


def test_removed_partners_pages_as_the_cases_do(document):
    removed = document["paths"]["/v1/removed-partners"]["get"]
    cases = document["paths"]["/v1/cases"]["get"]

    def paging(operation):
        found = {p["name"]: dict(p["schema"]) for p in operation["parameters"]}
        found["cursor"].pop("description", None)
        return found["limit"], found["cursor"]

    assert paging(removed) == paging(cases)  # the same limit bounds and default, the same cursor
    limit = paging(removed)[0]
    assert (limit["default"], limit["title"]) == (25, "Limit")
    assert limit["anyOf"][0] == {"type": "integer", "minimum": 1, "maximum": 100}
    assert limit["anyOf"][1]["pattern"] == BLANK_PATTERN  # blank is absent (`api._blank_paging_absent`)
    page = document["components"]["schemas"]["RemovedPage"]["properties"]
    assert set(page) == {"items", "next_cursor"}
    assert {"type": "null"} in page["next_cursor"]["anyOf"]


@pytest.mark.parametrize("route", OPERATIONS, ids=lambda r: f"{r.method} {r.path}")
def test_the_route_table_names_the_query_parameters_each_operation_takes(document, route):
    # the gate refuses any other by the table's list: it must be the resolver's own
    parameters = _operation(document, route).get("parameters", [])

    assert [p["name"] for p in parameters if p["in"] == "query"] == list(route.query)


@pytest.mark.parametrize("route", OPERATIONS, ids=lambda r: f"{r.method} {r.path}")
def test_the_route_table_says_which_operations_take_a_body(document, route):
    # the gate refuses a body that says anything where the table says none is taken
    assert route.takes_body == ("requestBody" in _operation(document, route))


def test_a_signed_operation_documents_its_signature_header(document):
    # an integrator read of X-Signature only in a 401's description
    signed = {(r.method, r.path) for r in OPERATIONS if r.signed}
    for route in OPERATIONS:
        headers = [p for p in _operation(document, route).get("parameters", []) if p["in"] == "header"]
        if (route.method, route.path) in signed:
            assert [(p["name"], p["required"]) for p in headers] == [("X-Signature", False)]
            assert "HMAC-SHA256" in headers[0]["description"]
        else:
            assert headers == []
    assert signed == {("POST", "/v1/events")}


def test_the_document_is_valid_openapi_with_every_reference_resolved(document):
    """Powertools' `ResponseValidationError` stayed after the `ValidationError` it refers to was
    taken out: a code generator or linter that resolves every component stopped on the document."""
    from openapi_spec_validator import validate

    validate(document)  # raises on a reference to nothing, and on anything else OpenAPI 3.1 forbids
    referred = {
        value.rsplit("/", 1)[-1]
        for value in _values_of(document, "$ref")
        if value.startswith("#/components/schemas/")
    }
    assert referred == set(document["components"]["schemas"])  # and nothing listed that nothing uses


def _values_of(node, key):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from [v] if k == key else _values_of(v, key)
    elif isinstance(node, list):
        for item in node:
            yield from _values_of(item, key)


@pytest.mark.parametrize(
    ("schema", "field", "names"),
    [
        ("NewPartner", "address", ["country", "line1", "city", "region", "postal_code", "lat", "lon"]),
        ("ChangedPartner", "address", ["country", "line1", "city", "region", "postal_code", "lat", "lon"]),
        ("Session", "ip_location", ["lat", "lon"]),
    ],
)
def test_an_optional_object_names_its_fields_and_no_other(document, schema, field, names):
    """An address or a location was documented by a description alone: a generator or a reader
    could not tell `postal_code` from `zip`; a key the object does not name is ignored (its note
    says so), so the document does not refuse it either."""
    described = document["components"]["schemas"][schema]["properties"][field]

    assert list(described["properties"]) == names
    assert described.get("additionalProperties", True) is True
    # any value of a named field is taken (one sent wrong is ignored, SPEC 3.1), and anything that
    # is not an object: the document refuses nothing the API accepts
    assert "type" not in described and "required" not in described
    for name, part in described["properties"].items():
        assert set(part) <= {"title", "description", "default"}, (name, part)
        assert "ignored" in part["description"]


def test_an_events_status_names_the_type_the_system_records_which_no_integration_may_send(document):
    schemas = document["components"]["schemas"]
    shown = schemas["EventStatus"]["properties"]["type"]
    assert "partner.linked_to_removed" in shown["description"]
    assert "partner.linked_to_removed" in shown["examples"]
    body = document["paths"]["/v1/events"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert set(body["discriminator"]["mapping"]) == set(EVENT_TYPES)  # not the review's
    assert "linked_removal_" in schemas["PartnershipCreated"]["properties"]["id"]["description"]


# SPEC 5.1's reason codes, fixed
REASON_CODES = [
    "email_duplicate",
    "email_similar",
    "email_disposable_domain",
    "email_suspicious_domain",
    "ip_suspicious",
    "ip_country_mismatch",
    "device_shared",
    "location_far_from_address",
    "unusual_activity",
    "velocity",
    "cluster",
    "network_flagged",
    "blocked_reapply",
    "self_referral",
]
CASE_STATUSES = ["open", "disputed", "approved", "declined", "removed"]  # SPEC 3.2
REWARD_STATUSES = ["new", "pending", "approved", "on_hold", "declined", "paid", "archived"]  # SPEC 4
ROLES = ["integration", "viewer", "fraud", "admin", "security"]  # SPEC 2
NOTIFICATIONS = [  # SPEC 6
    "PartnerFlagged",
    "CustomerFlagged",
    "RewardsHeld",
    "DisputeOpened",
    "DisputeResolved",
    "PartnerRemoved",
    "CustomerSuspended",
    "CustomerBlocked",
    "LoyaltyCommunication",
]


@pytest.mark.parametrize(
    ("schema", "field", "values"),
    [
        ("Reason", "code", REASON_CODES),  # an event's decision
        ("ReasonView", "code", REASON_CODES),  # a case's
        ("CaseView", "status", CASE_STATUSES),
        ("DisputeView", "status", CASE_STATUSES),
        ("RewardView", "status", REWARD_STATUSES),
        ("SubjectRef", "type", ["partner", "customer"]),
        ("Me", "role", ROLES),
        ("KeyView", "role", ROLES[:-1]),  # a program's keys: `security` is the platform's
        ("KeyCreated", "role", ROLES[:-1]),
        ("HistoryItem", "action", ["suspended", "unsuspended", "blocked", "unblocked", "communication"]),
        ("DeliveryView", "type", NOTIFICATIONS),
    ],
)
def test_a_field_of_fixed_values_documents_each_value(document, schema, field, values):
    """Reason codes, statuses and roles were plain strings: an integrator could not tell which
    codes to map, nor that a case may be `removed`."""
    described = document["components"]["schemas"][schema]["properties"][field]

    assert described["type"] == "string"
    assert sorted(described["enum"]) == sorted(values)


def test_a_webhooks_events_are_documented_as_the_notifications_it_may_subscribe_to(document):
    schemas = document["components"]["schemas"]
    for name in ("WebhookView", "PutWebhook"):
        items = schemas[name]["properties"]["events"]["items"]
        assert sorted(items["enum"]) == sorted(NOTIFICATIONS), name


def test_the_domain_constants_the_enums_come_from_are_the_specs():
    from functions.shared.domain.cases import CASE_STATUSES as case_statuses
    from functions.shared.domain.model import REASON_CODES as reason_codes
    from functions.shared.domain.model import REWARD_STATUSES as reward_statuses
    from functions.shared.domain.model import ROLES as roles

    assert sorted(reason_codes) == sorted(REASON_CODES)  # what `signals.Reason.code` is typed as
    assert sorted(case_statuses) == sorted(CASE_STATUSES)
    assert sorted(reward_statuses) == sorted(REWARD_STATUSES)
    assert sorted(roles) == sorted(ROLES)


def test_a_loyalty_history_entry_documents_its_fields(document):
    # it was `{additionalProperties: true}`: the serializer that drops absent fields hid them
    item = document["components"]["schemas"]["HistoryItem"]

    assert set(item["properties"]) == {"at", "action", "by", "note", "event", "payload"}
    assert set(item["required"]) == {"at", "action", "by"}  # the rest only when there is one
    assert item["properties"]["at"]["format"] == "date-time"


@pytest.mark.parametrize(
    ("path", "values"),
    [("/v1/cases", CASE_STATUSES[:-1]), ("/v1/rewards", REWARD_STATUSES)],
)
def test_a_status_filter_documents_the_values_it_takes(document, path, values):
    # GET /v1/cases lists the active and resolved views: a removed case is GET /v1/removed-partners'
    (status,) = [p for p in document["paths"][path]["get"]["parameters"] if p["name"] == "status"]

    assert status["schema"]["anyOf"][0] == {"type": "string", "enum": values}


def test_every_list_of_a_partner_says_its_limit(document):
    # an integration tester's: `keys` said only "the partner's referral keys", and 3,500 of them
    # were ignored whole for a limit of 50 the document did not give
    schemas = document["components"]["schemas"]
    for model in ("NewPartner", "ChangedPartner"):
        for field in ("tags", "segments", "keys"):
            described = schemas[model]["properties"][field]["description"]
            assert "at most 50" in described and "ignored" in described, (model, field, described)
