"""A webhook whose receiver does not answer, as an admin sees it in a real Chromium (SPEC 6, 10):
after three tries in a row without an answer its deliveries wait, one try at a time finding out
whether the receiver is back; the Webhooks page says since when, and saving it again (a PUT) tries
the receiver afresh."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LocalSystem
from tests.e2e.console.backend import Backend, unique
from tests.e2e.console.steps import screenshot, sign_in_as
from tests.integration.webhook_support import receiving

pytestmark = pytest.mark.e2e
pytest_plugins = ["tests.e2e.console.fixtures"]

NOBODY = "http://127.0.0.1:9/hook"  # the discard port: no one listens, every try has no answer


def test_a_webhook_whose_receiver_does_not_answer_says_since_when(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    webhook = unique("silent-hook")
    backend.put_webhook(webhook, NOBODY)
    try:
        # Given a flag's notification for it, tried (`make run` retries within seconds) and never
        # answered
        backend.flagged_partner(unique("Silent Receiver Partner"))
        backend.webhook_once(webhook, "receiver_silent_since", 90)  # misses over 20 s at least

        # When an admin opens the Webhooks page
        sign_in_as(page, console, "admin", "webhooks")

        # Then its row says its receiver has not answered, and since when
        row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=webhook))
        expect(row).to_contain_text("Enabled — no answer from its receiver since")
        expect(row.locator("time")).to_have_count(2)  # since when, and its last update
        row.scroll_into_view_if_needed()
        screenshot(page, "37-webhook-receiver-silent", full_page=False)
        # and its deliveries, pending past their next try's time, say what they wait for
        row.get_by_role("button", name="Deliveries").click()
        table = page.get_by_role("table", name=f"Deliveries of {webhook}")
        expect(table.locator("tbody tr").first).to_contain_text(
            "Waiting: its receiver does not answer; one try at a time finds out when it is back."
        )
        table.scroll_into_view_if_needed()
        screenshot(page, "37b-webhook-deliveries-waiting", full_page=False)

        # And saved again at a receiver that answers, it is tried afresh: the page says nothing more
        answering = receiving([200])
        receiver = next(answering)
        assert backend.put_webhook(webhook, receiver.url)["receiver_silent_since"] is None
        page.reload()
        expect(row).to_contain_text("Enabled")
        expect(row).not_to_contain_text("no answer from its receiver")
        answering.close()
    finally:
        backend.delete_webhook(webhook)


def test_a_delivery_stopped_by_an_unsubscription_says_why_in_its_row(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    """A receiver tester's find: unsubscribed from a notification, a webhook was still sent the ones
    pending. Now they stop, and the Deliveries table says why."""
    webhook = unique("unsubscribed-hook")
    answering = receiving([500])  # every try refused: the first one's delivery waits for its next
    receiver = next(answering)
    backend.put_webhook(webhook, receiver.url)
    try:
        # Given a flag's notification tried once, then PartnerFlagged unsubscribed from
        backend.flagged_partner(unique("Unsubscribed Partner"))
        deadline = time.monotonic() + 30
        while not receiver.got:
            assert time.monotonic() < deadline, "the delivery was never tried"
            time.sleep(0.2)
        backend.put_webhook(webhook, receiver.url, events=("RewardsHeld",))
        deliveries = backend.url(f"/v1/webhooks/{webhook}/deliveries")
        while (listed := backend.admin.get(deliveries, timeout=10).json()["items"])[0]["status"] == "pending":
            assert time.monotonic() < deadline + 30, listed
            time.sleep(0.5)
        tried = len(receiver.got)

        # When an admin opens its deliveries
        sign_in_as(page, console, "admin", "webhooks")
        row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=webhook))
        row.get_by_role("button", name="Deliveries").click()

        # Then the delivery says it failed, and why: no longer subscribed to
        table = page.get_by_role("table", name=f"Deliveries of {webhook}")
        expect(table).to_contain_text("Stopped: the webhook no longer subscribes to PartnerFlagged.")
        table.scroll_into_view_if_needed()
        screenshot(page, "42-webhook-delivery-stopped-unsubscribed", full_page=False)
        assert len(receiver.got) == tried  # and nothing was sent since

        # And sent again from there, it is refused in the console's words: what to tick, where
        table.get_by_role("button", name="Send again").click()
        said = page.get_by_role("alert")
        expect(said).to_contain_text(f"Webhook {webhook} no longer subscribes to PartnerFlagged, so nothing")
        expect(said).to_contain_text("tick PartnerFlagged and save, then Send again.")
        expect(said.get_by_role("link", name="edit it")).to_be_visible()
        screenshot(page, "42b-webhook-send-again-unsubscribed", full_page=False)
        assert len(receiver.got) == tried
    finally:
        backend.delete_webhook(webhook)
        answering.close()


def test_a_webhook_whose_receiver_answers_slowly_says_since_when(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    """A receiver that answers, but only after 3 seconds or more, is sent one try at a time per
    program (`webhooks.paced`): the Webhooks page says so, and since when; disabled, it says nothing
    of it (nothing is sent)."""
    webhook = unique("slow-hook")
    answering = receiving([200])
    receiver = next(answering)
    receiver.delay = 3.5  # 3 seconds or more a try
    backend.put_webhook(webhook, receiver.url)
    try:
        # Given a flag's notification, answered in 3.5 seconds
        backend.flagged_partner(unique("Slow Receiver Partner"))
        shown = backend.webhook_once(webhook, "receiver_slow_since", 60)
        assert shown["receiver_silent_since"] is None and len(receiver.got) == 1

        # When an admin opens the Webhooks page
        sign_in_as(page, console, "admin", "webhooks")

        # Then its row says its receiver is slow, since when, and what that does
        row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=webhook))
        expect(row).to_contain_text("Enabled — its receiver has been slow since")
        expect(row).to_contain_text("(3 seconds or more a try): sent one try at a time")
        expect(row.locator("time")).to_have_count(2)
        row.scroll_into_view_if_needed()
        screenshot(page, "43-webhook-receiver-slow", full_page=False)

        # And disabled, its row says it is disabled, and nothing of a pace: nothing is sent to it
        assert backend.put_webhook(webhook, receiver.url, enabled=False)["receiver_slow_since"]  # kept
        page.reload()
        expect(row).to_contain_text("Disabled")
        expect(row).not_to_contain_text("has been slow")
    finally:
        backend.delete_webhook(webhook)
        answering.close()
