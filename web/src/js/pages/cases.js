// Active cases and Resolved cases (GET /v1/cases?view=...): search, sort, filter, paging with the
// API's cursor, the seed's markers, and the drawer of one case at "#/<view>/<case id>".

import { api } from "../api.js";
import {
  DEFAULT_PAGE_SIZE,
  announce,
  empty,
  h,
  holdAmount,
  loading,
  overLimit,
  pageHeading,
  pager,
  plural,
  problem,
  replace,
  scrollingTable,
  statusMarker,
  reason,
  timeElement,
  unlistedChoice,
} from "../dom.js";
import { pageSize } from "../paging.js";
import { href, navigate } from "../router.js";
import { listDrawer } from "./drawer.js";

const VIEWS = {
  active: {
    title: "Active cases",
    defaultSort: "flagged_at",
    sorts: { flagged_at: "Flagged date", hold_amount: "Hold amount" },
    empty: "No active cases. Nothing is flagged or disputed right now.",
  },
  resolved: {
    title: "Resolved cases",
    defaultSort: "resolved_at",
    sorts: { flagged_at: "Flagged date", resolved_at: "Resolved date" },
    empty: "No resolved cases yet.",
  },
};

const SEARCH_MOST = 200; // characters a search may be (the API's `q`)

const STATUS_FILTER = [
  ["", "All statuses"],
  ["approved", "Approved"],
  ["declined", "Declined"],
];


function listParams(params, view) {
  const spec = VIEWS[view];
  const sort = spec.sorts[params.get("sort")] ? params.get("sort") : spec.defaultSort;
  return {
    q: params.get("q") || "",
    status: view === "resolved" ? params.get("status") || "" : "",
    sort,
    order: params.get("order") === "asc" ? "asc" : "desc",
    cursor: params.get("cursor") || "",
    limit: pageSize(params.get("limit")),
  };
}

function sameList(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function mountCases(view) {
  return (container, route) => {
    const spec = VIEWS[view];
    let state = listParams(route.params, view);

    const listUrl = (changes = {}) => href(view, { ...state, ...changes });
    const drawer = listDrawer(container, () => listUrl(), () => load({ say: false }));
    const results = h("div", { class: "results", "aria-busy": "false" });

    function searchForm() {
      const input = h("input", { id: "case-search", type: "search", name: "q", value: state.q, autocomplete: "off" });
      const parts = [
        h("div", { class: "field" }, h("label", { for: "case-search" }, "Search partners"), input),
      ];
      let statusSelect = null;
      if (view === "resolved") {
        statusSelect = h(
          "select",
          {
            id: "status-filter",
            name: "status",
            // a status picked searches with the box as it is now (it kept the search last applied,
            // and what was typed since was emptied)
            onchange: (event) => event.target.form.requestSubmit(),
          },
          STATUS_FILTER.map(([value, label]) => h("option", { value, selected: value === state.status }, label)),
          unlistedChoice(state.status, STATUS_FILTER.map(([value]) => value)),
        );
        parts.push(h("div", { class: "field" }, h("label", { for: "status-filter" }, "Status"), statusSelect));
      }
      parts.push(h("button", { type: "submit", id: "case-search-button" }, "Search"));
      return h(
        "form",
        {
          role: "search",
          class: "toolbar",
          "aria-label": `Search ${spec.title.toLowerCase()}`,
          onsubmit: (event) => {
            event.preventDefault();
            const refused = overLimit(input, "Search partners", SEARCH_MOST);
            if (refused) {
              replace(results, refused);
              refused.focus();
              return;
            }
            const next = listUrl({ q: input.value.trim(), status: statusSelect ? statusSelect.value : "", cursor: "" });
            // the same search again (after an error the message says to retry, or for new cases):
            // the address does not change, so the list is read again here
            if (window.location.hash === next) load();
            else navigate(next);
          },
        },
        parts,
      );
    }

    function sortHeader(field) {
      const label = spec.sorts[field];
      const active = state.sort === field;
      const nextOrder = active && state.order === "desc" ? "asc" : "desc";
      return h(
        "th",
        { scope: "col", "aria-sort": active ? (state.order === "asc" ? "ascending" : "descending") : null },
        h(
          "button",
          {
            id: `sort-${field}`,
            type: "button",
            class: "sort",
            onclick: () => navigate(listUrl({ sort: field, order: nextOrder, cursor: "" })),
          },
          label,
          h("span", { class: "sort-arrow", "aria-hidden": "true" }, active ? (state.order === "asc" ? " ▲" : " ▼") : " ↕"),
        ),
      );
    }

    function partnerCell(item) {
      const kind = item.subject.type === "customer" ? h("span", { class: "subject-kind" }, " (customer)") : null;
      return h(
        "td",
        { class: "partner" },
        h("span", { class: "marker" }, statusMarker(item.status)),
        // a name written right to left keeps its own order (`bdi`: its direction is its first letter's)
        h("a", { href: href([view, item.id], state), "data-case-id": item.id }, h("bdi", {}, item.subject.name)),
        kind,
      );
    }

    function reasonsText(item) {
      const reasons = item.reasons;
      if (!reasons.length) return "—";
      return h("ul", { class: "reasons" }, reasons.map((r) => h("li", { title: r.detail || "" }, reason(r.code))));
    }

    function holdText(item) {
      const count = item.held_rewards;
      const amount = holdAmount(item);
      return [amount, h("br"), h("span", { class: "muted" }, plural(count, "held reward", "held rewards"))];
    }

    function table(items) {
      const caption = `${spec.title}, sorted by ${spec.sorts[state.sort].toLowerCase()}, ${state.order === "asc" ? "oldest or smallest first" : "newest or largest first"}`;
      let head;
      let row;
      if (view === "active") {
        head = [
          h("th", { scope: "col" }, "Partner"),
          h("th", { scope: "col" }, "Reasons"),
          sortHeader("hold_amount"),
          sortHeader("flagged_at"),
          h("th", { scope: "col" }, "Disputed date"),
        ];
        row = (item) =>
          h(
            "tr",
            {},
            partnerCell(item),
            h("td", {}, reasonsText(item)),
            h("td", { class: "num" }, holdText(item)),
            h("td", {}, timeElement(item.flagged_at)),
            h("td", {}, timeElement(item.disputed_at)),
          );
      } else {
        // a declined case still holds what its partner earns later (SPEC 4), which Home counts: its
        // hold is shown here too, so that Home's held figures are found in the lists
        head = [
          h("th", { scope: "col" }, "Partner"),
          h("th", { scope: "col" }, "Dispute reason"),
          h("th", { scope: "col" }, "Hold amount"),
          sortHeader("flagged_at"),
          sortHeader("resolved_at"),
        ];
        row = (item) =>
          h(
            "tr",
            {},
            partnerCell(item),
            h("td", { class: "wrap" }, item.dispute_reason ? h("bdi", {}, item.dispute_reason) : "—"),
            h("td", { class: "num" }, item.held_rewards ? holdText(item) : "—"),
            h("td", {}, timeElement(item.flagged_at)),
            h("td", {}, timeElement(item.resolved_at)),
          );
      }
      return scrollingTable(
        spec.title,
        h(
          "table",
          { class: "data" },
          h("caption", { class: "visually-hidden" }, caption),
          h("thead", {}, h("tr", {}, head)),
          h("tbody", {}, items.map(row)),
        ),
      );
    }

    function pageLinks(items, next) {
      return pager(onThisPage(items), {
        limit: state.limit,
        cursor: state.cursor,
        next,
        url: listUrl,
        choose: (limit) => navigate(listUrl({ limit, cursor: "" })),
      });
    }

    const onThisPage = (items) => `${plural(items.length, "case", "cases")} on this page`;
    // what the list is of, for `announce`: "Search for Ada", "Resolved cases, approved"
    const asked = () =>
      `${state.q ? `Search for ${state.q}` : spec.title}${state.status ? `, ${STATUS_FILTER.find(([v]) => v === state.status)?.[1].toLowerCase() ?? state.status}` : ""}`;

    /** The list read again; `say`: what it holds is said aloud (not when a drawer's action, which
     * says its own outcome, had it read again). */
    async function load({ say = true } = {}) {
      results.setAttribute("aria-busy", "true");
      replace(results, loading(spec.title.toLowerCase()));
      try {
        const answer = await api.get("/v1/cases", {
          view,
          q: state.q,
          status: state.status,
          sort: state.sort,
          order: state.order,
          limit: state.limit || DEFAULT_PAGE_SIZE,
          cursor: state.cursor,
        });
        const items = answer.items;
        const next = answer.next_cursor;
        if (!items.length && next) {
          // a search's page cut short by its bounded read before it found one: the rest of the
          // listing is past it, and its Next page link the way there
          replace(results, empty("No cases match on this page; more may follow on the next page."), pageLinks(items, next));
          if (say) announce(`${asked()}: none on this page, more may follow on the next page.`, results);
        } else if (!items.length) {
          const text = state.q || state.status ? "No cases match this search." : spec.empty;
          replace(results, empty(text), state.cursor ? pageLinks(items, null) : null);
          if (say) announce(`${asked()}: no cases${state.q || state.status ? " match" : " right now"}.`, results);
        } else {
          replace(results, table(items), pageLinks(items, next));
          // a next cursor says more MAY follow: a search reads a bounded number of cases a page
          // (paging.filtered_page), so a page cut short by it carries one that can lead to none
          if (say) announce(`${asked()}: ${plural(items.length, "case", "cases")} shown${next ? ", more may follow on the next page" : ""}.`, results);
        }
      } catch (error) {
        replace(results, problem(error));
      } finally {
        results.setAttribute("aria-busy", "false");
      }
    }

    replace(container, pageHeading(spec.title), searchForm(), results);
    // a link to a case opens its drawer, which takes the focus: the list under it is not said
    load({ say: !route.parts[1] });
    if (route.parts[1]) drawer.open(route.parts[1]);

    return {
      update(next) {
        const nextState = listParams(next.params, view);
        if (!sameList(nextState, state)) return false; // another search, sort or page: mount again
        drawer.follow(next.parts[1]);
        return true;
      },
      unmount: drawer.close,
    };
  };
}

