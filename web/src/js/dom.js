// Building the page: elements from data without innerHTML (so API text can never become markup),
// icons with text alternatives, and the loading / empty / error states every list shares.

const SVG = "http://www.w3.org/2000/svg"; // a namespace name, not something fetched

// Characters a sender can put in a name to disguise what an operator reads: controls, bidirectional
// overrides and isolates ("Bob <U+202E>gnp.exe" shows as "Bob exe.png"), zero-width ones
// ("Ada<U+200B>Lovelace" shows as "AdaLovelace"). The joiners (U+200C, U+200D) only beside ASCII
// ("Ada<U+200D>Lovelace"): between the letters of Persian, Indic scripts or emoji they are how those
// are written. The same class as fraudctl's `terminal_safe`.
const HIDDEN =
  /[\x00-\x08\x0b-\x1f\x7f-\x9f\xad\u061c\u180e\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\ufff9-\ufffb]|(?<=[\x21-\x7e])[\u200c\u200d]|[\u200c\u200d](?=[\x21-\x7e])/g;

/** Text as stored, each hidden character shown as its code point (`<U+202E>`), nothing else changed. */
export function shownText(text) {
  return text.replace(HIDDEN, (c) => `<U+${c.codePointAt(0).toString(16).toUpperCase().padStart(2, "0")}>`);
}

function append(parent, child) {
  if (child === null || child === undefined || child === false) return;
  if (Array.isArray(child)) {
    child.forEach((c) => append(parent, c));
  } else if (child instanceof Node) {
    parent.append(child);
  } else {
    parent.append(document.createTextNode(shownText(String(child)))); // every text the page draws
  }
}

/** h("button", {type: "button", onclick: f, class: "x"}, "Text", child, [more]) */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else if (name === "class") {
      element.className = value;
    } else if (name === "value") {
      element.value = value;
    } else if (name === "checked" || name === "selected") {
      element[name] = Boolean(value);
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(element, children);
  return element;
}

export function replace(parent, ...children) {
  parent.replaceChildren();
  append(parent, children);
  return parent;
}

const ICONS = {
  // a flag (new case), a clock (disputed), a check (approved), an x (declined), a bin (removed)
  flag: { color: "icon-red", d: "M4 2v20h2v-8h11l-3-4 3-4H6V2z" },
  clock: { color: "icon-amber", d: "M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zm0 2a8 8 0 1 1 0 16 8 8 0 0 1 0-16zm-1 3v6l5 3 1-1.7-4-2.3V7z" },
  check: { color: "icon-green", d: "M9 16.2 4.8 12l-1.4 1.4L9 19 21 7l-1.4-1.4z" },
  cross: { color: "icon-red", d: "M18.3 5.7 16.9 4.3 12 9.2 7.1 4.3 5.7 5.7 10.6 12l-4.9 4.9 1.4 1.4 4.9-4.9 4.9 4.9 1.4-1.4-4.9-4.9z" },
  removed: { color: "icon-grey", d: "M6 7h12l-1 14H7zm3-4h6l1 2h4v2H4V5h4z" },
};

/** An icon that a screen reader reads as `label` (role img with an accessible name). */
export function icon(name, label) {
  const spec = ICONS[name];
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("class", `icon ${spec.color}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  svg.setAttribute("focusable", "false");
  const title = document.createElementNS(SVG, "title");
  title.textContent = label; // also a tooltip for sighted mouse users
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("d", spec.d);
  path.setAttribute("fill", "currentColor");
  svg.append(title, path);
  return svg;
}

/** The marker of a case's status: the seed's icons, each with its text alternative. */
export function statusMarker(status) {
  switch (status) {
    case "open":
      return icon("flag", "New");
    case "disputed":
      return icon("clock", "Disputed");
    case "approved":
      return icon("check", "Approved");
    case "declined":
      return icon("cross", "Declined");
    case "removed":
      return icon("removed", "Removed");
    default:
      return null;
  }
}

/** The page sizes a paged list offers, and the one it shows first (the API's default limit). */
export const PAGE_SIZES = [10, 25, 50, 100];
export const DEFAULT_PAGE_SIZE = 25;

/** A paged list's navigation: `summary` (what this page holds, in words, if given; a page says it
 * aloud with `announce`), the "Per page" choice of `limit` (if `choose(size)` is given, run when
 * another size is chosen), and links to the first page (when past it) and to the `next` cursor's.
 * `url(changes)` is the list's address with some of its parameters changed. */
export function pager(summary, { limit, cursor, next, url, choose }) {
  return h(
    "nav",
    { class: "pager", "aria-label": "Pages" },
    summary ? h("span", { class: "muted" }, summary) : null,
    choose ? pageSizeChoice(limit, choose) : null,
    cursor ? h("a", { href: url({ cursor: "" }) }, "First page") : null,
    next ? h("a", { href: url({ cursor: next }), rel: "next" }, "Next page") : null,
  );
}

/** The "Per page" choice: `current` is the size asked for ("" for the default; a size not offered
 * is added in order). */
function pageSizeChoice(current, choose) {
  const size = current || DEFAULT_PAGE_SIZE;
  const sizes = PAGE_SIZES.includes(size) ? PAGE_SIZES : [...PAGE_SIZES, size].sort((a, b) => a - b);
  const choice = h(
    "select",
    { id: "page-size", onchange: () => choose(choice.value) },
    sizes.map((n) => h("option", { value: String(n), selected: n === size }, String(n))),
  );
  return h("span", { class: "page-size" }, h("label", { for: "page-size" }, "Per page "), choice);
}

/** An action a click or a submit starts, one at a time: while it runs, the buttons of `scope` (an
 * element, or a function giving it) are disabled and a second start is ignored, so a double click
 * sends one request (a removal's second POST answered 409 after the first had succeeded). A
 * drawer's `Close` stays usable; buttons disabled before stay so. */
export function oneAtATime(scope, work) {
  let running = false;
  return async (...args) => {
    if (running) return undefined;
    running = true;
    const root = typeof scope === "function" ? scope() : scope;
    const buttons = [...root.querySelectorAll("button")].filter((b) => !b.disabled && !b.classList.contains("close"));
    const focused = document.activeElement; // a disabled button drops the focus to the page
    for (const b of buttons) b.disabled = true;
    try {
      return await work(...args);
    } finally {
      running = false;
      for (const b of buttons) b.disabled = false;
      const lost = !document.activeElement || document.activeElement === document.body;
      if (lost && focused instanceof HTMLElement && focused.isConnected && !focused.hidden) focused.focus();
    }
  };
}

/** A button that asks first: `ask` turns into "<question> [yesLabel] [Keep]", and `work` runs
 * once per confirmation (`oneAtATime`). The elements to put where `ask` goes. */
export function askFirst(ask, question, yesLabel, work) {
  const yes = h("button", { type: "button", class: "danger" }, yesLabel);
  const no = h("button", { type: "button" }, "Keep");
  const confirm = h("span", { class: "confirm", hidden: true }, question, yes, " ", no);
  ask.addEventListener("click", () => {
    ask.hidden = true;
    confirm.hidden = false;
    yes.focus();
  });
  no.addEventListener("click", () => {
    confirm.hidden = true;
    ask.hidden = false;
    ask.focus();
  });
  yes.addEventListener("click", oneAtATime(confirm, work));
  return [ask, confirm];
}

let announcing = null; // the words waiting to be written (`announce`)

/**
 * What a search, a look-up, a filter or a save came to, said by a screen reader: written into the
 * page shell's live region (index.html's `#announcer`), which is there before any text is, so the
 * text is read (a `role="status"` drawn together with its text often is not). Its words are its
 * own, a line that names what was asked ("Search for Ada: 3 cases shown."), not a copy of what
 * the page shows. Emptied first and written a moment later, so the same words again (one search
 * twice) are read again. `from`: the part of the page the words are about; nothing is said once it
 * has left the page (a list answered after another tab was opened).
 */
export function announce(text, from = null) {
  const region = document.getElementById("announcer");
  if (!region) return;
  if (from && !from.isConnected) {
    // not on the page: about to be drawn (a saved message, put in place after this), or gone (a
    // list answered after its page was drawn again). Decided once this task is done, cancelling
    // nothing now: a list answered late took back the new list's line (a CI run heard nothing)
    setTimeout(() => from.isConnected && announce(text, from), 0);
    return;
  }
  clearTimeout(announcing);
  region.textContent = "";
  if (!text) return;
  announcing = setTimeout(() => {
    if (!from || from.isConnected) region.textContent = shownText(text);
  }, 100);
}

export function loading(what) {
  return h("p", { class: "state", role: "status" }, `Loading ${what}…`);
}

export function empty(text) {
  return h("p", { class: "state empty" }, text);
}

/**
 * A box's text past what the API takes, said before anything is sent (an `maxlength` would cut a
 * paste silently, and counts an emoji as two): an alert naming the box, or null when it fits.
 */
export function overLimit(input, label, most) {
  const length = [...input.value.trim()].length;
  if (length <= most) return null;
  return alertBox("p", `${label} takes at most ${most} characters; this is ${length}.`);
}

/** A query parameter as the form's box says it, without the API's `query.` ("query.q: ..." as "q: ..."),
 * in a field's name or where a detail names one (at its start, or after another's "; "). */
function withoutQuery(text) {
  return text.replace(/(^|[;,]\s*)query\.(\w+)/g, "$1$2");
}

/** The option of a select for a value the address asked for that is none of its choices: shown as
 * chosen and said to be none of them (a select shows its first choice for a value it lacks). */
export function unlistedChoice(value, choices) {
  if (!value || choices.includes(value)) return null;
  return h("option", { value, selected: true }, `${value} (not one of these)`);
}

/** Something refused or changed meanwhile, said where it stands: an alert the focus can be moved to. */
export function alertBox(tag, ...children) {
  return h(tag, { class: "problem", role: "alert", tabindex: "-1" }, ...children);
}

// The API's identifiers (`inputs.IDENTIFIER_PATTERN`, the same text: a test holds the two alike). An
// ID the browser cannot put in a path as typed (`.` and `..` are resolved away, a `/` starts another
// segment) reached the API as another route ("no route PUT /v1/loyalty/"): it is told the rule here.
export const IDENTIFIER = /^(?!\.\.?$)[A-Za-z0-9_\-.~()'!*:@,;=+&$<>\[\]{}|^]{1,128}$/;

/** Null for an ID the API takes; else an alert, for `what` ("A campaign ID"), saying what one is. */
export function badIdentifier(value, what) {
  if (IDENTIFIER.test(value)) return null;
  return alertBox("p", `${what} is 1 to 128 ASCII letters, digits and _-.~()'!*:@,;=+&$<>[]{}|^ (no spaces, '#', '/', '?' or '%'), and not . or .. alone.`);
}

/** An API error in words: its problem detail, and each field it names. */
export function problem(error) {
  const box = alertBox("div"); // focusable where it stands for what failed
  const title = error.title && error.title !== error.message ? `${error.title}: ` : "";
  append(box, h("p", {}, title, withoutQuery(error.message || String(error))));
  // each field the API named, unless the detail already says exactly that
  const fields = (error.errors || [])
    // a query parameter as the form's box says it, without the API's `query.` (`query.q`: q)
    .map((e) => (e.field ? `${withoutQuery(String(e.field))}: ${e.message}` : e.message))
    .filter((text) => text && !withoutQuery(error.message || "").includes(text));
  if (fields.length) append(box, h("ul", {}, fields.map((text) => h("li", {}, text))));
  // the wait a 429 or 503 asks for, in words: its detail names the Retry-After header, which no one sees here
  if (error.retryAfter > 0) {
    const wait = Math.ceil(error.retryAfter);
    append(box, h("p", {}, `Try again in ${wait} second${wait === 1 ? "" : "s"}.`));
  }
  return box;
}

/** A table that scrolls sideways on its own on a narrow screen, reachable by keyboard. */
export function scrollingTable(label, table) {
  return h("div", { class: "table-scroll", role: "region", "aria-label": label, tabindex: "0" }, table);
}

export function pageHeading(text) {
  return h("h1", { id: "page-heading", tabindex: "-1" }, text);
}

// ---- formatting ----------------------------------------------------------------------------

const wholeNumber = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });

/** A count or points as people read them: grouped (20,000), "—" when unknown. */
export function count(value) {
  return value === null || value === undefined ? "—" : wholeNumber.format(Number(value));
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export function when(iso) {
  if (!iso) return "—";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : dateTime.format(date);
}

const withSeconds = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
const decimalPoint = new Intl.NumberFormat().formatToParts(0.5).find((p) => p.type === "decimal")?.value ?? ".";

/** A time as `when` shows it, with its seconds (and milliseconds) when it has some, for a time that
 * is a boundary: a campaign that ends at 23:59:59.999 does not read as ending at 23:59. */
export function whenExactly(iso) {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  const ms = date.getUTCMilliseconds();
  if (!ms && !date.getUTCSeconds()) return dateTime.format(date);
  // the medium time style has the seconds; milliseconds go after them (no style has those)
  const fraction = ms ? `${decimalPoint}${String(ms).padStart(3, "0")}` : "";
  return withSeconds
    .formatToParts(date)
    .map((p) => (p.type === "second" ? p.value + fraction : p.value))
    .join("");
}

/** A <time> of `iso`, shown by `show` (`when`, or `whenExactly`). */
export function timeElement(iso, show = when) {
  if (!iso) return "—";
  return h("time", { datetime: iso }, show(iso));
}

// an amount as the API writes it: digits, and the currency's decimal places after a point
const DECIMAL = /^-?\d+(?:\.(\d+))?$/;

/** {amount: "12.50", currency: "EUR"} → "€12.50". Display only: arithmetic stays on the server.
 * Exactly the digits the API sent: it writes every amount with its currency's ISO 4217 decimal
 * places (HUF 1250.28, IQD 2.125), while a browser's own decimals for a currency are often fewer
 * (Chromium's are 0 for HUF, IDR, IQD, COP...: "HUF 1,250"), so they are never left to it. The text
 * itself is formatted (not a Number of it), so no digit of a large amount is lost either. */
export function money(value) {
  if (value === null || value === undefined) return "—";
  if (typeof value !== "object") return String(value);
  const { amount, currency } = value;
  if (amount === undefined || amount === null) return "—";
  if (!currency) return Number(amount) === 0 ? "None" : String(amount); // nothing held: no currency either
  const text = String(amount);
  const decimal = DECIMAL.exec(text);
  if (!decimal) return `${text} ${currency}`; // not an amount as the API writes one: shown as sent
  const places = decimal[1] ? decimal[1].length : 0;
  try {
    const format = new Intl.NumberFormat(undefined, { style: "currency", currency, minimumFractionDigits: places, maximumFractionDigits: places });
    return format.format(text);
  } catch {
    return `${text} ${currency}`;
  }
}

/** A list of money values (one per currency) in one line. */
export function moneyList(values) {
  if (!values) return "—";
  const list = Array.isArray(values)
    ? values
    : typeof values === "object" && "amount" in values
      ? [values]
      : Object.entries(values).map(([currency, amount]) => ({ currency, amount }));
  return list.length ? list.map(money).join(", ") : "—";
}

/** Several amounts as the page shows them: each kept whole (never "CHF 3,900. / 65"), lines broken
 * between amounts only; a single one (or none) as `money` shows it. */
export function amounts(values) {
  const list = Array.isArray(values) ? values.filter((v) => v && Number(v.amount) !== 0) : [];
  if (list.length < 1) return moneyList(values);
  return h("span", { class: "amounts" }, list.map((v, i) => [i ? ", " : null, h("span", { class: "amount" }, money(v))]));
}

/** A case's hold amount (a CaseView's): every currency it holds, or its one `hold_amount` ("None"). */
export function holdAmount(item) {
  return item.hold_amounts.length ? amounts(item.hold_amounts) : money(item.hold_amount);
}

export function plural(count, one, many) {
  return `${count} ${count === 1 ? one : many}`;
}

// SPEC 5.1's reason codes, as a program team reads them
const REASONS = {
  email_duplicate: "Duplicate email",
  email_similar: "Similar email",
  email_disposable_domain: "Disposable email domain",
  email_suspicious_domain: "Suspicious email domain",
  ip_suspicious: "Suspicious IP address",
  ip_country_mismatch: "IP country mismatch",
  device_shared: "Shared device",
  location_far_from_address: "Far from the reported address",
  unusual_activity: "Unusual activity",
  velocity: "Too many sign-ups or transactions",
  cluster: "Linked to a cluster of accounts",
  network_flagged: "Flagged elsewhere in the network",
  blocked_reapply: "Blocked partner reapplying",
  self_referral: "Self-referral",
};

export function reason(code) {
  return REASONS[code] ?? words(code);
}

/** A flag reason, with how often its code fired when more than once ("×3") and what it found. */
export function reasonItem(r) {
  const times = r.count > 1 ? h("span", { class: "reason-count", title: `Fired ${r.count} times` }, ` ×${r.count}`) : null;
  return h("li", {}, h("strong", {}, reason(r.code)), times, r.detail ? `: ${r.detail}` : "");
}

/** Codes as words: "on_hold" → "On hold". */
export function words(code) {
  if (!code) return "";
  const text = String(code).replaceAll("_", " ").replaceAll(".", " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

// the ids of the system's own reviews, which no one can look up, said as what they are (the API
// refuses them from an integration): a removal's of the partners on its identifiers
// (`linked_removal.REVIEW_ID_PREFIX`), a late event's of the partners that gave one of its
// identifiers after it (`linked_earlier.REVIEW_ID_PREFIX`), and a purchase's of its partner for a
// large commission just after new payout details (`commission_review.REVIEW_ID_PREFIX`)
const REVIEWS = [
  ["linked_removal_", "a review after the removal of a partner it shares an identifier with"],
  ["linked_earlier_", "a review after an earlier event of a partner it shares an identifier with arrived late"],
  ["commission_review_", "a review of a large commission on a purchase just after new payout details"],
];
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})$/; // a time the API wrote

/** An audit entry's detail (text, or an object of facts) as one readable line. An amount and its
 * currency (a reward overridden: `{amount: "1234.50", currency: "USD"}`) are one fact, shown as
 * every other amount is (`money`, in the reader's locale: "amount: US$1,234.50"), when they are as
 * the API writes them, a decimal string and a currency code; anything else is shown as sent (a
 * number as written, an object as JSON), never as "[object Object] USD". A time (a fact named
 * `..._at`) is shown as the page shows times (a case's flag moved back: "case was flagged at:
 * 18 Nov 2026, 10:00"); any other text as written, whatever it looks like. */
export function detailText(detail) {
  if (detail === null || detail === undefined || detail === "") return "";
  if (typeof detail !== "object") return String(detail);
  const priced = typeof detail.currency === "string" && detail.currency !== "" && typeof detail.amount === "string" && DECIMAL.test(detail.amount);
  const parts = [];
  for (const [key, value] of Object.entries(detail)) {
    if (value === null || value === undefined || value === "") continue;
    if (priced && key === "currency") continue; // said with its amount
    const review = key === "event_id" && REVIEWS.find(([prefix]) => String(value).startsWith(prefix));
    if (review) {
      parts.push(`event: ${review[1]}`);
      continue;
    }
    let text;
    if (priced && key === "amount") text = money({ amount: value, currency: detail.currency });
    else if (key === "reasons" && Array.isArray(value)) text = value.map((r) => reason(r.code ?? r)).join(", ");
    else if (Array.isArray(value)) text = value.map((v) => (typeof v === "object" ? JSON.stringify(v) : String(v))).join(", ");
    else if (typeof value === "boolean") text = value ? "yes" : "no";
    else if (key.endsWith("_at") && typeof value === "string" && RFC3339.test(value)) text = when(value); // a time, as the page shows times (an id or a reason written like one stays as written)
    else if (typeof value === "object") text = JSON.stringify(value);
    else text = String(value);
    parts.push(`${words(key).toLowerCase()}: ${text}`);
  }
  return parts.join("; ");
}
