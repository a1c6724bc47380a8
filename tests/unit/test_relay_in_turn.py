"""The outbox relay takes programs in turn (`in_turn`; a review's): taken one program's backlog
after another, in the same order every run (programs by id), one program's thousands of
notifications, or events, took every run's time while the programs after it waited, for as many
runs as the backlog lasted. Each run now gives every program its share first, starting elsewhere
each run, then drains the backlogs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from functions.outbox_relay.service import RUN_SECONDS, relay_all_notifications, relay_outbox
from functions.shared.clock import FixedClock
from functions.shared.domain.model import Notification, Program
from functions.shared.domain.turns import in_turn
from functions.shared.domain.writes import Notify, Step
from functions.shared.messaging import InMemoryPublisher
from functions.shared.runtime import Dependencies
from functions.shared.storage.memory import InMemoryRepository

T0 = datetime(2026, 12, 4, 9, tzinfo=UTC)
RUN = 120.0  # the relay function's seconds


class SlowBus(InMemoryPublisher):
    """Takes 250 notifications in a run's time: a run's budget, not the outbox, is what ends it."""

    def __init__(self) -> None:
        super().__init__()
        self.spent = 0.0

    def publish(self, detail_type, detail):
        self.spent += 110.0 / 250
        super().publish(detail_type, detail)


def _programs(store: InMemoryRepository) -> None:
    store.create_program(Program("prg-a-busy", "Busy", T0))  # first by id
    store.create_program(Program("prg-b-quiet", "Quiet", T0))


def test_a_busy_programs_backlog_does_not_keep_a_quiet_programs_notification_waiting():
    store = InMemoryRepository()
    _programs(store)
    for n in range(2000):  # a workflow's suspensions, made while the bus was down
        at = T0 + timedelta(milliseconds=n)
        store.apply(
            Step([Notify(Notification(f"a-{n:05d}", "prg-a-busy", "CustomerSuspended", {"n": n}, at))])
        )
    store.apply(Step([Notify(Notification("b-0", "prg-b-quiet", "PartnerFlagged", {"n": "b"}, T0))]))

    for run in range(2):  # whichever program a run starts with
        bus = SlowBus()
        deps = Dependencies(store, bus, FixedClock(T0 + timedelta(minutes=5 * run)))
        relay_all_notifications(deps, lambda bus=bus: RUN - bus.spent)
        published = [d["n"] for _, d in bus.published]
        assert 200 < len(published) < 300  # the run's time, spent
        if run == 0:
            assert "b" in published  # the quiet program's, in the first run
            assert store.pending_notifications("prg-b-quiet", 10) == []
    assert len(store.pending_notifications("prg-a-busy", 5000)) < 2000 - 400  # and the backlog drains


def test_a_busy_programs_event_backlog_does_not_keep_a_quiet_programs_event_from_the_queue():
    due = T0 + timedelta(hours=1) - timedelta(minutes=3)  # recorded 3 minutes before the run

    class Store(InMemoryRepository):
        def outbox_pages(self, program_id, before, size):
            count = 100_000 if program_id == "prg-a-busy" else 1
            for start in range(0, count, size):
                yield [
                    SimpleNamespace(program_id=program_id, event_id=f"{program_id}-{n}", received_at=due)
                    for n in range(start, min(count, start + size))
                ]

    class Queue:
        def __init__(self) -> None:
            self.spent, self.sent = 0.0, []

        def send_many(self, refs):
            self.spent += 5.0  # a page of 500: 50 SendMessageBatch calls
            self.sent += refs

        def waiting(self):
            return 0  # scoring keeps up: nothing it was sent waits

    store = Store()
    _programs(store)
    queue = Queue()
    deps = Dependencies(store, InMemoryPublisher(), FixedClock(T0 + timedelta(hours=1)), queue=queue)

    relay_outbox(deps, lambda: RUN - queue.spent)

    assert ("prg-b-quiet", "prg-b-quiet-0") in queue.sent
    assert len(queue.sent) > 5000  # the rest of the run went to the backlog


def test_the_runs_start_at_every_program_in_turn():
    programs = ["a", "b", "c", "d", "e"]
    starts = [in_turn(programs, T0 + timedelta(minutes=5 * run), RUN_SECONDS)[0] for run in range(10)]
    assert sorted(starts[:5]) == programs and starts[:5] == starts[5:]
    assert in_turn([], T0, RUN_SECONDS) == []
