"""A receiver that does not answer is tried by one delivery at a time (SPEC 6; `webhooks.gate`):
the delivery steps on the in-memory store, a clock that is set, a sender that answers as told or
not at all. Tried delivery by delivery, each try waited its full time on such a receiver, in the
delivery function every program shares. A receiver that misses a try now and then, and answers
the others, is not silent: its stream is never held."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from functions.shared.clock import FixedClock
from functions.shared.domain import webhooks
from functions.shared.domain.webhooks import (
    PROBE_SECONDS,
    SILENT_AFTER,
    SILENT_SPAN_SECONDS,
    SQS_LONGEST_DELAY_SECONDS,
    RetrySchedule,
    Silence,
    after_answer,
    gate,
    probe_taken,
    silenced,
)
from functions.shared.errors import StorageUnavailable
from functions.shared.observability import logger
from functions.webhooks import service
from functions.webhooks.delivery import fan_out, run_try
from functions.webhooks.models import PutWebhook
from functions.webhooks.wiring import WebhookDeps
from tests.unit.test_webhook_delivery_steps import T0, Queue
from tests.unit.test_webhook_delivery_steps import deps as deps  # noqa: F401 (the fixture)

SCHEDULE = RetrySchedule(30, 3 * 3600, 24 * 3600)  # as deployed, and as the `deps` fixture's
LOCAL = RetrySchedule(1, 4, 300)  # `make run`'s: retries within seconds
FIRST_WAIT, SPREAD, LONGEST = 60.0, 30.0, 900.0  # what it makes of a silence: 2 first waits, 1, SQS's most


def notify(deps: WebhookDeps, count: int, start: int = 0) -> list[dict[str, Any]]:
    """`count` notifications of the program; their first tries, as scheduled."""
    for n in range(start, start + count):
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


def answers(deps: WebhookDeps, *codes: int | None) -> None:
    """The receiver's next answers (None: none), the last one from then on."""
    deps.sender.codes = list(codes)  # type: ignore[attr-defined]


def silence_of(deps: WebhookDeps) -> Silence | None:
    return deps.store.get_webhook("p", "wh").silence


def gone_silent(deps: WebhookDeps, others: int) -> list[dict[str, Any]]:
    """SILENT_AFTER deliveries tried, none answered, over SILENT_SPAN_SECONDS (a try every 10 s);
    then `others` deliveries' first tries."""
    answers(deps, None)
    for n, message in enumerate(notify(deps, SILENT_AFTER)):
        if n:
            later(deps, SILENT_SPAN_SECONDS / (SILENT_AFTER - 1))
        run_try(deps, message)
    taken(deps)  # their next tries
    return notify(deps, others, start=SILENT_AFTER)


# --- the steps ---------------------------------------------------------------------------------
def test_a_try_missed_now_and_then_holds_no_other(deps: WebhookDeps):
    # an answer, one missed, answers: each sent, none waits (a review's simulation of a receiver
    # missing 1% of posts: its stream paused a minute or more at each miss)
    answers(deps, 200, None, 200)
    for message in notify(deps, 6):
        run_try(deps, message)
    assert sent(deps) == 6 and silence_of(deps) is None  # the answer after the miss ended its count
    # misses short of SILENT_AFTER in a row, then an answer: counted, then forgotten
    answers(deps, *[None] * (SILENT_AFTER - 1), 200)
    for message in notify(deps, SILENT_AFTER + 2, start=6):
        run_try(deps, message)
    assert sent(deps) == 6 + SILENT_AFTER + 2 and silence_of(deps) is None


def test_after_tries_in_a_row_got_no_answer_the_webhooks_other_tries_wait_without_trying(deps: WebhookDeps):
    others = gone_silent(deps, 4)
    assert sent(deps) == SILENT_AFTER

    for message in others:
        run_try(deps, message)

    assert sent(deps) == SILENT_AFTER  # no other try waited on the receiver
    waiting = deps.queue.scheduled  # type: ignore[attr-defined]
    assert sorted(m["delivery_id"] for m, _ in waiting) == sorted(m["delivery_id"] for m in others)
    assert all(m["tries"] == 0 for m, _ in waiting)  # none of them counted as a try
    assert all(FIRST_WAIT <= wait <= FIRST_WAIT + SPREAD for _, wait in waiting)
    for message in others:
        stored = deps.store.get_delivery("p", "wh", message["delivery_id"])
        assert (stored.status, stored.tries) == ("pending", 0)
    shown = service.get_webhook(deps, "p", "wh")
    assert shown.receiver_silent_since == T0  # an admin sees why they wait


def waiting_on_silence(deps: WebhookDeps, count: int) -> list[dict[str, Any]]:
    """The receiver gone silent, `count` deliveries' tries waiting, and past the silence's end (and
    its spread)."""
    for message in gone_silent(deps, count):
        run_try(deps, message)
    later(deps, FIRST_WAIT + SPREAD)
    return taken(deps)


def test_past_the_silence_one_try_finds_out_and_the_others_wait_for_it(deps: WebhookDeps):
    waiting = waiting_on_silence(deps, 4)

    for message in waiting:
        run_try(deps, message)

    assert sent(deps) == SILENT_AFTER + 1  # one probe
    # still silent: the wait grows with the silence (here its 90 s so far)
    silence = silence_of(deps)
    assert silence is not None and silence.since == T0 and silence.missed == SILENT_AFTER + 1
    assert silence.until == deps.clock.now() + (deps.clock.now() - T0)


def test_a_receiver_back_ends_the_silence_and_every_waiting_try_is_sent(deps: WebhookDeps):
    waiting = waiting_on_silence(deps, 4)
    answers(deps, 200)

    for message in waiting:
        run_try(deps, message)

    assert sent(deps) == SILENT_AFTER + 4
    assert silence_of(deps) is None
    assert {deps.store.get_delivery("p", "wh", m["delivery_id"]).status for m in waiting} == {"delivered"}


def test_an_error_answer_is_an_answer(deps: WebhookDeps):
    [waiting] = waiting_on_silence(deps, 1)
    answers(deps, 503)

    run_try(deps, waiting)

    assert silence_of(deps) is None
    assert deps.store.get_delivery("p", "wh", waiting["delivery_id"]).tries == 1  # retried as before


def test_a_probe_whose_claim_is_not_written_waits_and_is_not_lost(deps: WebhookDeps, monkeypatch):
    # a review's: a throttled claim failed the record until SQS gave it up (the dead-letter queue),
    # its delivery pending for ever with no try on its way
    [waiting] = waiting_on_silence(deps, 1)

    def throttled(*_: Any) -> bool:
        raise StorageUnavailable("DynamoDB throttled (test)")

    monkeypatch.setattr(deps.store, "note_silence", throttled)
    run_try(deps, waiting)

    assert sent(deps) == SILENT_AFTER
    [(again, wait)] = deps.queue.scheduled  # type: ignore[attr-defined]
    assert again == waiting and 0 < wait <= PROBE_SECONDS + SPREAD


def test_a_delivery_at_its_horizon_makes_its_last_try_whatever_the_silence(deps: WebhookDeps):
    [last] = gone_silent(deps, 1)
    later(deps, 24 * 3600)  # `last` was made as the silence began: its day is over
    webhook = deps.store.get_webhook("p", "wh")
    assert webhook.silence is not None and webhook.silence.silent
    assert deps.store.note_silence(
        webhook, replace(webhook.silence, until=deps.clock.now() + timedelta(seconds=LONGEST))
    )

    run_try(deps, last)

    assert sent(deps) == SILENT_AFTER + 1
    assert deps.store.get_delivery("p", "wh", last["delivery_id"]).status == "failed"


def test_a_silence_not_written_does_not_fail_the_try(deps: WebhookDeps, monkeypatch: pytest.MonkeyPatch):
    answers(deps, None)
    [first] = notify(deps, 1)

    def down(*_: Any) -> bool:
        raise StorageUnavailable("DynamoDB throttled (test)")

    monkeypatch.setattr(deps.store, "note_silence", down)
    run_try(deps, first)

    stored = deps.store.get_delivery("p", "wh", first["delivery_id"])
    assert (stored.status, stored.tries) == ("pending", 1)
    assert [m["tries"] for m in taken(deps)] == [1]  # its next try scheduled as ever


def test_changing_the_webhook_rotating_or_retrying_by_hand_tries_the_receiver_afresh(deps: WebhookDeps):
    others = gone_silent(deps, 1)
    assert silence_of(deps) is not None
    listed = service.list_deliveries(deps, "p", "wh", 10).items
    assert {d.held_back_because for d in listed if d.status == "pending"} == {"receiver_silent"}

    sent = service.retry_delivery(deps, "p", "wh", others[0]["delivery_id"])
    assert silence_of(deps) is None
    assert sent.held_back_because is None  # the answer says it goes: the receiver is tried afresh

    gone_silent(deps, 0)
    service.rotate_secret(deps, "p", "wh")
    assert silence_of(deps) is None

    gone_silent(deps, 0)
    body = PutWebhook(url="https://hooks.example.com/new", events=["PartnerFlagged"], enabled=True)
    service.put_webhook(deps, "p", "wh", body)
    assert silence_of(deps) is None


def test_a_try_to_the_url_before_a_change_silences_nothing_after_it(deps: WebhookDeps):
    # a review's: a try that read the webhook before a PUT re-pointed it, its answer missing, wrote
    # its silence over the change: the new receiver waited
    before = deps.store.get_webhook("p", "wh")
    body = PutWebhook(url="https://hooks.example.com/new", events=["PartnerFlagged"], enabled=True)
    service.put_webhook(deps, "p", "wh", body)

    assert not deps.store.note_silence(before, silenced(None, T0, SCHEDULE))
    assert silence_of(deps) is None


# --- the rules ---------------------------------------------------------------------------------
def test_the_wait_grows_with_the_silence_up_to_sqs_longest_delay():
    first = silenced(None, T0, SCHEDULE)
    assert first == Silence(T0, T0 + timedelta(seconds=FIRST_WAIT), 1, T0)
    ten = silenced(first, T0 + timedelta(minutes=10), SCHEDULE)
    assert ten.until - (T0 + timedelta(minutes=10)) == timedelta(minutes=10) and ten.missed == 2
    # `make run`'s schedule (retries within seconds) waits seconds on a silence too
    assert silenced(None, T0, LOCAL).until == T0 + timedelta(seconds=2)
    assert silenced(first, T0 + timedelta(minutes=10), LOCAL).until == T0 + timedelta(minutes=10, seconds=4)
    assert silenced(first, T0 + timedelta(hours=5), SCHEDULE).until == T0 + timedelta(
        hours=5, seconds=LONGEST
    )
    assert after_answer(ten, 500, T0, SCHEDULE) is None and after_answer(None, None, T0, SCHEDULE) == first


def test_the_gate():
    delivery = webhooks.Delivery("p", "wh", "dlv", "n", "PartnerFlagged", T0, "{}")
    spanned = T0 + timedelta(seconds=SILENT_SPAN_SECONDS)
    silence = Silence(T0, T0 + timedelta(seconds=60), SILENT_AFTER, spanned)
    assert gate(None, delivery, T0, SCHEDULE).send
    assert gate(
        Silence(T0, T0 + timedelta(seconds=60), SILENT_AFTER - 1, spanned), delivery, T0, SCHEDULE
    ).send
    # misses enough, in one round: tries out side by side to a slow receiver that answers others
    assert gate(Silence(T0, T0 + timedelta(seconds=60), SILENT_AFTER, T0), delivery, T0, SCHEDULE).send
    waiting = gate(silence, delivery, T0 + timedelta(seconds=10), SCHEDULE, rng=lambda a, b: b)
    assert (waiting.send, waiting.probe, waiting.wait_seconds) == (False, None, 50 + SPREAD)
    probe = gate(silence, delivery, T0 + timedelta(seconds=60), SCHEDULE)
    assert probe.send and probe.probe == Silence(
        T0, T0 + timedelta(seconds=60 + PROBE_SECONDS), SILENT_AFTER, spanned
    )
    # never a wait past the delivery's horizon: it comes back for its last try
    near_the_end = T0 + timedelta(hours=24) - timedelta(seconds=5)
    long = Silence(T0, near_the_end + timedelta(seconds=LONGEST), SILENT_AFTER, spanned)
    assert gate(long, delivery, near_the_end, SCHEDULE).wait_seconds == 5
    assert gate(long, delivery, T0 + timedelta(hours=24), SCHEDULE).send
    # a wait at SQS's longest keeps its spread: back a little before the end, to wait the rest
    longest = Silence(T0, T0 + timedelta(seconds=LONGEST), SILENT_AFTER, spanned)
    spread = {
        gate(longest, delivery, T0, SCHEDULE, rng=lambda a, b, f=f: a + f * (b - a)).wait_seconds
        for f in (0.2, 0.8)
    }
    assert len(spread) == 2 and max(spread) <= SQS_LONGEST_DELAY_SECONDS


def test_a_lost_claim_waits_seconds_under_make_runs_schedule_and_never_past_its_horizon():
    delivery = webhooks.Delivery("p", "wh", "dlv", "n", "PartnerFlagged", T0, "{}")
    assert probe_taken(delivery, T0, LOCAL, rng=lambda a, b: b).wait_seconds == 2 + 1
    assert probe_taken(delivery, T0, SCHEDULE, rng=lambda a, b: b).wait_seconds == PROBE_SECONDS + SPREAD
    # a review's: 20 s before its horizon, it came back 25 s past it
    near_the_end = T0 + timedelta(hours=24) - timedelta(seconds=20)
    assert probe_taken(delivery, near_the_end, SCHEDULE, rng=lambda a, b: b).wait_seconds == 20


def test_a_note_outrun_by_other_tries_gives_up_after_three_and_says_so(
    deps: WebhookDeps, monkeypatch, caplog
):
    answers(deps, None)
    [first] = notify(deps, 1)
    notes: list[Any] = []

    def outrun(webhook: Any, silence: Any) -> bool:  # another try's note there first, every time
        notes.append(silence)
        return False

    monkeypatch.setattr(deps.store, "note_silence", outrun)
    caplog.set_level(logging.INFO, logger=logger.name)
    run_try(deps, first)

    assert len(notes) == 3  # NOTE_ATTEMPTS, each on the webhook read again
    assert any("other tries kept writing theirs" in r.getMessage() for r in caplog.records)
    assert deps.store.get_delivery("p", "wh", first["delivery_id"]).tries == 1  # the try recorded


def test_tries_missed_together_while_others_are_answered_are_no_silence(deps: WebhookDeps):
    # an integrator tester's: a receiver answering in 8 to 12 s, tries sent side by side, some
    # answered and three missed in the same round: paused, its deliveries waiting to their horizons
    answers(deps, None)
    for message in notify(deps, SILENT_AFTER):
        run_try(deps, message)  # missed at one moment
    taken(deps)  # their next tries
    answers(deps, 200)
    [following] = notify(deps, 1, start=SILENT_AFTER)
    silence = silence_of(deps)
    assert silence is not None and silence.missed == SILENT_AFTER and not silence.silent

    run_try(deps, following)

    assert sent(deps) == SILENT_AFTER + 1 and silence_of(deps) is None


def test_an_answer_ends_the_misses_written_while_it_was_out(deps: WebhookDeps):
    # the same tester's: a try that read no silence, its answer coming after misses of tries beside
    # it were written, left them: the next tries waited on a receiver that had just answered
    first, *beside = notify(deps, 1 + SILENT_AFTER)

    class Beside:
        def __init__(self) -> None:
            self.sent: list[Any] = []

        def post(self, target: Any, body: bytes, headers: Any, within: float) -> Any:
            from functions.webhooks.outside import Answer

            self.sent.append(body)
            if len(self.sent) > 1:
                return Answer(None, "timeout")  # the tries beside it: missed, over the span
            for n, message in enumerate(beside):
                later(deps, SILENT_SPAN_SECONDS / (SILENT_AFTER - 1) if n else 0)
                run_try(deps, message)
            assert silence_of(deps) is not None and silence_of(deps).silent  # type: ignore[union-attr]
            return Answer(200)

    deps.sender = Beside()  # type: ignore[misc]
    run_try(deps, first)

    assert silence_of(deps) is None


def test_a_silence_written_before_its_last_miss_was_kept_is_silent_as_it_was():
    # a review's: read with `last` None, its span was nothing, and a silent receiver was called again
    assert Silence(T0, T0 + timedelta(seconds=60), SILENT_AFTER).silent
    assert not Silence(T0, T0 + timedelta(seconds=60), SILENT_AFTER - 1).silent
    # and the latest miss never goes back (a note written again after a read)
    later_miss = silenced(
        Silence(T0, T0, 1, T0 + timedelta(seconds=30)), T0 + timedelta(seconds=29), SCHEDULE
    )
    assert later_miss.last == T0 + timedelta(seconds=30)
