"""A PUT of a webhook that says what it replaces (`replaces`: the `updated_at` read, or null for none
yet) changes nothing when that is no longer so, as a campaign's or a workflow's does, through the
real handler on moto. A program team's tester: a second admin typing an ID already in use replaced
the first admin's URL and notifications, answered "Webhook crm saved." Left out, a PUT replaces
whatever is there, as before."""

from __future__ import annotations

import json
from typing import Any

import pytest

from functions.shared.storage.dynamodb_webhooks import DynamoWebhooks
from functions.webhooks import service, wiring
from functions.webhooks.models import PutWebhook, WebhookView
from tests.conftest import Aws, Tenant
from tests.integration.test_webhooks_api import PUBLIC_URL, api, hooks  # noqa: F401 (fixture)
from tests.support import Answer, call, proxy_event

pytestmark = pytest.mark.usefixtures("hooks")
CRM = {"url": PUBLIC_URL + "/crm", "events": ["PartnerFlagged", "RewardsHeld"], "enabled": True}
OTHER = {"url": PUBLIC_URL + "/other", "events": ["LoyaltyCommunication"], "enabled": True}


def put(tenant: Tenant, body: dict[str, Any], webhook_id: str = "crm") -> Answer:
    return api(tenant.keys["admin"], "PUT", f"/v1/webhooks/{webhook_id}", body)


def read(tenant: Tenant, webhook_id: str = "crm") -> dict[str, Any]:
    answer = api(tenant.keys["admin"], "GET", f"/v1/webhooks/{webhook_id}")
    assert answer.status == 200, answer
    return answer.body


def test_a_new_webhook_under_an_id_in_use_is_a_409_and_the_first_stands(aws: Aws, tenant: Tenant):
    # Given admin A's webhook crm, made as new
    made = put(tenant, {**CRM, "replaces": None})
    assert made.status == 200 and made.body["secret"], made

    # When admin B makes a new webhook under the same ID
    second = put(tenant, {**OTHER, "replaces": None})

    # Then it is refused, saying one exists, and A's URL, notifications and secret stand
    assert second.status == 409, second
    assert second.body["detail"].startswith("webhook crm exists already (updated_at "), second.body
    assert second.body["detail"].endswith("): read it, then change it")
    assert "secret" not in json.dumps(second.body)
    now = read(tenant)
    assert (now["url"], now["events"]) == (CRM["url"], CRM["events"])
    stored = wiring.webhook_deps().store.get_webhook(tenant.program_id, "crm")
    assert stored.secret == made.body["secret"]


def test_a_stale_save_is_a_409_and_the_teammates_change_stands(aws: Aws, tenant: Tenant):
    assert put(tenant, CRM).status == 200
    seen = read(tenant)["updated_at"]  # both admins opened it
    moved = put(tenant, {**CRM, "url": PUBLIC_URL + "/crm-v2", "replaces": seen})  # A re-points it
    assert moved.status == 200, moved

    stale = put(tenant, {**CRM, "events": ["DisputeOpened"], "replaces": seen})  # B, from the old read

    assert stale.status == 409, stale
    assert "webhook crm was changed since you read it" in stale.body["detail"], stale.body
    now = read(tenant)
    assert (now["url"], now["events"]) == (PUBLIC_URL + "/crm-v2", CRM["events"])
    again = put(
        tenant, {**CRM, "url": now["url"], "events": ["DisputeOpened"], "replaces": now["updated_at"]}
    )
    assert again.status == 200, again  # read again, then changed
    assert (read(tenant)["url"], read(tenant)["events"]) == (PUBLIC_URL + "/crm-v2", ["DisputeOpened"])


def test_a_save_of_a_webhook_deleted_since_is_a_409_and_makes_nothing(aws: Aws, tenant: Tenant):
    assert put(tenant, CRM).status == 200
    seen = read(tenant)["updated_at"]
    assert api(tenant.keys["admin"], "DELETE", "/v1/webhooks/crm").status == 204

    gone = put(tenant, {**CRM, "replaces": seen})

    assert gone.status == 409 and "webhook crm no longer exists" in gone.body["detail"], gone.body
    assert api(tenant.keys["admin"], "GET", "/v1/webhooks/crm").status == 404


def test_left_out_a_put_replaces_whatever_is_there_as_before(aws: Aws, tenant: Tenant):
    assert put(tenant, CRM).status == 200
    replaced = put(tenant, OTHER)
    assert replaced.status == 200 and replaced.body["secret"] is None, replaced
    assert read(tenant)["url"] == OTHER["url"]
    assert api(tenant.keys["admin"], "DELETE", "/v1/webhooks/crm").status == 204
    assert put(tenant, CRM).status == 200  # and makes one where there is none


@pytest.mark.parametrize("made_before", [True, False], ids=["change", "create"])
def test_a_teammates_save_between_the_read_and_the_write_is_a_409(
    aws: Aws, tenant: Tenant, monkeypatch: pytest.MonkeyPatch, made_before: bool
):
    # Given what admin A read: crm as it was (or none yet)
    if made_before:
        assert put(tenant, CRM).status == 200
    seen = read(tenant)["updated_at"] if made_before else None
    # When admin B's save lands just after A's request has read the webhook, before it writes
    # (another copy of the function: through the service, as the handler calls it)
    reading, deps = DynamoWebhooks.get_webhook, wiring.webhook_deps()
    teammate_to_save = [PutWebhook(**OTHER)]  # B, with nothing said: replaces whatever is there
    interleaved: list[WebhookView] = []

    def read_then_teammate_saves(store: DynamoWebhooks, program_id: str, webhook_id: str):  # noqa: ANN202
        try:
            return reading(store, program_id, webhook_id)
        finally:
            if teammate_to_save:
                body = teammate_to_save.pop()
                interleaved.append(service.put_webhook(deps, program_id, webhook_id, body))

    with monkeypatch.context() as patched:
        patched.setattr(DynamoWebhooks, "get_webhook", read_then_teammate_saves)
        late = put(tenant, {**CRM, "events": ["DisputeOpened"], "replaces": seen})

    # Then A's save, checked in the write, changes nothing: B's stands
    assert interleaved and interleaved[0].url == OTHER["url"], interleaved
    assert late.status == 409, late
    said = "was changed since you read it" if made_before else "exists already"
    assert said in late.body["detail"], late.body
    now = read(tenant)
    assert (now["url"], now["events"]) == (OTHER["url"], OTHER["events"])


def test_replaces_is_a_time_or_null_and_is_in_the_openapi_document(aws: Aws, tenant: Tenant):
    bad = put(tenant, {**CRM, "replaces": "yesterday"})
    assert bad.status == 422 and "replaces" in {e["field"] for e in bad.body["errors"]}, bad
    assert api(tenant.keys["admin"], "GET", "/v1/webhooks/crm").status == 404  # nothing made

    document = json.loads(call("openapi", proxy_event("GET", "/v1/openapi.json")).raw["body"])
    field = document["components"]["schemas"]["PutWebhook"]["properties"]["replaces"]
    assert "409" in field["description"] and "webhook" in field["description"], field
    put_operation = document["paths"]["/v1/webhooks/{webhook_id}"]["put"]
    assert "`replaces`" in put_operation["description"] and "409" in put_operation["responses"]
