// The HTTP API of SPEC section 3, on the same origin, and the key that signs every call.
//
// The key lives in sessionStorage: it survives a reload of this tab and dies with it. It never goes
// into a URL, localStorage or a cookie. Signing out removes it.

const KEY_SLOT = "fraud-console.api-key";

export function storedKey() {
  return sessionStorage.getItem(KEY_SLOT);
}

export function rememberKey(key) {
  sessionStorage.setItem(KEY_SLOT, key);
}

export function forgetKey() {
  sessionStorage.removeItem(KEY_SLOT);
}

/** An answer that is not 2xx, carrying its RFC 9457 problem document. */
export class ApiError extends Error {
  constructor(status, problem, retryAfter = 0) {
    super(problem.detail || problem.title || `The API answered ${status}.`);
    this.status = status;
    this.title = problem.title || "";
    this.detail = problem.detail || "";
    this.errors = Array.isArray(problem.errors) ? problem.errors : [];
    this.retryAfter = retryAfter; // seconds a 503 or 429 asks to wait (Retry-After), 0 when none
  }
}

/** `read()` again after the wait a 503 asks for (at most `times` more, at most 5 s each). */
export async function readingAgain(read, times = 2) {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await read();
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 503 || attempt >= times) throw error;
      await new Promise((done) => setTimeout(done, Math.min(5, error.retryAfter || 1) * 1000));
    }
  }
}

/** Called when the API refuses the key (401): the console goes back to its sign-in. */
let onUnauthorized = () => {};

export function whenUnauthorized(callback) {
  onUnauthorized = callback;
}

function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params || {})) {
    if (value !== undefined && value !== null && value !== "") search.set(name, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

function readProblem(response, text) {
  try {
    const parsed = JSON.parse(text);
    if (parsed && typeof parsed === "object") return parsed;
  } catch {
    // not JSON: a proxy's page, say; fall through to a plain message
  }
  return { title: response.statusText, detail: `The API answered ${response.status} ${response.statusText}.` };
}

/**
 * JSON read with each number as written where a JavaScript number would write it otherwise (an
 * integer past 2^53: 12345678901234567890 reads as 12345678901234567000): kept as raw JSON
 * (`JSON.rawJSON`), which `JSON.stringify` writes back digit for digit. For what a page sends back
 * as it read it (a workflow's payload, which the API keeps whole); a browser without raw JSON reads
 * numbers as ever.
 */
export function parseExactly(text) {
  if (typeof JSON.rawJSON !== "function") return JSON.parse(text);
  return JSON.parse(text, (key, value, context) =>
    typeof value === "number" && context?.source !== undefined && String(value) !== context.source ? JSON.rawJSON(context.source) : value,
  );
}

// API Gateway ends a request at 29 s: an answer not in by 30 s is not coming
export const ANSWER_WITHIN = 30_000;

/** A call not sent, or its answer not used, because the key it was for is signed out (status -1):
 * the page that made it is gone, so there is nothing to say, and nothing went out without a key. */
function cancelled() {
  return new ApiError(-1, { title: "Cancelled", detail: "Signed out: nothing more was sent for the page that was open." });
}

/** How a lost answer is said in a sentence: "the API did not answer within 30 seconds", or "no
 * answer came from the API" (the connection dropped, the answer never came back). */
export function noAnswer(error) {
  return error?.timedOut ? "the API did not answer within 30 seconds" : "no answer came from the API";
}

/**
 * One API call. `path` is absolute ("/v1/cases"); path parameters must already be encoded with
 * `segment()`. Resolves to the parsed JSON body (null when there is none); rejects with ApiError.
 *
 * Without `key`, it is signed with the stored key: with none stored (signed out while a page was
 * still at work: an action's answer came late, and the page reads again) nothing is sent, and an
 * answer that comes once that key is no longer the one stored (signed out, perhaps someone else in)
 * is not used, its 401 not taken for the next person's key. No answer within `ANSWER_WITHIN` is a
 * status 0, as a dropped connection is: the call may have been carried out all the same.
 */
export async function call(method, path, { params, body, key, exact = false } = {}) {
  const headers = { Accept: "application/json, application/problem+json" };
  const signingKey = key ?? storedKey();
  if (!signingKey) throw cancelled();
  headers.Authorization = `Bearer ${signingKey}`;
  const stillSignedIn = () => key !== undefined || storedKey() === signingKey;
  const abort = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    abort.abort();
  }, ANSWER_WITHIN);
  const init = { method, headers, cache: "no-store", credentials: "omit", redirect: "error", signal: abort.signal };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const noAnswerError = () => {
    if (!stillSignedIn()) return cancelled();
    const error = timedOut
      ? new ApiError(0, { title: "No answer", detail: "The API did not answer within 30 seconds. What was asked may have been done all the same." })
      : new ApiError(0, { title: "Network error", detail: "The API could not be reached. Check your connection and try again." });
    error.timedOut = timedOut;
    return error;
  };
  try {
    let response;
    try {
      response = await fetch(path + query(params), init);
    } catch {
      throw noAnswerError();
    }
    if (!stillSignedIn()) throw cancelled();
    let text;
    try {
      text = await response.text();
    } catch {
      throw noAnswerError(); // the answer cut off half way (or not in within the time)
    }
    if (!stillSignedIn()) throw cancelled();
    if (!response.ok) {
      const problem = readProblem(response, text);
      const wait = Number.parseInt(response.headers.get("Retry-After") || "", 10);
      const error = new ApiError(response.status, problem, Number.isFinite(wait) && wait > 0 ? wait : 0);
      if (response.status === 401 && key === undefined) onUnauthorized(error);
      throw error;
    }
    if (response.status === 204 || !text) return null;
    try {
      return exact ? parseExactly(text) : JSON.parse(text);
    } catch {
      // a 2xx that is not JSON is not the API's: a captive portal's or a proxy's page answered. Whether
      // the request reached the API is not known, as with no answer at all (status 0)
      throw new ApiError(0, {
        title: "Not the API's answer",
        detail: "Something other than the API answered (a network sign-in page or a proxy, say). Check your connection; what was asked may have been done all the same.",
      });
    }
  } finally {
    clearTimeout(timer);
  }
}

/** A path segment from user input or data, safely encoded. */
export function segment(value) {
  return encodeURIComponent(String(value));
}

export const api = {
  get: (path, params) => call("GET", path, { params }),
  /** A GET whose numbers are kept as written (`parseExactly`), to send back unchanged. */
  getExactly: (path, params) => call("GET", path, { params, exact: true }),
  post: (path, body) => call("POST", path, { body: body ?? {} }),
  put: (path, body) => call("PUT", path, { body }),
  delete: (path) => call("DELETE", path),
};
