"""The drawer of a case that holds more rewards than it lists, in a real Chromium: the newest 50
held rewards with how many there are and a way to every one (Review rewards, filtered to the
partner's held rewards), and the audit trail newest first with its older entries a page at a time."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LocalSystem
from tests.e2e.console.backend import Backend
from tests.e2e.console.steps import open_case, screenshot, sign_in_as

pytestmark = pytest.mark.e2e
pytest_plugins = ["tests.e2e.console.fixtures"]  # browser, page, console

REWARDS = 56  # more than the drawer lists (50); with the flag, 57 audit entries (more than 50 too)


def test_a_busy_cases_drawer_lists_the_newest_and_leads_to_the_rest(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    # Given a flagged partner whose case holds 56 rewards
    name = f"Busy {uuid.uuid4().hex[:6]} Ltd"
    partner = backend.flagged_partner(name, rewards=())
    reward_ids = [backend.transaction(partner.partner_id, "1.25", minutes=-59 + n) for n in range(REWARDS)]
    backend.wait_for_case(name, held=REWARDS)

    # When a teammate opens its drawer
    sign_in_as(page, console, "fraud", f"active?q={name}")
    drawer = open_case(page, name)

    # Then it lists the newest 50 held rewards, says how many there are, and leads to every one
    held = drawer.get_by_role("region", name="Held rewards").get_by_role("table")
    expect(held.locator("tbody tr")).to_have_count(50)
    expect(held.locator("tbody tr").first).to_contain_text(reward_ids[-1])
    expect(drawer).to_contain_text(f"The newest 50 of {REWARDS} held rewards.")
    trail = drawer.locator("ol.audit > li")
    expect(trail).to_have_count(50)
    expect(trail.first).to_contain_text("Rewards held")
    drawer.get_by_text(f"The newest 50 of {REWARDS} held rewards.").scroll_into_view_if_needed()
    screenshot(page, "11e-drawer-busy-case", full_page=False)

    # And "Show older entries" adds the rest of the trail, down to the flag, then goes away
    drawer.get_by_role("button", name="Show older entries").click()
    expect(trail).to_have_count(REWARDS + 1)
    expect(trail.last).to_contain_text("Flagged")
    expect(drawer.get_by_role("button", name="Show older entries")).to_be_hidden()

    # And "Review all of them" opens Review rewards on the partner's held rewards, newest first
    drawer.get_by_role("link", name="Review all of them").click()
    expect(page).to_have_url(re.compile(r"#/rewards\?.*partner_id="))
    table = page.get_by_role("table", name="Rewards")
    expect(table.locator("tbody tr")).to_have_count(50)
    expect(table.locator("tbody tr").first).to_contain_text(reward_ids[-1])
    page.get_by_role("link", name="Next page").click()
    expect(table.locator("tbody tr")).to_have_count(REWARDS - 50)
    expect(table.locator("tbody tr").last).to_contain_text(reward_ids[0])
    expect(page.get_by_role("link", name="Next page")).to_have_count(0)

    # And the Customer ID filter narrows the list to one customer's reward (each bought once)
    listed = backend.fraud.get(
        backend.url("/v1/rewards"), params={"partner_id": partner.partner_id, "limit": "100"}, timeout=10
    ).json()["items"]
    first = next(r for r in listed if r["id"] == reward_ids[0])
    page.get_by_label("Customer ID").fill(first["customer_id"])
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"customer_id="))
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table.locator("tbody tr")).to_contain_text(reward_ids[0])
