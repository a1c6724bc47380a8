"""What a second console tester found (thirty-second session), in a real Chromium: free text that
did not wrap and pushed a table's sort buttons off a laptop's screen; a new key or signing secret
still offered after it was revoked or its webhook deleted; the focus dropped to the page when a
webhook's action was refused; the list of webhooks left as it was when one was refused for being
deleted or disabled meanwhile; `Send again` answered a screen above the deliveries on a phone; a
workflow or a campaign whose ID is "new" could not be opened, that address being the new form's."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import LocalSystem
from tests.e2e.console.backend import Backend, mailbox
from tests.e2e.console.steps import LAPTOP, screenshot, sign_in_as, tag
from tests.e2e.test_webhooks import flag_a_partner, flags_of, wait_for
from tests.integration.webhook_support import receiving

pytestmark = pytest.mark.e2e
pytest_plugins = ["tests.e2e.console.fixtures"]  # browser, page, console

# a pasted link, one word of 150 characters
PASTED_URL = (
    "https://drive.example.com/file/d/" + "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_" * 3 + "/view?usp=sharing"
)


def fits_the_screen(page: Page, table: str) -> None:
    """The table `table` is no wider than its region: nothing to scroll sideways to on a laptop."""
    region = page.get_by_role("region", name=table)
    widths = region.evaluate("e => [e.scrollWidth, e.clientWidth]")
    assert widths[0] <= widths[1], f"{table} is {widths[0]} px wide in {widths[1]} px"


def test_a_resolved_case_with_a_pasted_link_as_its_dispute_reason_fits_a_laptop(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    # Given a case disputed with a link as its reason, approved, and resolved by the cycle
    partner = backend.flagged_partner(f"Linked {tag()} Ltd", rewards=("5.00",))
    case = partner.case["id"]
    answer = backend.fraud.post(
        backend.url(f"/v1/cases/{case}/dispute"), json={"reason": f"Evidence: {PASTED_URL}"}, timeout=10
    )
    assert answer.status_code == 200, answer.text
    answer = backend.security.post(
        backend.url(f"/v1/disputes/{case}/verdict"), json={"verdict": "approve", "note": "ok"}, timeout=10
    )
    assert answer.status_code == 200, answer.text
    backend.run_dispute_cycle()

    # When a fraud analyst lists it in Resolved cases on a laptop
    sign_in_as(page, console, "fraud", f"resolved?q={partner.name}")
    row = page.get_by_role("row").filter(has_text=partner.name)
    expect(row).to_contain_text(PASTED_URL[:40])

    # Then the link wraps in its cell: the table fits, its sort buttons on the screen
    screenshot(page, "resolved-pasted-link", full_page=False)
    fits_the_screen(page, "Resolved cases")
    box = page.get_by_role("button", name="Resolved date").bounding_box()
    assert box and box["x"] + box["width"] <= LAPTOP["width"], box


def test_a_removed_partner_whose_flag_names_a_long_partner_id_fits_a_laptop(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    # Given a partner flagged for the e-mail address of a partner with a 128-character ID (the
    # flag reason's detail names it), then removed
    email = f"{mailbox('dup')}@example.com"
    backend.scored(
        backend.partnership(f"p-{uuid.uuid4().hex}".ljust(128, "x"), tag("Original"), email, minutes=-120)
    )
    name = f"Removed Long {tag()} Ltd"
    flagged = backend.partnership(f"p-{uuid.uuid4().hex[:8]}", name, email.upper(), minutes=-60)
    assert backend.scored(flagged)["decision"]["action"] == "flag"
    case = backend.wait_for_case(name, held=0)
    answer = backend.fraud.post(
        backend.url(f"/v1/cases/{case['id']}/remove"), json={"block_reapply": False}, timeout=10
    )
    assert answer.status_code == 200, answer.text

    # When Removed partners is shown on a laptop, Then the reason wraps and the table fits
    sign_in_as(page, console, "fraud", "removed")
    expect(page.get_by_role("row").filter(has_text=name)).to_contain_text("x" * 20)
    screenshot(page, "removed-long-flag-reason", full_page=False)
    fits_the_screen(page, "Removed partners")


def test_a_key_revoked_on_the_page_that_made_it_is_no_longer_offered_to_hand_over(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    # Given an admin who created a key on the API keys page, beside another made before
    other = f"Other {tag()}"
    backend.create_key("fraud", other)
    actor = f"Handed {tag()}"
    sign_in_as(page, console, "admin", "keys")
    page.get_by_label("Role").select_option("fraud")
    page.get_by_label("Actor").fill(actor)
    page.get_by_role("button", name="Create key").click()
    card = page.get_by_role("region", name=f"New key for {actor}")
    expect(card.get_by_label("New API key")).to_have_value(re.compile(r"\S{20,}"))

    # When another key is revoked, Then the card stays
    page.get_by_role("button", name=f"Revoke the key of {other}").click()
    page.get_by_role("button", name="Confirm revoke").click()
    expect(page.get_by_text(f"The key of {other} is revoked.")).to_be_visible()
    expect(card).to_be_visible()

    # When the new key itself is revoked, Then it is no longer offered to copy and hand over
    page.get_by_role("button", name=f"Revoke the key of {actor}").click()
    page.get_by_role("button", name="Confirm revoke").click()
    expect(page.get_by_text(f"The key of {actor} is revoked.")).to_be_focused()
    expect(card).to_have_count(0)
    expect(page.get_by_text("Copy the key now")).to_have_count(0)
    screenshot(page, "key-revoked-after-creating-it", full_page=False)


def test_a_webhook_deleted_on_the_page_that_made_it_no_longer_shows_its_secret(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    # Given an admin who made a webhook on the Webhooks page, its signing secret shown
    made = f"gone-{uuid.uuid4().hex[:8]}"
    sign_in_as(page, console, "admin", "webhooks")
    page.get_by_label("Webhook ID").fill(made)
    page.get_by_label("URL").fill("http://127.0.0.1:9/gone")
    page.get_by_label("PartnerFlagged").check()
    page.get_by_role("button", name="Save webhook").click()
    expect(page.get_by_label("Signing secret", exact=True)).to_have_value(re.compile(r"^whsec_"))

    # When they delete it from its row
    page.get_by_role("button", name=f"Delete {made}").click()
    page.get_by_role("button", name="Confirm delete").click()
    expect(page.get_by_text(f"Webhook {made} deleted.")).to_be_visible()

    # Then the secret of a webhook that no longer exists is not offered
    expect(page.get_by_label("Signing secret", exact=True)).to_have_count(0)
    expect(page.get_by_text(f"Signing secret of {made}")).to_have_count(0)
    assert backend.admin.get(backend.url(f"/v1/webhooks/{made}"), timeout=10).status_code == 404


HOOK = {"url": "http://127.0.0.1:9/hook", "events": ["PartnerFlagged"], "enabled": True}


@pytest.fixture
def delivered(console: LocalSystem, backend: Backend) -> Iterator[tuple[str, str]]:
    """A webhook of the program (its ID, and the ID of a delivery it made to a receiver answering
    200); deleted after the test."""
    made = f"dlv-{uuid.uuid4().hex[:8]}"
    for receiver in receiving([200]):
        answer = backend.admin.put(
            backend.url(f"/v1/webhooks/{made}"), json={**HOOK, "url": receiver.url}, timeout=10
        )
        assert answer.status_code == 200, answer.text
        partner_id, _, _ = flag_a_partner(console)
        [got] = wait_for(lambda: flags_of(receiver, partner_id))
        yield made, json.loads(got.body)["id"]
    backend.admin.delete(backend.url(f"/v1/webhooks/{made}"), timeout=10)


def webhook_row(page: Page, webhook_id: str) -> Locator:
    table = page.get_by_role("table", name="Webhooks of this program")
    return table.get_by_role("row").filter(has=page.get_by_role("rowheader", name=webhook_id))


def set_webhook(backend: Backend, webhook_id: str, **settings: object) -> None:
    """Another admin's change, through the API."""
    now = backend.admin.get(backend.url(f"/v1/webhooks/{webhook_id}"), timeout=10).json()
    body = {"url": now["url"], "events": now["events"], "enabled": now["enabled"], **settings}
    answer = backend.admin.put(backend.url(f"/v1/webhooks/{webhook_id}"), json=body, timeout=10)
    assert answer.status_code == 200, answer.text


def test_a_refused_save_of_a_webhook_puts_the_focus_on_why(page: Page, console: LocalSystem) -> None:
    sign_in_as(page, console, "admin", "webhooks")
    page.get_by_label("Webhook ID").fill(f"private-{uuid.uuid4().hex[:8]}")
    page.get_by_label("URL").fill("https://10.1.2.3/hook")
    page.get_by_label("PartnerFlagged").check()
    page.get_by_role("button", name="Save webhook").press("Enter")

    said = page.get_by_role("alert").filter(has_text="not a public address")
    expect(said).to_be_focused()  # not the page's body: the next Tab goes on from there


def test_a_refused_rotation_puts_the_focus_on_why(page: Page, console: LocalSystem, backend: Backend) -> None:
    # Given a webhook listed, then deleted by another admin
    made = f"rot-{uuid.uuid4().hex[:8]}"
    assert backend.admin.put(backend.url(f"/v1/webhooks/{made}"), json=HOOK, timeout=10).status_code == 200
    sign_in_as(page, console, "admin", "webhooks")
    rotate = webhook_row(page, made).get_by_role("button", name="Rotate secret")
    expect(rotate).to_be_visible()
    assert backend.admin.delete(backend.url(f"/v1/webhooks/{made}"), timeout=10).status_code == 204

    # When the admin rotates its secret from the keyboard, Then the focus is on the refusal
    rotate.press("Enter")
    expect(page.get_by_role("alert").filter(has_text="was deleted")).to_be_focused()
    expect(page.get_by_label("Signing secret", exact=True)).to_have_count(0)


def test_a_refused_send_again_puts_the_focus_on_why(
    page: Page, console: LocalSystem, backend: Backend, delivered: tuple[str, str]
) -> None:
    # Given an admin showing a webhook's deliveries, which another admin then disables
    made, delivery = delivered
    sign_in_as(page, console, "admin", "webhooks")
    webhook_row(page, made).get_by_role("button", name="Deliveries").click()
    line = (
        page.get_by_role("table", name=f"Deliveries of {made}").get_by_role("row").filter(has_text=delivery)
    )
    expect(line).to_contain_text("Delivered")
    set_webhook(backend, made, enabled=False)

    # When the admin sends the delivery again, Then the focus is on the refusal
    line.get_by_role("button", name="Send again").press("Enter")
    expect(page.get_by_role("alert").filter(has_text="disabled")).to_be_focused()


@pytest.mark.parametrize("action", ["Rotate secret", "Delete"])
def test_a_webhook_another_admin_deleted_leaves_the_list_when_an_action_on_it_is_refused(
    page: Page, console: LocalSystem, backend: Backend, action: str
) -> None:
    # Given a webhook listed, then deleted by another admin
    made = f"gone-{uuid.uuid4().hex[:8]}"
    assert backend.admin.put(backend.url(f"/v1/webhooks/{made}"), json=HOOK, timeout=10).status_code == 200
    sign_in_as(page, console, "admin", "webhooks")
    row = webhook_row(page, made)
    expect(row).to_be_visible()
    assert backend.admin.delete(backend.url(f"/v1/webhooks/{made}"), timeout=10).status_code == 204

    # When the admin rotates its secret, or deletes it
    if action == "Delete":
        row.get_by_role("button", name=f"Delete {made}").click()
        row.get_by_role("button", name="Confirm delete").click()
    else:
        row.get_by_role("button", name=action).click()

    # Then the page says it was deleted, and its row is gone
    expect(page.get_by_role("alert").filter(has_text=f"Webhook {made} was deleted")).to_be_focused()
    expect(row).to_have_count(0)
    expect(page.get_by_text("Not found")).to_have_count(0)


def test_send_again_of_a_webhook_disabled_meanwhile_shows_it_disabled_and_says_how_to_enable_it(
    page: Page, console: LocalSystem, backend: Backend, delivered: tuple[str, str]
) -> None:
    # Given an admin showing a webhook's deliveries, which another admin then disables
    made, delivery = delivered
    sign_in_as(page, console, "admin", "webhooks")
    row = webhook_row(page, made)
    row.get_by_role("button", name="Deliveries").click()
    line = (
        page.get_by_role("table", name=f"Deliveries of {made}").get_by_role("row").filter(has_text=delivery)
    )
    expect(line).to_contain_text("Delivered")
    expect(row).to_contain_text("Enabled")
    set_webhook(backend, made, enabled=False)

    # When the admin sends the delivery again
    line.get_by_role("button", name="Send again").click()

    # Then the row shows it disabled, and the page says how to enable it here (not the API's PUT)
    said = page.get_by_role("alert").filter(has_text=f"Webhook {made} is disabled, so nothing was sent")
    expect(said).to_contain_text("tick Enabled and save, then Send again")
    expect(said).not_to_contain_text("PUT")
    expect(row).to_contain_text("Disabled")
    screenshot(page, "send-again-of-a-disabled-webhook", full_page=False)
    said.get_by_role("link", name="edit it").click()
    form = page.get_by_role("form", name=f"Edit webhook {made}")
    expect(form.get_by_label("Enabled")).not_to_be_checked()


def test_send_again_on_a_phone_says_what_it_did_where_the_deliveries_are(
    page: Page, console: LocalSystem, backend: Backend, delivered: tuple[str, str]
) -> None:
    # Given an admin on a 360 px phone, scrolled down to a webhook's deliveries
    made, delivery = delivered
    page.set_viewport_size({"width": 360, "height": 740})
    sign_in_as(page, console, "admin", "webhooks")
    webhook_row(page, made).get_by_role("button", name="Deliveries").click()
    line = (
        page.get_by_role("table", name=f"Deliveries of {made}").get_by_role("row").filter(has_text=delivery)
    )
    expect(line).to_contain_text("Delivered")

    # When they send a delivery again, Then what it did is said where they are, and focused
    line.get_by_role("button", name="Send again").click()
    said = page.get_by_text(f"Delivery {delivery} is being sent again.")
    expect(said).to_be_focused()
    expect(said).to_be_in_viewport()
    screenshot(page, "send-again-on-a-phone", full_page=False)

    # and so is a refusal (the webhook disabled meanwhile)
    set_webhook(backend, made, enabled=False)
    line.get_by_role("button", name="Send again").click()
    refused = page.get_by_role("alert").filter(has_text="is disabled, so nothing was sent")
    expect(refused).to_be_focused()
    expect(refused).to_be_in_viewport()
    expect(said).to_have_count(0)  # what it did before is not said any more


WORKFLOW = {
    "trigger": {"event": "points.earned"},
    "filter": {"aggregation": "earned", "date_range": "today", "customer": "current", "threshold": 777},
    "actions": [{"type": "suspend"}],
    "enabled": True,
}


def test_a_workflow_and_a_campaign_whose_id_is_new_are_opened_to_edit(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    workflows = backend.url("/v1/loyalty/workflows/new")
    backend.fraud.delete(workflows, timeout=10)
    # Given no workflow "new" yet: the old address of the new-workflow form still opens it
    sign_in_as(page, console, "fraud", "workflows/new")
    expect(page.get_by_role("heading", name="New workflow")).to_be_visible()
    expect(page.get_by_label("Workflow ID")).to_have_value("")

    try:
        # When a workflow's ID is "new"
        assert backend.fraud.put(workflows, json=WORKFLOW, timeout=10).status_code == 200

        # Then its row's Edit opens it, as it is
        page.goto(f"{console.api_url}/#/workflows")
        row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name="new", exact=True))
        row.get_by_role("link", name="Edit new").click()
        expect(page.get_by_role("heading", name="Edit workflow new")).to_be_visible()
        expect(page.get_by_label("Threshold")).to_have_value("777")
        # and New workflow still opens an empty form
        page.get_by_role("link", name="All workflows").click()
        page.get_by_role("link", name="New workflow").click()
        expect(page.get_by_role("heading", name="New workflow")).to_be_visible()
        expect(page.get_by_label("Workflow ID")).to_have_value("")
        expect(page.get_by_label("Threshold")).to_have_value("")
    finally:
        backend.fraud.delete(workflows, timeout=10)

    # And a campaign "new" (campaigns are never deleted: made last, and no other test opens the
    # new-campaign form at `#/campaigns/new` any more)
    answer = backend.fraud.put(
        backend.url("/v1/loyalty/campaigns/new"),
        json={"total_cap": 4321, "per_customer_cap": 21, "limit_behavior": "hard"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    page.goto(f"{console.api_url}/#/campaigns")
    page.get_by_label("Campaign ID").fill("new")
    page.get_by_role("button", name="Open").click()
    expect(page.get_by_role("heading", name="Campaign new")).to_be_visible()
    expect(page.get_by_label("Total cap", exact=True)).to_have_value("4321")
    page.get_by_role("link", name="New campaign").click()
    expect(page.get_by_role("heading", name="New campaign")).to_be_visible()
    expect(page.get_by_label("Campaign ID", exact=True)).to_have_value("")
