// Loyalty customers: look one up (GET /v1/loyalty/customers/{id}) at "#/customers/<id>": status,
// balance, aggregates (each number with a small bar against the largest of its column), the history
// newest first a page at a time (GET .../history, "#/customers/<id>?cursor=..."), and the four
// status actions.

import { api, noAnswer, readingAgain, segment } from "../api.js";
import { meter } from "../chart.js";
import { alertBox, announce, askFirst, badIdentifier, count, h, loading, oneAtATime, pageHeading, problem, replace, scrollingTable, timeElement, words } from "../dom.js";
import { AGGREGATIONS, DATE_RANGES, label } from "../loyalty.js";
import { href, navigate } from "../router.js";

const ACTIONS = [
  // [button, path, applies when the status is ..., the status it leaves]
  ["Suspend", "suspend", (s) => s === "active", "suspended"],
  ["Unsuspend", "unsuspend", (s) => s === "suspended", "active"],
  ["Block", "block", (s) => s !== "blocked", "blocked"],
  ["Unblock", "unblock", (s) => s === "blocked", "active"],
];

function aggregatesTable(aggregates) {
  const ranges = DATE_RANGES.filter((r) => AGGREGATIONS.some((a) => aggregates?.[a]?.[r] !== undefined));
  if (!ranges.length) return h("p", { class: "state empty" }, "No aggregates yet.");
  // each bar against the largest figure of its column, so ranges compare at a glance
  const largest = Object.fromEntries(AGGREGATIONS.map((a) => [a, Math.max(0, ...ranges.map((r) => aggregates?.[a]?.[r] ?? 0))]));
  return scrollingTable(
    "Aggregates",
    h(
      "table",
      { class: "data compact" },
      h("caption", { class: "visually-hidden" }, "Points per date range"),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Date range"), AGGREGATIONS.map((a) => h("th", { scope: "col" }, label(a))))),
      h(
        "tbody",
        {},
        ranges.map((r) =>
          h(
            "tr",
            {},
            h("th", { scope: "row" }, label(r)),
            AGGREGATIONS.map((a) => {
              const value = aggregates?.[a]?.[r];
              return h("td", { class: "num" }, count(value), value === undefined ? null : meter(value, largest[a]));
            }),
          ),
        ),
      ),
    ),
  );
}

function historyTable(history, firstPage) {
  if (!history?.length) return h("p", { class: "state empty" }, firstPage ? "No status change or communication yet." : "No older entries.");
  return scrollingTable(
    "History",
    h(
      "table",
      { class: "data compact" },
      h("caption", { class: "visually-hidden" }, "Status changes and communications, newest first"),
      h("thead", {}, h("tr", {}, ["When", "Action", "By", "Details"].map((c) => h("th", { scope: "col" }, c)))),
      h(
        "tbody",
        {},
        history.map((entry) =>
          h(
            "tr",
            {},
            h("td", {}, timeElement(entry.at)),
            h("td", {}, words(entry.action)),
            h("td", { class: "wrap" }, entry.by || "—"),
            // what a communication sent, a long payload without a space among it: a column of a
            // width of its own (`wrap`), not one of 74 px and 2,478 px tall on a phone
            h(
              "td",
              { class: "wrap history-details" },
              entry.event ? h("code", {}, entry.event) : null,
              entry.payload !== undefined && entry.payload !== null ? h("code", { class: "payload" }, ` ${JSON.stringify(entry.payload)}`) : null,
              entry.note ? [" ", h("bdi", {}, entry.note)] : null,
            ),
          ),
        ),
      ),
    ),
  );
}

/** One page of the history, newest first, with links to the next (older) page and back to the first:
 * `section`, and `entries`, how many it shows. */
async function historySection(customerId, cursor) {
  // exactly: a communication's payload is shown as the API keeps it (12345678901234567890, not ...7000)
  const answer = await api.getExactly(`/v1/loyalty/customers/${segment(customerId)}/history`, { limit: HISTORY_PAGE, cursor });
  const next = answer.next_cursor;
  const section = h(
    "section",
    { "aria-labelledby": "history-heading" },
    h("h2", { id: "history-heading" }, "History"),
    historyTable(answer.items, !cursor),
    h(
      "nav",
      { class: "pager", "aria-label": "History pages" },
      cursor ? h("a", { href: href(["customers", customerId]) }, "Newest entries") : null,
      next ? h("a", { href: href(["customers", customerId], { cursor: next }), rel: "next" }, "Older entries") : null,
    ),
  );
  return { section, entries: answer.items?.length ?? 0 };
}

const HISTORY_PAGE = 10;

export function mountCustomers(container, route) {
  const customerId = route.parts[1] || "";
  const cursor = route.params.get("cursor") || "";
  const input = h("input", { id: "customer-id", name: "customer_id", value: customerId, autocomplete: "off", required: true });
  const form = h(
    "form",
    {
      role: "search",
      class: "toolbar",
      "aria-label": "Look up a loyalty customer",
      onsubmit: (event) => {
        event.preventDefault();
        const id = input.value.trim();
        if (!id) return;
        const refused = badIdentifier(id, "A customer ID");
        if (refused) {
          replace(message, refused);
          // the customer shown before goes, its actions with it: under this ID, a Suspend would
          // read as this ID's and act on the other customer's (a look-up still under way too)
          shown += 1;
          replace(result, h("p", { class: "state" }, "Enter a customer ID to see their status, balance, aggregates and history."));
          input.focus();
          return;
        }
        navigate(href(["customers", id]));
      },
    },
    h("div", { class: "field" }, h("label", { for: "customer-id" }, "Customer ID"), input),
    h("button", { type: "submit", id: "customer-look-up" }, "Look up"),
  );
  const message = h("div", { class: "form-message", "aria-live": "polite" });
  let shown = 0; // each load's turn: an answer that comes after another turn began is not shown
  const result = h("div", { class: "results" });
  replace(container, pageHeading("Loyalty customers"), form, message, result);

  if (!customerId) {
    replace(result, h("p", { class: "state" }, "Enter a customer ID to see their status, balance, aggregates and history."));
    return {};
  }

  const note = h("input", { id: "status-note", name: "note", autocomplete: "off" });

  const change = oneAtATime(result, async (path, word, from, to) => {
    replace(message, h("p", { role: "status" }, "Working…"));
    const done = () => h("p", { role: "status", class: "success" }, `Customer ${customerId} ${word.toLowerCase()}ed.`);
    try {
      const body = note.value.trim() ? { note: note.value.trim() } : {};
      await api.post(`/v1/loyalty/customers/${segment(customerId)}/${path}`, body);
      replace(message, done());
      note.value = "";
      await load({ say: false }); // the message says what was done
      focusShown(); // the pressed button was replaced
    } catch (error) {
      if (error.status === 0) {
        // no answer: the change may have been made all the same, its answer lost on the way back.
        // The customer read again says which (the page still showing the old status invites a
        // second click, refused then as "changed meanwhile")
        await afterLostAnswer(word, from, to, error, done);
        return;
      }
      replace(message, problem(error));
      if (error.status === 409) {
        // the customer changed meanwhile (another tab, a workflow): shown as it is now, with the
        // actions that apply now, under the refusal
        await load({ say: false });
        focusShown();
      }
    }
  });

  /** Say what came of a status change whose answer never came (`from` the status shown, `to` the
   * one it leaves), from the customer as it is now, shown below. */
  async function afterLostAnswer(word, from, to, error, done) {
    const verb = `${word.toLowerCase()}ed`;
    let now;
    try {
      now = (await api.get(`/v1/loyalty/customers/${segment(customerId)}`)).status || "active";
    } catch {
      const said = alertBox("div", h("p", {}, `Whether customer ${customerId} was ${verb} is not known: ${noAnswer(error)}, and the customer could not be read again. Look the customer up again before trying again.`));
      replace(message, said);
      said.focus();
      return;
    }
    if (now === to && now !== from) {
      replace(message, done());
      note.value = "";
    } else {
      const as = now === from ? `they are still ${words(now).toLowerCase()}. Try again` : `they are ${words(now).toLowerCase()} now (changed meanwhile)`;
      replace(message, alertBox("div", h("p", {}, `Customer ${customerId} was not ${verb}: ${noAnswer(error)}, and ${as}. The customer below is as they are now.`)));
    }
    await load({ say: false });
    (message.querySelector(".problem") || document.getElementById("customer-heading"))?.focus();
  }

  function focusShown() {
    // the customer's heading, or what stands in its place (a refusal): never the page's start
    (document.getElementById("customer-heading") || result.querySelector(".problem"))?.focus();
  }

  /** The customer read and shown; `say`: what the look-up found is said aloud (not after an
   * action, whose message says what it did). */
  async function load({ say = true } = {}) {
    const turn = ++shown;
    replace(result, loading("the customer"));
    try {
      const [customer, history] = await Promise.all([
        // a customer changing faster than its view is read is a 503 with Retry-After: read again
        readingAgain(() => api.get(`/v1/loyalty/customers/${segment(customerId)}`)),
        historySection(customerId, cursor),
      ]);
      if (turn !== shown) return;
      const status = customer.status || "active";
      const olderEntries = history.entries ? `${history.entries} shown` : "none";
      replace(
        result,
        h(
          "section",
          { class: "card", "aria-labelledby": "customer-heading" },
          h("h2", { id: "customer-heading", tabindex: "-1" }, `Customer ${customer.customer_id ?? customerId}`),
          h(
            "dl",
            { class: "figures" },
            h("div", {}, h("dt", {}, "Status"), h("dd", { class: `status-${status}` }, words(status))),
            h("div", {}, h("dt", {}, "Balance"), h("dd", {}, `${count(customer.balance ?? 0)} points`)),
          ),
          h(
            "div",
            { class: "status-actions" },
            h("div", { class: "field" }, h("label", { for: "status-note" }, "Note (optional)"), note),
            h(
              "div",
              { class: "buttons" },
              ACTIONS.map(([text, path, applies, leaves]) => {
                if (path !== "block") {
                  return h("button", { type: "button", disabled: !applies(status), onclick: () => change(path, text, status, leaves) }, text);
                }
                // the one that stops earning and spending alike: asked first, as a removal is
                const ask = h("button", { type: "button", class: "danger", disabled: !applies(status) }, text);
                return askFirst(ask, `Block ${customerId}? They can neither earn nor spend until unblocked. `, "Confirm block", () => change(path, text, status, leaves));
              }),
            ),
          ),
        ),
        h("section", { "aria-labelledby": "aggregates-heading" }, h("h2", { id: "aggregates-heading" }, "Aggregates"), aggregatesTable(customer.aggregates)),
        history.section,
      );
      // a look-up says the customer; a page of older history (a pager's link, followed) says that page
      if (say && cursor) announce(`History of ${customerId}, older entries: ${olderEntries}.`, result);
      else if (say) announce(`Look-up of ${customerId}: ${words(status).toLowerCase()}, ${count(customer.balance ?? 0)} points.`, result);
    } catch (error) {
      if (turn !== shown) return;
      if (error.status !== 404) return replace(result, problem(error)); // an alert: said as it is drawn
      replace(result, h("p", { class: "state empty" }, `No customer with the ID ${customerId} in this program.`));
      if (say) announce(`Look-up of ${customerId}: no such customer in this program.`, result);
    }
  }

  load();
  return {};
}
