// Campaigns: the program's campaigns by ID, a page at a time (GET /v1/loyalty/campaigns,
// "#/campaigns?cursor=..."), a campaign's caps and behaviour (PUT /v1/loyalty/campaigns/{id}) and
// its counters against those caps (GET the same path). A campaign is opened from the list or by its
// ID, or created.

import { api, noAnswer, segment } from "../api.js";
import { alertBox, announce, badIdentifier, count, h, loading, oneAtATime, pageHeading, problem, replace, scrollingTable, timeElement, whenExactly, words } from "../dom.js";
import { changedSince, field, select, timeInput, unsaved } from "../forms.js";
import { LIMIT_BEHAVIORS } from "../loyalty.js";
import { dropParam, href, navigate } from "../router.js";

function counters(campaign) {
  const total = Number(campaign.total_cap ?? 0);
  const granted = Number(campaign.granted_total ?? 0);
  const share = total > 0 ? Math.round((granted / total) * 100) : 0;
  return h(
    "section",
    { class: "card", "aria-labelledby": "counters-heading" },
    h("h2", { id: "counters-heading" }, "Counters"),
    h(
      "dl",
      { class: "figures" },
      h("div", {}, h("dt", {}, "Granted"), h("dd", {}, `${count(granted)} of ${count(total)} points`)),
      h("div", {}, h("dt", {}, "Customers"), h("dd", {}, count(campaign.customers ?? 0))),
      h("div", {}, h("dt", {}, "Per-customer cap"), h("dd", {}, `${count(campaign.per_customer_cap)} points`)),
      h("div", {}, h("dt", {}, "Limit behaviour"), h("dd", {}, words(campaign.limit_behavior))),
    ),
    h(
      "p",
      {},
      h("label", { for: "cap-progress" }, `Share of the total cap granted: ${share}%`),
      h("progress", { id: "cap-progress", max: String(Math.max(total, 1)), value: String(Math.min(granted, total)) }),
    ),
    h(
      "p",
      { class: "muted" },
      "Runs ",
      campaign.starts_at ? ["from ", timeElement(campaign.starts_at, whenExactly), " "] : "",
      campaign.ends_at ? ["until ", timeElement(campaign.ends_at, whenExactly)] : campaign.starts_at ? "" : "without date limits",
      ".",
    ),
  );
}

const CAMPAIGN_PAGE = 25;

/** One page of the program's campaigns, by ID, each linking to its counters and settings. */
async function campaignList(cursor) {
  const answer = await api.get("/v1/loyalty/campaigns", { limit: CAMPAIGN_PAGE, cursor });
  const items = answer.items || [];
  const next = answer.next_cursor;
  if (!items.length && cursor) {
    return h("p", { class: "state empty" }, "No more campaigns. ", h("a", { href: href("campaigns") }, "First campaigns"));
  }
  if (!items.length) return h("p", { class: "state empty" }, "No campaign yet. Create one with New campaign.");
  return h(
    "section",
    { "aria-labelledby": "campaign-list-heading" },
    h("h2", { id: "campaign-list-heading" }, "The program's campaigns"),
    scrollingTable(
      "Campaign list",
      h(
        "table",
        { class: "data compact" },
        h("caption", { class: "visually-hidden" }, "Campaigns by ID, with their caps"),
        h("thead", {}, h("tr", {}, ["Campaign", "Total cap", "Per-customer cap", "Limit behaviour", "Runs", "Changed"].map((c) => h("th", { scope: "col" }, c)))),
        h(
          "tbody",
          {},
          items.map((c) =>
            h(
              "tr",
              {},
              h("th", { scope: "row" }, h("a", { href: href(["campaigns", c.id]) }, c.id)),
              h("td", { class: "num" }, count(c.total_cap)),
              h("td", { class: "num" }, count(c.per_customer_cap)),
              h("td", {}, words(c.limit_behavior)),
              h(
                "td",
                {},
                c.starts_at ? ["from ", timeElement(c.starts_at, whenExactly), " "] : "",
                c.ends_at ? ["until ", timeElement(c.ends_at, whenExactly)] : c.starts_at ? "" : "without date limits",
              ),
              h("td", {}, timeElement(c.updated_at)),
            ),
          ),
        ),
      ),
    ),
    h(
      "nav",
      { class: "pager", "aria-label": "Campaign pages" },
      cursor ? h("a", { href: href("campaigns") }, "First campaigns") : null,
      next ? h("a", { href: href("campaigns", { cursor: next }), rel: "next" }, "More campaigns") : null,
    ),
  );
}

/**
 * A campaign's form: `existing` as the page read it (null: none of this `id` yet; no `id`: a new
 * campaign, its ID typed). Its save says what it replaces (`replaces`: the `updated_at` shown, null
 * for none), so a teammate's change made since is never undone unseen: refused (409), a new one
 * under a taken ID says so and keeps the form as typed, otherwise `onConflict(changes, wasShown)`
 * is given the boxes the person changed, to show the campaign as it is now and say them.
 */
function campaignForm(id, existing, onSaved, onConflict) {
  const isNew = !id;
  const idInput = h("input", { id: "campaign-id", name: "id", required: true, autocomplete: "off", value: id || "" });
  const total = h("input", { id: "total-cap", name: "total_cap", type: "number", min: "0", step: "1", required: true, value: existing?.total_cap ?? "" });
  const perCustomer = h("input", { id: "per-customer-cap", name: "per_customer_cap", type: "number", min: "0", step: "1", required: true, value: existing?.per_customer_cap ?? "" });
  const behavior = select("limit-behavior", LIMIT_BEHAVIORS, existing?.limit_behavior || "soft");
  // each sent back exactly as the API gave it unless the person changes it
  const { input: starts, read: startsAt } = timeInput({ id: "starts-at", name: "starts_at" }, existing?.starts_at);
  const { input: ends, read: endsAt } = timeInput({ id: "ends-at", name: "ends_at" }, existing?.ends_at);
  const message = h("div", { class: "form-message", "aria-live": "polite" });
  const points = (input) => (input.value === "" ? "none" : `${count(input.value)} points`);
  const moment = (read) => (read() ? whenExactly(read()) : "none");
  // what the boxes say, in words: as drawn, and as typed when a save is refused
  const typed = () => [
    ["Total cap", points(total)],
    ["Per-customer cap", points(perCustomer)],
    ["Limit behaviour", words(behavior.value)],
    ["Starts at", moment(startsAt)],
    ["Ends at", moment(endsAt)],
  ];
  const shown = typed();
  // one save at a time: a double click sends one request
  const save = oneAtATime(() => message.parentElement, async () => {
    const campaignId = isNew ? idInput.value.trim() : id;
    const refused = isNew && badIdentifier(campaignId, "A campaign ID");
    if (refused) {
      replace(message, refused);
      refused.focus();
      return;
    }
    const body = {
      total_cap: Number(total.value),
      per_customer_cap: Number(perCustomer.value),
      limit_behavior: behavior.value,
      // a create or a change of the campaign shown, never of one made or changed since
      replaces: existing ? existing.updated_at : null,
    };
    const startsWhen = startsAt();
    const endsWhen = endsAt();
    if (startsWhen) body.starts_at = startsWhen;
    if (endsWhen) body.ends_at = endsWhen;
    replace(message, h("p", { role: "status" }, "Saving…"));
    try {
      await api.put(`/v1/loyalty/campaigns/${segment(campaignId)}`, body);
      onSaved(campaignId);
    } catch (error) {
      if (error.status === 0) {
        await lostSave(campaignId, body, error);
      } else if (error.status !== 409) {
        replace(message, problem(error));
      } else if (isNew) {
        // a new campaign under a taken ID: nothing changed; the form stays as typed, for another ID
        const said = alertBox(
          "p",
          `A campaign ${campaignId} exists already, so nothing was saved: `,
          h("a", { href: href(["campaigns", campaignId]) }, "open it"),
          " to change its caps, or choose another ID.",
        );
        replace(message, said);
        said.focus();
      } else {
        replace(message);
        await onConflict(changedSince(shown, typed()), Boolean(existing));
      }
    }
  });
  /** A save whose answer never came: the campaign read again says whether it was saved (changed
   * from what the form replaced, to what it sent), not saved (as it was), or changed by another. */
  async function lostSave(campaignId, body, error) {
    let now;
    try {
      now = await api.get(`/v1/loyalty/campaigns/${segment(campaignId)}`);
    } catch (again) {
      if (again.status !== 404) {
        const said = alertBox("p", `Whether campaign ${campaignId} was saved is not known: ${noAnswer(error)}, and it could not be read again. The form is kept as you typed it.`);
        replace(message, said);
        said.focus();
        return;
      }
      now = null;
    }
    const changed = now && (now.updated_at ?? null) !== body.replaces;
    const asSent =
      now &&
      Number(now.total_cap) === body.total_cap &&
      Number(now.per_customer_cap) === body.per_customer_cap &&
      now.limit_behavior === body.limit_behavior;
    if (changed && asSent) {
      onSaved(campaignId);
    } else if (!changed) {
      const said = alertBox("p", `Campaign ${campaignId} was not saved: ${noAnswer(error)}, and it ${now ? "is unchanged" : "does not exist"}. The form is kept as you typed it: try again.`);
      replace(message, said);
      said.focus();
    } else if (isNew) {
      const said = alertBox("p", `A campaign ${campaignId} exists already, not as you typed it, so yours was not saved: `, h("a", { href: href(["campaigns", campaignId]) }, "open it"), " to change its caps, or choose another ID.");
      replace(message, said);
      said.focus();
    } else {
      replace(message);
      await onConflict(changedSince(shown, typed()), Boolean(existing));
    }
  }

  const form = h(
    "form",
    {
      class: "card stacked",
      "aria-labelledby": "campaign-form-heading",
      onsubmit: (event) => {
        event.preventDefault();
        save();
      },
    },
    h("h2", { id: "campaign-form-heading" }, existing ? "Edit campaign" : "New campaign"),
    isNew ? field("Campaign ID", idInput) : null,
    field("Total cap", total, "Bonus points the campaign grants in all."),
    field("Per-customer cap", perCustomer, "Bonus points one customer can receive."),
    field("Limit behaviour", behavior),
    field("Starts at", starts, "Optional; your browser's time zone."),
    field("Ends at", ends, "Optional; your browser's time zone."),
    h("div", { class: "buttons" }, h("button", { type: "submit", class: "primary" }, "Save campaign")),
    message,
  );
  return form;
}

export function mountCampaigns(container, route) {
  const target = route.parts[1] || "";
  // a new campaign's form: a parameter, as any path after `#/campaigns/` is a campaign's ID, "new" too
  const creating = !target && route.params.has("new");
  const lookup = h("input", { id: "campaign-lookup", name: "campaign", autocomplete: "off", required: true, value: target });
  const finder = h(
    "form",
    {
      role: "search",
      class: "toolbar",
      "aria-label": "Open a campaign",
      onsubmit: (event) => {
        event.preventDefault();
        if (lookup.value.trim()) navigate(href(["campaigns", lookup.value.trim()]));
      },
    },
    h("div", { class: "field" }, h("label", { for: "campaign-lookup" }, "Campaign ID"), lookup),
    h("button", { type: "submit", id: "campaign-open" }, "Open"),
    h("a", { href: href("campaigns", { new: "1" }), class: "button-link" }, "New campaign"),
  );
  // not a live region: what is written here is said once, from the shell's (`announce`: a message
  // drawn with the page is not read from its own region, one written into it again would be read
  // twice), or is an alert
  const flash = h("div", { class: "form-message" });
  const savedMessage = () => {
    replace(flash, h("p", { class: "success" }, "Campaign saved."));
    announce("Saved the campaign.", flash);
  };
  if (route.params.get("saved")) {
    savedMessage();
    dropParam("saved"); // said once: a reload shows the campaign, not a save again
  }
  const result = h("div", { class: "results" });
  const back = h("p", {}, h("a", { href: href("campaigns") }, "Open another campaign"));
  replace(container, pageHeading("Campaigns"), creating ? back : finder, flash, result);

  /** The campaign read and shown; `say`: what was opened is said aloud, for the person who typed its
   * ID and is still in the box (not after a save or a refusal, whose message says what came of it;
   * a campaign not found is said by its alert). */
  function showExisting({ say = true } = {}) {
    replace(result, loading("the campaign"));
    return api
      .get(`/v1/loyalty/campaigns/${segment(target)}`)
      .then((campaign) => {
        replace(
          result,
          h("h2", { class: "subject" }, `Campaign ${target}`),
          counters(campaign),
          campaignForm(target, campaign, saved, changedMeanwhile),
        );
        if (say) {
          const granted = `${count(campaign.granted_total ?? 0)} of ${count(campaign.total_cap ?? 0)} points granted`;
          announce(`Opened campaign ${target}: ${granted}.`, result);
        }
      })
      .catch((error) => {
        const notFound = error.status === 404;
        // `#/campaigns/new` was the new campaign's address: with no campaign "new", it still is
        if (notFound && target === "new") return replace(result, campaignForm(null, null, saved));
        replace(
          result,
          problem(error),
          notFound ? h("p", {}, `There is no campaign ${target} yet. Create it:`) : null,
          notFound ? campaignForm(target, null, saved, changedMeanwhile) : null,
        );
      });
  }

  /** A save refused because the campaign was changed, or made, since it was shown: the campaign as
   * it is now, under a message that says so and what the person had changed (the form shows the
   * values now, so a second save cannot undo the teammate's change unseen). */
  async function changedMeanwhile(changes, wasShown) {
    const what = wasShown ? "was changed since you opened it" : "was made since you found none";
    const said = alertBox(
      "div",
      h("p", {}, `Campaign ${target} ${what} (by a teammate, or in another tab), so nothing was saved. It is shown below as it is now.`),
      unsaved(changes),
    );
    replace(flash, said);
    await showExisting({ say: false });
    said.focus();
  }

  function saved(id) {
    const next = href(["campaigns", id], { saved: "1" });
    if (window.location.hash === next) {
      savedMessage(); // the same address: no navigation, so show the new counters here
      showExisting({ say: false });
    } else {
      navigate(next);
    }
  }

  if (!target && !creating) {
    replace(result, loading("the campaigns"));
    const cursor = route.params.get("cursor") || "";
    campaignList(cursor)
      .then((list) => replace(result, list))
      .catch((error) => replace(result, problem(error), cursor ? h("p", {}, h("a", { href: href("campaigns") }, "First campaigns")) : null));
  } else if (creating) {
    replace(result, campaignForm(null, null, saved));
  } else {
    showExisting({ say: !route.params.get("saved") }); // a save says what came of it
  }
  return {};
}

