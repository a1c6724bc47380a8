"""Two teammates saving the same campaign or workflow from the console (twenty-sixth session), in a
real Chromium with two browser contexts: a save from a page opened before a teammate's change undid
that change unseen ("Campaign saved.", the raise of the total cap gone), and a new workflow under an
ID in use silently replaced that workflow. The console now says what each save replaces."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import LocalSystem
from tests.e2e.console.backend import Backend, unique
from tests.e2e.console.steps import new_page, screenshot, sign_in_as

pytestmark = pytest.mark.e2e
pytest_plugins = ["tests.e2e.console.fixtures"]  # browser, page, console


@pytest.fixture
def teammate(browser: Browser) -> Iterator[Page]:
    """A second person of the program team, at their own browser."""
    other = new_page(browser)
    yield other
    other.context.close()


def workflow_of(backend: Backend, workflow_id: str) -> dict:
    answer = backend.fraud.get(backend.url(f"/v1/loyalty/workflows/{workflow_id}"), timeout=10)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_a_campaign_saved_from_a_page_opened_before_a_teammates_change_keeps_that_change(
    page: Page, teammate: Page, console: LocalSystem, backend: Backend
) -> None:
    # Given a campaign (100,000 in all, 500 per customer) open in two teammates' browsers
    campaign = unique("stale-cap")
    sign_in_as(teammate, console, "fraud", "campaigns?new=1")
    teammate.get_by_label("Campaign ID").fill(campaign)
    teammate.get_by_label("Total cap", exact=True).fill("100000")
    teammate.get_by_label("Per-customer cap").fill("500")
    teammate.get_by_role("button", name="Save campaign").click()
    expect(teammate.get_by_text("Campaign saved.")).to_be_visible()
    sign_in_as(page, console, "fraud", f"campaigns/{campaign}")
    expect(page.get_by_label("Total cap", exact=True)).to_have_value("100000")

    # When the teammate raises the total cap to 250,000, and this page, still showing 100,000,
    # changes only the per-customer cap to 800
    teammate.get_by_label("Total cap", exact=True).fill("250000")
    teammate.get_by_role("button", name="Save campaign").click()
    expect(teammate.get_by_text("0 of 250,000 points", exact=True)).to_be_visible()
    page.get_by_label("Per-customer cap").fill("800")
    page.get_by_role("button", name="Save campaign").click()

    # Then nothing is saved, the teammate's raise stands, and the page says so, in view and focused
    said = page.get_by_role("alert").filter(has_text="was changed since you opened it")
    expect(said).to_be_focused()
    expect(said).to_be_in_viewport()
    expect(page.get_by_text("Campaign saved.")).to_have_count(0)
    stored = backend.campaign(campaign)
    assert (stored["total_cap"], stored["per_customer_cap"]) == (250000, 500), stored
    # and the campaign is shown as it is now, what was typed said, not lost
    expect(page.get_by_text("0 of 250,000 points", exact=True)).to_be_visible()
    expect(page.get_by_label("Total cap", exact=True)).to_have_value("250000")
    expect(page.get_by_label("Per-customer cap")).to_have_value("500")
    expect(said).to_contain_text("Per-customer cap: 800 points")
    expect(said).not_to_contain_text("Total cap")  # not changed here: not the person's
    screenshot(page, "26-campaign-changed-meanwhile", full_page=False)

    # And typed again on the campaign as it is now, it is saved, the raise kept
    page.get_by_label("Per-customer cap").fill("800")
    page.get_by_role("button", name="Save campaign").click()
    expect(page.get_by_text("Campaign saved.")).to_be_visible()
    stored = backend.campaign(campaign)
    assert (stored["total_cap"], stored["per_customer_cap"]) == (250000, 800), stored


def test_a_new_campaign_under_an_id_made_meanwhile_changes_nothing_and_keeps_the_form(
    page: Page, teammate: Page, console: LocalSystem, backend: Backend
) -> None:
    # Given a person filling in a new campaign, and a teammate who makes one of its ID meanwhile
    campaign = unique("made-meanwhile")
    sign_in_as(page, console, "fraud", "campaigns?new=1")
    page.get_by_label("Campaign ID").fill(campaign)
    page.get_by_label("Total cap", exact=True).fill("5")
    page.get_by_label("Per-customer cap").fill("5")
    made = backend.fraud.put(
        backend.url(f"/v1/loyalty/campaigns/{campaign}"),
        json={"total_cap": 9000, "per_customer_cap": 90, "limit_behavior": "hard"},
        timeout=10,
    )
    assert made.status_code == 200, made.text

    # When they save: the teammate's campaign stands, the form stays as typed, with a link to it
    page.get_by_role("button", name="Save campaign").click()
    said = page.get_by_role("alert").filter(has_text=f"A campaign {campaign} exists already")
    expect(said).to_be_focused()
    assert backend.campaign(campaign)["total_cap"] == 9000
    expect(page.get_by_label("Total cap", exact=True)).to_have_value("5")
    said.get_by_role("link", name="open it").click()
    expect(page.get_by_text("0 of 9,000 points", exact=True)).to_be_visible()


def new_workflow(page: Page, workflow_id: str, threshold: int, action: str) -> None:
    page.get_by_label("Workflow ID").fill(workflow_id)
    page.get_by_label("Threshold").fill(str(threshold))
    page.get_by_label("Action", exact=True).select_option(action)
    page.get_by_role("button", name="Save workflow").click()


def test_a_new_workflow_under_an_id_in_use_replaces_nothing(
    page: Page, teammate: Page, console: LocalSystem, backend: Backend
) -> None:
    # Given a workflow a teammate made that blocks above 50,000 points
    workflow = unique("wf-taken")
    sign_in_as(teammate, console, "fraud", "workflows?new=1")
    new_workflow(teammate, workflow, 50000, "block")
    expect(teammate.get_by_text(f"Workflow {workflow} saved.")).to_be_visible()

    # When another person makes a "new" workflow under the same ID, suspending above 900,000
    sign_in_as(page, console, "fraud", "workflows?new=1")
    new_workflow(page, workflow, 900000, "suspend")

    # Then the teammate's workflow stands, the page says one of that ID exists (what it does, and a
    # link to open it), focused, and the form is kept as typed
    said = page.get_by_role("alert").filter(has_text=f"A workflow {workflow} exists already")
    expect(said).to_be_focused()
    expect(said).to_be_in_viewport()
    expect(said).to_contain_text("more than 50000")
    expect(said).to_contain_text("Block the customer")
    stored = workflow_of(backend, workflow)
    assert stored["actions"] == [{"type": "block"}] and stored["filter"]["threshold"] == 50000, stored
    expect(page.get_by_label("Threshold")).to_have_value("900000")
    expect(page.get_by_label("Action", exact=True)).to_have_value("suspend")
    screenshot(page, "26-workflow-id-in-use", full_page=False)
    said.get_by_role("link", name="open it").click()
    expect(page.get_by_role("heading", name=f"Edit workflow {workflow}")).to_be_visible()
    expect(page.get_by_label("Threshold")).to_have_value("50000")


def test_a_workflow_saved_from_a_page_opened_before_a_teammates_change_keeps_that_change(
    page: Page, teammate: Page, console: LocalSystem, backend: Backend
) -> None:
    # Given a workflow open for editing in two teammates' browsers
    workflow = unique("wf-stale")
    sign_in_as(teammate, console, "fraud", "workflows?new=1")
    new_workflow(teammate, workflow, 50000, "block")
    expect(teammate.get_by_text(f"Workflow {workflow} saved.")).to_be_visible()
    teammate.goto(f"{console.api_url}/#/workflows/{workflow}")
    sign_in_as(page, console, "fraud", f"workflows/{workflow}")
    expect(page.get_by_label("Threshold")).to_have_value("50000")
    expect(teammate.get_by_label("Threshold")).to_have_value("50000")

    # When the teammate lowers the threshold to 20,000, and this page, still showing 50,000, changes
    # the action to a suspension
    teammate.get_by_label("Threshold").fill("20000")
    teammate.get_by_role("button", name="Save workflow").click()
    expect(teammate.get_by_text(f"Workflow {workflow} saved.")).to_be_visible()
    page.get_by_label("Action", exact=True).select_option("suspend")
    page.get_by_role("button", name="Save workflow").click()

    # Then nothing is saved, the page says so, focused, shows the workflow as it is now, and says
    # what this person had changed
    said = page.get_by_role("alert").filter(has_text="was changed since you opened it")
    expect(said).to_be_focused()
    expect(said).to_be_in_viewport()
    stored = workflow_of(backend, workflow)
    assert stored["filter"]["threshold"] == 20000 and stored["actions"] == [{"type": "block"}], stored
    expect(page.get_by_label("Threshold")).to_have_value("20000")
    expect(page.get_by_label("Action", exact=True)).to_have_value("block")
    expect(said).to_contain_text("Actions: Suspend the customer")
    expect(said).not_to_contain_text("Threshold")
    screenshot(page, "26-workflow-changed-meanwhile", full_page=False)


def test_a_workflow_deleted_while_open_is_said_and_kept_as_typed(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    # Given a workflow open for editing, deleted by a teammate meanwhile
    workflow = unique("wf-gone")
    sign_in_as(page, console, "fraud", "workflows?new=1")
    new_workflow(page, workflow, 50000, "block")
    expect(page.get_by_text(f"Workflow {workflow} saved.")).to_be_visible()
    page.goto(f"{console.api_url}/#/workflows/{workflow}")
    expect(page.get_by_label("Threshold")).to_have_value("50000")
    gone = backend.fraud.delete(backend.url(f"/v1/loyalty/workflows/{workflow}"), timeout=10)
    assert gone.status_code in (200, 204), gone.text

    # When the person saves a changed threshold: nothing is made behind their back, it is said,
    # and the form keeps what they typed; saving again makes it
    page.get_by_label("Threshold").fill("60000")
    page.get_by_role("button", name="Save workflow").click()
    said = page.get_by_role("alert").filter(has_text="was deleted since you opened it")
    expect(said).to_be_focused()
    assert backend.fraud.get(backend.url(f"/v1/loyalty/workflows/{workflow}"), timeout=10).status_code == 404
    expect(page.get_by_label("Threshold")).to_have_value("60000")
    page.get_by_role("button", name="Save workflow").click()
    expect(page.get_by_text(f"Workflow {workflow} saved.")).to_be_visible()
    assert workflow_of(backend, workflow)["filter"]["threshold"] == 60000


def test_switching_a_workflow_on_refuses_one_a_teammate_changed_since_the_list_showed_it(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    # Given a disabled workflow in the list (more than 50000, a thank-you), which a teammate then
    # turns, still disabled, into "block every customer above 0"
    workflow = unique("wf-switch")
    sign_in_as(page, console, "fraud", "workflows?new=1")
    new_workflow(page, workflow, 50000, "block")
    row = page.get_by_role("row").filter(has_text=workflow)
    expect(row).to_contain_text("more than 50000")
    now = workflow_of(backend, workflow)
    mild = {k: now[k] for k in ("trigger", "filter")} | {
        "actions": [{"type": "communication", "event": "thanks", "payload": {}}],
        "enabled": False,
    }
    assert (
        backend.fraud.put(backend.url(f"/v1/loyalty/workflows/{workflow}"), json=mild, timeout=10).status_code
        == 200
    )
    page.reload()
    row = page.get_by_role("row").filter(has_text=workflow)
    expect(row).to_contain_text("Communication")
    harsh = {
        **mild,
        "filter": {**mild["filter"], "threshold": 0, "customer": "all"},
        "actions": [{"type": "block"}],
    }
    assert (
        backend.fraud.put(
            backend.url(f"/v1/loyalty/workflows/{workflow}"), json=harsh, timeout=10
        ).status_code
        == 200
    )

    # When this person, reading the row as it was shown, switches it on: one click (Playwright's
    # check() clicks again when the list it re-read has replaced the box, which a person does not)
    try:
        row.get_by_role("switch").click()

        # Then nothing is switched on (the switch read it again at the click, and enabled the block
        # rule the row never showed), and the list is shown as it is now
        said = page.get_by_role("alert").filter(has_text=f"Workflow {workflow} changed meanwhile")
        expect(said).to_be_focused()
        expect(said).to_contain_text("so it was not enabled")
        stored = workflow_of(backend, workflow)
        assert stored["enabled"] is False and stored["actions"] == [{"type": "block"}], stored
        expect(row).to_contain_text("Block")
        expect(row.get_by_role("switch")).not_to_be_checked()
        screenshot(page, "26-workflow-switch-refused", full_page=False)
    finally:
        # the block rule never stays in the program the other tests earn in, whatever happened
        backend.fraud.delete(backend.url(f"/v1/loyalty/workflows/{workflow}"), timeout=10)


def test_a_new_workflow_past_the_programs_most_is_said_so_not_an_id_in_use(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    # Given a program with as many workflows as it may have (each 409 of a new one was said to be
    # its ID in use, though the API refused it for the program's 50, or for 300 KB of them together)
    have = backend.fraud.get(backend.url("/v1/loyalty/workflows"), timeout=10).json()["items"]
    made = []
    for _ in range(50 - len(have)):
        filler = unique("wf-fill")
        body = {
            "trigger": {"event": "points.earned"},
            "filter": {
                "aggregation": "earned",
                "date_range": "today",
                "customer": "current",
                "threshold": 10**9,
            },
            "actions": [{"type": "suspend"}],
            "enabled": False,
        }
        answer = backend.fraud.put(backend.url(f"/v1/loyalty/workflows/{filler}"), json=body, timeout=10)
        assert answer.status_code == 200, answer.text
        made.append(filler)
    try:
        # When a person makes one more
        workflow = unique("wf-one-more")
        sign_in_as(page, console, "fraud", "workflows?new=1")
        new_workflow(page, workflow, 900000, "suspend")

        # Then the page says what the API said, focused, nothing saved
        said = page.get_by_role("alert")
        expect(said).to_contain_text("a program has at most 50 workflows")
        expect(said).not_to_contain_text("exists already")
        expect(said).to_be_focused()
        assert (
            backend.fraud.get(backend.url(f"/v1/loyalty/workflows/{workflow}"), timeout=10).status_code == 404
        )
    finally:
        for filler in made:
            backend.fraud.delete(backend.url(f"/v1/loyalty/workflows/{filler}"), timeout=10)
