// Workflows (SPEC 3.4): listed (GET /v1/loyalty/workflows), created and edited (PUT
// /v1/loyalty/workflows/{id}) with a form that offers exactly the spec's triggers, aggregations,
// date ranges and actions, enabled or disabled in place, deleted (DELETE the same path).

import { api, segment } from "../api.js";
import { askFirst, empty, h, loading, oneAtATime, pageHeading, problem, replace, scrollingTable } from "../dom.js";
import { field, select, uniqueId } from "../forms.js";
import { ACTION_TYPES, AGGREGATIONS, AUDIENCES, DATE_RANGES, EARN_KINDS, TRIGGER_EVENTS, label } from "../loyalty.js";
import { href, navigate } from "../router.js";

/** Only the fields PUT takes, from a document GET answered. */
function settingsOf(workflow) {
  return {
    trigger: workflow.trigger,
    filter: workflow.filter,
    actions: workflow.actions,
    enabled: Boolean(workflow.enabled),
  };
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
  row.read = () => {
    if (type.value !== "communication") return { type: type.value };
    let parsed;
    try {
      parsed = JSON.parse(payload.value || "{}");
    } catch {
      throw new Error(`The payload of the communication "${event.value}" is not valid JSON.`);
    }
    return { type: "communication", event: event.value.trim(), payload: parsed };
  };
  return row;
}

function workflowForm(id, existing) {
  const isNew = !existing;
  const idInput = h("input", { id: "workflow-id", name: "id", required: true, autocomplete: "off", value: id || "" });
  const trigger = existing?.trigger || {};
  const filter = existing?.filter || {};
  const event = select("trigger-event", TRIGGER_EVENTS, trigger.event || "points.earned");
  const kind = select("trigger-kind", EARN_KINDS, trigger.kind || "", { blank: "Any earn" });
  const aggregation = select("filter-aggregation", AGGREGATIONS, filter.aggregation || "earned");
  const range = select("filter-date-range", DATE_RANGES, filter.date_range || "week_to_date");
  const audience = select("filter-customer", AUDIENCES, filter.customer || "current");
  const threshold = h("input", { id: "filter-threshold", name: "threshold", type: "number", step: "1", min: "0", required: true, value: filter.threshold ?? "" });
  const enabled = h("input", { id: "workflow-enabled", name: "enabled", type: "checkbox", checked: existing ? Boolean(existing.enabled) : true });
  const actions = h("ol", { class: "actions-list" });
  const removeRow = (row) => row.remove();
  for (const action of existing?.actions || [{ type: "communication", event: "", payload: {} }]) {
    actions.append(actionRow(action, removeRow));
  }
  const message = h("div", { class: "form-message", "aria-live": "polite" });

  // one save at a time: a double click sends one request
  const save = oneAtATime(() => message.parentElement, async () => {
    const workflowId = isNew ? idInput.value.trim() : id;
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
      };
    } catch (error) {
      replace(message, problem(error));
      return;
    }
    replace(message, h("p", { role: "status" }, "Saving…"));
    try {
      await api.put(`/v1/loyalty/workflows/${segment(workflowId)}`, body);
      navigate(href("workflows", { saved: workflowId }));
    } catch (error) {
      replace(message, problem(error));
    }
  });

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
  if (saved) replace(message, h("p", { role: "status", class: "success" }, `Workflow ${saved} saved.`));

  async function setEnabled(workflow, on, box) {
    box.disabled = true;
    try {
      const id = idOf(workflow);
      const current = await api.get(`/v1/loyalty/workflows/${segment(id)}`);
      await api.put(`/v1/loyalty/workflows/${segment(id)}`, { ...settingsOf(current), enabled: on });
      replace(message, h("p", { role: "status", class: "success" }, `Workflow ${id} ${on ? "enabled" : "disabled"}.`));
    } catch (error) {
      box.checked = !on;
      replace(message, problem(error));
    } finally {
      box.disabled = false;
    }
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
        replace(message, problem(error));
      }
    });
    replace(cell, h("a", { href: href(["workflows", id]), "aria-label": `Edit ${id}` }, "Edit"), " ", ...controls);
    return cell;
  }

  async function load() {
    replace(results, loading("workflows"));
    try {
      const items = (await api.get("/v1/loyalty/workflows")).items;
      if (!items.length) {
        replace(results, empty("No workflows yet."));
        return;
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
                  h("th", { scope: "row" }, idOf(w)),
                  h("td", {}, `${label(w.trigger?.event)}${w.trigger?.kind ? ` (${label(w.trigger.kind).toLowerCase()})` : ""}`),
                  h("td", {}, describeFilter(w.filter)),
                  h("td", {}, describeActions(w.actions)),
                  h("td", {}, box),
                  deleteCell(w),
                );
              }),
            ),
          ),
        ),
      );
    } catch (error) {
      replace(results, problem(error));
    }
  }

  replace(
    container,
    pageHeading("Workflows"),
    h("p", {}, h("a", { href: href(["workflows", "new"]), class: "button-link" }, "New workflow")),
    message,
    results,
  );
  load();
}

export function mountWorkflows(container, route) {
  const target = route.parts[1];
  if (!target) {
    listPage(container, route);
    return {};
  }
  const result = h("div", { class: "results" });
  replace(container, pageHeading("Workflows"), h("p", {}, h("a", { href: href("workflows") }, "All workflows")), result);
  if (target === "new") {
    replace(result, workflowForm(null, null));
  } else {
    replace(result, loading("the workflow"));
    api
      .get(`/v1/loyalty/workflows/${segment(target)}`)
      .then((workflow) => replace(result, workflowForm(target, workflow)))
      .catch((error) => replace(result, problem(error)));
  }
  return {};
}
