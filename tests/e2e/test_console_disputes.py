"""The security team's Disputes page in a real Chromium (SPEC 3.3 over `GET /v1/disputes`): oldest
dispute first, paged with the API's cursor the way the other lists page, every open dispute shown
once across the pages, and a verdict recorded on a later page keeps the team on that page."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.e2e.conftest import LocalSystem
from tests.e2e.console.backend import Backend
from tests.e2e.console.steps import new_page, next_page, screenshot, sign_in_as, tag

pytestmark = pytest.mark.e2e
pytest_plugins = ["tests.e2e.console.fixtures"]  # browser, page, console


def every_dispute(backend: Backend) -> list[str]:
    """The open disputes' partner names, oldest dispute first, through the API's pages."""
    names: list[str] = []
    params = {"status": "open", "limit": "100"}
    while True:
        answer = backend.security.get(backend.url("/v1/disputes"), params=params, timeout=10)
        assert answer.status_code == 200, answer.text
        names += [item["subject"]["name"] for item in answer.json()["items"]]
        if not answer.json()["next_cursor"]:
            return names
        params = {**params, "cursor": answer.json()["next_cursor"]}


def name_headings(page: Page) -> Locator:
    return page.locator("ul.cards article h2")


def names_on_page(page: Page) -> list[str]:
    expect(page.get_by_text(re.compile(r"^Loading "))).to_have_count(0)
    return name_headings(page).all_inner_texts()


def test_disputes_page_by_page_oldest_first_each_shown_once(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    # Given three partners' cases disputed one after the other (more than a page of two)
    word = "D" + uuid.uuid4().hex[:6]
    names = [f"Disputed {word} {n}" for n in (1, 2, 3)]
    for name in names:
        partner = backend.flagged_partner(name, rewards=("15.00",))
        answer = backend.fraud.post(
            backend.url(f"/v1/cases/{partner.case['id']}/dispute"),
            json={"reason": f"Ours ({name})."},
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
    everyone = every_dispute(backend)
    assert [n for n in everyone if word in n] == names  # the newest disputes last

    # When the security team opens Disputes two per page
    sign_in_as(page, console, "security", "disputes?limit=2")
    expect(page.get_by_role("heading", level=1, name="Disputes")).to_be_visible()

    # Then the oldest two disputes come first, with a way to the next page and no "First page"
    assert names_on_page(page) == everyone[:2]
    pages = page.get_by_role("navigation", name="Pages")
    expect(pages).to_contain_text("2 disputes on this page")
    expect(pages.get_by_role("link", name="First page")).to_have_count(0)

    # And following "Next page" to the end shows every open dispute once, in dispute order
    shown = names_on_page(page)
    while pages.get_by_role("link", name="Next page").count():
        next_page(page, name_headings(page))
        expect(page).to_have_url(re.compile(r"#/disputes\?limit=2&cursor="))
        expect(pages.get_by_role("link", name="First page")).to_be_visible()
        on_page = names_on_page(page)
        assert 0 < len(on_page) <= 2
        shown += on_page
    assert shown == everyone
    screenshot(page, "12d-disputes-last-page")

    # And a verdict on this last page is recorded there: the page is drawn again, not the first one
    last = page.get_by_role("article", name=names[-1])
    last.get_by_label("Note").fill("Checked the reseller's contract.")
    last.get_by_role("button", name="Decline dispute").click()
    expect(page.get_by_text(f"Verdict recorded for {names[-1]}", exact=False)).to_be_visible()
    expect(page.get_by_role("article", name=names[-1])).to_contain_text(
        "Declined, applied at the next dispute cycle"
    )
    expect(page).to_have_url(re.compile(r"#/disputes\?limit=2&cursor="))

    # And "First page" goes back to the oldest; a page as large as the list shows them all
    pages.get_by_role("link", name="First page").click()
    expect(pages.get_by_role("link", name="First page")).to_have_count(0)
    assert names_on_page(page) == everyone[:2]
    page.get_by_label("Per page").select_option("100")
    expect(page).to_have_url(re.compile(r"#/disputes\?limit=100$"))
    expect(name_headings(page)).to_have_count(min(len(everyone), 100))
    if len(everyone) <= 100:
        assert names_on_page(page) == everyone
        expect(pages.get_by_role("link", name="Next page")).to_have_count(0)


def test_a_verdict_from_a_card_a_teammate_decided_since_replaces_nothing(
    page: Page, browser: Browser, console: LocalSystem, backend: Backend
) -> None:
    partner = backend.flagged_partner(f"Stale {tag()} Ltd", rewards=("20.00",))
    disputed = backend.fraud.post(
        backend.url(f"/v1/cases/{partner.case['id']}/dispute"), json={"reason": "ours"}, timeout=10
    )
    assert disputed.status_code == 200, disputed.text
    sign_in_as(page, console, "security", "disputes")
    card = page.locator("article.dispute").filter(has_text=partner.name)
    expect(card).not_to_contain_text("Verdict")
    # with the evidence it is decided on: what each reason found, as the program's drawer shows it
    # (a console tester's find: the card named the codes alone)
    [found] = partner.case["reasons"]
    expect(card.locator("ul.reasons-detail li")).to_have_text([f"Duplicate email: {found['detail']}"])

    # a teammate approves it in another browser, this card still showing no verdict
    other = new_page(browser)
    try:
        sign_in_as(other, console, "security", "disputes")
        theirs = other.locator("article.dispute").filter(has_text=partner.name)
        theirs.get_by_role("button", name="Approve dispute").click()
        expect(theirs).to_contain_text("Approved, applied at the next dispute cycle")
    finally:
        other.context.close()
    card.get_by_role("button", name="Decline dispute").click()

    # the decline is refused, said so, and the card shows the teammate's approval
    expect(page.get_by_role("alert")).to_contain_text("recorded since you read it")
    expect(card).to_contain_text("Approved, applied at the next dispute cycle")
    listed = backend.security.get(
        backend.url("/v1/disputes"), params={"status": "open", "limit": "100"}, timeout=10
    ).json()["items"]
    assert next(d for d in listed if d["id"] == partner.case["id"])["verdict"] == "approve"
