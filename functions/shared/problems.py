"""HTTP answers for errors, in one place: RFC 9457 problem documents."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from functions.shared.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    StorageUnavailable,
    Unauthorized,
)

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
    (Conflict, 409),
    (InvalidInput, 422),
    (StorageUnavailable, 503),
)


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


def problem_for(error: DomainError) -> dict[str, Any]:
    errors = error.errors if isinstance(error, InvalidInput) else None
    return problem(status_of(error), error.detail, errors)


def proxy_response(
    status: int, document: dict[str, Any], headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """An API Gateway proxy answer carrying a problem document (used before routing)."""
    return {
        "statusCode": status,
        "headers": {"Content-Type": PROBLEM_JSON, **(headers or {})},
        "body": to_json(document),
        "isBase64Encoded": False,
    }


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat().replace("+00:00", "Z")
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def to_json(value: Any) -> str:
    return json.dumps(value, default=_json_default, separators=(",", ":"))


def validation_errors(raw: list[dict[str, Any]], tags: frozenset[str] = frozenset()) -> list[dict[str, str]]:
    """Pydantic errors as `{field, message}`, with the body prefix and union tags dropped."""
    errors = []
    for error in raw:
        location = [str(part) for part in error.get("loc", ()) if str(part) not in tags]
        if location and location[0] == "body":
            location = location[1:]
        errors.append({"field": ".".join(location) or "(body)", "message": str(error.get("msg", ""))})
    return errors
