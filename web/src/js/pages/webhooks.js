// Webhooks (admins only, SPEC 10 style over SPEC 6 `/v1/webhooks`): the program's webhooks (URL,
// notifications, enabled), `Save webhook` (a new webhook's signing secret shown once, with a copy
// button), `Rotate secret` (the new one shown once; the old one keeps signing for 24 hours),
// `Delete`, and each webhook's `Deliveries` with `Send again`, newest first, a page at a time.
//
// A secret lives in this page's DOM alone, until the page is left, another is shown or its webhook
// is deleted: never in storage, a URL or the list, which the API never gives it to.

import { api, noAnswer, segment } from "../api.js";
import { DEFAULT_PAGE_SIZE, alertBox, announce, askFirst, badIdentifier, empty, h, loading, overLimit, pageHeading, problem, replace, scrollingTable, timeElement, words } from "../dom.js";
import { changedSince, conflictOf, field, sayIdInUse, unsaved } from "../forms.js";
import { dropParam, href, navigate } from "../router.js";

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

export function mountWebhooks(container, route) {
  const target = route.parts[1] || null; // `#/webhooks/<id>`: that webhook's settings, to edit
  const message = h("div", { class: "form-message", "aria-live": "polite" });
  const formSlot = h("div", { class: "webhook-form-slot" });
  const secretSlot = h("div", { class: "new-key-slot" });
  const results = h("div", { class: "results" });
  const deliveries = h("div", { class: "results" });
  const saved = route.params.get("saved");
  if (saved) {
    // drawn with the page: said from the shell's live region (as a saved workflow is)
    replace(message, h("p", { class: "success" }, `Webhook ${saved} saved.`));
    announce(`Saved webhook ${saved}.`, message);
    dropParam("saved"); // said once: a reload shows the page, not a save again
  }

  // ---- New webhook, Edit webhook --------------------------------------------------------------
  /**
   * The webhook form: `shown` as the page read it (null: a new one, its ID typed, or one deleted
   * since), its boxes filled from `draft` (by default `shown`), `notice` above them. Its save says
   * what it replaces (`replaces`: the `updated_at` shown, null for none), so another admin's webhook
   * is never replaced unseen: a new one under an ID in use is refused (409) and says what that one
   * does, the form kept as typed; an edit of one changed since is drawn again as it is now, with what
   * the person had changed listed, not saved.
   */
  function webhookForm(shown, { id = shown?.id || "", draft = shown, notice = null } = {}) {
    const isNew = !shown;
    // no maxlength: it would cut a paste silently (and counts an emoji as two); past what the API
    // takes is said on submit, naming the box
    const webhookId = h("input", { id: "webhook-id", name: "id", required: true, autocomplete: "off", value: id });
    const url = h("input", { id: "webhook-url", name: "url", type: "url", required: true, autocomplete: "off", value: draft?.url || "" });
    const boxes = NOTIFICATIONS.map((name) =>
      h("input", { type: "checkbox", id: `webhook-event-${name}`, value: name, checked: Boolean(draft?.events?.includes(name)) }),
    );
    const enabled = h("input", { type: "checkbox", id: "webhook-enabled", checked: draft ? Boolean(draft.enabled) : true });
    const saveButton = h("button", { type: "submit", class: "primary" }, "Save webhook");
    const formMessage = h("div", { class: "form-message", "aria-live": "polite" });
    const events = () => boxes.filter((b) => b.checked).map((b) => b.value);
    // what the boxes say, in words: as drawn, and as typed when a save is refused
    const typed = () => [
      ["URL", url.value.trim() || "none"],
      ["Notifications", events().join(", ") || "none"],
      ["Enabled", enabled.checked ? "yes" : "no"],
    ];
    const before = typed();
    const heading = h("h2", { id: "webhook-form-heading", tabindex: "-1" }, isNew ? "New webhook" : `Edit webhook ${shown.id}`);
    const form = h(
      "form",
      {
        class: "stacked",
        "aria-labelledby": "webhook-form-heading",
        onsubmit: async (event) => {
          event.preventDefault();
          const refused =
            (isNew && (overLimit(webhookId, "Webhook ID", ID_MOST) || badIdentifier(webhookId.value.trim(), "A webhook ID"))) ||
            overLimit(url, "URL", URL_MOST);
          if (refused) {
            replace(formMessage, refused);
            refused.focus();
            return;
          }
          saveButton.disabled = true;
          replace(formMessage, h("p", { role: "status" }, "Saving the webhook…"));
          const webhook = isNew ? webhookId.value.trim() : shown.id;
          const body = {
            url: url.value.trim(),
            events: events(),
            enabled: enabled.checked,
            // a new webhook, or a change of the one shown: never of one made or changed since
            replaces: shown ? shown.updated_at : null,
          };
          try {
            const answer = await api.put(`/v1/webhooks/${segment(webhook)}`, body);
            if (!isNew) {
              navigate(href("webhooks", { saved: answer.id }));
              return;
            }
            draw(null); // the next new webhook starts empty; this one is in the list, with Edit
            replace(message, h("p", { role: "status", class: "success" }, `Webhook ${answer.id} saved.`));
            if (answer.secret) showSecret(answer.id, `Signing secret of ${answer.id}`, answer.secret);
            await load();
          } catch (error) {
            // said where the form is, and focused there (the button, disabled meanwhile, dropped it)
            const refused = () => replace(formMessage, problem(error)).firstChild.focus();
            if (error.status === 0) await lostSave(webhook, body, error);
            else if (error.status !== 409) refused();
            // a new one's 409 is its ID in use, or the program's most webhooks (said as the API says it)
            else if (conflictOf(error) === "refused") refused();
            else if (isNew) await takenId(webhook, error);
            else await changedMeanwhile(changedSince(before, typed()), { id: shown.id, ...body });
          } finally {
            saveButton.disabled = false;
          }
        },
      },
      notice, // why the form is drawn again (a save refused), above what it now shows
      isNew ? field("Webhook ID", webhookId, "Your name for it: an ID in use is refused (Edit that webhook to change it)") : null,
      field("URL", url, "https:// to a public address; receivers verify X-Signature with the signing secret"),
      h(
        "fieldset",
        { class: "checks" },
        h("legend", {}, "Notifications"),
        boxes.map((box) => h("div", { class: "check" }, box, h("label", { for: box.id }, box.value))),
      ),
      h("div", { class: "check" }, enabled, h("label", { for: enabled.id }, "Enabled")),
      h("div", { class: "buttons" }, saveButton, isNew ? null : h("a", { href: href("webhooks"), class: "button-link" }, "Cancel")),
      formMessage,
    );

    /** A save whose answer never came: the webhook read again says whether it was saved. A new
     * one's signing secret was only in that answer: made, it has a secret nobody holds, so the
     * admin is told to rotate it before the receiver is given one. */
    async function lostSave(webhook, body, error) {
      let now;
      try {
        now = await api.get(`/v1/webhooks/${segment(webhook)}`);
      } catch (again) {
        if (again.status !== 404) {
          const said = alertBox("p", `Whether webhook ${webhook} was saved is not known: ${noAnswer(error)}, and it could not be read again. Your webhook is kept above as you typed it.`);
          replace(formMessage, said);
          said.focus();
          return;
        }
        now = null; // not there: not made (a new one), or deleted meanwhile (an edit)
      }
      const asSent = now && now.url === body.url && now.enabled === body.enabled && now.events.join() === body.events.join();
      const changed = now && now.updated_at !== body.replaces; // a new one: there at all
      if (asSent && changed) {
        if (!isNew) {
          navigate(href("webhooks", { saved: webhook }));
          return;
        }
        draw(null); // made: in the list, with Edit and Rotate secret
        if (secretOf === webhook) replace(secretSlot); // a secret shown before is not this one's
        await load();
        const said = alertBox(
          "div",
          h("p", {}, `Webhook ${webhook} was saved, but ${noAnswer(error)}, and its signing secret was only in that answer: it was not shown, and nobody holds it.`),
          h("p", {}, `Before it is used, rotate its secret (Rotate secret, in its row below) and give the receiver the new one.`),
        );
        replace(message, said);
        said.focus();
        return;
      }
      if (!now || !changed) {
        const said = alertBox(
          "p",
          `Webhook ${webhook} was not saved: ${noAnswer(error)}, and it ${now ? "is unchanged" : "does not exist"}. Your webhook is kept above as you typed it: try again.`,
        );
        replace(formMessage, said);
        said.focus();
        return;
      }
      // there, but not as sent: made or changed by another admin meanwhile
      if (isNew) await takenId(webhook, error);
      else await changedMeanwhile(changedSince(before, typed()), { id: webhook, ...body });
    }

    /** A new webhook under an ID in use (made by another admin, perhaps meanwhile): what that one
     * does, a link to edit it; the API's words when it cannot be read. */
    function takenId(webhook, error) {
      return sayIdInUse(formMessage, {
        noun: "webhook",
        id: webhook,
        path: `/v1/webhooks/${segment(webhook)}`,
        link: h("a", { href: href(["webhooks", webhook]) }, "edit it"),
        describe: (there) =>
          there ? h("p", {}, "That one posts ", h("bdi", {}, there.events.join(", ")), " to ", h("bdi", {}, there.url), there.enabled ? "." : " (disabled).") : h("p", {}, error.message),
      });
    }

    return { form, heading };
  }

  // the webhook the form edits, as shown: this page's own rotation of its secret moves its
  // `updated_at` (`ownChange`), which a save then sends, so the rotation is not taken for another
  // admin's change
  let editing = null;

  /** After this page changed webhook `id` itself (its secret rotated): the form's `updated_at` is
   * the webhook's now, when what the form shows of it is still what it is (changed otherwise, by
   * someone else too, the save is refused and says so). */
  async function ownChange(id) {
    if (!editing || editing.id !== id) return;
    try {
      const now = await api.get(`/v1/webhooks/${segment(id)}`);
      const same = now.url === editing.url && now.enabled === editing.enabled && now.events.join() === editing.events.join();
      if (same) editing.updated_at = now.updated_at;
    } catch {
      // unreadable now: a save says what happened
    }
  }

  function draw(shown, options = {}) {
    editing = shown;
    const { form, heading } = webhookForm(shown, options);
    replace(formSlot, h("section", { class: "card", "aria-labelledby": "webhook-form-heading" }, heading, form));
    return heading;
  }

  /** An edit refused because the webhook was changed or deleted since it was shown: the webhook as
   * it is now, under a message that says so and what the person had changed (the form shows the
   * values now, so a second save cannot undo the other admin's change unseen); deleted, the form
   * stays as typed, as a new webhook of that ID. */
  async function changedMeanwhile(changes, typed) {
    const said = (text, ...more) => alertBox("div", h("p", {}, text), ...more);
    let notice;
    try {
      const now = await api.get(`/v1/webhooks/${segment(typed.id)}`);
      notice = said(
        `Webhook ${typed.id} was changed since you opened it (by another admin, or in another tab), so nothing was saved. It is shown below as it is now.`,
        unsaved(changes),
      );
      draw(now, { notice });
    } catch (error) {
      if (error.status !== 404) {
        notice = said(`Webhook ${typed.id} changed since you opened it, so nothing was saved, and it cannot be read now: ${error.message}`, unsaved(changes));
        replace(formSlot, notice);
      } else {
        notice = said(
          `Webhook ${typed.id} was deleted since you opened it (by another admin, or in another tab), so nothing was saved. Your webhook is kept below as you typed it: Save webhook makes it again, with a new signing secret.`,
        );
        draw(null, { id: typed.id, draft: typed, notice });
      }
    }
    await load();
    notice.focus();
  }

  // the webhook whose secret the card shows: deleted here, the card goes with it
  let secretOf = null;

  /** A secret of webhook `id`'s answer, this once: selectable, with a copy button. */
  function showSecret(id, title, secret, note) {
    secretOf = id;
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
      const known = hook.updated_at; // a rotation moves it
      try {
        const answer = await api.post(`/v1/webhooks/${segment(hook.id)}/rotate-secret`);
        await ownChange(hook.id);
        refreshed(hook);
        const until = new Date(answer.previous_secret_valid_until).toLocaleString();
        showSecret(hook.id, `New signing secret of ${hook.id}`, answer.secret, `The old secret keeps signing until ${until}: give the receiver this one before then. It is shown only this once.`);
      } catch (error) {
        if (error.status === 0) {
          await lostRotation(hook, known, error);
          return;
        }
        const gone = error.status === 404; // deleted meanwhile: the list as it is now, without it
        replace(message, gone ? alertBox("p", `Webhook ${hook.id} was deleted (by another admin, or in another tab), so no secret was made.`) : problem(error));
        if (gone) await load();
        message.firstChild.focus(); // the button, disabled meanwhile, dropped it
      } finally {
        rotate.disabled = false;
      }
    });
    const show = h("button", { type: "button" }, "Deliveries");
    show.addEventListener("click", () => loadDeliveries(hook.id));
    const remove = h("button", { type: "button", class: "danger", "aria-label": `Delete ${hook.id}` }, "Delete");
    // its notifications stop at once: asked first, as revoking a key is
    const controls = askFirst(remove, `Delete ${hook.id}? Its notifications stop at once. `, "Confirm delete", async () => {
      let said;
      try {
        await api.delete(`/v1/webhooks/${segment(hook.id)}`);
        said = h("p", { role: "status", class: "success" }, `Webhook ${hook.id} deleted.`);
      } catch (error) {
        if (error.status === 0) {
          // no answer: it may be deleted all the same. Read again: gone, it was (by this click, or
          // meanwhile by another admin: either way gone); there, it was not
          const there = await stillThere(hook.id);
          if (there === false) said = h("p", { role: "status", class: "success" }, `Webhook ${hook.id} deleted.`);
          else {
            said = alertBox(
              "p",
              there
                ? `Webhook ${hook.id} was not deleted: ${noAnswer(error)}, and it is still listed below. Try again.`
                : `Whether webhook ${hook.id} was deleted is not known: ${noAnswer(error)}, and it could not be read again.`,
            );
            replace(message, said);
            await load();
            said.focus();
            return;
          }
        } else if (error.status !== 404) {
          replace(message, problem(error));
          return;
        } else {
          // deleted meanwhile: gone as if deleted here, its row too
          said = alertBox("p", `Webhook ${hook.id} was deleted already (by another admin, or in another tab).`);
        }
      }
      if (editing && editing.id === hook.id) draw(null); // deleted: no longer to edit
      if (secretOf === hook.id) replace(secretSlot); // nor its secret to give
      replace(message, said);
      replace(deliveries);
      await load();
      if (said.getAttribute("role") === "alert") said.focus(); // its row, and the button, are gone
    });
    // its stored settings in the form, to change (`#/webhooks/<id>`)
    const edit = h("a", { href: href(["webhooks", hook.id]), class: "button-link", "aria-label": `Edit ${hook.id}` }, "Edit");
    return h("td", { class: "row-actions" }, edit, " ", rotate, " ", show, " ", ...controls);
  }

  /** Webhook `id` read again: true (there), false (gone: 404), null (could not be read). */
  async function stillThere(id) {
    try {
      await api.get(`/v1/webhooks/${segment(id)}`);
      return true;
    } catch (error) {
      return error.status === 404 ? false : null;
    }
  }

  /** The row's webhook as it is now after this page's own rotation, so that a later rotation whose
   * answer is lost is told from this one (its `updated_at`). */
  function refreshed(hook) {
    api
      .get(`/v1/webhooks/${segment(hook.id)}`)
      .then((now) => {
        hook.updated_at = now.updated_at;
      })
      .catch(() => {});
  }

  /** A `Rotate secret` whose answer never came: the webhook read again says whether its secret was
   * rotated (its `updated_at` moved from `known`). Rotated, the new secret was only in that answer:
   * nobody holds it, the old one signs for 24 hours more, so the admin rotates again to get one. */
  async function lostRotation(hook, known, error) {
    let said;
    try {
      const now = await api.get(`/v1/webhooks/${segment(hook.id)}`);
      if (now.updated_at !== known) {
        hook.updated_at = now.updated_at;
        await ownChange(hook.id);
        said = alertBox(
          "div",
          h("p", {}, `The secret of webhook ${hook.id} was rotated, but ${noAnswer(error)}, and the new secret was only in that answer: it was not shown, and nobody holds it.`),
          h("p", {}, "The old secret keeps signing for 24 hours: press Rotate secret again and give the receiver the secret it shows."),
        );
      } else {
        said = alertBox("p", `The secret of webhook ${hook.id} was not rotated: ${noAnswer(error)}, and the webhook is unchanged. Try again.`);
      }
    } catch (again) {
      said =
        again.status === 404
          ? alertBox("p", `Webhook ${hook.id} was deleted (by another admin, or in another tab), so no secret was made.`)
          : alertBox("p", `Whether the secret of webhook ${hook.id} was rotated is not known: ${noAnswer(error)}, and it could not be read again.`);
      if (again.status === 404) await load();
    }
    replace(message, said);
    said.focus();
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
              h(
                "td",
                {},
                hook.enabled ? "Enabled" : `Disabled${hook.disabled_reason ? `: ${hook.disabled_reason}` : ""}`,
                // its receiver has not answered for a while: its deliveries wait, one try finding
                // out whether it is back (SPEC 6; Edit, Rotate secret or Send again try it at once)
                hook.receiver_silent_since
                  ? h("span", { class: "silent-receiver" }, " — no answer from its receiver since ", timeElement(hook.receiver_silent_since))
                  : null,
                // its receiver takes 3 seconds or more a try: tries to the program's slow receivers go
                // one at a time, so a burst reaches it more slowly (SPEC 6; fast tries end it after
                // 10 minutes). Said while it is sent to: a disabled one is sent nothing, a silent
                // one's line above says more
                hook.enabled && hook.receiver_slow_since && !hook.receiver_silent_since
                  ? h("span", { class: "slow-receiver" }, " — its receiver has been slow since ", timeElement(hook.receiver_slow_since), " (3 seconds or more a try): sent one try at a time")
                  : null,
              ),
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
  // ("" for the newest); `Older deliveries` goes on, `Newest deliveries` back to the start. `said`:
  // what a `Send again` did, under the heading and focused, where the person is (the page's message
  // is a screen or more above on a phone)
  async function loadDeliveries(id, cursor = "", said = null) {
    const heading = h("h2", { id: "deliveries-heading", tabindex: "-1" }, `Deliveries of ${id}`);
    replace(deliveries, heading, said, loading("deliveries"));
    try {
      const { items, next_cursor: next } = await api.get(`/v1/webhooks/${segment(id)}/deliveries`, { limit: DEFAULT_PAGE_SIZE, cursor });
      const older = next ? h("button", { type: "button", onclick: () => loadDeliveries(id, next) }, "Older deliveries") : null;
      const newest = cursor ? h("button", { type: "button", onclick: () => loadDeliveries(id) }, "Newest deliveries") : null;
      replace(
        deliveries,
        heading,
        said,
        items.length ? deliveryTable(id, items, cursor) : empty(cursor ? "No older deliveries." : "No deliveries yet."),
        older || newest ? h("nav", { class: "pager", "aria-label": `Pages of the deliveries of ${id}` }, newest, older) : null,
      );
    } catch (error) {
      replace(deliveries, heading, said, problem(error));
    }
    (said || heading).focus();
  }

  /** Why `Send again` was refused: a webhook disabled (by another admin, or its receiver's 410 Gone),
   * or no longer subscribed to the delivery's notification, said with what to do here, where the
   * API's words name the PUT; otherwise as the API says it. */
  async function refusedAgain(id, error, type) {
    if (error.status === 409) {
      try {
        const hook = await api.get(`/v1/webhooks/${segment(id)}`);
        if (!hook.enabled) {
          const why = hook.disabled_reason ? ` (${hook.disabled_reason})` : "";
          return alertBox("p", `Webhook ${id} is disabled${why}, so nothing was sent: `, h("a", { href: href(["webhooks", id]) }, "edit it"), ", tick Enabled and save, then Send again.");
        }
        if (!hook.events.includes(type)) {
          return alertBox("p", `Webhook ${id} no longer subscribes to ${type}, so nothing was sent: `, h("a", { href: href(["webhooks", id]) }, "edit it"), `, tick ${type} and save, then Send again.`);
        }
      } catch {
        // unreadable now: the API's words
      }
    }
    return problem(error);
  }

  // `held_back_because` of a pending delivery (GET /v1/webhooks/{id}/deliveries), in words
  const HELD_BACK = {
    no_longer_subscribed: "Fails at its next try: the webhook no longer subscribes to it.",
    webhook_disabled: "Waiting: the webhook is disabled.",
    receiver_silent: "Waiting: its receiver does not answer; one try at a time finds out when it is back.",
    receiver_slow: "Waiting its turn: its receiver is slow; sent one try at a time.",
  };

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
                await loadDeliveries(id, cursor, h("p", { role: "status", class: "success", tabindex: "-1" }, `Delivery ${d.id} is being sent again.`));
              } catch (error) {
                again.disabled = false;
                const said = await refusedAgain(id, error, d.type);
                await load(); // disabled or deleted meanwhile: its row as it is now
                await loadDeliveries(id, cursor, said); // focused there: disabled meanwhile, the button dropped it
              }
            });
            return h(
              "tr",
              {},
              h("th", { scope: "row", class: "wrap" }, d.id),
              h("td", { class: "wrap" }, d.type),
              h(
                "td",
                {},
                words(d.status),
                // failed without a try of its own: unsubscribed from, or disabled until its retries ended
                d.stopped_because ? h("div", { class: "muted" }, `Stopped: ${d.stopped_because}.`) : null,
                // pending, and waiting past its next try's time: why, as the webhook stands
                Object.hasOwn(HELD_BACK, d.held_back_because ?? "") ? h("div", { class: "muted" }, HELD_BACK[d.held_back_because]) : null,
              ),
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
    formSlot,
    secretSlot,
    message,
    results,
    deliveries,
  );
  load();
  if (!target) {
    draw(null);
  } else {
    replace(formSlot, loading("the webhook"));
    api
      .get(`/v1/webhooks/${segment(target)}`)
      .then((hook) => draw(hook))
      .catch((error) => replace(formSlot, problem(error)));
  }
  return {};
}
