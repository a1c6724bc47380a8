"""Loyalty: earns (bonuses and purchases), spends, status changes and campaign PUTs that change the
behaviour, both caps or the window, each in its own thread, every store call in an order hypothesis
picks, on both stores. After each commit: a grant is one the campaign's settings *at its commit*
allow; a spend commits only for an active customer with the balance. In the end: balances, lifetime
totals and campaign counters equal what the answers say."""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
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
from tests.integration.turnstile import Turnstile

NOW = datetime(2026, 11, 4, 12, 0, tzinfo=UTC)
CAMPAIGN = "promo"
GATED = {
    "read_loyalty_state",
    "record_loyalty_action",
    "get_campaign",
    "put_campaign",
    "get_loyalty_customer",
    "change_loyalty_customer",
}


class World:
    def __init__(self, store: Any, settings0: dict[str, Any]) -> None:
        self.store = store
        self.program = Program(f"prg-{uuid.uuid4().hex[:8]}", "Probe", NOW, "UTC")
        self.turnstile = Turnstile(
            store, GATED, ("record_loyalty_action", "put_campaign", "change_loyalty_customer"), self.checked
        )
        self.deps = Dependencies(self.turnstile, InMemoryPublisher(), FixedClock(NOW))  # type: ignore[arg-type]
        self.fraud = Principal("k" * 16, self.program.program_id, "fraud", "Dana", self.program)
        self.answers: list[tuple[str, str, Any]] = []
        self.lock = threading.Lock()
        self.put(settings0)

    def campaign(self) -> Any:
        return self.store.get_campaign(self.program.program_id, CAMPAIGN)

    def customer(self, who: str) -> Any:
        return self.store.read_loyalty_state(self.program.program_id, who, campaign_id=CAMPAIGN)

    def checked(self, name: str, args: Any, commit: Callable[[], bool]) -> bool:
        if name != "record_loyalty_action":
            return commit()
        change = args[0]
        who = change.action.customer_id
        before = self.customer(who)
        campaign_before = self.campaign()
        if not commit():
            return False
        if change.action.kind == "spend":
            spent = change.action.answer and before.customer.balance - change.customer.balance
            assert before.customer.status == "active", ("spend committed while", before.customer.status)
            assert before.customer.balance >= spent
        grant = change.grant
        if change.action.kind == "earn":
            assert before.customer is None or before.customer.status != "blocked", "a blocked customer earned"
        if grant is None:
            return True
        c = campaign_before
        mine = before.campaign_granted or 0
        requested = change.action.answer["requested"]
        total_after = c.granted_total + grant.points
        mine_after = mine + grant.points
        if c.limit_behavior == "soft":
            assert (
                grant.points == requested and c.granted_total < c.total_cap and mine < c.per_customer_cap
            ), (
                c,
                mine,
                grant,
            )
        else:
            assert total_after <= c.total_cap and mine_after <= c.per_customer_cap, (c, mine, grant)
            if c.limit_behavior == "hard":
                assert grant.points == requested, (c, grant)
        return True

    def put(self, s: dict[str, Any]) -> Any:
        try:
            return service.put_campaign(
                self.deps, self.program.program_id, CAMPAIGN, CampaignSettings.model_validate(s)
            )
        except DomainError as e:
            return type(e).__name__

    def earn(self, who: str, points: int, kind: str) -> None:
        body = {"id": uuid.uuid4().hex, "customer_id": who, "points": points, "kind": kind}
        if kind == "campaign_bonus":
            body["campaign_id"] = CAMPAIGN
        try:
            a = service.earn(self.deps, self.program, TypeAdapter(EarnRequest).validate_python(body), body)
        except DomainError as e:
            a = type(e).__name__
        with self.lock:
            self.answers.append(("earn", who, (kind, a)))

    def spend(self, who: str, points: int) -> None:
        body = {"id": uuid.uuid4().hex, "customer_id": who, "points": points}
        try:
            a = service.spend(self.deps, self.program, SpendRequest.model_validate(body), body)
        except DomainError as e:
            a = type(e).__name__
        with self.lock:
            self.answers.append(("spend", who, (points, a)))

    def status(self, who: str, change: str) -> None:
        with contextlib.suppress(DomainError):  # a change the status does not take
            service.change_status(self.deps, self.fraud, who, change, None)

    def run(self, calls: list[Callable[[], Any]], pick: Callable[[int], int]) -> None:
        self.turnstile.run(calls, pick)


@pytest.fixture(params=["memory", "dynamodb"])
def store(request):
    if request.param == "memory":
        return InMemoryRepository()
    return request.getfixturevalue("aws").repository


@pytest.fixture(autouse=True)
def no_pauses(monkeypatch):

    monkeypatch.setattr(service, "backoff", lambda attempt: None)


customers = st.sampled_from(["m0", "m1", "m2"])
settings_st = st.fixed_dictionaries(
    {
        "total_cap": st.integers(0, 150),
        "per_customer_cap": st.integers(0, 80),
        "limit_behavior": st.sampled_from(["soft", "dynamic", "hard"]),
    }
)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("bonus"), customers, st.integers(1, 60)),
        st.tuples(st.just("purchase"), customers, st.integers(1, 60)),
        st.tuples(st.just("spend"), customers, st.integers(1, 60)),
        st.tuples(
            st.just("status"), customers, st.sampled_from(["suspend", "unsuspend", "block", "unblock"])
        ),
        st.tuples(st.just("put"), settings_st, st.just(0)),
    ),
    min_size=2,
    max_size=7,
)


def test_mixed_interleavings(store):
    examples = 150 if isinstance(store, InMemoryRepository) else 25

    @settings(
        max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(
        first=settings_st,
        seed=st.lists(st.tuples(customers, st.integers(1, 100)), max_size=3),
        ops=operations,
        data=st.data(),
    )
    def interleaved(first, seed, ops, data):
        world = World(store, first)
        for who, points in seed:  # customers with points before the race
            world.earn(who, points, "purchase")
        calls = []
        for kind, a, b in ops:
            if kind == "bonus":
                calls.append(lambda a=a, b=b: world.earn(a, b, "campaign_bonus"))
            elif kind == "purchase":
                calls.append(lambda a=a, b=b: world.earn(a, b, "purchase"))
            elif kind == "spend":
                calls.append(lambda a=a, b=b: world.spend(a, b))
            elif kind == "status":
                calls.append(lambda a=a, b=b: world.status(a, b))
            else:
                calls.append(lambda a=a: world.put(a))
        world.run(calls, lambda live: data.draw(st.integers(0, live - 1)))

        # the kept figures equal what the answers said
        balance: dict[str, int] = defaultdict(int)
        bonus: dict[str, int] = defaultdict(int)
        for what, who, (x, a) in world.answers:
            if isinstance(a, str):
                continue
            if what == "earn":
                balance[who] += a["granted"]
                if x == "campaign_bonus":
                    bonus[who] += a["granted"]
            else:
                balance[who] -= x
        for who, value in balance.items():
            state = world.customer(who)
            assert state.customer.balance == value
            assert state.customer.lifetime.bonus == bonus[who]
            assert (state.campaign_granted or 0) == bonus[who]
        campaign = world.campaign()
        assert campaign.granted_total == sum(bonus.values())
        assert campaign.customers == sum(1 for v in bonus.values() if v)
        left = max(0, campaign.total_cap - campaign.granted_total)
        assert sum(s.room for s in campaign.shards) == left, campaign

    interleaved()
