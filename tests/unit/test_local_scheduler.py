"""The local stand-in for EventBridge schedules: each schedule on a thread of its own (a load
tester's: one thread ran them all one after another, so a hold sweep of its 900 s held back the
outbox relay and the dispute cycle as long, where EventBridge runs each rule on its own)."""

from __future__ import annotations

import threading
import time
from typing import Any

from local_system.scheduler import LocalScheduler, Schedule

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
