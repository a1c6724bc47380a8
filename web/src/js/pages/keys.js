// API keys (admins only, SPEC 10 over SPEC 3.2 `/v1/keys`): the program's keys (actor, role,
// created, last used), `Create key` (the new key shown once, with a copy button) and `Revoke`.
//
// A new key lives in this page's DOM alone, until the page is left, another key is created or it is
// revoked here: never in storage, a URL or the list, which the API never gives it to. Revoking the
// key you are signed in with signs you out.

import { api, call, noAnswer, segment, storedKey } from "../api.js";
import { alertBox, askFirst, empty, h, loading, overLimit, pageHeading, problem, replace, scrollingTable, timeElement, words } from "../dom.js";
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
        const asked = { role: role.value, actor: actor.value.trim() };
        const before = new Set(listed); // the keys there were, as far as this page knows
        const sentAt = Date.now();
        try {
          const answer = await api.post("/v1/keys", asked);
          replace(message);
          showNewKey(answer);
          form.reset();
          await load();
        } catch (error) {
          if (error.status === 0) {
            // no answer: the key may have been made all the same, and its text, given only in
            // that answer, is gone for good. The list read again says whether there is such a key
            await afterLostCreate(asked, before, sentAt, error);
            return;
          }
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

  /** Say what came of a `Create key` whose answer never came: a key of that actor and role made
   * since (the newest, not listed before), which nobody holds, to revoke; or none, to try again. */
  async function afterLostCreate(asked, before, sentAt, error) {
    const who = `${asked.actor} (${words(asked.role).toLowerCase()})`;
    const items = await load();
    let said;
    if (!items) {
      said = alertBox(
        "div",
        h("p", {}, `Whether a key for ${who} was created is not known: ${noAnswer(error)}, and the keys could not be read again.`),
        h("p", {}, `Read this page again. A key of ${asked.actor}, role ${words(asked.role)}, created just now that no teammate, other tab or fraudctl made is yours, and nobody holds it (its text was in the lost answer): revoke it, and create another.`),
      );
    } else {
      // made by this click: that actor and role, not listed before, created since it was sent
      // (a minute's grace for a clock apart from the API's)
      const made = items
        .filter((k) => k.actor === asked.actor && k.role === asked.role && !before.has(k.key_id) && Date.parse(k.created_at) >= sentAt - 60_000)
        .sort((a, b) => (a.created_at < b.created_at ? 1 : -1));
      if (made.length) {
        // made since the click, but perhaps not by it: a teammate, another tab or fraudctl may
        // have made one for the same actor and role meanwhile (and a click that never reached the
        // API made none), so the page says which key it means and asks, not tells, to revoke it
        const newest = made[0];
        for (const k of made) results.querySelector(`tr[data-key-id="${CSS.escape(k.key_id)}"]`)?.classList.add("unheld");
        said = alertBox(
          "div",
          h("p", {}, `A key for ${who} was created since you pressed Create key, but ${noAnswer(error)}, and a key's text is only in the answer that creates it.`),
          h(
            "p",
            {},
            `Unless a teammate, another tab or fraudctl made it, it is yours and nobody holds it: revoke it (the newest key of ${asked.actor}, role ${words(asked.role)}, created `,
            timeElement(newest.created_at),
            ", marked below), then create another.",
          ),
        );
      } else {
        said = alertBox("div", h("p", {}, `No key was created for ${who}: ${noAnswer(error)}, and no such key is listed below. Try again.`));
      }
    }
    replace(message, said);
    said.focus();
  }

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
      const revoked = async () => {
        if (createdKeyId === key.key_id) {
          replace(created); // no longer to hand over
          createdKeyId = null;
        }
        replace(message, h("p", { role: "status", class: "success", tabindex: "-1" }, `The key of ${key.actor} is revoked.`));
        await load();
        message.firstChild.focus(); // its row is gone
      };
      try {
        await api.delete(`/v1/keys/${segment(key.key_id)}`);
        if (mine) {
          context.signOut("You revoked the key you were signed in with. Sign in with another key.");
          return;
        }
        await revoked();
      } catch (error) {
        if (error.status !== 0) {
          replace(message, problem(error));
          return;
        }
        // no answer: the key may be revoked all the same. Its own: asked with it, outside the
        // console's sign-out (whose words would say a key was taken away and work lost), a 401
        // says this click revoked it
        if (mine) {
          const signedInWith = storedKey();
          try {
            await call("GET", "/v1/me", { key: signedInWith });
          } catch (check) {
            if (check.status === 401 && storedKey() === signedInWith) {
              context.signOut("You revoked the key you were signed in with. Sign in with another key.");
              return;
            }
          }
        }
        // the list read again says whether it is still there
        const items = await load();
        if (items && !items.some((k) => k.key_id === key.key_id)) {
          if (mine) {
            // revoked, though the edge let it in a moment longer: signed out as by the answer
            context.signOut("You revoked the key you were signed in with. Sign in with another key.");
            return;
          }
          await revoked();
          return;
        }
        const said = items
          ? alertBox("p", `The key of ${key.actor} was not revoked: ${noAnswer(error)}, and it is still listed below. Try again.`)
          : alertBox("p", `Whether the key of ${key.actor} was revoked is not known: ${noAnswer(error)}, and the keys could not be read again.`);
        replace(message, said);
        said.focus();
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
            ["Actor", "Role", "Created", "Last used", "Made by"].map((c) => h("th", { scope: "col" }, c)),
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
              h("td", { class: "wrap" }, madeBy(key, keys)),
              revokeCell(key),
            ),
          ),
        ),
      ),
    );
  }

  /** Which key made `key` (`created_by`): an operator's (fraudctl), a listed key by its actor, or a
   * key no longer listed (revoked) by its id: after a leak, the keys a revoked key made show so. */
  function madeBy(key, keys) {
    if (!key.created_by) return "An operator";
    const maker = keys.find((k) => k.key_id === key.created_by);
    return maker ? maker.actor : `Revoked key ${key.created_by}`;
  }

  let listed = []; // the key ids the list last showed (to tell a key made since)

  /** The keys read and shown: their list, or null when they could not be read (said in its place). */
  async function load() {
    replace(results, loading("keys"));
    try {
      const { items } = await api.get("/v1/keys");
      listed = items.map((k) => k.key_id);
      replace(results, items.length ? table(items) : empty("This program has no keys."));
      return items;
    } catch (error) {
      replace(results, problem(error));
      return null;
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
