"""Schemathesis hooks: the rules of SPEC 3.1 that a JSON Schema cannot state, applied to the
requests Schemathesis means to be valid (positive cases only; negative cases go out as generated).

- `occurred_at` is at most 5 minutes ahead of the server's clock: a valid one is a recent one.
- An amount has at most its currency's decimal places (a reward of nulls or blanks has none).
- A campaign bonus names a campaign that exists: the run creates `FUZZ_CAMPAIGN` first.
- A campaign ends after it starts.
- `timeout_ms` comes with `wait=decision` (parameters cannot depend on each other in OpenAPI 3).
- A time is not before 2000-01-01 in UTC: the pattern admits 1999-12-31 written west of UTC, since
  some of those are instants of 2000 (`23:30:00-01:00`), but not which; such a time in any field
  (`replaces`, one campaign bound) is made a recent one, a lone `ends_at` a far one.
- A webhook's URL is one it may call (SPEC 6: resolved, public or the local receiver's loopback):
  the local system's closed discard port, so a fuzzed webhook costs a refused connection.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any

import schemathesis

from functions.shared.inputs import MAX_AMOUNT, decimal_places, empty, trim

FUZZ_CAMPAIGN = "fuzz-campaign"
FUZZ_WEBHOOK_URL = "http://127.0.0.1:9/fuzz"  # the discard port: nothing listens, nothing waits
LAST_DAY_BEFORE_2000 = "1999-12-31"


def _recent(seed: Any) -> str:
    """A past time, spread over the last 30 days, the same for the same generated value."""
    seconds = int(hashlib.sha256(str(seed).encode()).hexdigest()[:8], 16) % (30 * 24 * 3600)
    return (datetime.now(UTC) - timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def _amount(value: Any, currency: Any) -> str:
    places = decimal_places(str(currency))
    step = Decimal(1).scaleb(-places)
    amount = min(Decimal(str(value)), MAX_AMOUNT).quantize(step, rounding=ROUND_DOWN)
    return format(max(amount, step), "f")


def _event(body: dict[str, Any]) -> None:
    if "occurred_at" in body:
        body["occurred_at"] = _recent(body["occurred_at"])
    for name in ("transaction", "reward"):
        money = body.get(name)
        if empty(money):  # a reward of nulls or blanks is none: nothing to bound
            continue
        if isinstance(money, dict) and "amount" in money and isinstance(money.get("currency"), str):
            money["amount"] = _amount(money["amount"], trim(money["currency"]))  # `"EUR "` is EUR


def _earn_or_spend(body: dict[str, Any]) -> None:
    if body.get("occurred_at") is not None:
        body["occurred_at"] = _recent(body["occurred_at"])
    if body.get("kind") == "campaign_bonus":
        body["campaign_id"] = FUZZ_CAMPAIGN


def _campaign(body: dict[str, Any]) -> None:
    starts, ends = body.get("starts_at"), body.get("ends_at")
    if starts is not None and ends is not None:
        body["starts_at"], body["ends_at"] = _recent(starts), "2999-12-31T23:59:59Z"


def _in_2000(body: dict[str, Any]) -> None:
    for name, value in body.items():
        if isinstance(value, dict):
            _in_2000(value)
        elif isinstance(value, str) and value.startswith(LAST_DAY_BEFORE_2000):
            body[name] = "2999-12-31T23:59:59Z" if name == "ends_at" else _recent(value)


@schemathesis.hook
def map_case(context: Any, case: Any) -> Any:
    meta = case.meta
    route = (case.operation.method.upper(), case.operation.path)
    if route == ("POST", "/v1/events") and case.query and "timeout_ms" in case.query:
        case.query.setdefault("wait", "decision")  # every phase: the examples' default timeout_ms too
    if meta is None or not meta.generation.mode.is_positive or not isinstance(case.body, dict):
        return case
    _in_2000(case.body)
    if route == ("POST", "/v1/events"):
        _event(case.body)
    elif route in (("POST", "/v1/loyalty/earn"), ("POST", "/v1/loyalty/spend")):
        _earn_or_spend(case.body)
    elif route == ("PUT", "/v1/loyalty/campaigns/{campaign_id}"):
        _campaign(case.body)
    elif route == ("PUT", "/v1/webhooks/{webhook_id}") and "url" in case.body:
        case.body["url"] = FUZZ_WEBHOOK_URL
    return case
