"""What the fraud and security analysts found using the console (twentieth session), in a real
Chromium: a dispute card that showed one currency of several held, an approval in the drawer said
out of sight while the next reward's button slid under the pointer, names written with joiners
(Persian, emoji) shown as code points, and a sign-in that landed on the last person's page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import LocalSystem
from tests.e2e.console.backend import Backend
from tests.e2e.console.steps import close_case, new_page, open_case, screenshot, sign_in, sign_in_as, tag

pytestmark = pytest.mark.e2e
pytest_plugins = ["tests.e2e.console.fixtures"]  # browser, page, console


def test_a_dispute_card_shows_every_currency_the_case_holds(
    browser: Browser, console: LocalSystem, backend: Backend
) -> None:
    # Given a disputed case holding dollars and yen
    partner = backend.flagged_partner(f"Two currencies {tag()} Ltd", rewards=("25.00",))
    backend.transaction(partner.partner_id, "12000", minutes=-20, currency="JPY")
    backend.wait_for_case(partner.name, held=2)
    dispute = backend.url(f"/v1/cases/{partner.case['id']}/dispute")
    disputed = backend.fraud.post(dispute, json={"reason": "A known reseller."}, timeout=10)
    assert disputed.ok, disputed.text

    # When the security team reads its card
    security = new_page(browser)
    try:
        sign_in_as(security, console, "security", "disputes")
        card = security.get_by_role("article", name=partner.name)

        # Then the hold amount names both, each whole
        held = card.locator("dt", has_text="Hold amount").locator("xpath=following-sibling::dd")
        expect(held).to_contain_text("25.00")
        expect(held).to_contain_text("12,000")
        card.scroll_into_view_if_needed()
        screenshot(security, "40-dispute-card-two-currencies", full_page=False)
    finally:
        security.context.close()


def test_approving_a_held_reward_says_so_in_view_and_keeps_its_row_in_place(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    # Given a case holding three rewards, its drawer scrolled down to them
    partner = backend.flagged_partner(f"Approvals {tag()} Ltd", rewards=("11.00", "12.00", "13.00"))
    sign_in_as(page, console, "fraud", f"active?q={partner.name}")
    drawer = open_case(page, partner.name)
    table = drawer.get_by_role("region", name="Held rewards").get_by_role("table")
    first, second = (table.locator("tbody tr").nth(n) for n in (0, 1))
    first_id = first.locator("td").first.inner_text()
    second.scroll_into_view_if_needed()
    second_button = second.get_by_role("button", name="Approve")
    before = second_button.bounding_box()

    # When the teammate approves the first
    first.get_by_role("button", name="Approve").click()

    # Then the drawer says so where it can be read, the row stays (approved, no button), and the
    # next reward's button has not moved
    said = drawer.get_by_text(f"Reward {first_id} approved.")
    expect(said).to_be_in_viewport()
    expect(first).to_contain_text("Approved")
    expect(first.get_by_role("button", name="Approve")).to_have_count(0)
    expect(table.get_by_role("button", name="Approve")).to_have_count(2)
    after = second_button.bounding_box()
    assert before is not None and after is not None and abs(after["y"] - before["y"]) < 2
    screenshot(page, "41-drawer-reward-approved", full_page=False)
    assert backend.reward_status(partner.partner_id, first_id) == "approved"


def test_a_name_written_with_joiners_is_shown_as_written(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    word = tag()
    name = f"\u0639\u0644\u06cc\u200c\u0627\u06a9\u0628\u0631 {word} \U0001f469\u200d\U0001f4bb"
    backend.flagged_partner(name)

    sign_in_as(page, console, "fraud", f"active?q={word}")

    expect(page.get_by_role("link", name=name, exact=True)).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("<U+200C>")
    expect(page.locator("main")).not_to_contain_text("<U+200D>")
    drawer = open_case(page, name)
    expect(drawer.get_by_role("heading", name=name)).to_be_visible()
    screenshot(page, "42-joined-name", full_page=False)


def test_after_signing_out_the_next_person_starts_at_their_own_start_page(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    # a security teammate signing in after a fraud teammate signed out met "Not available": the
    # address still named the fraud teammate's tab (and case)
    partner = backend.flagged_partner(f"Seen before {tag()} Ltd")
    sign_in_as(page, console, "fraud", f"active?q={partner.name}")
    open_case(page, partner.name)
    expect(page).to_have_url(re.compile(r"#/active/"))
    close_case(page, page.get_by_role("dialog"))

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("API key")).to_be_visible()
    assert "#/" not in page.url
    sign_in(page, console.keys["security"])

    expect(page.get_by_role("heading", level=1, name="Disputes")).to_be_visible()


def test_a_joiner_between_latin_letters_is_shown_for_what_it_hides(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    word = tag()
    backend.flagged_partner(f"Ada\u200dLovelace {word}")

    sign_in_as(page, console, "fraud", f"active?q={word}")

    expect(page.get_by_role("link", name=f"Ada<U+200D>Lovelace {word}", exact=True)).to_be_visible()
