"""A customer view within what a function can answer (SPEC 3.4): a history too large for one answer
(daily communications with large payloads, weeks of them) is shown by its newest entries, said so,
and paged in full by `GET .../history`. Past 6,291,456 bytes Lambda returns no answer at all: API
Gateway answers 502, and a status change by hand, written, is answered as failed. The real loyalty
handler on moto; the history written through the store, as the workflows write it."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from functions.loyalty.service import VIEW_HISTORY_MOST
from functions.shared.storage.port_loyalty import CustomerChange, HistoryEntry
from tests.integration.test_loyalty_support import NOW, Loyalty, clock_fixture  # noqa: F401 (a fixture)
from tests.support import call, proxy_event

LAMBDA_ANSWER_BYTES = 6_291_456  # a synchronous invocation's answer, at most
# a workflow's largest communication payload the API takes (twenty values of 256 characters)
PAYLOAD = {f"k{n:02d}": "x" * 256 for n in range(20)}


@pytest.fixture
def loyalty(tenant, clock):
    return Loyalty(tenant.keys)


# the same in characters outside the basic plane, which an answer escapes the most (12 bytes each)
WIDEST = {f"{n:02d}" + "\U0001d11e" * 62: "\U0001d11e" * 256 for n in range(20)}


def communications(
    aws, program_id: str, customer_id: str, count: int, per_write: int = 25, payload: dict = PAYLOAD
) -> None:
    """`count` communications, 25 a write, as workflows firing every day would leave them."""
    for start in range(0, count, per_write):
        customer = aws.repository.get_loyalty_customer(program_id, customer_id)
        entries = tuple(
            HistoryEntry(
                NOW + timedelta(minutes=n),
                "communication",
                f"workflow:daily-{n % 5}",
                event=f"daily.{n}",
                payload={**payload, "n": n},
            )
            for n in range(start, min(start + per_write, count))
        )
        change = CustomerChange(customer.version, customer, history=entries)
        assert aws.repository.change_loyalty_customer(change)


def every_entry(loyalty: Loyalty, customer_id: str, sizes: list[tuple[int, int]] | None = None) -> list[dict]:
    """The history newest first, through `GET .../history` 100 a page; `sizes`: each page's
    entries and answer size, appended."""
    found: list[dict] = []
    query = {"limit": "100"}
    while True:
        path = f"/v1/loyalty/customers/{customer_id}/history"
        page = call("loyalty", proxy_event("GET", path, None, loyalty.keys["fraud"], query=query))
        assert page.status == 200, page
        found += page.body["items"]
        if sizes is not None:
            sizes.append((len(page.body["items"]), len(json.dumps(page.raw))))
        if not page.body["next_cursor"]:
            return found
        query = {"limit": "100", "cursor": page.body["next_cursor"]}


def test_a_history_too_large_for_one_answer_is_shown_by_its_newest_entries_and_paged_in_full(
    loyalty, aws, tenant
):
    assert loyalty.earn("loyal", 1).status == 200
    communications(aws, tenant.program_id, "loyal", 1_250)  # about 6.9 MB of history as JSON

    view = loyalty.customer("loyal")

    assert view.status == 200, view
    assert len(json.dumps(view.raw)) <= LAMBDA_ANSWER_BYTES
    shown = view.body["history"]
    assert view.body["history_complete"] is False
    assert 500 < len(shown) < 1_250  # as many as fit
    every = every_entry(loyalty, "loyal")
    assert len(every) == 1_250
    assert shown == every[: len(shown)][::-1]  # the newest, oldest first
    assert shown[-1]["payload"]["n"] == 1_249


def test_a_status_change_by_hand_on_such_a_customer_is_answered_within_one_answer(loyalty, aws, tenant):
    assert loyalty.earn("loyal", 1).status == 200
    communications(aws, tenant.program_id, "loyal", 1_250)

    suspended = loyalty.status("loyal", "suspend", {"note": "checking"})

    assert suspended.status == 200, suspended
    assert len(json.dumps(suspended.raw)) <= LAMBDA_ANSWER_BYTES
    assert suspended.body["status"] == "suspended"
    assert suspended.body["history_complete"] is False
    assert suspended.body["history"][-1]["action"] == "suspended"


def test_a_history_that_fits_is_shown_whole(loyalty, aws, tenant):
    assert loyalty.earn("loyal", 1).status == 200
    communications(aws, tenant.program_id, "loyal", 30)
    assert loyalty.status("loyal", "suspend").status == 200

    view = loyalty.customer("loyal")

    assert view.body["history_complete"] is True
    assert view.body["history"] == every_entry(loyalty, "loyal")[::-1]
    assert [entry["action"] for entry in view.body["history"]] == ["communication"] * 30 + ["suspended"]


def test_a_page_of_history_too_large_for_one_answer_ends_sooner_and_the_next_goes_on(loyalty, aws, tenant):
    assert loyalty.earn("loyal", 1).status == 200
    communications(aws, tenant.program_id, "loyal", 150, payload=WIDEST)  # some 13 MB answered

    pages: list[tuple[int, int]] = []
    every = every_entry(loyalty, "loyal", pages)

    assert all(size <= LAMBDA_ANSWER_BYTES for _, size in pages), pages
    assert pages[0][0] < 100  # ended sooner than asked
    assert [entry["payload"]["n"] for entry in every] == list(range(149, -1, -1))  # each once, newest first


def test_a_view_shows_at_most_its_newest_entries_by_count_too(loyalty, aws, tenant):
    assert loyalty.earn("loyal", 1).status == 200
    communications(aws, tenant.program_id, "loyal", VIEW_HISTORY_MOST + 1, per_write=50, payload={})

    view = loyalty.customer("loyal")

    assert view.body["history_complete"] is False
    assert [entry["payload"]["n"] for entry in view.body["history"]] == list(range(1, VIEW_HISTORY_MOST + 1))
