"""Every notification a webhook may subscribe to is documented in the OpenAPI document's `webhooks`
(SPEC 6), and what the system really sends matches it: notifications of every type made through
the real handlers on moto (scoring, the API, the dispute cycle, loyalty workflows), caught on the
in-memory bus, turned into deliveries by the webhooks function's own fan-out, and each delivery's
body checked against its documented schema. A tester integrating from the document alone found no
schema for any `data`."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from functions.shared.documents import json_default
from functions.shared.domain.webhooks import NOTIFICATION_NAMES
from functions.webhooks import wiring
from functions.webhooks.delivery import fan_out
from tests.integration.scoring_support import drain, purchase, send, signup, status
from tests.integration.test_disputes import buy, dispute, flag_partner, run_scheduled_cycle, verdict
from tests.integration.test_loyalty_support import Loyalty, workflow_settings
from tests.integration.test_webhooks_api import PUBLIC_URL as URL
from tests.integration.test_webhooks_api import hooks  # noqa: F401 (the fixture `usefixtures` names)
from tests.support import call, proxy_event


def _partner_notifications(env) -> None:
    """A partner flagged (two sign-ups on one address) with a later commission held, disputed and
    declined by the cycle; another flagged and removed; a customer flagged for a self-referral."""
    case_id = flag_partner(env, "p-flag")
    buy(env, "c-late", "p-flag", "2026-11-05T09:00:00Z", "30.00")
    drain(env.aws)
    assert dispute(env, case_id).status == 200
    assert verdict(env, case_id, "decline").status == 200
    removed = flag_partner(env, "p-gone", day=4)
    answer = call(
        "cases",
        proxy_event("POST", f"/v1/cases/{removed}/remove", {"block_reapply": True}, env.tenant.keys["fraud"]),
    )
    assert answer.status == 200, answer
    send(env.tenant, signup("p-own", email="owner@example.com", ip="81.2.69.11"))
    drain(env.aws)
    flagged = send(env.tenant, purchase("c-self", "p-own", email="owner@example.com"))
    drain(env.aws)
    assert status(env.tenant, flagged["id"])["decision"]["action"] == "flag"
    run_scheduled_cycle(env)


def _loyalty_notifications(env) -> None:
    """A suspension with a note and a block without one, by hand; a workflow that sends a
    communication, then suspends and blocks."""
    loyalty = Loyalty(env.tenant.keys)
    assert loyalty.earn("m-hand", 10).status == 200
    assert loyalty.status("m-hand", "suspend", {"note": "chargebacks"}).status == 200
    assert loyalty.status("m-hand", "block").status == 200
    actions = [
        {"type": "communication", "event": "loyalty.warning", "payload": {"template": "terms", "n": 1}},
        {"type": "suspend"},
        {"type": "block"},
    ]
    assert loyalty.workflow("w-all", workflow_settings(threshold=100, actions=actions)).status == 200
    assert loyalty.earn("m-run", 150).status == 200


def _delivered(name: str, detail: dict[str, Any]) -> dict[str, Any]:
    """The body a subscribed webhook is sent: the notification as the bus carries it (JSON, as
    `EventBridgePublisher` writes it) handed to the webhooks function's fan-out."""
    event = {"detail-type": name, "detail": json.loads(json.dumps(detail, default=json_default))}
    (delivery,) = fan_out(wiring.webhook_deps(), event)
    return json.loads(delivery.payload)


def _documented(document: dict[str, Any], name: str) -> Draft202012Validator:
    """The documented body of `name`, every object closed: a field sent that the document does not
    name is an error here (the document itself leaves them open, for receivers' sake)."""
    request = document["webhooks"][name]["post"]["requestBody"]["content"]["application/json"]
    return Draft202012Validator(_closed({**request["schema"], "components": document["components"]}))


def _webhook_schemas(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Every component schema a webhook's body refers to, directly or through another."""
    components, seen, pending = document["components"]["schemas"], set(), [document["webhooks"]]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            name = str(node.get("$ref", "")).rpartition("/")[2]
            if name and name not in seen:
                seen.add(name)
                pending.append(components[name])
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    assert len(seen) >= 10, seen
    return [components[name] for name in seen]


def _closed(node: Any) -> Any:
    if isinstance(node, list):
        return [_closed(item) for item in node]
    if not isinstance(node, dict):
        return node
    closed = {key: _closed(value) for key, value in node.items()}
    if isinstance(node.get("properties"), dict):
        closed["additionalProperties"] = False
    return closed


@pytest.mark.usefixtures("hooks")
def test_every_notification_sent_is_a_documented_webhook_body(env):
    from functions.openapi.handler import openapi_document

    document = json.loads(openapi_document())
    body = {"url": URL, "events": list(NOTIFICATION_NAMES), "enabled": True}
    admin = env.tenant.keys["admin"]
    assert call("webhooks", proxy_event("PUT", "/v1/webhooks/all", body, admin)).status == 200

    _partner_notifications(env)
    _loyalty_notifications(env)

    sent = [(name, _delivered(name, detail)) for name, detail in env.bus.published]
    assert {name for name, _ in sent} == set(NOTIFICATION_NAMES)
    for name, delivered in sent:
        errors = [e.message for e in _documented(document, name).iter_errors(delivered)]
        assert errors == [], (name, delivered)
    # a field the document does not name is refused: one the code adds fails here until documented
    name, delivered = sent[0]
    assert not _documented(document, name).is_valid({**delivered, "data": {**delivered["data"], "new": 1}})
    # while the document tells receivers to expect fields added later: no object of a body is closed
    assert all(schema.get("additionalProperties", True) for schema in _webhook_schemas(document))
    # a flag says when it happened, as its case does (not when the delivery was made: a tester's find)
    for name, delivered in sent:
        if name in ("PartnerFlagged", "CustomerFlagged"):
            case = call("cases", proxy_event("GET", f"/v1/cases/{delivered['data']['case_id']}", None, admin))
            at = datetime.fromisoformat(delivered["data"]["flagged_at"])
            assert at == datetime.fromisoformat(case.body["flagged_at"]), (delivered, case)
    # both ways a loyalty status change is made: by hand (with a note) and by a workflow
    suspended = [d["data"] for name, d in sent if name == "CustomerSuspended"]
    assert {"note" in data for data in suspended} == {True, False}
    assert {"workflow_id" in data for data in suspended} == {True, False}


def test_each_webhook_documents_the_signature_and_delivery_headers():
    from functions.openapi.handler import openapi_document

    webhooks = json.loads(openapi_document())["webhooks"]

    assert set(webhooks) == set(NOTIFICATION_NAMES)
    for operation in (w["post"] for w in webhooks.values()):
        headers = {p["name"]: p for p in operation["parameters"] if p["in"] == "header"}
        assert set(headers) == {"X-Signature", "X-Webhook-Delivery"}
        assert "whsec_" in headers["X-Signature"]["description"]
