"""A program's signing secret (SPEC 2) protects what an integration key writes: events, and loyalty
earns and spends. A security tester's: a program that set a secret to survive a leaked integration
key still took unsigned earns of up to a billion points, and their spends. Through the real loyalty
handler on moto; the OpenAPI document names the header on both."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from functions.shared import runtime
from functions.shared.auth import sign
from functions.shared.clock import FixedClock
from tests.conftest import make_tenant
from tests.support import call, proxy_event

SECRET = "whsec_loyalty_signed_0123"


@pytest.fixture
def signed(aws, monkeypatch):
    clock = FixedClock(datetime.now(UTC))
    monkeypatch.setattr(runtime.dependencies(), "clock", clock)
    return make_tenant(aws.repository, "Signed loyalty program", signing_secret=SECRET), clock


def _post(tenant, clock, path: str, body: dict, signed_body: dict | None = None, role: str = "integration"):
    raw = json.dumps(body)
    at = int(clock.now().timestamp())
    headers = {}
    if signed_body is not None:
        headers["X-Signature"] = sign(SECRET, at, json.dumps(signed_body).encode())
    return call("loyalty", proxy_event("POST", path, raw, tenant.keys[role], headers))


def _customer(tenant, customer_id: str):
    return call(
        "loyalty", proxy_event("GET", f"/v1/loyalty/customers/{customer_id}", None, tenant.keys["fraud"])
    )


def test_an_unsigned_earn_or_spend_of_a_signed_program_is_401_and_changes_nothing(signed):
    tenant, clock = signed
    earn = {"id": "e-1", "customer_id": "m1", "points": 999_999, "kind": "purchase"}

    assert _post(tenant, clock, "/v1/loyalty/earn", earn).status == 401  # unsigned
    assert _post(tenant, clock, "/v1/loyalty/earn", earn, {**earn, "points": 1}).status == 401  # another body
    assert _post(tenant, clock, "/v1/loyalty/earn", earn, role="admin").status == 401  # any key
    assert _customer(tenant, "m1").status == 404  # never created

    small = {**earn, "points": 100}
    granted = _post(tenant, clock, "/v1/loyalty/earn", small, small)
    assert (granted.status, granted.body["granted"]) == (200, 100), granted
    spend = {"id": "s-1", "customer_id": "m1", "points": 40}
    assert _post(tenant, clock, "/v1/loyalty/spend", spend).status == 401
    assert _customer(tenant, "m1").body["balance"] == 100
    spent = _post(tenant, clock, "/v1/loyalty/spend", spend, spend)
    assert (spent.status, spent.body) == (200, {"balance": 60}), spent


def test_the_document_names_the_signature_on_the_earn_and_the_spend(aws):
    document = call("openapi", proxy_event("GET", "/v1/openapi.json", None, None)).body
    for path in ("/v1/loyalty/earn", "/v1/loyalty/spend", "/v1/events"):
        names = [p.get("name") for p in document["paths"][path]["post"].get("parameters", [])]
        assert "X-Signature" in names, (path, names)
