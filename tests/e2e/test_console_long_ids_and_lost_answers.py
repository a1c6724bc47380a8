"""What a tester of the web console found (thirty-first session), in a real Chromium: a communication's
long integer rounded in a customer's History; 128-character ids and long actors widening tables past
the screen (every Approve out of reach); an Approve or a verdict applied by the server whose answer
was lost, said to have failed, then refused as "changed meanwhile" on the second click; and a long
name filling a phone's screen with the drawer's pinned title."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

from tests.e2e.conftest import LocalSystem
from tests.e2e.console.backend import Backend, unique
from tests.e2e.console.steps import screenshot, sign_in_as

pytestmark = pytest.mark.e2e
pytest_plugins = ["tests.e2e.console.fixtures"]  # browser, page, console

# past 2^53: a JavaScript number reads it as 12345678901234567000
ORDER_REFERENCE = 12345678901234567890
# as the console's phone layouts are checked elsewhere (390) and as the tester's phone was
NARROW = {"width": 360, "height": 740}

TABLE_WIDTHS = """() => [...document.querySelectorAll('.table-scroll')]
    .map(e => ({label: e.getAttribute('aria-label'), scroll: e.scrollWidth, client: e.clientWidth}))"""


def long_id(prefix: str) -> str:
    """An identifier of 128 characters without a break (SPEC 3.1's longest), of its own."""
    stem = f"{prefix}-{uuid.uuid4().hex[:8]}-"
    return stem + "X" * (128 - len(stem))


def lifetime_earned_over(threshold: int) -> dict[str, Any]:
    """A workflow's filter: the earning customer's lifetime points above `threshold`."""
    return {"aggregation": "earned", "date_range": "lifetime", "customer": "current", "threshold": threshold}


def history_of(backend: Backend, customer: str) -> list[dict[str, Any]]:
    answer = backend.fraud.get(backend.url(f"/v1/loyalty/customers/{customer}/history"), timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


def lose_the_answer(route: Route) -> None:
    """The request reaches the server and is carried out; its answer never comes back."""
    route.fetch()
    route.abort()


def tables_fit(page: Page) -> None:
    widths = page.evaluate(TABLE_WIDTHS)
    assert widths, "no table shown"
    wider = [w for w in widths if w["scroll"] > w["client"]]
    assert not wider, f"tables wider than their box: {wider}"


# ---- F1 -------------------------------------------------------------------------------------------


@pytest.fixture
def big_order_workflow(backend: Backend) -> Iterator[str]:
    """A workflow whose communication carries a long integer, for one customer's earning only (a
    threshold no other test's customer crosses), deleted afterwards whatever happens."""
    workflow = unique("big-order")
    path = backend.url(f"/v1/loyalty/workflows/{workflow}")
    body = {
        "trigger": {"event": "points.earned"},
        "filter": lifetime_earned_over(987_654_320),
        "actions": [
            {"type": "communication", "event": "loyalty.big_order", "payload": {"order_ref": ORDER_REFERENCE}}
        ],
        "enabled": True,
    }
    made = backend.fraud.put(path, json=body, timeout=10)
    assert made.status_code in (200, 201), made.text
    try:
        yield workflow
    finally:
        backend.fraud.delete(path, timeout=10)


def test_a_communications_long_integer_is_shown_digit_for_digit_in_the_history(
    page: Page, console: LocalSystem, backend: Backend, big_order_workflow: str
) -> None:
    # Given a customer whose earning ran a workflow that sent a communication with a long integer
    customer = unique("big-spender")
    backend.earn(customer, 987_654_321)
    deadline = time.monotonic() + 20
    while not [e for e in history_of(backend, customer) if e.get("event") == "loyalty.big_order"]:
        assert time.monotonic() < deadline, history_of(backend, customer)
        time.sleep(0.3)

    # When the loyalty manager looks the customer up
    sign_in_as(page, console, "fraud", f"customers/{customer}")
    history = page.get_by_role("region", name="History").last
    row = history.get_by_role("row").filter(has_text="loyalty.big_order")
    expect(row).to_have_count(1)
    screenshot(page, "31-communication-payload-exact")

    # Then its payload is the API's, digit for digit, not rounded to 12345678901234567000
    expect(row).to_contain_text(f'{{"order_ref":{ORDER_REFERENCE}}}')
