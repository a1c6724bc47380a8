"""Where each run of a scheduled job starts its list (`turns.in_turn`; a review's): a hold sweep run
that reaches k of a shard's N flagged subjects, or an outbox relay run k of N programs, leaves the
rest for the next. Moved on by one place a run, the start left each item untaken N - k runs in a
row (1,400 of 1,500 reached: 100 runs, 25 hours); spread by a stride near 0.618 N, about N / k."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from functions.hold_sweep.service import SWEEP_PERIOD_SECONDS
from functions.shared.domain.turns import in_turn

T0 = datetime(2026, 12, 6, 12, tzinfo=UTC)


def longest_unswept(count: int, reached: int, runs: int = 600) -> int:
    """The most runs in a row any subject was not reached, over `runs` scheduled runs."""
    subjects = list(range(count))
    streak, longest = [0] * count, 0
    for run in range(runs):
        at = T0 + timedelta(seconds=run * SWEEP_PERIOD_SECONDS)
        swept = set(in_turn(subjects, at, SWEEP_PERIOD_SECONDS)[:reached])
        for subject in subjects:
            streak[subject] = 0 if subject in swept else streak[subject] + 1
            longest = max(longest, streak[subject])
    return longest


@pytest.mark.parametrize(("count", "reached"), [(40, 30), (1500, 1400), (100, 50), (7, 3), (1500, 700)])
def test_a_subject_left_by_a_run_is_reached_within_about_n_over_k_runs(count, reached):
    assert longest_unswept(count, reached) <= math.ceil(count / reached)


def test_a_few_reached_a_run_are_not_left_much_longer_than_n_over_k():
    assert longest_unswept(100, 10) <= 2 * 10  # moved by one: 90 runs


def test_runs_that_reach_one_subject_each_reach_every_one_in_n_runs():
    assert longest_unswept(48, 1) == 47
    assert longest_unswept(1, 1) == 0 and in_turn([], T0, SWEEP_PERIOD_SECONDS) == []
