"""Where each event type of SPEC 3.1 names its partner and its customer in a request body as sent
(the body as stored, before any model reads it): what `fraudctl replay` sends a subject's events
in order by, and what a synchronous decision scores first by (`ingest.arrival_order`)."""

from __future__ import annotations

from typing import Any

PARTNER_FIELDS: dict[str, tuple[str, ...]] = {
    "partnership.created": ("partner", "id"),
    "account.updated": ("partner", "id"),
    "transaction.created": ("partner_id",),
    "reward.created": ("reward", "partner_id"),
}
CUSTOMER_FIELDS: dict[str, tuple[str, ...]] = {
    "transaction.created": ("customer", "id"),
    "reward.created": ("reward", "customer_id"),
}


def field_at(body: Any, path: tuple[str, ...]) -> Any:
    """The value at `path` in a body, or None where a step is missing or not an object (a body of
    another shape, such as one stored under older rules, names nothing)."""
    value: Any = body
    for name in path:
        if not isinstance(value, dict):
            return None
        value = value.get(name)
    return value


def named(fields: dict[str, tuple[str, ...]], event_type: Any, body: Any) -> Any:
    """What an event of `event_type` names where `fields` says (None for a type it has no place
    for): its partner with PARTNER_FIELDS, its customer with CUSTOMER_FIELDS."""
    path = fields.get(event_type) if isinstance(event_type, str) else None
    return field_at(body, path) if path is not None else None
