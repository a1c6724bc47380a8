// Review rewards (GET /v1/rewards): the held ones first, each with `Approve`, the seed's manual
// override from "on hold" to "approved" (POST /v1/rewards/{id}/override).

import { api, noAnswer, segment } from "../api.js";
import { alertBox, announce, empty, h, loading, money, oneAtATime, overLimit, pageHeading, pager, plural, problem, replace, scrollingTable, timeElement, unlistedChoice, words } from "../dom.js";
import { href, navigate } from "../router.js";

const STATUSES = ["on_hold", "new", "pending", "approved", "declined", "paid", "archived"];
const ID_MOST = 128; // characters an identifier may be (SPEC 3.1)

/**
 * The reward as it is now, null when it is no longer listed: read from its customer's rewards (a
 * short list), else its partner's, newest first, a few pages at most. There is no read of one reward.
 */
async function rewardNow(reward) {
  const filter = reward.customer_id ? { customer_id: reward.customer_id } : { partner_id: reward.partner_id };
  let cursor = "";
  for (let page = 0; page < 5; page += 1) {
    const answer = await api.get("/v1/rewards", { ...filter, cursor, limit: 100 });
    const found = answer.items.find((r) => r.id === reward.id);
    if (found) return found;
    if (!answer.next_cursor) return null;
    cursor = answer.next_cursor;
  }
  return undefined;
}

export function mountRewards(container, route) {
  const state = {
    status: route.params.has("status") ? route.params.get("status") : "on_hold",
    partner_id: route.params.get("partner_id") || "",
    customer_id: route.params.get("customer_id") || "",
    cursor: route.params.get("cursor") || "",
  };
  const url = (changes) => href("rewards", { ...state, ...changes, status: (changes.status ?? state.status) || "all" });
  const message = h("div", { class: "form-message", "aria-live": "polite" });
  const results = h("div", { class: "results" });

  const statusSelect = h(
    "select",
    { id: "reward-status", name: "status" },
    h("option", { value: "all", selected: state.status === "all" }, "All statuses"),
    STATUSES.map((s) => h("option", { value: s, selected: s === state.status }, words(s))),
    unlistedChoice(state.status, ["all", ...STATUSES]),
  );
  const partner = h("input", { id: "reward-partner", name: "partner_id", value: state.partner_id, autocomplete: "off" });
  const customer = h("input", { id: "reward-customer", name: "customer_id", value: state.customer_id, autocomplete: "off" });
  const filters = h(
    "form",
    {
      role: "search",
      class: "toolbar",
      "aria-label": "Filter rewards",
      onsubmit: (event) => {
        event.preventDefault();
        const refused = overLimit(partner, "Partner ID", ID_MOST) || overLimit(customer, "Customer ID", ID_MOST);
        if (refused) {
          replace(results, refused);
          refused.focus();
          return;
        }
        navigate(url({ status: statusSelect.value, partner_id: partner.value.trim(), customer_id: customer.value.trim(), cursor: "" }));
      },
    },
    h("div", { class: "field" }, h("label", { for: "reward-status" }, "Status"), statusSelect),
    h("div", { class: "field" }, h("label", { for: "reward-partner" }, "Partner ID"), partner),
    h("div", { class: "field" }, h("label", { for: "reward-customer" }, "Customer ID"), customer),
    h("button", { type: "submit", id: "reward-filter" }, "Filter"),
  );

  const approve = oneAtATime(results, async (reward) => {
    const id = reward.id;
    replace(message, h("p", { role: "status" }, "Working…"));
    try {
      await api.post(`/v1/rewards/${segment(id)}/override`, { status: "approved" });
      replace(message, h("p", { role: "status", class: "success", tabindex: "-1" }, `Reward ${id} approved.`));
      await load({ say: false });
      message.firstChild.focus(); // its row is gone from the held list
    } catch (error) {
      if (error.status === 0) {
        // no answer: the approval may have been made all the same, its answer lost on the way back.
        // The reward read again says which (a second click would be refused as "changed meanwhile")
        await afterLostAnswer(reward, error);
        return;
      }
      if (error.status !== 404 && error.status !== 409) {
        replace(message, problem(error));
        message.firstChild.focus(); // said where it is seen, however far down the row was
        return;
      }
      // approved, declined or archived meanwhile (a teammate, the case's removal): the list as it is now.
      // A reward of a partner whose removal is under way is unchanged, and refused for the partner
      // (the API's "never paid"): said so, not as a change
      await load({ say: false });
      const why = error.detail.includes("never paid") ? "was not approved" : "changed meanwhile, so it was not approved";
      replace(
        message,
        alertBox("div", h("p", {}, `Reward ${id} ${why}: `, error.message, ". The list below is as it is now.")),
      );
      message.firstChild.focus();
    }
  });

  /** Say what came of an approval whose answer never came, from the reward as it is now. */
  async function afterLostAnswer(reward, error) {
    const id = reward.id;
    let now;
    try {
      now = await rewardNow(reward);
    } catch {
      now = undefined; // not readable either: what happened is not known
    }
    if (now === undefined) {
      replace(
        message,
        alertBox("div", h("p", {}, `No answer came from the API, so whether reward ${id} was approved is not known. `, error.message)),
      );
      message.firstChild.focus();
      return;
    }
    await load({ say: false });
    if (now?.status === "approved") {
      replace(message, h("p", { role: "status", class: "success", tabindex: "-1" }, `Reward ${id} approved.`));
    } else {
      const as = !now ? "it is no longer listed" : now.status === "on_hold" ? "it is still on hold. Try again" : `it is ${words(now.status).toLowerCase()} now`;
      replace(message, alertBox("div", h("p", {}, `Reward ${id} was not approved: ${noAnswer(error)}, and ${as}. The list below is as it is now.`)));
    }
    message.firstChild.focus();
  }

  /** The rewards the filters choose; `say`: what they found is said aloud (not after an approval,
   * whose message says what it did). */
  /** Whose rewards the filters ask for: " for partner p-1 and customer c-9", or "". */
  function whose() {
    const named = [state.partner_id ? `partner ${state.partner_id}` : null, state.customer_id ? `customer ${state.customer_id}` : null];
    const of = named.filter(Boolean).join(" and ");
    return of ? ` for ${of}` : "";
  }

  /** What the filters found none of, in words: "No rewards are on hold", "No rewards on hold for
   * partner p-1", "No approved rewards for customer c-9", "No rewards for partner p-1". */
  function noneFound() {
    const of = whose();
    if (state.status === "all") return of ? `No rewards${of}` : "No rewards yet";
    if (state.status === "on_hold") return of ? `No rewards on hold${of}` : "No rewards are on hold";
    return `No ${words(state.status).toLowerCase()} rewards${of}`;
  }

  /** What the filters ask for, for `announce`: "Rewards on hold for partner p-1", "Approved rewards". */
  function filtered() {
    const status = state.status === "all" ? "Rewards" : state.status === "on_hold" ? "Rewards on hold" : `${words(state.status)} rewards`;
    return `${status}${whose()}`;
  }

  async function load({ say = true } = {}) {
    replace(results, loading("rewards"));
    try {
      const answer = await api.get("/v1/rewards", {
        status: state.status === "all" ? "" : state.status,
        partner_id: state.partner_id,
        customer_id: state.customer_id,
        cursor: state.cursor,
        limit: 50,
      });
      const items = answer.items;
      const next = answer.next_cursor;
      if (!items.length) {
        // a partner's page reads a bounded number of rewards: none matched in them, more may follow
        const none = next ? `${noneFound()} among these; older ones may follow.` : `${noneFound()}.`;
        replace(results, empty(none), next || state.cursor ? pager(null, { cursor: state.cursor, next, url }) : null);
        if (say) announce(`${filtered()}: none${next ? " among these, older ones may follow" : ""}.`, results);
        return;
      }
      // a next cursor says more MAY follow (a partner's or customer's page reads a bounded number
      // of rewards, and one cut short by it carries a cursor that can lead to none), as above
      if (say) announce(`${filtered()}: ${items.length} shown${next ? ", older ones may follow" : ""}.`, results);
      const columns = ["Reward", "Partner", "Customer", "Amount", "Created", "Status"];
      replace(
        results,
        scrollingTable(
          "Rewards",
          h(
            "table",
            { class: "data" },
            h("caption", { class: "visually-hidden" }, "Rewards"),
            h(
              "thead",
              {},
              h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c)), h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Action"))),
            ),
            h(
              "tbody",
              {},
              items.map((r) =>
                h(
                  "tr",
                  {},
                  h("td", { class: "wrap" }, r.id),
                  h("td", { class: "wrap" }, r.partner_id),
                  h("td", { class: "wrap" }, r.customer_id || "—"),
                  h("td", { class: "num" }, money({ amount: r.amount, currency: r.currency })),
                  h("td", {}, timeElement(r.created_at)),
                  h("td", {}, words(r.status)),
                  h("td", {}, r.status === "on_hold" ? h("button", { type: "button", "aria-label": `Approve reward ${r.id}`, onclick: () => approve(r) }, "Approve") : null),
                ),
              ),
            ),
          ),
        ),
        pager(null, { cursor: state.cursor, next, url }),
      );
    } catch (error) {
      replace(results, problem(error));
    }
  }

  replace(
    container,
    pageHeading("Review rewards"),
    h("p", { class: "muted" }, "Rewards of flagged partners are on hold. Approve one to pay it out while its case is reviewed; an approved reward is never put back on hold."),
    filters,
    message,
    results,
  );
  load();
  return {};
}
