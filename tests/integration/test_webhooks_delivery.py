"""Webhook deliveries (SPEC 6) through the real pieces on moto: a notification published to the
bus reaches the webhooks queue by its rule, the deliver handler makes one delivery per
(webhook, notification), signs it with every valid secret and posts it to a real HTTP receiver on
127.0.0.1; retries wait on the queue (seconds here), a 410 disables the webhook, the horizon fails
the delivery, and the URL is checked again when sent."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import boto3
import pytest

from functions.shared.changes import publish
from functions.shared.domain.model import Notification
from functions.shared.errors import StorageUnavailable
from functions.shared.messaging import EventBridgePublisher
from functions.shared.storage.dynamodb_webhooks import DynamoWebhooks
from functions.webhooks import wiring
from local_system.webhooks import poll_webhooks_once, provision_webhooks
from tests.conftest import Aws, Tenant
from tests.integration.test_webhooks_api import api
from tests.integration.webhook_support import Receiver, receiving, signatures, verifies


@pytest.fixture
def hooks(
    aws: Aws, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[dict[str, str]]:
    retry = getattr(request, "param", (1, 1, 60))
    env = provision_webhooks(
        lambda name: boto3.client(name, region_name="us-east-1"),
        aws.resources.event_bus_name,
        retry_seconds=retry,
    )
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    wiring.forget_webhook_deps()
    yield env
    wiring.forget_webhook_deps()


@pytest.fixture
def receiver(request: pytest.FixtureRequest) -> Iterator[Receiver]:
    yield from receiving(getattr(request, "param", [200]))


def subscribe(
    tenant: Tenant, receiver: Receiver, webhook_id: str = "wh-1", events: list[str] | None = None
) -> str:
    answer = api(
        tenant.keys["admin"],
        "PUT",
        f"/v1/webhooks/{webhook_id}",
        {"url": receiver.url, "events": events or ["PartnerFlagged"]},
    )
    assert answer.status == 200, answer
    return answer.body["secret"]


def notify(aws: Aws, program_id: str, name: str = "PartnerFlagged", notification_id: str = "n-1") -> None:
    """What `changes.deliver` publishes: the detail with the notification's stable id."""
    publisher = EventBridgePublisher(
        boto3.client("events", region_name="us-east-1"), aws.resources.event_bus_name
    )
    publisher.publish(
        name,
        {
            "program_id": program_id,
            "case_id": "case_1",
            "subject": {"type": "partner", "id": "p_1"},
            "notification_id": notification_id,
        },
    )


def pump(hooks: dict[str, str], until: Callable[[], bool], seconds: float = 15) -> None:
    """Runs the webhooks queue's event source until `until()` holds (delayed tries wait in SQS)."""
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = hooks["WEBHOOKS_QUEUE_URL"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    deadline = time.monotonic() + seconds
    while not until():
        assert time.monotonic() < deadline, "the deliveries did not happen in time"
        poll_webhooks_once(sqs, url, arn, wait_seconds=0)
        time.sleep(0.05)


def deliveries(tenant: Tenant, webhook_id: str = "wh-1") -> list[dict[str, Any]]:
    answer = api(tenant.keys["admin"], "GET", f"/v1/webhooks/{webhook_id}/deliveries")
    assert answer.status == 200, answer
    return answer.body["items"]


def settled(tenant: Tenant, webhook_id: str = "wh-1") -> Callable[[], bool]:
    return lambda: (
        bool(deliveries(tenant, webhook_id))
        and all(d["status"] != "pending" for d in deliveries(tenant, webhook_id))
    )


def test_a_notification_is_posted_signed_with_the_webhooks_secret(
    aws: Aws, hooks: dict[str, str], tenant: Tenant, receiver: Receiver
):
    secret = subscribe(tenant, receiver)
    notify(aws, tenant.program_id)
    pump(hooks, lambda: len(receiver.got) == 1)

    got = receiver.got[0]
    body = json.loads(got.body)
    assert set(body) == {"id", "notification_id", "type", "created_at", "program_id", "data"}
    assert (body["type"], body["program_id"]) == ("PartnerFlagged", tenant.program_id)
    assert body["notification_id"] == "n-1"  # what happened, the same to every webhook it reaches
    assert body["data"]["case_id"] == "case_1" and "notification_id" not in body["data"]
    assert got.headers["content-type"] == "application/json"
    assert got.headers["x-webhook-delivery"] == body["id"]
    # the receiver verifies the signature over the raw body with the secret it was shown
    assert verifies(secret, got.headers["x-signature"], got.body)
    t, values = signatures(got.headers["x-signature"])
    assert len(values) == 1 and abs(t - time.time()) < 60
    assert not verifies("whsec_wrong", got.headers["x-signature"], got.body)
    pump(hooks, settled(tenant))
    [delivery] = deliveries(tenant)
    assert (delivery["id"], delivery["status"], delivery["notification_id"]) == (
        body["id"],
        "delivered",
        "n-1",
    )
    assert [(a["number"], a["answer_code"], a["outcome"]) for a in delivery["attempts"]] == [
        (1, 200, "delivered")
    ]


def test_one_delivery_per_webhook_and_notification_however_often_it_arrives(
    aws: Aws, hooks: dict[str, str], tenant: Tenant, receiver: Receiver
):
    subscribe(tenant, receiver)
    subscribe(tenant, receiver, "wh-2", ["PartnerFlagged", "RewardsHeld"])
    subscribe(tenant, receiver, "wh-other", ["DisputeOpened"])  # not subscribed to it
    notify(aws, tenant.program_id)
    notify(aws, tenant.program_id)  # the relay publishing it again
    pump(hooks, lambda: len(receiver.got) >= 2 and settled(tenant)() and settled(tenant, "wh-2")())
    time.sleep(1.2)
    pump(hooks, lambda: True)
    assert len(receiver.got) == 2
    assert len(deliveries(tenant)) == 1 and len(deliveries(tenant, "wh-2")) == 1
    assert deliveries(tenant, "wh-other") == []
    assert len({json.loads(g.body)["id"] for g in receiver.got}) == 2  # one id per webhook
    # and one notification id in both: a receiver moving from one webhook to another deduplicates
    assert {json.loads(g.body)["notification_id"] for g in receiver.got} == {"n-1"}


@pytest.mark.parametrize("receiver", [[500, 500, 200]], indirect=True)
def test_a_receiver_failing_twice_gets_three_tries_with_one_delivery_id(
    aws: Aws, hooks: dict[str, str], tenant: Tenant, receiver: Receiver
):
    secret = subscribe(tenant, receiver)
    notify(aws, tenant.program_id)
    pump(hooks, lambda: len(receiver.got) == 3 and settled(tenant)(), seconds=20)

    ids = {json.loads(g.body)["id"] for g in receiver.got}
    assert len(ids) == 1
    assert all(verifies(secret, g.headers["x-signature"], g.body) for g in receiver.got)
    assert len({g.body for g in receiver.got}) == 1  # the same body every time
    [delivery] = deliveries(tenant)
    assert delivery["status"] == "delivered"
    assert [(a["answer_code"], a["outcome"]) for a in delivery["attempts"]] == [
        (500, "retry"),
        (500, "retry"),
        (200, "delivered"),
    ]
    # the tries waited (backoff), no Lambda slept: each try after the one before
    times = [datetime.fromisoformat(a["at"]) for a in delivery["attempts"]]
    assert times[1] - times[0] >= timedelta(seconds=0.4) and times[2] - times[1] >= timedelta(seconds=0.4)


@pytest.mark.parametrize("receiver", [[410]], indirect=True)
def test_a_receiver_answering_410_disables_the_webhook(
    aws: Aws, hooks: dict[str, str], tenant: Tenant, receiver: Receiver
):
    subscribe(tenant, receiver)
    notify(aws, tenant.program_id)
    pump(hooks, settled(tenant))
    [delivery] = deliveries(tenant)
    assert delivery["status"] == "failed" and delivery["attempts"][-1]["outcome"] == "gone"
    webhook = api(tenant.keys["admin"], "GET", "/v1/webhooks/wh-1").body
    assert webhook["enabled"] is False and "410" in webhook["disabled_reason"]
    # sent again by hand: refused, saying why (it answered 202 and a disabled webhook sent nothing)
    again = api(tenant.keys["admin"], "POST", f"/v1/webhooks/wh-1/deliveries/{delivery['id']}/retry")
    assert again.status == 409 and "disabled" in again.body["detail"] and "410" in again.body["detail"], again
    assert deliveries(tenant)[0]["status"] == "failed" and len(receiver.got) == 1
    # a later notification is not delivered to a disabled webhook
    notify(aws, tenant.program_id, notification_id="n-2")
    time.sleep(0.3)
    pump(hooks, lambda: True)
    assert len(receiver.got) == 1 and len(deliveries(tenant)) == 1


@pytest.mark.parametrize("hooks", [(1, 1, 2.5)], indirect=True)
@pytest.mark.parametrize("receiver", [[503]], indirect=True)
def test_retries_stop_at_the_horizon_and_the_delivery_fails(
    aws: Aws, hooks: dict[str, str], tenant: Tenant, receiver: Receiver
):
    subscribe(tenant, receiver)
    notify(aws, tenant.program_id)
    pump(hooks, settled(tenant), seconds=20)
    [delivery] = deliveries(tenant)
    assert delivery["status"] == "failed"
    assert delivery["attempts"][-1]["outcome"] == "failed"
    assert 2 <= len(delivery["attempts"]) <= 4
    assert len(receiver.got) == len(delivery["attempts"])


def test_a_rotation_signs_with_both_secrets_for_24_hours(
    aws: Aws, hooks: dict[str, str], tenant: Tenant, receiver: Receiver
):
    old = subscribe(tenant, receiver)
    new = api(tenant.keys["admin"], "POST", "/v1/webhooks/wh-1/rotate-secret").body["secret"]
    notify(aws, tenant.program_id)
    pump(hooks, lambda: len(receiver.got) == 1)
    header = receiver.got[0].headers["x-signature"]
    assert len(signatures(header)[1]) == 2
    assert verifies(old, header, receiver.got[0].body) and verifies(new, header, receiver.got[0].body)


def test_the_url_is_checked_again_when_sent(
    aws: Aws, hooks: dict[str, str], tenant: Tenant, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
):
    # Given a webhook whose host resolved to a public address when it was saved
    deps = wiring.webhook_deps()
    answers = {"hooks.example.test": ["93.184.215.14"]}
    monkeypatch.setattr(deps, "resolve", lambda host, port: answers[host])
    saved = api(
        tenant.keys["admin"],
        "PUT",
        "/v1/webhooks/wh-1",
        {"url": "https://hooks.example.test/in", "events": ["PartnerFlagged"]},
    )
    assert saved.status == 200, saved
    # When its DNS answer changes to the metadata service's address before the delivery
    answers["hooks.example.test"] = ["93.184.215.14", "169.254.169.254"]
    sent: list[Any] = []
    monkeypatch.setattr(deps.sender, "post", lambda *a: sent.append(a))
    notify(aws, tenant.program_id)
    pump(hooks, lambda: bool(deliveries(tenant)) and deliveries(tenant)[0]["attempts"] != [])
    # Then nothing is sent, and the try counts as unanswered (retried later)
    assert sent == []
    [delivery] = deliveries(tenant)
    assert delivery["attempts"][0]["answer_code"] is None and delivery["attempts"][0]["outcome"] == "retry"


def test_another_programs_notification_never_reaches_this_programs_webhook(
    aws: Aws, hooks: dict[str, str], tenant: Tenant, other_tenant: Tenant, receiver: Receiver
):
    subscribe(tenant, receiver)
    notify(aws, other_tenant.program_id)
    time.sleep(0.2)
    pump(hooks, lambda: True)
    poll_until = time.monotonic() + 1
    while time.monotonic() < poll_until:
        pump(hooks, lambda: True)
    assert receiver.got == [] and deliveries(tenant) == []


def test_a_delivery_is_sent_again_by_hand_with_the_same_id(
    aws: Aws, hooks: dict[str, str], tenant: Tenant, receiver: Receiver, other_tenant: Tenant
):
    subscribe(tenant, receiver)
    notify(aws, tenant.program_id)
    pump(hooks, settled(tenant))
    [delivery] = deliveries(tenant)
    assert (
        api(other_tenant.keys["admin"], "POST", f"/v1/webhooks/wh-1/deliveries/{delivery['id']}/retry").status
        == 404
    )
    again = api(tenant.keys["admin"], "POST", f"/v1/webhooks/wh-1/deliveries/{delivery['id']}/retry")
    assert again.status == 202, again
    assert again.body["status"] == "pending"
    pump(hooks, lambda: len(receiver.got) == 2 and settled(tenant)())
    assert json.loads(receiver.got[0].body)["id"] == json.loads(receiver.got[1].body)["id"] == delivery["id"]
    [after] = deliveries(tenant)
    assert [a["outcome"] for a in after["attempts"]] == ["delivered", "delivered"]
    assert api(tenant.keys["admin"], "POST", "/v1/webhooks/wh-1/deliveries/dlv_nope/retry").status == 404


@pytest.mark.parametrize("hooks", [(2, 2, 60)], indirect=True)
@pytest.mark.parametrize("receiver", [[500]], indirect=True)
def test_a_deleted_webhooks_retries_never_reach_the_webhook_made_again_under_its_id(
    aws: Aws, hooks: dict[str, str], tenant: Tenant, receiver: Receiver
):
    # Given a delivery waiting for its next try (its receiver answered 500)
    tried_once(aws, hooks, tenant, receiver)
    old = deliveries(tenant)[0]["id"]
    # When the webhook is deleted and another made under the same id, with another receiver
    assert api(tenant.keys["admin"], "DELETE", "/v1/webhooks/wh-1").status == 204
    newcomer = Receiver([200]).start()
    try:
        subscribe(tenant, newcomer)
        store = wiring.webhook_deps().store
        ended = lambda: store.get_delivery(tenant.program_id, "wh-1", old).status != "pending"  # noqa: E731
        pump(hooks, ended, seconds=20)
    finally:
        newcomer.stop()

    # Then the old delivery ends unsent: the new receiver never gets what it did not subscribe to
    assert newcomer.got == [] and len(receiver.got) == 1
    assert store.get_delivery(tenant.program_id, "wh-1", old).status == "failed"
    refused = api(tenant.keys["admin"], "POST", f"/v1/webhooks/wh-1/deliveries/{old}/retry")
    assert refused.status == 404, refused


def test_times_in_a_notification_reach_the_receiver_in_rfc_3339(
    aws: Aws, hooks: dict[str, str], tenant: Tenant, receiver: Receiver
):
    # `str` wrote `2026-12-03 20:09:06.752746+00:00`, which strict RFC 3339 parsers (Go's) refuse
    subscribe(tenant, receiver, events=["CustomerSuspended"])
    publisher = EventBridgePublisher(
        boto3.client("events", region_name="us-east-1"), aws.resources.event_bus_name
    )
    at = datetime(2026, 12, 3, 21, 9, 6, 752746, tzinfo=timezone(timedelta(hours=1)))
    publisher.publish(
        "CustomerSuspended",
        {"program_id": tenant.program_id, "customer_id": "m1", "at": at, "notification_id": "n-time"},
    )
    pump(hooks, lambda: len(receiver.got) == 1)

    body = json.loads(receiver.got[0].body)
    assert body["data"]["at"] == "2026-12-03T20:09:06.752746Z"
    assert body["created_at"].endswith("Z") and "T" in body["created_at"]


def test_a_send_by_hand_the_queue_refused_changes_nothing(
    aws: Aws, hooks: dict[str, str], tenant: Tenant, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
):
    """The webhooks queue refusing the try a send by hand schedules: 503, and the delivery is as it
    was (it said `pending` for ever, with no try on its way); sent again, it goes."""
    import botocore.client
    from botocore.exceptions import ClientError

    subscribe(tenant, receiver)
    notify(aws, tenant.program_id)
    pump(hooks, settled(tenant))
    [delivery] = deliveries(tenant)
    real = botocore.client.BaseClient._make_api_call

    def queue_down(client: Any, operation: str, params: dict[str, Any]) -> Any:
        if client.meta.service_model.service_name == "sqs" and operation == "SendMessage":
            raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "injected"}}, operation)
        return real(client, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", queue_down)
    refused = api(tenant.keys["admin"], "POST", f"/v1/webhooks/wh-1/deliveries/{delivery['id']}/retry")
    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", real)

    assert refused.status == 503, refused
    assert deliveries(tenant) == [delivery]  # as it was: delivered, one attempt
    again = api(tenant.keys["admin"], "POST", f"/v1/webhooks/wh-1/deliveries/{delivery['id']}/retry")
    assert again.status == 202, again
    pump(hooks, lambda: len(receiver.got) == 2 and settled(tenant)())
    assert [a["outcome"] for a in deliveries(tenant)[0]["attempts"]] == ["delivered", "delivered"]


def tried_once(aws: Aws, hooks: dict[str, str], tenant: Tenant, receiver: Receiver) -> None:
    """A webhook subscribed to PartnerFlagged, and a notification's delivery tried once: refused
    (the receiver's first answer), its next try waiting."""
    subscribe(tenant, receiver)
    notify(aws, tenant.program_id)
    pump(hooks, lambda: len(receiver.got) == 1)


def put_webhook(tenant: Tenant, receiver: Receiver, events: list[str], enabled: bool = True) -> None:
    body = {"url": receiver.url, "events": events, "enabled": enabled}
    answer = api(tenant.keys["admin"], "PUT", "/v1/webhooks/wh-1", body)
    assert answer.status == 200, answer


@pytest.mark.parametrize("receiver", [[500]], indirect=True)
def test_a_notification_unsubscribed_from_while_pending_is_not_sent_again_and_says_why(
    aws: Aws, hooks: dict[str, str], tenant: Tenant, receiver: Receiver
):
    """A receiver tester's find: a team that unsubscribed from a notification kept getting the ones
    pending (for up to 24 hours deployed), as a new URL or secret already applies to them."""
    tried_once(aws, hooks, tenant, receiver)
    put_webhook(tenant, receiver, ["RewardsHeld"])
    assert deliveries(tenant)[0]["held_back_because"] == "no_longer_subscribed"  # failed at its next try
    receiver.answers = [200]
    pump(hooks, settled(tenant))
    [delivery] = deliveries(tenant)
    assert delivery["status"] == "failed" and delivery["next_attempt_at"] is None
    assert delivery["held_back_because"] is None  # settled
    assert delivery["stopped_because"] == "the webhook no longer subscribes to PartnerFlagged"
    assert [a["outcome"] for a in delivery["attempts"]] == ["retry"]  # its one try, nothing since
    time.sleep(1.2)
    pump(hooks, lambda: True)
    assert len(receiver.got) == 1
    # sent by hand: refused, saying what to do (it would go to a webhook that does not want it)
    again = api(tenant.keys["admin"], "POST", f"/v1/webhooks/wh-1/deliveries/{delivery['id']}/retry")
    assert again.status == 409 and "subscribe it" in again.body["detail"], again
    assert len(receiver.got) == 1


@pytest.mark.parametrize("receiver", [[500, 200]], indirect=True)
def test_a_disabled_webhooks_pending_delivery_waits_untried_and_goes_once_enabled_again(
    aws: Aws, hooks: dict[str, str], tenant: Tenant, receiver: Receiver
):
    """A receiver tester's find: disabled for a second, a webhook failed every pending delivery for
    good, saying nothing of why. Disabled is now paused: nothing is tried while it is, and what was
    pending goes once it is enabled again, within its horizon, under its own id."""
    tried_once(aws, hooks, tenant, receiver)
    put_webhook(tenant, receiver, ["PartnerFlagged"], enabled=False)
    waited = time.monotonic() + 2.5  # more than two of its waits (1 s here)
    pump(hooks, lambda: time.monotonic() > waited)
    assert len(receiver.got) == 1
    [waiting] = deliveries(tenant)
    assert waiting["status"] == "pending" and waiting["stopped_because"] is None
    assert waiting["held_back_because"] == "webhook_disabled"  # its next_attempt_at is past: why
    assert len(waiting["attempts"]) == 1  # a wait is no try
    put_webhook(tenant, receiver, ["PartnerFlagged"], enabled=True)
    assert deliveries(tenant)[0]["held_back_because"] is None  # enabled: nothing holds it back
    pump(hooks, settled(tenant))
    [delivery] = deliveries(tenant)
    assert delivery["status"] == "delivered" and delivery["held_back_because"] is None
    assert [a["outcome"] for a in delivery["attempts"]] == ["retry", "delivered"]
    assert len({json.loads(g.body)["id"] for g in receiver.got}) == 1 and len(receiver.got) == 2


@pytest.mark.parametrize("hooks", [(1, 1, 2.5)], indirect=True)
@pytest.mark.parametrize("receiver", [[500]], indirect=True)
def test_a_delivery_whose_retries_end_while_its_webhook_is_disabled_fails_saying_so(
    aws: Aws, hooks: dict[str, str], tenant: Tenant, receiver: Receiver
):
    tried_once(aws, hooks, tenant, receiver)
    put_webhook(tenant, receiver, ["PartnerFlagged"], enabled=False)
    pump(hooks, settled(tenant), seconds=20)
    [delivery] = deliveries(tenant)
    assert delivery["status"] == "failed" and len(receiver.got) == 1
    assert delivery["stopped_because"] == "the webhook was disabled until this delivery's retries ended"
    # enabled again, it is sent by hand, and says no more why it stopped
    put_webhook(tenant, receiver, ["PartnerFlagged"], enabled=True)
    receiver.answers = [200]
    again = api(tenant.keys["admin"], "POST", f"/v1/webhooks/wh-1/deliveries/{delivery['id']}/retry")
    assert again.status == 202 and again.body["stopped_because"] is None, again
    pump(hooks, lambda: len(receiver.got) == 2 and settled(tenant)())
    assert deliveries(tenant)[0]["status"] == "delivered"


@pytest.mark.parametrize("receiver", [[500]], indirect=True)
def test_a_delivery_unsubscribed_from_and_disabled_at_once_stops_as_unsubscribed(
    aws: Aws, hooks: dict[str, str], tenant: Tenant, receiver: Receiver
):
    """A tester's find: it waited out its horizon as paused, then failed saying "disabled", and
    enabled again it was still refused as unsubscribed from. Paused, it would never be sent."""
    tried_once(aws, hooks, tenant, receiver)
    put_webhook(tenant, receiver, ["RewardsHeld"], enabled=False)
    pump(hooks, settled(tenant))
    [delivery] = deliveries(tenant)
    assert delivery["stopped_because"] == "the webhook no longer subscribes to PartnerFlagged"
    assert len(receiver.got) == 1


def test_a_delivery_says_when_its_notification_was_made_not_when_it_was_sent(
    aws: Aws, hooks: dict[str, str], tenant: Tenant, receiver: Receiver
):
    # a webhooks tester's: after a bus outage the relay sent a customer's block half a minute (up
    # to hours, deployed) after it was made, and `created_at` said when the fan-out ran; two
    # webhooks of one notification said two times. `changes.publish` now sends the notification's
    # own time, and the body's `created_at` is it, in every webhook's delivery
    subscribe(tenant, receiver, "wh-1")
    subscribe(tenant, receiver, "wh-2")
    made = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
    detail = {
        "program_id": tenant.program_id,
        "case_id": "case_1",
        "subject": {"type": "partner", "id": "p_1"},
    }
    publisher = EventBridgePublisher(
        boto3.client("events", region_name="us-east-1"), aws.resources.event_bus_name
    )
    publish(publisher, [Notification("n-made", tenant.program_id, "PartnerFlagged", detail, made)])
    pump(hooks, lambda: len(receiver.got) == 2)

    bodies = [json.loads(got.body) for got in receiver.got]
    assert [b["created_at"] for b in bodies] == ["2026-11-20T09:30:00Z"] * 2
    assert all("created_at" not in b["data"] for b in bodies)


def _lost_after_commit(monkeypatch: pytest.MonkeyPatch, store_type: type, name: str) -> None:
    """`store_type.name` commits, then its answer is lost (a timeout after the commit), once."""
    real = getattr(store_type, name)
    lost: list[bool] = []

    def commits_then_times_out(store: Any, *args: Any, **kwargs: Any) -> Any:
        real(store, *args, **kwargs)
        if not lost:
            lost.append(True)
            raise StorageUnavailable("the answer was lost (test)")

    monkeypatch.setattr(store_type, name, commits_then_times_out)


def test_a_retry_by_hand_whose_answer_was_lost_after_the_commit_is_still_sent(
    aws: Aws, hooks: dict[str, str], tenant: Tenant, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
):
    # a webhooks tester's: the delivery was saved `pending`, the answer a 503, and no try was ever
    # scheduled: it said pending, its next try in the past, until someone retried again
    subscribe(tenant, receiver)
    notify(aws, tenant.program_id)
    pump(hooks, settled(tenant))
    [delivery] = deliveries(tenant)
    _lost_after_commit(monkeypatch, DynamoWebhooks, "save_delivery")
    again = api(tenant.keys["admin"], "POST", f"/v1/webhooks/wh-1/deliveries/{delivery['id']}/retry")
    assert again.status == 202, again
    pump(hooks, lambda: len(receiver.got) == 2 and settled(tenant)())
    assert [a["outcome"] for a in deliveries(tenant)[0]["attempts"]] == ["delivered", "delivered"]


def test_a_rotation_or_a_change_whose_answer_was_lost_after_the_commit_is_answered_as_made(
    aws: Aws, hooks: dict[str, str], tenant: Tenant, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
):
    # a webhooks tester's: both answered 503 having been made; the rotation's retry rotated again (a
    # secret no one saw signing for 24 hours), the change's retry was a 409 naming its own change
    subscribe(tenant, receiver)
    _lost_after_commit(monkeypatch, DynamoWebhooks, "replace_webhook")
    rotated = api(tenant.keys["admin"], "POST", "/v1/webhooks/wh-1/rotate-secret")
    assert rotated.status == 200, rotated
    notify(aws, tenant.program_id)
    pump(hooks, lambda: len(receiver.got) == 1)
    _, values = signatures(receiver.got[0].headers["x-signature"])
    assert len(values) == 2  # the new secret and the one before it: no third
    assert verifies(rotated.body["secret"], receiver.got[0].headers["x-signature"], receiver.got[0].body)

    read = api(tenant.keys["admin"], "GET", "/v1/webhooks/wh-1").body
    _lost_after_commit(monkeypatch, DynamoWebhooks, "replace_webhook")
    change = {
        "url": receiver.url,
        "events": ["PartnerFlagged", "RewardsHeld"],
        "replaces": read["updated_at"],
    }
    assert api(tenant.keys["admin"], "PUT", "/v1/webhooks/wh-1", change).status == 200
    again = api(tenant.keys["admin"], "PUT", "/v1/webhooks/wh-1", change)  # the client's retry
    assert again.status == 200 and again.body["events"] == change["events"], again
    other = {**change, "events": ["RewardsHeld"]}
    assert api(tenant.keys["admin"], "PUT", "/v1/webhooks/wh-1", other).status == 409  # a stale read still is


@pytest.mark.parametrize("receiver", [[500, 200]], indirect=True)
def test_a_try_whose_next_the_queue_refused_goes_on_once_its_dead_letter_is_redriven(
    aws: Aws, hooks: dict[str, str], tenant: Tenant, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
):
    """A cloud-faults tester's: the webhooks queue refused the next try's message through all five
    receives of the try that recorded a 500, whose message went to the dead-letter queue. Redriven,
    SQS counts its receives from 1 again, and it was taken for a second copy of the try: nothing
    scheduled, the delivery `pending` for ever. Once the next try is overdue, it is scheduled."""
    from dataclasses import replace

    from functions.shared.clock import FixedClock
    from functions.webhooks import delivery as deliver
    from functions.webhooks.outside import try_message

    subscribe(tenant, receiver)
    deps = wiring.webhook_deps()
    bus_event = {
        "id": "bus-1",
        "detail-type": "PartnerFlagged",
        "detail": {"program_id": tenant.program_id, "notification_id": "n-1", "case_id": "case_1"},
    }
    [made] = deliver.fan_out(deps, bus_event)
    sqs = boto3.client("sqs", region_name="us-east-1")
    sqs.purge_queue(QueueUrl=hooks["WEBHOOKS_QUEUE_URL"])  # the first try's message: taken by hand below
    first_try = json.dumps(try_message(tenant.program_id, made.webhook_id, made.delivery_id, 0))

    def queue_down(message: Any, delay: float) -> None:
        raise StorageUnavailable("the webhooks queue did not answer")

    real_schedule = deps.queue.schedule
    monkeypatch.setattr(deps.queue, "schedule", queue_down)
    for receive_count in range(1, 6):  # every receive of the try's message, then its dead letter
        with pytest.raises(StorageUnavailable):
            deliver.take_message(deps, first_try, receive_count)
    monkeypatch.setattr(deps.queue, "schedule", real_schedule)
    [stuck] = deliveries(tenant)
    assert (stuck["status"], len(receiver.got)) == ("pending", 1), stuck

    def waiting() -> int:
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed"]
        found = sqs.get_queue_attributes(QueueUrl=hooks["WEBHOOKS_QUEUE_URL"], AttributeNames=names)
        return sum(int(found["Attributes"][name]) for name in names)

    deliver.take_message(deps, first_try, 1)  # redriven at once: a copy's next try may be on its way
    assert waiting() == 0
    later = replace(deps, clock=FixedClock(deps.clock.now() + timedelta(hours=1)))
    deliver.take_message(later, first_try, 1)  # redriven once its next try is overdue
    assert waiting() == 1
    pump(hooks, settled(tenant))
    assert [a["outcome"] for a in deliveries(tenant)[0]["attempts"]] == ["retry", "delivered"]
    assert len(receiver.got) == 2
