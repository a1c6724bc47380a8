"""`model.evolve`, the shallow copy the rules and the in-memory store make many of per event: the
same as `dataclasses.replace` for every model, without running `__init__` again."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from functions.shared.domain.model import LinkState, Reward, Subject, evolve
from functions.shared.storage.memory_partners import _marked

AT = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def subject() -> Subject:
    return Subject(
        "prog",
        "partner",
        "p-1",
        email="a@example.com",
        devices=frozenset({"fp-1"}),
        revenue_micros={"EUR": 5},
    )


def test_evolve_gives_what_replace_gives_and_leaves_the_original_alone():
    original = subject()
    changes = {"status": "flagged", "flagged_at": AT, "devices": frozenset({"fp-1", "fp-2"}), "version": 3}

    copied = evolve(original, **changes)

    assert copied == dataclasses.replace(original, **changes)
    assert copied is not original and type(copied) is Subject
    assert (original.status, original.devices, original.version) == ("active", frozenset({"fp-1"}), 0)
    copied.revenue_micros = {}  # a copy of its own: setting a field on it does not reach the original
    assert original.revenue_micros == {"EUR": 5}


def test_evolve_copies_frozen_models_and_models_without_changes():
    state = LinkState(members=frozenset({"partner#p-1"}))
    assert evolve(state, flagged=frozenset({"partner#p-1"})) == LinkState(
        members=frozenset({"partner#p-1"}), flagged=frozenset({"partner#p-1"})
    )
    reward = Reward("prog", "r-1", "p-1", Decimal("10.00"), "EUR", "new", AT, "api")
    assert evolve(reward) == reward and evolve(reward) is not reward


def test_evolve_refuses_a_field_the_model_does_not_have():
    with pytest.raises(TypeError, match="stauts"):
        evolve(subject(), stauts="flagged")
    with pytest.raises(TypeError, match="memebers"):  # a slots model too (the link and network states)
        evolve(LinkState(), memebers=frozenset({"a"}))


def test_marks_already_there_keep_the_state_and_new_ones_make_a_new_one():
    state = LinkState(members=frozenset({"a", "b"}), flagged=frozenset({"a"}))

    assert _marked(state, {"members": frozenset({"a"}), "flagged": frozenset({"a"})}, {}) is state
    assert _marked(state, {}, {"removed": frozenset({"a"})}) is state
    marked = _marked(state, {"flagged": frozenset({"b"})}, {"members": frozenset({"a"})})
    assert marked == LinkState(members=frozenset({"b"}), flagged=frozenset({"a", "b"}))
    assert state == LinkState(members=frozenset({"a", "b"}), flagged=frozenset({"a"}))
