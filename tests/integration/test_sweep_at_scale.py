"""The hold sweep when a run cannot reach every flagged subject (SPEC 4: every 15 minutes). It swept
the 16 shards one after the other, each from its start, until its invocation was killed (300 s):
past some tens of thousands of flagged subjects, those at the end of the last shards were never
swept. Now a run stops in time and says how many it left, and each run starts each shard at
another place, so every subject is reached. On the DynamoDB adapter (moto), the real service."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from functions.hold_sweep.service import SWEEP_PERIOD_SECONDS, TIME_MARGIN_SECONDS, sweep
from functions.shared import runtime
from functions.shared.clock import FixedClock
from functions.shared.config import ConfigurationError
from functions.shared.domain.model import Case, Reason, Reward, Subject
from functions.shared.domain.writes import PutCase, PutReward, Step, WriteProfile
from functions.shared.storage.dynamodb_partners import flagged_shard

P = "prg-sweep-scale"
FLAGGED = datetime(2026, 11, 2, 9, tzinfo=UTC)
SUBJECTS = 48


def flagged_with_a_stray(store, n: int) -> None:
    """Partner n, flagged under case c{n}, with a `new` reward created after the flag (one that
    raced the flag: the sweep's to hold)."""
    partner = Subject(
        P, "partner", f"p{n}", f"P {n}", status="flagged", flagged_at=FLAGGED, flag_case_id=f"c{n}"
    )
    case = Case(P, f"c{n}", "partner", f"p{n}", f"P {n}", [Reason("velocity", "x")], "open", FLAGGED, f"e{n}")
    stray = Reward(P, f"r{n}", f"p{n}", Decimal("5.00"), "USD", "new", FLAGGED + timedelta(minutes=n), "api")
    store.apply(Step([WriteProfile(partner, expect_version=0), PutCase(case), PutReward(stray)]))


def held(store, subjects: int = SUBJECTS) -> set[int]:
    return {n for n in range(subjects) if store.get_reward(P, f"r{n}").status == "on_hold"}


class Budget:
    """The invocation's time left, as the handler reads it from the Lambda context: plenty for
    `subjects` subjects of the run, then less than the margin (from whichever shard asks)."""

    def __init__(self, subjects: int) -> None:
        self.subjects, self.lock = subjects, threading.Lock()

    def __call__(self) -> float:
        with self.lock:
            self.subjects -= 1
            return 60.0 if self.subjects >= 0 else TIME_MARGIN_SECONDS - 1


def test_the_fixture_spreads_the_subjects_over_shards_of_several_each():
    shards = [flagged_shard(P, "partner", f"p{n}") for n in range(SUBJECTS)]
    assert len(set(shards)) > 8 and max(shards.count(s) for s in set(shards)) >= 3


def test_a_run_out_of_time_stops_says_what_it_left_and_the_next_one_holds_the_rest(aws):
    store = aws.repository
    for n in range(SUBJECTS):
        flagged_with_a_stray(store, n)
    deps = replace(runtime.dependencies(), clock=FixedClock(FLAGGED + timedelta(days=1)))

    first = sweep(deps, Budget(20))

    assert (first.subjects, first.held, first.left, first.failed) == (20, 20, SUBJECTS - 20, [])
    assert len(held(store)) == 20
    second = sweep(deps)  # time enough
    assert second.held == SUBJECTS - 20 and second.left == 0
    assert held(store) == set(range(SUBJECTS))


class OnePerShard:
    """Time for one subject in each shard: the shards' threads meet first (so each thread holds one
    shard), then each is told there is time for one subject and no more."""

    def __init__(self, shards: int) -> None:
        self.meet, self.mine = threading.Barrier(shards, timeout=30), threading.local()

    def __call__(self) -> float:
        if not hasattr(self.mine, "asked"):
            self.meet.wait()
            self.mine.asked = 0
        self.mine.asked += 1
        return 60.0 if self.mine.asked == 1 else TIME_MARGIN_SECONDS - 1


def test_runs_that_each_reach_one_subject_a_shard_reach_every_one_in_turn(aws):
    store = aws.repository
    for n in range(SUBJECTS):
        flagged_with_a_stray(store, n)
    shards = [flagged_shard(P, "partner", f"p{n}") for n in range(SUBJECTS)]
    used, longest = set(shards), max(shards.count(s) for s in set(shards))
    start = FLAGGED + timedelta(days=1)

    reached: list[int] = []
    for run in range(longest):  # one scheduled run after another, each with time for one a shard
        at = start + timedelta(seconds=run * SWEEP_PERIOD_SECONDS)
        report = sweep(replace(runtime.dependencies(), clock=FixedClock(at)), OnePerShard(len(used)))
        assert report.subjects == len(used) and report.left == SUBJECTS - len(used)
        reached.append(len(held(store)))

    # every run starts each shard a place further on: the tails are reached too, and all are held
    assert held(store) == set(range(SUBJECTS)), reached


def test_the_handler_sweeps_with_the_workers_configured_and_refuses_a_wrong_number(aws, monkeypatch):
    from local_system.lambda_runtime import invoke
    from local_system.scheduler import scheduled_event

    store = aws.repository
    for n in range(6):
        flagged_with_a_stray(store, n)
    handler = "functions.hold_sweep.handler.lambda_handler"
    for wrong in ("0", "17", "many"):
        monkeypatch.setenv("HOLD_SWEEP_WORKERS", wrong)
        with pytest.raises(ConfigurationError, match="HOLD_SWEEP_WORKERS"):
            invoke(handler, scheduled_event("hold-sweep"))
    assert held(store, 6) == set()  # nothing swept on a wrong configuration

    monkeypatch.setenv("HOLD_SWEEP_WORKERS", "1")
    report = invoke(handler, scheduled_event("hold-sweep"), timeout_seconds=300)

    assert (report["held"], report["left"]) == (6, 0) and held(store, 6) == set(range(6))
