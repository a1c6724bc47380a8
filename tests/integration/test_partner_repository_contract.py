"""The partner-program storage contract of the fraud-management workflow (case views, disputes,
verdicts, the dispute cycle's resolve step, removals, overrides), run against both implementations:
the DynamoDB adapter (on moto) and the in-memory fake."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from functions.score.identity import email_keys
from functions.shared.errors import Conflict, NotFound, StorageUnavailable
from functions.shared.storage.memory import InMemoryRepository
from functions.shared.storage.port import StoredEvent
from functions.shared.storage.port_partners import Flag, Reward, ScoringWrite, Subject, subject_key

P, Q = "prg-a", "prg-b"
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
REASONS = [{"code": "email_duplicate", "detail": "e-mail address also used by partner p-0"}]


@pytest.fixture(params=["dynamodb", "memory"])
def repository(request):
    if request.param == "memory":
        return InMemoryRepository()
    return request.getfixturevalue("aws").repository


# --- writing what scoring writes -------------------------------------------------------------
def token(program_id: str) -> str:
    return f"tok-{program_id}"


def network_of(subject_id: str) -> list[tuple[str, str]]:
    return [("email", f"net-email-{subject_id}"), ("device", f"net-device-{subject_id}")]


def links_of(subject_id: str) -> list[tuple[str, str]]:
    keys = email_keys(f"{subject_id}@example.com")
    return [
        ("email", keys.normalized),
        ("email_skeleton", keys.skeleton),
        ("email_local", keys.local),
        ("device", f"fp-{subject_id}"),
        ("ip", "81.2.69.1"),
    ]


def _event(repository, program_id: str, event_id: str, at: datetime) -> None:
    body = {"id": event_id}
    repository.record_event(StoredEvent(program_id, event_id, "test", body, f"h-{event_id}", at, at))


def subject(program_id: str, subject_type: str, subject_id: str, at: datetime) -> Subject:
    return Subject(
        program_id=program_id,
        type=subject_type,
        id=subject_id,
        name=f"Name {subject_id}",
        email=f"{subject_id}@example.com",
        email_normalized=f"{subject_id}@example.com",
        devices=frozenset({f"fp-{subject_id}"}),
        ips=frozenset({"81.2.69.1"}),
        team="Growth",
        group="Affiliates",
        signup_at=at,
    )


def flag(
    repository,
    program_id: str,
    subject_id: str,
    at: datetime,
    *,
    subject_type: str = "partner",
    expected_case_id: str | None = None,
    reward: Reward | None = None,
    event_id: str | None = None,
):
    """Scores one flagged event about a subject: opens a case, or adds reasons to its active one."""
    event_id = event_id or f"flag-{subject_id}-{at:%d%H%M%S}"
    _event(repository, program_id, event_id, at)
    write = ScoringWrite(
        program_id=program_id,
        event_id=event_id,
        decision={"score": 65, "action": "flag", "reasons": REASONS},
        subject=subject(program_id, subject_type, subject_id, at),
        expected_case_id=expected_case_id,
        links=links_of(subject_id),
        network=network_of(subject_id),
        counters=[],
        reward=reward,
        flag=Flag(list(REASONS), at, event_id, f"case-{event_id}"),
    )
    return repository.record_scoring(write, token(program_id))


def reward(
    program_id: str,
    reward_id: str,
    partner_id: str,
    at: datetime,
    amount: str = "10.00",
    currency: str = "USD",
    customer_id: str | None = None,
    status: str = "pending",
) -> Reward:
    return Reward(
        program_id=program_id,
        reward_id=reward_id,
        partner_id=partner_id,
        amount=Decimal(amount),
        currency=currency,
        status=status,
        created_at=at,
        source="transaction" if status == "pending" else "api",
        customer_id=customer_id or f"c-{reward_id}",
    )


def add_reward(repository, r: Reward) -> None:
    """A transaction that is not flagged: the customer's profile and the partner's reward."""
    event_id = f"txn-{r.reward_id}"
    _event(repository, r.program_id, event_id, r.created_at)
    write = ScoringWrite(
        program_id=r.program_id,
        event_id=event_id,
        decision={"score": 0, "action": "allow", "reasons": []},
        subject=subject(r.program_id, "customer", r.customer_id or "", r.created_at),
        expected_case_id=None,
        links=[],
        network=[],
        counters=[],
        reward=r,
    )
    outcome = repository.record_scoring(write, token(r.program_id))
    assert outcome.case_id is None


def statuses(repository, program_id: str, partner_id: str) -> dict[str, str]:
    return {r.reward_id: r.status for r in repository.subject_rewards(program_id, "partner", partner_id)}


def flagged_keys(repository) -> set[tuple[str, str, str]]:
    return {
        (s.program_id, s.type, s.id)
        for shard in range(repository.flagged_shards())
        for s in repository.flagged_subjects(shard)
    }


def link_states(repository, program_id: str, subject_id: str):
    snapshot = repository.scoring_snapshot(
        program_id, ("partner", subject_id), None, links_of(subject_id), network_of(subject_id), []
    )
    return snapshot.links, snapshot.network


def disputed_partner(repository, partner_id: str, *, held: int = 2, verdict: str | None = None):
    """A partner flagged at T0 with `held` rewards on hold, one earlier reward (not held), disputed
    a day later, with a verdict when given. Returns the case id."""
    add_reward(repository, reward(P, f"{partner_id}-before", partner_id, T0 - timedelta(hours=1)))
    for n in range(held):
        add_reward(repository, reward(P, f"{partner_id}-held-{n}", partner_id, T0 + timedelta(hours=n + 1)))
    outcome = flag(repository, P, partner_id, T0)
    repository.open_dispute(P, outcome.case_id, "a known reseller", "Dana", T0 + timedelta(days=1))
    if verdict:
        repository.record_verdict(outcome.case_id, verdict, "checked", "Sec", T0 + timedelta(days=2))
    return outcome.case_id


# --- flags, holds and the case views ------------------------------------------------------------
def test_a_flag_opens_a_case_and_holds_the_rewards_from_the_flag_time_on(repository):
    add_reward(repository, reward(P, "r-before", "p-1", T0 - timedelta(minutes=1)))
    add_reward(repository, reward(P, "r-at", "p-1", T0, amount="5.50"))
    add_reward(repository, reward(P, "r-after", "p-1", T0 + timedelta(days=1), amount="2.25", currency="EUR"))

    outcome = flag(repository, P, "p-1", T0)

    assert outcome.opened
    assert statuses(repository, P, "p-1") == {"r-before": "pending", "r-at": "on_hold", "r-after": "on_hold"}
    case = repository.get_case(P, outcome.case_id)
    assert (case.status, case.subject_type, case.subject_id, case.subject_name) == (
        "open",
        "partner",
        "p-1",
        "Name p-1",
    )
    assert (case.flagged_at, case.reasons, case.held_count) == (T0, REASONS, 2)
    assert case.hold_micros == {"USD": 5_500_000, "EUR": 2_250_000}
    assert [e.action for e in repository.case_audit(P, outcome.case_id)] == ["flagged"]


def test_each_view_lists_its_cases_newest_flag_first_and_only_its_programs(repository):
    for n, day in enumerate((1, 3, 2, 5)):
        flag(repository, P, f"p-{n}", T0 + timedelta(days=day))
    flag(repository, Q, "p-q", T0 + timedelta(days=4))
    resolved = disputed_partner(repository, "p-res", held=0, verdict="decline")
    repository.resolve_dispute(repository.get_case(P, resolved), T0 + timedelta(days=9), [], token(P))
    removed_early = flag(repository, P, "p-rm1", T0 - timedelta(days=3)).case_id
    removed_late = flag(repository, P, "p-rm2", T0 - timedelta(days=2)).case_id
    repository.remove_partner(P, removed_late, False, "Dana", T0 + timedelta(days=10), [], token(P))
    repository.remove_partner(P, removed_early, False, "Dana", T0 + timedelta(days=11), [], token(P))

    active = repository.list_cases(P, "active")

    assert [c.subject_id for c in active] == ["p-3", "p-1", "p-2", "p-0"]
    assert [c.subject_id for c in repository.list_cases(P, "resolved")] == ["p-res"]
    # the Removed partners tab: the latest removal first
    assert [c.subject_id for c in repository.list_cases(P, "removed")] == ["p-rm1", "p-rm2"]
    assert [c.subject_id for c in repository.list_cases(Q, "active")] == ["p-q"]
    assert repository.list_cases("prg-none", "active") == []


def test_a_case_of_another_program_is_not_found(repository):
    case_id = flag(repository, P, "p-1", T0).case_id

    with pytest.raises(NotFound):
        repository.get_case(Q, case_id)
    with pytest.raises(NotFound):
        repository.open_dispute(Q, case_id, "mine", "Eve", T0)
    with pytest.raises(NotFound):
        repository.remove_partner(Q, case_id, True, "Eve", T0, [], token(Q))
    assert repository.get_case(P, case_id).status == "open"
    assert [e.action for e in repository.case_audit(P, case_id)] == ["flagged"]


# --- disputes and verdicts ----------------------------------------------------------------------
def test_a_case_is_disputed_once(repository):
    case_id = flag(repository, P, "p-1", T0).case_id
    at = T0 + timedelta(days=1)

    disputed = repository.open_dispute(P, case_id, "a known reseller", "Dana", at)

    assert (disputed.status, disputed.disputed_at, disputed.dispute_reason) == (
        "disputed",
        at,
        "a known reseller",
    )
    with pytest.raises(Conflict):
        repository.open_dispute(P, case_id, "again", "Dana", at + timedelta(hours=1))
    with pytest.raises(NotFound):
        repository.open_dispute(P, "case-unknown", "why", "Dana", at)
    again = repository.get_case(P, case_id)
    assert (again.disputed_at, again.dispute_reason) == (at, "a known reseller")
    assert [(e.action, e.actor) for e in repository.case_audit(P, case_id)] == [
        ("flagged", "system"),
        ("disputed", "Dana"),
    ]
    assert [c.subject_id for c in repository.list_cases(P, "active")] == ["p-1"]


def test_concurrent_disputes_of_one_case_have_one_winner(repository):
    case_id = flag(repository, P, "p-1", T0).case_id

    def dispute(n: int) -> bool:
        try:
            repository.open_dispute(P, case_id, f"reason {n}", f"user {n}", T0 + timedelta(minutes=n + 1))
            return True
        except Conflict:
            return False

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(dispute, range(4)))

    assert outcomes.count(True) == 1
    winner = outcomes.index(True)
    case = repository.get_case(P, case_id)
    assert (case.dispute_reason, case.disputed_at) == (f"reason {winner}", T0 + timedelta(minutes=winner + 1))
    assert [e.action for e in repository.case_audit(P, case_id)] == ["flagged", "disputed"]
    assert [c.case_id for c in repository.disputes()] == [case_id]


def test_disputes_of_every_program_are_listed_oldest_dispute_first(repository):
    late = flag(repository, P, "p-late", T0).case_id
    early = flag(repository, Q, "p-early", T0 + timedelta(days=1)).case_id
    flag(repository, P, "p-open", T0)
    repository.open_dispute(P, late, "late", "Dana", T0 + timedelta(days=3))
    repository.open_dispute(Q, early, "early", "Bo", T0 + timedelta(days=2))
    repository.record_verdict(late, "approve", "fine", "Sec", T0 + timedelta(days=4))

    found = repository.disputes()

    assert [(c.program_id, c.case_id, c.verdict) for c in found] == [
        (Q, early, None),
        (P, late, "approve"),
    ]


def test_a_verdict_is_recorded_on_a_disputed_case_only_and_can_be_replaced(repository):
    open_case = flag(repository, P, "p-open", T0).case_id
    case_id = disputed_partner(repository, "p-1")

    with pytest.raises(NotFound):
        repository.record_verdict(open_case, "approve", "", "Sec", T0)
    with pytest.raises(NotFound):
        repository.record_verdict("case-unknown", "approve", "", "Sec", T0)
    first = repository.record_verdict(case_id, "approve", "looks fine", "Sec", T0 + timedelta(days=2))
    second = repository.record_verdict(case_id, "decline", "on second look", "Sec", T0 + timedelta(days=3))

    assert (first.verdict, second.verdict, second.verdict_note) == ("approve", "decline", "on second look")
    assert (second.program_id, second.status) == (P, "disputed")
    stored = repository.get_case(P, case_id)
    assert (stored.verdict, stored.status) == ("decline", "disputed")
    assert repository.get_case(P, open_case).verdict is None
    actions = [e.action for e in repository.case_audit(P, case_id)]
    assert actions[-2:] == ["verdict_approve", "verdict_decline"]


# --- the dispute cycle's resolve step ------------------------------------------------------------
def test_an_approved_dispute_releases_the_holds_and_lifts_the_flag_once(repository):
    case_id = disputed_partner(repository, "p-1", held=2, verdict="approve")
    repository.override_reward(P, "p-1-held-1", "Dana", T0 + timedelta(days=1, hours=1))
    at = T0 + timedelta(days=30)

    moved = repository.resolve_dispute(repository.get_case(P, case_id), at, network_of("p-1"), token(P))

    assert [(r.reward_id, r.status) for r in moved] == [("p-1-held-0", "pending")]
    assert statuses(repository, P, "p-1") == {
        "p-1-before": "pending",
        "p-1-held-0": "pending",
        "p-1-held-1": "approved",  # overridden by hand: never touched by a verdict
    }
    case = repository.get_case(P, case_id)
    assert (case.status, case.resolved_at, case.held_count) == ("approved", at, 0)
    assert not any(case.hold_micros.values())
    assert [c.case_id for c in repository.list_cases(P, "resolved")] == [case_id]
    assert repository.list_cases(P, "active") == []
    assert repository.disputes() == []
    partner = repository.get_subject(P, "partner", "p-1")
    assert (partner.status, partner.active_case_id, partner.flag_case_id) == ("active", None, None)
    assert (P, "partner", "p-1") not in flagged_keys(repository)
    links, network = link_states(repository, P, "p-1")
    assert {k: subject_key("partner", "p-1") in s.flagged for k, s in links.items()} == {
        k: False for k in links_of("p-1")
    }
    assert {k: token(P) in s.flagged for k, s in network.items()} == {k: False for k in network_of("p-1")}
    assert [e.action for e in repository.case_audit(P, case_id)][-1] == "dispute_approved"

    with pytest.raises(Conflict):
        repository.resolve_dispute(case, at + timedelta(days=30), network_of("p-1"), token(P))
    assert statuses(repository, P, "p-1")["p-1-held-0"] == "pending"
    assert repository.get_case(P, case_id).resolved_at == at
    assert [e.action for e in repository.case_audit(P, case_id)].count("dispute_approved") == 1


def test_a_declined_dispute_declines_the_holds_and_keeps_the_flag(repository):
    case_id = disputed_partner(repository, "p-1", held=2, verdict="decline")
    at = T0 + timedelta(days=30)

    moved = repository.resolve_dispute(repository.get_case(P, case_id), at, network_of("p-1"), token(P))

    assert sorted((r.reward_id, r.status) for r in moved) == [
        ("p-1-held-0", "declined"),
        ("p-1-held-1", "declined"),
    ]
    assert statuses(repository, P, "p-1")["p-1-before"] == "pending"
    case = repository.get_case(P, case_id)
    assert (case.status, case.resolved_at, case.held_count) == ("declined", at, 0)
    partner = repository.get_subject(P, "partner", "p-1")
    assert (partner.status, partner.active_case_id) == ("flagged", None)
    assert (P, "partner", "p-1") in flagged_keys(repository)
    links, network = link_states(repository, P, "p-1")
    assert subject_key("partner", "p-1") in links[("email", "p-1@example.com")].flagged
    assert token(P) in network[network_of("p-1")[0]].flagged
    with pytest.raises(Conflict):
        repository.resolve_dispute(case, at, network_of("p-1"), token(P))


def test_a_dispute_without_a_verdict_is_not_resolved(repository):
    case_id = disputed_partner(repository, "p-1", held=1)

    with pytest.raises(Conflict):
        repository.resolve_dispute(repository.get_case(P, case_id), T0, network_of("p-1"), token(P))

    assert repository.get_case(P, case_id).status == "disputed"
    assert statuses(repository, P, "p-1")["p-1-held-0"] == "on_hold"


def test_concurrent_resolutions_of_one_verdict_apply_it_once(repository):
    case_id = disputed_partner(repository, "p-1", held=3, verdict="approve")
    case = repository.get_case(P, case_id)

    def resolve(n: int):
        try:
            return repository.resolve_dispute(case, T0 + timedelta(days=30, seconds=n), [], token(P))
        except Conflict:
            return None

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(resolve, range(6)))

    winners = [o for o in outcomes if o is not None]
    assert len(winners) == 1
    # the one that resolved the case reports every reward the verdict released
    assert sorted(r.reward_id for r in winners[0]) == ["p-1-held-0", "p-1-held-1", "p-1-held-2"]
    resolved = repository.get_case(P, case_id)
    assert (resolved.status, resolved.held_count) == ("approved", 0)
    assert not any(resolved.hold_micros.values())
    assert [e.action for e in repository.case_audit(P, case_id)].count("dispute_approved") == 1
    assert set(statuses(repository, P, "p-1").values()) == {"pending"}


def test_a_resolution_that_stopped_half_way_completes_when_run_again(repository, monkeypatch):
    """The adapter fails after the first step of resolving (DynamoDB: after the rewards moved,
    before the case changed); running again finishes the job and changes nothing twice."""
    case_id = disputed_partner(repository, "p-1", held=2, verdict="decline")
    case = repository.get_case(P, case_id)
    real = type(repository).get_subject

    def failing(self, *args):
        raise StorageUnavailable("the store stopped answering")

    monkeypatch.setattr(type(repository), "get_subject", failing)
    try:
        moved = repository.resolve_dispute(case, T0 + timedelta(days=30), [], token(P))
    except StorageUnavailable:
        monkeypatch.setattr(type(repository), "get_subject", real)
        moved = repository.resolve_dispute(case, T0 + timedelta(days=31), [], token(P))
    monkeypatch.setattr(type(repository), "get_subject", real)

    assert sorted(r.reward_id for r in moved) == ["p-1-held-0", "p-1-held-1"]
    resolved = repository.get_case(P, case_id)
    assert (resolved.status, resolved.held_count) == ("declined", 0)
    assert not any(resolved.hold_micros.values())
    assert statuses(repository, P, "p-1") == {
        "p-1-before": "pending",
        "p-1-held-0": "declined",
        "p-1-held-1": "declined",
    }
    assert [e.action for e in repository.case_audit(P, case_id)].count("dispute_declined") == 1
    with pytest.raises(Conflict):
        repository.resolve_dispute(case, T0 + timedelta(days=32), [], token(P))


def test_a_customer_case_is_resolved_like_a_partner_case(repository):
    # the customer's earlier reward and the flagged transaction's reward are both held
    add_reward(repository, reward(P, "r-old", "p-1", T0 - timedelta(days=1), customer_id="c-1"))
    new = reward(P, "r-new", "p-1", T0, customer_id="c-1")
    case_id = flag(repository, P, "c-1", T0, subject_type="customer", reward=new).case_id
    assert {r.reward_id: r.status for r in repository.subject_rewards(P, "customer", "c-1")} == {
        "r-old": "on_hold",
        "r-new": "on_hold",
    }
    assert repository.get_case(P, case_id).held_count == 2
    repository.open_dispute(P, case_id, "a real customer", "Dana", T0 + timedelta(days=1))
    repository.record_verdict(case_id, "approve", "", "Sec", T0 + timedelta(days=2))

    moved = repository.resolve_dispute(repository.get_case(P, case_id), T0 + timedelta(days=3), [], token(P))

    assert sorted(r.reward_id for r in moved) == ["r-new", "r-old"]
    assert {r.status for r in repository.subject_rewards(P, "customer", "c-1")} == {"pending"}
    customer = repository.get_subject(P, "customer", "c-1")
    assert (customer.status, customer.active_case_id) == ("active", None)


def test_after_an_approval_a_new_flag_opens_a_new_case(repository):
    case_id = disputed_partner(repository, "p-1", held=1, verdict="approve")
    repository.resolve_dispute(repository.get_case(P, case_id), T0 + timedelta(days=30), [], token(P))
    add_reward(repository, reward(P, "r-later", "p-1", T0 + timedelta(days=41)))

    outcome = flag(repository, P, "p-1", T0 + timedelta(days=40))

    assert outcome.opened and outcome.case_id != case_id
    assert repository.get_case(P, case_id).status == "approved"
    new = repository.get_case(P, outcome.case_id)
    assert (new.status, new.flagged_at, new.held_count) == ("open", T0 + timedelta(days=40), 1)
    assert statuses(repository, P, "p-1") == {
        "p-1-before": "pending",
        "p-1-held-0": "pending",
        "r-later": "on_hold",
    }
    assert [c.case_id for c in repository.list_cases(P, "active")] == [outcome.case_id]
    assert repository.get_subject(P, "partner", "p-1").active_case_id == outcome.case_id


# --- overrides ----------------------------------------------------------------------------------
def test_only_a_held_reward_is_overridden_and_then_never_held_again(repository):
    add_reward(repository, reward(P, "r-free", "p-1", T0 - timedelta(hours=1)))
    add_reward(repository, reward(P, "r-held", "p-1", T0 + timedelta(hours=1), amount="4.00"))
    add_reward(repository, reward(P, "r-held-2", "p-1", T0 + timedelta(hours=2), amount="6.00"))
    case_id = flag(repository, P, "p-1", T0).case_id
    at = T0 + timedelta(days=1)

    with pytest.raises(Conflict):
        repository.override_reward(P, "r-free", "Dana", at)
    with pytest.raises(NotFound):
        repository.override_reward(P, "r-unknown", "Dana", at)
    with pytest.raises(NotFound):
        repository.override_reward(Q, "r-held", "Dana", at)
    overridden = repository.override_reward(P, "r-held", "Dana", at)
    with pytest.raises(Conflict):
        repository.override_reward(P, "r-held", "Dana", at)

    assert (overridden.status, overridden.overridden) == ("approved", True)
    case = repository.get_case(P, case_id)
    assert (case.held_count, case.hold_micros["USD"]) == (1, 6_000_000)
    audit = repository.case_audit(P, case_id)
    assert [(e.action, e.actor, e.detail["reward_id"]) for e in audit[1:]] == [
        ("reward_overridden", "Dana", "r-held")
    ]
    assert repository.hold_rewards(P, case_id, [repository.get_reward(P, "r-held")], "hold-sweep", at) == []
    assert repository.get_reward(P, "r-held").status == "approved"
    assert statuses(repository, P, "p-1")["r-free"] == "pending"


# --- removals ----------------------------------------------------------------------------------
@pytest.mark.parametrize("block", [True, False])
def test_removing_a_partner_archives_its_rewards_and_marks_its_identifiers(repository, block):
    add_reward(repository, reward(P, "r-pending", "p-1", T0 - timedelta(hours=1), amount="1.50"))
    add_reward(repository, reward(P, "r-held", "p-1", T0 + timedelta(hours=1), amount="20.00"))
    add_reward(repository, reward(P, "r-eur", "p-1", T0 + timedelta(hours=2), amount="3.00", currency="EUR"))
    add_reward(repository, reward(P, "r-other", "p-2", T0 + timedelta(hours=1)))
    case_id = flag(repository, P, "p-1", T0).case_id
    repository.open_dispute(P, case_id, "maybe", "Dana", T0 + timedelta(hours=3))
    at = T0 + timedelta(days=2)

    removed = repository.remove_partner(P, case_id, block, "Dana Admin", at, network_of("p-1"), token(P))

    assert (removed.status, removed.removed_at, removed.removed_by, removed.block_reapply) == (
        "removed",
        at,
        "Dana Admin",
        block,
    )
    assert (removed.subject_team, removed.archived_count) == ("Growth", 3)
    assert removed.archived_micros == {"USD": 21_500_000, "EUR": 3_000_000}
    assert removed.held_count == 0 and not any(removed.hold_micros.values())
    assert repository.get_case(P, case_id) == removed
    assert set(statuses(repository, P, "p-1").values()) == {"archived"}
    assert statuses(repository, P, "p-2") == {"r-other": "pending"}
    assert [c.case_id for c in repository.list_cases(P, "removed")] == [case_id]
    assert repository.list_cases(P, "active") == []
    assert repository.disputes() == []
    partner = repository.get_subject(P, "partner", "p-1")
    assert (partner.status, partner.active_case_id) == ("removed", None)
    assert (P, "partner", "p-1") not in flagged_keys(repository)
    links, network = link_states(repository, P, "p-1")
    me = subject_key("partner", "p-1")
    for kind in ("email", "device", "ip"):
        (key,) = [k for k in links_of("p-1") if k[0] == kind]
        assert me in links[key].removed
        assert (me in links[key].blocked) == (block and kind in ("email", "device"))
    assert all(token(P) in network[k].removed for k in network_of("p-1"))
    audit = repository.case_audit(P, case_id)[-1]
    assert (audit.action, audit.actor, audit.at) == ("partner_removed", "Dana Admin", at)


def test_only_an_active_partner_case_can_be_removed(repository):
    resolved = disputed_partner(repository, "p-res", held=1, verdict="approve")
    repository.resolve_dispute(repository.get_case(P, resolved), T0 + timedelta(days=30), [], token(P))
    customer_case = flag(repository, P, "c-1", T0, subject_type="customer").case_id
    removed = flag(repository, P, "p-rm", T0).case_id
    repository.remove_partner(P, removed, False, "Dana", T0 + timedelta(days=1), [], token(P))
    before = {c: repository.get_case(P, c) for c in (resolved, customer_case, removed)}

    for case_id in (resolved, customer_case, removed):
        with pytest.raises(Conflict):
            repository.remove_partner(P, case_id, True, "Eve", T0 + timedelta(days=5), [], token(P))
    for case_id in (resolved, removed):
        with pytest.raises(Conflict):
            repository.open_dispute(P, case_id, "late", "Eve", T0 + timedelta(days=5))
    with pytest.raises(NotFound):
        repository.remove_partner(P, "case-unknown", True, "Eve", T0, [], token(P))

    assert {c: repository.get_case(P, c) for c in before} == before
    assert statuses(repository, P, "p-res")["p-res-held-0"] == "pending"
    assert repository.get_subject(P, "partner", "p-res").status == "active"


def test_removing_a_partner_takes_its_archived_rewards_out_of_other_cases_holds(repository):
    # a referred customer's case holds the partner's reward; then the partner is flagged too
    held_elsewhere = reward(P, "r-cust", "p-1", T0, amount="8.00", customer_id="c-1")
    customer_case = flag(repository, P, "c-1", T0, subject_type="customer", reward=held_elsewhere).case_id
    add_reward(repository, reward(P, "r-own", "p-1", T0 + timedelta(hours=2), amount="3.00"))
    partner_case = flag(repository, P, "p-1", T0 + timedelta(hours=1)).case_id
    assert repository.get_case(P, customer_case).held_count == 1
    assert repository.get_case(P, partner_case).held_count == 1

    removed = repository.remove_partner(P, partner_case, False, "Dana", T0 + timedelta(days=1), [], token(P))

    assert removed.archived_count == 2 and removed.archived_micros == {"USD": 11_000_000}
    assert repository.get_reward(P, "r-cust").status == "archived"
    customer = repository.get_case(P, customer_case)
    assert (customer.status, customer.held_count) == ("open", 0)
    assert not any(customer.hold_micros.values())
