"""The console's boxes keep to what the API takes (9667aea) with HTML `maxlength`, which
counts UTF-16 code units; the API counts characters (code points: `Query(max_length=200)`). A
search of characters beyond the BMP (emoji, the symbols the twenty-fifth session made searchable,
CJK Extension B names) is cut at half of what the API takes, silently: nothing tells the analyst
the text searched is not the text pasted. A paste past the limit is cut silently too (before, the
API named the limit)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LocalSystem
from tests.e2e.console.steps import screenshot, sign_in_as

pytestmark = pytest.mark.e2e
pytest_plugins = ["tests.e2e.console.fixtures"]


def test_a_search_the_api_takes_is_not_cut_by_the_box(page: Page, console: LocalSystem) -> None:
    # Given a fraud analyst on the cases list, When 150 emoji are pasted into Search partners (the API
    # takes 200 characters: 150 is within it)
    sign_in_as(page, console, "fraud", "active")
    box = page.get_by_label("Search partners")
    expect(box).to_be_visible()
    box.focus()
    page.keyboard.insert_text("🦄" * 150)

    # Then the box holds the 150 characters pasted
    kept = box.evaluate("el => [...el.value].length")
    assert kept == 150, f"the box kept {kept} of 150 characters the API would take"


def test_a_paste_past_the_limit_is_said_not_cut_silently(page: Page, console: LocalSystem) -> None:
    sign_in_as(page, console, "fraud", "active")
    box = page.get_by_label("Search partners")
    expect(box).to_be_visible()
    box.focus()
    page.keyboard.insert_text("a" * 250)
    page.get_by_role("button", name="Search").click()
    page.wait_for_timeout(800)
    kept = box.evaluate("el => el.value.length")
    said = page.locator("[role=alert], [role=status], .problem").all_inner_texts()
    assert kept == 250 or any("200" in text for text in said), (
        f"250 characters pasted, {kept} searched, nothing said: {said}"
    )


@pytest.mark.parametrize(
    ("box", "most"),
    [("Webhook ID", 128), ("URL", 2048)],
)
def test_a_webhook_box_past_the_limit_is_said_on_submit_naming_the_box(
    page: Page, console: LocalSystem, box: str, most: int
) -> None:
    # Given an admin on Webhooks who pastes one character more than the API takes into a box
    sign_in_as(page, console, "admin", "webhooks")
    fits = {"Webhook ID": "hook-" + "x" * 20, "URL": "https://hooks.example.com/in"}
    start = "hook-" if box == "Webhook ID" else "https://hooks.example.com/"
    pasted = (start + "a" * most)[: most + 1]
    for name, text in fits.items():
        page.get_by_label(name, exact=True).fill(text)
    field = page.get_by_label(box, exact=True)
    field.fill("")
    field.focus()
    page.keyboard.insert_text(pasted)
    sent: list[str] = []
    page.on("request", lambda r: r.method == "PUT" and sent.append(r.url))

    # Then the box keeps the whole paste (nothing cut silently)
    assert field.evaluate("el => el.value.length") == most + 1

    # And on Save, the page says which box is too long, by how much, focused, and sends nothing
    page.get_by_role("button", name="Save webhook").click()
    told = f"{box} takes at most {most} characters; this is {most + 1}."
    said = page.get_by_role("alert").filter(has_text=told)
    expect(said).to_be_focused()
    page.wait_for_timeout(300)
    assert not sent, sent
    screenshot(page, f"26-webhook-{'id' if box == 'Webhook ID' else 'url'}-too-long", full_page=False)
