"""Read costs follow the page, not the history (issue 14), measured on the DynamoDB adapter over
moto: the items DynamoDB reads (`ScannedCount`) for the summary, a page of cases and a page of the
program's rewards, with a small and a ten times larger history. `-s` prints the figures."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from functions.cases import service
from functions.shared import paging, runtime
from functions.shared.domain.model import Case, Reason, Reward
from functions.shared.domain.summary import counted
from functions.shared.domain.writes import MAX_STEP_ITEMS, MoveReward, PutCase, PutReward, Step, UpdateCase
from functions.shared.storage import keys
from tests.integration.test_loyalty_support import DynamoCalls

P = "prg-costs"
T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)


def opened(n: int, status: str, flagged_at: datetime) -> PutCase:
    """Case n of partner n, holding an amount out of flag order."""
    return PutCase(
        Case(
            P,
            f"c{n:05}",
            "partner",
            f"p{n}",
            f"Partner {n}",
            [Reason("velocity", "x", 1, "a")],
            status,
            flagged_at,
            f"e{n}",
            hold_micros={"USD": (n * 7919) % 1000 * 1_000_000},
        )
    )


def fill(store, cases: int, rewards: int) -> None:
    writes: list[Any] = [opened(n, "open", T0 + timedelta(minutes=n)) for n in range(cases)]
    writes += [
        PutReward(
            Reward(P, f"r{n:05}", f"p{n % 50}", Decimal(1), "USD", "new", T0 + timedelta(seconds=n), "api")
        )
        for n in range(rewards)
    ]
    for start in range(0, len(writes), MAX_STEP_ITEMS):
        store.apply(counted(Step(writes[start : start + MAX_STEP_ITEMS])))
    # every other case resolved, the later flagged the sooner resolved (resolution order is not flag order)
    resolutions = [
        UpdateCase(
            P,
            f"c{n:05}",
            expect=("open",),
            changes={"status": "approved", "resolved_at": T0 + timedelta(days=30, minutes=-n)},
        )
        for n in range(1, cases, 2)
    ]
    for start in range(0, len(resolutions), MAX_STEP_ITEMS):
        store.apply(Step(resolutions[start : start + MAX_STEP_ITEMS]))
    moves = [MoveReward(P, f"r{n:05}", "new", "on_hold", case_id="c00000") for n in range(0, rewards, 10)]
    for start in range(0, len(moves), MAX_STEP_ITEMS):
        store.apply(Step(moves[start : start + MAX_STEP_ITEMS]))


def items_read(deps, ask) -> tuple[int, int]:
    with DynamoCalls() as calls:
        ask(deps)
    return sum(read for _, _, read, _ in calls.calls), len(calls.calls)


ASKS = {
    "summary": lambda d: service.summary(d, P),
    "cases page (25)": lambda d: service.list_cases(
        d, P, "active", None, None, "flagged_at", "desc", 25, None
    ),
    "resolved cases by resolution (25)": lambda d: service.list_cases(
        d, P, "resolved", None, None, "resolved_at", "desc", 25, None
    ),
    "active cases by hold amount (25)": lambda d: service.list_cases(
        d, P, "active", None, None, "hold_amount", "desc", 25, None
    ),
    "rewards page (50)": lambda d: service.list_rewards(d, P, None, None, None, 50, None),
    "held rewards page (50)": lambda d: service.list_rewards(d, P, None, None, "on_hold", 50, None),
}


@pytest.mark.parametrize("scale", [1, 10])
def test_a_page_reads_the_same_whatever_the_history(aws, scale, capsys):
    deps = replace(runtime.dependencies())
    fill(aws.repository, cases=60 * scale, rewards=600 * scale)

    figures = {name: items_read(deps, ask) for name, ask in ASKS.items()}
    with capsys.disabled():
        print(f"\n{60 * scale} cases, {600 * scale} rewards: (items read, requests) {figures}")

    # a query per summary shard, each its totals at most (no flag day in the last 30 days of the clock)
    assert figures["summary"][0] <= keys.SUMMARY_SHARDS and figures["summary"][1] == keys.SUMMARY_SHARDS
    assert figures["cases page (25)"][0] <= 26 and figures["cases page (25)"][1] == 1
    assert figures["resolved cases by resolution (25)"][0] <= 26
    assert figures["resolved cases by resolution (25)"][1] == 1
    page = service.list_cases(deps, P, "resolved", None, None, "resolved_at", "desc", 25, None)
    assert [c.id for c in page.items] == [
        f"c{n:05}" for n in range(1, 51, 2)
    ]  # the soonest flagged last resolved
    assert figures["active cases by hold amount (25)"][0] <= 26
    assert figures["active cases by hold amount (25)"][1] == 2  # and the empty stale partition
    page = service.list_cases(deps, P, "active", None, None, "hold_amount", "desc", 25, None)
    assert [c.hold_amount.amount for c in page.items] == [
        f"{a}.00" for a in sorted(((n * 7919) % 1000 for n in range(0, 60 * scale, 2)), reverse=True)[:25]
    ]  # the largest holds of the open cases (every other case is resolved)
    assert figures["rewards page (50)"][0] <= 50 + 16 * 8 and figures["rewards page (50)"][1] <= 16 * 2
    assert figures["held rewards page (50)"][0] <= 50 + 16 * 8


def test_a_hold_amount_page_reads_a_page_of_a_thousand_active_cases(aws, capsys):
    """The Active tab by hold amount with 1,000 active cases (and 1,000 resolved): each page reads
    a page, the next one from the cursor's position. Before the `cases_by_hold` index, every page
    read the whole view (1,000 items). `-s` prints the figures."""
    deps = replace(runtime.dependencies())
    cases = [opened(n, "open" if n % 2 == 0 else "approved", T0 + timedelta(seconds=n)) for n in range(2000)]
    for start in range(0, len(cases), MAX_STEP_ITEMS):
        aws.repository.apply(Step(cases[start : start + MAX_STEP_ITEMS]))

    def page(cursor=None, q=None):
        return service.list_cases(deps, P, "active", q, None, "hold_amount", "desc", 25, cursor)

    first = page()
    figures = {
        "first page": items_read(deps, lambda d: page()),
        "next page": items_read(deps, lambda d: page(first.next_cursor)),
        "search 'partner 1'": items_read(deps, lambda d: page(q="partner 1")),
    }
    with capsys.disabled():
        print(f"\n1,000 active cases, by hold amount: (items read, requests) {figures}")

    assert figures["first page"] == (26, 2) and figures["next page"] == (26, 2)  # + no stale case
    assert figures["search 'partner 1'"][0] <= paging.SCAN_BUDGET
    held = [
        int(c.hold_amount.amount.removesuffix(".00")) for c in first.items + page(first.next_cursor).items
    ]
    assert held == sorted(((n * 7919) % 1000 for n in range(0, 2000, 2)), reverse=True)[:50]


def test_a_hold_amount_page_rekeys_the_cases_whose_holds_changed_once(aws):
    """A hold change marks its case; the next page by hold amount re-keys each marked case once
    (one conditional UpdateItem: its holds come with the stale index's answer) before the page,
    and the page after that finds none (the stale query reads nothing)."""
    deps = replace(runtime.dependencies())
    fill(aws.repository, cases=60, rewards=0)
    changed = [f"c{n:05}" for n in (0, 2, 4, 6, 8)]  # open cases, their holds raised to 2,000
    aws.repository.apply(
        Step(
            [
                UpdateCase(P, case_id, expect=("open",), held=1, hold_micros={"USD": 2_000_000_000})
                for case_id in changed
            ]
        )
    )

    def page():
        return service.list_cases(deps, P, "active", None, None, "hold_amount", "desc", 25, None)

    with DynamoCalls() as first:
        top = page()
    with DynamoCalls() as second:
        again = page()

    assert first.operations == ["Query"] + ["UpdateItem"] * len(changed) + ["Query"]
    assert [params["Key"]["pk"]["S"] for params in first.named("UpdateItem")] == [
        f"P#{P}#CASE#{case_id}" for case_id in changed
    ]
    assert [read for _, _, read, _ in first.calls][0] == len(changed)
    assert second.operations == ["Query", "Query"]
    assert [read for _, _, read, _ in second.calls][0] == 0
    assert [c.id for c in top.items][:5] == sorted(changed, key=lambda c: -((int(c[1:]) * 7919) % 1000))
    assert [c.id for c in again.items] == [c.id for c in top.items]
