"""The Active tab by hold amount (`sort=hold_amount`), paged from the `cases_by_hold` index: the
same order and pages from the DynamoDB adapter (on moto) and the plain store, ties broken by case
id, and the order kept as holds change and cases leave the view."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from functions.cases import service
from functions.shared.clock import FixedClock
from functions.shared.domain.hold_order import order_place
from functions.shared.domain.model import Case, Reason
from functions.shared.domain.writes import PutCase, Step, StepRefused, UpdateCase
from functions.shared.errors import InvalidInput
from functions.shared.messaging import InMemoryPublisher
from functions.shared.paging import encode_cursor
from functions.shared.runtime import Dependencies
from functions.shared.storage import dynamodb_partners, keys
from functions.shared.storage.dynamodb_partners import REKEY_TRIES
from functions.shared.storage.memory import InMemoryRepository
from tests.integration.test_loyalty_support import DynamoCalls

P = "prg-holds"
T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)
M = 1_000_000  # micro-units of one unit
USD5 = order_place({"USD": 5 * M})  # the place of a and b: 5 dollars' worth in euros


@pytest.fixture(params=["dynamodb", "memory"])
def store(request):
    if request.param == "memory":
        return InMemoryRepository()
    return request.getfixturevalue("aws").repository


def a_case(case_id: str, holds: dict[str, int], status: str = "open", name: str = "") -> Case:
    return Case(
        P,
        case_id,
        "partner",
        f"p-{case_id}",
        name or f"Partner {case_id}",
        [Reason("velocity", "x", 1, "a")],
        status,
        T0 + timedelta(minutes=len(case_id)),
        f"e-{case_id}",
        hold_micros=holds,
    )


# in euros at the reference rates (USD 1.1172, GBP 0.8338 to the euro): d holds nothing; a and b
# 5 dollars (4.48); c 9 euros and a dollar (9.90); g 5 pounds and 5 dollars (10.47: GBP, worth
# more than its 5 dollars, is its primary); e is disputed and holds 20 dollars (17.90); h a billion
# dollars (a wider number); f and i are resolved, k removed: not in the order
CASES = [
    a_case("a", {"USD": 5 * M}, name="Anna"),
    a_case("b", {"USD": 5 * M}, name="Bob"),
    a_case("c", {"EUR": 9 * M, "USD": 1 * M}, name="Carla"),
    a_case("d", {}, name="Anna-Lena"),
    a_case("e", {"USD": 20 * M}, status="disputed", name="Erik"),
    a_case("f", {"USD": 100 * M}, status="approved", name="Fay"),
    a_case("g", {"GBP": 5 * M, "USD": 5 * M}, name="Gus"),
    a_case("h", {"USD": 10**9 * M}, name="Hanna"),
    a_case("i", {"USD": 50 * M}, status="declined", name="Ivo"),
    a_case("k", {"USD": 70 * M}, status="removed", name="Kim"),
]
ASCENDING = ["d", "a", "b", "c", "g", "e", "h"]


def by_hold(store, newest_first: bool, after=None) -> list[str]:
    return [c.case_id for c in store.cases_in_view(P, "active", newest_first, after, by="hold_amount")]


def test_active_cases_by_hold_amount_then_case_id_both_ways_and_past_a_position(store):
    store.apply(Step([PutCase(c) for c in CASES]))

    assert by_hold(store, False) == ASCENDING
    assert by_hold(store, True) == ASCENDING[::-1]
    assert by_hold(store, False, (USD5, "a")) == ["b", "c", "g", "e", "h"]  # past a tie
    assert by_hold(store, True, (USD5, "b")) == ["a", "d"]
    assert by_hold(store, False, (USD5, "zz")) == ["c", "g", "e", "h"]
    assert by_hold(store, True, (0, "d")) == []
    # the other orders are unchanged: flag order still lists every active case
    assert sorted(c.case_id for c in store.cases_in_view(P, "active", True)) == sorted(ASCENDING)


def test_a_case_moves_as_its_holds_change_and_leaves_the_order_with_the_view(store):
    store.apply(Step([PutCase(c) for c in CASES]))

    store.apply(Step([UpdateCase(P, "d", expect=("open",), held=1, hold_micros={"USD": 7 * M})]))
    assert by_hold(store, False) == ["a", "b", "d", "c", "g", "e", "h"]  # a reward held: 0 -> 7 USD
    store.apply(Step([UpdateCase(P, "h", held=-1, hold_micros={"USD": -(10**9) * M})]))
    assert by_hold(store, False) == ["h", "a", "b", "d", "c", "g", "e"]  # released (overridden)
    store.apply(Step([UpdateCase(P, "c", hold_micros={"EUR": -8 * M})]))
    assert by_hold(store, False)[:3] == ["h", "c", "a"]  # a euro and a dollar (1.90) now
    store.apply(
        Step([UpdateCase(P, "a", expect=("open",), changes={"status": "disputed", "disputed_at": T0})])
    )
    assert by_hold(store, False) == ["h", "c", "a", "b", "d", "g", "e"]  # still active, same place
    store.apply(
        Step(
            [
                UpdateCase(P, "e", expect=("disputed",), changes={"status": "declined", "resolved_at": T0}),
                UpdateCase(
                    P,
                    "g",
                    changes={"status": "removed", "removed_at": T0, "removed_by": "me"},
                    held=-1,
                    hold_micros={"GBP": -5 * M},
                ),
            ]
        )
    )
    assert by_hold(store, False) == ["h", "c", "a", "b", "d"]  # resolved and removed: gone
    # a declined case still takes holds (SPEC 4), and stays out of the active order
    store.apply(Step([UpdateCase(P, "e", expect=("declined",), held=1, hold_micros={"USD": 1 * M})]))
    assert by_hold(store, True) == ["d", "b", "a", "c", "h"]
    assert store.get_case(P, "e").hold_micros == {"USD": 21 * M}


def test_the_index_holds_active_cases_only(aws):
    """Sparse: a case leaving the active view takes its entry out of the index (not only out of the
    active partition), so the index's size follows today's fraud, not the history."""
    store = aws.repository
    store.apply(Step([PutCase(c) for c in CASES]))
    store.apply(
        Step(
            [
                UpdateCase(P, "e", expect=("disputed",), changes={"status": "approved", "resolved_at": T0}),
                UpdateCase(P, "a", changes={"status": "removed", "removed_at": T0, "removed_by": "me"}),
            ]
        )
    )
    index = store._m.indexes["cases_by_hold"]
    entries = {
        view: sorted(i.case_id for i in index.query(keys.case_view_pk(P, view)))
        for view in ("active", "resolved", "removed")
    }
    assert entries == {"active": ["b", "c", "d", "g", "h"], "resolved": [], "removed": []}


def test_a_refused_hold_change_moves_nothing(store):
    store.apply(Step([PutCase(c) for c in CASES]))

    with pytest.raises(StepRefused):  # the case is no longer open
        store.apply(Step([UpdateCase(P, "e", expect=("open",), held=1, hold_micros={"USD": 90 * M})]))
    assert by_hold(store, False) == ASCENDING


def stale(store) -> list[str]:
    """The cases marked for re-keying (the sparse `cases_hold_stale` index), by flag time."""
    return [i.case_id for i in store._m.indexes["cases_hold_stale"].query(keys.hold_stale_pk(P))]


def hold_key(store, case_id: str) -> str | None:
    return store._get(store._m.case, keys.case_pk(P, case_id), keys.CASE_SK).case_hold_sk


def test_a_hold_change_reads_nothing_and_marks_the_case_for_the_next_read(aws):
    """The step adds the holds and marks the case; it reads no case and writes no key. The next
    read by hold amount sets the key from the holds and takes the mark off; a read by flag time
    does not."""
    store = aws.repository
    store.apply(Step([PutCase(c) for c in CASES]))
    assert stale(store) == []
    before = hold_key(store, "a")

    with DynamoCalls() as calls:
        store.apply(Step([UpdateCase(P, "a", expect=("open",), held=1, hold_micros={"USD": 10 * M})]))
    assert calls.operations == ["TransactWriteItems"]
    assert stale(store) == ["a"] and hold_key(store, "a") == before
    list(store.cases_in_view(P, "active", True))  # flag order: no re-key
    assert stale(store) == ["a"]

    assert by_hold(store, False) == ["d", "b", "c", "g", "a", "e", "h"]  # 15 USD (13.43): past g
    assert stale(store) == [] and hold_key(store, "a") == keys.case_hold_sk(order_place({"USD": 15 * M}), "a")


def test_two_concurrent_hold_changes_both_land_and_the_next_page_places_the_case_by_their_sum(aws):
    """Nothing is read before a hold is written, so two steps decided at once both commit (neither
    conditions on what the other changes) and the next read places the case by both."""
    store = aws.repository
    store.apply(Step([PutCase(c) for c in CASES]))
    steps = [
        Step([UpdateCase(P, "a", expect=("open", "disputed"), held=1, hold_micros={"EUR": 15 * M})]),
        Step([UpdateCase(P, "a", expect=("open", "disputed"), held=1, hold_micros={"USD": 26 * M})]),
    ]
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(store.apply, steps))  # raises if either was refused

    assert store.get_case(P, "a").hold_micros == {"USD": 31 * M, "EUR": 15 * M}
    assert by_hold(store, False)[-3:] == ["e", "a", "h"]  # 15 euros and 31 dollars (42.75): both
    a_place = order_place({"USD": 31 * M, "EUR": 15 * M})
    assert by_hold(store, True, (a_place, "a")) == ["e", "g", "c", "b", "d"]


def racing_index(store, monkeypatch, racer) -> list[str]:
    """Stands in for the stale index: each case it finds is handed to `racer` (another writer
    committing right after the read) before the re-key writes; returns the ids handed over."""
    real = store._m.indexes["cases_hold_stale"]
    seen: list[str] = []

    class Racing:
        def query(self, *args, **kwargs):
            for item in list(real.query(*args, **kwargs)):
                seen.append(item.case_id)
                racer(item.case_id)
                yield item

    monkeypatch.setitem(store._m.indexes, "cases_hold_stale", Racing())
    return seen


def test_a_hold_change_between_a_rekeys_read_and_write_makes_it_read_again(aws, monkeypatch):
    store = aws.repository
    store.apply(Step([PutCase(c) for c in CASES]))
    store.apply(Step([UpdateCase(P, "b", held=1, hold_micros={"USD": 4 * M})]))  # 9 USD: below c

    def racer(case_id):
        store.apply(Step([UpdateCase(P, case_id, held=1, hold_micros={"USD": 12 * M})]))

    raced = racing_index(store, monkeypatch, racer)
    with DynamoCalls() as calls:
        order = by_hold(store, False)
    monkeypatch.undo()
    assert raced == ["b"]
    # the racer's transaction; the key from the index's copy (9 USD) refused (a refused call raises:
    # the recorder lists answered calls only); the case read again (21 USD) and re-keyed; the page
    assert calls.operations == ["Query", "TransactWriteItems", "GetItem", "UpdateItem", "Query"]
    assert order == ["d", "a", "c", "g", "e", "b", "h"]
    assert stale(store) == [] and hold_key(store, "b") == keys.case_hold_sk(order_place({"USD": 21 * M}), "b")


def test_a_case_whose_holds_keep_changing_is_served_at_its_last_place_and_rekeyed_next_time(aws, monkeypatch):
    """After `REKEY_TRIES` refused writes the page is still served: the case at the place of its
    last key (its holds at that time), still marked, so the next read places it."""
    store = aws.repository
    store.apply(Step([PutCase(c) for c in CASES]))
    store.apply(Step([UpdateCase(P, "h", held=-1, hold_micros={"USD": -(10**9) * M})]))  # 0
    read_case = store._get
    hold = Step([UpdateCase(P, "h", held=1, hold_micros={"USD": 1 * M})])

    def read_then_race(model, pk, sk):  # another hold commits after every read of the case
        found = read_case(model, pk, sk)
        store.apply(hold)
        return found

    racing_index(store, monkeypatch, lambda case_id: store.apply(hold))
    monkeypatch.setattr(store, "_get", read_then_race)
    served = by_hold(store, False)
    monkeypatch.undo()

    assert served == ASCENDING  # h still last: the key it was stored with (a billion)
    assert store.get_case(P, "h").hold_micros == {"USD": REKEY_TRIES * M}  # one hold per try
    assert stale(store) == ["h"]
    assert by_hold(store, False) == ["d", "h", "a", "b", "c", "g", "e"]  # 3 dollars
    assert stale(store) == []


def test_a_read_rekeys_at_most_its_budget_and_the_next_read_the_rest(aws, monkeypatch):
    store = aws.repository
    store.apply(Step([PutCase(c) for c in CASES]))
    for case_id in ("a", "b", "c"):  # 30 dollars more each: past e
        store.apply(Step([UpdateCase(P, case_id, held=1, hold_micros={"USD": 30 * M})]))
    monkeypatch.setattr(dynamodb_partners, "REKEY_BUDGET", 2)

    assert by_hold(store, False) == ["d", "c", "g", "e", "a", "b", "h"]  # c at its 9.90 euros still
    assert stale(store) == ["c"]
    assert by_hold(store, False) == ["d", "g", "e", "a", "b", "c", "h"]  # 9 EUR + 31 USD; a, b 35 USD
    assert stale(store) == []


@pytest.mark.parametrize("order", ["desc", "asc"])
def test_a_walk_by_hold_amount_lists_every_case_once_whatever_its_pages_rekey(aws, monkeypatch, order):
    """More cases changed than one read re-keys: each page re-keys more of them, and a case moved
    past the walk's cursor was passed over (a larger hold, walking from the largest) or listed again
    (walking from the smallest). A page now moves a case only within the side of its cursor it is
    on; the rest keep their place for this walk, and a first page places them."""
    store = aws.repository
    store.apply(Step([PutCase(c) for c in CASES]))
    for case_id in ("a", "b", "c", "d"):  # 100 dollars more each: past e, below h
        store.apply(Step([UpdateCase(P, case_id, held=1, hold_micros={"USD": 100 * M})]))
    monkeypatch.setattr(dynamodb_partners, "REKEY_BUDGET", 1)

    found, _ = every_page(deps_with(store), 2, order=order)

    assert sorted(found) == sorted(ASCENDING) and len(found) == len(ASCENDING)  # each once
    for _ in range(4):  # first pages place the rest, one a read
        every_page(deps_with(store), 25, order=order)
    assert stale(store) == []
    assert every_page(deps_with(store), 2, order="asc")[0] == ["g", "e", "d", "a", "b", "c", "h"]


def test_a_case_leaving_the_view_loses_its_key_and_mark_and_a_declined_case_is_only_unmarked(aws):
    store = aws.repository
    store.apply(Step([PutCase(c) for c in CASES]))
    store.apply(Step([UpdateCase(P, "a", held=1, hold_micros={"USD": 1 * M})]))
    store.apply(Step([UpdateCase(P, "i", expect=("declined",), held=1, hold_micros={"USD": 1 * M})]))
    assert stale(store) == ["a", "i"]

    store.apply(
        Step([UpdateCase(P, "a", changes={"status": "removed", "removed_at": T0, "removed_by": "me"})])
    )
    assert stale(store) == ["i"] and hold_key(store, "a") is None
    assert by_hold(store, False) == ["d", "b", "c", "g", "e", "h"]
    assert stale(store) == [] and hold_key(store, "i") is None  # declined: out of the order


def test_a_case_stored_before_the_index_joins_the_order_at_its_next_hold_change(aws):
    store = aws.repository
    store.apply(Step([PutCase(c) for c in CASES]))
    # as a case written by the code before this index: no `case_hold_sk`
    m = store._m
    m.case(keys.case_pk(P, "b"), keys.CASE_SK).update(actions=[m.base.case_hold_sk.remove()])
    assert "b" not in by_hold(store, False)

    store.apply(Step([UpdateCase(P, "b", expect=("open",), held=1, hold_micros={"USD": 1})]))
    assert by_hold(store, False) == ["d", "a", "b", "c", "g", "e", "h"]  # 5.000001 USD

    # the backfill for the others: only the mark, on a case that never counted a hold change
    m.case(keys.case_pk(P, "c"), keys.CASE_SK).update(actions=[m.base.case_hold_sk.remove()])
    assert "c" not in by_hold(store, False)
    m.case(keys.case_pk(P, "c"), keys.CASE_SK).update(
        actions=[m.base.hold_stale_pk.set(keys.hold_stale_pk(P))]
    )
    assert by_hold(store, False) == ["d", "a", "b", "c", "g", "e", "h"]
    assert stale(store) == []


def deps_with(store) -> Dependencies:
    return Dependencies(store, InMemoryPublisher(), FixedClock(T0 + timedelta(days=1)))


def every_page(deps, limit: int, **query) -> tuple[list[str], int]:
    """Every page of a listing, following its cursors: the ids in order and the pages read."""
    found, cursor, pages = [], None, 0
    while True:
        page = service.list_cases(
            deps,
            P,
            "active",
            query.get("q"),
            query.get("status"),
            "hold_amount",
            query.get("order", "desc"),
            limit,
            cursor,
        )
        pages += 1
        found += [c.id for c in page.items]
        cursor = page.next_cursor
        if cursor is None:
            return found, pages


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"order": "asc"}, ASCENDING),
        ({"order": "desc"}, ASCENDING[::-1]),
        ({"q": "anna", "order": "desc"}, ["h", "a", "d"]),  # Hanna, Anna, Anna-Lena
        ({"q": "anna", "order": "asc"}, ["d", "a", "h"]),
        ({"status": "disputed"}, ["e"]),
        ({"status": "open", "order": "asc"}, ["d", "a", "b", "c", "g", "h"]),
    ],
)
def test_the_service_pages_alike_on_both_stores(aws, query, expected):
    dynamo, memory = aws.repository, InMemoryRepository()
    for target in (dynamo, memory):
        target.apply(Step([PutCase(c) for c in CASES]))

    for limit in (1, 2, 3, 25):
        on_dynamo = every_page(deps_with(dynamo), limit, **query)
        assert on_dynamo == every_page(deps_with(memory), limit, **query)
        assert on_dynamo[0] == expected


def test_a_hold_amount_cursor_is_the_place_and_case_id_and_a_forged_one_is_refused(store):
    store.apply(Step([PutCase(c) for c in CASES]))
    deps = deps_with(store)
    query = {"program_id": P, "view": "active", "q": "", "status": "", "sort": "hold_amount", "order": "asc"}

    first = service.list_cases(deps, P, "active", None, None, "hold_amount", "asc", 2, None)
    assert first.next_cursor == encode_cursor((USD5, "a"), query)
    edited = encode_cursor((USD5, "b"), query)  # moves the listing within the program's own cases
    page = service.list_cases(deps, P, "active", None, None, "hold_amount", "asc", 2, edited)
    assert [c.id for c in page.items] == ["c", "g"]
    for forged in (
        encode_cursor((10**38, "a"), query),  # no key holds it
        encode_cursor((-(10**40), "a"), query),
        encode_cursor(("5000000", "a"), query),  # a text, not an amount
        encode_cursor((True, "a"), query),
        encode_cursor((5.5, "a"), query),
        encode_cursor((5 * M, "a"), {**query, "order": "desc"}),  # another query's
    ):
        with pytest.raises(InvalidInput):
            service.list_cases(deps, P, "active", None, None, "hold_amount", "asc", 2, forged)


def test_the_resolved_view_is_not_in_hold_order(store):
    store.apply(Step([PutCase(replace(c, status="approved")) for c in CASES[:3]]))
    with pytest.raises(InvalidInput):
        service.list_cases(deps_with(store), P, "resolved", None, None, "hold_amount", "desc", 25, None)
    assert by_hold(store, True) == []


def test_the_backfill_places_every_case_stored_before_the_index_and_is_safe_to_run_again(aws, monkeypatch):
    import json

    from click.testing import CliRunner

    from fraudctl.cli import cli
    from functions.shared import tenancy

    store = aws.repository
    program = tenancy.create_program(store, FixedClock(T0), "Backfilled").program_id
    old = [replace(c, program_id=program) for c in CASES]
    store.apply(Step([PutCase(c) for c in old]))
    m = store._m
    for case in old:  # as written by the code before the index: no key, no mark
        m.case(keys.case_pk(program, case.case_id), keys.CASE_SK).update(
            actions=[m.base.case_hold_sk.remove()]
        )
    active = [c.case_id for c in old if c.status in ("open", "disputed")]

    def hold_sorted() -> list[str]:
        pages = store.cases_in_view(program, "active", False, by="hold_amount")
        return [c.case_id for c in pages]

    assert hold_sorted() == []  # none has a place: the Active tab by hold amount shows nothing
    monkeypatch.setenv("FRAUDCTL_TARGET", "aws")  # the table of this environment (moto, in process)
    ran = CliRunner().invoke(cli, ["backfill-hold-order", "--program", program, "--json"])
    assert ran.exit_code == 0, ran.output
    assert json.loads(ran.output) == {"programs": {program: {"found": len(active), "placed": len(active)}}}
    assert hold_sorted() == ASCENDING  # as if kept from the start

    again = CliRunner().invoke(cli, ["backfill-hold-order", "--json"])  # every program, once more
    assert again.exit_code == 0, again.output
    assert json.loads(again.output)["programs"][program] == {"found": 0, "placed": 0}
    assert hold_sorted() == ASCENDING
    unknown = CliRunner().invoke(cli, ["backfill-hold-order", "--program", "prg-nope"])
    assert unknown.exit_code == 1 and "not found" in unknown.output


def test_a_case_holding_only_currencies_without_a_rate_comes_after_every_case_with_one(store):
    """AED and XOF have no ECB reference rate: their worth is unknown, so such a case is placed
    below every case holding a currency with a rate (after them, descending), among its kind by
    the largest amount it holds, and above a case holding nothing. A case holding both
    kinds is placed by the worth of what has a rate."""
    store.apply(
        Step(
            [PutCase(c) for c in CASES]
            + [
                PutCase(a_case("x", {"AED": 10**6 * M})),
                PutCase(a_case("y", {"XOF": 3 * M, "AED": 2 * M})),  # 3 XOF: its largest
                PutCase(a_case("z", {"AED": 10**9 * M, "EUR": 1})),  # a micro-euro: the rated side
            ]
        )
    )
    assert by_hold(store, False) == ["d", "y", "x", "z", "a", "b", "c", "g", "e", "h"]
    assert by_hold(store, True) == ["h", "e", "g", "c", "b", "a", "z", "x", "y", "d"]
    assert [
        service.list_cases(deps_with(store), P, "active", q, None, "hold_amount", "desc", 1, None)
        .items[0]
        .hold_amount.model_dump()
        for q in ("Partner x", "Partner y", "Partner z")
    ] == [
        {"amount": "1000000.00", "currency": "AED"},
        {"amount": "3", "currency": "XOF"},  # XOF has no decimal places
        {"amount": "0.000001", "currency": "EUR"},  # the currency with a rate is the case's amount
    ]


def test_a_key_stored_at_face_value_is_rekeyed_by_the_backfill(aws, monkeypatch):
    """Keys set by the version that compared currencies at face value (the primary currency's own
    micro-units) put c (9 euros and a dollar) and g (5 pounds and 5 dollars) among the cases of
    unknown worth, first of all: the backfill re-keys every active case whose key is not the one
    its holds give it now, once."""
    import json

    from click.testing import CliRunner

    from fraudctl.cli import cli
    from functions.shared import tenancy

    store = aws.repository
    program = tenancy.create_program(store, FixedClock(T0), "Keyed at face value").program_id
    store.apply(Step([PutCase(replace(c, program_id=program)) for c in CASES]))
    m = store._m
    for case_id, micros in (("c", 9 * M), ("g", 5 * M)):  # as the version before keyed them
        m.case(keys.case_pk(program, case_id), keys.CASE_SK).update(
            actions=[m.base.case_hold_sk.set(keys.case_hold_sk(micros, case_id))]
        )

    def hold_sorted() -> list[str]:
        return [c.case_id for c in store.cases_in_view(program, "active", False, by="hold_amount")]

    assert hold_sorted() == ["d", "g", "c", "a", "b", "e", "h"]  # mis-ordered, for ever without it

    monkeypatch.setenv("FRAUDCTL_TARGET", "aws")
    ran = CliRunner().invoke(cli, ["backfill-hold-order", "--program", program, "--json"])
    assert ran.exit_code == 0, ran.output
    assert json.loads(ran.output) == {"programs": {program: {"found": 2, "placed": 2}}}
    assert hold_sorted() == ASCENDING
    key = store._get(m.case, keys.case_pk(program, "c"), keys.CASE_SK).case_hold_sk
    assert key == keys.case_hold_sk(order_place({"EUR": 9 * M, "USD": M}), "c")
    again = CliRunner().invoke(cli, ["backfill-hold-order", "--program", program, "--json"])
    assert json.loads(again.output) == {"programs": {program: {"found": 0, "placed": 0}}}


def test_the_plain_store_has_nothing_to_backfill():
    store = InMemoryRepository()
    store.apply(Step([PutCase(c) for c in CASES]))
    assert store.place_in_hold_order(P) == (0, 0)


def _item(pk: str, key: str, status: str = "open") -> SimpleNamespace:
    return SimpleNamespace(pk=pk, case_hold_sk=key, status=status)


@pytest.mark.parametrize("newest_first", [True, False])
def test_a_page_lists_the_cases_it_rekeyed_at_their_new_keys_whatever_the_index_shows_yet(newest_first):
    """DynamoDB's index lags its table: the page's query, just after its own re-key writes, may
    show a case at its old key. The page lists the cases it re-keyed at their new keys, once, and
    only those past its cursor (a reviewer's: at its old key on this page and its new one on the
    next, a case came twice, or never)."""
    index = [_item("a", "10"), _item("b", "30"), _item("c", "50"), _item("d", "70")]  # a at its old key
    placed = [_item("a", "60"), _item("x", "20", status="approved")]  # a moved; x left the order
    ordered = index[::-1] if newest_first else index

    merged = dynamodb_partners._with_placed(iter(ordered), placed, None, newest_first)

    walk = [(i.pk, i.case_hold_sk) for i in merged]
    expected = [("b", "30"), ("c", "50"), ("a", "60"), ("d", "70")]
    assert walk == (expected[::-1] if newest_first else expected)
    # past a cursor: a case placed on the side the walk has read is not listed again
    position = "55" if newest_first else "65"  # a (now 60) on the side read
    past = [i for i in ordered if (i.case_hold_sk < position if newest_first else i.case_hold_sk > position)]
    listed = [i.pk for i in dynamodb_partners._with_placed(iter(past), placed, position, newest_first)]
    assert listed == (["c", "b"] if newest_first else ["d"])
