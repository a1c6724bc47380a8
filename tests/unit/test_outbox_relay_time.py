"""The outbox relay's run fits the function's deployed timeout (infra/constants.py OUTBOX_RELAY):
it plans on the time its invocation has left (the Lambda context), not on a timeout of its own. The
real handler, on a simulated clock that the slow collaborators move: a backlog of events on a
throttled scoring queue, a bus that never answers. What each half did is read back when the deployed
function would have been stopped."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from functions.outbox_relay import handler, service
from functions.shared import aws_calls
from functions.shared.clock import FixedClock
from functions.shared.domain.model import Notification, Program
from functions.shared.domain.writes import Notify, Step
from functions.shared.errors import StorageUnavailable
from functions.shared.messaging import InMemoryPublisher
from functions.shared.runtime import Dependencies
from functions.shared.storage.memory import InMemoryRepository
from infra.constants import OUTBOX_RELAY

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
TIMEOUT = OUTBOX_RELAY.timeout_seconds


@dataclass
class Clock:
    """The run's seconds since its invocation began, moved by the slow calls."""

    seconds: float = 0.0

    def monotonic(self) -> float:
        return self.seconds


@dataclass
class Context:
    clock: Clock
    function_name: str = "fraud-management-outbox-relay"
    memory_limit_in_mb: int = OUTBOX_RELAY.memory_mb
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:000000000000:function:fraud-management-outbox-relay"
    aws_request_id: str = "relay-run"

    def get_remaining_time_in_millis(self) -> int:
        return int((TIMEOUT - self.clock.seconds) * 1000)


class Backlog(InMemoryRepository):
    """Accepted events the scoring queue never took, more than any run sends."""

    def outbox_pages(self, program_id: str, before: datetime, size: int) -> Iterator[list[Any]]:
        old = NOW - timedelta(minutes=3)
        for n in range(10_000):
            yield [
                SimpleNamespace(program_id=program_id, event_id=f"e{n}-{i}", received_at=old)
                for i in range(size)
            ]


class ThrottledQueue:
    """A page of 500 references takes 10 s (50 SendMessageBatch calls, throttled)."""

    def __init__(self, clock: Clock) -> None:
        self.clock, self.pages = clock, 0

    def send_many(self, events: list[tuple[str, str]]) -> None:
        self.clock.seconds += 10.0
        self.pages += 1

    def waiting(self) -> int:
        return 0  # throttled, not behind: scoring takes what it is sent


class Bus(InMemoryPublisher):
    """Records when each notification reached it; `silent`: each publish waits the longest a
    hand-on call may (`aws_calls.HANDED_ON`) and fails, as on a bus that never answers."""

    def __init__(self, clock: Clock, silent: bool = False, seconds_each: float = 0.01) -> None:
        super().__init__()
        self.clock, self.silent, self.tried, self.at = clock, silent, 0, []
        self.seconds_each = seconds_each

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        self.tried += 1
        if self.silent:
            self.clock.seconds += aws_calls.HANDED_ON.longest_seconds()
            raise StorageUnavailable("event bus unavailable: Read timeout (test)")
        self.clock.seconds += self.seconds_each
        super().publish(detail_type, detail)
        self.at.append(self.clock.seconds)


def _run(
    clock: Clock, store: InMemoryRepository, queue: Any, bus: Bus, monkeypatch: pytest.MonkeyPatch
) -> None:
    deps = Dependencies(store, bus, FixedClock(NOW), queue=queue)
    monkeypatch.setattr(handler, "dependencies", lambda needs=(): deps)
    # the relay's own timing, if it keeps one, reads the same simulated clock
    monkeypatch.setattr(service, "time", clock, raising=False)
    handler.lambda_handler({}, Context(clock))


def _outbox(backlog: bool, notifications: int) -> InMemoryRepository:
    store = Backlog() if backlog else InMemoryRepository()
    store.create_program(Program("prg-relay", "Relay", NOW - timedelta(days=1)))
    for n in range(notifications):
        at = NOW - timedelta(minutes=10) + timedelta(seconds=n)
        store.apply(
            Step([Notify(Notification(f"n-{n:04d}", "prg-relay", "CustomerSuspended", {"n": n}, at))])
        )
    return store


def test_a_backlog_of_events_leaves_the_notifications_their_time_within_the_deployed_timeout(monkeypatch):
    clock = Clock()
    store, queue, bus = _outbox(backlog=True, notifications=1), ThrottledQueue(clock), Bus(clock)

    _run(clock, store, queue, bus, monkeypatch)

    assert queue.pages >= 5  # the events half sent what it had time for
    assert bus.at and bus.at[0] < TIMEOUT, f"the notification would have waited till {bus.at} s"
    assert clock.seconds < TIMEOUT, f"the run ended at {clock.seconds:.0f} s, past the function's {TIMEOUT} s"
    assert store.pending_notifications("prg-relay", 10) == []


def test_a_bus_that_never_answers_ends_the_notifications_half_in_time(monkeypatch):
    clock = Clock()
    store, bus = _outbox(backlog=False, notifications=200), Bus(clock, silent=True)

    _run(clock, store, ThrottledQueue(clock), bus, monkeypatch)

    assert clock.seconds < TIMEOUT, f"the run ended at {clock.seconds:.0f} s, past the function's {TIMEOUT} s"
    assert 1 <= bus.tried < 200  # tried until its time ran out, the rest left untried
    assert len(store.pending_notifications("prg-relay", 500)) == 200  # all still in the outbox


def test_a_page_the_bus_takes_slowly_is_taken_out_as_it_goes_and_the_run_ends_in_time(monkeypatch):
    """A reviewer's find: with events backed up, a page of 1,000 notifications at 50 ms a publish
    did not fit the 30 s left to them; the run was stopped at the deployed timeout before the page
    was taken out of the outbox, and every run after sent the same 600 again."""
    clock = Clock()
    store, queue = _outbox(backlog=True, notifications=1000), ThrottledQueue(clock)
    bus = Bus(clock, seconds_each=0.05)

    _run(clock, store, queue, bus, monkeypatch)

    assert clock.seconds < TIMEOUT, f"the run ended at {clock.seconds:.0f} s, past the function's {TIMEOUT} s"
    waiting = {n.notification_id for n in store.pending_notifications("prg-relay", 1000)}
    published = {detail["notification_id"] for _, detail in bus.published}
    assert published and not published & waiting  # what the bus took left the outbox
    assert len(published) + len(waiting) == 1000  # and the rest waits for the next run
