// The console's shell: sign-in, the session bar, the tabs a role may see, and the hash router that
// mounts one page at a time into <main>.

import { ApiError, call, forgetKey, rememberKey, storedKey, whenUnauthorized } from "./api.js";
import { announce, h, pageHeading, problem, replace } from "./dom.js";
import { href, parseHash } from "./router.js";
import { mountHome } from "./pages/home.js";
import { mountCases } from "./pages/cases.js";
import { mountRemoved } from "./pages/removed.js";
import { mountRewards } from "./pages/rewards.js";
import { mountDisputes } from "./pages/disputes.js";
import { mountCustomers } from "./pages/customers.js";
import { mountCampaigns } from "./pages/campaigns.js";
import { mountWorkflows } from "./pages/workflows.js";
import { mountKeys } from "./pages/keys.js";
import { mountWebhooks } from "./pages/webhooks.js";

const PROGRAM_TEAM = ["fraud", "admin"];
const SECURITY = ["security"];
const ADMIN = ["admin"];
export const NO_ACCESS = "You do not have access to Fraud Management";
// who each tab's roles are, in words (a tab names one of the lists above)
const ROLE_NAMES = new Map([
  [PROGRAM_TEAM, "the program's fraud team and admins"],
  [SECURITY, "the platform security team"],
  [ADMIN, "admins"],
]);

// Each tab: its path, its name (the link text and the page's heading), who may see it, its page.
const TABS = [
  { path: "home", name: "Home", roles: PROGRAM_TEAM, mount: mountHome, hidden: true },
  { path: "active", name: "Active cases", roles: PROGRAM_TEAM, mount: mountCases("active") },
  { path: "resolved", name: "Resolved cases", roles: PROGRAM_TEAM, mount: mountCases("resolved") },
  { path: "removed", name: "Removed partners", roles: PROGRAM_TEAM, mount: mountRemoved },
  { path: "rewards", name: "Review rewards", roles: PROGRAM_TEAM, mount: mountRewards },
  { path: "disputes", name: "Disputes", roles: SECURITY, mount: mountDisputes },
  { path: "customers", name: "Loyalty customers", roles: PROGRAM_TEAM, mount: mountCustomers },
  { path: "campaigns", name: "Campaigns", roles: PROGRAM_TEAM, mount: mountCampaigns },
  { path: "workflows", name: "Workflows", roles: PROGRAM_TEAM, mount: mountWorkflows },
  { path: "webhooks", name: "Webhooks", roles: ADMIN, mount: mountWebhooks },
  { path: "keys", name: "API keys", roles: ADMIN, mount: mountKeys },
];

const main = document.getElementById("main");
const tabs = document.getElementById("tabs");
const session = document.getElementById("session");

let me = null; // GET /v1/me of the signed-in key
let mounted = null; // {tab, page}: the page on screen, asked first whether it can take a new route
let firstRender = true;

function tabsFor(role) {
  return TABS.filter((tab) => tab.roles.includes(role));
}

function homeOf(role) {
  return SECURITY.includes(role) ? "disputes" : "home";
}

// ---- sign-in and sign-out -------------------------------------------------------------------

/** The sign-in form; with the error that led here (a refused key), or a notice (why you were signed out). */
function showSignIn(error, notice) {
  me = null;
  mounted = null;
  tabs.hidden = true;
  tabs.replaceChildren();
  replace(session);
  announce(""); // what the last page said is not left for the next person's screen reader
  document.title = "Sign in — Fraud Management";
  const field = h("input", {
    id: "api-key",
    name: "api-key",
    type: "password",
    autocomplete: "off",
    spellcheck: "false",
    required: true,
  });
  const message = h("div", { class: "form-message" });
  const button = h("button", { type: "submit", class: "primary" }, "Sign in");
  const form = h(
    "form",
    {
      class: "sign-in card",
      onsubmit: async (event) => {
        event.preventDefault();
        // a key copied from a chat or a document may bring invisible characters along: dropped
        // and the header a key copied from a curl command comes with (`Authorization: Bearer `)
        const key = field.value
          .replace(/^\s*(?:authorization\s*:\s*)?(?:bearer\s+)?/i, "")
          .replace(/[\s\u200b-\u200f\u2060\ufeff]/g, "");
        if (!key) return;
        if (/[^\x21-\x7e]/.test(key)) {
          // the browser would refuse to send it, and the console would say the API is unreachable
          replace(message, problem({ message: "This is not an API key: a key has only letters, digits and punctuation. Copy it again." }));
          field.focus();
          return;
        }
        button.disabled = true;
        replace(message, h("p", { role: "status" }, "Signing in…"));
        try {
          me = await call("GET", "/v1/me", { key });
          rememberKey(key);
          firstRender = false; // focus on the page's heading: the form that had it is gone
          render();
        } catch (failure) {
          replace(message, failure.status === 401 ? problem({ message: NOT_A_KEY }) : problem(failure));
          button.disabled = false;
          field.focus();
        }
      },
    },
    h("h1", {}, "Sign in"),
    h("p", {}, "Sign in with your teammate API key. It is kept only until you close this tab or sign out."),
    h("label", { for: "api-key" }, "API key"),
    field,
    button,
    message,
  );
  replace(main, form);
  if (error) replace(message, problem(error));
  else if (notice) replace(message, h("p", { role: "status" }, notice));
  field.focus();
}

// what a 401 means to a person (the API's detail is about the Authorization header)
const NOT_A_KEY = "This key is not valid: it was revoked, or mistyped. Ask an admin of your program for a new one.";
const SIGNED_OUT =
  "You were signed out: your key was revoked or is no longer valid, and what you were doing was not saved. " +
  "Sign in with a valid key (an admin of your program can make you one).";

function signOut(notice) {
  forgetKey();
  me = null;
  unmountPage();
  // the next person to sign in starts at their own start page, not at this one's case or tab
  history.replaceState(null, "", location.pathname + location.search);
  showSignIn(null, notice);
}

function renderSessionBar() {
  const program = me.program_name ? h("span", { class: "program" }, me.program_name) : null;
  replace(
    session,
    program,
    h("span", { class: "actor", id: "actor-name" }, me.actor),
    h("span", { class: "role" }, `(${me.role})`),
    h("button", { type: "button", class: "link-button", onclick: () => signOut() }, "Sign out"),
  );
}

function renderTabs(current) {
  const visible = tabsFor(me.role).filter((tab) => !tab.hidden);
  tabs.hidden = visible.length === 0;
  replace(
    tabs,
    h(
      "ul",
      {},
      visible.map((tab) =>
        h(
          "li",
          {},
          h("a", { href: href(tab.path), "aria-current": tab.path === current ? "page" : null }, tab.name),
        ),
      ),
    ),
  );
}

// ---- routing --------------------------------------------------------------------------------

/** The page on screen taken down (its drawer closed, its timers stopped) before another replaces it. */
function unmountPage() {
  if (mounted?.page?.unmount) mounted.page.unmount();
  mounted = null;
}

function render() {
  if (!me) return showSignIn();
  renderSessionBar();
  const route = parseHash();
  const allowed = tabsFor(me.role);
  if (allowed.length === 0) {
    renderTabs(null);
    unmountPage();
    document.title = "Fraud Management";
    replace(main, pageHeading("Fraud Management"), h("p", { class: "no-access" }, NO_ACCESS));
    showHeading(`${NO_ACCESS}: the ${me.role} role has no page in this console.`);
    return;
  }
  const name = route.parts[0] || homeOf(me.role);
  const tab = allowed.find((t) => t.path === name);
  if (!tab) {
    // another role's tab, or an address that never existed: say so rather than guess
    renderTabs(null);
    unmountPage(); // a drawer open over the page left closes with it, as on any other page
    const known = TABS.find((t) => t.path === name);
    const heading = known ? "Not available" : "Page not found";
    const why = known ? `${known.name} is for ${ROLE_NAMES.get(known.roles)}; this key's role is ${me.role}.` : "There is no page at this address.";
    document.title = "Not found — Fraud Management";
    replace(
      main,
      pageHeading(heading),
      h("p", {}, why),
      h("p", {}, h("a", { href: href(homeOf(me.role)) }, "Go to the start page")),
    );
    showHeading(`${heading}: ${why}`);
    return;
  }
  renderTabs(tab.path);
  document.title = `${tab.path === "home" ? "Security Monitoring" : tab.name} — Fraud Management`;
  const context = { me, tab, route, signOut };
  if (mounted && mounted.tab === tab && mounted.page.update && mounted.page.update(route)) return;
  unmountPage();
  // a choice that changes the list as it changes (`Per page`, a status filter, a sort header) keeps
  // the focus on the new page: a keyboard user steps through a select's options with the arrows. So
  // does a search, look-up or filter box (or its button): the user types the next one where they
  // were, and hears what it found (`announce`)
  const from = document.activeElement;
  const searching = from?.closest?.('form[role="search"]');
  const kept = from?.id && (from.tagName === "SELECT" || from.classList.contains("sort") || searching) ? from.id : null;
  const container = h("div", { class: "page" });
  replace(main, container);
  mounted = { tab, page: tab.mount(container, route, context) || {} };
  if (!firstRender) {
    const heading = document.getElementById("page-heading");
    const again = kept && document.getElementById(kept);
    (again || heading)?.focus({ preventScroll: false });
    if (kept && !again && heading) refocusWhenDrawn(container, kept, heading);
  }
  firstRender = false;
}

/** A page of the shell's own (no access, not found) drawn: its heading takes the focus, as a tab's
 * does (the sign-in form, or the link followed, that had it is gone: it fell to <body>), and `said`,
 * what it says under the heading, is said aloud, the heading alone being read on focus. */
function showHeading(said) {
  if (!firstRender) document.getElementById("page-heading")?.focus();
  firstRender = false;
  announce(said, main.firstChild);
}

/** A list drawn once its answer is in (its sort headers, its `Per page`): the control with `id` takes
 * the focus back when it appears, unless the user has moved on from `heading` meanwhile. */
function refocusWhenDrawn(container, id, heading) {
  const observer = new MutationObserver(() => {
    const control = document.getElementById(id);
    if (!control) return;
    observer.disconnect();
    if (document.activeElement === heading) control.focus();
  });
  observer.observe(container, { childList: true, subtree: true });
  setTimeout(() => observer.disconnect(), 10000);
}

async function boot() {
  whenUnauthorized((error) => {
    forgetKey();
    unmountPage(); // a drawer open over the page closes with it
    showSignIn(error.status === 401 ? { message: SIGNED_OUT } : error);
  });
  document.querySelector(".skip-link").addEventListener("click", (event) => {
    event.preventDefault(); // "#main" would be read as a route
    main.focus();
  });
  window.addEventListener("hashchange", () => {
    if (me) render();
  });
  const key = storedKey();
  if (!key) return showSignIn();
  try {
    me = await call("GET", "/v1/me", { key });
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) forgetKey();
    return showSignIn(error);
  }
  render();
}

boot();

