"""Kept figures (the summary, each case's held and archived counts and sums) against a recount from
the items after every operation of random sequences on the plain store."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from functions.shared.clock import FixedClock
from functions.shared.messaging import InMemoryPublisher
from functions.shared.runtime import Dependencies
from functions.shared.storage.memory import InMemoryRepository
from tests.kept_figures import START, World

NAMES = (
    "flag_partner",
    "reward",
    "purchase",
    "redeliver",
    "sweep",
    "override",
    "dispute",
    "verdict",
    "cycle",
    "remove",
)
OPS = st.tuples(st.sampled_from(NAMES), st.integers(0, 11), st.integers(0, 11))


def fresh() -> World:
    return World(Dependencies(InMemoryRepository(), InMemoryPublisher(), FixedClock(START)), "prg-f")


EXAMPLES = settings(
    max_examples=int(os.environ.get("FIGURES_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


def recounted_after_each(ops) -> None:
    world = fresh()
    for i, op in enumerate(ops):
        world.do(op)
        problems = world.problems()
        assert not problems, (ops[: i + 1], problems)


@EXAMPLES
@given(st.lists(OPS, min_size=1, max_size=30))
def test_kept_figures_match_a_recount(ops):
    recounted_after_each(ops)


NAMES2 = (*NAMES, "days")
OPS2 = st.tuples(st.sampled_from(NAMES2), st.integers(0, 11), st.integers(0, 11))


@EXAMPLES
@given(st.lists(OPS2, min_size=1, max_size=40))
def test_kept_figures_match_a_recount_over_days(ops):
    recounted_after_each(ops)


NAMES3 = (*NAMES, "between", "between", "between")
OPS3 = st.tuples(st.sampled_from(NAMES3), st.integers(0, 11), st.integers(0, 15))


@EXAMPLES
@given(st.lists(OPS3, min_size=1, max_size=40))
def test_kept_figures_match_a_recount_with_operations_between_steps(ops):
    recounted_after_each(ops)
