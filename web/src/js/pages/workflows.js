// Workflows (SPEC 3.4): listed (GET /v1/loyalty/workflows), created and edited (PUT
// /v1/loyalty/workflows/{id}) with a form that offers exactly the spec's triggers, aggregations,
// date ranges and actions, enabled or disabled in place, deleted (DELETE the same path).

import { api, noAnswer, parseExactly, segment } from "../api.js";
import { alertBox, announce, askFirst, badIdentifier, empty, h, loading, oneAtATime, pageHeading, problem, replace, scrollingTable } from "../dom.js";
import { changedSince, conflictOf, field, sayIdInUse, select, uniqueId, unsaved } from "../forms.js";
import { ACTION_TYPES, AGGREGATIONS, AUDIENCES, DATE_RANGES, EARN_KINDS, TRIGGER_EVENTS, label } from "../loyalty.js";
import { dropParam, href, navigate } from "../router.js";

// A new workflow's form: a parameter, as any path after `#/workflows/` is a workflow's ID, "new" too
const NEW_WORKFLOW = href("workflows", { new: "1" });

/** Only the fields PUT takes, from a document GET answered. */
function settingsOf(workflow) {
  return {
    trigger: workflow.trigger,
    filter: workflow.filter,
    actions: workflow.actions,
    enabled: Boolean(workflow.enabled),
  };
}

/** Whether two workflows' settings are the same, whatever order the API writes their keys in. */
function sameSettings(a, b) {
  const sorted = (value) =>
    value && typeof value === "object" && !Array.isArray(value) && !(typeof JSON.isRawJSON === "function" && JSON.isRawJSON(value))
      ? Object.fromEntries(
          Object.keys(value)
            .sort()
            .filter((k) => value[k] !== null && value[k] !== undefined) // a field left out is the same as one null
            .map((k) => [k, sorted(value[k])]),
        )
      : Array.isArray(value)
        ? value.map(sorted)
        : value;
  return JSON.stringify(sorted(a)) === JSON.stringify(sorted(b));
}

function idOf(workflow) {
  return workflow.id;
}

export function describeFilter(filter = {}) {
  const who = filter.customer === "all" ? "any customer" : "the earning customer";
  return `${label(filter.aggregation)}, ${label(filter.date_range).toLowerCase()}, more than ${filter.threshold} (${who})`;
}

export function describeActions(actions = []) {
  return actions.map((a) => (a.type === "communication" ? `Communication "${a.event}"` : label(a.type))).join("; ") || "—";
}

function actionRow(action, onRemove) {
  const typeId = uniqueId("action-type");
  const type = select(typeId, ACTION_TYPES, action?.type || "communication");
  const event = h("input", { id: uniqueId("action-event"), name: "event", autocomplete: "off", value: action?.event || "" });
  const payload = h("textarea", {
    id: uniqueId("action-payload"),
    name: "payload",
    rows: "3",
    spellcheck: "false",
    value: action?.payload !== undefined ? JSON.stringify(action.payload, null, 2) : "{}",
  });
  const communication = h("div", { class: "communication" }, field("Event name", event), field("Payload (JSON)", payload));
  const sync = () => {
    communication.hidden = type.value !== "communication";
  };
  type.addEventListener("change", sync);
  sync();
  const row = h(
    "li",
    { class: "action-row" },
    field("Action", type),
    communication,
    h("button", { type: "button", class: "link-button", onclick: () => onRemove(row) }, "Remove action"),
  );
  // the action in words, as typed (its payload as written, on one line)
  row.describe = () =>
    type.value === "communication" ? `Communication "${event.value.trim()}", payload ${payload.value.replace(/\s+/g, " ").trim()}` : label(type.value);
  row.read = () => {
    if (type.value !== "communication") return { type: type.value };
    let parsed;
    try {
      parsed = parseExactly(payload.value || "{}"); // 12345678901234567890 sent as typed, not ...7000
    } catch {
      throw new Error(`The payload of the communication "${event.value}" is not valid JSON.`);
    }
    return { type: "communication", event: event.value.trim(), payload: parsed };
  };
  return row;
}

/**
 * A workflow's form: `shown` as the page read it (null: a new one, its ID typed, or one gone since),
 * its boxes filled from `draft` (by default `shown`), `notice` above them. Its save says what it
 * replaces (`replaces`: the `updated_at` shown, null for none), so a teammate's change made since is
 * never undone unseen: refused (409), a new one under a taken ID says so, naming what that one does,
 * and keeps the form as typed; an edit calls `onConflict(changes, typed)` with the boxes the person
 * changed and the workflow as typed, to show the workflow as it is now and say them.
 */
function workflowForm(id, shown, { draft = shown, notice = null, onConflict } = {}) {
  const isNew = !shown;
  const idInput = h("input", { id: "workflow-id", name: "id", required: true, autocomplete: "off", value: id || "" });
  const trigger = draft?.trigger || {};
  const filter = draft?.filter || {};
  const event = select("trigger-event", TRIGGER_EVENTS, trigger.event || "points.earned");
  const kind = select("trigger-kind", EARN_KINDS, trigger.kind || "", { blank: "Any earn" });
  const aggregation = select("filter-aggregation", AGGREGATIONS, filter.aggregation || "earned");
  const range = select("filter-date-range", DATE_RANGES, filter.date_range || "week_to_date");
  const audience = select("filter-customer", AUDIENCES, filter.customer || "current");
  const threshold = h("input", { id: "filter-threshold", name: "threshold", type: "number", step: "1", min: "0", required: true, value: filter.threshold ?? "" });
  const enabled = h("input", { id: "workflow-enabled", name: "enabled", type: "checkbox", checked: draft ? Boolean(draft.enabled) : true });
  const actions = h("ol", { class: "actions-list" });
  const removeRow = (row) => row.remove();
  for (const action of draft?.actions || [{ type: "communication", event: "", payload: {} }]) {
    actions.append(actionRow(action, removeRow));
  }
  const message = h("div", { class: "form-message", "aria-live": "polite" });
  // what the boxes say, in words: as drawn, and as typed when a save is refused
  const typed = () => [
    ["Event", label(event.value)],
    ["Earn kind", kind.value ? label(kind.value) : "Any earn"],
    ["Aggregation", label(aggregation.value)],
    ["Date range", label(range.value)],
    ["Customers", label(audience.value)],
    ["Threshold", threshold.value || "none"],
    ["Actions", [...actions.children].map((row) => row.describe()).join("; ") || "none"],
    ["Enabled", enabled.checked ? "yes" : "no"],
  ];
  const before = typed();

  // one save at a time: a double click sends one request
  const save = oneAtATime(() => message.parentElement, async () => {
    const workflowId = isNew ? idInput.value.trim() : id;
    const refused = isNew && badIdentifier(workflowId, "A workflow ID");
    if (refused) {
      replace(message, refused);
      refused.focus();
      return;
    }
    let body;
    try {
      const chosen = [...actions.children].map((row) => row.read());
      if (!chosen.length) throw new Error("Add at least one action.");
      body = {
        trigger: kind.value ? { event: event.value, kind: kind.value } : { event: event.value },
        filter: {
          aggregation: aggregation.value,
          date_range: range.value,
          customer: audience.value,
          threshold: Number(threshold.value),
        },
        actions: chosen,
        enabled: enabled.checked,
        // a create or a change of the workflow shown, never of one made or changed since
        replaces: shown ? shown.updated_at : null,
      };
    } catch (error) {
      // said where the form ends, and focused there, as a refusal by the API is (a keyboard user
      // is at the Save button, far below the payload that is wrong)
      replace(message, problem(error));
      message.firstChild.focus();
      return;
    }
    replace(message, h("p", { role: "status" }, "Saving…"));
    try {
      await api.put(`/v1/loyalty/workflows/${segment(workflowId)}`, body);
      navigate(href("workflows", { saved: workflowId }));
    } catch (error) {
      if (error.status === 0) {
        await lostSave(workflowId, body, error);
      } else if (error.status !== 409 || conflictOf(error) === "refused") {
        // a limit (50 workflows, 300 KB of them together) is said as the API says it
        replace(message, problem(error));
        message.firstChild.focus();
      } else if (isNew) {
        await takenId(workflowId);
      } else {
        replace(message);
        await onConflict(changedSince(before, typed()), body);
      }
    }
  });

  /** A save whose answer never came: the workflow read again says whether it was saved (changed
   * from what the form replaced, to what it sent), not saved (as it was), or changed by another. */
  async function lostSave(workflowId, body, error) {
    let now;
    try {
      now = await api.getExactly(`/v1/loyalty/workflows/${segment(workflowId)}`);
    } catch (again) {
      if (again.status !== 404) {
        const said = alertBox("p", `Whether workflow ${workflowId} was saved is not known: ${noAnswer(error)}, and it could not be read again. The form is kept as you typed it.`);
        replace(message, said);
        said.focus();
        return;
      }
      now = null;
    }
    const changed = now && (now.updated_at ?? null) !== body.replaces;
    const { replaces, ...sent } = body;
    const asSent = now && sameSettings(settingsOf(now), sent);
    if (changed && asSent) {
      navigate(href("workflows", { saved: workflowId }));
    } else if (!changed) {
      const said = alertBox("p", `Workflow ${workflowId} was not saved: ${noAnswer(error)}, and it ${now ? "is unchanged" : "does not exist"}. The form is kept as you typed it: try again.`);
      replace(message, said);
      said.focus();
    } else if (isNew) {
      await takenId(workflowId);
    } else {
      replace(message);
      await onConflict(changedSince(before, typed()), body);
    }
  }

  /** A new workflow under an ID in use: what that one does, a link to open it. */
  function takenId(workflowId) {
    return sayIdInUse(message, {
      noun: "workflow",
      id: workflowId,
      path: `/v1/loyalty/workflows/${segment(workflowId)}`,
      link: h("a", { href: href(["workflows", workflowId]) }, "open it"),
      describe: (there) =>
        there ? h("p", {}, `That one: ${describeFilter(there.filter)}; ${describeActions(there.actions)}; ${there.enabled ? "enabled" : "disabled"}.`) : null,
    });
  }

  return h(
    "form",
    {
      class: "card stacked",
      "aria-labelledby": "workflow-form-heading",
      onsubmit: (submitted) => {
        submitted.preventDefault();
        save();
      },
    },
    h("h2", { id: "workflow-form-heading" }, isNew ? "New workflow" : `Edit workflow ${id}`),
    notice, // why the form is drawn again (a save refused), above what it now shows
    isNew ? field("Workflow ID", idInput) : null,
    h("fieldset", {}, h("legend", {}, "Trigger"), field("Event", event), field("Earn kind", kind)),
    h(
      "fieldset",
      {},
      h("legend", {}, "Filter"),
      field("Aggregation", aggregation),
      field("Date range", range),
      field("Customers", audience),
      field("Threshold", threshold, "The actions run when the aggregation is more than this."),
    ),
    h(
      "fieldset",
      {},
      h("legend", {}, "Actions"),
      actions,
      h("button", { type: "button", onclick: () => actions.append(actionRow(null, removeRow)) }, "Add action"),
    ),
    h("div", { class: "check" }, enabled, h("label", { for: "workflow-enabled" }, "Enabled")),
    h("div", { class: "buttons" }, h("button", { type: "submit", class: "primary" }, "Save workflow"), h("a", { href: href("workflows"), class: "button-link" }, "Cancel")),
    message,
  );
}

function listPage(container, route) {
  const message = h("div", { class: "form-message", "aria-live": "polite" });
  const results = h("div", { class: "results" });
  const saved = route.params.get("saved");
  if (saved) {
    // drawn with the page that it is about: said aloud from the shell's live region, which was
    // there before (a status drawn together with its text is often not read)
    replace(message, h("p", { class: "success" }, `Workflow ${saved} saved.`));
    announce(`Saved workflow ${saved}.`, message);
    dropParam("saved"); // said once: a reload shows the list, not a save again
  }

  async function setEnabled(workflow, on, box) {
    box.disabled = true;
    try {
      const id = idOf(workflow);
      // only `enabled` changes, of the workflow as its row shows it: one a teammate changed since
      // (read again at the click, a new threshold or action would have been switched on unseen) is
      // refused, and the list is read again
      await api.put(`/v1/loyalty/workflows/${segment(id)}`, { ...settingsOf(workflow), enabled: on, replaces: workflow.updated_at });
      replace(message, h("p", { role: "status", class: "success" }, `Workflow ${id} ${on ? "enabled" : "disabled"}.`));
    } catch (error) {
      box.checked = !on;
      if (error.status === 0) {
        // no answer: it may be switched all the same. The workflow read again says which
        await lostSwitch(workflow, on, error);
        return;
      }
      if (error.status !== 409) {
        replace(message, problem(error));
        return;
      }
      // changed or deleted in between: nothing switched, the list as it is now
      const said = alertBox(
        "p",
        `Workflow ${idOf(workflow)} changed meanwhile (by a teammate, or in another tab), so it was not ${on ? "enabled" : "disabled"}. The list below is as it is now.`,
      );
      replace(message, said);
      await load();
      said.focus();
    } finally {
      box.disabled = false;
    }
  }

  /** A switch whose answer never came: the list read again, and whether the workflow is now `on`
   * (changed from the row's `updated_at`) said. */
  async function lostSwitch(workflow, on, error) {
    const id = idOf(workflow);
    const word = on ? "enabled" : "disabled";
    const items = await load();
    const now = items?.find((w) => idOf(w) === id);
    let said;
    if (!items) said = alertBox("p", `Whether workflow ${id} was ${word} is not known: ${noAnswer(error)}, and the workflows could not be read again.`);
    else if (now && Boolean(now.enabled) === on && now.updated_at !== workflow.updated_at) {
      said = h("p", { role: "status", class: "success", tabindex: "-1" }, `Workflow ${id} ${word}.`);
    } else if (now && now.updated_at === workflow.updated_at) {
      said = alertBox("p", `Workflow ${id} was not ${word}: ${noAnswer(error)}, and it is unchanged. Try again.`);
    } else {
      said = alertBox("p", `Workflow ${id} was not ${word}: ${noAnswer(error)}, and it ${now ? "changed meanwhile" : "is no longer listed"}. The list below is as it is now.`);
    }
    replace(message, said);
    said.focus(); // the switch was drawn again
  }

  function deleteCell(workflow) {
    const id = idOf(workflow);
    const cell = h("td", { class: "row-actions" });
    const ask = h("button", { type: "button", class: "danger", "aria-label": `Delete ${id}` }, "Delete");
    const controls = askFirst(ask, `Delete ${id}? `, "Confirm delete", async () => {
      try {
        await api.delete(`/v1/loyalty/workflows/${segment(id)}`);
        replace(message, h("p", { role: "status", class: "success" }, `Workflow ${id} deleted.`));
        await load();
        document.getElementById("page-heading")?.focus();
      } catch (error) {
        if (error.status !== 0) {
          replace(message, problem(error));
          return;
        }
        // no answer: it may be deleted all the same. The list read again says which
        const items = await load();
        const there = items?.some((w) => idOf(w) === id);
        const said = !items
          ? alertBox("p", `Whether workflow ${id} was deleted is not known: ${noAnswer(error)}, and the workflows could not be read again.`)
          : there
            ? alertBox("p", `Workflow ${id} was not deleted: ${noAnswer(error)}, and it is still listed below. Try again.`)
            : h("p", { role: "status", class: "success", tabindex: "-1" }, `Workflow ${id} deleted.`);
        replace(message, said);
        said.focus();
      }
    });
    replace(cell, h("a", { href: href(["workflows", id]), "aria-label": `Edit ${id}` }, "Edit"), " ", ...controls);
    return cell;
  }

  /** The workflows read and shown: their list, or null when they could not be read (said there). */
  async function load() {
    replace(results, loading("workflows"));
    try {
      // read with their numbers as written: the switch sends each workflow back as read
      const items = (await api.getExactly("/v1/loyalty/workflows")).items;
      if (!items.length) {
        replace(results, empty("No workflows yet."));
        return items;
      }
      const columns = ["Workflow", "Trigger", "Filter", "Actions", "Enabled"];
      replace(
        results,
        scrollingTable(
          "Workflows",
          h(
            "table",
            { class: "data" },
            h("caption", { class: "visually-hidden" }, "Loyalty workflows"),
            h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c)), h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions on the workflow")))),
            h(
              "tbody",
              {},
              items.map((w) => {
                const box = h("input", { type: "checkbox", role: "switch", checked: Boolean(w.enabled), "aria-label": `Enabled: ${idOf(w)}` });
                box.addEventListener("change", () => setEnabled(w, box.checked, box));
                return h(
                  "tr",
                  {},
                  h("th", { scope: "row", class: "wrap" }, idOf(w)),
                  h("td", {}, `${label(w.trigger?.event)}${w.trigger?.kind ? ` (${label(w.trigger.kind).toLowerCase()})` : ""}`),
                  h("td", {}, describeFilter(w.filter)),
                  h("td", { class: "wrap" }, describeActions(w.actions)),
                  h("td", {}, box),
                  deleteCell(w),
                );
              }),
            ),
          ),
        ),
      );
      return items;
    } catch (error) {
      replace(results, problem(error));
      return null;
    }
  }

  replace(
    container,
    pageHeading("Workflows"),
    h("p", {}, h("a", { href: NEW_WORKFLOW, class: "button-link" }, "New workflow")),
    message,
    results,
  );
  load();
}

export function mountWorkflows(container, route) {
  const target = route.parts[1];
  const creating = !target && route.params.has("new");
  if (!target && !creating) {
    listPage(container, route);
    return {};
  }
  const result = h("div", { class: "results" });
  replace(container, pageHeading("Workflows"), h("p", {}, h("a", { href: href("workflows") }, "All workflows")), result);

  function show(shown, options = {}) {
    replace(result, workflowForm(target, shown, { ...options, onConflict: changedMeanwhile }));
    options.notice?.focus();
  }

  /** A save refused because the workflow was changed or deleted since it was shown: the workflow
   * as it is now, under a message that says so and what the person had changed (the form shows the
   * values now, so a second save cannot undo the teammate's change unseen); deleted, the form stays
   * as typed, and saving it makes the workflow again. */
  async function changedMeanwhile(changes, typed) {
    const said = (text, ...more) => alertBox("div", h("p", {}, text), ...more);
    try {
      const now = await api.getExactly(`/v1/loyalty/workflows/${segment(target)}`);
      show(now, {
        notice: said(
          `Workflow ${target} was changed since you opened it (by a teammate, or in another tab), so nothing was saved. It is shown below as it is now.`,
          unsaved(changes),
        ),
      });
    } catch (error) {
      if (error.status !== 404) {
        replace(result, said(`Workflow ${target} changed since you opened it, so nothing was saved, and it cannot be read now: ${error.message}`, unsaved(changes)));
        result.firstChild.focus();
        return;
      }
      show(null, {
        draft: typed,
        notice: said(`Workflow ${target} was deleted since you opened it (by a teammate, or in another tab), so nothing was saved. Your workflow is kept below as you typed it: Save workflow makes it again.`),
      });
    }
  }

  if (creating) {
    replace(result, workflowForm(null, null));
  } else {
    replace(result, loading("the workflow"));
    api
      .getExactly(`/v1/loyalty/workflows/${segment(target)}`) // its form sends its payloads back as read
      .then((workflow) => show(workflow))
      // `#/workflows/new` was the new workflow's address: with no workflow "new", it still is
      .catch((error) => replace(result, error.status === 404 && target === "new" ? workflowForm(null, null) : problem(error)));
  }
  return {};
}
