"""What a sixth console tester found (forty-ninth session), in a real Chromium: a reward held under a
declined case that Home counted and no list showed; names written right to left shown in the wrong
order (`مسوق 123 Ltd (دبي)` as `123 مسوق Ltd (دبي)`); a removed partner whose case only a typed
address opened; a dispute reason over the API's limit refused only after sending, in pydantic's
words; a key pasted with curl's `Bearer ` refused as mistyped; and a chart of UTC days that said
nothing of it."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LocalSystem
from tests.e2e.console.backend import Backend
from tests.e2e.console.steps import open_console, screenshot, sign_in_as, tag

pytestmark = pytest.mark.e2e
pytest_plugins = ["tests.e2e.console.fixtures"]  # browser, page, console


def test_a_reward_held_under_a_declined_case_is_shown_in_resolved_cases(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    # Given a declined case whose partner earns again: SPEC 4 holds it under the declined case
    partner = backend.declined_partner(f"Declined {tag()} Kft.")
    later = backend.transaction(partner.partner_id, "500.50", minutes=-5, currency="HUF")
    deadline = time.monotonic() + 20
    while backend.reward_status(partner.partner_id, later) != "on_hold":
        assert time.monotonic() < deadline, "the later reward was never held"
        time.sleep(0.3)

    # When the analyst looks for it in Resolved cases
    sign_in_as(page, console, "fraud", f"resolved?q={partner.name}")
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=partner.name, exact=True))

    # Then the case's hold is there, as Home counts it
    expect(row.get_by_role("cell").nth(2)).to_contain_text("HUF 500.50")
    expect(row).to_contain_text("1 held reward")
    screenshot(page, "resolved-declined-case-holds")


RIGHT_TO_LEFT = "مسوق 123 Ltd (دبي)"


def test_a_name_written_right_to_left_is_shown_in_its_own_order(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    word = tag()
    name = f"{RIGHT_TO_LEFT} {word}"
    partner = backend.flagged_partner(name)

    sign_in_as(page, console, "fraud", f"active?q={word}")
    link = page.locator(f'a[data-case-id="{partner.case["id"]}"]')
    expect(link).to_have_text(name)

    # its first letter is Arabic: its direction is right to left wherever it stands (a list's link,
    # the drawer's heading), so its words keep the order they were written in
    direction = "e => getComputedStyle(e).direction"
    assert link.locator("bdi").evaluate(direction) == "rtl"
    link.click()
    heading = page.get_by_role("dialog").get_by_role("heading", level=2).first
    expect(heading).to_have_text(name)
    assert heading.locator("bdi").evaluate(direction) == "rtl"
    screenshot(page, "right-to-left-name-in-its-drawer", full_page=False)


def test_a_removed_partner_opens_the_case_it_was_removed_from(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    partner = backend.flagged_partner(f"Removed {tag()} GmbH")
    removal = backend.url(f"/v1/cases/{partner.case['id']}/remove")
    assert backend.fraud.post(removal, json={"block_reapply": True}, timeout=10).ok

    sign_in_as(page, console, "fraud", "removed")
    page.get_by_role("link", name=partner.name, exact=True).click()

    drawer = page.get_by_role("dialog", name=partner.name)
    expect(drawer).to_be_visible()
    expect(drawer.locator("ol.audit")).to_contain_text("removed")  # who removed it, and when
    assert page.url.endswith(f"#/removed/{partner.case['id']}")
    screenshot(page, "removed-partner-case", full_page=False)
    drawer.get_by_role("button", name="Close").click()
    expect(drawer).to_have_count(0)
    expect(page.get_by_role("link", name=partner.name, exact=True)).to_be_focused()  # back where it was


def test_a_dispute_reason_over_the_limit_is_said_before_it_is_sent(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    partner = backend.flagged_partner(f"Talkative {tag()} Ltd")
    sent: list[str] = []
    page.on("request", lambda r: r.method == "POST" and r.url.endswith("/dispute") and sent.append(r.url))

    sign_in_as(page, console, "fraud", f"active/{partner.case['id']}")
    drawer = page.get_by_role("dialog", name=partner.name)
    drawer.get_by_role("button", name="Dispute").click()
    reason = drawer.get_by_label("Reason for the dispute")
    expect(drawer.get_by_text("(up to 2,000 characters)")).to_be_visible()  # said before typing
    reason.fill("x" * 2001)
    drawer.get_by_role("button", name="Submit dispute").click()

    expect(drawer.get_by_role("alert")).to_contain_text("at most 2000 characters; this is 2001")
    expect(reason).to_be_focused()
    assert sent == []  # nothing sent
    reason.fill("y" * 2000)  # at the limit: sent, and recorded
    drawer.get_by_role("button", name="Submit dispute").click()
    expect(drawer.get_by_text("Dispute sent to the security team.", exact=False)).to_be_visible()


@pytest.mark.parametrize("pasted", ["Bearer {key}", "Authorization: Bearer {key}"])
def test_a_key_pasted_with_its_bearer_word_signs_in(page: Page, console: LocalSystem, pasted: str) -> None:
    open_console(page, console)
    page.get_by_label("API key").fill(pasted.format(key=console.keys["fraud"]))  # as in a curl command
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_the_flags_per_day_chart_says_its_days_are_utc(page: Page, console: LocalSystem) -> None:
    sign_in_as(page, console, "fraud", "home")

    section = page.get_by_role("region", name="Flags per day", exact=True)  # SPEC 10's name, exactly
    expect(section.get_by_text("Days in UTC.")).to_be_visible()
