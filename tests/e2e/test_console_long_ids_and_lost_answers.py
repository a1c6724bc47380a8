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
from playwright.sync_api import Locator, Page, Route, expect

from tests.e2e.conftest import LocalSystem
from tests.e2e.console.backend import Backend, at, ip, mailbox, unique
from tests.e2e.console.steps import LAPTOP, close_case, screenshot, sign_in_as, tag

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
        close_case(page, drawer)  # back on the list: the next address is not undone by it

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


# ---- F3 -------------------------------------------------------------------------------------------


def approving(page: Page, console: LocalSystem, backend: Backend) -> tuple[Any, Locator]:
    partner = backend.flagged_partner(f"Lost Answer {tag()} Ltd", rewards=("25.00",))
    sign_in_as(page, console, "fraud", f"rewards?status=on_hold&partner_id={partner.partner_id}")
    approve = page.get_by_role("button", name=f"Approve reward {partner.reward_ids[0]}")
    expect(approve).to_be_visible()
    return partner, approve


def test_an_approval_whose_answer_is_lost_is_said_to_be_made(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    # Given a held reward whose approval the server will carry out, its answer lost on the way back
    partner, approve = approving(page, console, backend)
    reward_id = partner.reward_ids[0]
    page.route("**/v1/rewards/*/override", lose_the_answer)

    # When the analyst approves it
    approve.click()

    # Then the console, reading the reward again, says it was approved (it was: the API says so) ...
    expect(page.get_by_text(f"Reward {reward_id} approved.")).to_be_visible()
    assert backend.reward_status(partner.partner_id, reward_id) == "approved"
    # ... not "Network error", and no Approve is left to click into "changed meanwhile"
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(page.get_by_role("button", name=f"Approve reward {reward_id}")).to_have_count(0)
    screenshot(page, "31-approval-answer-lost", full_page=False)


def test_an_approval_that_never_reached_the_api_is_said_not_to_be_made(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    # Given a held reward, and a network that drops the approval before the API has it
    partner, approve = approving(page, console, backend)
    reward_id = partner.reward_ids[0]
    page.route("**/v1/rewards/*/override", lambda route: route.abort())

    # When the analyst approves it
    approve.click()

    # Then the console says it was not approved, the reward still on hold with its Approve
    expect(page.get_by_role("alert")).to_contain_text(f"Reward {reward_id} was not approved")
    expect(page.get_by_role("alert")).to_contain_text("still on hold")
    assert backend.reward_status(partner.partner_id, reward_id) == "on_hold"
    expect(page.get_by_role("button", name=f"Approve reward {reward_id}")).to_be_visible()


def disputed(backend: Backend) -> tuple[str, str]:
    """A partner's case disputed by the program team: (the case's id, the partner's name)."""
    partner = backend.flagged_partner(f"Lost Verdict {tag()} Ltd", rewards=("15.00",))
    case_id = partner.case["id"]
    dispute = backend.url(f"/v1/cases/{case_id}/dispute")
    answer = backend.fraud.post(dispute, json={"reason": "Ours."}, timeout=10)
    assert answer.status_code == 200, answer.text
    return case_id, partner.name


def disputes_page_of(backend: Backend, case_id: str) -> str:
    """The console's route to the page of open disputes (100 a page) that lists `case_id`."""
    params = {"status": "open", "limit": "100"}
    while True:
        answer = backend.security.get(backend.url("/v1/disputes"), params=params, timeout=10)
        assert answer.status_code == 200, answer.text
        if any(item["id"] == case_id for item in answer.json()["items"]):
            cursor = params.get("cursor")
            return f"disputes?limit=100&cursor={cursor}" if cursor else "disputes?limit=100"
        assert answer.json()["next_cursor"], f"{case_id} is not an open dispute"
        params = {**params, "cursor": answer.json()["next_cursor"]}


def open_verdicts(backend: Backend, case_id: str) -> list[tuple[Any, Any]]:
    params = {"status": "open", "limit": "100"}
    found: list[tuple[Any, Any]] = []
    while True:
        answer = backend.security.get(backend.url("/v1/disputes"), params=params, timeout=10).json()
        found += [(d.get("verdict"), d.get("verdict_note")) for d in answer["items"] if d["id"] == case_id]
        if not answer["next_cursor"]:
            return found
        params = {**params, "cursor": answer["next_cursor"]}


def test_a_verdict_whose_answer_is_lost_is_said_to_be_recorded(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    # Given a disputed case, and a verdict the server will record, its answer lost on the way back
    case_id, name = disputed(backend)
    sign_in_as(page, console, "security", disputes_page_of(backend, case_id))
    card = page.get_by_role("article", name=name)
    page.route("**/v1/disputes/*/verdict", lose_the_answer)

    # When the security team approves the dispute with a note
    card.get_by_label("Note").fill("Partner sent invoices")
    card.get_by_role("button", name="Approve dispute").click()

    # Then the console, reading the disputes again, says the verdict was recorded (it was) ...
    expect(page.get_by_text(f"Verdict recorded for {name}: approved.", exact=False)).to_be_visible()
    assert open_verdicts(backend, case_id) == [("approve", "Partner sent invoices")]
    # ... and the card shows it, its note box emptied, no "Network error" left to retry on
    expect(card).to_contain_text("Approved, applied at the next dispute cycle")
    expect(card.get_by_label("Note")).to_have_value("")
    expect(page.get_by_role("alert")).to_have_count(0)
    screenshot(page, "31-verdict-answer-lost", full_page=False)


def test_a_verdict_that_never_reached_the_api_is_said_not_to_be_recorded(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    # Given a disputed case, and a network that drops the verdict before the API has it
    case_id, name = disputed(backend)
    sign_in_as(page, console, "security", disputes_page_of(backend, case_id))
    card = page.get_by_role("article", name=name)
    page.route("**/v1/disputes/*/verdict", lambda route: route.abort())

    # When the security team declines the dispute with a note
    card.get_by_label("Note").fill("No invoices")
    card.get_by_role("button", name="Decline dispute").click()

    # Then the console says no verdict was recorded; the card is as it is, the note still typed
    expect(page.get_by_role("alert")).to_contain_text(f"No verdict was recorded for {name}")
    assert open_verdicts(backend, case_id) == [(None, None)]
    expect(card.get_by_label("Note")).to_have_value("No invoices")
    expect(card).not_to_contain_text("applied at the next dispute cycle")


# ---- F4 -------------------------------------------------------------------------------------------


def test_a_long_name_leaves_a_phones_drawer_room_for_the_case_and_is_read_whole(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    # Given a partner whose name is 200 characters, most of it one unbroken word
    name = f"Bartholomew {tag()} " + "Q" * 176 + " End"
    assert len(name) == 200
    partner = backend.flagged_partner(name)

    # When the analyst opens its case on a 360 x 740 phone and scrolls down the drawer
    page.set_viewport_size(NARROW)
    sign_in_as(page, console, "fraud", f"active/{partner.case['id']}")
    drawer = page.get_by_role("dialog", name=name)
    expect(drawer.get_by_role("heading", name="Held rewards")).to_be_visible()
    drawer.evaluate("d => { d.scrollTop = 600 }")
    page.wait_for_timeout(200)
    screenshot(page, "31-phone-drawer-long-name", full_page=False)

    # Then its pinned header takes a fraction of the screen (it took 447 of 740 px), Close in it
    header = drawer.locator(".drawer-top").bounding_box()
    assert header is not None and header["height"] <= 200, f"the pinned header is {header} on a 740 px screen"
    expect(drawer.get_by_role("button", name="Close")).to_be_in_viewport()

    # And the name is there whole, in the case's details
    named = drawer.locator(".details > div").filter(has=page.get_by_role("term").filter(has_text="Name"))
    expect(named.get_by_role("definition")).to_have_text(name)
