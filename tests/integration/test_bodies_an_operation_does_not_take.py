"""A body sent to an operation that takes none is refused (422, naming each field) before anything
changes, through the real handlers on moto: `POST /v1/webhooks/{id}/rotate-secret` with
`{"overlap_hours": 0}` answered 200 and kept the old secret 24 hours, the caller believing it had set
0; `DELETE /v1/keys/{id}` with `{"reason": "x"}` revoked the key and dropped the reason. No body, a
blank one, `{}` (the console posts it) and `null` say nothing, and still pass."""

from __future__ import annotations

import json

import pytest

from functions.webhooks import wiring
from tests.conftest import Tenant
from tests.integration.test_webhooks_api import PUBLIC_URL as URL
from tests.integration.test_webhooks_api import hooks  # noqa: F401 (the fixture `usefixtures` names)
from tests.support import call, proxy_event


def _webhook(tenant: Tenant) -> None:
    body = {"url": URL, "events": ["PartnerFlagged"], "enabled": True}
    assert call("webhooks", proxy_event("PUT", "/v1/webhooks/wh-1", body, tenant.keys["admin"])).status == 200


@pytest.mark.usefixtures("hooks")
def test_a_rotation_sent_a_field_is_refused_naming_it_and_the_secret_is_kept(aws, tenant):
    _webhook(tenant)
    before = wiring.webhook_deps().store.get_webhook(tenant.program_id, "wh-1").secrets.sealed

    answer = call(
        "webhooks",
        proxy_event("POST", "/v1/webhooks/wh-1/rotate-secret", {"overlap_hours": 0}, tenant.keys["admin"]),
    )

    assert answer.status == 422, answer
    assert answer.body["errors"] == [
        {"field": "overlap_hours", "message": "not a field: this operation takes no body"}
    ]
    assert "overlap_hours" in answer.body["detail"]
    after = wiring.webhook_deps().store.get_webhook(tenant.program_id, "wh-1").secrets.sealed
    assert (after, after.previous) == (before, None)  # not rotated


@pytest.mark.usefixtures("hooks")
def test_a_retry_sent_a_field_is_refused_naming_it(aws, tenant):
    _webhook(tenant)
    path = "/v1/webhooks/wh-1/deliveries/d-1/retry"

    answer = call("webhooks", proxy_event("POST", path, {"force": True, "now": 1}, tenant.keys["admin"]))

    assert answer.status == 422, answer
    assert [e["field"] for e in answer.body["errors"]] == ["force", "now"]


def test_a_revocation_sent_a_reason_is_refused_and_the_key_still_works(aws, tenant):
    admin = tenant.keys["admin"]
    created = call("keys", proxy_event("POST", "/v1/keys", {"role": "viewer", "actor": "tmp"}, admin))
    key_id = created.body["key_id"]

    answer = call("keys", proxy_event("DELETE", f"/v1/keys/{key_id}", {"reason": "x"}, admin))

    assert answer.status == 422, answer
    assert [e["field"] for e in answer.body["errors"]] == ["reason"]
    assert call("cases", proxy_event("GET", "/v1/me", None, created.body["key"])).status == 200


@pytest.mark.parametrize("body", ["[1]", '"overlap_hours"', "0"])
def test_a_body_that_is_no_object_is_refused_as_a_body_not_taken(aws, tenant, body):
    answer = call("keys", proxy_event("DELETE", "/v1/keys/k-none", body, tenant.keys["admin"]))

    assert answer.status == 422, answer
    assert answer.body["errors"] == [{"field": "(body)", "message": "this operation takes no body"}]


def test_a_get_sent_a_field_is_refused_too(aws, tenant):
    # one rule for every operation, read off the route table: a GET takes no body either
    answer = call("cases", proxy_event("GET", "/v1/rewards", {"partner_id": "p1"}, tenant.keys["fraud"]))

    assert answer.status == 422, answer
    assert [e["field"] for e in answer.body["errors"]] == ["partner_id"]


@pytest.mark.parametrize("body", [None, "", "  \n", "{}", "null", "{ }"])
@pytest.mark.usefixtures("hooks")
def test_a_body_that_says_nothing_still_passes(aws, tenant, body):
    _webhook(tenant)
    admin = tenant.keys["admin"]

    rotated = call("webhooks", proxy_event("POST", "/v1/webhooks/wh-1/rotate-secret", body, admin))
    created = call("keys", proxy_event("POST", "/v1/keys", {"role": "viewer", "actor": "tmp"}, admin))
    revoked = call("keys", proxy_event("DELETE", f"/v1/keys/{created.body['key_id']}", body, admin))

    assert (rotated.status, revoked.status) == (200, 204), (rotated, revoked)


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        ("{" + " " * 64 * 1024 + "}", {}, 413),
        ("partner_id=p1", {"Content-Type": "application/x-www-form-urlencoded"}, 415),
        ("{}", {"Content-Encoding": "gzip"}, 415),
    ],
    ids=["over 64 KiB", "not JSON", "compressed"],
)
def test_an_operation_without_a_body_answers_413_and_415_as_its_document_says(
    aws, tenant, body, headers, status
):
    # the size, coding and media type of a body are read before whether the route takes one
    from functions.openapi.handler import openapi_document

    answer = call("cases", proxy_event("GET", "/v1/rewards", body, tenant.keys["fraud"], headers))
    documented = json.loads(openapi_document())["paths"]["/v1/rewards"]["get"]["responses"]

    assert answer.status == status, answer
    assert str(status) in documented
