"""The route table, the problem documents and log redaction."""

from __future__ import annotations

import importlib
import json
import logging

import pytest

from functions.shared import problems
from functions.shared.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    StorageUnavailable,
    Unauthorized,
)
from functions.shared.observability import RedactingFilter, redact
from functions.shared.routes import ROUTES, find_route


def test_routes_match_their_paths_and_capture_parameters():
    route, params = find_route("GET", "/v1/events/evt-42")

    assert route.function == "ingest"
    assert params == {"event_id": "evt-42"}
    assert find_route("GET", "/v1/events/a/b") is None
    assert find_route("PATCH", "/v1/events") is None


@pytest.mark.parametrize(
    "route", [r for r in ROUTES if r.function != "openapi"], ids=lambda r: f"{r.method} {r.path}"
)
def test_every_route_in_the_table_is_served_by_its_function(route):
    resolver = importlib.import_module(f"functions.{route.function}.handler").app
    document = json.loads(resolver.get_openapi_json_schema())

    assert route.method.lower() in document["paths"].get(route.path, {})


def test_every_served_route_is_in_the_table():
    from functions.openapi.handler import openapi_document

    served = {(m.upper(), p) for p, ops in json.loads(openapi_document())["paths"].items() for m in ops}

    assert served == {(r.method, r.path) for r in ROUTES if r.function != "openapi"}


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (Unauthorized("x"), 401),
        (Forbidden("x"), 403),
        (NotFound("x"), 404),
        (Conflict("x"), 409),
        (InvalidInput("x"), 422),
        (StorageUnavailable("x"), 503),
    ],
)
def test_domain_errors_map_to_their_status(error, status):
    document = problems.problem_for(error)

    assert document["status"] == status
    assert set(document) >= {"type", "title", "status", "detail"}


def test_validation_errors_name_fields_without_the_union_tag():
    raw = [{"loc": ("body", "reward.created", "reward", "amount"), "msg": "bad"}]

    assert problems.validation_errors(raw, frozenset({"reward.created"})) == [
        {"field": "reward.amount", "message": "bad"}
    ]


def test_secrets_and_emails_are_redacted_from_logs():
    key = "fmk_0123456789abcdef_" + "A" * 43
    text = f"key {key} from ada.lovelace@example.com signed v1={'a' * 64}"

    cleaned = redact(text)

    assert key not in cleaned and "ada.lovelace@" not in cleaned and "a" * 64 not in cleaned
    assert "a***@example.com" in cleaned


def test_the_filter_redacts_message_arguments():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "user %s", ("bob@example.com",), None)

    RedactingFilter().filter(record)

    assert record.getMessage() == "user b***@example.com"
