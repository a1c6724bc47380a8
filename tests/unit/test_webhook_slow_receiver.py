"""A slow receiver is tried one try at a time per program (SPEC 6; `webhooks.paced`,
`slow_try_wait`): the delivery steps on the in-memory store, a clock that is set, a sender that
takes as long as told. A receiver answering in 9 seconds is not silent (it answers), and each of its
tries held a run of the delivery function every program shares: one program's burst to such a
receiver held every other program's deliveries behind it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest

from functions.shared.clock import FixedClock
from functions.shared.domain.webhooks import (
    SEND_TIMEOUT_SECONDS,
    SLOW_MEMORY_SECONDS,
    SLOW_TRY_HOLD_SECONDS,
    SLOW_TRY_SECONDS,
    SLOW_WAIT_MOST_SECONDS,
    STOPPED_SLOW,
    RetrySchedule,
    Secrets,
    Slowness,
    Target,
    Webhook,
    paced,
    slow_try_until,
    slow_try_wait,
)
from functions.shared.errors import StorageUnavailable
from functions.webhooks import service
from functions.webhooks.delivery import fan_out, run_try
from functions.webhooks.models import PutWebhook
from functions.webhooks.outside import Answer
from functions.webhooks.wiring import WebhookDeps
from tests.unit.test_webhook_delivery_steps import T0
from tests.unit.test_webhook_delivery_steps import deps as deps  # noqa: F401 (the fixture)
from tests.unit.test_webhook_silent_receiver import later, notify, sent, taken

SCHEDULE = RetrySchedule(30, 3 * 3600, 24 * 3600)  # the `deps` fixture's, as deployed


@dataclass
class TimedSender:
    """Answers `code` after `seconds` of the deps' clock; notes, at each post, whether the program's
    slow try was free then (a take at that moment succeeding)."""

    deps: WebhookDeps
    seconds: float
    code: int = 200
    sent: list[tuple[Target, bytes, dict[str, str]]] = field(default_factory=list)
    free_while_posting: list[bool] = field(default_factory=list)

    def post(self, target: Target, body: bytes, headers: dict[str, str], within: float) -> Answer:
        self.sent.append((target, body, headers))
        now = self.deps.clock.now()
        probe = now + timedelta(microseconds=1)
        taken_now = self.deps.store.take_slow_try("p", now, probe)
        if taken_now:
            self.deps.store.give_back_slow_try("p", probe)
        self.free_while_posting.append(taken_now)
        clock: FixedClock = self.deps.clock  # type: ignore[assignment]
        clock.advance(seconds=self.seconds)
        return Answer(self.code)


def timed(deps: WebhookDeps, seconds: float) -> TimedSender:
    sender = TimedSender(deps, seconds)
    object.__setattr__(deps, "sender", sender)
    return sender


def slow_since(deps: WebhookDeps, program: str = "p", webhook_id: str = "wh") -> datetime | None:
    slow = deps.store.get_webhook(program, webhook_id).slow
    return slow.since if slow else None


def made_slow(deps: WebhookDeps) -> TimedSender:
    """One try that took 9 seconds: the receiver is slow from its end."""
    sender = timed(deps, 9)
    [first] = notify(deps, 1, start=100)
    began = deps.clock.now()
    run_try(deps, first)
    assert slow_since(deps) == began + timedelta(seconds=9)
    return sender


# --- the rule ------------------------------------------------------------------------------------
def test_a_receiver_is_slow_from_its_first_slow_try_until_no_try_was_slow_for_a_while():
    assert paced(None, SLOW_TRY_SECONDS - 0.01, T0) is None
    assert paced(None, 4.9, T0) is not None  # a tester's receiver, just under the first version's 5 s
    first = paced(None, SLOW_TRY_SECONDS, T0)
    assert first == Slowness(T0, T0)
    five = T0 + timedelta(minutes=5)
    assert paced(first, SEND_TIMEOUT_SECONDS, five) == Slowness(T0, five)  # since its first
    assert paced(Slowness(T0, five), 0.2, T0 + timedelta(minutes=1)) == Slowness(T0, five)  # never back
    # a fast try ends it only once no try has been slow for SLOW_MEMORY_SECONDS
    memory = timedelta(seconds=SLOW_MEMORY_SECONDS)
    assert paced(Slowness(T0, five), 0.2, five + memory - timedelta(seconds=1)) == Slowness(T0, five)
    assert paced(Slowness(T0, five), 0.2, five + memory) is None
    assert slow_try_until(T0) == T0 + timedelta(seconds=SLOW_TRY_HOLD_SECONDS)
    assert SLOW_TRY_HOLD_SECONDS > SEND_TIMEOUT_SECONDS  # a whole try, and its recording


def test_a_try_that_finds_the_slow_try_taken_waits_about_a_try_spread_and_stops_past_its_horizon(deps):
    [message] = notify(deps, 1)
    delivery = deps.store.get_delivery("p", "wh", message["delivery_id"])
    low, high = SEND_TIMEOUT_SECONDS / 2, 3 * SEND_TIMEOUT_SECONDS / 2
    assert slow_try_wait(delivery, T0, SCHEDULE, rng=lambda a, b: a) == low
    assert slow_try_wait(delivery, T0, SCHEDULE, rng=lambda a, b: b) == high
    # at its horizon it still waits its turn, the schedule's longest wait more (15 minutes)
    horizon = T0 + timedelta(seconds=SCHEDULE.horizon_seconds)
    assert slow_try_wait(delivery, horizon, SCHEDULE, rng=lambda a, b: b) == high
    end = horizon + timedelta(seconds=900)
    assert slow_try_wait(delivery, end - timedelta(seconds=2), SCHEDULE, rng=lambda a, b: b) == 2
    assert slow_try_wait(delivery, end, SCHEDULE) is None  # then it stops
    local = RetrySchedule(1, 4, 300)  # `make run`'s: seconds
    assert slow_try_wait(delivery, T0 + timedelta(seconds=304), local) is None


def test_a_try_that_keeps_missing_its_turn_waits_longer_each_time_up_to_two_minutes(deps):
    # a review's: at a fixed 5 to 15 s, ten thousand waiting tries came back a thousand a second,
    # each a read, a refused write and a message, more than the function shared by every program takes
    [message] = notify(deps, 1)
    delivery = deps.store.get_delivery("p", "wh", message["delivery_id"])

    def typical(schedule: RetrySchedule, waited: int) -> float | None:
        return slow_try_wait(delivery, T0, schedule, waited, rng=lambda a, b: (a + b) / 2)

    assert [typical(SCHEDULE, waited) for waited in range(7)] == [10, 20, 40, 80, 120, 120, 120]
    assert SLOW_WAIT_MOST_SECONDS == 120
    assert slow_try_wait(delivery, T0, SCHEDULE, 10**6, rng=lambda a, b: b) == 1.5 * SLOW_WAIT_MOST_SECONDS
    # a second tester's: under `make run`'s 300 s horizon, waits of up to 300 s left the slot free
    # for a minute at a time and a small backlog at its horizon: a hundredth of it there, 3 s
    local = RetrySchedule(1, 4, 300)
    assert [typical(local, waited) for waited in (0, 3, 30)] == [3, 3, 3]


def test_the_waits_in_a_row_travel_with_the_try_and_a_turn_taken_forgets_them(deps: WebhookDeps):
    sender = made_slow(deps)
    [message] = notify(deps, 1)
    now = deps.clock.now()
    out = slow_try_until(now)
    assert deps.store.take_slow_try("p", now, out)  # another try is out
    waits = []
    for _ in range(3):
        run_try(deps, message)
        [(message, wait)] = deps.queue.scheduled  # type: ignore[attr-defined]
        taken(deps)
        waits.append((message.get("waited"), wait))
    assert [waited for waited, _ in waits] == [1, 2, 3]
    assert 5 <= waits[0][1] <= 15 and 20 <= waits[2][1] <= 60
    deps.store.give_back_slow_try("p", out)
    run_try(deps, message)  # its turn
    assert len(sender.sent) == 2 and not taken(deps)  # delivered: no next try
    # a count sent wrong is taken as none, not as a failure of the record
    now = deps.clock.now()
    assert deps.store.take_slow_try("p", now, slow_try_until(now))
    for n, wrong in enumerate(("3", -1, 10**9, None, 2.5, [1])):
        [fresh] = notify(deps, 1, start=500 + n)
        run_try(deps, {**fresh, "waited": wrong})
        [(again, wait)] = deps.queue.scheduled  # type: ignore[attr-defined]
        taken(deps)
        assert again == {**fresh, "waited": 1} and 5 <= wait <= 15


# --- the steps -----------------------------------------------------------------------------------
def test_a_try_taking_3_seconds_makes_the_receiver_slow_and_fast_ones_end_it_after_a_while(
    deps: WebhookDeps,
):
    under = SLOW_TRY_SECONDS - 0.5
    sender = timed(deps, under)
    for message in notify(deps, 2):
        run_try(deps, message)
    assert slow_since(deps) is None  # 2.5 s: not slow

    sender = made_slow(deps)
    shown = service.get_webhook(deps, "p", "wh")
    assert shown.receiver_slow_since == T0 + timedelta(seconds=2 * under + 9)  # an admin sees why
    assert shown.receiver_silent_since is None  # it answers

    sender.seconds = 0.3
    for message in notify(deps, 3, start=200):
        run_try(deps, message)
    assert slow_since(deps) is not None  # fast tries just after a slow one: still slow
    later(deps, SLOW_MEMORY_SECONDS)
    [message] = notify(deps, 1, start=300)
    run_try(deps, message)
    assert slow_since(deps) is None
    assert service.get_webhook(deps, "p", "wh").receiver_slow_since is None


def test_a_receiver_answering_one_try_fast_and_the_next_slowly_stays_slow(deps: WebhookDeps):
    # an attack on the first version (a receiver's own choice of pace): one fast answer ended the
    # slowness, and the burst waiting on it went side by side again, every run held once more
    sender = made_slow(deps)
    for round_ in range(5):
        sender.seconds = 0.2
        [fast] = notify(deps, 1, start=10 * round_)
        run_try(deps, fast)
        sender.seconds = 9
        burst = notify(deps, 4, start=10 * round_ + 1)
        out = slow_try_until(deps.clock.now())
        assert deps.store.take_slow_try("p", deps.clock.now(), out)  # one of them out first
        for message in burst:
            run_try(deps, message)  # the others wait: still slow
        deps.store.give_back_slow_try("p", out)
        taken(deps)
        assert slow_since(deps) is not None
    assert len(sender.sent) == 1 + 5  # the first, and each round's fast one


def test_a_slow_receivers_try_waits_untried_while_another_of_its_programs_slow_tries_is_out(
    deps: WebhookDeps,
):
    sender = made_slow(deps)
    [message] = notify(deps, 1)
    out = slow_try_until(deps.clock.now())
    assert deps.store.take_slow_try("p", deps.clock.now(), out)  # another try is out

    run_try(deps, message)

    assert len(sender.sent) == 1  # only the first
    [(again, wait)] = deps.queue.scheduled  # type: ignore[attr-defined]
    assert (
        again == {**message, "waited": 1} and SEND_TIMEOUT_SECONDS / 2 <= wait <= 3 * SEND_TIMEOUT_SECONDS / 2
    )
    stored = deps.store.get_delivery("p", "wh", message["delivery_id"])
    assert (stored.status, stored.tries) == ("pending", 0)  # not counted as a try
    taken(deps)

    # the other try given back: this one takes it, holds it while it posts, gives it back after
    deps.store.give_back_slow_try("p", out)
    run_try(deps, again)

    assert len(sender.sent) == 2 and sender.free_while_posting == [True, False]
    assert deps.store.get_delivery("p", "wh", message["delivery_id"]).status == "delivered"
    now = deps.clock.now()
    assert deps.store.take_slow_try("p", now, slow_try_until(now))  # free again


def test_a_fast_receivers_tries_go_whatever_its_programs_slow_tries(deps: WebhookDeps):
    sender = timed(deps, 0.2)
    now = deps.clock.now()
    assert deps.store.take_slow_try("p", now, slow_try_until(now))  # a slow receiver's try is out
    for message in notify(deps, 3):
        run_try(deps, message)
    assert len(sender.sent) == 3 and sender.free_while_posting == [False] * 3


def test_another_programs_slow_receiver_is_not_held_by_this_ones(deps: WebhookDeps):
    url = "https://hooks.example.org/in"
    hook = Webhook("q", "wh", url, ("PartnerFlagged",), True, T0, T0, Secrets.clear("whsec_q"))
    deps.store.create_webhook(deps.store.program_webhooks("q").create(hook))
    assert deps.store.note_pace(deps.store.get_webhook("q", "wh"), Slowness(T0, T0))
    sender = timed(deps, 9)
    now = deps.clock.now()
    assert deps.store.take_slow_try("p", now, slow_try_until(now))  # program p's is out
    detail = {"program_id": "q", "notification_id": "q-1"}
    fan_out(deps, {"id": "bus-q", "detail-type": "PartnerFlagged", "detail": detail})
    [message] = taken(deps)
    run_try(deps, message)
    assert len(sender.sent) == 1


def test_a_slow_try_the_table_refuses_to_take_waits_and_is_not_lost(deps: WebhookDeps, monkeypatch):
    sender = made_slow(deps)
    [message] = notify(deps, 1)

    def throttled(*_: Any) -> bool:
        raise StorageUnavailable("DynamoDB throttled (test)")

    monkeypatch.setattr(deps.store, "take_slow_try", throttled)
    run_try(deps, message)

    assert len(sender.sent) == 1
    [(again, wait)] = deps.queue.scheduled  # type: ignore[attr-defined]
    assert again == {**message, "waited": 1} and wait > 0


def test_a_slow_try_not_given_back_is_free_again_at_its_end(deps: WebhookDeps, monkeypatch):
    sender = made_slow(deps)
    first, second = notify(deps, 2)
    real = deps.store.give_back_slow_try

    def down(*_: Any) -> None:
        raise StorageUnavailable("DynamoDB throttled (test)")

    monkeypatch.setattr(deps.store, "give_back_slow_try", down)
    began = deps.clock.now()
    run_try(deps, first)  # posted and recorded; its slow try not given back
    assert deps.store.get_delivery("p", "wh", first["delivery_id"]).status == "delivered"
    monkeypatch.setattr(deps.store, "give_back_slow_try", real)
    taken(deps)

    run_try(deps, second)
    assert len(sender.sent) == 2  # held still (9 s into its 15)
    taken(deps)
    later(deps, SLOW_TRY_HOLD_SECONDS - 9)
    assert deps.clock.now() == began + timedelta(seconds=SLOW_TRY_HOLD_SECONDS)
    run_try(deps, second)
    assert len(sender.sent) == 3


def test_a_post_that_raises_gives_the_slow_try_back(deps: WebhookDeps):
    made_slow(deps)
    [message] = notify(deps, 1)

    class Broken:
        def post(self, *_: Any) -> Answer:
            raise RuntimeError("the sender broke (test)")

    object.__setattr__(deps, "sender", Broken())
    with pytest.raises(RuntimeError):
        run_try(deps, message)
    now = deps.clock.now()
    assert deps.store.take_slow_try("p", now, slow_try_until(now))


def test_a_backlog_at_its_horizon_still_goes_one_at_a_time_and_what_is_left_stops_saying_why(
    deps: WebhookDeps,
):
    # a tester's: sent all the same at their horizon, a burst's backlog (all made at once) went out
    # side by side a day later, every run held again
    sender = made_slow(deps)
    backlog = notify(deps, 3)
    later(deps, SCHEDULE.horizon_seconds)
    now = deps.clock.now()
    out = slow_try_until(now)
    assert deps.store.take_slow_try("p", now, out)  # one of them out

    for message in backlog[1:]:
        run_try(deps, message)
    assert len(sender.sent) == 1  # they wait their turn, their horizon passed
    assert [m for m, _ in deps.queue.scheduled] == [{**m, "waited": 1} for m in backlog[1:]]  # type: ignore[attr-defined]
    taken(deps)

    deps.store.give_back_slow_try("p", out)
    run_try(deps, backlog[1])  # its turn within the 15 minutes after: sent
    assert len(sender.sent) == 2
    assert deps.store.get_delivery("p", "wh", backlog[1]["delivery_id"]).status == "delivered"
    later(deps, 900)
    now = deps.clock.now()
    assert deps.store.take_slow_try("p", now, slow_try_until(now))
    run_try(deps, backlog[2])  # its turn not come by then: it stops, and says why
    stopped = deps.store.get_delivery("p", "wh", backlog[2]["delivery_id"])
    assert (stored := (stopped.status, stopped.tries, stopped.stopped)) == ("failed", 0, STOPPED_SLOW), stored
    assert len(sender.sent) == 2 and not taken(deps)


def test_no_change_to_the_webhook_ends_its_slowness_only_fast_tries_over_time_do(deps: WebhookDeps):
    # a tester's: any PUT ended it, so a program's admin saving the webhook every few seconds kept
    # its slow receiver's tries going side by side
    made_slow(deps)
    since = slow_since(deps)
    service.rotate_secret(deps, "p", "wh")
    for url, enabled in [("https://hooks.example.com/in", True), ("https://hooks.example.com/new", False)]:
        service.put_webhook(deps, "p", "wh", PutWebhook(url=url, events=["PartnerFlagged"], enabled=enabled))
        assert slow_since(deps) == since
    assert sent(deps) == 1
