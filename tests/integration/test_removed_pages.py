"""`GET /v1/removed-partners` paged from the removed view's partition of `cases_by_view` (issue 14):
newest removal first, ties by case id, every page past the cursor's position, on the DynamoDB
adapter (moto) and the plain store through the real handler; a cursor of another listing or
program refused; a page reads a page, whatever the program has removed."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from functions.cases import service
from functions.shared import runtime
from functions.shared.domain.model import Case, Reason
from functions.shared.domain.writes import MAX_STEP_ITEMS, PutCase, Step, UpdateCase
from functions.shared.paging import encode_cursor
from functions.shared.storage.memory import InMemoryRepository
from tests.conftest import make_tenant
from tests.integration.test_loyalty_support import DynamoCalls
from tests.support import call, proxy_event

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)
REMOVED = datetime(2026, 11, 20, 12, tzinfo=UTC)


def a_case(program_id: str, n: int) -> Case:
    return Case(
        program_id,
        f"c{n:04}",
        "partner",
        f"p{n}",
        f"Partner {n}",
        [Reason("velocity", "x", 1, "a")],
        "open",
        T0 + timedelta(minutes=n),  # flag order is case order
        f"e{n}",
    )


def removal(program_id: str, n: int, at: datetime) -> UpdateCase:
    """As `removal.removal_plan` writes it: the case's status, time and remover."""
    changes = {"status": "removed", "removed_at": at, "removed_by": f"user {n}", "block_reapply": False}
    return UpdateCase(program_id, f"c{n:04}", expect=("open",), changes=changes)


def open_and_remove(store, program_id: str, removed: dict[int, datetime], kept_open: int = 0) -> None:
    """Cases 0..: those in `removed` removed at their time, `kept_open` more left open."""
    count = len(removed) + kept_open
    cases = [PutCase(a_case(program_id, n)) for n in range(count)]
    updates = [removal(program_id, n, at) for n, at in removed.items()]
    for writes in (cases, updates):
        for start in range(0, len(writes), MAX_STEP_ITEMS):
            store.apply(Step(writes[start : start + MAX_STEP_ITEMS]))


# removal order is not flag order; c0000/c0005 and c0001/c0006 are removed at one instant (ties: by id)
REMOVALS = {n: REMOVED - timedelta(hours=(n * 3) % 5) for n in range(7)}
NEWEST_FIRST = [f"c{n:04}" for n in sorted(REMOVALS, key=lambda n: (REMOVALS[n], f"c{n:04}"), reverse=True)]


@pytest.fixture(params=["dynamodb", "memory"])
def listing(request, aws, monkeypatch):
    """Program A with REMOVALS removed (and 3 cases open), program B with 2 removed, on either
    store, served by the real cases handler."""
    store = aws.repository
    if request.param == "memory":
        store = InMemoryRepository()
        monkeypatch.setattr(runtime.dependencies(), "repository", store)
    a, b = make_tenant(store, "Program A"), make_tenant(store, "Program B")
    open_and_remove(store, a.program_id, REMOVALS, kept_open=3)
    open_and_remove(store, b.program_id, {0: REMOVED, 1: REMOVED})
    return SimpleNamespace(store=store, a=a, b=b)


def removed(key: str, **query: str):
    return call("cases", proxy_event("GET", "/v1/removed-partners", None, key, query=query or None))


def every_page(key: str, **query: str) -> tuple[list[str], list[int]]:
    """The case ids of every page, following `next_cursor`, and each page's size."""
    found: list[str] = []
    sizes: list[int] = []
    cursor = query.pop("cursor", None)
    while True:
        answer = removed(key, **{**query, **({"cursor": cursor} if cursor else {})})
        assert answer.status == 200, answer
        found += [item["case_id"] for item in answer.body["items"]]
        sizes.append(len(answer.body["items"]))
        cursor = answer.body["next_cursor"]
        if cursor is None:
            return found, sizes
        assert len(sizes) <= 20, "the cursors never end"


def test_the_ties_and_orders_of_the_fixture_are_what_the_paging_tests_need():
    assert REMOVALS[0] == REMOVALS[5] and sorted(NEWEST_FIRST, reverse=True) != NEWEST_FIRST


def test_a_small_program_gets_every_removed_partner_on_one_page(listing):
    answer = removed(listing.a.keys["fraud"])

    assert answer.status == 200, answer
    assert [item["case_id"] for item in answer.body["items"]] == NEWEST_FIRST
    assert answer.body["next_cursor"] is None
    newest = int(NEWEST_FIRST[0].removeprefix("c"))
    assert answer.body["items"][0]["removed_by"] == f"user {newest}"
    assert answer.body["items"][0]["removed_at"] == REMOVALS[newest].isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize("limit", [1, 2, 3, 6, 7, 100])
def test_pages_follow_the_removal_order_without_gaps_or_repeats(listing, limit):
    found, sizes = every_page(listing.a.keys["fraud"], limit=str(limit))

    assert found == NEWEST_FIRST  # every one, once, in order
    assert all(size == limit for size in sizes[:-1]) and 0 < sizes[-1] <= limit
    assert len(sizes) == -(-len(NEWEST_FIRST) // limit)  # no empty last page


def test_another_program_sees_only_its_own(listing):
    found, _ = every_page(listing.b.keys["fraud"], limit="1")

    assert found == ["c0001", "c0000"]  # removed at the same instant: by case id


def test_a_removal_between_pages_neither_repeats_nor_skips_what_was_listed(listing):
    key = listing.a.keys["fraud"]
    first = removed(key, limit="3")
    newest = REMOVED + timedelta(days=1)
    listing.store.apply(Step([removal(listing.a.program_id, 7, newest)]))  # one of the open cases

    rest, _ = every_page(key, limit="3", cursor=first.body["next_cursor"])

    assert [i["case_id"] for i in first.body["items"]] + rest == NEWEST_FIRST  # the newer one: page 1
    assert removed(key, limit="1").body["items"][0]["case_id"] == "c0007"


def _forged(after: Any, query: dict[str, Any]) -> str:
    raw = json.dumps({"after": after, "query": query}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_a_cursor_altered_or_of_another_listing_or_program_is_422_and_changes_nothing(listing):
    key = listing.a.keys["fraud"]
    before = every_page(key, limit="2")
    cursor = removed(key, limit="2").body["next_cursor"]
    query = {"view": "removed", "program_id": listing.a.program_id}
    active = call("cases", proxy_event("GET", "/v1/cases", None, key, query={"limit": "1"}))
    cases_cursor = active.body["next_cursor"]  # the Active tab's, of the same program
    other_programs = removed(listing.b.keys["fraud"], limit="1").body["next_cursor"]
    assert cursor and cases_cursor and other_programs
    at = "2026-11-20T12:00:00+00:00"

    for bad in (
        cursor[:-3],  # cut short
        cursor + "x",
        "not-a-cursor",
        _forged([at], query),  # no case id
        _forged([5, "c0001"], query),  # no time
        _forged(["2026-11-20T12:00:00", "c0001"], query),  # no time zone
        _forged(["yesterday", "c0001"], query),
        _forged([at, "c0001"], {**query, "view": "active"}),
        _forged([at, "c0001"], {"view": "removed"}),  # of no program
        cases_cursor,
        encode_cursor((at, "r1"), {"partner_id": "", "customer_id": "", "status": ""}),  # /v1/rewards'
        other_programs,
    ):
        answer = removed(key, limit="2", cursor=bad)
        assert answer.status == 422, (bad, answer)
        assert answer.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in answer.body["errors"]] == ["query.cursor"], answer.body
    # the good cursor still pages its own listing, and nothing changed
    assert [i["case_id"] for i in removed(key, limit="2", cursor=cursor).body["items"]] == NEWEST_FIRST[2:4]
    assert every_page(key, limit="2") == before


@pytest.mark.parametrize(
    ("limit", "status"), [("0", 422), ("101", 422), ("-1", 422), ("x", 422), ("1", 200), ("100", 200)]
)
def test_limit_is_bounded_as_for_cases(listing, limit, status):
    answer = removed(listing.a.keys["fraud"], limit=limit)
    cases = call(
        "cases", proxy_event("GET", "/v1/cases", None, listing.a.keys["fraud"], query={"limit": limit})
    )

    assert answer.status == status == cases.status, answer
    if status == 422:
        assert [e["field"].removeprefix("query.") for e in answer.body["errors"]] == ["limit"]


def test_a_page_reads_a_page_of_two_hundred_removed_partners(aws, capsys):
    """On the DynamoDB adapter (moto): 200 removed cases (and 200 open ones); a page of 25 reads
    about 26 items in one query, the next page the same, past the cursor. `-s` prints the figures."""
    deps = replace(runtime.dependencies())
    program = "prg-removed-costs"
    removals = {n: REMOVED - timedelta(minutes=(n * 37) % 200) for n in range(200)}
    open_and_remove(aws.repository, program, removals, kept_open=200)

    def reads(cursor: str | None) -> tuple[int, int, Any]:
        with DynamoCalls() as calls:
            page = service.removed_partners(deps, program, 25, cursor)
        return sum(read for _, _, read, _ in calls.calls), len(calls.calls), page

    first_read, first_queries, first = reads(None)
    next_read, next_queries, second = reads(first.next_cursor)
    with capsys.disabled():
        print(
            f"\n200 removed partners, a page of 25: items read {first_read} ({first_queries} query), "
            f"next page {next_read} ({next_queries} query)"
        )

    assert first_read <= 26 and first_queries == 1
    assert next_read <= 26 and next_queries == 1
    newest = sorted(removals, key=lambda n: (removals[n], n), reverse=True)
    assert [i.case_id for i in first.items + second.items] == [f"c{n:04}" for n in newest[:50]]


def test_a_throttled_page_is_503_to_retry_and_the_retry_gets_the_same_page(aws, monkeypatch):
    """DynamoDB refusing the page's index query (throttled): a 503 problem with Retry-After, the
    listing untouched; the client's retry, once DynamoDB answers, gets the page it asked for."""
    import botocore.client
    from botocore.exceptions import ClientError

    tenant = make_tenant(aws.repository, "Program T")
    open_and_remove(aws.repository, tenant.program_id, REMOVALS)
    key = tenant.keys["fraud"]
    cursor = removed(key, limit="2").body["next_cursor"]
    original = botocore.client.BaseClient._make_api_call
    refused: list[str] = []

    def throttled(client, operation, params):
        if operation == "Query" and params.get("IndexName") == "cases_by_view":
            refused.append(operation)
            error = {"Code": "ProvisionedThroughputExceededException", "Message": "injected"}
            raise ClientError({"Error": error}, operation)
        return original(client, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", throttled)
    answer = removed(key, limit="2", cursor=cursor)
    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", original)

    assert refused, "the page was not read from the index"
    assert answer.status == 503, answer
    assert answer.headers["content-type"] == "application/problem+json"
    assert int(answer.headers["retry-after"]) > 0
    again = removed(key, limit="2", cursor=cursor)
    assert [i["case_id"] for i in again.body["items"]] == NEWEST_FIRST[2:4]
