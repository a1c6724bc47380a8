"""What a fifth tester of the console found (forty-first session), in a real Chromium: a new campaign,
workflow or webhook named `.`, `..` or `summer/2026` answered "no route PUT /v1/loyalty/" (the
browser resolves such a path before sending it); a 429 told people to read a header they cannot
see; a 2xx answer that was not JSON (a network's sign-in page) shown as a JavaScript parse error;
and `limit=2.5` in a link refused by the API as not an integer. (Its removal from a stale drawer is
in `test_console_attacked.py`, the evidence on the security team's cards in
`test_console_disputes.py`.)"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, Route, expect

from tests.e2e.conftest import LocalSystem
from tests.e2e.console.backend import Backend
from tests.e2e.console.steps import screenshot, sign_in_as, tag

pytestmark = pytest.mark.e2e
pytest_plugins = ["tests.e2e.console.fixtures"]  # browser, page, console

RULE = "is 1 to 128 ASCII letters, digits and"
FILLED = {
    "Campaign ID": lambda page: (
        page.get_by_label("Total cap", exact=True).fill("1000"),
        page.get_by_label("Per-customer cap").fill("300"),
    ),
    "Workflow ID": lambda page: (
        page.get_by_label("Threshold").fill("999999990"),
        page.get_by_label("Action").select_option("suspend"),
    ),
    "Webhook ID": lambda page: (
        page.get_by_label("URL").fill("https://hooks.example.com/in"),
        page.get_by_label("PartnerFlagged").check(),
    ),
}


@pytest.mark.parametrize(
    ("route", "box", "typed", "button"),
    [
        ("campaigns?new=1", "Campaign ID", "summer/2026", "Save campaign"),
        ("campaigns?new=1", "Campaign ID", ".", "Save campaign"),
        ("workflows?new=1", "Workflow ID", "..", "Save workflow"),
        ("webhooks", "Webhook ID", "crm/hook", "Save webhook"),
    ],
)
def test_a_new_id_the_api_refuses_is_told_the_rule_and_nothing_is_sent(
    page: Page, console: LocalSystem, route: str, box: str, typed: str, button: str
) -> None:
    sign_in_as(page, console, "admin" if box == "Webhook ID" else "fraud", route)
    sent: list[str] = []
    page.on("request", lambda r: r.method == "PUT" and sent.append(r.url))
    page.get_by_label(box).fill(typed)
    FILLED[box](page)  # the form's other boxes as a person fills them in

    page.get_by_role("button", name=button).click()

    said = page.get_by_role("alert").filter(has_text=RULE)
    expect(said).to_be_focused()
    expect(said).to_contain_text("and not . or .. alone")
    expect(page.get_by_text("no route", exact=False)).to_have_count(0)
    assert sent == []
    expect(page.get_by_label(box)).to_have_value(typed)  # kept as typed, to mend
    if typed == "summer/2026":
        screenshot(page, "41-campaign-id-with-a-slash", full_page=False)


def test_a_rate_limited_read_says_how_long_to_wait(page: Page, console: LocalSystem) -> None:
    sign_in_as(page, console, "fraud", "active")
    expect(page.get_by_role("heading", level=1, name="Active cases")).to_be_visible()

    def limited(route: Route) -> None:
        route.fulfill(
            status=429,
            headers={"Retry-After": "24", "Content-Type": "application/problem+json"},
            body='{"type":"about:blank","title":"Too many requests","status":429,"detail":'
            '"request rate over this API key\'s limit; retry after the number of seconds in Retry-After"}',
        )

    page.route("**/v1/removed-partners*", limited)
    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Removed partners").click()

    said = page.get_by_role("alert")
    expect(said).to_contain_text("Too many requests")
    expect(said).to_contain_text("Try again in 24 seconds.")
    screenshot(page, "41-rate-limited-says-the-wait", full_page=False)


def test_a_page_that_is_not_the_apis_answer_is_said_in_words(page: Page, console: LocalSystem) -> None:
    sign_in_as(page, console, "fraud", "active")
    expect(page.get_by_role("heading", level=1, name="Active cases")).to_be_visible()
    portal = "<html><body>Sign in to the hotel Wi-Fi</body></html>"
    page.route(
        "**/v1/removed-partners*", lambda r: r.fulfill(status=200, content_type="text/html", body=portal)
    )

    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Removed partners").click()

    said = page.get_by_role("alert")
    expect(said).to_contain_text("Something other than the API answered")
    expect(said).not_to_contain_text("JSON")  # no parse error of the browser's
    expect(said).not_to_contain_text("Unexpected token")


def test_a_link_with_a_page_size_that_is_not_whole_shows_the_list(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    partner = backend.flagged_partner(f"Half {tag()} BV")
    sign_in_as(page, console, "fraud", f"active?limit=2.5&q={partner.name}")

    expect(page.get_by_role("link", name=partner.name)).to_be_visible()
    expect(page.get_by_role("alert")).to_have_count(0)
