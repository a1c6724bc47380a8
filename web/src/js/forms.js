// Small helpers for the loyalty forms: labelled fields, selects over a fixed vocabulary, and
// datetime-local values to and from RFC 3339.

import { api } from "./api.js";
import { alertBox, h, replace } from "./dom.js";
import { label } from "./loyalty.js";

let counter = 0;

export function uniqueId(stem) {
  counter += 1;
  return `${stem}-${counter}`;
}

/** A <div class="field"> with a <label> for the given control. */
export function field(text, control, hint) {
  const hintElement = hint ? h("p", { class: "hint", id: `${control.id}-hint` }, hint) : null;
  if (hintElement) control.setAttribute("aria-describedby", hintElement.id);
  return h("div", { class: "field" }, h("label", { for: control.id }, text), control, hintElement);
}

export function select(id, values, current, { name, blank } = {}) {
  return h(
    "select",
    { id, name: name || id },
    blank !== undefined ? h("option", { value: "", selected: !current }, blank) : null,
    values.map((value) => h("option", { value, selected: value === current }, label(value))),
  );
}

/** "2026-11-02T09:15:00Z" → "2026-11-02T09:15" in the browser's time zone, for datetime-local; with
 * its seconds, and milliseconds, when it has some ("2026-11-30T23:59:59.999"): never cut to the minute. */
export function toLocalInput(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const shifted = new Date(date.getTime() - date.getTimezoneOffset() * 60000);
  const text = shifted.toISOString(); // "2026-11-30T23:59:59.999Z", in local time
  if (shifted.getUTCMilliseconds()) return text.slice(0, 23);
  return text.slice(0, shifted.getUTCSeconds() ? 19 : 16);
}

/** The reverse: a datetime-local value (the browser's time zone) → RFC 3339 in UTC, or undefined. */
export function fromLocalInput(value) {
  if (!value) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString().replace(".000Z", "Z");
}

/**
 * A datetime-local box for a time the API gave (`iso`, or none), and `read()`: the time to send.
 * While the box still shows `iso`, that is `iso` itself, exactly as the API gave it, so saving a
 * form's other fields moves no time (a box is not finer than its browser's idea of the time, and
 * `iso` may be finer than a millisecond); once changed, what was typed (undefined when emptied).
 * The box steps by the second, or millisecond, that `iso` has, so the browser takes it as valid.
 */
export function timeInput(attrs, iso) {
  const value = toLocalInput(iso);
  const step = value.length > 19 ? "0.001" : value.length > 16 ? "1" : undefined;
  const input = h("input", { ...attrs, type: "datetime-local", step, value });
  const drawn = input.value;
  const read = () => (iso && input.value === drawn ? iso : fromLocalInput(input.value));
  return { input, read };
}

/**
 * A new `noun` under an ID in use (another's, perhaps made meanwhile): nothing changed. Said in
 * `into`, focused: a link to that one (`link`), what it is (`describe(read)`, `read` null when it
 * cannot be read, or was deleted in between), and that the form is kept as typed, for another ID.
 */
export async function sayIdInUse(into, { noun, id, path, link, describe }) {
  let there = null;
  try {
    there = await api.get(path);
  } catch {
    // unreadable (or deleted in between): the link says where to look
  }
  const said = alertBox(
    "div",
    h("p", {}, `A ${noun} ${id} exists already, so nothing was saved: `, link, ` to change it, or choose another ID. Your ${noun} is kept above as you typed it.`),
    describe(there),
  );
  replace(into, said);
  said.focus();
}

/**
 * What a 409 to a PUT that says what it replaces means, from the API's words
 * (`functions/shared/replaces.py`): "taken" (a new one under an ID in use), "changed" (the one shown
 * was changed or deleted since), or "refused" (anything else: a limit, said as the API says it).
 */
export function conflictOf(error) {
  const detail = error.detail || "";
  if (detail.includes("exists already")) return "taken";
  if (detail.includes("was changed since you read it") || detail.includes("no longer exists")) return "changed";
  return "refused";
}

/** The boxes of a form a person changed: `before` and `after` are [label, words] pairs of the same
 * boxes (what the form showed when drawn, what it holds now); the pairs whose words differ. */
export function changedSince(before, after) {
  const shown = new Map(before);
  return after.filter(([name, text]) => shown.get(name) !== text);
}

/** What a person typed that a refused save did not keep, said in words (null when nothing was). */
export function unsaved(changes) {
  if (!changes.length) return null;
  return [
    h("p", {}, "What you had changed, not saved (enter it again below if it still applies):"),
    h("ul", { class: "unsaved" }, changes.map(([name, text]) => h("li", {}, `${name}: `, h("bdi", {}, text)))),
  ];
}
