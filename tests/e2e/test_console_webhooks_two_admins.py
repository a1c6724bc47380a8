"""Two admins on the Webhooks page, in two real Chromium contexts (a program team's tester, thirty-
second session): admin B typing a webhook ID admin A already uses replaced A's URL and notifications,
answered "Webhook crm saved."; and there was no way to change a webhook from its stored settings
(the form started empty, so an edit retyped every box). Now a new webhook says it replaces nothing
(`replaces: null`), an edit opened with `Edit` says the `updated_at` it showed, and the API's 409
is said in words, nothing replaced."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Request, expect

from tests.e2e.conftest import LocalSystem
from tests.e2e.console.backend import Backend
from tests.e2e.console.steps import new_page, screenshot, sign_in, sign_in_as

pytestmark = pytest.mark.e2e
pytest_plugins = ["tests.e2e.console.fixtures"]

EVENTS = ["PartnerFlagged", "RewardsHeld"]


@pytest.fixture
def webhook_id(backend: Backend) -> Iterator[str]:
    """Admin A's webhook, made through the API; deleted after the test."""
    made = f"crm-{uuid.uuid4().hex[:8]}"
    answer = backend.admin.put(
        backend.url(f"/v1/webhooks/{made}"),
        json={"url": "http://127.0.0.1:9/crm", "events": EVENTS, "enabled": True},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    yield made
    backend.admin.delete(backend.url(f"/v1/webhooks/{made}"), timeout=10)


@pytest.fixture
def admin_b(browser: Browser, console: LocalSystem, backend: Backend) -> Iterator[Page]:
    """A second admin of the program, at another browser."""
    key = backend.create_key("admin", f"Admin B {uuid.uuid4().hex[:4]}")["key"]
    other = new_page(browser)
    other.goto(f"{console.api_url}/#/webhooks")
    sign_in(other, key)
    yield other
    other.context.close()


def stored(backend: Backend, webhook_id: str) -> dict[str, Any]:
    answer = backend.admin.get(backend.url(f"/v1/webhooks/{webhook_id}"), timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def puts_of(page: Page) -> list[dict[str, Any]]:
    """The bodies of the PUTs the page sends, as sent."""
    sent: list[dict[str, Any]] = []

    def keep(request: Request) -> None:
        if request.method == "PUT" and "/v1/webhooks/" in request.url:
            sent.append(request.post_data_json)

    page.on("request", keep)
    return sent


def test_a_new_webhook_under_an_id_another_admin_uses_replaces_nothing(
    console: LocalSystem, backend: Backend, webhook_id: str, admin_b: Page
) -> None:
    sent = puts_of(admin_b)
    # When admin B makes a "new" webhook under A's ID
    admin_b.get_by_label("Webhook ID").fill(webhook_id)
    admin_b.get_by_label("URL").fill("http://127.0.0.1:9/other")
    admin_b.get_by_label("LoyaltyCommunication").check()
    admin_b.get_by_role("button", name="Save webhook").click()

    # Then the page says one exists, what it does, and that nothing was saved, focused
    said = admin_b.get_by_role("alert").filter(has_text=f"A webhook {webhook_id} exists already")
    expect(said).to_be_focused()
    expect(said).to_contain_text("nothing was saved")
    expect(said).to_contain_text("That one posts PartnerFlagged, RewardsHeld to http://127.0.0.1:9/crm.")
    expect(admin_b.get_by_label("Signing secret", exact=True)).to_have_count(0)  # no secret: none made
    screenshot(admin_b, "webhook-id-in-use")
    assert [body["replaces"] for body in sent] == [None]  # sent as new: replaces nothing
    # and A's webhook is as A made it
    now = stored(backend, webhook_id)
    assert (now["url"], now["events"]) == ("http://127.0.0.1:9/crm", EVENTS)
    # and B's form is kept as typed
    expect(admin_b.get_by_label("URL")).to_have_value("http://127.0.0.1:9/other")

    # When B follows "edit it", Then the form holds the webhook's stored settings
    said.get_by_role("link", name="edit it").click()
    form = admin_b.get_by_role("form", name=f"Edit webhook {webhook_id}")
    expect(form.get_by_label("URL")).to_have_value("http://127.0.0.1:9/crm")
    for name in EVENTS:
        expect(form.get_by_label(name)).to_be_checked()
    expect(form.get_by_label("LoyaltyCommunication")).not_to_be_checked()
    expect(form.get_by_label("Enabled")).to_be_checked()


def test_an_edit_from_a_stale_form_is_refused_shown_as_it_is_now_with_what_was_typed(
    page: Page, console: LocalSystem, backend: Backend, webhook_id: str, admin_b: Page
) -> None:
    # Given both admins opened the webhook with Edit
    sign_in_as(page, console, "admin", "webhooks")
    for admin in (page, admin_b):
        row = admin.get_by_role("row").filter(has=admin.get_by_role("rowheader", name=webhook_id))
        row.get_by_role("link", name=f"Edit {webhook_id}").click()
        expect(admin.get_by_role("form", name=f"Edit webhook {webhook_id}")).to_be_visible()
    shown = stored(backend, webhook_id)["updated_at"]
    sent_by_a, sent_by_b = puts_of(page), puts_of(admin_b)

    # When A re-points it, and saves
    page.get_by_label("URL").fill("http://127.0.0.1:9/crm-v2")
    page.get_by_role("button", name="Save webhook").click()
    expect(page.get_by_text(f"Webhook {webhook_id} saved.")).to_be_visible()
    assert [body["replaces"] for body in sent_by_a] == [shown]  # the updated_at its form showed
    # and B, from the form opened before, adds a notification and saves
    admin_b.get_by_label("DisputeOpened").check()
    admin_b.get_by_role("button", name="Save webhook").click()

    # Then B's save changed nothing: A's URL stands
    said = admin_b.get_by_role("alert").filter(has_text="was changed since you opened it")
    expect(said).to_be_focused()
    expect(said).to_contain_text("nothing was saved")
    expect(said).to_contain_text("Notifications: PartnerFlagged, RewardsHeld, DisputeOpened")
    now = stored(backend, webhook_id)
    assert (now["url"], now["events"]) == ("http://127.0.0.1:9/crm-v2", EVENTS)
    assert [body["replaces"] for body in sent_by_b] == [shown]
    # and B's form shows the webhook as it is now, so B's next save keeps A's change
    form = admin_b.get_by_role("form", name=f"Edit webhook {webhook_id}")
    expect(form.get_by_label("URL")).to_have_value("http://127.0.0.1:9/crm-v2")
    expect(form.get_by_label("DisputeOpened")).not_to_be_checked()
    screenshot(admin_b, "webhook-changed-meanwhile")
    form.get_by_label("DisputeOpened").check()
    form.get_by_role("button", name="Save webhook").click()
    expect(admin_b.get_by_text(f"Webhook {webhook_id} saved.")).to_be_visible()
    now = stored(backend, webhook_id)
    assert (now["url"], now["events"]) == ("http://127.0.0.1:9/crm-v2", [*EVENTS, "DisputeOpened"])


def test_an_edit_of_a_webhook_deleted_meanwhile_keeps_the_form_and_makes_it_again(
    console: LocalSystem, backend: Backend, webhook_id: str, admin_b: Page
) -> None:
    admin_b.goto(f"{console.api_url}/#/webhooks/{webhook_id}")
    form = admin_b.get_by_role("form", name=f"Edit webhook {webhook_id}")
    expect(form.get_by_label("URL")).to_have_value("http://127.0.0.1:9/crm")
    assert backend.admin.delete(backend.url(f"/v1/webhooks/{webhook_id}"), timeout=10).status_code == 204

    form.get_by_label("URL").fill("http://127.0.0.1:9/crm-v3")
    form.get_by_role("button", name="Save webhook").click()

    said = admin_b.get_by_role("alert").filter(has_text="was deleted since you opened it")
    expect(said).to_be_focused()
    again = admin_b.get_by_role("form", name="New webhook")
    expect(again.get_by_label("Webhook ID")).to_have_value(webhook_id)
    expect(again.get_by_label("URL")).to_have_value("http://127.0.0.1:9/crm-v3")
    assert backend.admin.get(backend.url(f"/v1/webhooks/{webhook_id}"), timeout=10).status_code == 404
    again.get_by_role("button", name="Save webhook").click()
    expect(admin_b.get_by_label("Signing secret", exact=True)).to_have_value(re.compile(r"^whsec_"))
    assert stored(backend, webhook_id)["url"] == "http://127.0.0.1:9/crm-v3"


def test_a_new_webhook_past_the_programs_most_is_said_so_not_an_id_in_use(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    # Given a program with as many webhooks as it may have (a reviewer: the console said the new,
    # free ID "exists already", and its "edit it" link led to a 404)
    made = []
    have = backend.admin.get(backend.url("/v1/webhooks"), timeout=10).json()["items"]
    for _ in range(20 - len(have)):
        filler = f"fill-{uuid.uuid4().hex[:6]}"
        answer = backend.admin.put(
            backend.url(f"/v1/webhooks/{filler}"),
            json={"url": "http://127.0.0.1:9/x", "events": ["PartnerFlagged"], "enabled": True},
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
        made.append(filler)
    try:
        # When an admin saves one more
        fresh = f"fresh-{uuid.uuid4().hex[:6]}"
        sign_in_as(page, console, "admin", "webhooks")
        page.get_by_label("Webhook ID").fill(fresh)
        page.get_by_label("URL").fill("http://127.0.0.1:9/y")
        page.get_by_label("PartnerFlagged").check()
        page.get_by_role("button", name="Save webhook").click()

        # Then the console says what the API said: the program's most, nothing saved
        said = page.get_by_role("alert")
        expect(said).to_contain_text("the most a program may have is 20")
        expect(said).not_to_contain_text("exists already")
        screenshot(page, "webhook-past-the-most")
        assert backend.admin.get(backend.url(f"/v1/webhooks/{fresh}"), timeout=10).status_code == 404
    finally:
        for filler in made:
            backend.admin.delete(backend.url(f"/v1/webhooks/{filler}"), timeout=10)


def test_an_edit_after_rotating_the_secret_on_the_same_page_is_saved(
    page: Page, console: LocalSystem, backend: Backend, webhook_id: str
) -> None:
    # Given an admin editing a webhook, who rotates its secret from its row on the same page (a
    # reviewer: the save was refused as "changed since you opened it (by another admin ...)")
    sign_in_as(page, console, "admin", f"webhooks/{webhook_id}")
    form = page.get_by_role("form", name=f"Edit webhook {webhook_id}")
    expect(form.get_by_label("URL")).to_have_value("http://127.0.0.1:9/crm")
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=webhook_id))
    row.get_by_role("button", name="Rotate secret").click()
    expect(page.get_by_text(f"New signing secret of {webhook_id}")).to_be_visible()

    # When they change its URL and save
    form.get_by_label("URL").fill("http://127.0.0.1:9/crm-v2")
    form.get_by_role("button", name="Save webhook").click()

    # Then it is saved
    expect(page.get_by_text(f"Webhook {webhook_id} saved.")).to_be_visible()
    stored = backend.admin.get(backend.url(f"/v1/webhooks/{webhook_id}"), timeout=10).json()
    assert stored["url"] == "http://127.0.0.1:9/crm-v2"
