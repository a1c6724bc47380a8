"""A case that holds hundreds of rewards (the most prolific fraudster's, the one a team most needs to
open): the drawer answered every held reward and every audit entry in one body, reading the
partner's whole reward history and the whole trail (past some seventeen thousand held rewards, more
than Lambda's 6 MB answer), and `GET /v1/rewards?partner_id=` read the partner's whole history for
every page. Now the drawer carries the newest of each, the trail pages
(`GET /v1/cases/{id}/audit`), and a partner's rewards page newest first within a read budget; on
the DynamoDB adapter (moto) and the plain store, through the real handler."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from functions.shared import paging, runtime
from functions.shared.domain.model import Case, Reason, Reward, Subject
from functions.shared.domain.plans import audit
from functions.shared.domain.writes import (
    MAX_STEP_ITEMS,
    MoveReward,
    PutCase,
    PutReward,
    Step,
    UpdateCase,
    WriteProfile,
)
from functions.shared.paging import encode_cursor
from functions.shared.storage.memory import InMemoryRepository
from tests.conftest import make_tenant
from tests.integration.test_loyalty_support import DynamoCalls
from tests.support import call, proxy_event

FLAGGED = datetime(2026, 11, 2, 9, tzinfo=UTC)
HELD = 600  # rewards held under the case, one audit entry each (as arriving rewards are held)
BEFORE = 120  # the partner's rewards from before the flag, approved


def reward(program_id: str, n: int, status: str, at: datetime, case_id: str | None = None) -> Reward:
    return Reward(program_id, f"r{n:05}", "p1", Decimal("2.50"), "USD", status, at, "api", case_id=case_id)


def in_steps(store, writes: list[Any]) -> None:
    for start in range(0, len(writes), MAX_STEP_ITEMS):
        store.apply(Step(writes[start : start + MAX_STEP_ITEMS]))


def prolific(store, program_id: str, held_count: int = HELD, before: int = BEFORE) -> None:
    """Partner p1: `before` approved rewards, then flagged (case c1), then `held_count` rewards held
    under c1, each with its `rewards_held` audit entry; a `flagged` entry first (also the busy case
    of `make bench SUITES=busy_case`)."""
    case = Case(
        program_id, "c1", "partner", "p1", "Prolific Ltd", [Reason("velocity", "x")], "open", FLAGGED, "e0"
    )
    old = [
        PutReward(reward(program_id, n, "approved", FLAGGED - timedelta(hours=before - n)))
        for n in range(before)
    ]
    held = [
        PutReward(reward(program_id, before + n, "on_hold", FLAGGED + timedelta(minutes=n + 1), "c1"))
        for n in range(held_count)
    ]
    trail = [audit(case, "flagged", "system", FLAGGED, {}, "e0")]
    trail += [
        audit(
            case,
            "rewards_held",
            "system",
            FLAGGED + timedelta(minutes=n + 1),
            {"rewards": [f"r{before + n:05}"]},
            f"e{n}",
        )
        for n in range(held_count)
    ]
    partner = Subject(program_id, "partner", "p1", "Prolific Ltd", status="flagged", flagged_at=FLAGGED)
    store.apply(Step([PutCase(case), WriteProfile(partner, expect_version=0)]))
    in_steps(store, old + held + trail)
    store.apply(
        Step([UpdateCase(program_id, "c1", held=held_count, hold_micros={"USD": held_count * 2_500_000})])
    )


@pytest.fixture(params=["dynamodb", "memory"])
def world(request, aws, monkeypatch):
    store = aws.repository
    if request.param == "memory":
        store = InMemoryRepository()
        monkeypatch.setattr(runtime.dependencies(), "repository", store)
    a, b = make_tenant(store, "Program A"), make_tenant(store, "Program B")
    prolific(store, a.program_id)
    return SimpleNamespace(store=store, a=a, b=b, key=a.keys["fraud"], on=request.param)


def get(key: str, path: str, **query: str):
    return call("cases", proxy_event("GET", path, None, key, query=query or None))


def held_ids(newest: int, count: int) -> list[str]:
    """The ids of `count` held rewards, newest first, from the `newest`-th."""
    return [f"r{BEFORE + n:05}" for n in range(HELD - 1 - newest, HELD - 1 - newest - count, -1)]


def test_the_drawer_carries_the_newest_held_rewards_and_entries_and_counts_them_all(world):
    with DynamoCalls() as calls:
        answer = get(world.key, "/v1/cases/c1")

    assert answer.status == 200, answer
    drawer = answer.body
    assert drawer["held_rewards"] == HELD
    assert drawer["hold_amount"] == {"amount": f"{HELD * 2.5:.2f}", "currency": "USD"}
    assert [r["id"] for r in drawer["held_reward_list"]] == held_ids(0, 50)  # newest first
    assert {r["status"] for r in drawer["held_reward_list"]} == {"on_hold"}
    assert len(drawer["audit"]) == 50 and drawer["audit_next_cursor"]
    assert drawer["audit"][0]["detail"] == {"rewards": [held_ids(0, 1)[0]]}  # the newest entry first
    assert len(json.dumps(drawer)) < 40_000  # whatever the case holds
    if world.on == "dynamodb":  # about a page of each, not the partner's history and the whole trail
        queries = [(p.get("IndexName"), n) for op, p, n, _ in calls.calls if op == "Query"]
        assert queries == [("case_held", 26), ("case_held", 26), (None, 26), (None, 26)]


def test_the_trail_pages_from_the_drawer_to_its_first_entry_each_entry_once(world):
    drawer = get(world.key, "/v1/cases/c1").body
    entries = [(e["action"], e["at"], json.dumps(e["detail"])) for e in drawer["audit"]]
    cursor, pages = drawer["audit_next_cursor"], 0
    while cursor:
        with DynamoCalls() as calls:
            page = get(world.key, "/v1/cases/c1/audit", limit="100", cursor=cursor)
        assert page.status == 200, page
        assert 0 < len(page.body["items"]) <= 100
        if world.on == "dynamodb":
            assert sum(n for op, _, n, _ in calls.calls if op == "Query") <= 4 * 26  # a page of the trail
        entries += [(e["action"], e["at"], json.dumps(e["detail"])) for e in page.body["items"]]
        cursor, pages = page.body["next_cursor"], pages + 1

    assert len(entries) == len(set(entries)) == HELD + 1  # every entry, once
    assert [e[1] for e in entries] == sorted((e[1] for e in entries), reverse=True)  # newest first
    assert entries[-1][0] == "flagged" and pages == -(-(HELD + 1 - 50) // 100)


def _forged(after: Any, query: dict[str, Any]) -> str:
    raw = json.dumps({"after": after, "query": query}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_a_trail_cursor_of_another_case_or_altered_is_422_and_an_unknown_case_404(world):
    other = Case(
        world.a.program_id, "c2", "partner", "p2", "Other", [Reason("velocity", "x")], "open", FLAGGED, "e9"
    )
    world.store.apply(Step([PutCase(other), audit(other, "flagged", "system", FLAGGED, {}, "e9")]))
    cursor = get(world.key, "/v1/cases/c1").body["audit_next_cursor"]
    at = "2026-11-02T09:00:00+00:00"

    for bad in (
        cursor[:-3],
        "not-a-cursor",
        _forged([at], {"audit": "c1", "program_id": world.a.program_id}),
        _forged(["noon", "x"], {"audit": "c1", "program_id": world.a.program_id}),
        encode_cursor((at, "x"), {"view": "removed", "program_id": world.a.program_id}),
    ):
        answer = get(world.key, "/v1/cases/c1/audit", cursor=bad)
        assert answer.status == 422, (bad, answer)
        assert [e["field"] for e in answer.body["errors"]] == ["query.cursor"]
    assert get(world.key, "/v1/cases/c2/audit", cursor=cursor).status == 422  # c1's cursor on c2
    assert get(world.key, "/v1/cases/nope/audit").status == 404
    assert get(world.b.keys["fraud"], "/v1/cases/c1/audit").status == 404  # another program's case
    assert get(world.a.keys["integration"], "/v1/cases/c1/audit").status == 403
    assert [e["action"] for e in get(world.key, "/v1/cases/c2/audit").body["items"]] == ["flagged"]


def every_reward(key: str, budgeted: bool, **query: str) -> tuple[list[str], list[int]]:
    found, sizes, cursor = [], [], None
    while True:
        with DynamoCalls() as calls:
            page = get(key, "/v1/rewards", **query, **({"cursor": cursor} if cursor else {}))
        assert page.status == 200, page
        if budgeted:
            assert sum(n for op, _, n, _ in calls.calls if op == "Query") <= paging.SCAN_BUDGET + 26
        found += [r["id"] for r in page.body["items"]]
        sizes.append(len(page.body["items"]))
        if not (cursor := page.body["next_cursor"]):
            return found, sizes
        assert len(sizes) < 100, "the cursors never end"


def test_a_partners_held_rewards_page_newest_first_each_once(world):
    found, sizes = every_reward(
        world.key, world.on == "dynamodb", partner_id="p1", status="on_hold", limit="100"
    )

    assert found == held_ids(0, HELD)
    assert sizes == [100] * (HELD // 100)


def test_a_filter_matching_old_rewards_reads_a_budget_per_request_and_still_finds_them_all(world):
    # the approved rewards come after the held ones, newest first: the first request reads its
    # budget among the held ones and answers an empty page that goes on
    found, sizes = every_reward(
        world.key, world.on == "dynamodb", partner_id="p1", status="approved", limit="100"
    )

    assert found == [f"r{n:05}" for n in range(BEFORE - 1, -1, -1)]
    assert sizes[0] == 0 and sum(sizes) == BEFORE


def test_the_drawer_shows_what_the_case_holds_under_any_number_of_newer_rewards_it_does_not(world):
    # 520 newer rewards approved one by one (an auto-approving script): the drawer read the partner's
    # rewards newest first within a budget and stopped before it reached a held one
    newer = FLAGGED + timedelta(days=1)
    in_steps(
        world.store,
        [
            PutReward(reward(world.a.program_id, 10_000 + n, "approved", newer + timedelta(minutes=n), "c1"))
            for n in range(520)
        ],
    )

    drawer = get(world.key, "/v1/cases/c1").body

    assert drawer["held_rewards"] == HELD
    assert [r["id"] for r in drawer["held_reward_list"]] == held_ids(0, 50)


def test_a_reward_leaves_the_drawer_when_it_leaves_the_hold_and_joins_the_case_it_moves_under(world):
    first, second = held_ids(0, 2)
    world.store.apply(
        Step([MoveReward(world.a.program_id, first, expect="on_hold", status="approved", overridden=True)])
    )
    other = Case(world.a.program_id, "c2", "partner", "p1", "Prolific Ltd", [], "declined", FLAGGED, "e9")
    world.store.apply(Step([PutCase(other)]))
    world.store.apply(Step([MoveReward(world.a.program_id, second, "on_hold", "on_hold", case_id="c2")]))

    listed = [r["id"] for r in get(world.key, "/v1/cases/c1").body["held_reward_list"]]

    assert first not in listed and second not in listed
    assert listed == held_ids(2, 50)
    assert [r.reward_id for r in world.store.case_held_rewards(world.a.program_id, "c2")] == [second]


def test_the_drawer_of_a_case_that_holds_nothing_reads_no_rewards(world):
    world.store.apply(
        Step([UpdateCase(world.a.program_id, "c1", held=-HELD, hold_micros={"USD": -HELD * 2_500_000})])
    )

    with DynamoCalls() as calls:
        drawer = get(world.key, "/v1/cases/c1").body

    assert drawer["held_reward_list"] == [] and drawer["held_rewards"] == 0
    assert not [p for _, p, _, _ in calls.calls if p.get("IndexName") in ("case_held", "partner_rewards")]
