"""The console as a careless user and a fraudster use it, in a real Chromium: a double click on an
irreversible action, names made to break the page or to read as something else, a key revoked or a
case changed while its drawer is open, a declined case's partner removed, and the keyboard."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import LocalSystem
from tests.e2e.console.backend import Backend
from tests.e2e.console.steps import PHONE, case_row, new_page, open_case, screenshot, sign_in, sign_in_as
from tests.e2e.console.steps import tag as steps_tag

pytestmark = pytest.mark.e2e
pytest_plugins = ["tests.e2e.console.fixtures"]  # browser, page, console


def tag() -> str:
    return steps_tag("Z")


def slow_network(page: Page, latency_ms: int) -> None:
    """Every request of the page takes `latency_ms` longer (Chromium's own network emulation)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": latency_ms, "downloadThroughput": -1, "uploadThroughput": -1},
    )


def removals_in_audit(backend: Backend, case_id: str) -> int:
    trail = backend.fraud.get(backend.url(f"/v1/cases/{case_id}"), timeout=10).json()["audit"]
    return sum(1 for entry in trail if entry["action"] == "partner_removed")


def test_a_double_click_on_confirm_removal_removes_once_and_says_it_succeeded(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    # the second click sent a second removal, answered 409, and the drawer said the removal failed
    partner = backend.flagged_partner(f"Twice {tag()} Ltd")
    sign_in_as(page, console, "fraud", f"active?q={partner.name}")
    drawer = open_case(page, partner.name)
    drawer.get_by_role("button", name="Remove partner").click()
    slow_network(page, 1500)
    sent: list[str] = []
    page.on("request", lambda r: r.method == "POST" and r.url.endswith("/remove") and sent.append(r.url))
    drawer.get_by_role("button", name="Confirm removal").dblclick()
    expect(drawer.get_by_role("button", name="Confirm removal")).to_be_disabled()  # while it runs
    expect(drawer.get_by_text("Partner removed.")).to_be_visible(timeout=20_000)
    expect(drawer.get_by_role("alert")).to_have_count(0)
    assert len(sent) == 1
    assert removals_in_audit(backend, partner.case["id"]) == 1


def test_a_name_of_200_letters_keeps_the_columns_and_the_drawers_close_in_reach(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    name = tag() + "A" * 193  # 200 characters without a break, as SPEC 3.1 allows
    partner = backend.flagged_partner(name)
    sign_in_as(page, console, "fraud", f"active?q={partner.name[:7]}")
    row = case_row(page, partner.name)
    expect(row).to_be_visible()
    width = page.viewport_size["width"]
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    expect(page.get_by_role("columnheader", name="Flagged date")).to_be_in_viewport()
    screenshot(page, "30-long-name-active-cases")

    page.set_viewport_size(PHONE)
    drawer = open_case(page, partner.name)
    close = drawer.get_by_role("button", name="Close")
    expect(close).to_be_in_viewport()
    box = close.bounding_box()
    assert box is not None and box["x"] + box["width"] <= PHONE["width"]
    screenshot(page, "31-long-name-drawer-phone", full_page=False)
    close.click()
    expect(drawer).to_have_count(0)


def test_hidden_characters_in_a_name_are_shown_and_the_drawer_names_the_partner_id(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    # "Bob <RLO>gnp.exe<PDF>" read as "Bob exe.png", and zero-width spaces hid inside a name
    word = tag()
    partner = backend.flagged_partner(f"{word} Bob \u202egnp.exe\u202c Ada\u200bLovelace")
    shown = f"{word} Bob <U+202E>gnp.exe<U+202C> Ada<U+200B>Lovelace"
    sign_in_as(page, console, "fraud", f"active?q={word}")
    expect(page.get_by_role("link", name=shown, exact=True)).to_be_visible()
    drawer = open_case(page, shown)
    expect(drawer.get_by_role("heading", name=shown)).to_be_visible()
    expect(drawer.locator("dl.details")).to_contain_text(f"Partner ID{partner.partner_id}")
    screenshot(page, "32-hidden-characters-shown", full_page=False)


def test_a_declined_cases_partner_can_be_removed_from_the_drawer(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    # SPEC 3.2 allows it, and the API did; the drawer offered no `Remove partner`
    partner = backend.declined_partner(f"Declined {tag()} plc", note="No.")
    case_url = backend.url(f"/v1/cases/{partner.case['id']}")

    sign_in_as(page, console, "fraud", f"resolved?q={partner.name}")
    drawer = open_case(page, partner.name)
    drawer.get_by_role("button", name="Remove partner").click()
    drawer.get_by_role("button", name="Confirm removal").click()
    expect(drawer.get_by_text("Partner removed.")).to_be_visible()
    assert backend.fraud.get(case_url, timeout=10).json()["status"] == "removed"


def test_a_conflict_shows_the_case_as_it_is_now(
    page: Page, browser: Browser, console: LocalSystem, backend: Backend
) -> None:
    partner = backend.flagged_partner(f"Raced {tag()} GmbH")
    sign_in_as(page, console, "fraud", f"active?q={partner.name}")
    drawer = open_case(page, partner.name)
    expect(drawer.locator("dl.details")).to_contain_text("StatusNew")

    # a teammate disputes it first, in another browser
    other = new_page(browser)
    try:
        sign_in_as(other, console, "admin", f"active?q={partner.name}")
        theirs = open_case(other, partner.name)
        theirs.get_by_role("button", name="Dispute").click()
        theirs.get_by_label("Reason for the dispute").fill("A reseller we know.")
        theirs.get_by_role("button", name="Submit dispute").click()
        expect(theirs.get_by_text("Dispute sent to the security team.", exact=False)).to_be_visible()
    finally:
        other.context.close()

    drawer.get_by_role("button", name="Dispute").click()
    drawer.get_by_label("Reason for the dispute").fill("Mine.")
    drawer.get_by_role("button", name="Submit dispute").click()
    expect(drawer.get_by_role("alert")).to_contain_text("disputed")  # the refusal, in words
    expect(drawer.locator("dl.details")).to_contain_text("StatusDisputed")  # and the case as it is
    expect(drawer.get_by_role("button", name="Dispute")).to_have_count(0)
    screenshot(page, "33-conflict-redrawn", full_page=False)


def test_a_removal_from_a_drawer_shown_before_a_teammates_dispute_is_refused_and_keeps_the_dispute(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    # a console tester's find: "Partner removed.", the teammate's dispute withdrawn unseen
    partner = backend.flagged_partner(f"Stale {tag()} Oy")
    sign_in_as(page, console, "fraud", f"active?q={partner.name}")
    drawer = open_case(page, partner.name)
    expect(drawer.locator("dl.details")).to_contain_text("StatusNew")
    drawer.get_by_role("button", name="Remove partner").click()
    case_url = backend.url(f"/v1/cases/{partner.case['id']}")
    reason = {"reason": "Known reseller, verified by phone: please keep"}
    assert backend.admin.post(f"{case_url}/dispute", json=reason, timeout=10).ok  # meanwhile

    drawer.get_by_role("button", name="Confirm removal").click()

    refusal = drawer.get_by_role("alert")
    expect(refusal).to_contain_text("disputed by Demo admin now, not open as you read it")
    expect(drawer.get_by_text("Partner removed.")).to_have_count(0)
    assert backend.fraud.get(case_url, timeout=10).json()["status"] == "disputed"  # the dispute stands
    expect(drawer.locator("dl.details")).to_contain_text("StatusDisputed")  # shown as it is now
    # and removing it as it is now says what the removal withdraws
    drawer.get_by_role("button", name="Remove partner").click()
    warning = drawer.get_by_text("This case is disputed: removing the partner withdraws the dispute")
    expect(warning).to_be_visible()
    screenshot(page, "33b-removal-refused-case-disputed-meanwhile", full_page=False)
    drawer.get_by_role("button", name="Confirm removal").click()
    expect(drawer.get_by_text("Partner removed.")).to_be_visible()
    assert backend.fraud.get(case_url, timeout=10).json()["status"] == "removed"


def test_a_key_revoked_while_a_drawer_is_open_closes_the_drawer_on_the_sign_in(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    partner = backend.flagged_partner(f"Revoked {tag()} SA")
    key = backend.create_key("fraud", "Temp reviewer")
    page.goto(f"{console.api_url}/#/active?q={partner.name}")
    sign_in(page, key["key"])
    drawer = open_case(page, partner.name)
    assert backend.admin.delete(backend.url(f"/v1/keys/{key['key_id']}"), timeout=10).status_code == 204
    drawer.get_by_role("button", name="Approve").first.click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    expect(page.get_by_role("dialog")).to_have_count(0)  # the case is no longer on screen
    expect(page.get_by_text(partner.name)).to_have_count(0)


def test_a_key_copied_with_an_invisible_character_signs_in(page: Page, console: LocalSystem) -> None:
    # the browser refused to send the header, and the console said the API could not be reached
    page.goto(f"{console.api_url}/")
    sign_in(page, "\u200b" + console.keys["fraud"] + " \ufeff")
    expect(page.get_by_role("heading", level=1, name="Security Monitoring")).to_be_focused()


def test_a_flags_bars_stay_inside_the_chart_when_its_flags_have_several_reasons(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    # a flag with two reasons: a disposable address another partner uses already
    email = f"{tag().lower()}@mailinator.com"
    backend.scored(backend.partnership(f"p-{tag()}", f"Chart {tag()} Ltd", email, minutes=-120))
    flagged = backend.scored(backend.partnership(f"p-{tag()}", f"Chart {tag()} plc", email, minutes=-60))
    assert len(flagged["decision"]["reasons"]) >= 2, flagged
    summary = backend.fraud.get(backend.url("/v1/summary"), timeout=10).json()
    assert any(sum(d["by_reason"].values()) > d["count"] for d in summary["flags_per_day"])
    sign_in_as(page, console, "fraud")
    chart = page.get_by_role("img", name="Flags per day", exact=False)
    expect(chart).to_be_visible()
    lowest = page.evaluate(
        """() => Math.min(...[...document.querySelectorAll(".flags-per-day svg rect")]
            .map((r) => Number(r.getAttribute("y"))))"""
    )
    assert lowest >= 0  # a part above the top was drawn outside the chart, cut off
    screenshot(page, "34-flags-per-day-several-reasons", full_page=False)


def test_per_page_keeps_the_focus_while_a_keyboard_user_steps_through_it(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    backend.flagged_partner(f"Keys {tag()} Co")
    sign_in_as(page, console, "fraud", "active")
    page.get_by_label("Per page").focus()
    for size in ("50", "100"):
        # each step draws the list anew: the next key is for the new page's choice, once it is
        # there (pressed while the old one was still shown, a loaded machine lost it)
        before = page.get_by_label("Per page").element_handle()
        page.keyboard.press("ArrowDown")
        page.wait_for_function("(old) => !old.isConnected", arg=before)
        expect(page.get_by_label("Per page")).to_be_focused()
        expect(page.get_by_label("Per page")).to_have_value(size)
