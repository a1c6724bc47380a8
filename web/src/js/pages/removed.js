// Removed partners (GET /v1/removed-partners): every column of the seed's tab, newest removal first,
// paged with the API's cursor as the case lists are ("#/removed?limit=50&cursor=...").

import { api } from "../api.js";
import { DEFAULT_PAGE_SIZE, empty, h, loading, moneyList, pageHeading, plural, problem, replace, scrollingTable, reason, timeElement } from "../dom.js";
import { pagedList, pageSize } from "../paging.js";
import { href } from "../router.js";
import { listDrawer } from "./drawer.js";


// The names are the API's (RemovedPartner in GET /v1/openapi.json).
function reasonText(item) {
  const original = item.flag_reason;
  if (!original) return "—";
  return reason(original.code) + (original.detail ? `: ${original.detail}` : "");
}

function archivedText(item) {
  const archived = item.archived_rewards;
  return `${plural(archived.count, "reward", "rewards")}, ${moneyList(archived.amounts)}`;
}

export function mountRemoved(container, route) {
  const { state, links: pageLinks } = pagedList(route, "removed", "partner", "partners");
  const results = h("div", { class: "results" }, loading("removed partners"));
  const drawer = listDrawer(container, () => href("removed", state), () => load());
  replace(container, pageHeading("Removed partners"), results);

  function load() {
    api
      .get("/v1/removed-partners", { limit: state.limit || DEFAULT_PAGE_SIZE, cursor: state.cursor })
      .then((answer) => {
        const items = answer.items;
        const next = answer.next_cursor;
        if (!items.length) {
          replace(results, empty("No partner has been removed from this program."), state.cursor ? pageLinks(items, null) : null);
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
                    // with its ID beneath: a reason elsewhere names a removed partner by it ("also used
                    // by partner p-123 (removed)"), and an analyst looks it up here; the name opens
                    // the case it was removed from (its trail: who removed it, when, what it withdrew)
                    h(
                      "td",
                      { class: "wrap partner" },
                      h(
                        "a",
                        { href: href(["removed", item.case_id], state), "data-case-id": item.case_id },
                        h("bdi", { class: "partner-name" }, item.partner.name),
                      ),
                      h("br"),
                      h("span", { class: "visually-hidden" }, "Partner ID "),
                      h("code", { class: "muted" }, item.partner.id),
                    ),
                    h("td", { class: "wrap" }, item.team ? h("bdi", {}, item.team) : "—"),
                    h("td", { class: "wrap" }, h("bdi", {}, reasonText(item))),
                    h("td", {}, timeElement(item.flagged_at)),
                    h("td", {}, archivedText(item)),
                    h("td", {}, timeElement(item.removed_at)),
                    h("td", { class: "wrap" }, item.removed_by ? h("bdi", {}, item.removed_by) : "—"),
                    h("td", {}, item.block_reapply ? "Yes" : "No"),
                  ),
                ),
              ),
            ),
          ),
          pageLinks(items, next),
        );
      })
      .catch((error) => replace(results, problem(error)));
  }

  load();
  if (route.parts[1]) drawer.open(route.parts[1]);
  return {
    update(next) {
      if (pageSize(next.params.get("limit")) !== state.limit || (next.params.get("cursor") || "") !== state.cursor) {
        return false; // another page: mount again
      }
      drawer.follow(next.parts[1]);
      return true;
    },
    unmount: drawer.close,
  };
}
