"""The Webhooks page in a real Chromium (SPEC 10 style over SPEC 6): admins only; `Save webhook`
shows the signing secret once; a private URL is refused in words naming `url`; a flag's delivery is
listed under `Deliveries` and `Send again` sends it again, to a real receiver on 127.0.0.1;
`Rotate secret` shows the new secret once; the deliveries are paged."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LocalSystem
from tests.e2e.console.steps import open_console, screenshot, sign_in, sign_in_as, tab_names
from tests.e2e.test_webhooks import flag_a_partner, flags_of, wait_for
from tests.integration.webhook_support import Receiver, receiving, verifies

pytestmark = pytest.mark.e2e
DEFAULT_PAGE_SIZE = 25  # the console's page of deliveries (web/src/js/dom.js)
pytest_plugins = ["tests.e2e.console.fixtures"]  # browser, page, console


@pytest.fixture
def receiver(console: LocalSystem) -> Iterator[Receiver]:
    yield from receiving([200])


def test_only_admins_see_the_webhooks_tab(page: Page, console: LocalSystem) -> None:
    sign_in_as(page, console, "admin")
    assert "Webhooks" in tab_names(page)
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, console.keys["fraud"])
    assert "Webhooks" not in tab_names(page)
    open_console(page, console, "webhooks")
    expect(page.get_by_role("heading", level=1)).to_have_text("Not available")


def test_an_admin_adds_a_webhook_sees_its_deliveries_and_sends_one_again(
    page: Page, console: LocalSystem, receiver: Receiver
) -> None:
    webhook_id = f"console-{uuid.uuid4().hex[:8]}"
    sign_in_as(page, console, "admin", "webhooks")
    expect(page.get_by_role("heading", level=1, name="Webhooks")).to_be_visible()

    # a private address is refused, in words, naming the field
    page.get_by_label("Webhook ID").fill(webhook_id)
    page.get_by_label("URL").fill("https://10.1.2.3/hook")
    page.get_by_label("PartnerFlagged").check()
    page.get_by_role("button", name="Save webhook").click()
    expect(page.get_by_role("alert")).to_contain_text("url")
    expect(page.get_by_role("alert")).to_contain_text("not a public address")

    # the receiver's address is taken, and its secret shown once
    page.get_by_label("URL").fill(receiver.url)
    page.get_by_role("button", name="Save webhook").click()
    secret_field = page.get_by_label("Signing secret", exact=True)
    expect(secret_field).to_have_value(re.compile(r"^whsec_"))
    secret = secret_field.input_value()
    table = page.get_by_role("table", name="Webhooks of this program")
    row = table.get_by_role("row").filter(has=page.get_by_role("rowheader", name=webhook_id))
    expect(row).to_contain_text("PartnerFlagged")
    expect(row).to_contain_text("Enabled")
    screenshot(page, "webhooks-saved")

    try:
        # a flag reaches the receiver, signed with the secret the page showed
        partner_id, _, _ = flag_a_partner(console)
        [got] = wait_for(lambda: flags_of(receiver, partner_id))
        assert verifies(secret, got.headers["x-signature"], got.body)
        delivery_id = json.loads(got.body)["id"]

        # its delivery is listed, delivered at the first try
        row.get_by_role("button", name="Deliveries").click()
        deliveries = page.get_by_role("table", name=f"Deliveries of {webhook_id}")
        line = deliveries.get_by_role("row").filter(has=page.get_by_role("rowheader", name=delivery_id))
        expect(line).to_contain_text("Delivered")
        expect(line).to_contain_text("200")
        screenshot(page, "webhooks-deliveries")

        # Send again: the receiver gets the same delivery id once more
        line.get_by_role("button", name="Send again").click()
        expect(page.get_by_text(f"Delivery {delivery_id} is being sent again.")).to_be_visible()
        again = wait_for(lambda: (lambda g: g if len(g) == 2 else None)(flags_of(receiver, partner_id)))
        assert {json.loads(g.body)["id"] for g in again} == {delivery_id}

        # Rotate secret: a new secret, shown once; the next flag is signed with both
        row.get_by_role("button", name="Rotate secret").click()
        expect(page.get_by_role("heading", name=f"New signing secret of {webhook_id}")).to_be_visible()
        new_secret = page.get_by_label("Signing secret", exact=True).input_value()
        assert new_secret.startswith("whsec_") and new_secret != secret
        screenshot(page, "webhooks-rotated")
        partner_id, _, _ = flag_a_partner(console)
        [got] = wait_for(lambda: flags_of(receiver, partner_id))
        assert verifies(secret, got.headers["x-signature"], got.body)
        assert verifies(new_secret, got.headers["x-signature"], got.body)

        # Delete: gone from the list
        row.get_by_role("button", name=f"Delete {webhook_id}").click()  # asks first
        expect(table.get_by_role("rowheader", name=webhook_id)).to_have_count(1)
        row.get_by_role("button", name="Confirm delete").click()
        expect(page.get_by_text(f"Webhook {webhook_id} deleted.")).to_be_visible()
        expect(table.get_by_role("rowheader", name=webhook_id)).to_have_count(0)
    finally:
        _delete(console, webhook_id)


def _delete(console: LocalSystem, webhook_id: str) -> Any:
    time.sleep(0)  # nothing to wait for: the webhook may be gone already
    return console.session("admin").delete(f"{console.api_url}/v1/webhooks/{webhook_id}", timeout=10)


def test_a_webhooks_deliveries_are_paged_older_and_back_to_the_newest(
    page: Page, console: LocalSystem, receiver: Receiver
) -> None:
    """The console showed the newest 50 deliveries and no way to the older ones."""
    webhook_id = f"console-{uuid.uuid4().hex[:8]}"
    admin = console.session("admin")
    answer = admin.put(
        f"{console.api_url}/v1/webhooks/{webhook_id}",
        json={"url": receiver.url, "events": ["PartnerFlagged"], "enabled": True},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    try:

        def listing() -> list[dict[str, Any]]:
            url = f"{console.api_url}/v1/webhooks/{webhook_id}/deliveries"
            return admin.get(url, params={"limit": 100}, timeout=10).json()["items"]

        while len(listing()) <= DEFAULT_PAGE_SIZE:  # a page and more (a pair may flag both)
            partner_id = flag_a_partner(console)[0]
            wait_for(lambda partner_id=partner_id: flags_of(receiver, partner_id))
        every = listing()
        assert DEFAULT_PAGE_SIZE < len(every) <= 2 * DEFAULT_PAGE_SIZE
        oldest = every[-1]["id"]

        sign_in_as(page, console, "admin", "webhooks")
        row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=webhook_id))
        row.get_by_role("button", name="Deliveries").click()
        deliveries = page.get_by_role("table", name=f"Deliveries of {webhook_id}")
        expect(deliveries.get_by_role("rowheader")).to_have_count(DEFAULT_PAGE_SIZE)
        expect(deliveries.get_by_role("rowheader", name=oldest)).to_have_count(0)
        expect(page.get_by_role("button", name="Newest deliveries")).to_have_count(0)

        page.get_by_role("button", name="Older deliveries").click()
        expect(deliveries.get_by_role("rowheader")).to_have_count(len(every) - DEFAULT_PAGE_SIZE)
        expect(deliveries.get_by_role("rowheader", name=oldest)).to_be_visible()
        expect(page.get_by_role("button", name="Older deliveries")).to_have_count(0)
        expect(page.get_by_role("heading", name=f"Deliveries of {webhook_id}")).to_be_focused()
        screenshot(page, "webhooks-older-deliveries")

        page.get_by_role("button", name="Newest deliveries").click()
        expect(deliveries.get_by_role("rowheader")).to_have_count(DEFAULT_PAGE_SIZE)
        expect(deliveries.get_by_role("rowheader", name=every[0]["id"])).to_be_visible()
    finally:
        _delete(console, webhook_id)
