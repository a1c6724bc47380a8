"""SPEC 8's rules through the loyalty service on the in-memory store (no network): aggregates over
every date range in the program's time zone, workflows once per crossing and re-armed, audiences,
campaign caps and their worked examples."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from functions.loyalty import periods, service, workflows
from functions.loyalty.models import CampaignSettings, EarnRequest, SpendRequest, WorkflowSettings
from functions.shared.auth import Principal
from functions.shared.changes import deliver
from functions.shared.clock import FixedClock
from functions.shared.domain.model import Program
from functions.shared.errors import StorageUnavailable
from functions.shared.messaging import InMemoryPublisher
from functions.shared.runtime import Dependencies
from functions.shared.storage.memory import InMemoryRepository

WEDNESDAY = datetime(2026, 11, 4, 12, 0, tzinfo=UTC)


class Loyalty:
    """One program's loyalty service with a clock the test moves."""

    def __init__(self, timezone: str = "UTC", now: datetime = WEDNESDAY) -> None:
        self.clock = FixedClock(now)
        self.bus = InMemoryPublisher()
        self.deps = Dependencies(InMemoryRepository(), self.bus, self.clock)
        self.program = Program("prg-unit", "Unit", now, timezone)
        self.fraud = Principal("k" * 16, self.program.program_id, "fraud", "Dana (fraud)", self.program)

    def at(self, when: datetime) -> Loyalty:
        self.clock._at = when  # noqa: SLF001 (a test's clock)
        return self

    def earn(self, customer: str, points: int, kind: str = "purchase", **extra: Any) -> dict[str, Any]:
        body = {"id": uuid.uuid4().hex, "customer_id": customer, "points": points, "kind": kind, **extra}
        if "occurred_at" in body:
            body["occurred_at"] = body["occurred_at"].isoformat()
        return service.earn(self.deps, self.program, TypeAdapter(EarnRequest).validate_python(body), body)

    def bonus(self, customer: str, points: int, campaign: str = "promo", **extra: Any) -> dict[str, Any]:
        return self.earn(customer, points, "campaign_bonus", campaign_id=campaign, **extra)

    def spend(self, customer: str, points: int) -> dict[str, Any]:
        body = {"id": uuid.uuid4().hex, "customer_id": customer, "points": points}
        return service.spend(self.deps, self.program, SpendRequest.model_validate(body), body)

    def view(self, customer: str) -> dict[str, Any]:
        return service.customer_view(self.deps, self.program, customer)

    def figures(self, customer: str, aggregation: str = "earned") -> dict[str, int]:
        return self.view(customer)["aggregates"][aggregation]

    def campaign(
        self, campaign: str = "promo", behavior: str = "hard", total: int = 10**9, **extra: Any
    ) -> None:
        settings = {"total_cap": total, "per_customer_cap": 10**9, "limit_behavior": behavior, **extra}
        service.put_campaign(
            self.deps, self.program.program_id, campaign, CampaignSettings.model_validate(settings)
        )

    def workflow(
        self,
        workflow_id: str,
        aggregation: str = "earned",
        date_range: str = "today",
        threshold: int = 100,
        customer: str = "current",
        actions: list[dict[str, Any]] | None = None,
        kind: str | None = None,
    ) -> None:
        settings = {
            "trigger": {"event": "points.earned", **({"kind": kind} if kind else {})},
            "filter": {
                "aggregation": aggregation,
                "date_range": date_range,
                "customer": customer,
                "threshold": threshold,
            },
            "actions": actions
            or [{"type": "communication", "event": f"{workflow_id}.warning", "payload": {}}],
            "enabled": True,
        }
        service.put_workflow(
            self.deps, self.program.program_id, workflow_id, WorkflowSettings.model_validate(settings)
        )

    def sent(self, detail_type: str = "LoyaltyCommunication") -> list[str]:
        return [d["customer_id"] for t, d in self.bus.published if t == detail_type]


# --- aggregates over date ranges, in the program's time zone --------------------------------
def test_every_date_range_of_every_aggregation_as_of_now():
    loyalty = Loyalty()
    loyalty.campaign()
    for days_ago, points in [
        (0, 1),
        (1, 2),
        (2, 4),
        (6, 8),
        (7, 16),
        (29, 32),
        (30, 64),
        (200, 128),
        (400, 256),
    ]:
        loyalty.earn("m1", points, occurred_at=WEDNESDAY - timedelta(days=days_ago))
    loyalty.bonus("m1", 1000)
    loyalty.spend("m1", 5)

    assert loyalty.figures("m1") == {
        "today": 1 + 1000,
        "week_to_date": 1 + 2 + 4 + 1000,  # Monday 2 Nov to Wednesday 4 Nov
        "month_to_date": 1 + 2 + 4 + 1000,  # 6 days ago is 29 October
        "year_to_date": 1 + 2 + 4 + 8 + 16 + 32 + 64 + 128 + 1000,
        "last_7_days": 1 + 2 + 4 + 8 + 1000,
        "last_30_days": 1 + 2 + 4 + 8 + 16 + 32 + 1000,
        "lifetime": 511 + 1000,
    }
    assert loyalty.figures("m1", "bonus") == {r: 1000 for r in loyalty.figures("m1", "bonus")}
    assert loyalty.figures("m1", "spent")["today"] == 5
    assert loyalty.view("m1")["balance"] == 1511 - 5


def test_the_last_day_of_a_rolling_window_counts_and_the_day_before_does_not():
    loyalty = Loyalty()
    loyalty.earn("m1", 10, occurred_at=datetime(2026, 11, 4, 0, 0, tzinfo=UTC))  # first minute
    loyalty.earn("m1", 1, occurred_at=datetime(2026, 11, 3, 23, 59, 59, tzinfo=UTC))  # the day before

    on_the_seventh_day = loyalty.at(datetime(2026, 11, 10, 23, 59, tzinfo=UTC)).figures("m1")
    on_the_eighth_day = loyalty.at(datetime(2026, 11, 11, 0, 0, tzinfo=UTC)).figures("m1")

    assert on_the_seventh_day["last_7_days"] == 10
    assert on_the_eighth_day["last_7_days"] == 0
    assert on_the_eighth_day["last_30_days"] == 11
    assert loyalty.at(datetime(2026, 12, 3, 12, tzinfo=UTC)).figures("m1")["last_30_days"] == 10
    assert loyalty.at(datetime(2026, 12, 4, 0, tzinfo=UTC)).figures("m1")["last_30_days"] == 0


def test_a_program_east_of_utc_starts_its_today_the_evening_before_in_utc():
    loyalty = Loyalty("Asia/Tokyo", now=datetime(2026, 11, 4, 2, 0, tzinfo=UTC))  # 11:00 in Tokyo
    loyalty.earn("m1", 5, occurred_at=datetime(2026, 11, 3, 15, 0, tzinfo=UTC))  # 00:00 on the 4th there
    loyalty.earn("m1", 7, occurred_at=datetime(2026, 11, 3, 14, 59, tzinfo=UTC))  # 23:59 on the 3rd there

    figures = loyalty.figures("m1")

    assert figures["today"] == 5
    assert figures["week_to_date"] == 12  # both in the week of Monday 2 November, Tokyo time
    in_utc = Loyalty("UTC", now=datetime(2026, 11, 4, 2, 0, tzinfo=UTC))
    in_utc.earn("m1", 5, occurred_at=datetime(2026, 11, 3, 15, 0, tzinfo=UTC))
    assert in_utc.figures("m1")["today"] == 0  # still the 3rd in UTC


def test_a_week_starts_on_the_programs_monday():
    # Monday 2 November starts at 11:00 UTC on Sunday 1 November in Auckland (UTC+13)
    loyalty = Loyalty("Pacific/Auckland", now=datetime(2026, 11, 3, 0, 0, tzinfo=UTC))
    loyalty.earn("m1", 3, occurred_at=datetime(2026, 11, 1, 11, 0, tzinfo=UTC))  # Monday 00:00 there
    loyalty.earn("m1", 4, occurred_at=datetime(2026, 11, 1, 10, 59, tzinfo=UTC))  # Sunday 23:59 there
    in_utc = Loyalty("UTC", now=datetime(2026, 11, 3, 0, 0, tzinfo=UTC))
    in_utc.earn("m1", 3, occurred_at=datetime(2026, 11, 1, 11, 0, tzinfo=UTC))  # Sunday in UTC

    assert loyalty.figures("m1")["week_to_date"] == 3
    assert loyalty.figures("m1")["month_to_date"] == 7
    assert in_utc.figures("m1")["week_to_date"] == 0


def test_months_and_years_turn_over_at_local_midnight():
    loyalty = Loyalty("America/New_York", now=datetime(2027, 1, 1, 5, 30, tzinfo=UTC))  # 00:30 on 1 Jan
    loyalty.earn("m1", 9, occurred_at=datetime(2027, 1, 1, 4, 59, tzinfo=UTC))  # 23:59 on 31 Dec there
    loyalty.earn("m1", 1)

    figures = loyalty.figures("m1")

    assert (figures["today"], figures["month_to_date"], figures["year_to_date"]) == (1, 1, 1)
    assert figures["last_7_days"] == 10 and figures["lifetime"] == 10


# --- workflows: current customer --------------------------------------------------------------
def test_a_current_workflow_runs_once_per_crossing_then_rearms_in_a_new_period():
    loyalty = Loyalty()
    loyalty.workflow("weekly", date_range="week_to_date", threshold=100)

    loyalty.earn("m1", 60)
    loyalty.earn("m1", 40)  # 100: at the threshold, not above it
    assert loyalty.sent() == []
    loyalty.earn("m1", 1)  # 101: crosses
    loyalty.earn("m1", 500)  # stays above: no second warning
    assert loyalty.sent() == ["m1"]

    loyalty.at(WEDNESDAY + timedelta(days=5))  # Monday: a new week, back to zero
    loyalty.earn("m1", 100)
    assert loyalty.sent() == ["m1"]
    loyalty.earn("m1", 1)
    assert loyalty.sent() == ["m1", "m1"]
    history = loyalty.view("m1")["history"]
    assert [(h["action"], h["by"], h["event"]) for h in history] == [
        ("communication", "workflow:weekly", "weekly.warning")
    ] * 2


def test_a_trigger_kind_limits_the_earns_that_run_the_workflow():
    loyalty = Loyalty()
    loyalty.campaign()
    loyalty.workflow("bonus-only", aggregation="earned", threshold=10, kind="campaign_bonus")

    loyalty.earn("m1", 50)  # above, but a purchase does not trigger it
    assert loyalty.sent() == []
    loyalty.bonus("m1", 1)
    assert loyalty.sent() == ["m1"]


def test_a_disabled_or_deleted_workflow_does_not_run():
    loyalty = Loyalty()
    loyalty.workflow("w", threshold=10)
    settings = service.get_workflow(loyalty.deps, loyalty.program.program_id, "w")
    body = {k: settings[k] for k in ("trigger", "filter", "actions")} | {"enabled": False}
    service.put_workflow(loyalty.deps, loyalty.program.program_id, "w", WorkflowSettings.model_validate(body))
    loyalty.earn("m1", 50)
    loyalty.workflow("gone", threshold=10)
    service.delete_workflow(loyalty.deps, loyalty.program.program_id, "gone")
    loyalty.earn("m2", 50)

    assert loyalty.sent() == []


def test_a_rolling_window_rearms_when_points_leave_it():
    loyalty = Loyalty()
    loyalty.workflow("seven", date_range="last_7_days", threshold=100)
    start = WEDNESDAY

    loyalty.earn("m1", 150)  # day 0: 150, crosses
    loyalty.at(start + timedelta(days=3)).earn("m1", 10)  # 160, still above
    assert loyalty.sent() == ["m1"]
    loyalty.at(start + timedelta(days=6)).earn("m1", 10)  # day 6: 170, still above
    assert loyalty.sent() == ["m1"]
    # day 7 starts with day 0's 150 gone (20 left): re-armed; then 90 more is 110 again
    loyalty.at(start + timedelta(days=7)).earn("m1", 90)
    assert loyalty.sent() == ["m1", "m1"]


def test_a_rolling_window_that_stays_above_does_not_rearm():
    loyalty = Loyalty()
    loyalty.workflow("seven", date_range="last_7_days", threshold=100)

    for day in range(12):  # 60 a day: the window holds 360 every day after the second
        loyalty.at(WEDNESDAY + timedelta(days=day)).earn("m1", 60)

    assert loyalty.sent() == ["m1"]


def test_a_rolling_window_rearms_for_an_earn_dated_back_into_it():
    # Given a customer who crossed a 7-day window on day 0, was suspended and let go, and whose
    # window has been empty since day 7
    loyalty = Loyalty()
    loyalty.workflow("seven", date_range="last_7_days", threshold=1000, actions=[{"type": "suspend"}])
    loyalty.earn("m1", 1001)
    service.change_status(loyalty.deps, loyalty.fraud, "m1", "unsuspend", "reviewed")
    loyalty.at(WEDNESDAY + timedelta(days=12))
    assert loyalty.figures("m1")["last_7_days"] == 0

    # When an earn dated day 6, inside today's window, takes it above again
    loyalty.earn("m1", 5000, occurred_at=WEDNESDAY + timedelta(days=6))

    # Then the window crossed again from 0 (its dip is not hidden by the earn's own date): suspended
    assert loyalty.view("m1")["status"] == "suspended"
    assert loyalty.sent("CustomerSuspended") == ["m1", "m1"]


def test_an_earn_dated_back_into_a_window_above_all_along_does_not_run_it_again():
    loyalty = Loyalty()
    loyalty.workflow("seven", date_range="last_7_days", threshold=100)
    for day in range(10):  # 60 a day: above from day 1 on, every day
        loyalty.at(WEDNESDAY + timedelta(days=day)).earn("m1", 60)

    loyalty.earn("m1", 5, occurred_at=WEDNESDAY + timedelta(days=6))  # on day 9, dated day 6

    assert loyalty.sent() == ["m1"]


def test_a_lifetime_workflow_runs_once_ever():
    loyalty = Loyalty()
    loyalty.workflow("life", date_range="lifetime", threshold=100, actions=[{"type": "block"}])

    loyalty.earn("m1", 101)
    assert loyalty.view("m1")["status"] == "blocked"
    service.change_status(loyalty.deps, loyalty.fraud, "m1", "unblock", "looked into it")
    loyalty.at(WEDNESDAY + timedelta(days=400)).earn("m1", 1000)

    assert loyalty.view("m1")["status"] == "active"
    assert loyalty.sent("CustomerBlocked") == ["m1"]


def test_workflow_actions_run_in_order():
    loyalty = Loyalty()
    loyalty.workflow(
        "strict",
        threshold=10,
        actions=[
            {"type": "communication", "event": "warn", "payload": {"template": "terms", "level": 2}},
            {"type": "suspend"},
            {"type": "block"},
        ],
    )

    loyalty.earn("m1", 11)

    history = loyalty.view("m1")["history"]
    assert [h["action"] for h in history] == ["communication", "suspended", "blocked"]
    assert history[0]["payload"] == {"template": "terms", "level": 2}
    assert [t for t, _ in loyalty.bus.published] == [
        "LoyaltyCommunication",
        "CustomerSuspended",
        "CustomerBlocked",
    ]
    communication = loyalty.bus.published[0][1]
    assert (communication["event"], communication["workflow_id"]) == ("warn", "strict")
    assert communication["payload"] == {"template": "terms", "level": 2}
    assert loyalty.view("m1")["status"] == "blocked"


def test_a_workflow_never_lifts_a_stronger_status():
    loyalty = Loyalty()
    loyalty.earn("blocked-one", 50)
    service.change_status(loyalty.deps, loyalty.fraud, "blocked-one", "block", "chargebacks")
    loyalty.workflow(
        "audience",
        threshold=10,
        customer="all",
        actions=[{"type": "communication", "event": "w"}, {"type": "suspend"}],
    )

    loyalty.earn("m1", 11)

    blocked = loyalty.view("blocked-one")
    assert blocked["status"] == "blocked"
    assert [(h["action"], h["by"]) for h in blocked["history"]] == [
        ("blocked", "Dana (fraud)"),
        ("communication", "workflow:audience"),
        ("suspended", "workflow:audience"),  # under the block: an unblock leaves it suspended
    ]
    assert blocked["history"][-1]["note"] == "under the block"
    assert loyalty.view("m1")["status"] == "suspended"
    assert loyalty.sent("CustomerSuspended") == ["m1", "blocked-one"]  # under its block: announced


def test_a_spent_workflow_watches_spending():
    loyalty = Loyalty()
    loyalty.workflow("spender", aggregation="spent", date_range="today", threshold=50)

    loyalty.earn("m1", 500)
    loyalty.spend("m1", 60)
    assert loyalty.sent() == []  # a spend is no earn: workflows run on earns
    loyalty.earn("m1", 1)
    assert loyalty.sent() == ["m1"]


# --- workflows: the audience ------------------------------------------------------------------
def test_an_audience_workflow_acts_on_everyone_above_including_earlier_crossers():
    loyalty = Loyalty()
    loyalty.campaign()
    loyalty.bonus("early", 3500)  # crossed before the workflow existed
    loyalty.bonus("below", 3000)
    loyalty.earn("purchases", 9000)  # earned a lot, but no bonus
    loyalty.workflow(
        "audience", aggregation="bonus", threshold=3000, customer="all", actions=[{"type": "suspend"}]
    )

    loyalty.bonus("trigger", 1)  # any matching earn runs it for the whole audience

    assert loyalty.sent("CustomerSuspended") == ["early"]
    loyalty.bonus("late", 3001)
    loyalty.bonus("trigger", 1)
    assert loyalty.sent("CustomerSuspended") == ["early", "late"]  # nobody twice
    statuses = {c: loyalty.view(c)["status"] for c in ("early", "below", "purchases", "trigger", "late")}
    assert statuses == {
        "early": "suspended",
        "below": "active",
        "purchases": "active",
        "trigger": "active",
        "late": "suspended",
    }


def test_an_audience_is_found_again_in_the_next_period():
    loyalty = Loyalty()
    loyalty.workflow("daily", threshold=100, customer="all")
    loyalty.earn("m1", 150)
    loyalty.earn("m2", 150)
    assert sorted(loyalty.sent()) == ["m1", "m2"]

    loyalty.at(WEDNESDAY + timedelta(days=1)).earn("m1", 150)  # a new day: only m1 is above today

    assert sorted(loyalty.sent()) == ["m1", "m1", "m2"]


def test_a_rolling_audience_finds_a_customer_whose_points_are_spread_over_the_window():
    loyalty = Loyalty()
    for day in range(7):  # 20 a day: 140 over the week, no single day near the threshold
        loyalty.at(WEDNESDAY - timedelta(days=6 - day)).earn("spread", 20)
    loyalty.at(WEDNESDAY).earn("once", 100)
    loyalty.workflow("week", date_range="last_7_days", threshold=120, customer="all")

    loyalty.earn("trigger", 1)

    assert loyalty.sent() == ["spread"]


ROLLING_ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(["a", "b"]),
        st.integers(min_value=0, max_value=40),  # days before today it occurred: most in the window
        st.integers(min_value=1, max_value=400),
        st.sampled_from(["purchase", "bonus", "spend"]),
    ),
    max_size=16,
)


SPLIT = [("a", days_ago, 400, "purchase") for days_ago in (0, 1, 5, 6, 15, 16)]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# above the threshold in its window, at or below it in each month or week the window touches
@example(date(2026, 11, 4), SPLIT, "last_30_days", "earned", 2000, "UTC")  # 1,600 in Oct., 800 in Nov.
@example(date(2026, 11, 4), SPLIT[:4], "last_7_days", "earned", 1500, "UTC")  # 800 in each week
@given(
    today=st.dates(min_value=date(2026, 1, 1), max_value=date(2028, 12, 31)),
    actions=ROLLING_ACTIONS,
    date_range=st.sampled_from(sorted(periods.ROLLING_DAYS)),
    aggregation=st.sampled_from(["earned", "bonus", "spent"]),
    threshold=st.integers(min_value=0, max_value=1000),
    timezone=st.sampled_from(["UTC", "Pacific/Kiritimati", "America/Adak"]),
)
def test_a_rolling_audience_holds_every_customer_above_whatever_the_calendar(
    today, actions, date_range, aggregation, threshold, timezone
):
    # Given earns, campaign bonuses and spends dated into any day of the last ten weeks, counted by
    # the service into their days, weeks and months, as of any day of three years
    now = datetime.combine(today, time(12), ZoneInfo(timezone))
    loyalty = Loyalty(timezone, now)
    loyalty.campaign()
    for customer, days_ago, points, kind in actions:
        when = now - timedelta(days=days_ago)
        if kind == "spend":
            loyalty.earn(customer, points, occurred_at=when)
            loyalty.spend(customer, points)  # a spend counts on the day it is received
        else:
            loyalty.earn(
                customer,
                points,
                occurred_at=when,
                **({"kind": "campaign_bonus", "campaign_id": "promo"} if kind == "bonus" else {}),
            )
    loyalty.workflow(
        "rolling", aggregation=aggregation, date_range=date_range, threshold=threshold, customer="all"
    )
    workflow = loyalty.deps.repository.get_workflow(loyalty.program.program_id, "rolling")

    # When its audience is looked for
    found = workflows.audience(loyalty.deps, loyalty.program, workflow, today)

    # Then every customer whose window is above the threshold is among those it found
    customers = {customer for customer, *_ in actions}
    above = {c for c in customers if loyalty.figures(c, aggregation)[date_range] > threshold}
    assert above <= set(found)
    # from three periods at most (each a query of every shard of the audience index): two months
    # for 30 days, three when February is one of them; two weeks for 7 days
    touched, _ = periods.audience_periods(date_range, today, threshold)
    assert 1 <= len(touched) <= (3 if date_range == "last_30_days" else 2)


# --- campaigns: SPEC 8's worked examples through the service -----------------------------------
@pytest.mark.parametrize(
    ("behavior", "granted", "total", "limited_by"),
    [("soft", 100, 1050, None), ("dynamic", 50, 1000, "campaign"), ("hard", 0, 950, "campaign")],
)
def test_the_total_cap_example(behavior, granted, total, limited_by):
    loyalty = Loyalty()
    loyalty.campaign(behavior=behavior, total=1000)
    loyalty.bonus("first", 950)

    answer = loyalty.bonus("second", 100)

    assert answer == {"granted": granted, "requested": 100, "balance": granted, "limited_by": limited_by}
    stored = service.get_campaign(loyalty.deps, loyalty.program.program_id, "promo")
    assert stored["granted_total"] == total
    assert stored["customers"] == (2 if granted else 1)
    # once soft passed the cap or dynamic reached it, later bonuses get 0; hard still grants what fits
    assert loyalty.bonus("third", 1)["granted"] == (1 if behavior == "hard" else 0)


@pytest.mark.parametrize(
    ("behavior", "granted", "limited_by"),
    [("soft", 6, None), ("dynamic", 5, "customer"), ("hard", 0, "customer")],
)
def test_the_per_customer_cap_example(behavior, granted, limited_by):
    loyalty = Loyalty()
    loyalty.campaign(behavior=behavior, per_customer_cap=25)
    loyalty.bonus("m1", 20)

    answer = loyalty.bonus("m1", 6)

    assert (answer["granted"], answer["limited_by"], answer["balance"]) == (granted, limited_by, 20 + granted)
    assert loyalty.figures("m1", "bonus")["today"] == 20 + granted
    assert loyalty.bonus("other", 6)["granted"] == 6  # another customer has a cap of their own


# --- where workflows run ----------------------------------------------------------------------
def test_workflows_can_run_again_from_references_without_running_twice():
    loyalty = Loyalty()
    loyalty.earn("m1", 150)  # before any workflow
    loyalty.workflow(
        "daily", threshold=100, actions=[{"type": "communication", "event": "w"}, {"type": "suspend"}]
    )

    for _ in range(2):  # e.g. a queue consumer, and its redelivery
        workflows.run_for_earn(loyalty.deps, loyalty.program, "m1", "purchase", loyalty.clock.now())

    assert loyalty.sent() == ["m1"]
    assert [h["action"] for h in loyalty.view("m1")["history"]] == ["communication", "suspended"]


def test_a_bus_that_does_not_answer_never_fails_the_earn_or_undoes_the_actions():
    loyalty = Loyalty()

    class DownBus(InMemoryPublisher):
        def publish(self, detail_type, detail):
            raise StorageUnavailable("event bus unavailable (test)")

    loyalty.deps.publisher = DownBus()
    loyalty.workflow("daily", threshold=100, actions=[{"type": "suspend"}])

    answer = loyalty.earn("m1", 150)

    assert answer["balance"] == 150
    assert loyalty.view("m1")["status"] == "suspended"


def test_notifications_the_bus_did_not_take_wait_in_the_outbox_and_the_relay_sends_each_once():
    loyalty = Loyalty()
    bus = loyalty.bus

    class DownBus(InMemoryPublisher):
        def publish(self, detail_type, detail):
            raise StorageUnavailable("event bus unavailable (test)")

    loyalty.workflow(
        "daily", threshold=100, actions=[{"type": "communication", "event": "hi", "payload": {}}]
    )
    loyalty.earn("m1", 10)
    loyalty.earn("m2", 10)

    # Given a bus that does not answer: a suspension, a block and a workflow's communication
    loyalty.deps.publisher = DownBus()
    service.change_status(loyalty.deps, loyalty.fraud, "m1", "suspend", "chargebacks")
    service.change_status(loyalty.deps, loyalty.fraud, "m2", "block", None)
    loyalty.earn("m3", 150)
    assert bus.published == []
    assert loyalty.view("m1")["status"] == "suspended"  # the changes stand

    # When the bus is back and the outbox relay runs (twice: the second finds nothing left)
    loyalty.deps.publisher = bus
    program = loyalty.program.program_id
    assert (
        deliver(loyalty.deps.repository, bus, loyalty.deps.repository.pending_notifications(program, 1000))
        == 3
    )
    assert (
        deliver(loyalty.deps.repository, bus, loyalty.deps.repository.pending_notifications(program, 1000))
        == 0
    )

    # Then each notification was published once, with its id
    assert sorted((t, d["customer_id"]) for t, d in bus.published) == [
        ("CustomerBlocked", "m2"),
        ("CustomerSuspended", "m1"),
        ("LoyaltyCommunication", "m3"),
    ]
    assert len({d["notification_id"] for _, d in bus.published}) == 3
    suspended = next(d for t, d in bus.published if t == "CustomerSuspended")
    assert (suspended["by"], suspended["note"]) == ("Dana (fraud)", "chargebacks")
    assert loyalty.deps.repository.pending_notifications(program, 10) == []


def test_a_notification_the_bus_took_leaves_the_outbox_at_once():
    loyalty = Loyalty()
    loyalty.earn("m1", 10)

    service.change_status(loyalty.deps, loyalty.fraud, "m1", "suspend", None)
    service.change_status(loyalty.deps, loyalty.fraud, "m1", "unsuspend", None)  # no notification

    assert [t for t, _ in loyalty.bus.published] == ["CustomerSuspended"]
    assert loyalty.deps.repository.pending_notifications(loyalty.program.program_id, 10) == []


# --- spends waiting for a run that may suspend (workflows.runs_noted, spend_waits_for) ------------
def test_a_customers_note_of_due_runs_keeps_the_recent_ones_and_past_twenty_holds_by_time():
    from functions.shared.storage.port_loyalty import LoyaltyCustomer, Totals

    t0 = datetime(2026, 12, 1, 12, tzinfo=UTC)
    old = {"stale": t0 - workflows.SPEND_WAIT, "recent": t0 - workflows.SPEND_WAIT + timedelta(seconds=1)}
    assert workflows.runs_noted(old, "new", t0) == {"recent": old["recent"], "new": t0}

    many: dict[str, datetime] = {}
    for n in range(30):
        many = workflows.runs_noted(many, f"e{n}", t0 + timedelta(milliseconds=n))
    # no note is dropped for a newer one (its run would hold nothing once the others ran): past
    # twenty, one entry no run clears holds the spends from the newest earn's time
    last = t0 + timedelta(milliseconds=29)
    assert many == {**{f"e{n}": t0 + timedelta(milliseconds=n) for n in range(20)}, workflows.MORE_RUNS: last}

    customer = LoyaltyCustomer("p", "c", "active", 0, 1, Totals(), t0, runs_due=many)
    assert workflows.spend_waits_for(customer, t0 + timedelta(seconds=1)) == workflows.MORE_RUNS
    done = {a: t for a, t in many.items() if not a.startswith("e")}  # every noted run done
    assert workflows.spend_waits_for(
        LoyaltyCustomer("p", "c", "active", 0, 2, Totals(), t0, runs_due=done), last
    )
    assert workflows.spend_waits_for(customer, last + workflows.SPEND_WAIT) is None  # none waits longer
