"""A receiver that does not answer is tried by one delivery at a time (SPEC 6; `webhooks.gate`):
the delivery steps on the in-memory store, a clock that is set, a sender that answers as told or
not at all. Tried delivery by delivery, each try waited its full time on such a receiver, in the
delivery function every program shares."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from functions.shared.clock import FixedClock
from functions.shared.domain import webhooks
from functions.shared.domain.webhooks import (
    PROBE_SECONDS,
    RetrySchedule,
    Silence,
    after_answer,
    gate,
    silenced,
)
from functions.shared.errors import StorageUnavailable
from functions.webhooks import service
from functions.webhooks.delivery import fan_out, run_try
from functions.webhooks.models import PutWebhook
from functions.webhooks.wiring import WebhookDeps
from tests.unit.test_webhook_delivery_steps import T0, Queue
from tests.unit.test_webhook_delivery_steps import deps as deps  # noqa: F401 (the fixture)

SCHEDULE = RetrySchedule(30, 3 * 3600, 24 * 3600)  # as deployed, and as the `deps` fixture's
FIRST_WAIT, SPREAD, LONGEST = 60.0, 30.0, 900.0  # what it makes of a silence: 2 first waits, 1, SQS's most


def notify(deps: WebhookDeps, count: int) -> list[dict[str, Any]]:
    """`count` notifications of the program; their first tries, as scheduled."""
    for n in range(count):
        event = {
            "id": f"bus-{n}",
            "detail-type": "PartnerFlagged",
            "detail": {"program_id": "p", "notification_id": f"n-{n}"},
        }
        fan_out(deps, event)
    return taken(deps)


def taken(deps: WebhookDeps) -> list[dict[str, Any]]:
    queue: Queue = deps.queue  # type: ignore[assignment]
    messages = [message for message, _ in queue.scheduled]
    queue.scheduled.clear()
    return messages


def later(deps: WebhookDeps, seconds: float) -> None:
    clock: FixedClock = deps.clock  # type: ignore[assignment]
    clock.advance(seconds=seconds)


def sent(deps: WebhookDeps) -> int:
    return len(deps.sender.sent)  # type: ignore[attr-defined]


def silent(deps: WebhookDeps) -> None:
    deps.sender.codes = [None]  # type: ignore[attr-defined]


def answering(deps: WebhookDeps, code: int = 200) -> None:
    deps.sender.codes = [code]  # type: ignore[attr-defined]


# --- the steps ---------------------------------------------------------------------------------
def test_after_a_try_got_no_answer_the_webhooks_other_tries_wait_without_trying(deps: WebhookDeps):
    silent(deps)
    first, *others = notify(deps, 5)
    run_try(deps, first)
    assert sent(deps) == 1
    taken(deps)  # the first delivery's next try

    for message in others:
        run_try(deps, message)

    assert sent(deps) == 1  # no other try waited on the receiver
    waiting = deps.queue.scheduled  # type: ignore[attr-defined]
    assert sorted(m["delivery_id"] for m, _ in waiting) == sorted(m["delivery_id"] for m in others)
    assert all(m["tries"] == 0 for m, _ in waiting)  # none of them counted as a try
    assert all(FIRST_WAIT <= wait <= FIRST_WAIT + SPREAD for _, wait in waiting)
    for message in others:
        stored = deps.store.get_delivery("p", "wh", message["delivery_id"])
        assert (stored.status, stored.tries) == ("pending", 0)


def waiting_on_silence(deps: WebhookDeps, count: int) -> list[dict[str, Any]]:
    """`count` deliveries, the first tried with no answer: the others' tries, waiting, and past the
    silence's end (and its spread)."""
    silent(deps)
    first, *others = notify(deps, count)
    run_try(deps, first)
    for message in others:
        run_try(deps, message)
    later(deps, FIRST_WAIT + SPREAD)
    return [m for m in taken(deps) if m["delivery_id"] != first["delivery_id"]]


def test_past_the_silence_one_try_finds_out_and_the_others_wait_for_it(deps: WebhookDeps):
    waiting = waiting_on_silence(deps, 4)

    for message in waiting:
        run_try(deps, message)

    assert sent(deps) == 2  # the first try, then one probe
    # still silent: the wait grows with the silence (here its 90 s so far)
    silence = deps.store.get_webhook("p", "wh").silence
    assert silence is not None and silence.since == T0
    assert silence.until == deps.clock.now() + timedelta(seconds=FIRST_WAIT + SPREAD)


def test_a_receiver_back_ends_the_silence_and_every_waiting_try_is_sent(deps: WebhookDeps):
    waiting = waiting_on_silence(deps, 4)
    answering(deps, 200)

    for message in waiting:
        run_try(deps, message)

    assert sent(deps) == 4
    assert deps.store.get_webhook("p", "wh").silence is None
    assert {deps.store.get_delivery("p", "wh", m["delivery_id"]).status for m in waiting} == {"delivered"}


def test_an_error_answer_is_an_answer(deps: WebhookDeps):
    silent(deps)
    first, second = notify(deps, 2)
    run_try(deps, first)
    answering(deps, 503)
    later(deps, FIRST_WAIT + SPREAD)

    run_try(deps, second)

    assert sent(deps) == 2 and deps.store.get_webhook("p", "wh").silence is None
    assert deps.store.get_delivery("p", "wh", second["delivery_id"]).tries == 1  # retried as before


def test_a_delivery_at_its_horizon_makes_its_last_try_whatever_the_silence(deps: WebhookDeps):
    silent(deps)
    first, last = notify(deps, 2)
    run_try(deps, first)
    later(deps, 24 * 3600)  # `last` was made at T0: its day is over
    webhook = deps.store.get_webhook("p", "wh")
    fresh = Silence(T0, deps.clock.now() + timedelta(seconds=LONGEST))
    assert deps.store.note_silence(webhook, fresh)

    run_try(deps, last)

    assert sent(deps) == 2
    assert deps.store.get_delivery("p", "wh", last["delivery_id"]).status == "failed"


def test_a_silence_not_written_does_not_fail_the_try(deps: WebhookDeps, monkeypatch: pytest.MonkeyPatch):
    silent(deps)
    [first] = notify(deps, 1)

    def down(*_: Any) -> bool:
        raise StorageUnavailable("DynamoDB throttled (test)")

    monkeypatch.setattr(deps.store, "note_silence", down)
    run_try(deps, first)

    stored = deps.store.get_delivery("p", "wh", first["delivery_id"])
    assert (stored.status, stored.tries) == ("pending", 1)
    assert [m["tries"] for m in taken(deps)] == [1]  # its next try scheduled as ever


def test_changing_the_webhook_or_retrying_by_hand_tries_the_receiver_afresh(deps: WebhookDeps):
    silent(deps)
    first, second = notify(deps, 2)
    run_try(deps, first)
    assert deps.store.get_webhook("p", "wh").silence is not None

    service.retry_delivery(deps, "p", "wh", second["delivery_id"])

    assert deps.store.get_webhook("p", "wh").silence is None
    [again] = [m for m in taken(deps) if m["delivery_id"] == second["delivery_id"]]
    run_try(deps, again)  # silent again
    assert deps.store.get_webhook("p", "wh").silence is not None
    body = PutWebhook(url="https://hooks.example.com/new", events=["PartnerFlagged"], enabled=True)
    service.put_webhook(deps, "p", "wh", body)
    assert deps.store.get_webhook("p", "wh").silence is None


# --- the rules ---------------------------------------------------------------------------------
def test_the_wait_grows_with_the_silence_up_to_sqs_longest_delay():
    first = silenced(None, T0, SCHEDULE)
    assert first == Silence(T0, T0 + timedelta(seconds=FIRST_WAIT))
    an_hour = silenced(first, T0 + timedelta(minutes=10), SCHEDULE)
    assert an_hour.until - (T0 + timedelta(minutes=10)) == timedelta(minutes=10)
    # `make run`'s schedule (retries within seconds) waits seconds on a silence too
    local = RetrySchedule(1, 4, 300)
    assert silenced(None, T0, local).until == T0 + timedelta(seconds=2)
    assert silenced(first, T0 + timedelta(minutes=10), local).until == T0 + timedelta(minutes=10, seconds=4)
    assert silenced(first, T0 + timedelta(hours=5), SCHEDULE).until == T0 + timedelta(
        hours=5, seconds=LONGEST
    )
    assert after_answer(first, 500, T0, SCHEDULE) is None and after_answer(None, None, T0, SCHEDULE) == first


def test_the_gate():
    delivery = webhooks.Delivery("p", "wh", "dlv", "n", "PartnerFlagged", T0, "{}")
    silence = Silence(T0, T0 + timedelta(seconds=60))
    assert gate(None, delivery, T0, SCHEDULE).send
    waiting = gate(silence, delivery, T0 + timedelta(seconds=10), SCHEDULE, rng=lambda a, b: b)
    assert (waiting.send, waiting.probe, waiting.wait_seconds) == (False, None, 50 + SPREAD)
    probe = gate(silence, delivery, T0 + timedelta(seconds=60), SCHEDULE)
    assert probe.send and probe.probe == Silence(T0, T0 + timedelta(seconds=60 + PROBE_SECONDS))
    # never a wait past the delivery's horizon: it comes back for its last try
    near_the_end = T0 + timedelta(hours=24) - timedelta(seconds=5)
    long = Silence(T0, near_the_end + timedelta(seconds=LONGEST))
    assert gate(long, delivery, near_the_end, SCHEDULE).wait_seconds == 5
    assert gate(long, delivery, T0 + timedelta(hours=24), SCHEDULE).send
