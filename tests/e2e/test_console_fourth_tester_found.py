"""What a fourth tester of the console found (thirty-seventh session), in a real Chromium: a change
the API made whose answer was lost (a customer suspended, a key made or revoked, a webhook saved,
rotated or deleted, a campaign or workflow saved, a workflow switched or deleted) said to have
failed, the page inviting a retry; a sign-out while an answer was on its way sending the page's
next read without a key, its 401 then signing out, with a false "your key was revoked", whoever had
signed in meanwhile; a hung API leaving "Working…" up for ever; a workflow's bad JSON said but not
focused; Escape closing a case drawer and the dispute reason typed in it; a customer's History
details 74 px wide on a phone; and "Campaign saved." shown again by a reload.

A lost answer is made as in `test_console_long_ids_and_lost_answers.py`: the request reaches the
API and is carried out (`route.fetch()`), its answer is dropped (`route.abort()`)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

from tests.e2e.conftest import LocalSystem
from tests.e2e.console.backend import Backend, unique
from tests.e2e.console.steps import PHONE, open_console, screenshot, sign_in, sign_in_as, tag
from tests.integration.webhook_support import Receiver, receiving

pytestmark = pytest.mark.e2e
pytest_plugins = ["tests.e2e.console.fixtures"]  # browser, page, console

SIGNED_OUT = "You were signed out"


def lose_the_answer(route: Route) -> None:
    """The request reaches the server and is carried out; its answer never comes back."""
    route.fetch()
    route.abort()


def lose_answers_to(method: str) -> Callable[[Route], None]:
    """`lose_the_answer` for requests of `method`; the others (a read of the same path) go through."""

    def handle(route: Route) -> None:
        if route.request.method == method:
            lose_the_answer(route)
        else:
            route.continue_()

    return handle


def held(page: Page, pattern: str) -> list[Route]:
    """Requests to `pattern` held (neither sent nor answered) until the test lets them go."""
    routes: list[Route] = []
    page.route(pattern, lambda route: routes.append(route))
    return routes


def wait_until(page: Page, condition: Callable[[], bool], what: str, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        page.wait_for_timeout(50)


def customer_status(backend: Backend, customer: str) -> str:
    answer = backend.fraud.get(backend.url(f"/v1/loyalty/customers/{customer}"), timeout=10)
    assert answer.status_code == 200, answer.text
    return str(answer.json().get("status") or "active")


@pytest.fixture
def member(backend: Backend) -> str:
    """A loyalty customer of its own, active, with a few points."""
    customer = unique("member")
    backend.earn(customer, 10)
    return customer


# ---- 1. a change made, its answer lost ----------------------------------------------------------


def test_a_suspend_whose_answer_is_lost_is_said_to_be_made(
    page: Page, console: LocalSystem, backend: Backend, member: str
) -> None:
    # Given a loyalty customer, and a suspend the server will carry out, its answer lost
    sign_in_as(page, console, "fraud", f"customers/{member}")
    expect(page.get_by_role("heading", name=f"Customer {member}")).to_be_visible()
    page.route("**/suspend", lose_the_answer)

    # When the loyalty manager suspends them
    page.get_by_role("button", name="Suspend", exact=True).click()

    # Then the console, reading the customer again, says they were suspended, and shows them so
    expect(page.get_by_text(f"Customer {member} suspended.")).to_be_visible()
    assert customer_status(backend, member) == "suspended"
    expect(page.locator(".figures .status-suspended")).to_have_text("Suspended")
    expect(page.get_by_role("button", name="Unsuspend")).to_be_enabled()
    expect(page.get_by_role("alert")).to_have_count(0)  # no "Network error … try again"
    screenshot(page, "37-suspend-answer-lost", full_page=False)


def test_a_suspend_that_never_reached_the_api_is_said_not_to_be_made(
    page: Page, console: LocalSystem, backend: Backend, member: str
) -> None:
    sign_in_as(page, console, "fraud", f"customers/{member}")
    expect(page.get_by_role("heading", name=f"Customer {member}")).to_be_visible()
    page.route("**/suspend", lambda route: route.abort())

    page.get_by_role("button", name="Suspend", exact=True).click()

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text(f"Customer {member} was not suspended")
    expect(alert).to_contain_text("still active. Try again")
    expect(alert).to_be_focused()
    assert customer_status(backend, member) == "active"


def test_a_key_created_whose_answer_is_lost_is_named_to_be_revoked(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    # Given an admin creating a key whose answer (the key's only copy) will be lost
    actor = f"Lost Key {tag()}"
    sign_in_as(page, console, "admin", "keys")
    expect(page.get_by_role("table", name="API keys of this program")).to_be_visible()
    page.route("**/v1/keys", lose_answers_to("POST"))

    # When they create it
    page.get_by_label("Role").select_option("viewer")
    page.get_by_label("Actor").fill(actor)
    page.get_by_role("button", name="Create key").click()

    # Then the console says a key was made that nobody holds (unless someone else made it), how to
    # find it, and to revoke it
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text(f"A key for {actor} (viewer) was created")
    expect(alert).to_contain_text(
        "Unless a teammate, another tab or fraudctl made it, it is yours and nobody holds it"
    )
    expect(alert).to_contain_text(f"revoke it (the newest key of {actor}, role Viewer")
    expect(alert).to_be_focused()
    made = [k for k in backend.listed_keys() if k["actor"] == actor]
    assert len(made) == 1, made
    row = page.locator(f'tr[data-key-id="{made[0]["key_id"]}"]')
    expect(row).to_have_class(re.compile(r"\bunheld\b"))
    screenshot(page, "37-key-answer-lost", full_page=False)

    # And its Revoke, there, revokes it
    page.unroute("**/v1/keys")
    row.get_by_role("button", name="Revoke").click()
    row.get_by_role("button", name="Confirm revoke").click()
    expect(page.get_by_text(f"The key of {actor} is revoked.")).to_be_visible()
    assert not [k for k in backend.listed_keys() if k["actor"] == actor]


def test_a_revoke_whose_answer_is_lost_is_said_to_be_made(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    actor = f"Revoked {tag()}"
    made = backend.create_key("viewer", actor)
    sign_in_as(page, console, "admin", "keys")
    page.route("**/v1/keys/*", lose_answers_to("DELETE"))

    page.get_by_role("button", name=f"Revoke the key of {actor}").click()
    page.get_by_role("button", name="Confirm revoke").click()

    expect(page.get_by_text(f"The key of {actor} is revoked.")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(page.get_by_role("row").filter(has_text=actor)).to_have_count(0)
    assert not backend.signs_in(made["key"])


def test_a_create_that_never_reached_the_api_does_not_say_a_teammates_new_key_is_nobodys(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    """A review's: a click that never reached the API, a teammate making a key of the same actor
    and role meanwhile: the page said flatly that nobody held the teammate's key, to revoke."""
    actor = f"CI pipeline {tag()}"
    sign_in_as(page, console, "admin", "keys")
    expect(page.get_by_role("table", name="API keys of this program")).to_be_visible()
    backend.create_key("integration", actor)  # the teammate's, which the page has not listed
    page.route(
        "**/v1/keys", lambda route: route.abort() if route.request.method == "POST" else route.continue_()
    )

    page.get_by_label("Role").select_option("integration")
    page.get_by_label("Actor").fill(actor)
    page.get_by_role("button", name="Create key").click()

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Unless a teammate, another tab or fraudctl made it")
    assert len([k for k in backend.listed_keys() if k["actor"] == actor]) == 1  # the teammate's alone


def test_revoking_your_own_key_whose_answer_is_lost_says_you_revoked_it(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    """A review's: the list's read, refused, signed out with "your key was revoked or is no longer
    valid, and what you were doing was not saved", where this click had revoked it."""
    actor = f"Leaving admin {tag()}"
    mine = backend.create_key("admin", actor)
    open_console(page, console, "keys")
    sign_in(page, mine["key"])
    expect(page.get_by_role("table", name="API keys of this program")).to_be_visible()
    page.route("**/v1/keys/*", lose_answers_to("DELETE"))

    page.get_by_role("button", name=f"Revoke the key of {actor}").click()
    page.get_by_role("button", name="Confirm revoke").click()

    expect(page.get_by_text("You revoked the key you were signed in with")).to_be_visible()
    expect(page.get_by_text(SIGNED_OUT)).to_have_count(0)
    assert not backend.signs_in(mine["key"])


@pytest.fixture
def receiver(console: LocalSystem) -> Iterator[Receiver]:
    yield from receiving([200])


def test_a_webhook_saved_rotated_and_deleted_with_its_answers_lost(
    page: Page, console: LocalSystem, backend: Backend, receiver: Receiver
) -> None:
    # Given an admin making a webhook, the answer that carries its one-time secret lost
    webhook = unique("lost-hook")
    sign_in_as(page, console, "admin", "webhooks")
    expect(page.get_by_role("heading", level=1, name="Webhooks")).to_be_visible()
    page.route("**/v1/webhooks/*", lose_answers_to("PUT"))
    page.get_by_label("Webhook ID").fill(webhook)
    page.get_by_label("URL").fill(receiver.url)
    page.get_by_label("PartnerFlagged").check()
    page.get_by_role("button", name="Save webhook").click()

    try:
        # Then the console says it was saved, its secret not shown, and to rotate it before use
        alert = page.get_by_role("alert")
        expect(alert).to_contain_text(f"Webhook {webhook} was saved")
        expect(alert).to_contain_text("its signing secret was only in that answer")
        expect(alert).to_contain_text("rotate its secret (Rotate secret")
        expect(alert).to_be_focused()
        row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=webhook))
        expect(row).to_contain_text("PartnerFlagged")
        expect(page.get_by_label("Signing secret", exact=True)).to_have_count(0)
        screenshot(page, "37-webhook-answer-lost", full_page=False)
        page.unroute("**/v1/webhooks/*")

        # When its rotation's answer is lost, it is said to be rotated, that secret held by nobody
        page.route("**/rotate-secret", lose_the_answer)
        row.get_by_role("button", name="Rotate secret").click()
        expect(page.get_by_role("alert")).to_contain_text(f"The secret of webhook {webhook} was rotated")
        expect(page.get_by_role("alert")).to_contain_text("press Rotate secret again")
        page.unroute("**/rotate-secret")
        # and rotating again gives a secret to hand over
        row.get_by_role("button", name="Rotate secret").click()
        expect(page.get_by_label("Signing secret", exact=True)).to_have_value(re.compile(r"^whsec_"))

        # When its deletion's answer is lost, it is said to be deleted, its row gone
        page.route("**/v1/webhooks/*", lose_answers_to("DELETE"))
        row.get_by_role("button", name=f"Delete {webhook}").click()
        row.get_by_role("button", name="Confirm delete").click()
        expect(page.get_by_text(f"Webhook {webhook} deleted.")).to_be_visible()
        expect(page.get_by_role("alert")).to_have_count(0)
        expect(page.get_by_role("rowheader", name=webhook)).to_have_count(0)
        assert backend.admin.get(backend.url(f"/v1/webhooks/{webhook}"), timeout=10).status_code == 404
    finally:
        backend.admin.delete(backend.url(f"/v1/webhooks/{webhook}"), timeout=10)


def test_a_campaign_saved_whose_answer_is_lost_is_said_to_be_saved(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    campaign = unique("lost-campaign")
    sign_in_as(page, console, "fraud", "campaigns?new=1")
    page.route("**/v1/loyalty/campaigns/*", lose_answers_to("PUT"))
    page.get_by_label("Campaign ID").fill(campaign)
    page.get_by_label("Total cap", exact=True).fill("1000")
    page.get_by_label("Per-customer cap").fill("300")
    page.get_by_role("button", name="Save campaign").click()

    expect(page.get_by_text("Campaign saved.")).to_be_visible()
    expect(page.get_by_text("0 of 1,000 points", exact=True)).to_be_visible()
    expect(page.get_by_role("alert")).to_have_count(0)
    assert backend.campaign(campaign)["total_cap"] == 1000


@pytest.fixture
def workflow(backend: Backend) -> Iterator[str]:
    """A workflow's ID, deleted afterwards whatever happens (it runs for nobody: a threshold no
    customer reaches)."""
    workflow = unique("lost-workflow")
    yield workflow
    backend.fraud.delete(backend.url(f"/v1/loyalty/workflows/{workflow}"), timeout=10)


def stored_workflow(backend: Backend, workflow: str) -> dict[str, Any] | None:
    answer = backend.fraud.get(backend.url(f"/v1/loyalty/workflows/{workflow}"), timeout=10)
    assert answer.status_code in (200, 404), answer.text
    return answer.json() if answer.status_code == 200 else None


def test_a_workflow_saved_switched_and_deleted_with_its_answers_lost(
    page: Page, console: LocalSystem, backend: Backend, workflow: str
) -> None:
    # Given a new workflow whose save's answer is lost
    sign_in_as(page, console, "fraud", "workflows?new=1")
    page.route("**/v1/loyalty/workflows/*", lose_answers_to("PUT"))
    page.get_by_label("Workflow ID").fill(workflow)
    page.get_by_label("Threshold").fill("999999990")
    page.get_by_label("Action").select_option("suspend")
    page.get_by_role("button", name="Save workflow").click()

    # Then it is said to be saved, and listed
    expect(page.get_by_text(f"Workflow {workflow} saved.")).to_be_visible()
    assert (stored_workflow(backend, workflow) or {}).get("enabled") is True
    switch = page.get_by_role("switch", name=f"Enabled: {workflow}")
    expect(switch).to_be_checked()

    # When it is switched off, that answer lost too: said switched off, and shown so
    switch.uncheck()
    expect(page.get_by_text(f"Workflow {workflow} disabled.")).to_be_visible()
    expect(page.get_by_role("switch", name=f"Enabled: {workflow}")).not_to_be_checked()
    assert (stored_workflow(backend, workflow) or {}).get("enabled") is False

    # When it is deleted, that answer lost too: said deleted, its row gone
    page.route("**/v1/loyalty/workflows/*", lose_answers_to("DELETE"))
    page.get_by_role("button", name=f"Delete {workflow}").click()
    page.get_by_role("button", name="Confirm delete").click()
    expect(page.get_by_text(f"Workflow {workflow} deleted.")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(page.get_by_role("rowheader", name=workflow)).to_have_count(0)
    assert stored_workflow(backend, workflow) is None


# ---- 2. signed out while an answer is on its way --------------------------------------------------


def test_a_late_answer_after_signing_out_sends_nothing_without_a_key(
    page: Page, console: LocalSystem, member: str
) -> None:
    # Given an analyst suspending a customer, the suspend held on its way
    sign_in_as(page, console, "fraud", f"customers/{member}")
    expect(page.get_by_role("heading", name=f"Customer {member}")).to_be_visible()
    suspends = held(page, "**/suspend")
    page.get_by_role("button", name="Suspend", exact=True).click()
    wait_until(page, lambda: bool(suspends), "the suspend sent")

    # When they sign out, and only then the suspend goes through and is answered
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("API key")).to_be_visible()
    unsigned: list[str] = []  # nobody is signed in from here on: nothing is to be sent
    page.on("request", lambda r: "/v1/" in r.url and unsigned.append(r.url))
    suspends[0].continue_()
    page.wait_for_timeout(1500)

    # Then the page left sends nothing more (it read the customer again, without a key), and the
    # sign-in does not say the key was revoked (it was not)
    assert not unsigned, f"sent without a key: {unsigned}"
    expect(page.get_by_text(SIGNED_OUT)).to_have_count(0)
    screenshot(page, "37-signed-out-late-answer", full_page=False)


def test_a_late_401_of_the_last_persons_key_does_not_sign_the_next_one_out(
    page: Page, console: LocalSystem, member: str
) -> None:
    # Given an analyst whose suspend is held on its way
    sign_in_as(page, console, "fraud", f"customers/{member}")
    expect(page.get_by_role("heading", name=f"Customer {member}")).to_be_visible()
    suspends = held(page, "**/suspend")
    page.get_by_role("button", name="Suspend", exact=True).click()
    wait_until(page, lambda: bool(suspends), "the suspend sent")

    # When they sign out, an admin signs in at the same browser, and the analyst's request is
    # refused then (their key revoked meanwhile, say)
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, console.keys["admin"])
    suspends[0].fulfill(
        status=401,
        content_type="application/problem+json",
        body='{"title": "Unauthorized", "status": 401, "detail": "The key is not valid."}',
    )
    page.wait_for_timeout(1500)

    # Then the admin is still signed in: that 401 was about a key no longer in use here
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    expect(page.get_by_text(SIGNED_OUT)).to_have_count(0)
    expect(page.get_by_role("heading", level=1)).not_to_have_text("Sign in")
    screenshot(page, "37-next-person-still-signed-in", full_page=False)


# ---- 3. a hung API ------------------------------------------------------------------------------


def test_an_api_that_never_answers_is_given_up_on_after_30_seconds(
    page: Page, console: LocalSystem, backend: Backend, member: str
) -> None:
    # Given a customer's page, and an API that will never answer the suspend (nor carry it out)
    page.clock.install()
    sign_in_as(page, console, "fraud", f"customers/{member}")
    expect(page.get_by_role("heading", name=f"Customer {member}")).to_be_visible()
    hung = held(page, "**/suspend")

    # When the suspend has waited 30 seconds
    page.get_by_role("button", name="Suspend", exact=True).click()
    wait_until(page, lambda: bool(hung), "the suspend sent")
    expect(page.get_by_text("Working…")).to_be_visible()
    page.clock.run_for(29_000)
    expect(page.get_by_text("Working…")).to_be_visible()  # not given up on while the API may answer
    page.clock.run_for(1_500)

    # Then "Working…" is gone, and what came of it is said, in words, from the customer read again
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text(
        f"Customer {member} was not suspended: the API did not answer within 30 seconds"
    )
    expect(alert).to_contain_text("still active. Try again")
    expect(page.get_by_text("Working…")).to_have_count(0)
    expect(page.get_by_role("button", name="Suspend", exact=True)).to_be_enabled()
    screenshot(page, "37-hung-api", full_page=False)


# ---- 4. a workflow's bad JSON, focused ------------------------------------------------------------


def test_a_workflows_bad_json_is_said_where_the_focus_goes(page: Page, console: LocalSystem) -> None:
    sign_in_as(page, console, "fraud", "workflows?new=1")
    page.get_by_label("Workflow ID").fill(unique("bad-json"))
    page.get_by_label("Threshold").fill("10")
    page.get_by_label("Event name").fill("loyalty.hello")
    page.get_by_label("Payload (JSON)").fill('{"a": ')
    page.get_by_role("button", name="Save workflow").click()

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text('The payload of the communication "loyalty.hello" is not valid JSON.')
    expect(alert).to_be_focused()


# ---- 5. Escape while a dispute reason is typed ----------------------------------------------------


def test_escape_does_not_close_the_drawer_and_lose_a_typed_dispute_reason(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    partner = backend.flagged_partner(f"Escape {tag()} Ltd")
    sign_in_as(page, console, "fraud", f"active/{partner.case['id']}")
    drawer = page.get_by_role("dialog", name=partner.name)
    drawer.get_by_role("button", name="Dispute").click()
    reason = drawer.get_by_label("Reason for the dispute")
    reason.fill("The customer's orders were real")

    # When Escape is pressed while typing (twice: a second Escape is not taken as a wish either)
    reason.press("Escape")
    reason.press("Escape")

    # Then the drawer stays, the reason as typed, and says how to leave
    expect(drawer).to_be_visible()
    expect(reason).to_have_value("The customer's orders were real")
    expect(drawer).to_contain_text("Escape does not close the case while a form holds text")
    screenshot(page, "37-escape-keeps-dispute-reason", full_page=False)

    # And with the reason emptied, Escape closes it as before
    reason.fill("")
    reason.press("Escape")
    expect(drawer).to_be_hidden()


# ---- 6. a History entry's details on a phone ---------------------------------------------------------


@pytest.fixture
def long_communication(backend: Backend) -> Iterator[int]:
    """A workflow whose communication has a long event name and payload, for one customer's earning
    only (a threshold no other test's customer crosses): the threshold; deleted afterwards."""
    threshold = 876_543_210
    path = backend.url(f"/v1/loyalty/workflows/{unique('long-comm')}")
    body = {
        "trigger": {"event": "points.earned"},
        "filter": {
            "aggregation": "earned",
            "date_range": "lifetime",
            "customer": "current",
            "threshold": threshold,
        },
        "actions": [
            {
                "type": "communication",
                "event": "E" * 128,
                "payload": {"k": "v" * 256, "url": "https://example.com/" + "p" * 200},
            }
        ],
        "enabled": True,
    }
    made = backend.fraud.put(path, json=body, timeout=10)
    assert made.status_code in (200, 201), made.text
    try:
        yield threshold
    finally:
        backend.fraud.delete(path, timeout=10)


def test_a_long_history_entry_keeps_a_readable_width_on_a_phone(
    page: Page, console: LocalSystem, backend: Backend, long_communication: int
) -> None:
    customer = unique("long-history")
    backend.earn(customer, long_communication + 1)
    history = backend.url(f"/v1/loyalty/customers/{customer}/history")
    deadline = time.monotonic() + 20  # the workflow runs just after the earn
    while not [e for e in backend.fraud.get(history, timeout=10).json()["items"] if e.get("event")]:
        assert time.monotonic() < deadline, "the communication never came"
        time.sleep(0.3)
    page.set_viewport_size(PHONE)
    sign_in_as(page, console, "fraud", f"customers/{customer}")
    table = page.get_by_role("region", name="History").last
    cell = table.get_by_role("cell").filter(has_text="E" * 40)
    expect(cell).to_have_count(1)
    cell.scroll_into_view_if_needed()
    screenshot(page, "37-history-details-phone", full_page=False)

    box = cell.bounding_box()
    assert box is not None
    # it was a column 74 px wide and 2,478 px tall
    assert box["width"] >= 180, f"the details' column is {box} on a 390 px phone"
    assert box["height"] <= 1200, f"the details' column is {box} on a 390 px phone"


# ---- 7. a campaign's save, said once ----------------------------------------------------------------


def test_a_reload_after_a_campaign_save_does_not_say_it_saved_again(page: Page, console: LocalSystem) -> None:
    campaign = unique("once")
    sign_in_as(page, console, "fraud", "campaigns?new=1")
    page.get_by_label("Campaign ID").fill(campaign)
    page.get_by_label("Total cap", exact=True).fill("500")
    page.get_by_label("Per-customer cap").fill("50")
    page.get_by_role("button", name="Save campaign").click()
    expect(page.get_by_text("Campaign saved.")).to_be_visible()
    expect(page).not_to_have_url(re.compile(r"saved="))

    page.reload()
    expect(page.get_by_text("0 of 500 points", exact=True)).to_be_visible()  # not the announcer's line
    expect(page.get_by_text("Campaign saved.")).to_have_count(0)
