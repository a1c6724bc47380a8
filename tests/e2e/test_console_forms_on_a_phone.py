"""The console's forms with fieldsets on a phone, in a real Chromium: a fieldset keeps the browser's
`min-width: min-content` unless told otherwise, so the widest option of a select in it (the
workflow's Customers, "Every customer above the threshold") widened the Filter fieldset past its
card and the page to 399 px on phones of 320 to 390 px: every screen of the form scrolled
sideways (a program team's tester, thirty-second session)."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LocalSystem
from tests.e2e.console.backend import Backend
from tests.e2e.console.steps import screenshot, sign_in_as

pytestmark = pytest.mark.e2e
pytest_plugins = ["tests.e2e.console.fixtures"]

# every control of the form against the form's own box: a card that clips would hide an overflow
# that the page's width does not show
STICKING_OUT = """form => [...form.querySelectorAll('input, select, textarea, fieldset, button')]
  .filter(e => e.getClientRects().length)
  .filter(e => e.getBoundingClientRect().right > form.getBoundingClientRect().right + 0.5)
  .map(e => `${e.tagName} ${e.id || e.textContent.trim().slice(0, 30)}`)"""


def _fits(page: Page, width: int, form_name: str, *, widest: bool = True) -> None:
    form = page.get_by_role("form", name=form_name)
    expect(form).to_be_visible()
    if widest:
        page.get_by_label("Customers").select_option("all")  # the widest option, chosen
    wide = page.evaluate("() => document.documentElement.scrollWidth")
    assert wide <= width, f"{form_name}: the page is {wide} px wide on a {width} px phone"
    out = form.evaluate(STICKING_OUT)
    assert not out, f"{form_name} at {width} px: past the form's edge: {out}"


@pytest.mark.parametrize("width", [320, 360, 390])
def test_a_workflow_form_new_and_edited_fits_a_phone(
    page: Page, console: LocalSystem, backend: Backend, width: int
) -> None:
    # Given a workflow over every customer above the threshold
    workflow_id = f"phone-{uuid.uuid4().hex[:8]}"
    audience = {"aggregation": "bonus", "date_range": "last_30_days", "customer": "all", "threshold": 9}
    made = backend.admin.put(
        backend.url(f"/v1/loyalty/workflows/{workflow_id}"),
        json={
            "trigger": {"event": "points.earned", "kind": "campaign_bonus"},
            "filter": audience,
            "actions": [{"type": "communication", "event": "bonus.watch", "payload": {"tier": "gold"}}],
            "enabled": True,
        },
        timeout=10,
    )
    assert made.status_code == 200, made.text
    page.set_viewport_size({"width": width, "height": 740})

    # When a teammate opens New workflow on a phone, Then the form fits it
    sign_in_as(page, console, "fraud", "workflows?new=1")
    _fits(page, width, "New workflow")
    if width == 360:
        screenshot(page, "workflow-new-phone-360")

    # When they open the workflow to edit it, Then that form fits too
    page.goto(f"{console.api_url}/#/workflows/{workflow_id}")
    _fits(page, width, f"Edit workflow {workflow_id}")
    if width == 360:
        screenshot(page, "workflow-edit-phone-360")


@pytest.mark.parametrize("width", [320, 360])
def test_the_webhook_form_new_and_edited_fits_a_phone(
    page: Page, console: LocalSystem, backend: Backend, width: int
) -> None:
    # its Notifications fieldset holds nine checkboxes with long names (CustomerSuspended, ...)
    webhook_id = f"phone-{uuid.uuid4().hex[:8]}"
    body = {"url": "http://127.0.0.1:9/phone", "events": ["CustomerSuspended"], "enabled": True}
    made = backend.admin.put(backend.url(f"/v1/webhooks/{webhook_id}"), json=body, timeout=10)
    assert made.status_code == 200, made.text
    try:
        page.set_viewport_size({"width": width, "height": 740})
        sign_in_as(page, console, "admin", "webhooks")
        _fits(page, width, "New webhook", widest=False)
        page.goto(f"{console.api_url}/#/webhooks/{webhook_id}")
        _fits(page, width, f"Edit webhook {webhook_id}", widest=False)
        expect(page.get_by_label("URL")).to_have_value(body["url"])
    finally:
        backend.admin.delete(backend.url(f"/v1/webhooks/{webhook_id}"), timeout=10)
