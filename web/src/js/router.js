// Hash routing: "#/active/<case id>?q=ada&sort=hold_amount&order=desc".
//
// Hash routes need nothing from the server: the same files work behind CloudFront and S3, where a
// fallback of unknown paths to index.html would also swallow the API's own 404 answers under /v1/*.

export function parseHash(hash = window.location.hash) {
  const text = hash.startsWith("#/") ? hash.slice(2) : "";
  const [pathText, queryText = ""] = text.split("?", 2);
  const parts = pathText.split("/").filter(Boolean).map(decodeURIComponent);
  return { parts, params: new URLSearchParams(queryText) };
}

/** "#/" + path segments (each encoded) + "?" + the non-empty params. */
export function href(parts, params = {}) {
  const path = (Array.isArray(parts) ? parts : [parts]).filter(Boolean).map(encodeURIComponent).join("/");
  const search = new URLSearchParams();
  const entries = params instanceof URLSearchParams ? params.entries() : Object.entries(params);
  for (const [name, value] of entries) {
    if (value !== undefined && value !== null && value !== "") search.set(name, String(value));
  }
  const query = search.toString();
  return `#/${path}${query ? `?${query}` : ""}`;
}

export function navigate(target, { replace = false } = {}) {
  if (target === window.location.hash) {
    // the same address again (Look up the same customer twice): no hashchange fires, so send one
    window.dispatchEvent(new HashChangeEvent("hashchange"));
  } else if (replace) {
    window.location.replace(target);
  } else {
    window.location.hash = target.slice(1);
  }
}

/** The params of a route as a plain object, for building the next URL from the current one. */
export function paramsObject(params) {
  return Object.fromEntries(params.entries());
}

/** The address without its `name` parameter, in place (no hashchange, no new history entry): a
 * one-time notice's parameter ("?saved=1"), once shown, is not shown again by a reload. */
export function dropParam(name) {
  const { parts, params } = parseHash();
  if (!params.has(name)) return;
  params.delete(name);
  history.replaceState(history.state, "", href(parts, params));
}
