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
from tests.e2e.console.backend import Backend, at, ip, mailbox, unique
from tests.e2e.console.steps import LAPTOP, screenshot, sign_in_as, tag

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


# ---- F2 -------------------------------------------------------------------------------------------


def test_long_ids_and_actors_wrap_so_every_table_fits_and_approve_stays_in_reach(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    # Given a flagged partner, its reward and its customer with ids of 128 characters ...
    email = f"{mailbox('long')}@example.com"
    backend.scored(backend.partnership(unique("p-orig"), unique("Long ids original"), email, minutes=-100))
    partner_id, reward_id, customer_id = long_id("p"), long_id("r"), long_id("c")
    name = f"Long Ids {tag()} Ltd"
    backend.scored(backend.partnership(partner_id, name, email.upper(), minutes=-90))
    event_id = unique("evt-tx")
    backend.send(
        {
            "id": event_id,
            "type": "transaction.created",
            "occurred_at": at(-80),
            "transaction": {"id": unique("tx"), "amount": "100.00", "currency": "EUR"},
            "partner_id": partner_id,
            "customer": {"id": customer_id, "email": f"{mailbox('buyer')}@example.org", "ip": ip()},
            "reward": {"id": reward_id, "amount": "10.00", "currency": "EUR"},
        }
    )
    backend.scored(event_id)
    case = backend.wait_for_case(name, held=1)
    # ... a key whose actor is a long unbroken name, who suspends a loyalty customer of a long id
    actor = "نور " + "x" * 150
    made = backend.create_key("fraud", actor)
    member = long_id("m")
    backend.earn(member, 100)
    suspended = backend.fraud.post(
        backend.url(f"/v1/loyalty/customers/{member}/suspend"),
        json={},
        headers={"Authorization": f"Bearer {made['key']}"},
        timeout=10,
    )
    assert suspended.status_code == 200, suspended.text
    # ... and a workflow of a long id (switched off: it runs for no one)
    workflow = long_id("w")
    workflow_path = backend.url(f"/v1/loyalty/workflows/{workflow}")
    body = {
        "trigger": {"event": "points.earned"},
        "filter": lifetime_earned_over(999_999_999),
        "actions": [{"type": "suspend"}],
        "enabled": False,
    }
    assert backend.fraud.put(workflow_path, json=body, timeout=10).status_code in (200, 201)
    try:
        # When the analyst reviews the partner's rewards on a laptop
        sign_in_as(page, console, "fraud", f"rewards?status=on_hold&partner_id={partner_id}")
        approve = page.get_by_role("button", name=f"Approve reward {reward_id}")
        expect(approve).to_be_visible()
        screenshot(page, "31-rewards-long-ids-1280", full_page=False)

        # Then the table fits the screen, the row's Approve on it (it was at x = 4,300 px)
        tables_fit(page)
        expect(approve).to_be_in_viewport()

        # And so do the case drawer's Held rewards
        page.goto(f"{console.api_url}/#/active/{case['id']}")
        drawer = page.get_by_role("dialog", name=name)
        held = drawer.get_by_role("region", name="Held rewards")
        held.scroll_into_view_if_needed()
        expect(held.get_by_role("button", name=f"Approve reward {reward_id}")).to_be_in_viewport()
        screenshot(page, "31-drawer-long-ids-1280", full_page=False)
        tables_fit(page)
        drawer.get_by_role("button", name="Close").click()

        # And the customer's History (its "By"), and the Workflows list
        page.goto(f"{console.api_url}/#/customers/{member}")
        expect(page.get_by_role("region", name="History").last).to_contain_text("x" * 20)
        tables_fit(page)
        screenshot(page, "31-history-long-actor-1280")
        page.goto(f"{console.api_url}/#/workflows")
        expect(page.get_by_role("row").filter(has_text=workflow[:20])).to_have_count(1)
        tables_fit(page)
        screenshot(page, "31-workflows-long-id-1280")

        # On a phone, a long id is wrapped in a column of its own width, not one 4,000 px wide
        page.set_viewport_size(NARROW)
        page.goto(f"{console.api_url}/#/rewards?status=on_hold&partner_id={partner_id}")
        cell = page.get_by_role("cell", name=reward_id, exact=True)
        expect(cell).to_be_visible()
        box = cell.bounding_box()
        assert box is not None and box["width"] <= 200, f"the id's column is {box} wide at 360 px"
        screenshot(page, "31-rewards-long-ids-360")

        # And an admin's API keys list fits a laptop, each Revoke on the screen
        page.set_viewport_size(LAPTOP)
        page.get_by_role("button", name="Sign out").click()
        sign_in_as(page, console, "admin", "keys")
        row = page.get_by_role("row").filter(has_text=actor)
        expect(row).to_have_count(1)
        tables_fit(page)
        expect(row.get_by_role("button", name="Revoke")).to_be_in_viewport()
        screenshot(page, "31-keys-long-actor-1280", full_page=False)
    finally:
        backend.fraud.delete(workflow_path, timeout=10)
        backend.admin.delete(backend.url(f"/v1/keys/{made['key_id']}"), timeout=10)
