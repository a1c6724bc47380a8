"""The delivery steps on the in-memory store, with a clock that is set and a sender that records:
a second copy of a message sends nothing, a try recorded but not followed by its next schedule is
finished by the message's redelivery, a wait longer than SQS can delay takes another hop."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from functions.shared.clock import FixedClock
from functions.shared.domain.webhooks import RetrySchedule, Secrets, Target, Webhook
from functions.shared.errors import StorageUnavailable
from functions.shared.storage.memory_webhooks import InMemoryWebhooks
from functions.shared.storage.port_webhooks import WebhooksPort
from functions.webhooks.delivery import fan_out, run_try
from functions.webhooks.outside import Answer, SqsTryQueue
from functions.webhooks.wiring import WebhookDeps

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


class Queue:
    def __init__(self) -> None:
        self.scheduled: list[tuple[dict[str, Any], float]] = []
        self.fail_next = False

    def schedule(self, message: dict[str, Any], delay_seconds: float) -> None:
        if self.fail_next:
            self.fail_next = False
            raise StorageUnavailable("queue down (test)")
        self.scheduled.append((message, delay_seconds))


class Sender:
    def __init__(self, *codes: int | None) -> None:
        self.codes = list(codes)
        self.sent: list[tuple[Target, bytes, dict[str, str]]] = []

    def post(self, target: Target, body: bytes, headers: dict[str, str], within: float) -> Answer:
        self.sent.append((target, body, headers))
        return Answer(self.codes.pop(0) if len(self.codes) > 1 else self.codes[0])


@pytest.fixture
def deps() -> WebhookDeps:
    store = InMemoryWebhooks()
    hook = Webhook(
        "p", "wh", "https://hooks.example.com/in", ("PartnerFlagged",), True, T0, T0, Secrets.clear("whsec_x")
    )
    store.create_webhook(store.program_webhooks("p").create(hook))
    return WebhookDeps(
        store=store,
        queue=Queue(),
        clock=FixedClock(T0),
        schedule=RetrySchedule(30, 3 * 3600, 24 * 3600),
        resolve=lambda host, port: ["93.184.215.14"],
        sender=Sender(500, 200),
    )


def notification(name: str = "PartnerFlagged") -> dict[str, Any]:
    return {"id": "bus-1", "detail-type": name, "detail": {"program_id": "p", "notification_id": "n-1"}}


def test_the_first_try_is_scheduled_once_however_often_the_notification_arrives(deps: WebhookDeps):
    fan_out(deps, notification())
    fan_out(deps, notification())  # the relay published it again
    assert len(deps.store.list_deliveries("p", "wh", 10)) == 1
    # a copy finding the delivery untried schedules its first try again; the tries check keeps one
    first, again = deps.queue.scheduled  # type: ignore[attr-defined]
    assert first == again and first[0]["tries"] == 0
    run_try(deps, first[0])
    run_try(deps, again[0])
    assert len(deps.sender.sent) == 1  # type: ignore[attr-defined]
    # and the copy does not schedule the next try a second time: one message per try from here
    # (each try after would otherwise travel twice, for the delivery's 24 hours)
    assert [m["tries"] for m, _ in deps.queue.scheduled[2:]] == [1]  # type: ignore[attr-defined]


def test_not_subscribed_or_another_programs_notification_makes_nothing(deps: WebhookDeps):
    assert fan_out(deps, notification("RewardsHeld")) == []
    other = notification()
    other["detail"]["program_id"] = "q"
    assert fan_out(deps, other) == []
    assert fan_out(deps, {"detail-type": "PartnerFlagged", "detail": {}}) == []


def test_a_try_recorded_whose_next_schedule_failed_is_finished_by_the_redelivery(deps: WebhookDeps):
    [delivery] = fan_out(deps, notification())
    message = deps.queue.scheduled.pop()[0]  # type: ignore[attr-defined]
    deps.queue.fail_next = True  # type: ignore[attr-defined]
    with pytest.raises(StorageUnavailable):  # the batch item fails: SQS delivers the message again
        run_try(deps, message)
    stored = deps.store.get_delivery("p", "wh", delivery.delivery_id)
    assert stored.tries == 1 and stored.status == "pending"
    assert deps.queue.scheduled == []  # type: ignore[attr-defined]

    run_try(deps, message, receive_count=2)  # the redelivery

    assert len(deps.sender.sent) == 1  # type: ignore[attr-defined]  # not sent twice
    [(following, delay)] = deps.queue.scheduled  # type: ignore[attr-defined]
    assert following["tries"] == 1 and 15 <= delay <= 30


def test_a_wait_longer_than_sqs_can_delay_takes_another_hop(deps: WebhookDeps):
    [delivery] = fan_out(deps, notification())
    stored = replace(delivery, next_attempt_at=T0 + timedelta(hours=2))
    deps.store.save_delivery(stored, delivery)
    message = deps.queue.scheduled.pop()[0]  # type: ignore[attr-defined]
    assert run_try(deps, message) is None
    assert deps.sender.sent == []  # type: ignore[attr-defined]
    [(hop, delay)] = deps.queue.scheduled  # type: ignore[attr-defined]
    assert hop == message and delay == 2 * 3600  # SqsTryQueue sends it with SQS's most, 900 s
    assert deps.store.get_delivery("p", "wh", delivery.delivery_id) == stored


def test_the_signature_uses_the_secret_and_the_body_sent_every_time(deps: WebhookDeps):
    fan_out(deps, notification())
    run_try(deps, deps.queue.scheduled.pop()[0])  # type: ignore[attr-defined]
    deps.clock.advance(seconds=60)  # type: ignore[attr-defined]
    run_try(deps, deps.queue.scheduled.pop()[0])  # type: ignore[attr-defined]
    (_, first, h1), (_, second, h2) = deps.sender.sent  # type: ignore[attr-defined]
    assert first == second
    assert h1["X-Signature"] != h2["X-Signature"]  # each try signed afresh, its own t
    assert "whsec_x" not in repr(h1)


def test_a_try_arriving_before_its_time_waits_the_rest(deps: WebhookDeps):
    """A try is never sent early: half a second before its time it goes back on the queue."""
    [delivery] = fan_out(deps, notification())
    stored = replace(delivery, next_attempt_at=T0 + timedelta(milliseconds=500))
    deps.store.save_delivery(stored, delivery)
    message = deps.queue.scheduled.pop()[0]  # type: ignore[attr-defined]
    assert run_try(deps, message) is None and deps.sender.sent == []  # type: ignore[attr-defined]
    [(hop, delay)] = deps.queue.scheduled  # type: ignore[attr-defined]
    assert hop == message and delay == pytest.approx(0.5)


class ChangingSender(Sender):
    """A receiver answering 410 while an admin changes the webhook (`change`) during the try."""

    def __init__(self, change: Callable[[], None]) -> None:
        super().__init__(410)
        self.change = change

    def post(self, target: Target, body: bytes, headers: dict[str, str], within: float) -> Answer:
        self.change()
        return super().post(target, body, headers, within)


def re_point(store: WebhooksPort) -> None:
    current = store.get_webhook("p", "wh")
    moved = replace(current, url="https://new.example.com/in", updated_at=T0 + timedelta(seconds=1))
    store.replace_webhook(moved, current.updated_at)


def make_again(store: WebhooksPort) -> None:
    store.delete_webhook("p", "wh")
    later = T0 + timedelta(seconds=1)
    hook = Webhook(
        "p", "wh", "https://new.example.com/in", ("PartnerFlagged",), True, later, later, Secrets.clear("y")
    )
    store.create_webhook(store.program_webhooks("p").create(hook))


@pytest.mark.parametrize("change", [re_point, make_again], ids=["re-pointed", "deleted-and-made-again"])
def test_a_410_from_the_old_receiver_leaves_the_webhook_changed_during_the_try_enabled(
    deps: WebhookDeps, change: Callable[[WebhooksPort], None]
):
    # Given a try in flight to the old URL, and the webhook changed by an admin meanwhile
    deps.sender = ChangingSender(lambda: change(deps.store))
    fan_out(deps, notification())
    # When the old receiver answers 410 Gone
    after = run_try(deps, deps.queue.scheduled.pop()[0])  # type: ignore[attr-defined]
    # Then the delivery ends as gone, but the webhook now in place stays enabled
    assert after is not None and (after.status, after.attempts[-1].outcome) == ("failed", "gone")
    hook = deps.store.get_webhook("p", "wh")
    assert (hook.url, hook.enabled, hook.disabled_reason) == ("https://new.example.com/in", True, None)


def test_a_410_disables_the_webhook_the_try_was_made_for(deps: WebhookDeps):
    deps.sender = Sender(410)
    fan_out(deps, notification())
    run_try(deps, deps.queue.scheduled.pop()[0])  # type: ignore[attr-defined]
    hook = deps.store.get_webhook("p", "wh")
    assert (hook.enabled, hook.disabled_reason) == (False, "the receiver answered 410 Gone")


class RecordingSqs:
    def __init__(self) -> None:
        self.delays: list[int] = []

    def send_message(self, QueueUrl: str, MessageBody: str, DelaySeconds: int, MessageGroupId: str) -> None:  # noqa: N803
        self.delays.append(DelaySeconds)


def test_sqs_delays_are_whole_seconds_rounded_up_never_early():
    sqs = RecordingSqs()
    queue = SqsTryQueue(sqs, "https://sqs.example/q")
    for wait in (0.0, 0.01, 0.49, 0.5, 1.0, 1.2, 899.5, 5000):
        queue.schedule({"kind": "webhook_try", "program_id": "prg-1"}, wait)
    assert sqs.delays == [0, 1, 1, 1, 1, 2, 900, 900]


def _gone_and_stopped(deps: WebhookDeps, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A try whose receiver answered 410, its run stopped after recording it (the save's answer
    lost, say) and before disabling the webhook; returns the try's message, which SQS delivers again."""
    deps.sender = Sender(410)
    fan_out(deps, notification())
    message = deps.queue.scheduled.pop()[0]  # type: ignore[attr-defined]

    def stopped(*_: Any) -> bool:
        raise StorageUnavailable("the run stopped (test)")

    monkeypatch.setattr(deps.store, "disable_webhook", stopped)
    with pytest.raises(StorageUnavailable):
        run_try(deps, message)
    monkeypatch.undo()
    assert deps.store.get_webhook("p", "wh").enabled  # not disabled yet; the 410 recorded
    return message


def test_a_410_recorded_by_a_run_that_stopped_disables_the_webhook_on_the_redelivery(
    deps: WebhookDeps, monkeypatch: pytest.MonkeyPatch
):
    message = _gone_and_stopped(deps, monkeypatch)

    run_try(deps, message, receive_count=2)

    webhook = deps.store.get_webhook("p", "wh")
    assert not webhook.enabled and webhook.disabled_reason == "the receiver answered 410 Gone"
    assert len(deps.sender.sent) == 1  # type: ignore[attr-defined]  # not posted again


def test_a_410_left_undone_leaves_a_webhook_changed_since_enabled(
    deps: WebhookDeps, monkeypatch: pytest.MonkeyPatch
):
    message = _gone_and_stopped(deps, monkeypatch)
    current = deps.store.get_webhook("p", "wh")
    deps.clock.advance(seconds=5)  # type: ignore[attr-defined]
    repointed = replace(current, url="https://new.example.com/in", updated_at=deps.clock.now())
    deps.store.replace_webhook(repointed, current.updated_at)

    run_try(deps, message, receive_count=2)

    assert deps.store.get_webhook("p", "wh").enabled
