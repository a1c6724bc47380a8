"""The partner-program store contract, run against both stores: the DynamoDB adapter (on moto) and
the plain in-memory store. Storage only: a step is written whole or not at all, each write under
its condition; the rules that decide the steps are tested in tests/unit/test_partner_rules.py."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from functions.shared.domain.model import AuditEntry, Case, Notification, Reason, Reward, StoredEvent, Subject
from functions.shared.domain.writes import (
    Audit,
    MarkLink,
    MoveReward,
    Notify,
    PartnerArrival,
    PutCase,
    PutReward,
    ScoreEvent,
    Step,
    StepRefused,
    UpdateCase,
    UpdateProfile,
    WriteProfile,
)
from functions.shared.storage.memory import InMemoryRepository

P = "prg-contract"
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["dynamodb", "memory"])
def store(request):
    if request.param == "memory":
        return InMemoryRepository()
    return request.getfixturevalue("aws").repository


def reward(reward_id: str, status: str = "new", amount: str = "10.00") -> Reward:
    return Reward(P, reward_id, "p1", Decimal(amount), "USD", status, T0, "api")


def case(case_id: str = "c1", status: str = "open") -> Case:
    return Case(
        P, case_id, "partner", "p1", "Partner 1", [Reason("velocity", "3 sign-ups", 1, "a")], status, T0, "e1"
    )


def profile(version_seen: int = 0, **changes) -> WriteProfile:
    subject = Subject(P, "partner", "p1", name="Partner 1", devices=frozenset({"fp-1"}), **changes)
    return WriteProfile(subject, expect_version=version_seen)


def test_a_refused_step_writes_nothing_and_names_the_write_that_failed(store):
    store.apply(Step([PutReward(reward("r1"))]))
    refused_write = PutReward(reward("r1"))

    with pytest.raises(StepRefused) as refused:
        store.apply(Step([PutReward(reward("r2")), PutCase(case()), refused_write]))

    assert refused.value.write == refused_write
    with pytest.raises(Exception):  # noqa: B017 (NotFound)
        store.get_reward(P, "r2")
    with pytest.raises(Exception):  # noqa: B017
        store.get_case(P, "c1")


def test_profile_writes_are_conditional_on_the_version_read(store):
    store.apply(Step([profile(0, team="A")]))
    store.apply(Step([profile(1, team="B")]))

    with pytest.raises(StepRefused):
        store.apply(Step([profile(1, team="stale")]))  # a writer that read version 1 too

    subject = store.get_subject(P, "partner", "p1")
    assert (subject.team, subject.version) == ("B", 2)


def test_arrivals_count_on_the_partner_and_a_removal_checks_none_came(store):
    store.apply(Step([profile(0, status="flagged", flag_case_id="c1")]))
    arrival = PartnerArrival(
        P, "p1", expect_status="flagged", expect_flag_case="c1", currency="USD", micros=5_000_000
    )
    store.apply(Step([arrival]))

    with pytest.raises(StepRefused):
        store.apply(
            Step([UpdateProfile(P, "partner", "p1", {"status": "removed"}, expect={"reward_seq": 0})])
        )
    store.apply(Step([UpdateProfile(P, "partner", "p1", {"status": "removed"}, expect={"reward_seq": 1})]))

    subject = store.get_subject(P, "partner", "p1")
    assert (subject.status, subject.reward_seq, subject.revenue_micros) == ("removed", 1, {"USD": 5_000_000})
    with pytest.raises(StepRefused):  # an arrival that read the partner before the removal
        store.apply(Step([arrival]))


def test_reward_moves_are_conditional_on_status_and_overrides(store):
    store.apply(Step([PutReward(reward("r1")), PutCase(case())]))
    store.apply(Step([MoveReward(P, "r1", expect="new", status="approved", overridden=True)]))

    with pytest.raises(StepRefused):
        store.apply(Step([MoveReward(P, "r1", expect="approved", status="on_hold", never_overridden=True)]))
    assert store.get_reward(P, "r1").status == "approved"


def test_case_updates_add_figures_merge_reasons_and_respect_the_expected_status(store):
    store.apply(Step([PutCase(case())]))
    store.apply(
        Step(
            [
                UpdateCase(
                    P,
                    "c1",
                    expect=("open",),
                    held=2,
                    hold_micros={"USD": 7_000_000},
                    reasons=(Reason("velocity", "5 sign-ups", 1, "b"), Reason("cluster", "linked", 1, "c")),
                )
            ]
        )
    )
    store.apply(Step([UpdateCase(P, "c1", held=-1, hold_micros={"USD": -2_000_000})]))

    with pytest.raises(StepRefused):
        store.apply(Step([UpdateCase(P, "c1", expect=("disputed",), changes={"status": "approved"})]))
    stored = store.get_case(P, "c1")
    assert (stored.held_count, stored.hold_micros) == (1, {"USD": 5_000_000})
    assert [(r.code, r.detail, r.count) for r in stored.reasons] == [
        ("velocity", "5 sign-ups", 2),
        ("cluster", "linked", 1),
    ]


def test_case_views_follow_status_changes(store):
    store.apply(Step([PutCase(case("c1")), PutCase(case("c2"))]))
    store.apply(
        Step([UpdateCase(P, "c2", changes={"status": "removed", "removed_at": T0, "removed_by": "me"})])
    )

    assert [c.case_id for c in store.list_cases(P, "active")] == ["c1"]
    assert [c.case_id for c in store.list_cases(P, "removed")] == ["c2"]


def test_marks_add_and_remove_members_of_a_link(store):
    key = ("device", "fp-9")
    store.apply(
        Step(
            [
                MarkLink(
                    P,
                    key,
                    add={
                        "members": frozenset({"partner:a", "partner:b"}),
                        "flagged": frozenset({"partner:a", "partner:b"}),
                    },
                )
            ]
        )
    )
    store.apply(Step([MarkLink(P, key, remove={"flagged": frozenset({"partner:a"})})]))

    state = store.scoring_snapshot(P, ("partner", "x"), None, [key], [], []).links[key]
    assert (state.members, state.flagged) == (frozenset({"partner:a", "partner:b"}), frozenset({"partner:b"}))


def test_an_event_is_scored_once_and_its_notes_kept(store):
    store.record_event(StoredEvent(P, "e1", "test", {"id": "e1"}, "h", T0, T0))
    store.apply(Step([ScoreEvent(P, "e1", {"score": 1}, None, ("reward r1 refused",))]))

    with pytest.raises(StepRefused):
        store.apply(Step([ScoreEvent(P, "e1", {"score": 2}, None)]))
    event = store.get_event(P, "e1")
    assert (event.status, event.decision, event.notes) == ("scored", {"score": 1}, ("reward r1 refused",))


def test_notifications_wait_in_the_outbox_until_delivered_and_audit_entries_are_idempotent(store):
    note = Notification("n1", P, "RewardsHeld", {"count": 1}, T0)
    entry = AuditEntry(T0, "rewards_held", "system", {"rewards": ["r1"]})
    store.apply(Step([PutCase(case()), Notify(note), Audit(P, "c1", entry, "a1")]))
    store.apply(Step([Audit(P, "c1", entry, "a1")]))  # the same decision written again

    assert store.pending_notifications(P, 10) == [note]
    store.notifications_delivered([note])
    assert store.pending_notifications(P, 10) == []
    assert len(store.case_audit(P, "c1")) == 1
