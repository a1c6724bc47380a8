// API keys (admins only, SPEC 10 over SPEC 3.2 `/v1/keys`): the program's keys (actor, role,
// created, last used), `Create key` (the new key shown once, with a copy button) and `Revoke`.
//
// A new key lives in this page's DOM alone, until the page is left, another key is created or it is
// revoked here: never in storage, a URL or the list, which the API never gives it to. Revoking the
// key you are signed in with signs you out.

import { api, segment } from "../api.js";
import { askFirst, empty, h, loading, overLimit, pageHeading, problem, replace, scrollingTable, timeElement, words } from "../dom.js";
import { field } from "../forms.js";

const ROLES = ["integration", "viewer", "fraud", "admin"]; // a program's roles; `security` is the platform's
const ACTOR_MOST = 200; // characters an actor's name may be (the API's `ActorName`)
const ROLE_HINTS = {
  integration: "sends events, earns and spends points",
  viewer: "no access to fraud data",
  fraud: "reviews and acts on cases, rewards and loyalty",
  admin: "everything in the program, its keys included",
};

export function mountKeys(container, route, context) {
  const ownKey = context.me.key_id;
  const message = h("div", { class: "form-message", "aria-live": "polite" });
  const created = h("div", { class: "new-key-slot" });
  let createdKeyId = null; // the key the "New key" card shows: revoked here, the card goes with it
  const results = h("div", { class: "results" });

  // ---- Create key --------------------------------------------------------------------------
  const role = h(
    "select",
    { id: "key-role", name: "role", required: true },
    h("option", { value: "", selected: true }, "Choose a role"),
    ROLES.map((r) => h("option", { value: r }, `${words(r)}: ${ROLE_HINTS[r]}`)),
  );
  const actor = h("input", { id: "key-actor", name: "actor", required: true, autocomplete: "off" });
  const createButton = h("button", { type: "submit", class: "primary" }, "Create key");
  const form = h(
    "form",
    {
      class: "stacked",
      "aria-labelledby": "create-key-heading",
      onsubmit: async (event) => {
        event.preventDefault();
        const refused = overLimit(actor, "Actor", ACTOR_MOST);
        if (refused) {
          replace(message, refused);
          refused.focus();
          return;
        }
        createButton.disabled = true;
        replace(message, h("p", { role: "status" }, "Creating the key…"));
        try {
          const answer = await api.post("/v1/keys", { role: role.value, actor: actor.value.trim() });
          replace(message);
          showNewKey(answer);
          form.reset();
          await load();
        } catch (error) {
          replace(message, problem(error));
        } finally {
          createButton.disabled = false;
        }
      },
    },
    field("Role", role),
    field("Actor", actor, "Who holds the key, as audit trails name them"),
    h("div", { class: "buttons" }, createButton),
  );

  /** The key of a 201 answer, this once: selectable, with a copy button. */
  function showNewKey(answer) {
    const shown = h("input", {
      id: "new-key",
      readonly: true,
      value: answer.key,
      spellcheck: "false",
      autocomplete: "off",
      class: "new-key-value",
    });
    shown.addEventListener("focus", () => shown.select());
    const copied = h("span", { class: "muted", "aria-live": "polite" });
    const copy = h(
      "button",
      {
        type: "button",
        onclick: async () => {
          try {
            await navigator.clipboard.writeText(answer.key);
            replace(copied, "Copied.");
          } catch {
            shown.focus(); // selected: the teammate copies it with the keyboard
            replace(copied, "Copying is not allowed here: the key is selected, copy it with Ctrl+C or ⌘C.");
          }
        },
      },
      "Copy",
    );
    const heading = h("h2", { id: "new-key-heading", tabindex: "-1" }, `New key for ${answer.actor}`);
    createdKeyId = answer.key_id;
    replace(
      created,
      h(
        "section",
        { class: "card new-key", "aria-labelledby": "new-key-heading" },
        heading,
        h("p", {}, `Role: ${words(answer.role)}. Copy the key now and hand it over safely: it is shown only this once.`),
        h("label", { for: "new-key" }, "New API key"),
        h("div", { class: "buttons" }, shown, copy, copied),
      ),
    );
    heading.focus();
  }

  // ---- the list ----------------------------------------------------------------------------
  function revokeCell(key) {
    const mine = key.key_id === ownKey;
    const cell = h("td", { class: "row-actions" });
    const ask = h("button", { type: "button", class: "danger", "aria-label": `Revoke the key of ${key.actor}` }, "Revoke");
    const question = mine
      ? "This is the key you are signed in with: revoking it signs you out. "
      : `Revoke the key of ${key.actor}? It stops working at once. `;
    const controls = askFirst(ask, question, "Confirm revoke", async () => {
      try {
        await api.delete(`/v1/keys/${segment(key.key_id)}`);
        if (mine) {
          context.signOut("You revoked the key you were signed in with. Sign in with another key.");
          return;
        }
        if (createdKeyId === key.key_id) {
          replace(created); // no longer to hand over
          createdKeyId = null;
        }
        replace(message, h("p", { role: "status", class: "success", tabindex: "-1" }, `The key of ${key.actor} is revoked.`));
        await load();
        message.firstChild.focus(); // its row is gone
      } catch (error) {
        replace(message, problem(error));
      }
    });
    return replace(cell, ...controls);
  }

  function table(keys) {
    return scrollingTable(
      "API keys",
      h(
        "table",
        { class: "data" },
        h("caption", { class: "visually-hidden" }, "API keys of this program"),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ["Actor", "Role", "Created", "Last used"].map((c) => h("th", { scope: "col" }, c)),
            h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions")),
          ),
        ),
        h(
          "tbody",
          {},
          keys.map((key) =>
            h(
              "tr",
              { "data-key-id": key.key_id },
              h("th", { scope: "row", class: "wrap" }, key.actor, key.key_id === ownKey ? h("span", { class: "muted" }, " (your key)") : null),
              h("td", { class: "word" }, words(key.role)),
              h("td", {}, timeElement(key.created_at)),
              h("td", {}, key.last_used_at ? timeElement(key.last_used_at) : "Never"),
              revokeCell(key),
            ),
          ),
        ),
      ),
    );
  }

  async function load() {
    replace(results, loading("keys"));
    try {
      const { items } = await api.get("/v1/keys");
      replace(results, items.length ? table(items) : empty("This program has no keys."));
    } catch (error) {
      replace(results, problem(error));
    }
  }

  replace(
    container,
    pageHeading("API keys"),
    h(
      "p",
      { class: "muted" },
      "Everyone and everything that calls the API for this program holds a key. The last use is shown to the minute.",
    ),
    h(
      "section",
      { class: "card", "aria-labelledby": "create-key-heading" },
      h("h2", { id: "create-key-heading" }, "Create key"),
      form,
    ),
    created,
    message,
    results,
  );
  load();
  return {};
}
