// Removed partners (GET /v1/removed-partners): every column of the seed's tab.

import { api } from "../api.js";
import { empty, h, loading, money, moneyList, pageHeading, plural, problem, replace, scrollingTable, reason, timeElement } from "../dom.js";
import { itemsOf, nextCursorOf, pick } from "../model.js";
import { href } from "../router.js";

function reasonText(item) {
  const original = pick(item, "original_flag_reason", "flag_reason", "original_reason", "reason");
  if (Array.isArray(original)) return original.map((r) => reason(r.code ?? r)).join(", ") || "—";
  if (original && typeof original === "object") return reason(original.code) + (original.detail ? `: ${original.detail}` : "");
  if (original) return reason(original);
  const reasons = item.reasons || [];
  return reasons.length ? reasons.map((r) => reason(r.code)).join(", ") : "—";
}

function archivedText(item) {
  const archived = pick(item, "archived_rewards");
  if (archived && typeof archived === "object" && !Array.isArray(archived)) {
    const count = pick(archived, "count") ?? 0;
    const amount = pick(archived, "amount", "amounts");
    return `${plural(Number(count), "reward", "rewards")}, ${amount && typeof amount === "object" && "amount" in amount ? money(amount) : moneyList(amount)}`;
  }
  const count = pick(item, "archived_rewards_count", "archived_rewards") ?? 0;
  return `${plural(Number(count), "reward", "rewards")}, ${moneyList(pick(item, "archived_amount", "archived_amounts"))}`;
}

export function mountRemoved(container, route) {
  const cursor = route.params.get("cursor") || "";
  const results = h("div", { class: "results" }, loading("removed partners"));
  replace(container, pageHeading("Removed partners"), results);
  api
    .get("/v1/removed-partners", { cursor, limit: 25 })
    .then((answer) => {
      const items = itemsOf(answer, "partners", "removed_partners");
      const next = nextCursorOf(answer);
      if (!items.length) {
        replace(results, empty("No partner has been removed from this program."));
        return;
      }
      const columns = ["Partner", "Partner team", "Original flag reason", "Date of flag", "Archived rewards", "Date of removal", "Removed by", "Blocked from reapplying"];
      replace(
        results,
        scrollingTable(
          "Removed partners",
          h(
            "table",
            { class: "data" },
            h("caption", { class: "visually-hidden" }, "Partners removed from the program"),
            h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c)))),
            h(
              "tbody",
              {},
              items.map((item) =>
                h(
                  "tr",
                  {},
                  h("td", {}, pick([item, item.subject || {}, item.partner || {}], "name", "partner_name", "partner_id", "id")),
                  h("td", {}, pick([item, item.partner || {}], "team", "partner_team") || "—"),
                  h("td", {}, reasonText(item)),
                  h("td", {}, timeElement(pick(item, "flagged_at", "flag_date"))),
                  h("td", {}, archivedText(item)),
                  h("td", {}, timeElement(pick(item, "removed_at", "removal_date"))),
                  h("td", {}, pick(item, "removed_by", "actor") || "—"),
                  h("td", {}, item.block_reapply === undefined ? "—" : item.block_reapply ? "Yes" : "No"),
                ),
              ),
            ),
          ),
        ),
        h(
          "nav",
          { class: "pager", "aria-label": "Pages" },
          cursor ? h("a", { href: href("removed") }, "First page") : null,
          next ? h("a", { href: href("removed", { cursor: next }), rel: "next" }, "Next page") : null,
        ),
      );
    })
    .catch((error) => replace(results, problem(error)));
  return {};
}
