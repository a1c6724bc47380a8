"""What a person does in the console, as reusable steps; each waits for what it expects to see."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from playwright.sync_api import Browser, Locator, Page, expect

from tests.e2e.conftest import LocalSystem

SCREENSHOTS = Path(__file__).resolve().parents[3] / "tests" / "artifacts" / "screenshots"
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def tag(prefix: str = "Q") -> str:
    """A word no other test's partner names contain, to search by."""
    return prefix + uuid.uuid4().hex[:6]


def screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    """A picture of what a person sees, kept as a test artifact (tests/artifacts/ is not committed)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def open_console(page: Page, system: LocalSystem, route: str = "") -> None:
    page.goto(f"{system.api_url}/{'#/' + route if route else ''}")


def sign_in(page: Page, key: str) -> None:
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def sign_in_as(page: Page, system: LocalSystem, role: str, route: str = "") -> None:
    open_console(page, system, route)
    sign_in(page, system.keys[role])


def go_to_tab(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Sections").get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("heading", level=1, name=name, exact=True)).to_be_visible()


def tab_names(page: Page) -> list[str]:
    return page.get_by_role("navigation", name="Sections").get_by_role("link").all_inner_texts()


def new_page(browser: Browser) -> Page:
    """A second person at another browser (their own sessionStorage), closed with its context."""
    context = browser.new_context(viewport=LAPTOP, locale="en-GB", timezone_id="UTC")
    context.set_default_timeout(10_000)
    return context.new_page()


def search(page: Page, text: str) -> None:
    page.get_by_label("Search partners").fill(text)
    page.get_by_role("button", name="Search").click()


def next_page(page: Page, names: Locator) -> None:
    """Follow the "Next page" link and wait until the page shown is no longer the one before it.

    The address changes on the click, but the list is drawn again only when the browser's
    hashchange event runs, a moment later: reading `names` before then reads the page just left."""
    before = names.all_inner_texts()
    page.get_by_role("navigation", name="Pages").get_by_role("link", name="Next page").click()
    expect(names).not_to_have_text(before)


def data_rows(page: Page) -> Locator:
    """The rows of the page's table that name a case (a link to its drawer)."""
    return page.get_by_role("row").filter(has=page.get_by_role("link"))


def case_row(page: Page, name: str) -> Locator:
    return page.get_by_role("row").filter(has=page.get_by_role("link", name=name, exact=True))


def open_case(page: Page, name: str) -> Locator:
    page.get_by_role("link", name=name, exact=True).click()
    drawer = page.get_by_role("dialog", name=name)
    expect(drawer).to_be_visible()
    return drawer


def review_in_the_audit_trail(
    page: Page, drawer: Locator, words: str, review_id_prefix: str, shot: str
) -> None:
    """The case drawer's audit trail names the system's review that flagged it in `words`, never by
    its id (`review_id_prefix`...: the system's own, which no one can open), shown and pictured."""
    trail = drawer.locator("ol.audit")
    expect(trail).to_contain_text(words)
    expect(trail).not_to_contain_text(review_id_prefix)
    trail.scroll_into_view_if_needed()
    screenshot(page, shot, full_page=False)


def close_case(page: Page, drawer: Locator) -> None:
    """Close the case drawer and wait until the console is back on the cases list. The dialog hides
    at once, but its closing event (which puts the list's address back) runs a moment later: an
    address typed before it would be replaced by the list's (CI read Active cases where the test had
    gone to a customer's page)."""
    drawer.get_by_role("button", name="Close").click()
    expect(drawer).to_be_hidden()
    expect(page).to_have_url(re.compile(r"#/(active|resolved|removed)(\?|$)"))
