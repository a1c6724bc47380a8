"""A state change whose write committed and whose answer was lost (a timeout after the commit): the
function reads back whether it was made, and answers as made. A cloud-faults tester's find: answered
503 ("safe to retry", SPEC 3), the retry was then refused as a change that does not apply (409 "only
a reward on hold can be overridden", "cannot suspend") for a change that had been made. Asked again
afterwards, it is still a change that does not apply (409, SPEC 3). The real handlers on moto; the
fault is injected at botocore's `_make_api_call`, under the code."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ReadTimeoutError

from functions.loyalty.statuses import TRANSITIONS
from tests.integration import test_disputes, test_webhooks_api
from tests.integration.scoring_support import drain
from tests.integration.test_disputes import api, buy, case_of, flag_partner, rewards_of
from tests.integration.test_loyalty_support import Loyalty, clock_fixture, workflow_settings  # noqa: F401
from tests.integration.test_webhooks_api import PUBLIC_URL
from tests.integration.test_webhooks_api import api as webhooks

env = test_disputes.env  # the disputes' program: its bus kept in memory, its clock fixed
hooks = test_webhooks_api.hooks  # the webhooks' queue, rule and key


class AnswerLost:
    """The first DynamoDB `operation` made while armed takes effect; its answer never comes. `reads`:
    how many reads after it fail too (the table still not answering). `refused`: instead of no
    answer, what botocore's retry of the same request would get from DynamoDB (its condition, which
    the first one made no longer hold: `ConditionalCheckFailedException`)."""

    def __init__(
        self, monkeypatch: pytest.MonkeyPatch, operation: str, reads: int = 0, refused: str | None = None
    ) -> None:
        import botocore.client
        from botocore.exceptions import ClientError

        real = botocore.client.BaseClient._make_api_call
        self.armed, self.lost, self.reads = False, 0, reads

        def lost(name: str, url: str) -> Exception:
            if refused is None:
                return ReadTimeoutError(endpoint_url=url)
            return ClientError(
                {"Error": {"Code": refused, "Message": "The conditional request failed"}}, name
            )

        def call(client: Any, name: str, params: Any) -> Any:
            if client.meta.service_model.service_name != "dynamodb":
                return real(client, name, params)
            if self.lost and self.reads:
                self.reads -= 1
                raise ReadTimeoutError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com")
            answer = real(client, name, params)
            if self.armed and name == operation:
                self.armed, self.lost = False, self.lost + 1
                raise lost(name, "https://dynamodb.us-east-1.amazonaws.com")
            return answer

        monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", call)

    def __enter__(self) -> AnswerLost:
        self.armed = True
        return self

    def __exit__(self, *_: object) -> None:
        self.armed = False


# --- a reward's override ---------------------------------------------------------------------
def _held(env, partner: str) -> tuple[str, str]:
    case_id = flag_partner(env, partner)
    reward = buy(env, f"{partner}-c", partner, "2026-11-04T09:00:00Z", "30.00")
    drain(env.aws)
    assert rewards_of(env.tenant, partner_id=partner) == {reward: "on_hold"}
    return case_id, reward


def test_an_override_whose_answer_was_lost_is_answered_as_made(env, monkeypatch):
    case_id, reward = _held(env, "ovl")
    path, fraud = f"/v1/rewards/{reward}/override", env.tenant.keys["fraud"]

    with AnswerLost(monkeypatch, "TransactWriteItems") as fault:
        answer = api("cases", "POST", path, fraud, {"status": "approved"})

    assert fault.lost == 1
    assert answer.status == 200, answer
    assert answer.body["status"] == "approved" and answer.body["overridden"] is True, answer.body
    assert rewards_of(env.tenant, partner_id="ovl") == {reward: "approved"}
    case = case_of(env.tenant, case_id)
    assert case["held_rewards"] == 0
    assert [e["action"] for e in case["audit"]].count("reward_overridden") == 1
    # asked again, it is an override of a reward no longer on hold (SPEC 3: 409)
    assert api("cases", "POST", path, fraud, {"status": "approved"}).status == 409


def test_an_override_whose_answer_and_read_back_are_lost_is_503_and_made(env, monkeypatch):
    # the table not answering the read back either: unknown, so a 503 (it was made all the same)
    _, reward = _held(env, "ovr")
    path, fraud = f"/v1/rewards/{reward}/override", env.tenant.keys["fraud"]

    with AnswerLost(monkeypatch, "TransactWriteItems", reads=1) as fault:
        answer = api("cases", "POST", path, fraud, {"status": "approved"})

    assert fault.lost == 1 and fault.reads == 0
    assert answer.status == 503 and "retry-after" in answer.headers, answer
    assert rewards_of(env.tenant, partner_id="ovr") == {reward: "approved"}


# --- a loyalty customer's status ------------------------------------------------------------
def _actions(loyalty: Loyalty, customer: str) -> list[str]:
    answer = loyalty.customer(customer)
    assert answer.status == 200, answer
    return [entry["action"] for entry in answer.body["history"]]


@pytest.mark.parametrize(
    ("before", "change", "status"),
    [
        ([], "suspend", "suspended"),
        ([], "block", "blocked"),
        (["suspend"], "block", "blocked"),
        (["suspend"], "unsuspend", "active"),
        (["suspend", "block"], "unblock", "suspended"),  # back to what the block was made from
    ],
)
def test_a_status_change_whose_answer_was_lost_is_answered_as_made(
    tenant, clock, monkeypatch, before, change, status
):
    loyalty = Loyalty(tenant.keys)
    assert loyalty.earn("sl1", 10).status == 200
    for earlier in before:
        assert loyalty.status("sl1", earlier).status == 200
    fault = AnswerLost(monkeypatch, "TransactWriteItems")

    with fault:
        answer = loyalty.status("sl1", change, {"note": "checked by phone"})

    assert fault.lost == 1
    assert answer.status == 200, answer
    assert answer.body["status"] == status
    made = [*before, change]
    assert _actions(loyalty, "sl1") == [TRANSITIONS[c].action for c in made]  # once each
    # asked again, it is a change that does not apply to the status it made (SPEC 3: 409)
    assert loyalty.status("sl1", change, {"note": "checked by phone"}).status == 409


def test_a_status_change_whose_answer_and_read_back_are_lost_is_503_and_made(tenant, clock, monkeypatch):
    loyalty = Loyalty(tenant.keys)
    assert loyalty.earn("sl2", 10).status == 200

    with AnswerLost(monkeypatch, "TransactWriteItems", reads=1) as fault:
        answer = loyalty.status("sl2", "suspend")

    assert fault.lost == 1 and fault.reads == 0
    assert answer.status == 503, answer
    assert loyalty.customer("sl2").body["status"] == "suspended"


def test_a_workflow_deleted_whose_answer_was_lost_is_answered_as_deleted(tenant, clock, monkeypatch):
    # answered 503, its retry got a 404 for the workflow it had deleted (a cloud-faults tester's find)
    loyalty = Loyalty(tenant.keys)
    assert loyalty.workflow("gone", workflow_settings()).status == 200

    with AnswerLost(monkeypatch, "PutItem") as fault:
        answer = loyalty.request("DELETE", "/v1/loyalty/workflows/gone")

    assert fault.lost == 1
    assert answer.status == 204, answer
    assert loyalty.workflow("gone").status == 404
    # a workflow that was never there is still not found
    assert loyalty.request("DELETE", "/v1/loyalty/workflows/never").status == 404


def test_a_workflow_deleted_whose_retry_was_refused_on_its_version_is_answered_as_deleted(
    tenant, clock, monkeypatch
):
    # botocore's retry of the write whose answer was lost: refused, the version it had moved; the
    # workflow read again is gone, and this delete made it so
    loyalty = Loyalty(tenant.keys)
    assert loyalty.workflow("gone", workflow_settings()).status == 200

    with AnswerLost(monkeypatch, "PutItem", refused="ConditionalCheckFailedException") as fault:
        answer = loyalty.request("DELETE", "/v1/loyalty/workflows/gone")

    assert fault.lost == 1
    assert answer.status == 204, answer
    assert loyalty.workflow("gone").status == 404


@pytest.mark.parametrize("refused", [None, "ConditionalCheckFailedException"], ids=["lost", "retry-refused"])
def test_a_workflow_saved_over_what_was_read_whose_answer_was_lost_is_answered_as_saved(
    tenant, clock, monkeypatch, refused
):
    # answered 503, its retry, replacing the `updated_at` read before, was refused as changed since:
    # by itself
    loyalty = Loyalty(tenant.keys)
    read = loyalty.workflow("w", workflow_settings(threshold=100)).body["updated_at"]
    clock.advance(seconds=1)
    raised = {**workflow_settings(threshold=500), "replaces": read}

    with AnswerLost(monkeypatch, "PutItem", refused=refused) as fault:
        answer = loyalty.workflow("w", raised)

    assert fault.lost == 1
    assert answer.status == 200, answer
    stored = loyalty.workflow("w").body
    assert stored["filter"]["threshold"] == 500 and stored["updated_at"] == answer.body["updated_at"] != read


def test_a_campaign_changed_whose_answer_was_lost_is_answered_as_changed(tenant, clock, monkeypatch):
    loyalty = Loyalty(tenant.keys)
    caps = {"total_cap": 1000, "per_customer_cap": 100, "limit_behavior": "hard"}
    read = loyalty.campaign("c", caps).body["updated_at"]
    clock.advance(seconds=1)

    with AnswerLost(monkeypatch, "TransactWriteItems") as fault:
        answer = loyalty.campaign("c", {**caps, "total_cap": 2000, "replaces": read})

    assert fault.lost == 1
    assert answer.status == 200, answer
    stored = loyalty.campaign("c").body
    assert stored["total_cap"] == 2000 and stored["updated_at"] == answer.body["updated_at"] != read


# --- an API key -------------------------------------------------------------------------------
def test_a_key_whose_answer_was_lost_is_answered_with_the_key_made(env, monkeypatch):
    # answered 503, it left a live admin key listed that no one was shown (a cloud-faults tester's find)
    admin = env.tenant.keys["admin"]
    before = {k["key_id"] for k in api("keys", "GET", "/v1/keys", admin).body["items"]}

    with AnswerLost(monkeypatch, "PutItem") as fault:
        answer = api("keys", "POST", "/v1/keys", admin, {"role": "admin", "actor": "New admin"})

    assert fault.lost == 1
    assert answer.status == 201, answer
    after = {k["key_id"] for k in api("keys", "GET", "/v1/keys", admin).body["items"]}
    assert after - before == {answer.body["key_id"]}  # the one made, shown
    assert api("cases", "GET", "/v1/me", answer.body["key"]).status == 200  # and it signs in


def test_a_key_whose_retry_was_refused_as_existing_is_answered_with_the_key_made(env, monkeypatch):
    # botocore's retry of the write whose answer was lost: refused, the key it names being there
    admin = env.tenant.keys["admin"]

    with AnswerLost(monkeypatch, "PutItem", refused="ConditionalCheckFailedException") as fault:
        answer = api("keys", "POST", "/v1/keys", admin, {"role": "viewer", "actor": "Retried"})

    assert fault.lost == 1
    assert answer.status == 201, answer
    assert api("cases", "GET", "/v1/me", answer.body["key"]).status == 200


def test_a_key_whose_answer_and_read_back_are_lost_is_503(env, monkeypatch):
    admin = env.tenant.keys["admin"]

    with AnswerLost(monkeypatch, "PutItem", reads=1) as fault:
        answer = api("keys", "POST", "/v1/keys", admin, {"role": "viewer", "actor": "Unknown"})

    assert fault.lost == 1 and fault.reads == 0
    assert answer.status == 503, answer


# --- a webhook --------------------------------------------------------------------------------
def test_a_webhook_made_whose_answer_was_lost_is_answered_with_its_secret(aws, hooks, tenant, monkeypatch):
    # answered 503, its retry was an update, which shows no secret: no receiver could check a delivery
    admin, body = tenant.keys["admin"], {"url": PUBLIC_URL, "events": ["PartnerFlagged"]}

    with AnswerLost(monkeypatch, "TransactWriteItems") as fault:
        answer = webhooks(admin, "PUT", "/v1/webhooks/wh-lost", body)

    assert fault.lost == 1
    assert answer.status == 200, answer
    secret = answer.body["secret"]
    assert secret.startswith("whsec_"), answer.body
    # stored as made, its secret shown in that answer alone
    shown = webhooks(admin, "GET", "/v1/webhooks/wh-lost")
    assert shown.status == 200 and shown.body["url"] == PUBLIC_URL and shown.body.get("secret") is None
    again = webhooks(admin, "PUT", "/v1/webhooks/wh-lost", body)  # asked again: an update, as SPEC 6 says
    assert again.status == 200 and again.body.get("secret") is None


@pytest.mark.parametrize("refused", [None, "ConditionalCheckFailedException"], ids=["lost", "retry-refused"])
def test_a_webhook_deleted_whose_answer_was_lost_is_answered_as_deleted(
    aws, hooks, tenant, monkeypatch, refused
):
    # a faults tester's: answered 503 and its retry 404, or (botocore's retry refused by the delete's
    # condition) 404 at once, for the webhook it had deleted
    admin = tenant.keys["admin"]
    made = webhooks(admin, "PUT", "/v1/webhooks/wh-gone", {"url": PUBLIC_URL, "events": ["PartnerFlagged"]})
    assert made.status == 200, made

    with AnswerLost(monkeypatch, "DeleteItem", refused=refused) as fault:
        answer = webhooks(admin, "DELETE", "/v1/webhooks/wh-gone")

    assert fault.lost == 1
    assert answer.status == 204, answer
    assert webhooks(admin, "GET", "/v1/webhooks/wh-gone").status == 404
    assert webhooks(admin, "DELETE", "/v1/webhooks/never").status == 404  # never there: not found
