"""Serves `GET /v1/openapi.json`: the OpenAPI document generated from every function's routes."""

from __future__ import annotations

import importlib
import json
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.shared import api, problems
from functions.shared.inputs import BLANK_PATTERN, IDENTIFIER_MAX, IDENTIFIER_PATTERN
from functions.shared.observability import logger
from functions.shared.routes import FUNCTIONS_WITH_ROUTES, find_route

TITLE = "Fraud Management API"
VERSION = "1.0.0"


@lru_cache(maxsize=1)
def openapi_document() -> str:
    """Merged from the resolvers of every function in the route table (pure code, no I/O).

    Each function's own resolver is asked for its part: including their routers in a new resolver
    would re-bind those routers to it (Powertools delegates a router's request state to the last
    resolver that included it). Powertools' OpenAPI models load here, with every function's
    routes: the document is built by the first request that asks for it, not by each cold start."""
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    document: dict[str, Any] = {}
    for function in FUNCTIONS_WITH_ROUTES:
        if function == "openapi":
            continue
        resolver = importlib.import_module(f"functions.{function}.handler").app
        part = json.loads(
            resolver.get_openapi_json_schema(
                title=TITLE,
                version=VERSION,
                description="Fraud management for partner and loyalty programs.",
                security_schemes={"bearer": HTTPBearer(description="Authorization: Bearer <api key>")},
                security=[{"bearer": []}],
            )
        )
        if not document:
            document = part
            continue
        document["paths"].update(part.get("paths", {}))
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        schemas.update(part.get("components", {}).get("schemas", {}))
    describe_answers(document)
    describe_webhooks(document)
    return json.dumps(document)


SCHEMA_REF_PREFIX = "#/components/schemas/"
PROBLEM_REF = {"$ref": f"{SCHEMA_REF_PREFIX}Problem"}
PROBLEM_SCHEMA = {
    "title": "Problem",
    "description": "An RFC 9457 problem document; `errors` names each bad field of a 422",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}
SIGNATURE_HEADER = {
    "name": "X-Signature",
    "in": "header",
    "required": False,
    "schema": {"type": "string"},
    "description": "Required when the program has a signing secret (SPEC 2): `t=<unix seconds>,v1=<hex "
    'HMAC-SHA256(secret, "<t>.<raw body>")>`, within 300 seconds; one `v1=` per secret a sender holds',
}
DOMAIN_ANSWERS = {
    404: "Not found (or another program's)",
    409: "Conflicts with the current state (an id reused with another body, a change not allowed now)",
}


def describe_answers(document: dict[str, Any]) -> None:
    """Every error an operation can answer, as a problem document: what the edge answers for its
    route (`api.edge_answers`) and what the route's own logic may (`Route.answers`). Powertools'
    JSON 422 gives way to the problem document the API really sends; a 204 has no body; path ids
    are documented as the identifiers the edge lets through."""
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            found = find_route(method.upper(), path)
            assert found is not None, f"{method} {path} is not in the route table"
            route = found[0]
            responses = operation["responses"]
            responses.pop("422", None)
            if "204" in responses:
                responses["204"].pop("content", None)
            parameters = operation.get("parameters", [])
            answers = api.edge_answers(
                route, body="requestBody" in operation, query=any(p["in"] == "query" for p in parameters)
            )
            for code in route.answers:
                answers.setdefault(code, DOMAIN_ANSWERS[code])
            for code, description in sorted(answers.items()):
                response: dict[str, Any] = {
                    "description": description,
                    "content": {problems.PROBLEM_JSON: {"schema": PROBLEM_REF}},
                }
                if code in (429, 503) or code in route.retried:
                    response["headers"] = {"Retry-After": {"schema": {"type": "string"}}}
                if code in route.retried:
                    response["description"] += (
                        f"; with Retry-After, of type {problems.DECISION_PENDING[0]}: nothing was done "
                        "yet, and the same request may pass after that many seconds"
                    )
                if code == 401:
                    response["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
                responses[str(code)] = response
            if route.signed:
                operation["parameters"] = parameters = [*parameters, SIGNATURE_HEADER]
            for parameter in parameters:
                if parameter["in"] == "path":
                    parameter["schema"].update(
                        minLength=1, maxLength=IDENTIFIER_MAX, pattern=IDENTIFIER_PATTERN
                    )
                elif parameter["name"] == "limit":
                    parameter["schema"] = _blank_is_absent(parameter["schema"])
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    # Powertools' own error schemas (`HTTPValidationError`, `ResponseValidationError`) answer no
    # operation here once each error is a problem: only what an operation reaches stays, so no
    # component is left pointing at one taken out (`ValidationError` was, and the document failed
    # every OpenAPI validator)
    reached = _reached([document["paths"], document.get("webhooks")], schemas)
    for name in set(schemas) - reached:
        del schemas[name]


WEBHOOK_HEADERS = [
    {
        "name": "X-Signature",
        "in": "header",
        "required": True,
        "schema": {"type": "string"},
        "description": '`t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`, the key the '
        "whole `whsec_...` text; one `v1=` per valid secret (a rotated one signs for 24 hours more): "
        "verify any one in constant time and refuse a `t` more than 300 seconds from your clock",
    },
    {
        "name": "X-Webhook-Delivery",
        "in": "header",
        "required": True,
        "schema": {"type": "string"},
        "description": "the delivery's id, as the body's `id`: the same on every retry",
    },
]
WEBHOOK_ANSWERS = {
    "2XX": {"description": "Received: the delivery is done"},
    "410": {"description": "Gone: the webhook is disabled, its deliveries stop"},
    "default": {
        "description": "Any other answer, or none within 10 seconds: retried with backoff for 24 "
        "hours, then the delivery is failed"
    },
}


def describe_webhooks(document: dict[str, Any]) -> None:
    """What a webhook receiver is sent (SPEC 6), one entry per notification it may subscribe to: a
    POST of the delivery envelope with that notification's `data` (`functions.webhooks.bodies`)."""
    from pydantic.json_schema import models_json_schema

    from functions.webhooks import bodies

    models = {name: bodies.delivery_model(name) for name in bodies.DATA}
    _, found = models_json_schema(
        [(model, "serialization") for model in models.values()],
        ref_template=SCHEMA_REF_PREFIX + "{model}",
    )
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in found.get("$defs", {}).items():
        assert schemas.setdefault(name, schema) == schema, f"two schemas named {name}"
    document["webhooks"] = {
        name: {
            "post": {
                "summary": f"A {name} notification, posted to each webhook subscribed to it",
                "operationId": f"webhook{name}",
                "parameters": WEBHOOK_HEADERS,
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": f"{SCHEMA_REF_PREFIX}{model.__name__}"}}
                    },
                },
                "responses": WEBHOOK_ANSWERS,
            }
        }
        for name, model in models.items()
    }


def _blank_is_absent(schema: dict[str, Any]) -> dict[str, Any]:
    """A page's size as the gate takes it: blank (`?limit=`) is absent (`api._blank_paging_absent`)."""
    number = {key: value for key, value in schema.items() if key not in ("title", "default")}
    blank = {"type": "string", "pattern": BLANK_PATTERN, "description": "blank: absent, the default size"}
    kept = {key: value for key, value in schema.items() if key in ("title", "default")}
    return {"anyOf": [number, blank], **kept}


def _reached(start: Any, schemas: dict[str, Any]) -> set[str]:
    """The component schemas `start` refers to, and those they refer to in turn."""
    reached: set[str] = set()
    pending = [start]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(SCHEMA_REF_PREFIX):
                name = ref.removeprefix(SCHEMA_REF_PREFIX)
                if name not in reached:
                    reached.add(name)
                    pending.append(schemas.get(name))
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return reached


app = api.build_resolver()


@app.get("/v1/openapi.json", include_in_schema=False)
def get_openapi() -> Response[str]:
    return Response(200, "application/json", openapi_document())


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # a public route: the gate reads no credentials, so no storage is built
    return api.serve(app, event, context, None)
