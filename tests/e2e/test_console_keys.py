"""The API keys page in a real Chromium (SPEC 10 over SPEC 3.2 `/v1/keys`): admins only, the
program's keys (actor, role, created, last used), `Create key` with its `Role` and `Actor`, the new
key shown once with a copy button, `Revoke`, and revoking your own key signs you out."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import LocalSystem
from tests.e2e.console.backend import Backend
from tests.e2e.console.steps import PHONE, go_to_tab, open_console, screenshot, sign_in, sign_in_as, tab_names

pytestmark = pytest.mark.e2e
pytest_plugins = ["tests.e2e.console.fixtures"]  # browser, page, console


def actor(stem: str) -> str:
    return f"{stem} {uuid.uuid4().hex[:6]}"


def keys_table(page: Page) -> Locator:
    return page.get_by_role("table", name="API keys of this program")


def key_row(page: Page, name: str) -> Locator:
    return (
        keys_table(page)
        .get_by_role("row")
        .filter(has=page.get_by_role("rowheader", name=re.compile(re.escape(name))))
    )


def test_only_admins_see_the_api_keys_tab(page: Page, console: LocalSystem) -> None:
    sign_in_as(page, console, "admin")
    assert tab_names(page)[-1] == "API keys"

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, console.keys["fraud"])
    assert "API keys" not in tab_names(page)
    # not even through its address
    open_console(page, console, "keys")
    expect(page.get_by_role("heading", level=1)).to_have_text("Not available")
    expect(page.get_by_role("button", name="Create key")).to_have_count(0)


def test_an_admin_creates_a_key_sees_it_once_copies_it_and_it_works(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=console.api_url)
    teammate = actor("Dana Scully")

    # Given an admin on the API keys page
    sign_in_as(page, console, "admin", "keys")
    expect(page.get_by_role("heading", level=1, name="API keys")).to_be_visible()
    for header in ("Actor", "Role", "Created", "Last used", "Made by"):
        expect(keys_table(page).get_by_role("columnheader", name=header)).to_be_visible()
    expect(key_row(page, "Demo admin")).to_contain_text("(your key)")

    # When they create a fraud key for a teammate
    page.get_by_label("Role").select_option("fraud")
    page.get_by_label("Actor").fill(teammate)
    page.get_by_role("button", name="Create key").click()

    # Then the key is shown, once, with a copy button that copies it
    new_key = page.get_by_label("New API key")
    expect(new_key).to_have_value(re.compile(r"^fmk_[a-f0-9]{16}_"))
    key = new_key.input_value()
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_text("Copied.")).to_be_visible()
    assert page.evaluate("() => navigator.clipboard.readText()") == key
    # and the teammate is listed, never used yet, without the key
    row = key_row(page, teammate)
    expect(row).to_contain_text("Fraud")
    expect(row).to_contain_text("Never")
    expect(row.get_by_role("cell").nth(3)).to_have_text("Demo admin")  # made by the admin's key
    expect(key_row(page, "Demo admin").get_by_role("cell").nth(3)).to_have_text("An operator")
    screenshot(page, "30-api-key-created")
    assert key.split("_", 2)[2] not in keys_table(page).inner_text()

    # And the key works at once
    assert backend.signs_in(key)

    # When the admin comes back to the page, the key is not shown again; its last use is
    go_to_tab(page, "Active cases")
    go_to_tab(page, "API keys")
    expect(page.get_by_label("New API key")).to_have_count(0)
    assert key.split("_", 2)[2] not in page.content()
    expect(key_row(page, teammate).get_by_role("cell").nth(2)).not_to_have_text("Never")  # last used
    assert (
        page.evaluate("() => JSON.stringify(sessionStorage) + JSON.stringify(localStorage)").count(key) == 0
    )
    screenshot(page, "31-api-keys")


def test_revoke_refuses_the_key_at_once(page: Page, console: LocalSystem, backend: Backend) -> None:
    leaving = actor("Contractor")
    created = backend.create_key("integration", leaving)
    assert backend.signs_in(created["key"])

    sign_in_as(page, console, "admin", "keys")
    row = key_row(page, leaving)
    row.get_by_role("button", name="Revoke").click()
    expect(row).to_contain_text(f"Revoke the key of {leaving}?")
    row.get_by_role("button", name="Confirm revoke").click()

    expect(page.get_by_text(f"The key of {leaving} is revoked.")).to_be_visible()
    expect(key_row(page, leaving)).to_have_count(0)
    assert not backend.signs_in(created["key"])
    assert created["key_id"] not in {k["key_id"] for k in backend.listed_keys()}


def test_keep_leaves_the_key_alone(page: Page, console: LocalSystem, backend: Backend) -> None:
    staying = actor("Analyst")
    created = backend.create_key("viewer", staying)

    sign_in_as(page, console, "admin", "keys")
    row = key_row(page, staying)
    row.get_by_role("button", name="Revoke").click()
    row.get_by_role("button", name="Keep").click()

    expect(row.get_by_role("button", name="Revoke")).to_be_focused()
    assert backend.signs_in(created["key"])


def test_revoking_the_key_you_are_signed_in_with_signs_you_out(
    page: Page, console: LocalSystem, backend: Backend
) -> None:
    me = actor("Departing admin")
    created = backend.create_key("admin", me)

    open_console(page, console, "keys")
    sign_in(page, created["key"])
    row = key_row(page, me)
    expect(row).to_contain_text("(your key)")
    row.get_by_role("button", name="Revoke").click()
    expect(row).to_contain_text("revoking it signs you out")
    row.get_by_role("button", name="Confirm revoke").click()

    # Then the console is back at its sign-in, with the reason, and has forgotten the key
    expect(page.get_by_label("API key")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("You revoked the key you were signed in with")
    assert page.evaluate("() => sessionStorage.length") == 0
    screenshot(page, "32-signed-out-after-revoking-own-key")
    assert not backend.signs_in(created["key"])


def test_a_refused_creation_shows_the_problem_in_words(page: Page, console: LocalSystem) -> None:
    sign_in_as(page, console, "admin", "keys")
    # an actor the API refuses: a mark that reverses the text around it
    page.get_by_label("Role").select_option("viewer")
    page.get_by_label("Actor").fill("Dana \u202eScully")
    page.get_by_role("button", name="Create key").click()

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("actor")
    expect(page.get_by_label("New API key")).to_have_count(0)


def test_the_api_keys_page_is_readable_at_phone_width(page: Page, console: LocalSystem) -> None:
    page.set_viewport_size(PHONE)
    sign_in_as(page, console, "admin", "keys")
    expect(keys_table(page)).to_be_visible()
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the API keys page scrolls sideways at phone width ({width}px)"
    screenshot(page, "33-api-keys-phone")
