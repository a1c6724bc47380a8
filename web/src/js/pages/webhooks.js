// Webhooks (admins only, SPEC 10 style over SPEC 6 `/v1/webhooks`): the program's webhooks (URL,
// notifications, enabled), `Save webhook` (a new webhook's signing secret shown once, with a copy
// button), `Rotate secret` (the new one shown once; the old one keeps signing for 24 hours),
// `Delete`, and each webhook's `Deliveries` with `Send again`, newest first, a page at a time.
//
// A secret lives in this page's DOM alone, until the page is left or another is shown: never in
// storage, a URL or the list, which the API never gives it to.

import { api, segment } from "../api.js";
import { DEFAULT_PAGE_SIZE, askFirst, empty, h, loading, overLimit, pageHeading, problem, replace, scrollingTable, timeElement, words } from "../dom.js";
import { field } from "../forms.js";

const ID_MOST = 128; // characters an identifier may be (SPEC 3.1)
const URL_MOST = 2048; // characters a webhook's URL may be (the API's `url`)

const NOTIFICATIONS = [
  "PartnerFlagged",
  "CustomerFlagged",
  "RewardsHeld",
  "DisputeOpened",
  "DisputeResolved",
  "PartnerRemoved",
  "CustomerSuspended",
  "CustomerBlocked",
  "LoyaltyCommunication",
];

export function mountWebhooks(container) {
  const message = h("div", { class: "form-message", "aria-live": "polite" });
  const secretSlot = h("div", { class: "new-key-slot" });
  const results = h("div", { class: "results" });
  const deliveries = h("div", { class: "results" });

  // ---- Save webhook ---------------------------------------------------------------------------
  // no maxlength: it would cut a paste silently (and counts an emoji as two); past what the API
  // takes is said on submit, naming the box
  const webhookId = h("input", { id: "webhook-id", name: "id", required: true, autocomplete: "off" });
  const url = h("input", { id: "webhook-url", name: "url", type: "url", required: true, autocomplete: "off" });
  const boxes = NOTIFICATIONS.map((name) => h("input", { type: "checkbox", id: `webhook-event-${name}`, value: name }));
  const enabled = h("input", { type: "checkbox", id: "webhook-enabled", checked: true });
  const saveButton = h("button", { type: "submit", class: "primary" }, "Save webhook");
  const form = h(
    "form",
    {
      class: "stacked",
      "aria-labelledby": "save-webhook-heading",
      onsubmit: async (event) => {
        event.preventDefault();
        const refused = overLimit(webhookId, "Webhook ID", ID_MOST) || overLimit(url, "URL", URL_MOST);
        if (refused) {
          replace(message, refused);
          refused.focus();
          return;
        }
        saveButton.disabled = true;
        replace(message, h("p", { role: "status" }, "Saving the webhook…"));
        const id = webhookId.value.trim();
        try {
          const answer = await api.put(`/v1/webhooks/${segment(id)}`, {
            url: url.value.trim(),
            events: boxes.filter((b) => b.checked).map((b) => b.value),
            enabled: enabled.checked,
          });
          replace(message, h("p", { role: "status", class: "success" }, `Webhook ${answer.id} saved.`));
          if (answer.secret) showSecret(`Signing secret of ${answer.id}`, answer.secret);
          await load();
        } catch (error) {
          replace(message, problem(error));
        } finally {
          saveButton.disabled = false;
        }
      },
    },
    field("Webhook ID", webhookId, "Your name for it; saving an existing ID changes that webhook"),
    field("URL", url, "https:// to a public address; receivers verify X-Signature with the signing secret"),
    h(
      "fieldset",
      { class: "checks" },
      h("legend", {}, "Notifications"),
      boxes.map((box) => h("div", { class: "check" }, box, h("label", { for: box.id }, box.value))),
    ),
    h("div", { class: "check" }, enabled, h("label", { for: enabled.id }, "Enabled")),
    h("div", { class: "buttons" }, saveButton),
  );

  /** A secret of an answer, this once: selectable, with a copy button. */
  function showSecret(title, secret, note) {
    const shown = h("input", { id: "webhook-secret", readonly: true, value: secret, spellcheck: "false", autocomplete: "off", class: "new-key-value" });
    shown.addEventListener("focus", () => shown.select());
    const copied = h("span", { class: "muted", "aria-live": "polite" });
    const copy = h(
      "button",
      {
        type: "button",
        onclick: async () => {
          try {
            await navigator.clipboard.writeText(secret);
            replace(copied, "Copied.");
          } catch {
            shown.focus();
            replace(copied, "Copying is not allowed here: the secret is selected, copy it with Ctrl+C or ⌘C.");
          }
        },
      },
      "Copy",
    );
    const heading = h("h2", { id: "webhook-secret-heading", tabindex: "-1" }, title);
    replace(
      secretSlot,
      h(
        "section",
        { class: "card new-key", "aria-labelledby": "webhook-secret-heading" },
        heading,
        h("p", {}, note || "Copy it now and give it to the receiver: it is shown only this once."),
        h("label", { for: "webhook-secret" }, "Signing secret"),
        h("div", { class: "buttons" }, shown, copy, copied),
      ),
    );
    heading.focus();
  }

  // ---- the list ---------------------------------------------------------------------------------
  function actions(hook) {
    const rotate = h("button", { type: "button" }, "Rotate secret");
    rotate.addEventListener("click", async () => {
      rotate.disabled = true;
      try {
        const answer = await api.post(`/v1/webhooks/${segment(hook.id)}/rotate-secret`);
        const until = new Date(answer.previous_secret_valid_until).toLocaleString();
        showSecret(`New signing secret of ${hook.id}`, answer.secret, `The old secret keeps signing until ${until}: give the receiver this one before then. It is shown only this once.`);
      } catch (error) {
        replace(message, problem(error));
      } finally {
        rotate.disabled = false;
      }
    });
    const show = h("button", { type: "button" }, "Deliveries");
    show.addEventListener("click", () => loadDeliveries(hook.id));
    const remove = h("button", { type: "button", class: "danger", "aria-label": `Delete ${hook.id}` }, "Delete");
    // its notifications stop at once: asked first, as revoking a key is
    const controls = askFirst(remove, `Delete ${hook.id}? Its notifications stop at once. `, "Confirm delete", async () => {
      try {
        await api.delete(`/v1/webhooks/${segment(hook.id)}`);
        replace(message, h("p", { role: "status", class: "success" }, `Webhook ${hook.id} deleted.`));
        replace(deliveries);
        await load();
      } catch (error) {
        replace(message, problem(error));
      }
    });
    return h("td", { class: "row-actions" }, rotate, " ", show, " ", ...controls);
  }

  function table(hooks) {
    return scrollingTable(
      "Webhooks",
      h(
        "table",
        { class: "data" },
        h("caption", { class: "visually-hidden" }, "Webhooks of this program"),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ["ID", "URL", "Notifications", "Status", "Updated"].map((c) => h("th", { scope: "col" }, c)),
            h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions")),
          ),
        ),
        h(
          "tbody",
          {},
          hooks.map((hook) =>
            h(
              "tr",
              {},
              h("th", { scope: "row", class: "wrap" }, hook.id),
              h("td", { class: "wrap" }, hook.url),
              h("td", {}, hook.events.join(", ")),
              h("td", {}, hook.enabled ? "Enabled" : `Disabled${hook.disabled_reason ? `: ${hook.disabled_reason}` : ""}`),
              h("td", {}, timeElement(hook.updated_at)),
              actions(hook),
            ),
          ),
        ),
      ),
    );
  }

  async function load() {
    replace(results, loading("webhooks"));
    try {
      const { items } = await api.get("/v1/webhooks");
      replace(results, items.length ? table(items) : empty("This program has no webhooks."));
    } catch (error) {
      replace(results, problem(error));
    }
  }

  // ---- a webhook's deliveries ---------------------------------------------------------------------
  // a page at a time, newest first: `cursor` is the API's `next_cursor` of the page before
  // ("" for the newest); `Older deliveries` goes on, `Newest deliveries` back to the start
  async function loadDeliveries(id, cursor = "") {
    const heading = h("h2", { id: "deliveries-heading", tabindex: "-1" }, `Deliveries of ${id}`);
    replace(deliveries, heading, loading("deliveries"));
    try {
      const { items, next_cursor: next } = await api.get(`/v1/webhooks/${segment(id)}/deliveries`, { limit: DEFAULT_PAGE_SIZE, cursor });
      const older = next ? h("button", { type: "button", onclick: () => loadDeliveries(id, next) }, "Older deliveries") : null;
      const newest = cursor ? h("button", { type: "button", onclick: () => loadDeliveries(id) }, "Newest deliveries") : null;
      replace(
        deliveries,
        heading,
        items.length ? deliveryTable(id, items, cursor) : empty(cursor ? "No older deliveries." : "No deliveries yet."),
        older || newest ? h("nav", { class: "pager", "aria-label": `Pages of the deliveries of ${id}` }, newest, older) : null,
      );
    } catch (error) {
      replace(deliveries, heading, problem(error));
    }
    heading.focus();
  }

  function deliveryTable(id, items, cursor) {
    return scrollingTable(
      `Deliveries of ${id}`,
      h(
        "table",
        { class: "data" },
        h("caption", { class: "visually-hidden" }, `Deliveries of ${id}`),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ["Delivery", "Notification", "Status", "Tries", "Last answer", "Created"].map((c) => h("th", { scope: "col" }, c)),
            h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions")),
          ),
        ),
        h(
          "tbody",
          {},
          items.map((d) => {
            const last = d.attempts[d.attempts.length - 1];
            const again = h("button", { type: "button" }, "Send again");
            again.addEventListener("click", async () => {
              again.disabled = true;
              try {
                await api.post(`/v1/webhooks/${segment(id)}/deliveries/${segment(d.id)}/retry`);
                replace(message, h("p", { role: "status", class: "success" }, `Delivery ${d.id} is being sent again.`));
                await loadDeliveries(id, cursor);
              } catch (error) {
                again.disabled = false;
                replace(message, problem(error));
              }
            });
            return h(
              "tr",
              {},
              h("th", { scope: "row", class: "wrap" }, d.id),
              h("td", { class: "wrap" }, d.type),
              h("td", {}, words(d.status)),
              h("td", {}, String(d.attempts.length)),
              h("td", {}, last ? (last.answer_code === null ? "No answer" : String(last.answer_code)) : "Not sent yet"),
              h("td", {}, timeElement(d.created_at)),
              h("td", { class: "row-actions" }, again),
            );
          }),
        ),
      ),
    );
  }

  replace(
    container,
    pageHeading("Webhooks"),
    h(
      "p",
      { class: "muted" },
      "Notifications are posted to each webhook's URL, signed with its secret (X-Signature, as inbound events), and retried for 24 hours.",
    ),
    h("section", { class: "card", "aria-labelledby": "save-webhook-heading" }, h("h2", { id: "save-webhook-heading" }, "Save webhook"), form),
    secretSlot,
    message,
    results,
    deliveries,
  );
  load();
  return {};
}
