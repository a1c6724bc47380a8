"""Loyalty: random sequences of earns, spends, status changes, cap changes and clock moves through the
real loyalty service, on the in-memory store and on DynamoDB (moto), checked against a plain model
recomputed from the accepted actions: balances, lifetime and period aggregates in the program's
time zone (across a DST change, a week end and a month end), campaign counters; and the two stores
compared answer by answer."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from functions.loyalty import service
from functions.loyalty.models import CampaignSettings, EarnRequest, SpendRequest
from functions.shared.auth import Principal
from functions.shared.clock import FixedClock
from functions.shared.domain.model import Program
from functions.shared.errors import DomainError
from functions.shared.messaging import InMemoryPublisher
from functions.shared.runtime import Dependencies
from functions.shared.storage.memory import InMemoryRepository

TZ = "Europe/Berlin"
START = datetime(2026, 10, 24, 20, 0, tzinfo=UTC)  # Saturday evening: DST ends at 01:00 UTC on the 25th
CUSTOMERS = ["c0", "c1", "c2"]


class World:
    def __init__(self, repository: Any) -> None:
        self.clock = FixedClock(START)
        self.program = Program(f"prg-{uuid.uuid4().hex[:8]}", "Probe", START, TZ)
        self.deps = Dependencies(repository, InMemoryPublisher(), self.clock)
        self.fraud = Principal("k" * 16, self.program.program_id, "fraud", "Dana", self.program)
        self.log: list[Any] = []
        self.bonuses: list[Any] = []
        # the model: accepted actions
        self.actions: list[tuple[str, str, int, int, datetime]] = []  # (customer, kind, +earned, spent, at)

    def now(self) -> datetime:
        return self.clock.now()

    def _call(self, fn, *args):
        try:
            return fn(*args)
        except DomainError as error:
            return type(error).__name__

    def earn(self, customer, points, kind, offset_min, campaign=None, earn_id=None):
        body = {
            "id": earn_id or uuid.uuid4().hex,
            "customer_id": customer,
            "points": points,
            "kind": kind,
        }
        if campaign:
            body["campaign_id"] = campaign
        if offset_min is not None:
            body["occurred_at"] = (self.now() + timedelta(minutes=offset_min)).isoformat()
        when = self.now() + timedelta(minutes=offset_min or 0)
        answer = self._call(
            service.earn, self.deps, self.program, TypeAdapter(EarnRequest).validate_python(body), body
        )
        if isinstance(answer, dict) and earn_id not in self._seen:
            self.actions.append((customer, kind, answer["granted"], 0, when))
            if campaign:
                self.bonuses.append((customer, kind, answer["granted"], 0, when, campaign))
        if earn_id:
            self._seen.add(earn_id)
        self.log.append(("earn", customer, points, kind, answer))
        return answer

    _seen: set = set()

    def spend(self, customer, points, offset_min):
        body = {"id": uuid.uuid4().hex, "customer_id": customer, "points": points}
        if offset_min is not None:
            body["occurred_at"] = (self.now() + timedelta(minutes=offset_min)).isoformat()
        when = self.now() + timedelta(minutes=offset_min or 0)
        answer = self._call(service.spend, self.deps, self.program, SpendRequest.model_validate(body), body)
        if isinstance(answer, dict):
            self.actions.append((customer, "spend", 0, points, when))
        self.log.append(("spend", customer, points, answer))
        return answer

    def status(self, customer, change):
        answer = self._call(service.change_status, self.deps, self.fraud, customer, change, None)
        self.log.append(("status", customer, change, answer if isinstance(answer, str) else answer["status"]))

    def put(self, campaign, behavior, total, per_customer):
        settings = {"total_cap": total, "per_customer_cap": per_customer, "limit_behavior": behavior}
        answer = self._call(
            service.put_campaign,
            self.deps,
            self.program.program_id,
            campaign,
            CampaignSettings.model_validate(settings),
        )
        self.log.append(("put", campaign, answer if isinstance(answer, str) else answer["granted_total"]))

    def expected(self, customer: str) -> dict[str, Any]:
        tz = ZoneInfo(TZ)
        today = self.now().astimezone(tz).date()
        monday = today - timedelta(days=today.weekday())
        figures: dict[str, dict[str, int]] = {a: defaultdict(int) for a in ("earned", "bonus", "spent")}
        balance = 0
        for who, kind, earned, spent, at in self.actions:
            if who != customer:
                continue
            balance += earned - spent
            day = at.astimezone(tz).date()
            values = {"earned": earned, "bonus": earned if kind == "campaign_bonus" else 0, "spent": spent}
            for aggregation, value in values.items():
                f = figures[aggregation]
                f["lifetime"] += value
                if day == today:
                    f["today"] += value
                if monday <= day <= today:
                    f["week_to_date"] += value
                if (day.year, day.month) == (today.year, today.month) and day <= today:
                    f["month_to_date"] += value
                if day.year == today.year and day <= today:
                    f["year_to_date"] += value
                if today - timedelta(days=6) <= day <= today:
                    f["last_7_days"] += value
                if today - timedelta(days=29) <= day <= today:
                    f["last_30_days"] += value
        return {"balance": balance, "aggregates": {a: dict(v) for a, v in figures.items()}}

    def check(self) -> None:
        for customer in CUSTOMERS:
            try:
                view = service.customer_view(self.deps, self.program, customer)
            except DomainError:
                assert not any(a[0] == customer for a in self.actions)
                continue
            want = self.expected(customer)
            assert view["balance"] == want["balance"], (customer, view["balance"], want["balance"])
            for aggregation, values in view["aggregates"].items():
                for date_range, value in values.items():
                    assert value == want["aggregates"][aggregation].get(date_range, 0), (
                        customer,
                        aggregation,
                        date_range,
                        value,
                        want["aggregates"][aggregation].get(date_range, 0),
                        self.now(),
                    )
        for campaign in ("k1", "k2"):
            try:
                c = service.get_campaign(self.deps, self.program.program_id, campaign)
            except DomainError:
                continue
            per: dict[str, int] = defaultdict(int)
            for who, kind, granted, _, _, k in self.bonuses:
                if k == campaign:
                    per[who] += granted
            assert c["granted_total"] == sum(per.values()), (campaign, c, dict(per))
            assert c["customers"] == sum(1 for v in per.values() if v), (campaign, c, dict(per))
            for who, v in per.items():
                state = self.deps.repository.read_loyalty_state(
                    self.program.program_id, who, campaign_id=campaign
                )
                assert (state.campaign_granted or 0) == v


op = st.one_of(
    st.tuples(
        st.just("earn"),
        st.sampled_from(CUSTOMERS),
        st.integers(1, 500),
        st.sampled_from(["purchase", "other", "campaign_bonus"]),
        st.one_of(st.none(), st.integers(-3 * 24 * 60, 5)),
        st.sampled_from(["k1", "k2"]),
    ),
    st.tuples(
        st.just("spend"),
        st.sampled_from(CUSTOMERS),
        st.integers(1, 600),
        st.one_of(st.none(), st.integers(-3 * 24 * 60, 5)),
    ),
    st.tuples(
        st.just("status"),
        st.sampled_from(CUSTOMERS),
        st.sampled_from(["suspend", "unsuspend", "block", "unblock"]),
    ),
    st.tuples(
        st.just("put"),
        st.sampled_from(["k1", "k2"]),
        st.sampled_from(["soft", "dynamic", "hard"]),
        st.integers(0, 2000),
        st.integers(0, 800),
    ),
    st.tuples(st.just("tick"), st.integers(1, 60 * 30)),
)


def play(world: World, ops: list) -> None:
    world.put("k1", "dynamic", 1000, 300)
    world.put("k2", "soft", 700, 200)
    for o in ops:
        if o[0] == "earn":
            _, c, p, kind, off, k = o
            world.earn(c, p, kind, off, k if kind == "campaign_bonus" else None)
        elif o[0] == "spend":
            world.spend(*o[1:])
        elif o[0] == "status":
            world.status(*o[1:])
        elif o[0] == "put":
            world.put(*o[1:])
        else:
            world.clock._at = world.clock.now() + timedelta(minutes=o[1])  # noqa: SLF001
        world.check()


def test_memory_store_against_the_model():
    @settings(max_examples=300, deadline=None)
    @given(ops=st.lists(op, min_size=1, max_size=25))
    def run(ops):
        play(World(InMemoryRepository()), ops)

    run()


def test_both_stores_agree_and_hold_the_model(aws):
    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(ops=st.lists(op, min_size=1, max_size=20))
    def run(ops):
        memory, dynamo = World(InMemoryRepository()), World(aws.repository)
        play(memory, ops)
        play(dynamo, ops)
        assert [x for x in memory.log] == [x for x in dynamo.log]

    run()
