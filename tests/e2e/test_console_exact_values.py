"""What a tester of the web console found (twenty-eighth session), in a real Chromium: amounts in a
currency whose decimals the browser rounds away (HUF 1250.28 shown as "HUF 1,250"), and a campaign
whose end moved a minute early when only its cap was changed and saved."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import LocalSystem
from tests.e2e.console.backend import Backend, unique
from tests.e2e.console.steps import case_row, close_case, open_case, screenshot, sign_in_as, tag

pytestmark = pytest.mark.e2e
pytest_plugins = ["tests.e2e.console.fixtures"]  # browser, page, console

# rewards in currencies of 2 and 3 decimal places that Chromium shows with none of its own
HELD = (("1249.88", "HUF"), ("0.40", "HUF"), ("150000.50", "IDR"), ("2.125", "IQD"))


def shown(money: dict[str, Any]) -> str:
    """An amount as the console must show it under en-GB: the currency's code (none of these has a
    symbol there), the amount grouped, every digit the API sent ("HUF 1,250.28")."""
    return f"{money['currency']} {format(Decimal(money['amount']), ',')}"


def expect_amounts(where: Locator, amounts: list[dict[str, Any]]) -> None:
    for money in amounts:
        expect(where).to_contain_text(shown(money))


def fact(page: Page, drawer: Locator, term: str) -> Locator:
    """The value of one of the drawer's details (`Hold amount`, `Revenue`)."""
    named = page.get_by_role("term").filter(has_text=re.compile(f"^{term}$"))
    return drawer.locator(".details > div").filter(has=named)


def test_amounts_show_every_decimal_the_api_sent(page: Page, console: LocalSystem, backend: Backend) -> None:
    # Given a flagged partner whose held rewards are in HUF, IDR and IQD
    partner = backend.flagged_partner(f"Forint Rewards {tag()} Kft", rewards=())
    rewards = [
        backend.transaction(partner.partner_id, amount, minutes=-20 + i, currency=currency)
        for i, (amount, currency) in enumerate(HELD)
    ]
    case = backend.wait_for_case(partner.name, held=len(rewards))
    held = {m["currency"]: m["amount"] for m in case["hold_amounts"]}
    assert held == {"HUF": "1250.28", "IDR": "150000.50", "IQD": "2.125"}, held

    # When the analyst looks at Active cases
    sign_in_as(page, console, "fraud", f"active?q={partner.name}")
    row = case_row(page, partner.name)

    # Then the row's hold amount is the API's, to the last decimal
    expect_amounts(row, case["hold_amounts"])
    expect(row).to_contain_text("HUF 1,250.28")
    expect(row).not_to_contain_text("HUF 1,250,")  # not rounded to "HUF 1,250"

    # And so are the drawer's Hold amount, Revenue, and each held reward (HUF 0.40, not "HUF 0")
    detail = backend.fraud.get(backend.url(f"/v1/cases/{case['id']}"), timeout=10).json()
    revenue = detail["partner"]["revenue"]
    assert {m["currency"] for m in revenue} >= {"HUF", "IDR", "IQD"}, revenue
    drawer = open_case(page, partner.name)
    expect_amounts(fact(page, drawer, "Hold amount"), case["hold_amounts"])
    expect_amounts(fact(page, drawer, "Revenue"), revenue)
    held_rewards = drawer.get_by_role("region", name="Held rewards")
    for amount, currency in HELD:
        expect_amounts(held_rewards, [{"amount": amount, "currency": currency}])
    expect(held_rewards.get_by_role("cell", name="HUF 0.40", exact=True)).to_have_count(1)
    screenshot(page, "28-amounts-in-their-currency-decimals")

    # And the home page's Held amount is the summary's, every currency to its last decimal
    # (back on the list first: nothing of the drawer's closing can land after the home page's)
    close_case(page, drawer)
    summary = backend.fraud.get(backend.url("/v1/summary"), timeout=10).json()
    page.goto(f"{console.api_url}/#/")
    expect(page).to_have_url(re.compile(r"#/$"))
    figure = page.get_by_role("definition").filter(has=page.locator(".amounts"))
    # (those of this test's currencies: other tests hold USD, shown as "US$" in en-GB)
    ours = [m for m in summary["held_rewards"]["amounts"] if m["currency"] in held]
    assert len(ours) == len(held), summary
    expect_amounts(figure, ours)
    screenshot(page, "28b-held-amount-on-home", full_page=False)


def campaign_with_times(backend: Backend, starts_at: str, ends_at: str) -> dict[str, Any]:
    campaign_id = unique("winter")
    body = {
        "total_cap": 10_000,
        "per_customer_cap": 500,
        "limit_behavior": "hard",
        "starts_at": starts_at,
        "ends_at": ends_at,
    }
    answer = backend.fraud.put(backend.url(f"/v1/loyalty/campaigns/{campaign_id}"), json=body, timeout=10)
    assert answer.status_code in (200, 201), answer.text
    return backend.campaign(campaign_id)


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_saving_a_campaigns_cap_keeps_its_times_to_the_millisecond(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    # Given a campaign made through the API that starts and ends on seconds and milliseconds
    before = campaign_with_times(backend, "2026-11-01T08:30:15Z", "2026-11-30T23:59:59.999Z")
    assert instant(before["ends_at"]) == instant("2026-11-30T23:59:59.999Z"), before

    # When an analyst opens it (the browser in UTC), changes only its per-customer cap and saves
    sign_in_as(page, console, "fraud", f"campaigns/{before['id']}")
    form = page.get_by_role("form", name="Edit campaign")
    # the page shows the times as stored, to the second and millisecond, not cut to the minute
    expect(form.get_by_label("Starts at")).to_have_value("2026-11-01T08:30:15")
    expect(form.get_by_label("Ends at")).to_have_value("2026-11-30T23:59:59.999")
    counters = page.get_by_role("region", name="Counters")
    expect(counters).to_contain_text("1 Nov 2026, 08:30:15")
    expect(counters).to_contain_text("30 Nov 2026, 23:59:59.999")
    form.get_by_label("Per-customer cap").fill("750")
    form.get_by_role("button", name="Save campaign").scroll_into_view_if_needed()
    screenshot(page, "28c-campaign-times-as-stored", full_page=False)
    form.get_by_role("button", name="Save campaign").click()
    expect(page.get_by_text("Campaign saved.")).to_be_visible()

    # Then the cap changed, and the times are exactly what the API gave, not a minute earlier
    after = backend.campaign(before["id"])
    assert after["per_customer_cap"] == 750
    assert (after["starts_at"], after["ends_at"]) == (before["starts_at"], before["ends_at"]), after

    # And a time the analyst does change is saved as typed
    page.get_by_role("form", name="Edit campaign").get_by_label("Ends at").fill("2026-12-01T10:00")
    page.get_by_role("form", name="Edit campaign").get_by_role("button", name="Save campaign").click()
    expect(page.get_by_role("region", name="Counters")).to_contain_text("1 Dec 2026, 10:00")
    changed = backend.campaign(before["id"])
    assert instant(changed["ends_at"]) == instant("2026-12-01T10:00:00Z"), changed
    assert changed["starts_at"] == before["starts_at"], changed


# past 2^53: a JavaScript number would read it as 12345678901234567000
ORDER_REFERENCE = 12345678901234567890


def test_saving_a_workflow_keeps_its_payload_numbers_digit_for_digit(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    # Given a workflow made through the API whose communication carries a long integer
    workflow = unique("order-warning")
    path = backend.url(f"/v1/loyalty/workflows/{workflow}")
    payload = {"template": "points-warning", "order_ref": ORDER_REFERENCE}
    body = {
        "trigger": {"event": "points.earned"},
        "filter": {"aggregation": "earned", "date_range": "lifetime", "customer": "current", "threshold": 9},
        "actions": [{"type": "communication", "event": "loyalty.warning", "payload": payload}],
        "enabled": True,
    }
    made = backend.fraud.put(path, json=body, timeout=10)
    assert made.status_code in (200, 201), made.text
    assert backend.fraud.get(path, timeout=10).json()["actions"][0]["payload"] == payload

    # When an analyst switches it off in the list, then edits only its threshold
    sign_in_as(page, console, "fraud", "workflows")
    row = page.get_by_role("row").filter(has_text=workflow)
    row.get_by_role("switch").uncheck()
    expect(page.get_by_text(f"Workflow {workflow} disabled.")).to_be_visible()
    assert backend.fraud.get(path, timeout=10).json()["actions"][0]["payload"] == payload
    row.get_by_role("link", name=f"Edit {workflow}").click()
    # the form shows the number as stored
    shown_payload = page.get_by_label("Payload (JSON)")
    expect(shown_payload).to_have_value(re.compile(f'"order_ref": {ORDER_REFERENCE}\\b'))
    page.get_by_label("Threshold").fill("1200")
    page.get_by_role("button", name="Save workflow").click()
    expect(page.get_by_text(f"Workflow {workflow} saved.")).to_be_visible()

    # Then its payload is as it was, digit for digit
    saved = backend.fraud.get(path, timeout=10).json()
    assert saved["filter"]["threshold"] == 1200 and saved["enabled"] is False
    assert saved["actions"][0]["payload"] == payload, saved["actions"]
