"""The Removed partners tab in a real Chromium (SPEC 10 over `GET /v1/removed-partners`): newest
removal first, paged with the API's cursor the way the case lists page, every removed partner shown
once across the pages."""

from __future__ import annotations

import re
import time
import uuid

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import LocalSystem
from tests.e2e.console.backend import Backend, mailbox, unique
from tests.e2e.console.steps import (
    close_case,
    go_to_tab,
    next_page,
    open_case,
    review_in_the_audit_trail,
    screenshot,
    sign_in_as,
)

pytestmark = pytest.mark.e2e
pytest_plugins = ["tests.e2e.console.fixtures"]  # browser, page, console

TABLE = "Partners removed from the program"


def every_removed(backend: Backend) -> list[str]:
    """The program's removed partners' names, newest removal first, through the API's pages."""
    names: list[str] = []
    params = {"limit": "100"}
    while True:
        answer = backend.fraud.get(backend.url("/v1/removed-partners"), params=params, timeout=10)
        assert answer.status_code == 200, answer.text
        names += [item["partner"]["name"] for item in answer.json()["items"]]
        if not answer.json()["next_cursor"]:
            return names
        params = {"limit": "100", "cursor": answer.json()["next_cursor"]}


def name_cells(page: Page) -> Locator:
    return page.get_by_role("table", name=TABLE).locator("tbody tr td:first-child .partner-name")


def names_on_page(page: Page) -> list[str]:
    expect(page.get_by_role("table", name=TABLE)).to_be_visible()
    return name_cells(page).all_inner_texts()


def test_removed_partners_page_newest_first_and_every_one_is_shown_once(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    # Given three partners removed one after the other (more than a page of two)
    word = "R" + uuid.uuid4().hex[:6]
    names = [f"Gone {word} {n}" for n in (1, 2, 3)]
    for name in names:
        partner = backend.flagged_partner(name, rewards=())
        answer = backend.fraud.post(
            backend.url(f"/v1/cases/{partner.case['id']}/remove"), json={"block_reapply": False}, timeout=10
        )
        assert answer.status_code == 200, answer.text
    everyone = every_removed(backend)
    assert everyone[:3] == names[::-1]

    # When a teammate opens Removed partners two per page
    sign_in_as(page, console, "fraud", "removed?limit=2")
    expect(page.get_by_role("heading", level=1, name="Removed partners")).to_be_visible()

    # Then the newest two removals come first, with a way to the next page and no "First page"
    assert names_on_page(page) == names[::-1][:2]
    pages = page.get_by_role("navigation", name="Pages")
    expect(pages).to_contain_text("2 partners on this page")
    expect(pages.get_by_role("link", name="First page")).to_have_count(0)
    screenshot(page, "15-removed-partners-first-page")

    # And following "Next page" to the end shows every removed partner once, in removal order
    shown = names_on_page(page)
    while pages.get_by_role("link", name="Next page").count():
        next_page(page, name_cells(page))
        expect(page).to_have_url(re.compile(r"#/removed\?limit=2&cursor="))
        expect(pages.get_by_role("link", name="First page")).to_be_visible()
        expect(page.get_by_text(re.compile(r"^Loading "))).to_have_count(0)
        on_page = names_on_page(page)
        assert 0 < len(on_page) <= 2
        shown += on_page
    assert shown == everyone
    screenshot(page, "16-removed-partners-last-page")

    # And "First page" goes back to the newest
    pages.get_by_role("link", name="First page").click()
    expect(pages.get_by_role("link", name="First page")).to_have_count(0)
    assert names_on_page(page) == names[::-1][:2]

    # And with a page as large as the list, everything is on one page and there is no next one
    page.get_by_label("Per page").select_option("100")
    expect(page).to_have_url(re.compile(r"#/removed\?limit=100$"))
    expect(page.get_by_role("table", name=TABLE).locator("tbody tr")).to_have_count(min(len(everyone), 100))
    if len(everyone) <= 100:
        assert names_on_page(page) == everyone
        expect(pages.get_by_role("link", name="Next page")).to_have_count(0)


def reviewed_case(backend: Backend, removed_id: str, timeout: float = 20) -> dict:
    """The active case a removal's review opened for a partner on the removed one's address (its
    reason names the removed partner), once scored."""
    deadline = time.monotonic() + timeout
    while True:
        for case in backend.active_cases("Original partner"):
            if any(removed_id in r["detail"] for r in case["reasons"]):
                return case
        assert time.monotonic() < deadline, f"no case from the review of {removed_id}'s removal"
        time.sleep(0.3)


def test_a_partner_a_removal_reviewed_says_so_in_its_audit_trail_not_by_an_internal_id(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    # Given a partner flagged for the e-mail address an earlier partner signed up with, removed: the
    # earlier partner is reviewed and flagged (SPEC 5.2, an address shared with a removed partner)
    gone = backend.flagged_partner(f"Gone {uuid.uuid4().hex[:6]} reviewer", rewards=())
    answer = backend.fraud.post(
        backend.url(f"/v1/cases/{gone.case['id']}/remove"), json={"block_reapply": False}, timeout=10
    )
    assert answer.status_code == 200, answer.text
    reviewed = reviewed_case(backend, gone.partner_id)
    name = reviewed["subject"]["name"]

    # When the team opens its case
    sign_in_as(page, console, "fraud", f"active?q={name}")
    drawer = open_case(page, name)

    # Then its audit trail says the flag came of a review after a removal, and shows no review id
    # (the system's own, which no one can open: a fraud key may not read events)
    words = "a review after the removal of a partner it shares an identifier with"
    review_in_the_audit_trail(page, drawer, words, "linked_removal_", "removed-review-audit")

    # And the removed partner its reason names by ID is found by that ID on Removed partners
    assert gone.partner_id in " ".join(r["detail"] for r in reviewed["reasons"])
    close_case(page, drawer)
    go_to_tab(page, "Removed partners")
    row = page.get_by_role("row").filter(has_text=gone.name)
    expect(row.locator("td").first).to_contain_text(gone.partner_id)
    screenshot(page, "removed-partner-ids", full_page=False)


def test_a_partner_reviewed_after_an_earlier_sign_up_arrived_late_says_so_in_its_audit_trail(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    # Given a partner that changed its address to another partner's an hour ago, scored before the
    # other partner's sign-up, dated earlier, arrived (a backfill sent newest first)
    owners = f"{mailbox('owner')}@example.com"
    name = f"Copier {uuid.uuid4().hex[:6]}"
    copier = unique("p-copier")
    backend.scored(backend.partnership(copier, name, f"{mailbox('copier')}@example.com", minutes=-180))
    change = backend.account_update(copier, owners, minutes=-60)
    assert backend.scored(change)["decision"]["action"] == "allow"  # no one had the address yet
    # When the owner's sign-up arrives, dated before the change
    owner = backend.partnership(unique("p-owner"), f"Owner {uuid.uuid4().hex[:6]}", owners, minutes=-120)

    # Then the owner is not flagged for it, and the copier is, by a review
    assert "email_duplicate" not in [r["code"] for r in backend.scored(owner)["decision"]["reasons"]]
    case = backend.wait_for_case(name, held=0)
    assert [r["code"] for r in case["reasons"]] == ["email_duplicate"]
    sign_in_as(page, console, "fraud", f"active?q={name}")
    drawer = open_case(page, name)
    words = "a review after an earlier event of a partner it shares an identifier with arrived late"
    review_in_the_audit_trail(page, drawer, words, "linked_earlier_", "linked-earlier-review-audit")
