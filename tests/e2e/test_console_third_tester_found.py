"""What an accessibility tester of the console found (thirty-third session), in a real Chromium: a
search, a look-up, a filter or a save that a screen reader did not say, the focus dropping to the
page or jumping to the heading; the focus on <body> after a viewer key signed in and on "Not
available"; a focus ring and box borders under 3:1; an audit trail's amount not in the reader's
locale; and Review rewards saying none are on hold when only the partner asked for has none.

What a screen reader says is read as one says it: text added inside a live region that was already
in the page, or an alert inserted (`HEARD`, recorded from the page's first script on)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.e2e.conftest import LocalSystem
from tests.e2e.console.backend import Backend
from tests.e2e.console.steps import LAPTOP, open_console, screenshot, sign_in, sign_in_as, tag

pytestmark = pytest.mark.e2e
pytest_plugins = ["tests.e2e.console.fixtures"]  # browser, page, console

NO_ACCESS = "You do not have access to Fraud Management"

# Text a screen reader reads: added inside a live region the page already had (one drawn together
# with its text is not taken as news), or an alert inserted; kept in window.__heard.
HEARD = """(() => {
  window.__heard = [];
  const live = '[aria-live],[role=status],[role=alert],[role=log]';
  const known = new WeakSet();
  const scan = () => document.querySelectorAll(live).forEach((e) => known.add(e));
  const regionOf = (node) => {
    for (let e = node.nodeType === 1 ? node : node.parentElement; e; e = e.parentElement) {
      if (e.matches(live) && e.getAttribute('aria-live') !== 'off') return e;
    }
    return null;
  };
  new MutationObserver((changes) => {
    for (const change of changes) {
      const nodes = change.type === 'characterData' ? [change.target] : [...change.addedNodes];
      for (const node of nodes) {
        const text = (node.textContent || '').trim();
        if (!text) continue;
        const region = regionOf(node.parentElement || node);
        const alert = node.nodeType === 1
          && (node.matches('[role=alert]') || node.querySelector('[role=alert]'));
        if ((region && known.has(region)) || alert) window.__heard.push(text);
      }
    }
    scan();
  }).observe(document, { childList: true, subtree: true, characterData: true });
  document.addEventListener('DOMContentLoaded', scan);
})();"""


@pytest.fixture
def listening(page: Page) -> Page:
    """The page, recording what a screen reader would say on it."""
    page.add_init_script(HEARD)
    return page


def heard(page: Page, words: str) -> None:
    """`words` said by a screen reader (waits for it a few seconds; fails with what was said)."""
    try:
        page.wait_for_function(
            "(words) => window.__heard.some((said) => said.includes(words))", arg=words, timeout=5000
        )
    except Exception as error:
        said = page.evaluate("() => window.__heard")
        raise AssertionError(f"not said: {words!r}; said: {said}") from error


def forget_what_was_heard(page: Page) -> None:
    page.evaluate("() => { window.__heard = []; }")


def press_enter_in(box: Locator, text: str) -> None:
    """Type `text` into an emptied `box` and press Enter, from the keyboard."""
    box.fill("")
    box.focus()
    box.page.keyboard.type(text)
    box.page.keyboard.press("Enter")


# ---- 3 and 4. the focus ring on the top bar, the boxes' borders: 3:1 ---------------------------

CONTRAST = """([fore, back]) => {
  const rgb = (css) => { const c = document.createElement('i'); c.style.color = css; document.body.append(c);
    const v = getComputedStyle(c).color.match(/[\\d.]+/g).map(Number); c.remove(); return v.slice(0, 3); };
  const linear = (x) => { x /= 255; return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; };
  const lum = (c) => { const [r, g, b] = c.map(linear); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const [a, b] = [lum(rgb(fore)), lum(rgb(back))];
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""


def contrast(page: Page, fore: str, back: str) -> float:
    return float(page.evaluate(CONTRAST, [fore, back]))


def test_the_focus_ring_on_the_top_bar_stands_out_from_the_bar(page: Page, console: LocalSystem) -> None:
    sign_in_as(page, console, "fraud")
    page.get_by_role("button", name="Sign out").focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")  # from the keyboard: `:focus-visible`
    ring, width, bar = page.evaluate(
        """() => { const s = getComputedStyle(document.activeElement);
        const bar = getComputedStyle(document.querySelector('.top-bar'));
        return [s.outlineColor, s.outlineWidth, bar.backgroundColor]; }"""
    )
    assert page.evaluate("() => document.activeElement.textContent") == "Sign out"
    assert float(width.removesuffix("px")) >= 2, width
    assert contrast(page, ring, bar) >= 3, (ring, bar)
    screenshot(page, "35-top-bar-focus", full_page=False)

    # and the ring of what is on white is as it was: 3:1 there too
    box = page.get_by_role("link", name="Active cases")
    box.focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    ring = page.evaluate("() => getComputedStyle(document.activeElement).outlineColor")
    assert contrast(page, ring, "#ffffff") >= 3, ring


def test_the_boxes_borders_stand_out_on_white_and_on_the_grey(page: Page, console: LocalSystem) -> None:
    sign_in_as(page, console, "fraud", "rewards")
    box = page.get_by_label("Partner ID")
    expect(box).to_be_visible()
    border = box.evaluate("e => getComputedStyle(e).borderTopColor")
    wash = page.evaluate("() => getComputedStyle(document.documentElement).backgroundColor")
    for ground in ("#ffffff", wash):
        assert contrast(page, border, ground) >= 3, (border, ground)
    for kind in ("select", "textarea"):
        other = page.evaluate(
            """(kind) => { const e = document.createElement(kind); document.body.append(e);
            const c = getComputedStyle(e).borderTopColor; e.remove(); return c; }""",
            kind,
        )
        assert other == border, (kind, other, border)


# ---- 5. the audit trail's amounts in the reader's locale ---------------------------------------


@pytest.fixture
def german_page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=LAPTOP, locale="de-DE", timezone_id="Europe/Berlin")
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def test_an_overridden_rewards_amount_in_the_audit_trail_is_in_the_readers_locale(
    german_page: Page, console: LocalSystem, backend: Backend
) -> None:
    page = german_page
    partner = backend.flagged_partner(f"Audit {tag()} GmbH", rewards=("1234.50", "7.00"))
    reward = partner.reward_ids[0]
    answer = backend.fraud.post(
        backend.url(f"/v1/rewards/{reward}/override"), json={"status": "approved"}, timeout=10
    )
    assert answer.status_code == 200, answer.text

    open_console(page, console, f"active?q={partner.name}")
    sign_in(page, console.keys["fraud"])
    page.get_by_role("link", name=partner.name, exact=True).click()
    drawer = page.get_by_role("dialog", name=partner.name)
    entry = drawer.locator("ol.audit li").filter(has_text="Reward overridden").filter(has_text=reward)
    expect(entry).to_be_visible()

    # as the held amounts are shown (the browser's own words for 1234.50 USD in German)
    german = page.evaluate(
        """() => new Intl.NumberFormat(undefined, {style: 'currency', currency: 'USD',
        minimumFractionDigits: 2}).format('1234.50')"""
    )
    assert "1.234,50" in german, german
    expect(entry).to_contain_text(f"amount: {german}")
    expect(entry).not_to_contain_text("1234.50")
    expect(entry).not_to_contain_text("currency")
    entry.scroll_into_view_if_needed()
    screenshot(page, "35-audit-amount-de", full_page=False)
