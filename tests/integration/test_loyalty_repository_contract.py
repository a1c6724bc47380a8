"""The loyalty storage contract, run against the DynamoDB adapter (on moto) and the in-memory fake."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from functions.loyalty import caps, notifications, workflows
from functions.shared.errors import Conflict, NotFound
from functions.shared.storage.memory import InMemoryRepository
from functions.shared.storage.port_loyalty import (
    BalanceChange,
    Campaign,
    CampaignGrant,
    CustomerChange,
    HistoryEntry,
    LoyaltyAction,
    LoyaltyCustomer,
    PeriodTotals,
    Totals,
    Workflow,
    WorkflowAction,
    WorkflowRun,
    day_period,
    periods_of,
)

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday
DAY = T0.date()
P = "prg-a"


@pytest.fixture(params=["dynamodb", "memory"])
def repository(request):
    if request.param == "memory":
        return InMemoryRepository()
    return request.getfixturevalue("aws").repository


def earn(
    repository, action_id, customer="c1", points=10, *, bonus=0, day=DAY, grant=None, program=P, due=None
):
    """Writes an earn on top of what the store holds now, as the service does."""
    state = repository.read_loyalty_state(program, customer, periods=periods_of(day))
    current = state.customer or LoyaltyCustomer(program, customer, "active", 0, 0, Totals(), T0)
    delta = Totals(earned=points, bonus=bonus)
    change = BalanceChange(
        action=LoyaltyAction(program, action_id, "earn", customer, f"h-{action_id}", {"granted": points}, T0),
        expected_version=current.version,
        customer=replace(current, balance=current.balance + points, lifetime=current.lifetime.plus(delta)),
        periods=tuple(
            replace(
                state.periods.get(p, PeriodTotals(p)),
                totals=state.periods.get(p, PeriodTotals(p)).totals.plus(delta),
            )
            for p in periods_of(day)
        ),
        grant=grant,
        workflows_due=due,
    )
    return repository.record_loyalty_action(change)


def change(repository, customer="c1", *, status=None, markers=None, periods=(), history=(), version=None):
    """Changes a customer on top of what the store holds now (or at `version`)."""
    current = repository.get_loyalty_customer(P, customer)
    new = replace(current, status=status or current.status, markers={**current.markers, **(markers or {})})
    return repository.change_loyalty_customer(
        CustomerChange(current.version if version is None else version, new, tuple(periods), tuple(history))
    )


def campaign(**changes):
    values = dict(
        program_id=P,
        campaign_id="summer",
        total_cap=100,
        per_customer_cap=30,
        limit_behavior="hard",
        starts_at=None,
        ends_at=None,
        updated_at=T0,
    )
    values.update(changes)
    return Campaign(**values)


def workflow(workflow_id="wf1", **changes):
    values = dict(
        program_id=P,
        workflow_id=workflow_id,
        trigger_kind=None,
        aggregation="earned",
        date_range="week_to_date",
        audience="current",
        threshold=100,
        actions=(
            WorkflowAction("communication", "warning", {"template": "terms"}),
            WorkflowAction("suspend"),
        ),
        enabled=True,
        updated_at=T0,
    )
    values.update(changes)
    return Workflow(**values)


def test_an_earn_creates_the_customer_and_counts_in_every_period(repository):
    assert earn(repository, "a1", points=30, bonus=30)

    customer = repository.get_loyalty_customer(P, "c1")
    assert (customer.status, customer.balance, customer.version) == ("active", 30, 1)
    assert customer.lifetime == Totals(earned=30, bonus=30)
    periods = repository.loyalty_periods(P, "c1", periods_of(DAY))
    assert set(periods) == set(periods_of(DAY))
    assert all(p.totals == Totals(30, 30, 0) for p in periods.values())
    assert repository.loyalty_days(P, "c1", DAY - timedelta(days=6), DAY) == {DAY: Totals(30, 30, 0)}


def test_an_action_id_is_written_once(repository):
    assert earn(repository, "a1")
    assert not earn(repository, "a1")

    state = repository.read_loyalty_state(P, "c1", action_id="a1")
    assert state.action.answer == {"granted": 10}
    assert state.action.customer_id == "c1"
    assert state.customer.balance == 10


def test_a_stale_version_writes_nothing(repository):
    earn(repository, "a1")
    state = repository.read_loyalty_state(P, "c1")
    earn(repository, "a2")  # someone else moved the customer on
    stale = BalanceChange(
        action=LoyaltyAction(P, "a3", "spend", "c1", "h", {"balance": 0}, T0),
        expected_version=state.customer.version,
        customer=replace(state.customer, balance=0, lifetime=Totals(earned=10, spent=10)),
        periods=(PeriodTotals(day_period(DAY), Totals(earned=10, spent=10)),),
    )

    assert not repository.record_loyalty_action(stale)
    assert repository.get_loyalty_customer(P, "c1").balance == 20
    assert repository.read_loyalty_state(P, "c1", action_id="a3").action is None


def create(repository, **changes):
    """A new campaign, as the service creates one: its shards share the cap."""
    new = campaign(**changes)
    assert repository.put_campaign(replace(new, revision=1, shards=caps.initial_shards(new.total_cap)), 0)
    return repository.get_campaign(P, new.campaign_id)


def change_settings(repository, **changes):
    """New settings, as the service writes them: the quotas moved to the new cap."""
    current = repository.get_campaign(P, "summer")
    new = replace(campaign(**changes), revision=current.revision + 1, shards=current.shards)
    return repository.put_campaign(new, current.revision, caps.requota(current.shards, new.total_cap))


def test_the_snapshot_reads_everything_an_earn_decides_on(repository):
    create(repository)
    repository.put_workflow(workflow(), workflows.admit("wf"))
    earn(repository, "a1", points=5)

    state = repository.read_loyalty_state(
        P,
        "c1",
        action_id="a1",
        periods=(day_period(DAY), day_period(DAY + timedelta(days=1))),
        campaign_id="summer",
        with_workflows=True,
    )

    assert state.customer.balance == 5
    assert state.action.action_id == "a1"
    assert list(state.periods) == [day_period(DAY)]
    assert state.campaign.total_cap == 100 and state.campaign_granted is None
    assert [s.index for s in state.campaign.shards] == list(range(caps.CAMPAIGN_SHARDS))
    assert sum(s.quota for s in state.campaign.shards) == 100
    assert [w.workflow_id for w in state.workflows] == ["wf1"]
    one = repository.read_loyalty_state(P, "c1", campaign_id="summer", campaign_shards=(3,))
    assert one.campaign.shards == (state.campaign.shards[3],)
    assert one.campaign.revision == state.campaign.revision
    nothing = repository.read_loyalty_state(P, "nobody", campaign_id="unknown")
    assert nothing.customer is None and nothing.campaign is None and nothing.workflows == ()


def grant_for(repository, customer, points, behavior="hard"):
    """The grant the service would decide on every shard (None: nothing granted)."""
    state = repository.read_loyalty_state(P, customer, campaign_id="summer")
    found = state.campaign
    decision = caps.decide_sharded(
        behavior,
        points,
        total_cap=found.total_cap,
        revision=found.revision,
        shards=found.shards,
        own=caps.shard_of(customer),
        customer_cap=found.per_customer_cap,
        customer_granted=state.campaign_granted or 0,
        first_for_customer=state.campaign_granted is None,
    )
    if not decision.points:
        return None
    return CampaignGrant(
        "summer",
        decision.points,
        found.revision,
        customer_ceiling=decision.customer_ceiling,
        first_for_customer=state.campaign_granted is None,
        shards=decision.shards,
    )


def test_a_grant_moves_the_counters_only_within_its_ceilings(repository):
    create(repository)  # hard, 100 in all, 30 per customer

    assert earn(repository, "a1", "c1", 25, bonus=25, grant=grant_for(repository, "c1", 25))
    assert earn(repository, "a2", "c2", 30, bonus=30, grant=grant_for(repository, "c2", 30))
    stale_customer = replace(grant_for(repository, "c1", 5), points=10, customer_ceiling=20)
    assert not earn(repository, "a3", "c1", 10, bonus=10, grant=stale_customer)  # c1 holds 25 > 20
    shard = repository.get_campaign(P, "summer").shards[caps.shard_of("c3")]
    past_quota = CampaignGrant(
        "summer", 5, 1, 30 - 5, True, (caps.ShardGrant(shard.index, 5, ceiling=shard.used - 1),)
    )
    assert not earn(repository, "a4", "c3", 5, bonus=5, grant=past_quota)  # the shard holds more
    stored = repository.get_campaign(P, "summer")
    assert (stored.granted_total, stored.customers) == (55, 2)
    assert all(s.used <= s.quota for s in stored.shards)
    assert repository.read_loyalty_state(P, "c1", campaign_id="summer").campaign_granted == 25


def test_a_grant_against_an_older_campaign_revision_is_refused(repository):
    create(repository)
    grant = grant_for(repository, "c1", 5)
    assert change_settings(repository, total_cap=200)

    assert not earn(repository, "a1", "c1", 5, bonus=5, grant=grant)
    assert repository.get_campaign(P, "summer").granted_total == 0


def test_concurrent_grants_never_pass_the_ceiling(repository):
    create(repository, total_cap=100, per_customer_cap=100)

    def attempt(n):
        while True:
            grant = grant_for(repository, f"c{n}", 10)
            if grant is None:
                return False
            if earn(repository, f"a{n}", f"c{n}", 10, bonus=10, grant=grant):
                return True

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(attempt, range(20)))

    assert sum(outcomes) == 10
    stored = repository.get_campaign(P, "summer")
    assert stored.granted_total == 100
    assert all(s.used <= s.quota for s in stored.shards)


def test_put_campaign_keeps_counters_and_moves_the_revision(repository):
    first = create(repository)
    earn(repository, "a1", "c1", 5, bonus=5, grant=grant_for(repository, "c1", 5))

    assert change_settings(repository, total_cap=500, limit_behavior="soft", ends_at=T0)

    second = repository.get_campaign(P, "summer")
    assert second.revision == first.revision + 1
    assert (second.total_cap, second.limit_behavior, second.ends_at) == (500, "soft", T0)
    assert (second.granted_total, second.customers) == (5, 1)
    assert sum(s.quota for s in second.shards) == 500  # the rooms: what is left under the new cap
    # a PUT decided on the older revision changes nothing
    assert not repository.put_campaign(second, first.revision, caps.requota(second.shards, 10))
    assert repository.get_campaign(P, "summer") == second
    with pytest.raises(NotFound):
        repository.get_campaign("prg-b", "summer")


def test_what_a_campaign_has_left_is_marked_at_its_revision_only_lower_and_a_cap_change_clears_it(
    repository,
):
    first = create(repository, total_cap=40, per_customer_cap=40)
    assert earn(repository, "a1", "c1", 30, bonus=30, grant=grant_for(repository, "c1", 30))
    own = caps.shard_of("c2")

    repository.mark_campaign_left(P, "summer", first.revision, 10, (own, 5))
    repository.mark_campaign_left(P, "summer", first.revision, 0, (own,))  # less left: lowered
    repository.mark_campaign_left(P, "summer", first.revision, 10, (own, 5))  # more: not raised again
    repository.mark_campaign_left(P, "summer", first.revision + 1, 0, (0, 1))  # not at it: nothing

    marked = repository.get_campaign(P, "summer")
    assert {s.index: s.left_seen for s in marked.shards if s.left_seen is not None} == {
        own: (first.revision, 0),
        5: (first.revision, 10),
    }
    one = repository.read_loyalty_state(P, "c2", campaign_id="summer", campaign_shards=(own,)).campaign
    assert one.shards[0].left_seen == (first.revision, 0)  # read with the earn's snapshot
    assert (marked.granted_total, sum(s.quota for s in marked.shards)) == (30, 40)  # counters untouched

    assert change_settings(repository, total_cap=100, per_customer_cap=40)
    raised = repository.get_campaign(P, "summer")
    assert raised.revision == first.revision + 1
    assert all(s.left_seen is None for s in raised.shards)  # cleared with the new settings
    repository.mark_campaign_left(P, "summer", first.revision, 0, (own,))  # a late mark of before
    assert repository.get_campaign(P, "summer") == raised
    repository.mark_campaign_left(P, "nothing", 1, 0, (0,))  # no such campaign: nothing at all
    with pytest.raises(NotFound):
        repository.get_campaign(P, "nothing")


def test_campaigns_are_listed_by_id_with_their_settings_as_last_saved(repository):
    for campaign_id in ("summer", "autumn", "winter[1]"):
        create(repository, campaign_id=campaign_id)
    assert change_settings(repository, total_cap=500, limit_behavior="soft")  # summer's, saved again
    create(repository, campaign_id="summer-b")
    assert not repository.put_campaign(  # refused (an older revision): the list keeps what was saved
        replace(repository.get_campaign(P, "autumn"), total_cap=1), 0
    )

    listed = repository.campaigns_page(P, None, 10)

    assert [c.campaign_id for c in listed] == ["autumn", "summer", "summer-b", "winter[1]"]
    summer = listed[1]
    assert (summer.total_cap, summer.limit_behavior, summer.revision) == (500, "soft", 2)
    assert listed[0].total_cap == repository.get_campaign(P, "autumn").total_cap
    assert all(c.shards == () for c in listed)  # settings only: figures are a campaign's own read
    assert [c.campaign_id for c in repository.campaigns_page(P, "summer", 2)] == ["summer-b", "winter[1]"]
    assert repository.campaigns_page(P, "winter[1]", 10) == []
    assert repository.campaigns_page("prg-b", None, 10) == []


def test_a_cap_lowered_to_what_was_granted_or_below_closes_every_shard(repository):
    create(repository, total_cap=100, per_customer_cap=100)
    for n in range(4):
        earn(repository, f"a{n}", f"c{n}", 12, bonus=12, grant=grant_for(repository, f"c{n}", 12))

    assert change_settings(repository, total_cap=40, per_customer_cap=100)

    stored = repository.get_campaign(P, "summer")
    assert stored.granted_total == 48
    assert all(s.quota == s.used for s in stored.shards)
    assert grant_for(repository, "late", 1) is None


def test_lowering_a_cap_is_refused_when_a_shard_no_longer_has_the_room_taken_from_it(repository):
    create(repository, total_cap=80, per_customer_cap=100)
    current = repository.get_campaign(P, "summer")
    quotas = caps.requota(current.shards, 16)  # 80 of room down to 16: 8 taken from every shard
    customer = next(f"c{n}" for n in range(100) if caps.shard_of(f"c{n}") == 0)
    assert earn(repository, "a1", customer, 9, bonus=9, grant=grant_for(repository, customer, 9))

    lowered = replace(campaign(total_cap=16), revision=current.revision + 1, shards=current.shards)
    assert not repository.put_campaign(lowered, current.revision, quotas)  # shard 0 has 1 left, not 8
    assert repository.get_campaign(P, "summer").total_cap == 80


def test_status_changes_bump_the_version_and_append_history_in_order(repository):
    earn(repository, "a1")
    version = repository.get_loyalty_customer(P, "c1").version
    entries = (
        HistoryEntry(T0, "communication", "workflow:wf1", event="warning", payload={"k": "v"}),
        HistoryEntry(T0, "suspended", "workflow:wf1"),
    )

    assert change(repository, status="suspended", history=entries)
    assert not change(repository, status="blocked", history=entries[1:], version=version)
    assert change(repository, status="active", history=(HistoryEntry(T0, "unsuspended", "Dana"),))

    customer = repository.get_loyalty_customer(P, "c1")
    assert (customer.status, customer.version, customer.balance) == ("active", version + 2, 10)
    history = [entry for _, entry in reversed(repository.loyalty_history_page(P, "c1", None, 100))]
    assert [(h.action, h.by) for h in history] == [
        ("communication", "workflow:wf1"),
        ("suspended", "workflow:wf1"),
        ("unsuspended", "Dana"),
    ]
    assert history[0].payload == {"k": "v"}
    ghost = LoyaltyCustomer(P, "nobody", "blocked", 0, 1, Totals(), T0)
    assert not repository.change_loyalty_customer(CustomerChange(1, ghost))
    with pytest.raises(NotFound):
        repository.get_loyalty_customer(P, "nobody")


def test_a_change_records_its_notifications_in_the_outbox_with_it(repository):
    # Given a customer, and a suspension whose notification is decided with it (SPEC 6)
    earn(repository, "a1")
    current = repository.get_loyalty_customer(P, "c1")
    detail = {"program_id": P, "customer_id": "c1", "by": "Dana", "at": T0.isoformat()}
    recorded = notifications.recorded(P, "c1", current.version + 1, T0, [("CustomerSuspended", detail)])
    suspended = replace(current, status="suspended")
    entry = (HistoryEntry(T0, "suspended", "Dana"),)

    # When a stale copy of the change is refused, and the change itself commits
    assert not repository.change_loyalty_customer(
        CustomerChange(current.version - 1, suspended, history=entry, notifications=recorded)
    )
    assert repository.pending_notifications(P, 10) == []  # a refused change records nothing
    assert repository.change_loyalty_customer(
        CustomerChange(current.version, suspended, history=entry, notifications=recorded)
    )

    # Then the notification waits in the outbox the relay reads, until the bus has it
    pending = repository.pending_notifications(P, 10)
    assert [(n.notification_id, n.name, n.program_id, n.created_at) for n in pending] == [
        (recorded[0].notification_id, "CustomerSuspended", P, T0)
    ]
    assert pending[0].detail == detail
    repository.notifications_delivered(pending)
    assert repository.pending_notifications(P, 10) == []


def test_markers_are_kept_on_the_customer_and_on_period_items(repository):
    earn(repository, "a1", points=150)
    today = repository.loyalty_periods(P, "c1", (day_period(DAY),))[day_period(DAY)]

    assert change(
        repository, markers={"wf-life": "2026-11-02"}, periods=[replace(today, markers={"wf-day": "x"})]
    )
    earn(repository, "a2", points=5)  # later writes keep them

    assert repository.get_loyalty_customer(P, "c1").markers == {"wf-life": "2026-11-02"}
    stored = repository.loyalty_periods(P, "c1", (day_period(DAY),))[day_period(DAY)]
    assert stored.markers == {"wf-day": "x"}
    assert stored.totals == Totals(earned=155)


def test_customers_above_a_threshold_are_found_by_period_and_marker(repository):
    for n, points in enumerate([50, 100, 101, 400]):
        earn(repository, f"a{n}", f"c{n}", points, bonus=points)
    earn(repository, "other", "c9", 900, day=DAY - timedelta(days=1))
    earn(repository, "elsewhere", "c8", 900, program="prg-b")
    c3_today = repository.loyalty_periods(P, "c3", (day_period(DAY),))[day_period(DAY)]
    change(repository, "c3", periods=[replace(c3_today, markers={"wf1": "x"})])

    today = day_period(DAY)
    assert repository.customers_above(P, "bonus", today, 100) == ["c2", "c3"]
    assert repository.customers_above(P, "bonus", today, 100, without_marker="wf1") == ["c2"]
    assert repository.customers_above(P, "spent", today, 0) == []
    assert repository.customers_above(P, "earned", "L", 399) == ["c3", "c9"]
    assert repository.customers_above(P, "earned", periods_of(DAY)[1], 100) == ["c2", "c3"]


def test_customers_are_read_together_as_they_are_now(repository):
    # Given 150 customers of the program (more than one request's hundred), one of another program
    for n in range(150):
        earn(repository, f"a{n}", f"m{n:03d}", n + 1)
    earn(repository, "b1", "m000", 999, program="prg-b")
    earn(repository, "again", "m007", 5)  # a second write: version 2

    # When they are read with ids asked twice, and ids of nobody
    wanted = [f"m{n:03d}" for n in range(150)] + ["m007", "nobody", "m149"]
    found = {c.customer_id: c for c in repository.loyalty_customers(P, wanted)}

    # Then each customer once, as the store has it, of this program only
    assert sorted(found) == [f"m{n:03d}" for n in range(150)]
    assert found["m000"].balance == 1 and found["m000"].program_id == P
    assert (found["m007"].balance, found["m007"].version) == (13, 2)
    assert found["m007"] == repository.get_loyalty_customer(P, "m007")
    assert repository.loyalty_customers(P, []) == []


def test_days_are_read_by_range(repository):
    for offset in range(10):
        earn(repository, f"a{offset}", points=offset + 1, day=DAY - timedelta(days=offset))

    days = repository.loyalty_days(P, "c1", DAY - timedelta(days=6), DAY)

    assert sorted(days) == [DAY - timedelta(days=n) for n in range(6, -1, -1)]
    assert sum(t.earned for t in days.values()) == sum(range(1, 8))
    assert repository.loyalty_days(P, "c1", date(2020, 1, 1), date(2020, 1, 2)) == {}


def test_what_arrived_later_on_a_day_is_kept_with_it_through_every_write(repository):
    """`PeriodTotals.late` (what was dated back into a day, by the day it arrived), kept by the earn's
    write and by a later change of the customer that writes the day again (a marker)."""
    arrived = DAY + timedelta(days=3)
    late = {arrived: Totals(earned=1001), DAY + timedelta(days=1): Totals(spent=7)}
    assert earn(repository, "a1")
    state = repository.read_loyalty_state(P, "c1", periods=periods_of(DAY))
    current = state.customer
    day = state.periods[periods_of(DAY)[0]]
    assert repository.record_loyalty_action(
        BalanceChange(
            action=LoyaltyAction(P, "a2", "earn", "c1", "h-a2", {"granted": 1001}, T0),
            expected_version=current.version,
            customer=replace(current, balance=current.balance + 1001),
            periods=(replace(day, totals=day.totals.plus(Totals(earned=1001)), late=late),),
        )
    )
    assert change(
        repository,
        markers={"wf": "2026-11-05"},
        periods=[
            replace(
                repository.read_loyalty_state(P, "c1", periods=periods_of(DAY)).periods[periods_of(DAY)[0]],
                markers={"wf": "x"},
            )
        ],
    )

    (found,) = repository.loyalty_day_items(P, "c1", DAY, DAY).values()

    assert found.late == late and found.totals.earned == 1011 and found.markers == {"wf": "x"}
    assert repository.loyalty_days(P, "c1", DAY, DAY) == {DAY: found.totals}


def fat(workflow_id, character="\U0001f600"):
    """A workflow as large as the API lets it be: 10 actions of 20 texts of 256 characters."""
    payload = {f"k{n:02d}": character * 256 for n in range(20)}
    actions = tuple(WorkflowAction("communication", f"e{n}", payload) for n in range(10))
    return workflow(workflow_id, actions=actions)


@pytest.mark.parametrize("character", ["a", "\U0001f600"])  # ASCII, and four bytes a character
def test_the_program_s_workflows_take_at_most_their_room_together(repository, character):
    saved = []
    with pytest.raises(Conflict, match="take at most 300 KB together"):
        for n in range(workflows.MAX_WORKFLOWS):
            repository.put_workflow(fat(f"wf{n}", character), workflows.admit(f"wf{n}"))
            saved.append(f"wf{n}")

    # every one admitted is kept as it was given; the one refused is not there
    assert 1 <= len(saved) < 10
    assert [w.workflow_id for w in repository.list_workflows(P)] == sorted(saved)
    assert repository.get_workflow(P, saved[-1]) == fat(saved[-1], character)
    # a workflow made smaller fits again, and one deleted makes room
    repository.put_workflow(workflow(saved[0]), workflows.admit(saved[0]))
    repository.put_workflow(fat("again", character), workflows.admit("again"))
    assert "again" in [w.workflow_id for w in repository.list_workflows(P)]


def test_workflows_saved_past_the_room_before_it_was_kept_may_still_be_switched_off_or_shrunk(repository):
    # Given a program whose workflows take more than the room (saved before it was bounded)
    for n in range(7):
        repository.put_workflow(fat(f"wf{n}", "a"), lambda existing, saved: None)
    stored = sum(workflows.stored_size(w) for w in repository.list_workflows(P))
    assert stored > workflows.WORKFLOWS_STORED_MAX

    # When one is switched off, then shrunk, then grown back
    off = replace(fat("wf0", "a"), enabled=False)
    repository.put_workflow(off, workflows.admit("wf0"))
    repository.put_workflow(workflow("wf1"), workflows.admit("wf1"))
    with pytest.raises(Conflict, match="take at most 300 KB together"):
        repository.put_workflow(fat("wf1", "a"), workflows.admit("wf1"))

    # Then switching off and shrinking were taken, growing was not
    assert repository.get_workflow(P, "wf0") == off
    assert repository.get_workflow(P, "wf1") == workflow("wf1")


def test_workflows_are_kept_per_program_with_a_limit(repository):
    repository.put_workflow(workflow("wf2"), workflows.admit("wf2", limit=2))
    repository.put_workflow(workflow("wf1"), workflows.admit("wf1", limit=2))
    repository.put_workflow(workflow("wf1", threshold=5), workflows.admit("wf1", limit=2))  # no new one

    assert [w.workflow_id for w in repository.list_workflows(P)] == ["wf1", "wf2"]
    assert repository.get_workflow(P, "wf1") == workflow("wf1", threshold=5)
    with pytest.raises(Conflict):
        repository.put_workflow(workflow("wf3"), workflows.admit("wf3", limit=2))
    repository.delete_workflow(P, "wf2")
    assert [w.workflow_id for w in repository.list_workflows(P)] == ["wf1"]
    with pytest.raises(NotFound):
        repository.delete_workflow(P, "wf2")
    with pytest.raises(NotFound):
        repository.get_workflow("prg-b", "wf1")
    assert repository.list_workflows("prg-b") == []


def test_the_history_pages_newest_first_from_a_position(repository):
    earn(repository, "e1")
    for n in range(5):  # a change of two entries at a time: positions order within a change too
        entries = (
            HistoryEntry(T0, "suspended", "t", note=f"n{n}a"),
            HistoryEntry(T0, "communication", "t", note=f"n{n}b"),
        )
        assert change(repository, history=entries)

    first = repository.loyalty_history_page(P, "c1", None, 3)
    rest = repository.loyalty_history_page(P, "c1", first[-1][0], 100)

    notes = [e.note for _, e in first + rest]
    assert notes == [e.note for _, e in repository.loyalty_history_page(P, "c1", None, 100)]
    assert notes[:4] == ["n4b", "n4a", "n3b", "n3a"] and len(notes) == 10
    assert repository.loyalty_history_page(P, "c1", rest[-1][0], 5) == []
    assert repository.loyalty_history_page(P, "nobody", None, 5) == []


def test_workflow_runs_are_due_from_their_earn_until_done(repository):
    runs = [WorkflowRun(P, f"a{n}", f"c{n}", "purchase", T0 + timedelta(seconds=n)) for n in range(3)]
    runs[2] = replace(runs[2], occurred_at=T0 + timedelta(minutes=4, microseconds=3))  # dated ahead
    for run in runs:
        assert earn(repository, run.action_id, run.customer_id, due=run)
    assert earn(repository, "no-workflows", "c9")  # matched none: never due
    assert not earn(repository, "a0", "c0", due=runs[0])  # a retry of the id records nothing again

    due = repository.workflow_runs_due(P, T0 + timedelta(minutes=1), 10)
    assert sorted(due, key=lambda r: r.action_id) == runs  # everything the run needs, as recorded
    assert repository.workflow_runs_due(P, T0 + timedelta(seconds=1), 10) == [runs[0]]  # only older
    assert repository.workflow_runs_due("prg-other", T0 + timedelta(minutes=1), 10) == []
    assert len(repository.workflow_runs_due(P, T0 + timedelta(minutes=1), 2)) == 2

    repository.workflow_run_done(runs[1])
    repository.workflow_run_done(runs[1])  # idempotent
    repository.workflow_run_done(WorkflowRun(P, "never-written", "c", "purchase", T0))  # nothing to mark

    left = repository.workflow_runs_due(P, T0 + timedelta(minutes=1), 10)
    assert sorted(r.action_id for r in left) == ["a0", "a2"]
    assert repository.read_loyalty_state(P, "c1", action_id="a1").action is not None  # the action stays


def test_a_customers_note_of_runs_due_is_kept_with_it_and_cleared_as_each_run_is_done(repository):
    # Given an earn that notes its run on the customer (it matched a workflow that suspends)
    run = WorkflowRun(P, "a1", "c1", "purchase", T0)
    assert earn(repository, "a0", "c1")
    current = repository.get_loyalty_customer(P, "c1")
    odd = T0 + timedelta(microseconds=7)
    noted = {"a1": T0, "a.odd[0] id": odd, "b]1[%5B": odd}  # any action id, any instant
    assert repository.record_loyalty_action(
        BalanceChange(
            action=LoyaltyAction(P, "a1", "earn", "c1", "h-a1", {"granted": 1}, T0),
            expected_version=current.version,
            customer=replace(current, balance=current.balance + 1, runs_due=noted),
            periods=(),
            workflows_due=run,
        )
    )
    written = repository.get_loyalty_customer(P, "c1")
    assert written.runs_due == noted  # read back as written, to the microsecond

    # When its run is done
    repository.workflow_run_done(run)

    # Then the note is gone (the other stays), and the customer's version moved: an earn or a spend
    # that read it before the run was done reads it again
    after = repository.get_loyalty_customer(P, "c1")
    assert after.runs_due == {"a.odd[0] id": odd, "b]1[%5B": odd}
    assert after.version == written.version + 1
    stale = BalanceChange(
        action=LoyaltyAction(P, "a2", "earn", "c1", "h-a2", {"granted": 1}, T0),
        expected_version=written.version,  # read before the run was done
        customer=replace(written, balance=written.balance + 1),
        periods=(),
    )
    assert not repository.record_loyalty_action(stale)  # refused: it would bring the note back
    # done again, or done for a customer it never noted: nothing changes
    repository.workflow_run_done(run)
    repository.workflow_run_done(WorkflowRun(P, "a9", "c1", "purchase", T0))
    assert repository.get_loyalty_customer(P, "c1").runs_due == after.runs_due
    # an earn id with brackets (identifiers may hold them) names its own note, not a list's element
    for odd_id in ("a.odd[0] id", "b]1[%5B"):
        repository.workflow_run_done(WorkflowRun(P, odd_id, "c1", "purchase", T0))
    assert repository.get_loyalty_customer(P, "c1").runs_due == {}


def test_a_run_is_done_through_a_transaction_in_flight_on_its_customer(aws, monkeypatch):
    # DynamoDB refuses a write to an item a transaction is writing (TransactionConflictException;
    # moto never does): the note comes off at the next try, and the run is done
    from botocore.exceptions import ClientError
    from pynamodb.exceptions import UpdateError

    repository = aws.repository
    run = WorkflowRun(P, "a1", "c1", "purchase", T0)
    assert earn(repository, "a0", "c1")
    current = repository.get_loyalty_customer(P, "c1")
    noted = replace(current, runs_due={"a1": T0})
    action = LoyaltyAction(P, "a1", "earn", "c1", "h-a1", {"granted": 0}, T0)
    assert repository.record_loyalty_action(
        BalanceChange(action, current.version, noted, (), workflows_due=run)
    )
    item = repository._m.items["loyalty_customer"]  # the adapter's customer item class
    real, refused = item.update, []

    def in_flight(self, *args, **kwargs):
        if not refused:
            refused.append(1)
            error = {"Error": {"Code": "TransactionConflictException", "Message": "in flight"}}
            raise UpdateError("update failed", cause=ClientError(error, "UpdateItem"))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(item, "update", in_flight)
    repository.workflow_run_done(run)

    assert refused and repository.get_loyalty_customer(P, "c1").runs_due == {}
    assert repository.workflow_runs_due(P, T0 + timedelta(minutes=1), 10) == []


def test_the_store_checks_what_a_workflow_replaces_as_it_writes(repository):
    """The check runs inside the store's write, so two saves of one reading cannot both pass: the
    second finds the first's `updated_at` (the console's stale page undid a teammate's change)."""
    first = repository.put_workflow(
        workflow(threshold=1, updated_at=T0), workflows.admit("wf1", replaces=None)
    )
    later = T0 + timedelta(seconds=1)
    repository.put_workflow(
        workflow(threshold=2, updated_at=later), workflows.admit("wf1", replaces=first.updated_at)
    )

    with pytest.raises(Conflict, match="changed since you read it"):
        repository.put_workflow(
            workflow(threshold=3, updated_at=later + timedelta(seconds=1)),
            workflows.admit("wf1", replaces=first.updated_at),
        )
    with pytest.raises(Conflict, match="exists already"):
        repository.put_workflow(
            workflow(threshold=4, updated_at=later), workflows.admit("wf1", replaces=None)
        )
    assert repository.get_workflow(P, "wf1").threshold == 2
