"""The partner-program rules (functions/shared/domain/): pure, and applied by the plain
in-memory store where a race between a plan and a write is the point."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from functions.shared.domain.cases import case_reasons, merge_reasons
from functions.shared.domain.disputes import (
    dispute_step,
    resolution_begin_step,
    resolution_plan,
    verdict_step,
)
from functions.shared.domain.holdables import EVERYTHING_UNLISTED
from functions.shared.domain.links import guarded_joins
from functions.shared.domain.marks import (
    mark_program,
    marks_every_identifier,
    marks_not_named,
    network_mark,
    pending_marks_plan,
    program_token,
)
from functions.shared.domain.model import Case, LinkState, Reason, Reward, Subject, evolve
from functions.shared.domain.profiles import (
    PROFILE_KEEPS,
    adds_identifiers,
    identifiers_of,
    profile_changes,
    with_identifiers,
)
from functions.shared.domain.removal import removal_mop_up, removal_plan
from functions.shared.domain.rewards import Placement, flag_holds, place_reward
from functions.shared.domain.writes import (
    MAX_STEP_ITEMS,
    ListRewards,
    MarkLink,
    MarkNetwork,
    MoveReward,
    PutCase,
    Step,
    StepRefused,
    UpdateCase,
    UpdateProfile,
    WriteProfile,
)
from functions.shared.errors import Conflict
from functions.shared.storage.memory import InMemoryRepository

P = "prg-rules"
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
PEPPER = b"test-pepper"


def reward(n: int, status: str = "new", at: datetime = T0, case_id: str | None = None) -> Reward:
    return Reward(P, f"r{n}", "p1", Decimal("1.50"), "USD", status, at, "api", case_id=case_id)


def case(status: str = "open", subject_type: str = "partner") -> Case:
    return Case(P, "c1", subject_type, "p1", "P1", [], status, T0, "e1", verdict="approve")


def many(devices: int = 300, ips: int = 80) -> Subject:
    return Subject(
        P,
        "partner",
        "p1",
        email="now@example.com",
        emails=frozenset({"old@example.com", "now@example.com"}),
        devices=frozenset(f"fp-{n}" for n in range(devices)),
        ips=frozenset(f"10.0.{n // 200}.{n % 200}" for n in range(ips)),
        status="flagged",
        active_case_id="c1",
        flag_case_id="c1",
    )


def test_a_flagged_partner_holds_rewards_from_the_flag_on_a_customer_all_of_them():
    before, after = reward(1, at=T0 - timedelta(hours=1)), reward(2, at=T0)
    overridden = reward(3, at=T0)
    overridden.overridden = True

    assert flag_holds("partner", T0, [before, after, overridden]) == [after]
    assert flag_holds("customer", T0, [before, after]) == [before, after]


def test_where_an_arriving_reward_goes():
    removed = Subject(P, "partner", "p1", status="removed", flag_case_id="c-removed")
    flagged = Subject(P, "partner", "p1", status="flagged", flag_case_id="c1", flagged_at=T0)
    active = Subject(P, "partner", "p1")

    assert place_reward(reward(1), partner=removed, customer=None, flag=None) == Placement(
        "archived", "c-removed", archived=True
    )
    assert place_reward(reward(1), partner=flagged, customer=None, flag=None).status == "on_hold"
    early = reward(1, at=T0 - timedelta(minutes=1))
    assert place_reward(early, partner=flagged, customer=None, flag=None).status == "new"
    assert place_reward(reward(1), partner=active, customer=None, flag=None).status == "new"


def test_every_identifier_names_the_subject_however_many():
    identifiers = identifiers_of(many())

    assert len([k for k in identifiers if k[0] == "device"]) == 300
    assert len([k for k in identifiers if k[0] == "ip"]) == 80
    assert ("email", "old@example.com") in identifiers


def test_a_removal_of_a_subject_with_hundreds_of_identifiers_fits_every_step_in_a_transaction():
    rewards = [reward(n, status="on_hold", case_id="c1") for n in range(130)]

    plan = removal_plan(case(), many(), rewards, PEPPER, True, "me", T0)

    assert all(len(step) <= MAX_STEP_ITEMS for step in plan.steps)
    marks = [w for step in plan.steps for w in step.writes if isinstance(w, MarkLink)]
    assert len(marks) == len(identifiers_of(many()))
    # the first step removes the case (and counts it out of the summary) only while it is still in
    # the very status it was read in; every later one holds only while it is removed (forward only)
    first = [w for w in plan.steps[0].writes if isinstance(w, UpdateCase)]
    assert [w.expect for w in first] == [(case().status,)] and first[0].changes["status"] == "removed"
    assert all(
        any(isinstance(w, UpdateCase) and w.expect == ("removed",) for w in s.writes) for s in plan.steps[1:]
    )
    moved = [w for step in plan.steps for w in step.writes if isinstance(w, MoveReward)]
    assert len(moved) == 130 and {w.status for w in moved} == {"archived"}


@pytest.mark.parametrize("status", ["approved", "removed"])
def test_a_resolved_or_removed_case_cannot_be_removed(status):
    with pytest.raises(Conflict):
        removal_plan(case(status), many(), [], PEPPER, False, "me", T0)


def test_a_declined_case_can_still_be_removed_and_a_customer_never():
    assert removal_plan(case("declined"), many(), [], PEPPER, False, "me", T0).steps
    with pytest.raises(Conflict):
        removal_plan(case(subject_type="customer"), many(), [], PEPPER, False, "me", T0)


def test_an_approval_unflags_the_subject_first_then_withdraws_its_marks_while_it_stays_unflagged():
    disputed = evolve(case("disputed"), flags=2)
    with pytest.raises(ValueError):  # planned on a subject still flagged under the case: refused
        resolution_plan(disputed, many(), [], PEPPER, T0)

    first = resolution_begin_step(disputed, many(), T0)
    assert first is not None
    unflag = [w for w in first.writes if isinstance(w, UpdateProfile)]
    assert unflag[0].changes["status"] == "active" and unflag[0].expect == {"active_case_id": "c1"}
    guard = [w for w in first.writes if isinstance(w, UpdateCase)]
    assert guard[0].expect == ("disputed",) and guard[0].expect_flags == 2
    unflagged = evolve(many(), status="active", active_case_id=None, flag_case_id=None)
    assert resolution_begin_step(disputed, unflagged, T0) is None  # done already: nothing again

    plan = resolution_plan(disputed, unflagged, [reward(1, "on_hold", case_id="c1")], PEPPER, T0)

    unmarks = [w for step in plan.steps for w in step.writes if isinstance(w, MarkLink)]
    assert {w.key for w in unmarks} == set(identifiers_of(many()))
    assert all(w.remove == {"flagged": frozenset({"partner:p1"})} for w in unmarks)
    for step in plan.steps:  # each unmarking step only while no case flags the subject again
        if any(isinstance(w, MarkLink) for w in step.writes):
            guards = [w for w in step.writes if isinstance(w, UpdateProfile)]
            assert [g.expect for g in guards] == [{"status": "active", "active_case_id": None}]
    assert all(len(step) <= MAX_STEP_ITEMS for step in plan.steps)
    # flagged again by another case meanwhile: its marks are that flag's, none withdrawn
    again = evolve(many(), active_case_id="c9", flag_case_id="c9")
    plan = resolution_plan(disputed, again, [], PEPPER, T0)
    assert not [w for step in plan.steps for w in step.writes if isinstance(w, MarkLink)]


def test_only_an_open_case_is_disputed_and_only_a_disputed_one_takes_a_verdict():
    with pytest.raises(Conflict):
        dispute_step(case("disputed"), "r", "me", T0)
    with pytest.raises(Conflict):
        verdict_step(case("open"), "approve", "", "me", T0)


def test_a_dispute_asked_again_as_it_was_asked_writes_nothing_and_any_other_is_refused():
    disputed = evolve(case("disputed"), dispute_reason="r", disputed_by="me")

    assert dispute_step(disputed, "r", "me", T0).writes == []
    for reason, actor in (("another", "me"), ("r", "a teammate")):
        with pytest.raises(Conflict):
            dispute_step(disputed, reason, actor, T0)
    with pytest.raises(Conflict):  # recorded before cases kept who disputed them: no one's
        dispute_step(evolve(disputed, disputed_by=None), "r", "me", T0)
    with pytest.raises(Conflict):  # resolved since: not the dispute it asked for any more
        dispute_step(evolve(disputed, status="approved"), "r", "me", T0)


def test_the_same_verdict_again_records_nothing_whatever_it_says_it_replaced():
    recorded = evolve(case("disputed"), verdict="approve", verdict_note="ok", verdict_evidence={})

    assert verdict_step(recorded, "approve", "ok", "me", T0, seen=None).writes == []
    with pytest.raises(Conflict):  # another verdict, replacing one it did not see
        verdict_step(recorded, "decline", "ok", "me", T0, seen=None)


def test_reasons_merge_once_per_code_with_the_latest_detail_and_a_count():
    first = [Reason("velocity", "3 sign-ups", 1, "a"), Reason("cluster", "x", 1, "b")]

    merged = merge_reasons(
        first, [Reason("velocity", "9 sign-ups", 1, "z"), Reason("ip_suspicious", "vpn", 1, "z")]
    )

    assert [(r.code, r.detail, r.count) for r in merged] == [
        ("velocity", "9 sign-ups", 2),
        ("cluster", "x", 1),
        ("ip_suspicious", "vpn", 1),
    ]


def test_a_cases_reasons_keep_the_order_they_first_fired_in_whatever_offset_each_event_was_sent_with():
    earlier = datetime(2026, 11, 2, 11, 0, tzinfo=timezone(timedelta(hours=5)))  # 06:00 UTC
    later = datetime(2026, 11, 2, 7, 0, tzinfo=UTC)
    opened = case_reasons([{"code": "velocity", "detail": "5 sign-ups"}], earlier)

    merged = merge_reasons(list(opened), case_reasons([{"code": "cluster", "detail": "x"}], later))

    assert [r.code for r in merged] == ["velocity", "cluster"]


def test_an_older_event_does_not_undo_a_newer_profile_change():
    current = Subject(P, "partner", "p1", team="New", changed_at=T0)

    assert profile_changes(current, {"team": "Old"}, T0 - timedelta(hours=1)).team == "New"
    assert profile_changes(current, {"team": "Newer"}, T0 + timedelta(hours=1)).team == "Newer"


def test_network_marks_name_the_program_without_naming_it():
    mark = network_mark(P, many(), PEPPER)

    assert mark_program(mark) == program_token(P, PEPPER)
    assert P not in mark and "p1" not in mark


def test_an_approval_puts_rewards_back_to_pending_and_marks_each_ones_subjects_to_ask_the_index():
    disputed = case("disputed")
    held = [
        Reward(
            P, f"r{n}", "p1", Decimal("1.50"), "USD", "on_hold", T0, "transaction", f"cust-{n}", case_id="c1"
        )
        for n in range(100)
    ]

    unflagged = evolve(many(devices=1, ips=1), status="active", active_case_id=None, flag_case_id=None)
    plan = resolution_plan(disputed, unflagged, held, PEPPER, T0)

    listed = [w for step in plan.steps for w in step.writes if isinstance(w, ListRewards)]
    marked = {(w.subject_type, w.subject_id) for w in listed if w.change == EVERYTHING_UNLISTED}
    # holdable again, listed nowhere: each reward's partner and customer must ask the index next time
    assert marked == {("partner", "p1")} | {("customer", f"cust-{n}") for n in range(100)}
    assert all(len(step) <= MAX_STEP_ITEMS for step in plan.steps)  # with room for the summary


def test_an_approval_of_a_later_case_keeps_the_subject_flagged_under_its_declined_case():
    """SPEC 4: a declined dispute keeps its subject flagged; a later case approved withdraws only
    its own flag: the subject goes back under the declined case, marks kept, holds kept there."""
    later = case("disputed")
    read = evolve(many(devices=3, ips=2), declined_case_id="c0")
    begin = resolution_begin_step(later, read, T0)
    (profile,) = [w for w in begin.writes if isinstance(w, UpdateProfile)]
    assert profile.changes == {"active_case_id": None, "flag_case_id": "c0"}

    under_c0 = evolve(read, active_case_id=None, flag_case_id="c0")
    held = [reward(1, "on_hold", case_id="c1"), reward(2, "on_hold", case_id="c1")]
    plan = resolution_plan(later, under_c0, held, PEPPER, T0)

    moves = [w for step in plan.steps for w in step.writes if isinstance(w, MoveReward)]
    assert {(w.reward_id, w.status, w.case_id) for w in moves} == {
        ("r1", "on_hold", "c0"),
        ("r2", "on_hold", "c0"),
    }
    figures = {
        w.case_id: (w.held, w.hold_micros)
        for step in plan.steps[:-1]
        for w in step.writes
        if isinstance(w, UpdateCase)
    }
    assert figures == {"c1": (-2, {"USD": -3_000_000}), "c0": (2, {"USD": 3_000_000})}
    assert not [w for step in plan.steps for w in step.writes if isinstance(w, MarkLink | MarkNetwork)]
    # declined: the case is the one that keeps it flagged from then on
    declining = evolve(later, verdict="decline")
    begin = resolution_begin_step(declining, read, T0)
    (profile,) = [w for w in begin.writes if isinstance(w, UpdateProfile)]
    assert profile.changes == {"active_case_id": None, "declined_case_id": "c1"}
    # with no declined case before, an approval makes it active as ever, and dates the approval
    (profile,) = [w for w in resolution_begin_step(later, many(), T0).writes if isinstance(w, UpdateProfile)]
    assert (profile.changes["status"], profile.changes["approved_at"]) == ("active", T0)


def _stored(subject: Subject) -> tuple[InMemoryRepository, Subject]:
    """A plain store holding the flagged subject and its disputed case (with an approval)."""
    store = InMemoryRepository()
    store.apply(Step([WriteProfile(subject, expect_version=0), PutCase(case("disputed"))]))
    return store, store.get_subject(P, subject.type, subject.id)


def _a_flagged_event_adds(store: InMemoryRepository, read: Subject, device: str) -> None:
    """What an event of the flagged subject writes for a device it adds: the profile, the mark."""
    newer = evolve(read, devices=read.devices | {device})
    mark = MarkLink(
        P, ("device", device), add={"members": frozenset({read.key}), "flagged": frozenset({read.key})}
    )
    store.apply(Step([WriteProfile(newer, expect_version=read.version, before=read), mark]))


def _flagged_on(store: InMemoryRepository, key: tuple[str, str], subject: Subject) -> bool:
    links = store.scoring_snapshot(P, (subject.type, subject.id), None, [key], [], []).links
    return subject.key in links[key].flagged


def test_an_approval_unflags_whatever_the_subject_added_since_its_read_and_then_unmarks_that_too():
    # a partner adding a device every moment would hold off an approval that waited for a quiet one
    store, read = _stored(many(devices=2, ips=1))
    unflag = resolution_begin_step(case("disputed"), read, T0)
    assert unflag is not None
    # When the flagged partner adds a device (marked flagged) after the approval read it
    _a_flagged_event_adds(store, read, "fp-new")

    # Then the approval's first step applies all the same: the partner is no longer flagged
    store.apply(unflag)
    unflagged = store.get_subject(P, "partner", "p1")
    assert unflagged.status == "active" and unflagged.active_case_id is None
    # and an event of the partner read before it (flagged) is refused by the profile's version
    with pytest.raises(StepRefused):
        _a_flagged_event_adds(store, read, "fp-later")

    # And the plan read after it withdraws the marks of the device added meanwhile too
    for step in resolution_plan(case("disputed"), unflagged, [], PEPPER, T0).steps:
        store.apply(step)
    assert not _flagged_on(store, ("device", "fp-new"), read)
    assert not _flagged_on(store, ("device", "fp-0"), read)
    assert store.get_case(P, "c1").status == "approved"


def test_an_approvals_unmarking_step_is_refused_once_a_new_flag_marks_the_subject_again():
    store, read = _stored(many(devices=2, ips=1))
    store.apply(resolution_begin_step(case("disputed"), read, T0))
    unflagged = store.get_subject(P, "partner", "p1")
    plan = resolution_plan(case("disputed"), unflagged, [], PEPPER, T0).steps
    # When the partner is flagged again (a new case) before the approval withdrew its marks
    again = evolve(unflagged, status="flagged", active_case_id="c2", flag_case_id="c2")
    mark = MarkLink(P, ("device", "fp-0"), add={"flagged": frozenset({read.key})})
    store.apply(Step([WriteProfile(again, expect_version=unflagged.version, before=unflagged), mark]))

    # Then the withdrawal is refused: the new flag keeps the marks
    with pytest.raises(StepRefused):
        for step in plan:
            store.apply(step)
    assert _flagged_on(store, ("device", "fp-0"), read)


def test_a_removal_read_before_the_subject_added_an_identifier_completes_and_its_mop_up_marks_it():
    # a partner adding a device every moment would hold off a removal that waited for a quiet one
    store, read = _stored(many(devices=2, ips=1))
    stale = removal_plan(case("disputed"), read, [], PEPPER, False, "admin", T0).steps
    # When the flagged partner adds a device (marked flagged) after the removal was read
    _a_flagged_event_adds(store, read, "fp-new")

    # Then the removal's steps all apply: the partner is removed, the mop-up noted as pending
    for step in stale:
        store.apply(step)
    removed = store.get_subject(P, "partner", "p1")
    assert removed.status == "removed" and removed.marks_pending
    key = ("device", "fp-new")
    links = store.scoring_snapshot(P, ("partner", "p1"), None, [key], [], []).links
    assert read.key not in links[key].removed  # not yet

    # And the mop-up, from a read after the last step, marks the device added meanwhile
    gone = store.get_case(P, case("disputed").case_id)
    mop = removal_mop_up(gone, read, removed, [], PEPPER, T0)
    assert mop is not None
    for step in [*mop.work, mop.done]:  # the note that it is done last
        store.apply(step)
    links = store.scoring_snapshot(P, ("partner", "p1"), None, [key], [], []).links
    assert read.key in links[key].removed
    assert not store.get_subject(P, "partner", "p1").marks_pending


@pytest.mark.parametrize("action", ["approval", "removal"])
def test_a_plan_read_before_an_event_that_adds_no_identifier_still_completes(action):
    # a busy partner (an event every moment) cannot hold its removal off with events alone
    store, read = _stored(many(devices=2, ips=1))
    if action == "approval":
        unflag = resolution_begin_step(case("disputed"), read, T0)
        plan = [unflag] if unflag else []
    else:
        plan = removal_plan(case("disputed"), read, [], PEPPER, False, "admin", T0).steps
    store.apply(Step([WriteProfile(evolve(read, team="later"), expect_version=read.version, before=read)]))

    for step in plan:
        store.apply(step)

    assert store.get_subject(P, "partner", "p1").status == ("active" if action == "approval" else "removed")


def test_marks_not_named_are_those_a_subject_with_the_same_status_does_not_carry_yet():
    marked = many(devices=2, ips=1)  # flagged, its marks all written
    added = evolve(marked, devices=marked.devices | {"fp-new"})
    named = {("device", "fp-1")}

    assert marks_not_named(marked, marked, named, PEPPER) == []  # adds nothing: nothing to mark
    keys = {w.key for w in marks_not_named(marked, added, named, PEPPER)}
    assert ("device", "fp-new") in keys and ("device", "fp-0") not in keys
    # marks still pending, or another status's marks (a removed partner flagged again): all of them
    pending = evolve(marked, marks_pending=True)
    removed = evolve(marked, status="removed")
    every = set(identifiers_of(added)) - named
    for before in (pending, removed, None):
        found = marks_not_named(before, added, named, PEPPER)
        assert {w.key for w in found if isinstance(w, MarkLink)} == every
        assert all(w.add.keys() == {"flagged"} for w in found)


def test_a_join_is_guarded_where_sharing_is_strong_evidence_and_the_subject_is_new_to_the_link():
    one, two = frozenset({"partner:a"}), frozenset({"partner:a", "partner:b"})
    states = {
        ("email", "x@example.com"): LinkState(members=one),
        ("device", "fp-1"): LinkState(),
        ("payout", "GB29NWBK60161331926819"): LinkState(members=two),
        ("device", "fp-mine"): LinkState(members=frozenset({"partner:me"})),  # joined before
        ("ip", "81.2.69.160"): LinkState(members=one),  # busy and weak: never guarded
        ("email_skeleton", "x@*"): LinkState(members=one),
    }
    guarded = guarded_joins("partner:me", states, list(states))
    assert guarded == {
        ("email", "x@example.com"): 1,
        ("device", "fp-1"): 0,
        ("payout", "GB29NWBK60161331926819"): 2,
    }


def test_a_profile_keeps_fifty_of_a_kind_and_spills_the_rest_once():
    full = Subject(P, "partner", "p1", devices=frozenset(f"fp-{n}" for n in range(PROFILE_KEEPS)))

    added = with_identifiers(full, email=None, device="fp-new", ip="81.2.69.160", payout=None)
    assert added.devices == full.devices and added.ips == {"81.2.69.160"}  # another kind still fits
    assert (added.spilled, added.spill_count) == ({("devices", "fp-new")}, 1)
    linked = with_identifiers(
        full, email=None, device="fp-new", ip=None, payout=None, known={("device", "fp-new")}
    )
    assert (linked.spilled, linked.spill_count) == (frozenset(), 0)  # its link names it: spilled before
    again = with_identifiers(added, email=None, device="fp-new", ip=None, payout=None)
    assert again.spill_count == 1  # known to this object already
    assert ("device", "fp-new") in identifiers_of(added)
    assert adds_identifiers(full, added) == 1  # an approval or removal reads again


def test_marking_reaches_every_identifier_on_a_new_status_or_pending_marks_only():
    flagged = Subject(P, "partner", "p1", status="flagged")
    assert marks_every_identifier(None, "flagged")
    assert marks_every_identifier(Subject(P, "partner", "p1"), "flagged")
    assert marks_every_identifier(flagged, "removed")
    assert marks_every_identifier(evolve(flagged, marks_pending=True), "flagged")
    assert not marks_every_identifier(flagged, "flagged")
    assert not marks_every_identifier(Subject(P, "partner", "p1"), "active")


def test_marks_a_sweep_planned_before_an_approval_unflagged_the_subject_are_not_written_after_it():
    # a flag's marks still pending: the sweep plans them all, then the approval's first step lands
    store, read = _stored(evolve(many(devices=150, ips=1), marks_pending=True))
    planned = pending_marks_plan(read, PEPPER)
    assert len(planned) > 1  # more marks than one step takes
    store.apply(planned[0])
    store.apply(resolution_begin_step(case("disputed"), store.get_subject(P, "partner", "p1"), T0))

    # Then the sweep's next steps are refused: nothing marks the unflagged subject again
    with pytest.raises(StepRefused):
        store.apply(planned[1])
    later = [w.key for w in planned[1].writes if isinstance(w, MarkLink)]
    assert later and not any(_flagged_on(store, key, read) for key in later)
