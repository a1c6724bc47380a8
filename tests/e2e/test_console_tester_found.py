"""What a tester of the web console found (twenty-sixth session), in a real Chromium: a case's drawer
left open and live over a page it does not belong to, notes typed in a dispute card lost when another
card's verdict was recorded, a reward approved meanwhile refused out of sight, a dispute whose answer
was lost shown as not sent, an actor's name cut by the box, a held amount past its tile, and a deep
link's status the list refused while its select showed another."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, Route, expect

from tests.e2e.conftest import LocalSystem
from tests.e2e.console.backend import Backend
from tests.e2e.console.steps import LAPTOP, PHONE, open_case, screenshot, sign_in_as, tag

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


def disputed(backend: Backend, name: str) -> str:
    """A flagged partner's case, disputed by the fraud team: its id."""
    case_id: str = backend.flagged_partner(name).case["id"]
    answer = backend.fraud.post(
        backend.url(f"/v1/cases/{case_id}/dispute"), json={"reason": "A known reseller."}, timeout=10
    )
    assert answer.status_code == 200, answer.text
    return case_id


def test_a_verdict_keeps_what_was_typed_in_the_other_cards(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    # Given two open disputes, and a note typed in the second one's card
    word = tag()
    first, second = f"Note First {word}", f"Note Second {word}"
    disputed(backend, first)
    disputed(backend, second)
    sign_in_as(page, console, "security", "disputes?limit=100")
    card = {n: page.get_by_role("article", name=n, exact=True) for n in (first, second)}
    typed = "Checked with KYC, call on 4 Dec: genuine sister's shop"
    card[second].get_by_label("Note").fill(typed)

    # When the first one's dispute is approved (the list is drawn again)
    card[first].get_by_role("button", name="Approve dispute").click()
    expect(page.get_by_text(f"Verdict recorded for {first}")).to_be_visible()

    # Then the note typed in the second card is still there, and is recorded with its verdict
    expect(card[second].get_by_label("Note")).to_have_value(typed)
    card[second].get_by_role("button", name="Approve dispute").click()
    expect(page.get_by_text(f"Verdict recorded for {second}")).to_be_visible()
    listed = backend.security.get(
        backend.url("/v1/disputes"), params={"status": "open", "limit": 100}, timeout=10
    )
    notes = {i["subject"]["name"]: i["verdict_note"] for i in listed.json()["items"]}
    assert notes[second] == typed, notes
    # and a card drawn again after its own verdict starts with an empty note
    expect(card[second].get_by_label("Note")).to_have_value("")


def test_a_verdict_refused_as_stale_keeps_its_note(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    # Given an open dispute with a note typed in its card
    name = f"Stale Note {tag()}"
    case_id = disputed(backend, name)
    sign_in_as(page, console, "security", "disputes?limit=100")
    card = page.get_by_role("article", name=name, exact=True)
    typed = "Sister's shop, seen the lease"
    card.get_by_label("Note").fill(typed)

    # When a teammate records a verdict meanwhile, and this one is sent on the card as it was
    teammate = backend.security.post(
        backend.url(f"/v1/disputes/{case_id}/verdict"),
        json={"verdict": "approve", "note": "", "replaces": None},
        timeout=10,
    )
    assert teammate.status_code == 200, teammate.text
    card.get_by_role("button", name="Decline dispute").click()

    # Then the page says it changed, shows the teammate's verdict, and the note is still in the card
    expect(page.get_by_role("alert").filter(has_text="changed meanwhile")).to_be_focused()
    expect(card).to_contain_text("Approved, applied at the next dispute cycle")
    expect(card.get_by_label("Note")).to_have_value(typed)


def test_a_verdict_on_a_dispute_gone_meanwhile_quotes_its_note(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    # Given an open dispute with a note typed in its card
    name = f"Gone Note {tag()}"
    case_id = disputed(backend, name)
    sign_in_as(page, console, "security", "disputes?limit=100")
    card = page.get_by_role("article", name=name, exact=True)
    typed = "Not the same person: different passport"
    card.get_by_label("Note").fill(typed)

    # When the fraud team removes the partner meanwhile (the dispute is withdrawn), and a verdict is sent
    removed = backend.fraud.post(backend.url(f"/v1/cases/{case_id}/remove"), json={}, timeout=10)
    assert removed.status_code == 200, removed.text
    card.get_by_role("button", name="Approve dispute").click()

    # Then the card is gone, and the message quotes the note that was not recorded
    alert = page.get_by_role("alert").filter(has_text="changed meanwhile")
    expect(alert).to_be_focused()
    expect(card).to_have_count(0)
    expect(alert).to_contain_text(f"Your note was not recorded: {typed}")


def test_a_reward_approved_meanwhile_is_said_in_view_and_the_list_read_again(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    # Given a partner's eight held rewards on Review rewards, on a short window: the last row far down
    partner = backend.flagged_partner(f"Stale Reward {tag()} Ltd", rewards=("5.00",) * 8)
    page.set_viewport_size({"width": 1280, "height": 500})
    sign_in_as(page, console, "fraud", f"rewards?status=on_hold&partner_id={partner.partner_id}")
    approve = page.get_by_role("button", name="Approve reward")
    expect(approve).to_have_count(8)
    last = approve.last
    reward_id = (last.get_attribute("aria-label") or "").split()[-1]

    # When a teammate approves that reward meanwhile, and it is approved here too
    teammate = backend.fraud.post(
        backend.url(f"/v1/rewards/{reward_id}/override"), json={"status": "approved"}, timeout=10
    )
    assert teammate.status_code == 200, teammate.text
    last.scroll_into_view_if_needed()
    last.click()

    # Then the refusal is said where it is seen, with the focus on it
    alert = page.get_by_role("alert").filter(has_text="changed meanwhile")
    expect(alert).to_be_focused()
    expect(alert).to_be_in_viewport()
    # And the list is as it is now: that reward is no longer on hold, nor offered to approve
    expect(page.get_by_role("button", name=f"Approve reward {reward_id}", exact=True)).to_have_count(0)
    expect(approve).to_have_count(7)
    screenshot(page, "26-reward-approved-meanwhile", full_page=False)


def lose_the_first_answer(page: Page, *, sent: bool) -> None:
    """The first dispute sent gets no answer: delivered and done (`sent`), or never delivered."""
    lost = []

    def handle(route: Route) -> None:
        if lost:
            route.continue_()
            return
        lost.append(route.request.url)
        if sent:
            route.fetch()  # the API records it; its answer never comes back
        route.abort("connectionreset")

    page.route(re.compile(r".*/v1/cases/[^/]+/dispute$"), handle)


def test_a_dispute_whose_answer_was_lost_shows_the_case_as_it_is_now(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    # Given a case's drawer, and a network that loses the answer to the dispute sent
    partner = backend.flagged_partner(f"Lost Answer {tag()} Ltd")
    sign_in_as(page, console, "fraud", f"active?q={partner.name}")
    drawer = open_case(page, partner.name)
    lose_the_first_answer(page, sent=True)

    # When the dispute is submitted (the API records it, the browser hears nothing)
    drawer.get_by_role("button", name="Dispute", exact=True).click()
    drawer.get_by_label("Reason for the dispute").fill("Customer verified by phone")
    drawer.get_by_role("button", name="Submit dispute").click()

    # Then the drawer says the network failed, and shows the case as it is now: disputed, with no
    # dispute to send again (a retry was refused as a conflict)
    message = drawer.locator(".form-message").first
    expect(message).to_contain_text("Network error")
    expect(message).to_contain_text("The case has changed since it was shown")
    expect(drawer.locator("dd").filter(has_text="Disputed").first).to_be_visible()
    expect(drawer.get_by_role("button", name="Dispute", exact=True)).to_have_count(0)
    expect(drawer.locator("dd", has_text="Customer verified by phone")).to_be_visible()  # recorded
    screenshot(page, "26-dispute-answer-lost", full_page=False)


def test_a_dispute_never_delivered_keeps_its_reason_to_send_again(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    # Given a case's drawer, and a network that drops the dispute before it reaches the API
    partner = backend.flagged_partner(f"Never Sent {tag()} Ltd")
    sign_in_as(page, console, "fraud", f"active?q={partner.name}")
    drawer = open_case(page, partner.name)
    lose_the_first_answer(page, sent=False)
    drawer.get_by_role("button", name="Dispute", exact=True).click()
    reason = drawer.get_by_label("Reason for the dispute")
    reason.fill("Customer verified by phone")
    drawer.get_by_role("button", name="Submit dispute").click()

    # Then the case read again is unchanged, says so, and the reason typed is still there to send
    message = drawer.locator(".form-message").first
    expect(message).to_contain_text("The case is unchanged: nothing was recorded")
    expect(reason).to_have_value("Customer verified by phone")
    drawer.get_by_role("button", name="Submit dispute").click()
    expect(message).to_contain_text("Dispute sent to the security team")


def test_an_actor_of_emoji_the_api_takes_is_not_cut_and_one_past_it_is_said(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    # Given an admin on API keys, and an actor's name of 200 characters, as many as the API takes
    # (180 of them emoji: 380 UTF-16 units, what a `maxlength` counts)
    sign_in_as(page, console, "admin", "keys")
    name = f"Dana Scully {tag()} " + "🔎" * 180
    assert len(name) == 200
    page.get_by_label("Role").select_option("fraud")
    page.get_by_label("Actor").fill(name)

    # When the key is created
    page.get_by_role("button", name="Create key").click()

    # Then the key's actor is the name typed, whole
    expect(page.get_by_label("New API key")).to_be_visible()
    assert name in [k["actor"] for k in backend.listed_keys()], "the actor was cut"

    # And a name past what the API takes is said on submit, naming the box, and nothing is created
    before = len(backend.listed_keys())
    page.get_by_label("Role").select_option("fraud")
    page.get_by_label("Actor").fill(name + "🔎")
    page.get_by_role("button", name="Create key").click()
    alert = page.get_by_role("alert")
    expect(alert).to_have_text("Actor takes at most 200 characters; this is 201.")
    expect(alert).to_be_focused()
    assert len(backend.listed_keys()) == before


# each figure's tile, and how far its figure runs past the tile's inner edge, or the tile past the box's
FIGURES_OVERFLOW = """() => [...document.querySelectorAll('.figures > div')].map((tile) => {
  const figure = tile.querySelector('dd');
  const box = tile.parentElement.getBoundingClientRect();
  const edge = tile.getBoundingClientRect().right - parseFloat(getComputedStyle(tile).paddingRight);
  const text = document.createRange();
  text.selectNodeContents(figure);
  const widest = text.getBoundingClientRect().right;
  return [tile.querySelector('dt').textContent, Math.max(
    widest - edge, figure.scrollWidth - figure.clientWidth, tile.getBoundingClientRect().right - box.right)];
})"""


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["laptop", "phone"])
def test_a_large_held_amount_stays_within_its_tile(
    page: Page, console: LocalSystem, backend: Backend, viewport: dict[str, int]
) -> None:
    # Given a reward of a billion euros on hold
    name = f"Billion Held {tag()} Ltd"
    partner = backend.flagged_partner(name, rewards=())
    backend.transaction(partner.partner_id, "1000000000.00", minutes=-30, currency="EUR")
    backend.wait_for_case(name, held=1)

    # When the program team opens Home
    page.set_viewport_size(viewport)
    sign_in_as(page, console, "fraud")
    held = page.locator(".figures dt", has_text="Held amount").locator("xpath=following-sibling::dd")
    expect(held).to_contain_text(re.compile(r"€\d,\d{3},\d{3},\d{3}"))  # a billion or more

    # Then every figure stays within its tile, and every tile within the box
    past = {label: over for label, over in page.evaluate(FIGURES_OVERFLOW) if over > 0.5}
    screenshot(page, f"26-large-held-amount-{viewport['width']}", full_page=False)
    assert not past, f"figures past their tile's edge, in pixels: {past}"


@pytest.mark.parametrize(
    ("route", "select", "value"),
    [("resolved?status=paid", "Status", "paid"), ("rewards?status=bogus", "Status", "bogus")],
)
def test_a_deep_link_status_none_of_the_choices_is_shown_as_asked_and_named_as_the_box(
    page: Page, console: LocalSystem, route: str, select: str, value: str
) -> None:
    # When a link asks a list for a status that is none of its select's choices
    sign_in_as(page, console, "fraud", route)

    # Then the select shows what the address asked for, saying it is not one of its choices
    box = page.get_by_label(select, exact=True)
    expect(box).to_have_value(value)
    expect(box.locator("option:checked")).to_have_text(f"{value} (not one of these)")
    # And the API's refusal names the parameter as the console names it, without `query.`
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Validation failed")
    expect(alert).not_to_contain_text("query.")
    if value == "paid":
        expect(alert).to_contain_text("status: one of approved, declined")
    screenshot(page, f"26-deep-link-status-{value}", full_page=False)


def test_a_status_picked_on_resolved_cases_searches_with_what_the_box_holds(
    page: Page, console: LocalSystem
) -> None:
    """SPEC 10: Resolved cases has a search box and a status filter; picking a status searched with
    the search last applied, and emptied what had been typed since (an auditor's find)."""
    sign_in_as(page, console, "fraud", "resolved")
    page.get_by_label("Search partners").fill("frank")

    page.get_by_label("Status").select_option(label="Declined")

    expect(page).to_have_url(re.compile(r"#/resolved\?.*q=frank"))
    expect(page).to_have_url(re.compile(r"status=declined"))
    expect(page.get_by_label("Search partners")).to_have_value("frank")


def chart_labels(page: Page) -> list[dict[str, float]]:
    """Each text of the Flags per day chart: its size on the screen (the font's CSS pixels times the
    SVG's scale) and whether it lies within the chart."""
    labels: list[dict[str, float]] = page.evaluate(
        """() => [...document.querySelectorAll(".flags-per-day svg.chart text")].map((t) => {
            const svg = t.ownerSVGElement;
            const box = t.getBoundingClientRect(), frame = svg.getBoundingClientRect();
            return {
                px: parseFloat(getComputedStyle(t).fontSize) * svg.getScreenCTM().a,
                inside: box.left >= frame.left - 0.5 && box.right <= frame.right + 0.5
                    && box.top >= frame.top - 0.5 && box.bottom <= frame.bottom + 0.5,
            };
        })"""
    )
    return labels


@pytest.mark.parametrize("resized", [False, True], ids=["opened-on-a-phone", "narrowed-to-a-phone"])
def test_the_flags_per_day_labels_are_readable_on_a_phone(
    page: Page, console: LocalSystem, backend: Backend, resized: bool
) -> None:
    # Given flags in the last 30 days, and Home at 390 pixels (opened so, or narrowed from a laptop)
    backend.flagged_partner(f"Phone Chart {tag()} plc")
    page.set_viewport_size(LAPTOP if resized else PHONE)
    sign_in_as(page, console, "fraud")
    chart = page.get_by_role("img", name=re.compile(r"^Flags per day"))
    expect(chart).to_be_visible()
    if resized:
        page.set_viewport_size(PHONE)

    # Then every axis label is drawn at least 11 pixels high (a viewBox scaled to the phone's
    # width drew them at 6), and within the chart
    # the chart is drawn again for its new width (a new element): measured once it is there
    expect(page.locator(".flags-per-day svg.chart text").first).to_be_visible()
    labels = chart_labels(page)
    for _ in range(20):  # a chart drawn again for its new width: within a frame or two
        if labels and min(label["px"] for label in labels) >= 11:
            break
        page.wait_for_timeout(100)
        labels = chart_labels(page)
    assert labels and min(label["px"] for label in labels) >= 11, labels
    assert all(label["inside"] for label in labels), labels
    page.locator(".flags-per-day").scroll_into_view_if_needed()
    screenshot(page, f"26-chart-390-{'narrowed' if resized else 'opened'}", full_page=False)
