// A list paged with the API's cursor, its place kept in the page's address
// ("#/disputes?limit=50&cursor=..."): the size asked for, the cursor, and the pager under the list.

import { pager, plural } from "./dom.js";
import { href, navigate } from "./router.js";

/** `tab`: the route ("removed"); `one`, `many`: what the list holds, for "2 partners on this page". */
export function pagedList(route, tab, one, many) {
  const state = {
    limit: pageSize(route.params.get("limit")),
    cursor: route.params.get("cursor") || "",
  };
  const url = (changes = {}) => href(tab, { ...state, ...changes });
  const links = (items, next) =>
    pager(`${plural(items.length, one, many)} on this page`, {
      limit: state.limit,
      cursor: state.cursor,
      next,
      url,
      choose: (size) => navigate(url({ limit: size, cursor: "" })),
    });
  return { state, links };
}

/** A link's `limit` as a page size the API takes: whole, 1 to 100 ("2.5" is 2); "" for none or nonsense. */
export function pageSize(written) {
  const limit = Number(written);
  return limit > 0 ? Math.min(Math.max(1, Math.floor(limit)), 100) : "";
}
