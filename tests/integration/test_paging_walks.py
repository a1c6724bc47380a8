"""Paging: walks through the listings while things change between pages, with ties at a
page boundary, on the DynamoDB adapter (moto) and the plain store through the real handlers.
These held on current code (kept as evidence of what was tried)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from functions.shared import runtime
from functions.shared.domain.disputes import dispute_step
from functions.shared.domain.model import Case, Reason, Reward
from functions.shared.domain.rewards import hold_write
from functions.shared.domain.writes import MAX_STEP_ITEMS, PutCase, PutReward, Step
from functions.shared.storage.memory import InMemoryRepository
from tests.conftest import make_tenant
from tests.support import call, proxy_event

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)


@pytest.fixture(params=["dynamodb", "memory"])
def world(request, aws, monkeypatch):
    store = aws.repository
    if request.param == "memory":
        store = InMemoryRepository()
        monkeypatch.setattr(runtime.dependencies(), "repository", store)
    return store, make_tenant(store, "Program A"), make_tenant(store, "Program B")


def apply_all(store, writes):
    for start in range(0, len(writes), MAX_STEP_ITEMS):
        store.apply(Step(writes[start : start + MAX_STEP_ITEMS]))


def a_case(p, n, at, status="open"):
    return Case(
        p,
        f"c{n:03}",
        "partner",
        f"p{n}",
        f"Partner {n}",
        [Reason("velocity", "x", 1, "a")],
        status,
        at,
        f"e{n}",
    )


def a_reward(p, rid, at, partner="p1", status="pending"):
    return Reward(p, rid, partner, Decimal("10"), "USD", status, at, "api")


def walk(key, path, between=None, **query):
    seen, cursor, pages = [], None, 0
    while True:
        q = {**query, **({"cursor": cursor} if cursor else {})}
        answer = call("cases", proxy_event("GET", path, None, key, query=q))
        assert answer.status == 200, answer
        seen += [i.get("id") or i.get("reward_id") or i.get("case_id") for i in answer.body["items"]]
        cursor = answer.body["next_cursor"]
        pages += 1
        if cursor is None:
            return seen
        if between:
            between(pages)
        assert pages < 200


@pytest.mark.parametrize("limit", [1, 2, 7, 25])
def test_rewards_at_one_instant_across_page_boundaries(world, limit):
    store, a, b = world
    at = T0.astimezone(timezone(timedelta(hours=5)))  # an offset: the same instant
    ids = [f"r{n:02}" for n in range(30)] + ["r!", "r(", "R0", "r~"]  # chars below and above '#'
    apply_all(store, [PutReward(a_reward(a.program_id, i, at)) for i in ids])
    apply_all(store, [PutReward(a_reward(b.program_id, i, at)) for i in ids[:5]])
    expected = sorted(ids, reverse=True)

    for query in ({}, {"partner_id": "p1"}, {"status": "pending"}):
        seen = walk(a.keys["fraud"], "/v1/rewards", limit=str(limit), **query)
        assert seen == expected, query


def test_a_reward_held_between_pages_of_pending_rewards(world):
    store, a, _ = world
    rewards = [a_reward(a.program_id, f"r{n:02}", T0 + timedelta(minutes=n)) for n in range(12)]
    apply_all(store, [PutReward(r) for r in rewards])
    store.apply(Step([PutCase(a_case(a.program_id, 1, T0))]))

    def hold(page):
        if page == 1:  # one already listed and one not yet listed go on hold
            apply_all(store, [hold_write(rewards[11], "c001"), hold_write(rewards[2], "c001")])

    for query in ({"status": "pending"}, {"partner_id": "p1", "status": "pending"}, {"partner_id": "p1"}):
        for r in rewards:  # reset
            current = store.get_reward(a.program_id, r.reward_id)
            if current.status != "pending":
                from functions.shared.domain.writes import MoveReward

                store.apply(
                    Step([MoveReward(a.program_id, r.reward_id, expect=current.status, status="pending")])
                )
        seen = walk(a.keys["fraud"], "/v1/rewards", hold, limit="3", **query)
        untouched = [f"r{n:02}" for n in range(10, -1, -1) if n != 2]
        assert [s for s in seen if s in untouched] == untouched, (query, seen)
        assert len(seen) == len(set(seen)), seen


def test_a_case_disputed_between_pages_of_open_cases(world):
    store, a, _ = world
    apply_all(store, [PutCase(a_case(a.program_id, n, T0 + timedelta(minutes=n // 3))) for n in range(15)])

    def dispute(page):
        if page == 1:
            for n in (14, 3):  # one listed already (newest first), one not yet
                case = store.get_case(a.program_id, f"c{n:03}")
                store.apply(dispute_step(case, "no", "me", T0 + timedelta(days=1)))

    seen = walk(a.keys["fraud"], "/v1/cases", dispute, limit="2", status="open")
    expected = [f"c{n:03}" for n in sorted(range(15), key=lambda n: (n // 3, n), reverse=True) if n != 3]
    assert seen == expected
    all_active = walk(a.keys["fraud"], "/v1/cases", limit="4")
    assert sorted(all_active) == sorted(f"c{n:03}" for n in range(15))
