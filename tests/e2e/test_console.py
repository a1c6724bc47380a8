"""The web console's shell in a real Chromium against the local system (SPEC 10): sign-in and
sign-out, what each role is shown, problem details in words, the tabs and their URLs."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LocalSystem
from tests.e2e.console.steps import PHONE, go_to_tab, open_console, screenshot, sign_in, sign_in_as, tab_names

pytestmark = pytest.mark.e2e
pytest_plugins = ["tests.e2e.console.fixtures"]  # browser, page, console

NO_ACCESS = "You do not have access to Fraud Management"
PROGRAM_TABS = [
    "Active cases",
    "Resolved cases",
    "Removed partners",
    "Review rewards",
    "Loyalty customers",
    "Campaigns",
    "Workflows",
]


def test_sign_in_shows_the_actor_and_sign_out_forgets_the_key(page: Page, console: LocalSystem) -> None:
    # Given the console, before anyone signs in
    open_console(page, console)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    screenshot(page, "01-sign-in")

    # When a teammate signs in with their key
    sign_in(page, console.keys["fraud"])

    # Then the page names them, and the key is kept for this tab only: never in the URL or localStorage
    expect(page.get_by_role("banner")).to_contain_text("Demo fraud")
    assert console.keys["fraud"] not in page.url
    assert page.evaluate("() => Object.keys(localStorage).length") == 0
    assert console.keys["fraud"] in page.evaluate("() => Object.values(sessionStorage)")
    page.reload()  # a reload of the same tab keeps the session
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    # When they sign out, the key is forgotten and a reload asks for it again
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("API key")).to_be_visible()
    assert page.evaluate("() => sessionStorage.length") == 0
    page.reload()
    expect(page.get_by_label("API key")).to_be_visible()
    expect(page.get_by_text("Demo fraud")).to_have_count(0)


def test_a_refused_key_is_said_in_words_a_person_can_act_on(page: Page, console: LocalSystem) -> None:
    """The API's detail speaks of the Authorization header; a person signing in needs to know the
    key is not valid and whom to ask."""
    bad_key = "fmk_0000000000000000_" + "x" * 43
    answer = requests.get(
        f"{console.api_url}/v1/me", headers={"Authorization": f"Bearer {bad_key}"}, timeout=10
    )
    assert answer.status_code == 401

    open_console(page, console)
    page.get_by_label("API key").fill(bad_key)
    page.get_by_role("button", name="Sign in").click()

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("This key is not valid: it was revoked, or mistyped. Ask an admin")
    expect(alert).not_to_contain_text("Authorization")
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    assert page.evaluate("() => sessionStorage.length") == 0


@pytest.mark.parametrize("role", ["viewer", "integration"])
def test_a_key_without_fraud_access_sees_the_no_access_text(
    page: Page, console: LocalSystem, role: str
) -> None:
    sign_in_as(page, console, role)

    expect(page.get_by_text(NO_ACCESS, exact=True)).to_be_visible()
    assert tab_names(page) == []
    # a shared link to a fraud page does not show it either
    open_console(page, console, "active")
    expect(page.get_by_text(NO_ACCESS, exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Active cases")).to_have_count(0)
    if role == "viewer":
        screenshot(page, "02-viewer-no-access")


@pytest.mark.parametrize("role", ["fraud", "admin"])
def test_a_program_key_sees_the_program_tabs_and_never_disputes(
    page: Page, console: LocalSystem, role: str
) -> None:
    sign_in_as(page, console, role)

    expect(page.get_by_role("heading", name="Security Monitoring")).to_be_visible()
    assert tab_names(page) == PROGRAM_TABS + (["Webhooks", "API keys"] if role == "admin" else [])
    # not even through its address
    open_console(page, console, "disputes")
    expect(page.get_by_role("heading", level=1)).to_have_text("Not available")
    expect(page.get_by_role("heading", name="Disputes")).to_have_count(0)
    expect(page.get_by_role("button", name="Approve dispute")).to_have_count(0)


def test_the_security_team_sees_disputes_only(page: Page, console: LocalSystem) -> None:
    sign_in_as(page, console, "security")

    expect(page.get_by_role("heading", level=1, name="Disputes")).to_be_visible()
    assert tab_names(page) == ["Disputes"]
    expect(page.get_by_role("banner")).to_contain_text("Platform security")


def test_every_tab_has_its_heading_and_its_own_url_and_the_back_button_works(
    page: Page, console: LocalSystem
) -> None:
    sign_in_as(page, console, "admin")
    visited = []
    for name in PROGRAM_TABS:
        go_to_tab(page, name)
        link = page.get_by_role("navigation", name="Sections").get_by_role("link", name=name, exact=True)
        expect(link).to_have_attribute("aria-current", "page")
        visited.append(page.url)
    assert len(set(visited)) == len(PROGRAM_TABS)

    page.go_back()
    expect(page.get_by_role("heading", level=1, name=PROGRAM_TABS[-2], exact=True)).to_be_visible()
    page.go_back()
    expect(page.get_by_role("heading", level=1, name=PROGRAM_TABS[-3], exact=True)).to_be_visible()
    page.go_forward()
    expect(page.get_by_role("heading", level=1, name=PROGRAM_TABS[-2], exact=True)).to_be_visible()


def test_a_shared_link_opens_its_page_after_sign_in(page: Page, console: LocalSystem) -> None:
    open_console(page, console, "workflows")
    sign_in(page, console.keys["fraud"])
    expect(page.get_by_role("heading", level=1, name="Workflows")).to_be_visible()
    assert page.url.endswith("#/workflows")


def test_home_shows_security_monitoring_and_links_to_the_suspicious_cases(
    page: Page, console: LocalSystem
) -> None:
    sign_in_as(page, console, "fraud")
    expect(page.get_by_role("heading", name="Security Monitoring")).to_be_visible()
    page.get_by_role("link", name="suspicious cases").click()
    expect(page.get_by_role("heading", level=1, name="Active cases")).to_be_visible()
    expect(page).to_have_url(re.compile(r"#/active$"))


def test_the_tabs_are_usable_by_keyboard(page: Page, console: LocalSystem) -> None:
    sign_in_as(page, console, "fraud")
    link = page.get_by_role("navigation", name="Sections").get_by_role("link", name="Removed partners")
    link.focus()
    page.keyboard.press("Enter")
    heading = page.get_by_role("heading", level=1, name="Removed partners")
    expect(heading).to_be_visible()
    expect(heading).to_be_focused()  # a screen reader announces the new page


def test_every_tab_is_readable_at_phone_width(page: Page, console: LocalSystem) -> None:
    page.set_viewport_size(PHONE)
    sign_in_as(page, console, "fraud")
    expect(page.get_by_role("heading", name="Security Monitoring")).to_be_visible()
    screenshot(page, "03-home-phone")
    for name in PROGRAM_TABS:
        go_to_tab(page, name)
        expect(page.get_by_text(re.compile(r"^Loading "))).to_have_count(0)  # loaded
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{name} scrolls sideways at phone width ({width}px)"


def test_a_list_shows_a_loading_state_until_the_api_answers(page: Page, console: LocalSystem) -> None:
    held = []  # hold the API's answer back to see the loading state
    page.route("**/v1/removed-partners*", lambda route: held.append(route))
    sign_in_as(page, console, "fraud", "removed")

    expect(page.get_by_role("status").filter(has_text="Loading removed partners")).to_be_visible()
    assert len(held) == 1
    held[0].continue_()
    expect(page.get_by_role("status")).to_have_count(0)
    # then the list, or its empty state when no test has removed a partner yet
    empty = page.get_by_text("No partner has been removed from this program.")
    expect(page.get_by_role("table", name="Partners removed from the program").or_(empty)).to_be_visible()
