"""What a tester of the web console found (twenty-sixth session), in a real Chromium: a case's drawer
left open and live over a page it does not belong to, notes typed in a dispute card lost when another
card's verdict was recorded, a reward approved meanwhile refused out of sight, a dispute whose answer
was lost shown as not sent, an actor's name cut by the box, a held amount past its tile, and a deep
link's status the list refused while its select showed another."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LocalSystem
from tests.e2e.console.backend import Backend
from tests.e2e.console.steps import open_case, screenshot, sign_in_as, tag

pytestmark = pytest.mark.e2e
pytest_plugins = ["tests.e2e.console.fixtures"]  # browser, page, console


@pytest.mark.parametrize("away", ["keys", "no-such-page"])
def test_a_drawer_closes_when_its_page_is_left_for_one_not_shown(
    page: Page, console: LocalSystem, backend: Backend, away: str
) -> None:
    # Given a fraud analyst with a case's drawer open over Active cases
    partner = backend.flagged_partner(f"Left Drawer {tag()} Ltd")
    sign_in_as(page, console, "fraud", f"active?q={partner.name}")
    open_case(page, partner.name)

    # When they go by the address bar to a page their role may not see, or to no page at all
    page.goto(f"{console.api_url}/#/{away}")

    # Then that page is shown, and no drawer stays over it
    heading = "Not available" if away == "keys" else "Page not found"
    expect(page.get_by_role("heading", level=1, name=heading)).to_be_visible()
    expect(page.locator("dialog")).to_have_count(0)

    # And from there to another page: still no drawer, the page is usable
    page.goto(f"{console.api_url}/#/removed")
    expect(page.get_by_role("heading", level=1, name="Removed partners")).to_be_visible()
    expect(page.locator("dialog")).to_have_count(0)
    screenshot(page, f"26-no-drawer-after-{away}", full_page=False)
