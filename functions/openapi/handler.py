"""Serves `GET /v1/openapi.json`: the OpenAPI document generated from every function's routes."""

from __future__ import annotations

import importlib
import json
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.shared import api
from functions.shared.observability import logger
from functions.shared.routes import FUNCTIONS_WITH_ROUTES

TITLE = "Fraud Management API"
VERSION = "1.0.0"


@lru_cache(maxsize=1)
def openapi_document() -> str:
    """Merged from the resolvers of every function in the route table (pure code, no I/O).

    Each function's own resolver is asked for its part: including their routers in a new resolver
    would re-bind those routers to it (Powertools delegates a router's request state to the last
    resolver that included it)."""
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
    return json.dumps(document)


app = api.build_resolver()


@app.get("/v1/openapi.json", include_in_schema=False)
def get_openapi() -> Response[str]:
    return Response(200, "application/json", openapi_document())


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # a public route: the gate reads no credentials, so no storage is built
    return api.serve(app, event, context, None)
