"""HTTP answers for errors, in one place: RFC 9457 problem documents."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from functions.shared.errors import (
    Conflict,
    DecisionPending,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    StorageRefused,
    StorageUnavailable,
    Unauthorized,
)
from functions.shared.observability import logger

PROBLEM_JSON = "application/problem+json"

TITLES = {
    400: "Malformed request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Validation failed",
    429: "Too many requests",
    500: "Internal error",
    503: "Service unavailable",
    504: "Gateway timeout",
}

_STATUS_OF: tuple[tuple[type[DomainError], int], ...] = (
    (Unauthorized, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),  # `DecisionPending` too: a conflict of its own type (`problem_for`)
    (InvalidInput, 422),
    (StorageUnavailable, 503),
    (StorageRefused, 500),
)
UNEXPECTED_DETAIL = "an unexpected error occurred"


def status_of(error: DomainError) -> int:
    for kind, status in _STATUS_OF:
        if isinstance(error, kind):
            return status
    return 500


def problem(status: int, detail: str, errors: list[dict[str, str]] | None = None) -> dict[str, Any]:
    title = TITLES.get(status, "Error")
    document: dict[str, Any] = {
        "type": f"/problems/{title.lower().replace(' ', '-')}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        document["errors"] = errors
    return document


UNAVAILABLE_DETAIL = "a service this API depends on is unavailable for now: retry after a moment"
DECISION_PENDING = ("/problems/decision-pending", "Decision pending")  # a 409 to retry (`Retry-After`)


def problem_for(error: DomainError) -> dict[str, Any]:
    """The problem document of a domain error. A 503 says nothing of why: its detail (keys, AWS
    error codes) is for the log, never for the caller. A wait for a decision is a conflict of its
    own type (`DECISION_PENDING`), told apart from a refusal that stands."""
    status = status_of(error)
    if isinstance(error, DecisionPending):
        return {**problem(409, error.detail), "type": DECISION_PENDING[0], "title": DECISION_PENDING[1]}
    if status == 503:
        return problem(503, UNAVAILABLE_DETAIL)
    if status == 500:
        return problem(500, UNEXPECTED_DETAIL)
    errors = error.errors if isinstance(error, InvalidInput) else None
    return problem(status, error.detail, errors)


def answer_for(error: DomainError) -> dict[str, Any]:
    """The proxy answer of a domain error; a 503 is logged with its detail and says when to retry."""
    status = status_of(error)
    headers = None
    if isinstance(error, DecisionPending):  # when the decision it waits for is likely made
        headers = {"Retry-After": str(error.retry_after)}
    elif status == 503:
        logger.warning("dependency unavailable", extra={"detail": error.detail})
        headers = {"Retry-After": "1"}
    elif status == 500:  # no retry or caller fixes it (StorageRefused: the deployment's configuration)
        logger.error("request failed", extra={"error": type(error).__name__, "detail": error.detail})
    return proxy_response(status, problem_for(error), headers)


# RFC 9110 11.6.1: a 401 names how to authenticate (the scheme of RFC 6750 that keys are sent with)
AUTH_CHALLENGE = "Bearer"


def answer_headers(status: int, retry_after: int | None = None) -> dict[str, str]:
    """What an error answer carries besides its type, wherever it is given (a function, the local
    gateway, API Gateway's own answers): how to authenticate for a 401, when to come back."""
    headers = {"WWW-Authenticate": AUTH_CHALLENGE} if status == 401 else {}
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return headers


def proxy_response(
    status: int, document: dict[str, Any], headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """An API Gateway proxy answer carrying a problem document (used before routing)."""
    return {
        "statusCode": status,
        "headers": {"Content-Type": PROBLEM_JSON, **answer_headers(status), **(headers or {})},
        "body": to_json(document),
        "isBase64Encoded": False,
    }


def api_time(value: Any) -> str:
    """A time (or a day) as the API's answers write it: `2026-11-30T23:00:00Z`, for one said in words."""
    return str(value.isoformat()).replace("+00:00", "Z")


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return api_time(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def to_json(value: Any) -> str:
    return json.dumps(value, default=_json_default, separators=(",", ":"))


# What pydantic names the members of a union that is not tagged (an optional field's: the value, a
# blank, null) in an error's location: `function-after[check(), constrained-str]`, `none`. No field
# of this API is named so (names are snake_case words; list positions are numbers).
_UNION_MEMBER = re.compile(r"^(none|str|int|float|bool|[a-z]+(-[a-z]+)+)(\[.*\])?$|\[")
# The messages of an optional field's other members: a value that is not blank or null is refused
# for what the value's own member says.
_OTHER_MEMBERS = ("blank", "Input should be None")
_RAISED = "Value error, "  # what pydantic puts before the message of a ValueError our validators raise


def validation_errors(raw: list[dict[str, Any]], tags: frozenset[str] = frozenset()) -> list[dict[str, str]]:
    """Pydantic errors as `{field, message}`, with the body prefix and union tags dropped, and one
    error per field of an optional value (pydantic gives one per member of its union)."""
    found: dict[str, list[str]] = {}
    for error in raw:
        location = [
            str(part)
            for part in error.get("loc", ())
            if str(part) not in tags and not _UNION_MEMBER.search(str(part))
        ]
        if location and location[0] == "body":
            location = location[1:]
        if error.get("type") in ("union_tag_invalid", "union_tag_not_found"):
            # a wrong or missing `type` / `kind`: name the discriminator, not the body
            location.append(str((error.get("ctx") or {}).get("discriminator", "")).strip("'\""))
        message = str(error.get("msg", "")).removeprefix(_RAISED)
        given, bounds = error.get("input"), error.get("ctx") or {}
        if error.get("type") in ("too_long", "too_short") and isinstance(given, str):
            # a length checked after a validator of ours is pydantic's generic one: "items"
            most = error["type"] == "too_long"
            limit = bounds.get("max_length" if most else "min_length")
            message = f"at {'most' if most else 'least'} {limit} characters, not {len(given)}"
        elif error.get("type") in ("too_long", "too_short") and isinstance(given, list):
            # pydantic's "List should have at least 1 item after validation, not 0"
            most = error["type"] == "too_long"
            limit = bounds.get("max_length" if most else "min_length")
            what = "item" if limit == 1 else "items"
            count = bounds.get("actual_length", len(given))
            message = f"at {'most' if most else 'least'} {limit} {what}, not {count}"
        elif error.get("type") == "string_too_short" and bounds.get("min_length") == 1:
            message = "must not be blank"
        elif error.get("type") == "extra_forbidden":
            # pydantic's "Extra inputs are not permitted"
            parent = ".".join(location[:-1]) or "the body"
            message = f"not a field of {parent}: send only the fields GET /v1/openapi.json lists for it"
        elif error.get("type") == "union_tag_not_found":
            message = "required"
        elif error.get("type") == "union_tag_invalid":
            message = f"one of {bounds.get('expected_tags', '')}".replace("'", "").rstrip()
        if location[:1] == ["query"] and isinstance(error.get("input"), list):
            # every parameter takes one value: `?limit=5&limit=6` is not "not a valid integer"
            message = "given more than once: send one value"
        found.setdefault(".".join(location) or "(body)", []).append(message)
    errors = []
    for field, messages in found.items():
        own = [m for m in messages if m not in _OTHER_MEMBERS] or messages
        errors.append({"field": field, "message": own[0]})
    return errors


# The answers the edge gives itself before any function runs, by API Gateway response type (its
# gateway responses, which infra/capabilities/api.py sets, and the local gateway's): the same problem
# documents as the functions' own. Type -> status, detail, Retry-After seconds (None: none).
EDGE_ANSWERS: dict[str, tuple[int, str, int | None]] = {
    # no Authorization header: API Gateway refuses without calling the authorizer
    "UNAUTHORIZED": (401, "missing API key: send 'Authorization: Bearer <api key>'", None),
    # the authorizer's Deny: a malformed, unknown, wrong or revoked key (no other policy denies)
    "ACCESS_DENIED": (
        401,
        "malformed, unknown or revoked API key: send 'Authorization: Bearer <api key>'",
        None,
    ),
    # the authorizer could not decide (the table did not answer): safe to retry
    "AUTHORIZER_FAILURE": (503, UNAVAILABLE_DETAIL, 1),
    "AUTHORIZER_CONFIGURATION_ERROR": (503, UNAVAILABLE_DETAIL, 1),
}


def edge_answer(response_type: str) -> dict[str, Any]:
    """The proxy answer the edge gives for one of its response types (the local gateway's)."""
    status, detail, retry_after = EDGE_ANSWERS[response_type]
    return proxy_response(status, problem(status, detail), answer_headers(status, retry_after))
