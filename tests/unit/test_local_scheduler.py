"""The local stand-in for EventBridge schedules: each schedule on a thread of its own (a load
tester's: one thread ran them all one after another, so a hold sweep of its 900 s held back the
outbox relay and the dispute cycle as long, where EventBridge runs each rule on its own)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local_system.scheduler import LocalScheduler, Schedule, next_month_start
from local_system.workers import WorkerSettings

RAN: list[str] = []
SWEEPING = threading.Event()
RELEASE = threading.Event()
SWEEPS: list[float] = []


def slow_sweep(event: dict[str, Any], context: Any) -> dict[str, Any]:
    SWEEPS.append(time.monotonic())
    SWEEPING.set()
    RELEASE.wait(10)  # a long run, until the test has seen enough
    return {}


def quick_relay(event: dict[str, Any], context: Any) -> dict[str, Any]:
    RAN.append(event["resources"][0].rsplit("/", 1)[1])
    return {}


def test_a_long_run_of_one_schedule_holds_no_other_back():
    for state in (RAN, SWEEPS):
        state.clear()
    SWEEPING.clear()
    RELEASE.clear()
    module = __name__
    sweep = LocalScheduler(Schedule("hold-sweep", f"{module}.slow_sweep", 0.05))
    relay = LocalScheduler(Schedule("outbox-relay", f"{module}.quick_relay", 0.1))
    for runner in (sweep, relay):
        runner.start()
    try:
        assert SWEEPING.wait(5)
        deadline = time.monotonic() + 5
        while len(RAN) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert RAN[:3] == ["outbox-relay"] * 3
        assert len(SWEEPS) == 1  # all while the one sweep still ran
    finally:
        RELEASE.set()
        for runner in (sweep, relay):
            runner.stop()
            runner.join(5)
    assert not sweep.is_alive() and not relay.is_alive()


@pytest.mark.parametrize(
    ("now", "next_run"),
    [
        ("2026-12-06T15:20:00+00:00", "2027-01-01T00:00:00+00:00"),  # a year's end
        ("2028-02-01T00:00:00+00:00", "2028-03-01T00:00:00+00:00"),  # at a run: the next month's
        ("2028-01-31T23:59:59+00:00", "2028-02-01T00:00:00+00:00"),
        ("2026-06-30T22:30:00-05:00", "2026-08-01T00:00:00+00:00"),  # 03:30 UTC on July 1st
    ],
)
def test_the_dispute_cycle_runs_locally_at_the_start_of_each_month_as_deployed(now, next_run):
    # it ran 30 days after `make run` started, whatever the date: December's verdicts on Jan 5
    assert next_month_start(datetime.fromisoformat(now)) == datetime.fromisoformat(next_run)
    assert "--dispute-cycle-seconds" not in " ".join(
        WorkerSettings(0.1, 1, 60, 900, dispute_cycle_seconds=None).arguments()
    )


def test_a_monthly_schedule_reads_the_clock_again_and_runs_once_its_time_has_come(monkeypatch):
    # a month's wait on a monotonic timer: a machine asleep over the 1st ran it a sleep late, and
    # a clock set forward never; the wall clock is read again at least hourly
    from local_system import scheduler

    now = [datetime(2026, 12, 31, 23, 0, tzinfo=UTC)]
    waits: list[float] = []

    class Clock(datetime):
        @classmethod
        def now(cls, tz=None):
            return now[0]

    def wait(timeout):
        waits.append(timeout)
        now[0] += timedelta(hours=2)  # the machine slept past the 1st meanwhile
        return False

    monkeypatch.setattr(scheduler, "datetime", Clock)
    cycle = LocalScheduler(Schedule("dispute-cycle", "functions.disputes.cycle.lambda_handler", None))
    monkeypatch.setattr(cycle.stopping, "wait", wait)

    assert cycle._next_run() is True
    assert waits == [scheduler.CLOCK_READ_SECONDS]  # one hour at most, then the clock says it is time
