"""A loyalty customer's history, newest first, a page at a time (the Loyalty customers page),
through the real loyalty handler against moto, and the same contract on the plain store."""

from __future__ import annotations

import pytest

from functions.shared.paging import encode_cursor
from tests.integration.test_loyalty_support import Loyalty, clock_fixture  # noqa: F401 (fixtures)
from tests.support import call, proxy_event


@pytest.fixture
def loyalty(tenant, clock) -> Loyalty:
    return Loyalty(tenant.keys)


def history(loyalty: Loyalty, customer: str, role: str = "fraud", **query: str):
    return call(
        "loyalty",
        proxy_event(
            "GET", f"/v1/loyalty/customers/{customer}/history", None, loyalty.keys[role], query=query or None
        ),
    )


def all_pages(loyalty: Loyalty, customer: str, limit: int) -> list[list[str]]:
    pages, cursor = [], None
    for _ in range(20):
        answer = history(loyalty, customer, limit=str(limit), **({"cursor": cursor} if cursor else {}))
        assert answer.status == 200, answer
        pages.append([entry["note"] for entry in answer.body["items"]])
        cursor = answer.body["next_cursor"]
        if cursor is None:
            return pages
    raise AssertionError("paging never ended")


def test_the_history_pages_newest_first_and_a_new_entry_shifts_nothing(loyalty):
    loyalty.earn("m1", 10)
    for n in range(7):
        change = "suspend" if n % 2 == 0 else "unsuspend"
        assert loyalty.status("m1", change, {"note": f"n{n}"}).status == 200

    assert all_pages(loyalty, "m1", 3) == [["n6", "n5", "n4"], ["n3", "n2", "n1"], ["n0"]]
    oldest_first = [entry["note"] for entry in loyalty.customer("m1").body["history"]]
    assert oldest_first == [f"n{n}" for n in range(7)]

    first = history(loyalty, "m1", limit="2").body
    assert loyalty.status("m1", "unsuspend", {"note": "later"}).status == 200
    second = history(loyalty, "m1", limit="2", cursor=first["next_cursor"]).body
    assert [e["note"] for e in second["items"]] == ["n4", "n3"]  # no repeat, no gap
    assert history(loyalty, "m1", limit="1").body["items"][0]["note"] == "later"


def test_a_customer_with_no_history_has_an_empty_page_and_an_unknown_one_is_404(loyalty, other_tenant):
    loyalty.earn("m2", 5)
    assert history(loyalty, "m2").body == {"items": [], "next_cursor": None}
    assert history(loyalty, "nobody").status == 404
    assert history(Loyalty(other_tenant.keys), "m2").status == 404  # another program's customer


def test_a_cursor_of_the_same_customer_id_in_another_program_is_422(loyalty, other_tenant):
    theirs = Loyalty(other_tenant.keys)
    for program in (loyalty, theirs):
        program.earn("m1", 10)
        program.status("m1", "suspend", {"note": "a"})
        program.status("m1", "unsuspend", {"note": "b"})
    cursor = history(theirs, "m1", limit="1").body["next_cursor"]
    assert cursor

    answer = history(loyalty, "m1", limit="1", cursor=cursor)

    assert answer.status == 422, answer
    assert [e["field"] for e in answer.body["errors"]] == ["query.cursor"]


def test_a_forged_or_borrowed_cursor_and_a_bad_limit_are_422(loyalty, tenant):
    loyalty.earn("m1", 10)
    loyalty.earn("m3", 10)
    for customer in ("m1", "m3"):
        loyalty.status(customer, "suspend", {"note": "a"})
        loyalty.status(customer, "unsuspend", {"note": "b"})
    cursor = history(loyalty, "m1", limit="1").body["next_cursor"]

    assert history(loyalty, "m3", limit="1", cursor=cursor).status == 422  # another customer's
    assert history(loyalty, "m1", cursor="not-a-cursor").status == 422
    query = {"program_id": tenant.program_id, "customer_id": "m1"}
    for position in ((10**1100, 0), (-1, 0), (3, 1000), (3, -1)):  # no entry's; the first no key
        forged = encode_cursor(position, query)
        assert history(loyalty, "m1", cursor=forged).status == 422, position
    assert history(loyalty, "m1", cursor=encode_cursor((10**12 - 1, 999), query)).status == 200
    assert history(loyalty, "m1", limit="0").status == 422
    assert history(loyalty, "m1", limit="101").status == 422
    assert history(loyalty, "m1", role="viewer").status == 403
    assert history(loyalty, "m1", role="integration").status == 403
