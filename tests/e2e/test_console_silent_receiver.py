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
    made = backend.admin.put(
        backend.url(f"/v1/webhooks/{webhook}"),
        json={"url": NOBODY, "events": ["PartnerFlagged"], "enabled": True},
        timeout=10,
    )
    assert made.status_code == 200, made.text
    try:
        # Given a flag's notification for it, tried (`make run` retries within seconds) and never
        # answered
        backend.flagged_partner(unique("Silent Receiver Partner"))
        deadline = time.monotonic() + 90  # misses over 20 s at least, each a hop of the queue
        while not (shown := backend.admin.get(backend.url(f"/v1/webhooks/{webhook}"), timeout=10).json()).get(
            "receiver_silent_since"
        ):
            assert time.monotonic() < deadline, shown
            time.sleep(0.5)

        # When an admin opens the Webhooks page
        sign_in_as(page, console, "admin", "webhooks")

        # Then its row says its receiver has not answered, and since when
        row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=webhook))
        expect(row).to_contain_text("Enabled — no answer from its receiver since")
        expect(row.locator("time")).to_have_count(2)  # since when, and its last update
        row.scroll_into_view_if_needed()
        screenshot(page, "37-webhook-receiver-silent", full_page=False)

        # And saved again at a receiver that answers, it is tried afresh: the page says nothing more
        answering = receiving([200])
        receiver = next(answering)
        again = backend.admin.put(
            backend.url(f"/v1/webhooks/{webhook}"),
            json={"url": receiver.url, "events": ["PartnerFlagged"], "enabled": True},
            timeout=10,
        )
        assert again.status_code == 200 and again.json()["receiver_silent_since"] is None, again.text
        page.reload()
        expect(row).to_contain_text("Enabled")
        expect(row).not_to_contain_text("no answer from its receiver")
        answering.close()
    finally:
        backend.admin.delete(backend.url(f"/v1/webhooks/{webhook}"), timeout=10)
