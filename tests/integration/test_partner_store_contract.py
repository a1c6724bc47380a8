"""The partner-program store contract, run against both stores: the DynamoDB adapter (on moto) and
the plain in-memory store. Storage only: a step is written whole or not at all, each write under
its condition; the rules that decide the steps are tested in tests/unit/test_partner_rules.py."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import count

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from functions.shared.domain.holdables import ListChange, change, listed_id
from functions.shared.domain.model import (
    AuditEntry,
    Case,
    Holdables,
    Notification,
    Reason,
    Reward,
    StoredEvent,
    Subject,
)
from functions.shared.domain.profiles import adds_identifiers
from functions.shared.domain.summary import FlagDay, SummaryFigures, counted
from functions.shared.domain.writes import (
    MAX_STEP_ITEMS,
    NO_VERDICT,
    Audit,
    AwaitTransaction,
    CountSummary,
    DayFlags,
    FlagMoved,
    ListRewards,
    MarkLink,
    MarkNetwork,
    MoveReward,
    Notify,
    PartnerArrival,
    PutCase,
    PutReward,
    ScoreEvent,
    SpillIdentifier,
    Step,
    StepRefused,
    UpdateCase,
    UpdateProfile,
    WriteProfile,
)
from functions.shared.errors import NotFound
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


def test_a_profile_update_can_expect_the_version_read(store):
    store.apply(Step([profile(0, status="flagged", active_case_id="c1")]))
    store.apply(Step([profile(1, status="flagged", active_case_id="c1", team="B")]))  # an event meanwhile
    unflag = {"status": "active", "active_case_id": None}

    with pytest.raises(StepRefused):  # an approval that read version 1
        store.apply(Step([UpdateProfile(P, "partner", "p1", unflag, expect={"version": 1})]))
    assert store.get_subject(P, "partner", "p1").status == "flagged"
    store.apply(
        Step([UpdateProfile(P, "partner", "p1", unflag, expect={"active_case_id": "c1", "version": 2})])
    )

    subject = store.get_subject(P, "partner", "p1")
    assert (subject.status, subject.version) == ("active", 3)


def test_a_removal_keeps_on_the_partner_whether_it_blocks_re_applying(store):
    store.apply(Step([profile(0, status="flagged", active_case_id="c1")]))
    removed = {"status": "removed", "active_case_id": None, "block_reapply": True}
    store.apply(Step([UpdateProfile(P, "partner", "p1", removed, expect={"version": 1})]))

    subject = store.get_subject(P, "partner", "p1")
    assert (subject.status, subject.block_reapply) == ("removed", True)
    store.apply(Step([profile(2, status="removed", block_reapply=True, team="later")]))  # a later event
    assert store.get_subject(P, "partner", "p1").block_reapply is True


def test_profile_writes_count_those_that_add_identifiers(store):
    store.apply(Step([profile(0)]))  # fp-1
    read = store.get_subject(P, "partner", "p1")
    store.apply(Step([replace(profile(1, team="B"), before=read)]))  # the same identifiers
    read = store.get_subject(P, "partner", "p1")
    assert read.identifier_seq == 1
    store.apply(Step([replace(profile(2, ips=frozenset({"81.2.69.160"})), before=read)]))
    unflag = {"status": "active"}

    with pytest.raises(StepRefused):  # an approval that read the identifiers before that IP
        store.apply(Step([UpdateProfile(P, "partner", "p1", unflag, expect={"identifier_seq": 1})]))
    store.apply(Step([UpdateProfile(P, "partner", "p1", unflag, expect={"identifier_seq": 2})]))
    assert store.get_subject(P, "partner", "p1").status == "active"
    # a payout account whose link is crowded is kept in `payout` only, in no set: still counted
    read = store.get_subject(P, "partner", "p1")
    crowded = replace(read, payout="GB00CROWDED0000000000", version=read.version)
    store.apply(Step([WriteProfile(crowded, expect_version=read.version, before=read)]))
    assert store.get_subject(P, "partner", "p1").identifier_seq == 3


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


def test_a_partners_revenue_waits_on_its_item_until_it_is_stored(store):
    def arrival(kept: bool, currency: str = "USD", micros: int = 5_000_000) -> PartnerArrival:
        return PartnerArrival(
            P, "p1", None, None, currency=currency, micros=micros, reward=False, revenue_kept=kept
        )

    def kept() -> bool:
        return store.scoring_snapshot(P, ("customer", "c1"), "p1", [], [], []).partner_revenue_kept

    # Given purchases through a partner not stored yet, each on the revenue kept as it was read
    assert not kept()
    with pytest.raises(StepRefused):  # read as kept when none is: a concurrent first one won
        store.apply(Step([arrival(True)]))
    store.apply(Step([arrival(False)]))
    assert kept()
    with pytest.raises(StepRefused):  # read as none when some is
        store.apply(Step([arrival(False)]))
    store.apply(Step([arrival(True, "EUR", 7)]))
    store.apply(Step([arrival(True)]))
    with pytest.raises(NotFound):
        store.get_subject(P, "partner", "p1")

    # When its profile is first written, then a purchase arrives through it stored
    store.apply(Step([profile(0)]))
    store.apply(Step([PartnerArrival(P, "p1", "active", None, currency="USD", micros=1, reward=False)]))

    # Then its revenue is all of them
    assert store.get_subject(P, "partner", "p1").revenue_micros == {"USD": 10_000_001, "EUR": 7}
    assert not kept()  # stored: nothing waits any more


def test_a_subjects_list_of_holdable_rewards_waits_on_its_item_until_it_is_stored(store):
    def snapshot(subject_id: str = "p1"):
        return store.scoring_snapshot(P, ("partner", subject_id), None, [], [], [])

    # Given rewards arriving for a partner not stored yet: its list is kept, the partner is not
    early = replace(reward("r-early", "pending"), created_at=T0 + timedelta(minutes=5))
    store.apply(
        Step(
            [
                PartnerArrival(
                    P,
                    "p1",
                    expect_status=None,
                    expect_flag_case=None,
                    listed=change(Holdables(), arriving=[early]),
                )
            ]
        )
    )
    store.apply(Step([ListRewards(P, "partner", "p1", ListChange(unlisted_add=frozenset({42})))]))
    with pytest.raises(NotFound):
        store.get_subject(P, "partner", "p1")
    read = snapshot()
    assert read.subject is None and read.holdables.unlisted == {42}
    assert [listed_id(e) for e in read.holdables.entries] == ["r-early"]
    with pytest.raises(StepRefused):  # a stored partner refuses an arrival for one not stored
        store.apply(
            Step([profile(0), PartnerArrival(P, "p2", expect_status="active", expect_flag_case=None)])
        )

    # When its profile is first written (a version-0 write: the list alone does not make it stored)
    later = replace(reward("r-later", "new"), created_at=T0 + timedelta(minutes=9))
    store.apply(Step([replace(profile(0), listed=change(read.holdables, arriving=[later]))]))

    # Then both entries are there, each change per entry, and the profile is stored
    assert store.get_subject(P, "partner", "p1").version == 1
    assert sorted(listed_id(e) for e in snapshot().holdables.entries) == ["r-early", "r-later"]
    store.apply(Step([ListRewards(P, "partner", "p1", ListChange(remove=frozenset({"r-early"})))]))
    assert [listed_id(e) for e in snapshot().holdables.entries] == ["r-later"]
    with pytest.raises(StepRefused):  # never stored twice
        store.apply(Step([profile(0)]))


def test_no_more_rewards_wait_on_a_transaction_than_its_claim_may_tie(store):
    # a reviewer's: rewards scored at once each read room on the claim, all were added, and the
    # claim's step, tying them all, passed DynamoDB's 100 items: the transaction was never scored
    waits = [AwaitTransaction(P, "t-basket", f"entry-{n}", 2) for n in range(3)]
    store.apply(Step([waits[0]]))
    store.apply(Step([waits[1]]))

    with pytest.raises(StepRefused):  # two wait already: the third read one, and is refused
        store.apply(Step([waits[2]]))
    read = store.scoring_snapshot(P, ("customer", "any"), None, [], [], [], None, None, "t-basket")
    assert read.transaction_waiting == frozenset({"entry-0", "entry-1"})


def test_reward_moves_are_conditional_on_status_and_overrides(store):
    store.apply(Step([PutReward(reward("r1")), PutCase(case())]))
    store.apply(Step([MoveReward(P, "r1", expect="new", status="approved", overridden=True)]))

    with pytest.raises(StepRefused):
        store.apply(Step([MoveReward(P, "r1", expect="approved", status="on_hold", never_overridden=True)]))
    assert store.get_reward(P, "r1").status == "approved"


def test_a_reward_an_approval_released_is_kept_released(store):
    """`Reward.released`: written by the move that releases it, read back by every read."""
    store.apply(Step([PutReward(reward("r1", "pending")), PutCase(case())]))
    store.apply(Step([MoveReward(P, "r1", expect="pending", status="on_hold", case_id="c1")]))
    assert store.get_reward(P, "r1").released is False
    release = MoveReward(P, "r1", expect="on_hold", status="pending", expect_case="c1", released=True)
    store.apply(Step([release]))
    # held again by its customer's flag, and released by the customer's approval: released still
    store.apply(Step([MoveReward(P, "r1", expect="pending", status="on_hold", case_id="c2")]))
    store.apply(Step([MoveReward(P, "r1", expect="on_hold", status="pending", expect_case="c2")]))
    assert [(r.status, r.released) for r in store.subject_rewards(P, "partner", "p1")] == [("pending", True)]
    assert store.get_reward(P, "r1").released is True


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


def test_a_case_update_may_expect_the_verdict_there_or_none(store):
    # a verdict that replaces the one its caller saw, or a first one, holds only while that is so
    store.apply(Step([PutCase(case(status="disputed"))]))
    first = UpdateCase(
        P, "c1", expect=("disputed",), changes={"verdict": "approve"}, expect_verdict=NO_VERDICT
    )
    store.apply(Step([first]))

    with pytest.raises(StepRefused):  # a second "first" verdict: one is there now
        store.apply(Step([replace(first, changes={"verdict": "decline"})]))
    with pytest.raises(StepRefused):  # replacing a verdict that is not the one there
        store.apply(Step([replace(first, changes={"verdict": "decline"}, expect_verdict="decline")]))
    assert store.get_case(P, "c1").verdict == "approve"
    store.apply(Step([replace(first, changes={"verdict": "decline"}, expect_verdict="approve")]))
    assert store.get_case(P, "c1").verdict == "decline"


def test_case_views_follow_status_changes(store):
    store.apply(Step([PutCase(case("c1")), PutCase(case("c2"))]))
    store.apply(
        Step([UpdateCase(P, "c2", changes={"status": "removed", "removed_at": T0, "removed_by": "me"})])
    )

    assert [c.case_id for c in store.cases_in_view(P, "active", True)] == ["c1"]
    assert [c.case_id for c in store.cases_in_view(P, "removed", True)] == ["c2"]


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


def test_a_network_item_keeps_its_first_giver_once_beside_its_marks(store):
    # a payout account's first giver (`links.network_first`): kept by the first write naming one,
    # whatever later writes name, alone or with marks
    key = ("payout", "nk-9")
    store.apply(Step([MarkNetwork(key, first="prog-a.jane", first_by=frozenset({"t-mail", "t-device"}))]))
    marked = {"flagged": frozenset({"prog-b.throwaway"})}
    store.apply(Step([MarkNetwork(key, marked, first="prog-b.throwaway", first_by=frozenset({"t-other"}))]))
    store.apply(Step([MarkNetwork(key, first="prog-c.other")]))

    state = store.scoring_snapshot(P, ("partner", "x"), None, [], [key], []).network[key]
    assert (state.first, state.first_by) == ("prog-a.jane", frozenset({"t-mail", "t-device"}))
    assert state.flagged == frozenset({"prog-b.throwaway"})
    unknown = store.scoring_snapshot(P, ("partner", "x"), None, [], [("payout", "nk-0")], []).network
    assert unknown[("payout", "nk-0")].first is None


def test_a_links_velocity_slots_add_up_and_the_stale_ones_go_with_a_count(store):
    key = ("ip", "81.2.69.160")
    hour = {"members": frozenset({"partner:a"})}
    for slot in ("signup:20261102T06", "signup:20261102T07", "txn:20261102T07", "signup:20261102T07"):
        store.apply(Step([MarkLink(P, key, hour, count_up=frozenset({slot}))]))
    read = store.scoring_snapshot(P, ("partner", "x"), None, [key], [], []).links[key]
    assert dict(read.counts) == {"signup:20261102T06": 1, "signup:20261102T07": 2, "txn:20261102T07": 1}

    stale = frozenset({"signup:20261102T06", "txn:20261102T04"})  # one held, one never written
    store.apply(Step([MarkLink(P, key, count_up=frozenset({"signup:20261102T09"}), stale=stale)]))
    state = store.scoring_snapshot(P, ("partner", "x"), None, [key], [], []).links[key]
    assert dict(state.counts) == {"signup:20261102T07": 2, "txn:20261102T07": 1, "signup:20261102T09": 1}
    assert state.members == frozenset({"partner:a"})  # the members untouched by a count alone


def test_a_guarded_join_stands_only_while_the_link_names_the_members_it_read(store):
    key = ("email", "twin@example.com")
    joins = {"members": frozenset({"partner:b"})}
    store.apply(Step([MarkLink(P, key, {"members": frozenset({"partner:a"})}, expect_members=0)]))

    with pytest.raises(StepRefused) as refused:  # read before a joined: it saw no one
        store.apply(Step([MarkLink(P, key, joins, expect_members=0)]))
    assert isinstance(refused.value.write, MarkLink)
    with pytest.raises(StepRefused):
        store.apply(Step([MarkLink(P, key, joins, expect_members=2)]))
    store.apply(Step([MarkLink(P, key, joins, expect_members=1)]))  # read after a joined
    state = store.scoring_snapshot(P, ("partner", "x"), None, [key], [], []).links[key]
    assert state.members == frozenset({"partner:a", "partner:b"})
    store.apply(Step([MarkLink(P, key, {"flagged": frozenset({"partner:b"})})]))  # unguarded: a mark


def test_identifiers_spilled_out_of_a_profile_are_kept_once_and_read_with_the_subject(store):
    profile = Subject(P, "partner", "p1", devices=frozenset({"fp-kept"}))
    store.apply(Step([WriteProfile(profile, expect_version=0)]))
    spills = [SpillIdentifier(P, "partner", "p1", "devices", f"fp-{n}") for n in range(3)]
    store.apply(Step([UpdateProfile(P, "partner", "p1", {"spill_count": 3}), *spills]))
    store.apply(Step([spills[0]]))  # written again (a retry): still one

    assert store.spilled_identifiers(P, "partner", "p1") == {("devices", f"fp-{n}") for n in range(3)}
    read = store.get_subject(P, "partner", "p1")
    assert read.spilled == {("devices", f"fp-{n}") for n in range(3)} and read.devices == {"fp-kept"}
    assert store.spilled_identifiers(P, "partner", "p2") == frozenset()


def test_an_event_is_scored_once_and_its_notes_kept(store):
    store.record_event(StoredEvent(P, "e1", "test", {"id": "e1"}, "h", T0, T0))
    store.apply(Step([ScoreEvent(P, "e1", {"score": 1}, None, ("reward r1 refused",))]))

    with pytest.raises(StepRefused):
        store.apply(Step([ScoreEvent(P, "e1", {"score": 2}, None)]))
    event = store.get_event(P, "e1")
    assert (event.status, event.decision, event.notes) == ("scored", {"score": 1}, ("reward r1 refused",))


def test_an_events_body_is_given_back_as_both_stores_keep_it(store):
    # a body parsed with its numbers' digits (`Decimal`): read back as their text on both stores, so
    # that scoring, and the retry compared with it (`ingest.service._retried`), see one body
    body = {"id": "e1", "reward": {"amount": Decimal("12.50"), "currency": "USD"}, "n": 3, "ok": True}
    store.record_event(StoredEvent(P, "e1", "test", body, "h", T0, T0))

    kept = store.get_event(P, "e1").body
    assert kept == {"id": "e1", "reward": {"amount": "12.50", "currency": "USD"}, "n": 3, "ok": True}
    assert store.get_events([(P, "e1")])[(P, "e1")].body == kept


def test_an_event_marked_failed_then_scored_after_a_redrive_says_no_failure(store):
    # an operator's find: a message redriven from the dead-letter queue was scored, and its event
    # still said the failure of its last delivery before
    store.record_event(StoredEvent(P, "e1", "test", {"id": "e1"}, "h", T0, T0))
    store.mark_event_failed(P, "e1", "scoring failed: an internal error (reported to the operators)")
    assert store.get_event(P, "e1").failure

    store.apply(Step([ScoreEvent(P, "e1", {"score": 1}, None)]))

    event = store.get_event(P, "e1")
    assert (event.status, event.decision, event.failure) == ("scored", {"score": 1}, None)


def test_notifications_wait_in_the_outbox_until_delivered_and_audit_entries_are_idempotent(store):
    note = Notification("n1", P, "RewardsHeld", {"count": 1}, T0)
    entry = AuditEntry(T0, "rewards_held", "system", {"rewards": ["r1"]})
    store.apply(Step([PutCase(case()), Notify(note), Audit(P, "c1", entry, "a1")]))
    store.apply(Step([Audit(P, "c1", entry, "a1")]))  # the same decision written again

    assert store.pending_notifications(P, 10) == [note]
    store.notifications_delivered([note])
    assert store.pending_notifications(P, 10) == []
    assert len(list(store.case_audit(P, "c1"))) == 1


# --- read side: lazy listings from the indexes, the kept summary (both stores agree) -------------
def timed_reward(reward_id: str, minute: int, status: str = "new") -> Reward:
    return Reward(P, reward_id, "p1", Decimal("1.00"), "USD", status, T0 + timedelta(minutes=minute), "api")


def test_a_subjects_rewards_are_read_between_two_times_both_included(store):
    store.apply(Step([PutReward(timed_reward(f"r{n:02}", n)) for n in range(6)]))
    at = T0 + timedelta(minutes=1)

    def ids(**bounds):
        return [r.reward_id for r in store.subject_rewards(P, "partner", "p1", **bounds)]

    assert ids(since=at, until=at + timedelta(minutes=2)) == ["r01", "r02", "r03"]
    assert ids(until=at) == ["r00", "r01"]
    assert ids(since=at + timedelta(minutes=4)) == ["r05"]
    assert ids(since=at, until=at - timedelta(seconds=1)) == []


def test_program_rewards_list_newest_first_by_status_and_past_a_position(store):
    # Given 40 rewards over 40 minutes (more than one shard read each), every 4th put on hold
    store.apply(Step([PutReward(timed_reward(f"r{n:02}", n)) for n in range(40)]))
    store.apply(
        Step(
            [MoveReward(P, f"r{n:02}", expect="new", status="on_hold", case_id="c1") for n in range(0, 40, 4)]
        )
    )
    store.apply(Step([PutReward(Reward("prg-other", "x1", "p1", Decimal(1), "USD", "new", T0, "api"))]))

    newest = [r.reward_id for r in store.program_rewards(P)]
    held = [r.reward_id for r in store.program_rewards(P, "on_hold")]
    before = (T0 + timedelta(minutes=10), "r10")

    assert newest == [f"r{n:02}" for n in range(39, -1, -1)]  # the other program's never
    assert held == [f"r{n:02}" for n in range(36, -1, -4)]  # the status index follows the move
    assert [r.reward_id for r in store.program_rewards(P, None, before)] == [
        f"r{n:02}" for n in range(9, -1, -1)
    ]
    assert [r.reward_id for r in store.program_rewards(P, "on_hold", before)] == ["r08", "r04", "r00"]
    assert [r.reward_id for r in store.program_rewards(P, "new", before)][:2] == ["r09", "r07"]
    assert list(store.program_rewards(P, "paid")) == []


def test_cases_in_view_page_in_flag_order_both_ways(store):
    cases = [replace(case(f"c{n}"), flagged_at=T0 + timedelta(hours=n)) for n in range(5)]
    store.apply(Step([PutCase(c) for c in cases]))
    store.apply(Step([UpdateCase(P, "c2", expect=("open",), changes={"status": "approved"})]))

    newest = [c.case_id for c in store.cases_in_view(P, "active", True)]
    oldest = [c.case_id for c in store.cases_in_view(P, "active", False, (T0 + timedelta(hours=1), "c1"))]

    assert newest == ["c4", "c3", "c1", "c0"]
    assert oldest == ["c3", "c4"]
    assert [c.case_id for c in store.cases_in_view(P, "resolved", True)] == ["c2"]


def test_a_case_whose_flag_moves_back_moves_in_its_view_and_between_days(store):
    # Given three open cases flagged a day apart, each counted on its day
    cases = [replace(case(f"c{n}"), flagged_at=T0 + timedelta(days=n)) for n in range(3)]
    for c in cases:
        store.apply(counted(Step([PutCase(c)])))

    # When the newest one's flag moves back to the day before the oldest, with a reason of its own
    moved = UpdateCase(
        P,
        "c2",
        expect=("open", "disputed"),
        changes={"flagged_at": T0 - timedelta(days=1), "flag_event_id": "e0"},
        flags=1,
        flag_moved=FlagMoved(T0 + timedelta(days=2), ("velocity",), ("cluster",)),
    )
    store.apply(counted(Step([moved])))

    # Then it stands by its new time, both ways, and the day it left no longer counts it
    assert [c.case_id for c in store.cases_in_view(P, "active", True)] == ["c1", "c0", "c2"]
    assert [c.case_id for c in store.cases_in_view(P, "active", False)] == ["c2", "c0", "c1"]
    assert (store.get_case(P, "c2").flagged_at, store.get_case(P, "c2").flag_event_id) == (
        T0 - timedelta(days=1),
        "e0",
    )
    figures = store.summary_figures(P, date(2026, 10, 30))
    assert {d.day.isoformat(): (d.count, d.by_reason) for d in figures.flag_days if d.count} == {
        "2026-11-01": (1, {"cluster": 1}),
        "2026-11-02": (1, {"velocity": 1}),
        "2026-11-03": (1, {"velocity": 1}),
    }
    assert figures.cases == {"open": 3}


def test_summary_figures_add_up_and_flag_days_are_kept_per_day(store):
    opened = CountSummary(
        P,
        cases={"open": 2},
        held=3,
        held_micros={"USD": 5_000_000, "EUR": 1},
        days=(DayFlags("2026-11-02", 2, {"velocity": 2, "cluster": 1}, 1_900_000_000),),
    )
    store.apply(Step([opened]))
    store.apply(Step([CountSummary(P, cases={"open": -1, "disputed": 1}, held=-1, held_micros={"EUR": -1})]))
    store.apply(
        Step([CountSummary(P, cases={"open": 1}, days=(DayFlags("2026-11-05", 1, {"velocity": 1}),))])
    )

    figures = store.summary_figures(P, date(2026, 11, 3))

    assert (figures.cases, figures.held, figures.held_micros) == (
        {"open": 2, "disputed": 1},
        2,
        {"USD": 5_000_000},
    )
    assert figures.flag_days == (FlagDay(date(2026, 11, 5), 1, {"velocity": 1}),)  # Nov 2 is before `since`
    assert store.summary_figures(P, date(2026, 11, 1)).flag_days[0] == FlagDay(
        date(2026, 11, 2), 2, {"velocity": 2, "cluster": 1}
    )
    assert store.summary_figures("prg-other", date(2026, 11, 1)) == SummaryFigures()


def test_a_step_with_its_summary_figures_is_written_whole_or_not_at_all(store):
    # Given a step of the most writes the rules may make, with the summary items it implies
    writes = [PutReward(timed_reward(f"r{n:02}", n)) for n in range(MAX_STEP_ITEMS - 1)]
    step = counted(Step([*writes, PutCase(case())]))
    assert len(step) == MAX_STEP_ITEMS + 1  # the summary write: two items, room kept for them

    store.apply(step)

    assert store.summary_figures(P, date(2026, 11, 1)).cases == {"open": 1}
    with pytest.raises(StepRefused):  # the case exists: nothing more is counted
        store.apply(counted(Step([PutCase(case())])))
    assert store.summary_figures(P, date(2026, 11, 1)).flag_days[0].count == 1


def test_a_wave_of_flags_spreads_over_the_summary_shards_and_the_box_adds_them_up(aws):
    """Every case opened, held or resolved adds to the summary in its own transaction; DynamoDB
    cancels all but one of the transactions that touch an item at the same moment, so with one
    totals item a fraud wave's flags were scored one after another, and one partition took every
    flag's and hold's writes. The figures a program had before the shards still count."""
    import boto3

    from functions.shared.storage import keys

    store, name, raw = aws.repository, aws.resources.table_name, boto3.client("dynamodb")
    before = {
        "TOTALS": {"cases_open": {"N": "2"}, "rewards_held": {"N": "1"}, "held_USD": {"N": "1000000"}},
        "FLAGS#2026-11-01": {"count": {"N": "2"}, "reason_velocity": {"N": "2"}},
    }
    for sort_key, figures in before.items():  # as the one summary partition held them
        item = {"pk": {"S": f"P#{P}#SUMMARY"}, "sk": {"S": sort_key}, **figures}
        raw.put_item(TableName=name, Item=item)
    for n in range(40):
        store.apply(counted(Step([PutCase(case(f"wave-{n}"))])))
    disputed = {"status": "disputed", "disputed_at": T0}
    store.apply(counted(Step([UpdateCase(P, "wave-0", expect=("open",), changes=disputed)])))

    figures = store.summary_figures(P, date(2026, 11, 1))

    def totals(shard: int) -> dict | None:
        key = {"pk": {"S": keys.summary_pk(P, shard)}, "sk": {"S": "TOTALS"}}
        return raw.get_item(TableName=name, Key=key).get("Item")

    assert all(totals(shard) for shard in range(keys.SUMMARY_SHARDS))  # 40 cases: every shard used
    assert figures.cases == {"open": 2 + 39, "disputed": 1}
    assert (figures.held, figures.held_micros) == (1, {"USD": 1_000_000})
    assert figures.flag_days == (
        FlagDay(date(2026, 11, 1), 2, {"velocity": 2}),
        FlagDay(T0.date(), 40, {"velocity": 40}),
    )


# --- a profile written as the difference from the one read --------------------------------------
_texts = st.one_of(st.none(), st.sampled_from(["a", "b", "ab@example.com"]))
_times = st.one_of(st.none(), st.sampled_from([T0, T0 + timedelta(hours=1)]))
_members = st.frozensets(st.sampled_from(["x", "y", "z"]), max_size=3)
_lists = st.lists(st.sampled_from(["t1", "t2"]), max_size=2, unique=True).map(tuple)
_profiles = st.fixed_dictionaries(
    {
        "name": st.sampled_from(["", "Partner 1", "Partner One"]),
        "email": _texts,
        "email_normalized": _texts,
        "payout": _texts,
        "country": st.sampled_from([None, "GB", "FR"]),
        "group": _texts,
        "team": _texts,
        "signup_at": _times,
        "changed_at": _times,
        "status": st.sampled_from(["active", "flagged", "removed"]),
        "flagged_at": _times,
        "active_case_id": st.sampled_from([None, "c1", "c2"]),
        "flag_case_id": st.sampled_from([None, "c1", "c2"]),
        "marks_pending": st.booleans(),
        "customer_marks": st.booleans(),
        "last_payout_change_at": _times,
        "unfamiliar": st.lists(
            st.sampled_from(
                [
                    "2026-11-02T03:10:00+00:00 US 81.2.69.160 fp-x",
                    "2026-11-02T04:00:00+00:00 hosting 8.8.8.8 fp y",
                ]
            ),
            max_size=2,
            unique=True,
        ).map(tuple),
        "emails": _members,
        "devices": _members,
        "ips": _members,
        "payouts": _members,
        "tags": _lists,
        "segments": _lists,
        "keys": _lists,
    }
)
_written = count()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    first=_profiles, second=_profiles, marks_done_meanwhile=st.booleans(), rewritten_meanwhile=st.booleans()
)
def test_a_profile_written_as_its_difference_from_the_one_read_is_the_profile_decided(
    store, first, second, marks_done_meanwhile, rewritten_meanwhile
):
    subject_id = f"diff-{next(_written)}"
    stored = Subject(P, "partner", subject_id, **first)
    store.apply(Step([WriteProfile(stored, expect_version=0)]))
    before = store.get_subject(P, "partner", subject_id)
    if marks_done_meanwhile:  # the marks' last step: no new version, so not in `before`
        store.apply(
            Step(
                [
                    UpdateProfile(
                        P,
                        "partner",
                        subject_id,
                        {"marks_pending": False},
                        {"flag_case_id": before.flag_case_id},
                        bump=False,
                    )
                ]
            )
        )
    if rewritten_meanwhile:  # the sweep's rewrite of a customer's marks: no new version either
        store.apply(Step([UpdateProfile(P, "partner", subject_id, {"customer_marks": True}, bump=False)]))
    decided = replace(Subject(P, "partner", subject_id, **second), version=before.version)

    store.apply(Step([WriteProfile(decided, expect_version=before.version, before=before)]))

    after = store.get_subject(P, "partner", subject_id)
    counted = {"version": 0, "identifier_seq": 0}  # what the store counts, checked below
    # a note the event did not change stays as it is now, rewritten meanwhile or not
    meanwhile = rewritten_meanwhile or before.customer_marks
    assert after.customer_marks == (
        meanwhile if decided.customer_marks == before.customer_marks else decided.customer_marks
    )
    unnoted = {**counted, "customer_marks": False}
    assert replace(after, revenue_micros={}, **unnoted) == replace(decided, **unnoted)
    assert after.version == before.version + 1
    assert after.identifier_seq == before.identifier_seq + adds_identifiers(before, decided)
    listed = {s.id for shard in range(store.flagged_shards()) for s in store.flagged_subjects(shard)}
    assert (subject_id in listed) == (decided.status == "flagged")  # the sweep's work list follows


@pytest.mark.parametrize("note", [(), ("2026-11-02T03:10:00+00:00 US 81.2.69.160 fp x",)])
@pytest.mark.parametrize("field_name", ["unfamiliar", "linked"])
def test_a_profile_update_sets_or_clears_a_list_field_alike(store, note, field_name):
    # an approval clears the note of unfamiliar sessions and the partners met through an
    # UpdateProfile (list fields)
    noted = ("2026-11-01T03:10:00+00:00 hosting 8.8.8.8 fp-y",)
    subject_id = f"upd-{field_name}-{len(note)}"
    store.apply(
        Step([WriteProfile(Subject(P, "partner", subject_id, **{field_name: noted}), expect_version=0)])
    )
    assert getattr(store.get_subject(P, "partner", subject_id), field_name) == noted
    store.apply(Step([UpdateProfile(P, "partner", subject_id, {field_name: note}, bump=False)]))
    assert getattr(store.get_subject(P, "partner", subject_id), field_name) == note


def test_a_removal_under_way_stays_on_the_sweeps_list_until_it_is_done(store):
    # a removal interrupted after its first step is finished by the hold sweep: both stores keep the
    # partner on its list (`profiles.swept`) while `removal_pending` is set, and take it off after
    store.apply(Step([profile(status="flagged", active_case_id="c1", flag_case_id="c1")]))

    def listed() -> bool:
        shards = range(store.flagged_shards())
        return "p1" in {s.id for shard in shards for s in store.flagged_subjects(shard)}

    assert listed()
    begun = {"status": "removed", "active_case_id": None, "removal_pending": True}
    store.apply(Step([UpdateProfile(P, "partner", "p1", begun)]))
    assert listed() and store.get_subject(P, "partner", "p1").removal_pending
    done = UpdateProfile(P, "partner", "p1", {"removal_pending": False}, expect={"status": "removed"})
    store.apply(Step([done]))
    assert not listed() and not store.get_subject(P, "partner", "p1").removal_pending


def test_links_are_read_together_as_marked(store):
    # a removal reads its partner's links this way (`linked_removal`): as written, none for one unknown
    members = frozenset({"partner:p1", "partner:p2"})
    marks = {"members": members, "removed": frozenset({"partner:p1"})}
    store.apply(Step([MarkLink(P, ("device", "fp-1"), marks)]))
    read = store.read_links(P, [("device", "fp-1"), ("payout", "unknown")])
    assert (read[("device", "fp-1")].members, read[("device", "fp-1")].removed) == (members, {"partner:p1"})
    assert read[("payout", "unknown")].members == frozenset()
