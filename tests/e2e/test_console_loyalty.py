"""The loyalty back office in a real Chromium (SPEC 10 over SPEC 3.4): customer look-up and the four
status actions, campaigns with their counters against their caps, workflows listed, created, edited,
enabled or disabled and deleted."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LocalSystem
from tests.e2e.console.backend import Backend, unique
from tests.e2e.console.steps import go_to_tab, screenshot, sign_in_as

pytestmark = pytest.mark.e2e
pytest_plugins = ["tests.e2e.console.fixtures"]  # browser, page, console

# SPEC 3.4, word for word: what the workflow form must offer, no more, no less
TRIGGER_EVENTS = ["points.earned"]
EARN_KINDS = ["", "purchase", "campaign_bonus", "other"]  # "" is "any earn": `kind` absent
AGGREGATIONS = ["earned", "bonus", "spent"]
DATE_RANGES = [
    "today",
    "week_to_date",
    "month_to_date",
    "year_to_date",
    "last_7_days",
    "last_30_days",
    "lifetime",
]
AUDIENCES = ["current", "all"]
ACTION_TYPES = ["communication", "suspend", "block"]


def option_values(page: Page, label: str) -> list[str]:
    return (
        page.get_by_label(label, exact=True)
        .locator("option")
        .evaluate_all("options => options.map(o => o.value)")
    )


def test_a_suspend_from_the_page_blocks_a_spend_through_the_api(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    customer = unique("member")
    backend.earn(customer, 500)

    sign_in_as(page, console, "fraud", "customers")
    expect(page.get_by_role("heading", level=1, name="Loyalty customers")).to_be_visible()
    page.get_by_label("Customer ID").fill(customer)
    page.get_by_role("button", name="Look up").click()
    # the balance as shown (not the live region's line, "Look-up of ...: active, 500 points.")
    expect(page.get_by_text("500 points", exact=True)).to_be_visible()
    expect(page.get_by_role("definition").filter(has_text="Active")).to_be_visible()
    expect(page.get_by_role("heading", name="Aggregates")).to_be_visible()
    expect(page.get_by_role("row", name="Lifetime")).to_contain_text("500")

    # When the teammate suspends the customer from the page
    page.get_by_label("Note (optional)").fill("Points farming suspected")
    page.get_by_role("button", name="Suspend", exact=True).click()
    expect(page.get_by_role("definition").filter(has_text="Suspended")).to_be_visible()
    history = page.get_by_role("region", name="History")
    expect(history.get_by_role("row").filter(has_text="Demo fraud")).to_contain_text("Suspended")
    screenshot(page, "20-loyalty-customer")

    # Then a spend through the API is refused, and allowed again after Unsuspend (further down: an ID
    # that cannot be one takes this customer's actions away with its panel)
    refused = backend.spend(customer, 100)
    assert refused.status_code == 409, refused.text
    page.get_by_role("button", name="Unsuspend").click()
    expect(page.get_by_role("definition").filter(has_text="Active")).to_be_visible()
    assert backend.spend(customer, 100).status_code == 200

    # And Block, asked first (a click alone blocks no one), and Unblock work the same way
    page.get_by_role("button", name="Block", exact=True).click()
    expect(page.get_by_text(f"Block {customer}? They can neither earn nor spend")).to_be_visible()
    assert backend.spend(customer, 10).status_code == 200  # not blocked yet
    page.get_by_role("button", name="Confirm block").click()
    expect(page.get_by_role("definition").filter(has_text="Blocked")).to_be_visible()
    assert backend.spend(customer, 10).status_code == 409
    page.get_by_role("button", name="Unblock").click()
    expect(page.get_by_role("definition").filter(has_text="Active")).to_be_visible()
    expect(history.get_by_role("row")).to_have_count(5)  # header + four changes

    # And an ID that cannot be one, typed over this customer, leaves none of its actions to press
    page.get_by_label("Customer ID").fill("a/b")
    page.get_by_role("button", name="Look up").click()
    expect(page.get_by_role("alert")).to_contain_text("A customer ID is 1 to 128 ASCII letters, digits")
    expect(page.get_by_role("button", name="Block", exact=True)).to_have_count(0)
    expect(page.get_by_role("heading", name=f"Customer {customer}")).to_have_count(0)
    screenshot(page, "20b-loyalty-customer-id-refused")


def test_an_unknown_customer_is_said_so_and_an_id_that_cannot_be_one_is_explained(
    page: Page, console: LocalSystem
) -> None:
    customer = unique("nobody")
    answer = requests.get(
        f"{console.api_url}/v1/loyalty/customers/{customer}",
        headers={"Authorization": f"Bearer {console.keys['fraud']}"},
        timeout=10,
    )
    assert answer.status_code == 404
    sign_in_as(page, console, "fraud", f"customers/{customer}")
    expect(page.get_by_text(f"No customer with the ID {customer} in this program.")).to_be_visible()
    # an ID no customer can have (a slash: the router's "no route ..." was shown) is explained
    page.get_by_label("Customer ID").fill("a/b")
    page.get_by_role("button", name="Look up").click()
    expect(page.get_by_role("alert")).to_contain_text("A customer ID is 1 to 128 ASCII letters, digits")
    expect(page.get_by_label("Customer ID")).to_be_focused()


def test_a_refused_id_typed_while_a_customer_loads_leaves_no_actions_when_it_arrives(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    customer = unique("member")
    backend.earn(customer, 300)
    sign_in_as(page, console, "fraud", "customers")
    released = []

    def slowly(route) -> None:  # a slow API: the look-up answers after the next ID is refused
        page.wait_for_timeout(1500)
        released.append(route.request.url)
        route.continue_()

    page.route(f"**/v1/loyalty/customers/{customer}", slowly)
    page.get_by_label("Customer ID").fill(customer)
    page.get_by_role("button", name="Look up").click()
    expect(page.get_by_text("Loading the customer")).to_be_visible()
    page.get_by_label("Customer ID").fill("a/b")
    page.get_by_role("button", name="Look up").click()

    page.wait_for_timeout(2500)  # the look-up's answer has come
    assert released
    expect(page.get_by_role("alert")).to_contain_text("A customer ID is 1 to 128 ASCII letters, digits")
    expect(page.get_by_role("button", name="Suspend", exact=True)).to_have_count(0)
    expect(page.get_by_role("heading", name=f"Customer {customer}")).to_have_count(0)


def test_a_campaign_created_on_the_page_shows_its_counters_against_its_caps(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    campaign = unique("spring")
    sign_in_as(page, console, "admin", "campaigns")
    expect(page.get_by_role("heading", level=1, name="Campaigns")).to_be_visible()
    page.get_by_role("link", name="New campaign").click()
    expect(page.get_by_role("form", name="New campaign")).to_be_visible()
    page.get_by_label("Campaign ID").fill(campaign)
    page.get_by_label("Total cap", exact=True).fill("1000")
    page.get_by_label("Per-customer cap").fill("300")
    page.get_by_label("Limit behaviour").select_option("dynamic")
    page.get_by_role("button", name="Save campaign").click()
    expect(page.get_by_text("Campaign saved.")).to_be_visible()
    expect(page.get_by_text("0 of 1,000 points", exact=True)).to_be_visible()

    # When customers receive bonuses through the API, the counters follow
    backend.earn(unique("member"), 250, kind="campaign_bonus", campaign_id=campaign)
    granted = backend.earn(unique("member"), 400, kind="campaign_bonus", campaign_id=campaign)
    assert granted["granted"] == 300 and granted["limited_by"] == "customer"
    page.reload()
    expect(page.get_by_text("550 of 1,000 points", exact=True)).to_be_visible()
    expect(page.locator(".figures > div").filter(has_text="Customers")).to_contain_text("2")
    screenshot(page, "21-campaign")

    # And an edit through the form is a PUT of the new caps
    page.get_by_label("Total cap", exact=True).fill("2000")
    page.get_by_role("button", name="Save campaign").click()
    expect(page.get_by_text("550 of 2,000 points", exact=True)).to_be_visible()

    # And the Campaigns tab lists it with its caps as saved, and opens it from there
    go_to_tab(page, "Campaigns")
    listed = page.get_by_role("region", name="Campaign list").get_by_role("row").filter(has_text=campaign)
    expect(listed).to_contain_text("2,000")
    expect(listed).to_contain_text("Dynamic")
    screenshot(page, "21b-campaign-list")
    listed.get_by_role("link", name=campaign).click()
    expect(page.get_by_text("550 of 2,000 points", exact=True)).to_be_visible()

    # And a new campaign under its ID changes nothing of it: the form says it exists, and links it
    go_to_tab(page, "Campaigns")
    page.get_by_role("link", name="New campaign").click()
    # the new form drawn first: the list's own `Campaign ID` box (Open) has the same label
    expect(page.get_by_role("heading", name="New campaign", level=2)).to_be_visible()
    page.get_by_label("Campaign ID").fill(campaign)
    page.get_by_label("Total cap", exact=True).fill("5")
    page.get_by_label("Per-customer cap").fill("5")
    page.get_by_role("button", name="Save campaign").click()
    expect(page.get_by_role("alert")).to_contain_text(f"A campaign {campaign} exists already")
    assert backend.campaign(campaign)["total_cap"] == 2000


def test_workflows_are_created_edited_switched_off_and_deleted(page: Page, console: LocalSystem) -> None:
    workflow = unique("weekly-warning")
    fraud = requests.Session()
    fraud.headers["Authorization"] = f"Bearer {console.keys['fraud']}"
    api = f"{console.api_url}/v1/loyalty/workflows/{workflow}"

    sign_in_as(page, console, "fraud", "workflows")
    expect(page.get_by_role("heading", level=1, name="Workflows")).to_be_visible()
    page.get_by_role("link", name="New workflow").click()
    expect(page.get_by_label("Workflow ID")).to_be_visible()

    # The form offers exactly SPEC 3.4's choices
    assert option_values(page, "Event") == TRIGGER_EVENTS
    assert option_values(page, "Earn kind") == EARN_KINDS
    assert option_values(page, "Aggregation") == AGGREGATIONS
    assert option_values(page, "Date range") == DATE_RANGES
    assert option_values(page, "Customers") == AUDIENCES
    assert option_values(page, "Action") == ACTION_TYPES

    page.get_by_label("Workflow ID").fill(workflow)
    page.get_by_label("Aggregation").select_option("earned")
    page.get_by_label("Date range").select_option("week_to_date")
    page.get_by_label("Threshold").fill("3000")
    page.get_by_label("Event name").fill("loyalty.warning")
    page.get_by_label("Payload (JSON)").fill('{"template": "points-warning"}')
    page.get_by_role("button", name="Add action").click()
    page.get_by_label("Action", exact=True).nth(1).select_option("suspend")
    screenshot(page, "22-workflow-form")
    page.get_by_role("button", name="Save workflow").click()

    expect(page.get_by_text(f"Workflow {workflow} saved.")).to_be_visible()
    row = page.get_by_role("row").filter(has_text=workflow)
    expect(row).to_contain_text("more than 3000")
    expect(row).to_contain_text('Communication "loyalty.warning"')
    saved = fraud.get(api, timeout=10).json()
    assert saved["trigger"] == {"event": "points.earned"}
    assert saved["filter"] == {
        "aggregation": "earned",
        "date_range": "week_to_date",
        "customer": "current",
        "threshold": 3000,
    }
    assert saved["actions"] == [
        {"type": "communication", "event": "loyalty.warning", "payload": {"template": "points-warning"}},
        {"type": "suspend"},
    ]
    assert saved["enabled"] is True
    screenshot(page, "23-workflows")

    # Switched off in place
    row.get_by_role("switch").uncheck()
    expect(page.get_by_text(f"Workflow {workflow} disabled.")).to_be_visible()
    assert fraud.get(api, timeout=10).json()["enabled"] is False

    # Edited
    row.get_by_role("link", name=f"Edit {workflow}").click()
    page.get_by_label("Threshold").fill("5000")
    page.get_by_label("Earn kind").select_option("campaign_bonus")
    page.get_by_role("button", name="Save workflow").click()
    expect(page.get_by_text(f"Workflow {workflow} saved.")).to_be_visible()
    edited = fraud.get(api, timeout=10).json()
    assert edited["filter"]["threshold"] == 5000 and edited["trigger"]["kind"] == "campaign_bonus"
    assert edited["enabled"] is False

    # Deleted
    row.get_by_role("button", name=f"Delete {workflow}").click()
    row.get_by_role("button", name="Confirm delete").click()
    expect(page.get_by_text(f"Workflow {workflow} deleted.")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text=workflow)).to_have_count(0)
    assert fraud.get(api, timeout=10).status_code == 404


def test_the_loyalty_tabs_show_their_empty_and_start_states(page: Page, console: LocalSystem) -> None:
    sign_in_as(page, console, "fraud")
    go_to_tab(page, "Loyalty customers")
    expect(page.get_by_text("Enter a customer ID", exact=False)).to_be_visible()
    go_to_tab(page, "Campaigns")  # the program's campaigns, or none yet (the console is shared)
    listed = page.get_by_role("heading", name="The program's campaigns")
    expect(listed.or_(page.get_by_text("No campaign yet. Create one with New campaign."))).to_be_visible()


def test_a_validation_error_from_the_api_is_shown_with_its_fields(page: Page, console: LocalSystem) -> None:
    sign_in_as(page, console, "fraud", "workflows?new=1")
    page.get_by_label("Workflow ID").fill(unique("bad"))
    page.get_by_label("Threshold").fill("10")
    page.get_by_label("Event name").fill("not a valid event name")  # spaces: refused by the API
    page.get_by_role("button", name="Save workflow").click()

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("actions.0.event")  # the field the API named
    expect(page.get_by_role("heading", name="New workflow")).to_be_visible()  # still on the form
    screenshot(page, "24-validation-error")


def test_the_customer_shows_bars_beside_the_aggregates_and_pages_its_history_newest_first(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    customer = unique("member")
    backend.earn(customer, 300)
    backend.earn(customer, 100)
    fraud = {"Authorization": f"Bearer {console.keys['fraud']}"}
    for n in range(12):
        change = "suspend" if n % 2 == 0 else "unsuspend"
        answer = requests.post(
            f"{console.api_url}/v1/loyalty/customers/{customer}/{change}",
            json={"note": f"change {n:02}"},
            headers=fraud,
            timeout=10,
        )
        assert answer.status_code == 200, answer.text

    sign_in_as(page, console, "fraud", f"customers/{customer}")
    lifetime = page.get_by_role("row", name="Lifetime")
    expect(lifetime).to_contain_text("400")
    # a bar beside each number, hidden from screen readers (the number says the same)
    bars = lifetime.locator("svg.meter")
    expect(bars).to_have_count(3)
    fill = bars.first.locator("rect.meter-fill")
    assert float(fill.get_attribute("width") or 0) == 100.0  # lifetime earned is its column's largest
    assert bars.first.get_attribute("aria-hidden") == "true"

    history = page.get_by_role("region", name="History").last
    rows = history.get_by_role("row")
    expect(rows).to_have_count(11)  # header + the 10 newest
    expect(rows.nth(1)).to_contain_text("change 11")
    expect(rows.nth(10)).to_contain_text("change 02")
    screenshot(page, "21-loyalty-customer-bars-and-history")

    page.get_by_role("link", name="Older entries").click()
    expect(rows).to_have_count(3)
    expect(rows.nth(1)).to_contain_text("change 01")
    expect(rows.nth(2)).to_contain_text("change 00")
    expect(page.get_by_role("link", name="Older entries")).to_have_count(0)
    page.get_by_role("link", name="Newest entries").click()
    expect(rows.nth(1)).to_contain_text("change 11")
