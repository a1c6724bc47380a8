"""A tester's walk through the console after the twenty-fifth session's API changes (the customer
view's 503 to retry, Unblock back to Suspended, query errors named `query.<name>`), in Chromium at
1280 and 390 pixels. Each test here failed on the code before its mend."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, Route, expect

from tests.e2e.conftest import LocalSystem
from tests.e2e.console.backend import Backend, unique
from tests.e2e.console.steps import LAPTOP, PHONE, screenshot, search, sign_in_as

pytestmark = pytest.mark.e2e
pytest_plugins = ["tests.e2e.console.fixtures"]  # browser, page, console

# what the API answers when a customer changes too fast to be read at one moment
# (functions/loyalty/service.py `_customer_view`, functions/shared/problems.py `answer_for`)
BUSY = (
    '{"type": "/problems/service-unavailable", "title": "Service Unavailable", "status": 503,'
    ' "detail": "a service this API depends on is unavailable for now: retry after a moment"}'
)


def busy(route: Route) -> None:
    route.fulfill(
        status=503, headers={"Content-Type": "application/problem+json", "Retry-After": "1"}, body=BUSY
    )


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["1280", "390"])
def test_a_customer_view_that_answers_503_with_retry_after_is_read_again(
    page: Page, console: LocalSystem, backend: Backend, viewport: dict[str, int]
) -> None:
    # Given a customer the API is too busy to show once (Retry-After: 1), then shows
    page.set_viewport_size(viewport)
    customer = unique("busy")
    backend.earn(customer, 300)
    answered: list[int] = []

    def once_busy(route: Route) -> None:
        if route.request.method == "GET" and not answered:
            answered.append(503)
            busy(route)
        else:
            route.continue_()

    sign_in_as(page, console, "fraud", "customers")
    page.route(f"**/v1/loyalty/customers/{customer}", once_busy)

    # When the loyalty manager looks the customer up
    page.get_by_label("Customer ID").fill(customer)
    page.get_by_role("button", name="Look up").click()

    # Then the console reads the customer again after the second the API asked for, without the
    # person having to guess that `Look up` is the way to retry (it showed the 503 and stopped)
    expect(page.get_by_role("heading", name=f"Customer {customer}")).to_be_visible(timeout=5000)
    assert answered == [503]
    screenshot(page, f"25-customer-read-again-{viewport['width']}")


def test_after_a_status_change_whose_re_read_answers_503_the_focus_is_not_dropped_to_the_page(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    # Given a customer shown, whose view the API is then too busy to read (a 503 to retry)
    customer = unique("busy")
    backend.earn(customer, 300)
    sign_in_as(page, console, "fraud", f"customers/{customer}")
    expect(page.get_by_role("heading", name=f"Customer {customer}")).to_be_visible()
    page.route(
        f"**/v1/loyalty/customers/{customer}",
        lambda route: busy(route) if route.request.method == "GET" else route.continue_(),
    )

    # When a keyboard user suspends the customer
    page.get_by_role("button", name="Suspend", exact=True).focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text(f"Customer {customer} suspended.")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("retry after a moment")
    page.wait_for_timeout(500)
    screenshot(page, "25-customer-503-after-suspend-1280")

    # Then the focus is still somewhere on the page (the message, a retry button), not on <body>:
    # the pressed button is gone with the card, and the next Tab starts from the top of the page
    focused = page.evaluate("document.activeElement && document.activeElement.tagName")
    inside_main = page.evaluate("!!document.activeElement.closest('main')")
    assert focused != "BODY" and inside_main, f"focus fell to {focused}"


def test_the_status_an_unblock_returns_to_is_shown_whole_on_a_phone(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    # Given a customer suspended, then blocked (a mule noticed while suspended)
    page.set_viewport_size(PHONE)
    customer = unique("mule")
    backend.earn(customer, 500)
    fraud = backend.fraud
    assert fraud.post(backend.url(f"/v1/loyalty/customers/{customer}/suspend"), json={}).ok
    assert fraud.post(backend.url(f"/v1/loyalty/customers/{customer}/block"), json={}).ok
    sign_in_as(page, console, "fraud", f"customers/{customer}")
    expect(page.get_by_role("heading", name=f"Customer {customer}")).to_be_visible()

    # When the loyalty manager unblocks it
    page.get_by_role("button", name="Unblock", exact=True).click()
    expect(page.get_by_text(f"Customer {customer} unblocked.")).to_be_visible()

    # Then it is Suspended again, with Unsuspend and Block to press (this held) ...
    status = page.locator("dd.status-suspended")
    expect(status).to_have_text("Suspended")
    expect(page.get_by_role("button", name="Unsuspend", exact=True)).to_be_enabled()
    expect(page.get_by_role("button", name="Block", exact=True)).to_be_enabled()
    expect(page.get_by_role("button", name="Suspend", exact=True)).to_be_disabled()
    expect(page.get_by_role("button", name="Unblock", exact=True)).to_be_disabled()
    path = screenshot(page, "25-unblocked-to-suspended-390")

    # ... and the word is on one line, not "Suspende" over "d"
    lines = status.evaluate(
        """dd => { const range = document.createRange(); range.selectNodeContents(dd);
                   return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size; }"""
    )
    assert lines == 1, f"the status word is broken over {lines} lines at 390 px ({path})"


def test_a_refused_search_or_filter_names_the_box_the_person_typed_in(
    page: Page, console: LocalSystem
) -> None:
    shown: dict[str, str] = {}

    # Given a fraud analyst who pastes a long text into Search partners (the API takes 200 characters)
    sign_in_as(page, console, "fraud", "active")
    search(page, "a" * 201)
    answered = page.locator(".results .problem, .results table, .results .state.empty")
    expect(answered).to_be_visible()
    alert = page.get_by_role("alert")
    shown["search"] = " ".join(alert.all_inner_texts())
    screenshot(page, "25-search-too-long-1280")

    # And one who pastes a long partner ID into Review rewards' filter (the API takes 128)
    page.set_viewport_size(PHONE)
    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Review rewards").click()
    page.get_by_label("Partner ID").fill("p" * 129)
    page.get_by_role("button", name="Filter").click()
    expect(answered).to_be_visible()
    shown["partner"] = " ".join(alert.all_inner_texts())
    screenshot(page, "25-partner-filter-too-long-390")

    # Then neither message names a parameter of the API's address (`query.q`, `query.partner_id`)
    # that appears nowhere on the page: they name the box, or the console keeps the text in bounds
    leaked = {where: text for where, text in shown.items() if "query." in text}
    assert not leaked, f"the console shows the API's parameter names: {leaked}"
