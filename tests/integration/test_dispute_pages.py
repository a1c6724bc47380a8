"""`GET /v1/disputes` paged (the list answered every open dispute of the platform in one body: past
some 6,000 it would pass Lambda's 6 MB answer). Oldest dispute first across programs, ties by program
and case id, every page past the cursor's position, on the DynamoDB adapter (moto) and the plain
store through the real handler; a verdict between pages moves nothing; a cursor of another listing
refused; a page reads about a page, however many disputes are open."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from functions.disputes import service
from functions.shared import paging, runtime, tenancy
from functions.shared.clock import FixedClock
from functions.shared.domain.disputes import dispute_step, verdict_step
from functions.shared.domain.model import Case, Reason
from functions.shared.domain.writes import PutCase, Step
from functions.shared.paging import encode_cursor
from functions.shared.storage.memory import InMemoryRepository
from tests.conftest import make_tenant
from tests.integration.test_loyalty_support import DynamoCalls
from tests.support import call, proxy_event

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)
DISPUTED = datetime(2026, 11, 20, 12, tzinfo=UTC)


def a_case(program_id: str, n: int, prefix: str) -> Case:
    return Case(
        program_id,
        f"{prefix}{n:04}",  # a case id names one case of the platform (the verdict's route names it alone)
        "partner",
        f"p{n}",
        f"Partner {n}",
        [Reason("velocity", "x", 1, "a")],
        "open",
        T0 + timedelta(minutes=n),
        f"e{n}",
    )


def open_and_dispute(
    store, program_id: str, prefix: str, disputed: dict[int, datetime], kept_open: int = 0
) -> None:
    """The cases numbered in `disputed`, disputed at their time (as the dispute route writes it),
    and `kept_open` more numbered after them, left open."""
    for n in [*disputed, *range(max(disputed) + 1, max(disputed) + 1 + kept_open)]:
        store.apply(Step([PutCase(a_case(program_id, n, prefix))]))
    for n, at in disputed.items():
        case = store.get_case(program_id, f"{prefix}{n:04}")
        store.apply(dispute_step(case, f"reason {n}", "fraud team", at))


# dispute order is not flag order; in each program a0000/a0005 are disputed at one instant, and so
# are a0001/a0006, and the two programs share those instants (ties: by program, then by case)
TIMES = {n: DISPUTED - timedelta(hours=(n * 3) % 5) for n in range(7)}


@pytest.fixture(params=["dynamodb", "memory"])
def disputes(request, aws, monkeypatch):
    """Programs A (7 disputed, 3 open) and B (the same 7 instants, 2 open), the security team's
    key, on either store, served by the real disputes handler."""
    store = aws.repository
    if request.param == "memory":
        store = InMemoryRepository()
        monkeypatch.setattr(runtime.dependencies(), "repository", store)
    a, b = make_tenant(store, "Program A"), make_tenant(store, "Program B")
    open_and_dispute(store, a.program_id, "a", TIMES, kept_open=3)
    open_and_dispute(store, b.program_id, "b", TIMES, kept_open=2)
    clock = FixedClock(T0)
    security = tenancy.create_key(store, clock, None, "security", "Platform security")[1]
    order = sorted(
        (TIMES[n], program, f"{prefix}{n:04}")
        for program, prefix in ((a.program_id, "a"), (b.program_id, "b"))
        for n in TIMES
    )
    return SimpleNamespace(store=store, a=a, b=b, key=security, order=[(p, c) for _, p, c in order])


def listed(key: str, **query: str):
    return call("disputes", proxy_event("GET", "/v1/disputes", None, key, query=query or None))


def every_page(key: str, **query: str) -> tuple[list[tuple[str, str]], list[int]]:
    """(program, case) of every page, following `next_cursor`, and each page's size."""
    found: list[tuple[str, str]] = []
    sizes: list[int] = []
    cursor = query.pop("cursor", None)
    while True:
        answer = listed(key, **{**query, **({"cursor": cursor} if cursor else {})})
        assert answer.status == 200, answer
        found += [(item["program_id"], item["id"]) for item in answer.body["items"]]
        sizes.append(len(answer.body["items"]))
        cursor = answer.body["next_cursor"]
        if cursor is None:
            return found, sizes
        assert len(sizes) <= 30, "the cursors never end"


def test_the_fixture_has_the_ties_the_paging_tests_need(disputes):
    assert TIMES[0] == TIMES[5] and TIMES[1] == TIMES[6]
    assert [c[1:] for _, c in disputes.order[:6]] == ["0003", "0003", "0001", "0006", "0001", "0006"]


def test_one_page_holds_every_dispute_of_a_small_platform_oldest_first(disputes):
    answer = listed(disputes.key)

    assert answer.status == 200, answer
    assert [(i["program_id"], i["id"]) for i in answer.body["items"]] == disputes.order
    assert answer.body["next_cursor"] is None
    first = answer.body["items"][0]
    assert first["program_name"] in ("Program A", "Program B") and first["dispute_reason"] == "reason 3"


@pytest.mark.parametrize("limit", [1, 2, 3, 13, 14, 100])
def test_pages_follow_the_dispute_order_without_gaps_or_repeats(disputes, limit):
    found, sizes = every_page(disputes.key, limit=str(limit))

    assert found == disputes.order  # every one, once, in order, across both programs
    assert all(size == limit for size in sizes[:-1]) and 0 < sizes[-1] <= limit
    assert len(sizes) == -(-len(disputes.order) // limit)  # no empty last page


def test_the_default_page_is_25(disputes):
    more = {n: DISPUTED + timedelta(minutes=n) for n in range(10, 30)}
    open_and_dispute(disputes.store, disputes.a.program_id, "a", more)  # 14 + 20 = 34 disputes in all

    first = listed(disputes.key)
    rest, _ = every_page(disputes.key, cursor=first.body["next_cursor"])

    assert len(first.body["items"]) == 25 and len(rest) == 9


def test_a_verdict_or_a_new_dispute_between_pages_neither_repeats_nor_skips(disputes):
    key = disputes.key
    first = listed(key, limit="5")
    page_one = [(i["program_id"], i["id"]) for i in first.body["items"]]
    # a verdict on a case of the next page (it moves to the index's other partition), and another on
    # one already listed; then a newer dispute
    for program, case_id in (disputes.order[6], disputes.order[1]):
        verdict = call(
            "disputes",
            proxy_event("POST", f"/v1/disputes/{case_id}/verdict", {"verdict": "approve"}, key),
        )
        assert verdict.status == 200 and verdict.body["program_id"] == program, verdict
    newest = DISPUTED + timedelta(days=1)
    case = disputes.store.get_case(disputes.a.program_id, "a0007")  # one of A's open cases
    disputes.store.apply(dispute_step(case, "late", "fraud team", newest))

    rest, _ = every_page(key, limit="5", cursor=first.body["next_cursor"])

    assert page_one + rest == disputes.order + [(disputes.a.program_id, "a0007")]


def test_a_page_of_long_reasons_ends_within_its_answer_and_the_next_goes_on(disputes, monkeypatch):
    # A's open cases disputed with reasons of 2,000 characters outside the basic plane (12 bytes each
    # in an answer, escaped twice), after every other dispute; an answer's budget of 150,000 bytes
    # (`paging.ANSWER_BUDGET`, 5,000,000 in use) holds about five of them
    long = {n: DISPUTED + timedelta(days=1, minutes=n) for n in range(7, 10)}
    for n, at in long.items():
        case = disputes.store.get_case(disputes.a.program_id, f"a{n:04}")
        disputes.store.apply(dispute_step(case, "\U0001d11e" * 2_000, "fraud team", at))
    for n in range(10, 13):  # three more, open then disputed so
        disputes.store.apply(Step([PutCase(a_case(disputes.a.program_id, n, "a"))]))
        case = disputes.store.get_case(disputes.a.program_id, f"a{n:04}")
        disputes.store.apply(
            dispute_step(case, "\U0001d11e" * 2_000, "fraud team", DISPUTED + timedelta(days=2, minutes=n))
        )
    monkeypatch.setattr(paging, "ANSWER_BUDGET", 150_000)

    found, sizes = every_page(disputes.key, limit="100")

    expected = disputes.order + [(disputes.a.program_id, f"a{n:04}") for n in range(7, 13)]
    assert found == expected  # each once, in order
    assert sizes[0] > 14 and len(sizes) == 2  # the short ones and a few long ones, then the rest
    page = listed(disputes.key, limit="100")
    assert len(json.dumps(page.raw)) <= 150_000 + 2_000  # the page's own fields and headers beside


def _forged(after: Any, query: dict[str, Any]) -> str:
    raw = json.dumps({"after": after, "query": query}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_a_cursor_altered_or_of_another_listing_is_422_and_changes_nothing(disputes):
    key = disputes.key
    before = every_page(key, limit="2")
    cursor = listed(key, limit="2").body["next_cursor"]
    query = {"listing": "disputes", "status": "open"}
    removed = call(
        "cases",
        proxy_event("GET", "/v1/removed-partners", None, disputes.a.keys["fraud"], query={"limit": "1"}),
    )
    assert cursor and removed.status == 200
    at, program = "2026-11-20T12:00:00+00:00", disputes.a.program_id

    for bad in (
        cursor[:-3],  # cut short
        cursor + "x",
        "not-a-cursor",
        _forged([at, program], query),  # no case id
        _forged([5, program, "a0001"], query),  # no time
        _forged(["2026-11-20T12:00:00", program, "a0001"], query),  # no time zone
        _forged(["yesterday", program, "a0001"], query),
        _forged([at, program, "a0001"], {"view": "removed", "program_id": program}),  # another listing's
        encode_cursor((at, "a0001"), {"view": "removed", "program_id": program}),
        encode_cursor((at, program, "a0001"), {**query, "status": "closed"}),
    ):
        answer = listed(key, limit="2", cursor=bad)
        assert answer.status == 422, (bad, answer)
        assert answer.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in answer.body["errors"]] == ["query.cursor"], answer.body
    # the good cursor still pages its own listing, and nothing changed
    page = listed(key, limit="2", cursor=cursor).body["items"]
    assert [(i["program_id"], i["id"]) for i in page] == disputes.order[2:4]
    assert every_page(key, limit="2") == before


@pytest.mark.parametrize(
    ("limit", "status"), [("0", 422), ("101", 422), ("-1", 422), ("x", 422), ("1", 200), ("100", 200)]
)
def test_limit_is_bounded_as_for_the_other_listings(disputes, limit, status):
    answer = listed(disputes.key, limit=limit)

    assert answer.status == status, answer
    if status == 422:
        assert [e["field"].removeprefix("query.") for e in answer.body["errors"]] == ["limit"]


def test_a_program_key_cannot_list_the_platforms_disputes(disputes):
    for role in ("fraud", "admin", "viewer", "integration"):
        answer = listed(disputes.a.keys[role])
        assert answer.status == 403, (role, answer)


def test_a_page_reads_a_page_of_three_hundred_disputes(aws, capsys):
    """On the DynamoDB adapter (moto): 300 open disputes in two programs, a third with a verdict;
    a page of 25 reads about a page from each partition of the index, the next page the same (the
    programs' names beside it are one more query)."""
    deps = replace(runtime.dependencies())
    times = {n: DISPUTED - timedelta(minutes=(n * 37) % 150) for n in range(150)}
    programs = {make_tenant(aws.repository, name).program_id: name[-1] for name in ("Program P", "Program Q")}
    for program, prefix in programs.items():
        open_and_dispute(aws.repository, program, prefix, times)
        for n in range(0, 150, 3):
            case = aws.repository.get_case(program, f"{prefix}{n:04}")
            aws.repository.apply(verdict_step(case, "decline", "", "security", DISPUTED))

    def reads(cursor: str | None) -> tuple[int, int, Any]:
        with DynamoCalls() as calls:
            page = service.open_disputes(deps, 25, cursor)
        index = [read for _, params, read, _ in calls.calls if params.get("IndexName") == "disputes"]
        return sum(index), len(index), page

    first_read, first_queries, first = reads(None)
    next_read, next_queries, second = reads(first.next_cursor)
    with capsys.disabled():
        print(
            f"\n300 open disputes, a page of 25: items read {first_read} ({first_queries} queries), "
            f"next page {next_read} ({next_queries} queries)"
        )

    assert first_read <= 2 * 26 and first_queries == 2  # one page of each partition
    assert next_read <= 2 * 26 and next_queries == 2
    oldest = sorted(
        (times[n], program, f"{prefix}{n:04}") for program, prefix in programs.items() for n in times
    )
    assert [(i.program_id, i.id) for i in first.items + second.items] == [(p, c) for _, p, c in oldest[:50]]
