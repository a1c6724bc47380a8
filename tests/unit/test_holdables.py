"""A subject's list of holdable rewards (issue 15): what a flag holds without asking the index, and
when it must ask."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from functions.shared.domain import holdables
from functions.shared.domain.holdables import LISTED_MOST, applied, candidates, change, entry, reward_of
from functions.shared.domain.model import Holdables, Reward

P = "prg"
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def reward(
    n: int, status: str = "pending", customer: str | None = "c-1", minutes: int | None = None
) -> Reward:
    at = T0 + timedelta(minutes=n if minutes is None else minutes)
    return Reward(P, f"r-{n}", "p-1", Decimal("12.34"), "EUR", status, at, "transaction", customer)


def listed_after(*changes_of) -> Holdables:
    current = Holdables()
    for make in changes_of:
        current = applied(current, make(current))
    return current


def test_an_entry_carries_what_a_hold_writes_and_reads_back():
    original = reward(1, customer=None)
    back = reward_of(P, entry(original))
    assert (back.reward_id, back.partner_id, back.customer_id, back.amount, back.currency) == (
        "r-1",
        "p-1",
        None,
        Decimal("12.34"),
        "EUR",
    )
    assert (back.status, back.created_at) == ("pending", original.created_at)
    odd = Reward(P, "r:(x)|y", "p.1~", Decimal("0.001"), "BHD", "new", T0, "api", "c@d")
    assert reward_of(P, entry(odd)).reward_id == "r:(x)|y"
    assert back.released is False
    # one an approval of its partner's case released says so, with or without a customer
    for customer in ("c@d", None):
        released = replace(odd, customer_id=customer, status="pending", case_id="case-1", released=True)
        again = reward_of(P, entry(released))
        assert (again.released, again.customer_id, again.reward_id) == (True, customer, "r:(x)|y")


def test_a_partner_flag_holds_what_the_list_names_from_the_flag_on():
    listed = listed_after(lambda h: change(h, arriving=[reward(1), reward(5), reward(9)]))
    found = candidates(listed, P, T0 + timedelta(minutes=5))
    assert [r.reward_id for r in found or []] == ["r-5", "r-9"]
    assert [r.reward_id for r in candidates(listed, P, None) or []] == ["r-1", "r-5", "r-9"]


def test_the_list_keeps_the_newest_and_marks_what_it_left_out_so_an_older_flag_asks_the_index():
    # Given a fraudster's 10,000 pending rewards arriving one by one
    listed = Holdables()
    for n in range(10_000):
        listed = applied(listed, change(listed, arriving=[reward(n)]))

    # Then the item holds a bounded list: the newest, and one mark below them
    assert len(listed.entries) == LISTED_MOST
    assert len(listed.unlisted) == 1
    newest = sorted(holdables.listed_id(e) for e in listed.entries)
    assert newest == sorted(f"r-{n}" for n in range(10_000 - LISTED_MOST, 10_000))
    # a flag after the listed ones is answered by the list; one reaching back asks the index
    assert candidates(listed, P, T0 + timedelta(minutes=9_999)) is not None
    assert candidates(listed, P, T0 + timedelta(minutes=10)) is None
    assert candidates(listed, P, None) is None  # a customer's flag holds all: the index


def test_held_rewards_leave_the_list_and_concurrent_changes_do_not_undo_each_other():
    listed = listed_after(lambda h: change(h, arriving=[reward(1), reward(2)]))
    # two writers from the same read: one holds r-1, the other lists r-3
    held = change(listed, leaving=[reward(1)])
    arrived = change(listed, arriving=[reward(3)])
    after = applied(applied(listed, held), arrived)
    assert sorted(holdables.listed_id(e) for e in after.entries) == ["r-2", "r-3"]
    assert not held.add and held.remove == {"r-1"}  # per entry: nothing else rewritten


def test_what_the_index_found_rewrites_the_list_and_lifts_the_marks_it_covers():
    listed = Holdables(frozenset({entry(reward(1)), entry(reward(2))}), frozenset({holdables.EVERYTHING}))
    assert candidates(listed, P, T0) is None  # a writer that did not read the list marked it
    now = change(
        listed,
        found=[reward(2, status="on_hold"), reward(3)],  # r-2 held meanwhile, r-3 unlisted
        found_since=T0 + timedelta(minutes=2),
    )
    after = applied(listed, now)
    assert sorted(holdables.listed_id(e) for e in after.entries) == ["r-1", "r-3"]
    assert candidates(after, P, T0 + timedelta(minutes=2)) is not None  # answered by the list again
    assert candidates(after, P, T0) is None  # before what the index was asked: still unknown
    everything = applied(listed, change(listed, found=[reward(3)], found_since=None))
    assert everything.unlisted == frozenset()
