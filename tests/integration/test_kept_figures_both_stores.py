"""Kept figures: the same sequences on the plain store and on DynamoDB (moto): the same figures, and on
moto the figures recounted from the items."""

from __future__ import annotations

import os
import random

import pytest

from functions.shared import runtime
from functions.shared.clock import FixedClock
from functions.shared.messaging import InMemoryPublisher
from functions.shared.runtime import Dependencies
from functions.shared.storage.memory import InMemoryRepository
from tests.kept_figures import START, World
from tests.unit.test_kept_figures_recounted import NAMES

NAMES2 = (*NAMES, "days")


def moto_world(tenant, monkeypatch) -> World:
    deps = runtime.dependencies()
    monkeypatch.setattr(deps, "publisher", InMemoryPublisher())
    monkeypatch.setattr(deps, "clock", FixedClock(START))
    return World(deps, tenant.program_id)


def memory_world(program_id: str) -> World:
    return World(Dependencies(InMemoryRepository(), InMemoryPublisher(), FixedClock(START)), program_id)


def run_both(ops, tenant, monkeypatch):
    dyn = moto_world(tenant, monkeypatch)
    mem = memory_world(tenant.program_id)
    for i, op in enumerate(ops):
        mem.do(op)
        dyn.do(op)
        assert dyn.problems() == [], (ops[: i + 1], dyn.problems())
        assert mem.figures() == dyn.figures(), (ops[: i + 1], mem.figures(), dyn.figures())


SEEDS = range(int(os.environ.get("PROBE_SEED0", "0")), int(os.environ.get("PROBE_SEEDS", "6")))


@pytest.mark.parametrize("seed", SEEDS)
def test_random_sequence_same_figures_in_both_stores(seed, aws, tenant, security_key, monkeypatch):
    rng = random.Random(seed)
    ops = [(rng.choice(NAMES2), rng.randrange(12), rng.randrange(12)) for _ in range(30)]
    run_both(ops, tenant, monkeypatch)
