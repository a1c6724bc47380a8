"""The read side's costs and rules, on the plain store: a page reads about a page (case views,
the program's rewards), the summary is counted from the step's own case writes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from functions.cases import service
from functions.shared import paging
from functions.shared.clock import FixedClock
from functions.shared.domain.cases import ACTIVE
from functions.shared.domain.model import Case, Reason, Reward
from functions.shared.domain.summary import counted
from functions.shared.domain.writes import (
    CountSummary,
    DayFlags,
    FlagMoved,
    PutCase,
    PutReward,
    Step,
    UpdateCase,
)
from functions.shared.errors import InvalidInput
from functions.shared.messaging import InMemoryPublisher
from functions.shared.runtime import Dependencies
from functions.shared.storage.memory import InMemoryRepository

P = "prg-read"
T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)


class CountingStore(InMemoryRepository):
    """The plain store, counting the items the lazy listings hand out."""

    def __init__(self) -> None:
        super().__init__()
        self.read = 0

    def _counted(self, items: Iterator) -> Iterator:
        for item in items:
            self.read += 1
            yield item

    def cases_in_view(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return self._counted(super().cases_in_view(*args, **kwargs))

    def program_rewards(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return self._counted(super().program_rewards(*args, **kwargs))


def a_case(n: int, name: str = "Partner") -> Case:
    return Case(
        P,
        f"c{n:04}",
        "partner",
        f"p{n}",
        f"{name} {n}",
        [Reason("velocity", "x", 1, "a")],
        "open",
        T0 + timedelta(minutes=n),
        f"e{n}",
    )


@pytest.fixture
def world() -> Dependencies:
    store = CountingStore()
    for start in range(0, 1200, 90):
        store.apply(Step([PutCase(a_case(n)) for n in range(start, min(start + 90, 1200))]))
    store.apply(Step([PutCase(a_case(5000, name="Needle"))]))
    return Dependencies(store, InMemoryPublisher(), FixedClock(T0 + timedelta(days=1)))


def test_a_page_of_cases_reads_about_a_page_whatever_the_view_holds(world):
    store = world.repository
    first = service.list_cases(world, P, "active", None, None, "flagged_at", "desc", 25, None)
    assert store.read <= 26 and len(first.items) == 25 and first.items[0].subject.name == "Needle 5000"

    store.read = 0
    second = service.list_cases(world, P, "active", None, None, "flagged_at", "desc", 25, first.next_cursor)
    assert store.read <= 26
    assert second.items[0].id == "c1175" and first.items[-1].id == "c1176"  # no gap, no repeat


def test_a_search_reads_at_most_its_budget_and_goes_on_from_where_it_stopped(world):
    store = world.repository
    found, cursor, requests = [], None, 0
    while True:
        store.read = 0
        page = service.list_cases(world, P, "active", "needle", None, "flagged_at", "asc", 25, cursor)
        requests += 1
        assert store.read <= paging.SCAN_BUDGET + 1
        found += [c.subject.name for c in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert found == ["Needle 5000"]
    assert requests == 3  # 1,201 cases, 500 a request


def test_a_new_case_does_not_shift_the_pages_being_read(world):
    first = service.list_cases(world, P, "active", None, None, "flagged_at", "desc", 10, None)
    world.repository.apply(Step([PutCase(replace(a_case(9000), flagged_at=T0 + timedelta(days=30)))]))
    second = service.list_cases(world, P, "active", None, None, "flagged_at", "desc", 10, first.next_cursor)
    assert second.items[0].id == "c1190"


REWARDS_QUERY = {"program_id": P, "partner_id": "", "customer_id": "", "status": ""}


def test_a_forged_cursor_is_refused_not_followed():
    store = InMemoryRepository()
    deps = Dependencies(store, InMemoryPublisher(), FixedClock(T0))
    good = service.encode_cursor(("2026-11-02T09:00:00+00:00", "c1"), REWARDS_QUERY)
    for forged in (
        service.encode_cursor(("yesterday", "c1"), REWARDS_QUERY),
        service.encode_cursor(("2026-11-02T09:00:00", "c1"), REWARDS_QUERY),
        good[:-3],
        service.encode_cursor(("0001-01-01T00:00:00+01:00", "c1"), REWARDS_QUERY),
        service.encode_cursor(("9999-12-31T23:59:59-05:00", "c1"), REWARDS_QUERY),
        service.encode_cursor((20261102, "c1"), REWARDS_QUERY),
    ):
        with pytest.raises(InvalidInput):
            service.list_rewards(deps, P, None, None, None, 10, forged)
    with pytest.raises(InvalidInput):  # the cursor of another filter
        service.list_rewards(deps, P, None, None, "on_hold", 10, good)
    assert service.list_rewards(deps, P, None, None, None, 10, good).items == []  # it pages its own query


def test_a_partners_rewards_page_through_once_each_whatever_offset_their_times_were_sent_with(world):
    """Times keep the offset their event was sent with (the plain store keeps them as given): the
    cursor's position is an instant, not the text, or `11:00+05:00` would sort after `07:00Z`."""
    zones = [timezone(timedelta(hours=h)) for h in (0, 5, -7, 14)]
    rewards = [
        Reward(
            P,
            f"r{n:02}",
            "p1",
            Decimal(1),
            "USD",
            "new",
            (T0 + timedelta(minutes=n)).astimezone(zones[n % 4]),
            "api",
        )
        for n in range(10)
    ]
    world.repository.apply(Step([PutReward(r) for r in rewards]))
    seen, cursor = [], None
    while True:
        page = service.list_rewards(world, P, "p1", None, None, 3, cursor)
        seen += [r.id for r in page.items]
        if not (cursor := page.next_cursor):
            break
    assert seen == [r.reward_id for r in reversed(rewards)]  # newest first, as every listing


def test_the_programs_rewards_page_reads_about_a_page(world):
    store = world.repository
    store.apply(
        Step(
            [
                PutReward(
                    Reward(P, f"r{n:03}", "p1", Decimal(1), "USD", "new", T0 + timedelta(seconds=n), "api")
                )
                for n in range(90)
            ]
        )
    )
    store.read = 0
    page = service.list_rewards(world, P, None, None, None, 20, None)
    assert store.read == 21 and [r.id for r in page.items][:2] == ["r089", "r088"]


def test_the_summary_is_counted_from_the_steps_own_case_writes():
    opened = counted(Step([PutCase(replace(a_case(1), hold_micros={"USD": 7}, held_count=1))]))
    summary = [w for w in opened.writes if isinstance(w, CountSummary)]
    assert summary == [
        CountSummary(
            P,
            cases={"open": 1},
            held=1,
            held_micros={"USD": 7},
            days=(
                DayFlags(
                    "2026-11-02", 1, {"velocity": 1}, int((T0 + timedelta(minutes=1, days=40)).timestamp())
                ),
            ),
        )
    ]
    moved = counted(Step([UpdateCase(P, "c1", expect=("open",), changes={"status": "disputed"})]))
    assert moved.writes[-1] == CountSummary(P, cases={"open": -1, "disputed": 1})
    resolved = counted(Step([UpdateCase(P, "c1", expect=("disputed",), changes={"status": "approved"})]))
    assert resolved.writes[-1] == CountSummary(P, cases={"disputed": -1})
    nothing = Step([UpdateCase(P, "c1", expect=("removed",), archived=1, archived_micros={"USD": 1})])
    assert counted(nothing) is nothing
    with pytest.raises(ValueError, match="one status it leaves"):
        counted(Step([UpdateCase(P, "c1", expect=("open", "disputed"), changes={"status": "removed"})]))


def test_a_flag_moved_back_takes_the_case_from_its_day_to_the_flags():
    def moved_to(at: datetime, was_codes: tuple[str, ...], codes: tuple[str, ...]) -> Step:
        flag = FlagMoved(T0 + timedelta(days=1), was_codes, codes)
        return counted(Step([UpdateCase(P, "c1", ACTIVE, {"flagged_at": at}, flags=1, flag_moved=flag)]))

    days = moved_to(T0, ("velocity", "cluster"), ("cluster",)).writes[-1]
    assert days == CountSummary(
        P,
        days=(
            DayFlags("2026-11-02", 1, {"cluster": 1}, int((T0 + timedelta(days=40)).timestamp())),
            DayFlags(
                "2026-11-03", -1, {"velocity": -1, "cluster": -1}, int((T0 + timedelta(days=41)).timestamp())
            ),
        ),
    )
    # within its day: only the codes move, and a move that changes nothing counts nothing
    same_day = moved_to(T0 + timedelta(days=1, hours=-1), ("velocity",), ("cluster",)).writes[-1]
    assert isinstance(same_day, CountSummary)
    assert [(d.day, d.flags, d.reasons) for d in same_day.days] == [
        ("2026-11-03", 0, {"velocity": -1, "cluster": 1})
    ]
    unchanged = moved_to(T0 + timedelta(days=1, hours=-1), ("velocity",), ("velocity",))
    assert not any(isinstance(w, CountSummary) for w in unchanged.writes)


def test_a_step_flagging_cases_on_more_days_than_it_keeps_room_for_is_a_bug():
    three_days = [PutCase(replace(a_case(n), flagged_at=T0 + timedelta(days=n))) for n in range(3)]
    assert len(counted(Step(three_days[:2])).writes[-1].days) == 2  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="more days"):
        counted(Step(three_days))
