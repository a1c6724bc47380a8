"""Helpers shared by the tests: sample events, API Gateway proxy events, handler calls."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

from local_system.lambda_runtime import invoke

EVENTS = Path(__file__).parent / "events"
SAMPLE_FILES = {
    "partnership.created": "partnership_created.json",
    "account.updated": "account_updated.json",
    "transaction.created": "transaction_created.json",
    "reward.created": "reward_created.json",
}


def sample(event_type: str, **changes: Any) -> dict[str, Any]:
    """A canonical sample event of a type, with top-level fields changed."""
    event = json.loads((EVENTS / SAMPLE_FILES[event_type]).read_text())
    event.update(changes)
    return copy.deepcopy(event)


def proxy_event(
    method: str,
    path: str,
    body: Any = None,
    key: str | None = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
) -> dict[str, Any]:
    all_headers: dict[str, str] = {}
    if body is not None:
        all_headers["Content-Type"] = "application/json"
    if key:
        all_headers["Authorization"] = f"Bearer {key}"
    all_headers.update(headers or {})
    text = body if isinstance(body, str) or body is None else json.dumps(body)
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": None,
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "stage": "prod",
            "httpMethod": method,
            "path": path,
            "resourcePath": path,
            "identity": {"sourceIp": "127.0.0.1"},
        },
        "body": text,
        "isBase64Encoded": False,
    }


class Answer:
    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        self.status: int = raw["statusCode"]
        headers = {k.lower(): v for k, v in (raw.get("headers") or {}).items()}
        for k, values in (raw.get("multiValueHeaders") or {}).items():
            headers.setdefault(k.lower(), values[-1])
        self.headers = headers
        self.body = json.loads(raw["body"]) if raw.get("body") else None

    def __repr__(self) -> str:
        return f"Answer({self.status}, {self.body})"


def call(function: str, event: dict[str, Any]) -> Answer:
    """Calls a function's real handler as Lambda would: one event at a time per function. An API
    call's answer is checked against the OpenAPI document: every status an operation answers in
    any test is one the document says it may (SPEC 3: the document describes the API)."""
    answer = Answer(invoke(f"functions.{function}.handler.lambda_handler", event))
    # (a 500 is a defect that no document lists; a test that meets one says so itself)
    if "httpMethod" in event and event.get("path") and answer.status != 500:
        documented = documented_statuses(event["httpMethod"], event["path"])
        assert documented is None or str(answer.status) in documented, (
            f"{event['httpMethod']} {event['path']} answered {answer.status}, which its operation in the "
            f"OpenAPI document does not list ({sorted(documented)}): {answer.body}"
        )
    return answer


_DOCUMENT: list[dict[str, Any]] = []


def documented_statuses(method: str, path: str) -> set[str] | None:
    """The statuses the OpenAPI document lists for the operation a call reaches; None when the
    call reaches no documented operation (a path no route has: the edge's 404)."""
    from functions.openapi.handler import openapi_document
    from functions.shared.routes import find_route

    if not _DOCUMENT:
        _DOCUMENT.append(json.loads(openapi_document()))
    found = find_route(method.upper(), path.split("?")[0])
    if found is None:
        return None
    operation = _DOCUMENT[0]["paths"].get(found[0].path, {}).get(method.lower())
    return set(operation["responses"]) if operation else None


def invoke_raw(function: str, event: dict[str, Any]) -> Any:
    return invoke(f"functions.{function}.handler.lambda_handler", event)
