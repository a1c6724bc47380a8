// The drawer of one case (GET /v1/cases/{id}): a modal <dialog>, so focus moves into it, stays in
// it, and Escape closes it; the page that opened it puts focus back where it was. It reads the
// names of CaseDetail in the API's OpenAPI document, and no others.

import { api, segment } from "../api.js";
import { amounts, h, holdAmount, loading, money, oneAtATime, overLimit, problem, reasonItem, replace, scrollingTable, statusMarker, timeElement, words, detailText } from "../dom.js";
import { href, navigate } from "../router.js";

const REASON_MOST = 2000; // a dispute's reason, as the API takes it (`inputs.TEXT_MAX`)

const STATUS_WORDS = {
  open: "New",
  disputed: "Disputed",
  approved: "Approved",
  declined: "Declined",
  removed: "Removed",
};

/** A list of labels (referral keys, segments, tags) in one line; none is "—". */
function listText(values) {
  return values?.length ? values.join(", ") : "—";
}

function detailsList(detail) {
  const party = detail.partner ?? detail.customer; // the subject's profile (PartyView)
  const rows = [
    ["Status", [statusMarker(detail.status), " ", STATUS_WORDS[detail.status] || words(detail.status)]],
    // the name whole: the title pinned above shows its first lines only (a 200-letter name would
    // fill a phone's screen with the title, leaving no room for the case)
    ["Name", h("bdi", {}, detail.subject.name)],
    ["Subject", detail.subject.type === "customer" ? "Referred customer" : "Partner"],
    // the id tells apart subjects whose names look alike (a Cyrillic "А" for a Latin "A")
    [detail.subject.type === "customer" ? "Customer ID" : "Partner ID", detail.subject.id],
    ["Group", party?.group || "—"],
    ["Team", party?.team || "—"],
    ["Keys", listText(party?.keys)],
    ["Revenue", amounts(party?.revenue)],
    ["Segments", listText(party?.segments)],
    ["Tags", listText(party?.tags)],
    ["Sign-up date", timeElement(party?.signup_at)],
    ["Flagged date", timeElement(detail.flagged_at)],
    ["Hold amount", holdAmount(detail)],
    ["Disputed date", timeElement(detail.disputed_at)],
    ["Dispute reason", detail.dispute_reason || "—"],
    ["Resolved date", timeElement(detail.resolved_at)],
  ];
  return h(
    "dl",
    { class: "details" },
    rows.map(([term, value]) => h("div", {}, h("dt", {}, term), h("dd", {}, value))),
  );
}

function heldRewardsOf(detail) {
  return detail.held_reward_list.filter((r) => r.status === "on_hold");
}

/** The held rewards with those approved in this drawer back in their rows (newest first, as listed):
 * a row approved stays, saying so, so the next reward's `Approve` never moves under the pointer. */
function withApproved(held, approvedHere) {
  const listed = new Set(held.map((r) => r.id));
  const kept = [...approvedHere.values()].filter((r) => !listed.has(r.id));
  return [...held, ...kept].sort((a, b) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0));
}

export function openDrawer({ caseId, onClose, onChanged }) {
  let silent = false;
  const approvedHere = new Map(); // reward id -> the reward, approved in this drawer (`withApproved`)
  const message = h("div", { class: "form-message", "aria-live": "polite" });
  const body = h("div", { class: "drawer-body" }, loading("the case"));
  const title = h("h2", { id: "drawer-title", tabindex: "-1" }, "Case");
  const closeButton = h("button", { type: "button", class: "close", onclick: () => dialog.close() }, "Close");
  // the message is pinned under the title: an action's outcome is seen wherever the button was
  const dialog = h(
    "dialog",
    { class: "drawer", "aria-labelledby": "drawer-title" },
    h("div", { class: "drawer-top" }, h("div", { class: "drawer-head" }, title, closeButton), message),
    body,
  );
  // Escape closes a dialog: not while a form in it holds what a person typed (a dispute's reason),
  // which would be lost with it. The keydown is held back (so no `cancel` comes of it), and a
  // `cancel` all the same (another way to close it) too; Close still closes.
  const typing = () => [...body.querySelectorAll("form:not([hidden]) textarea")].some((box) => box.value.trim());
  const keepTyped = (event) => {
    if (!typing()) return false;
    event.preventDefault();
    replace(message, h("p", { role: "status" }, "What you typed is kept: Escape does not close the case while a form holds text. Press Close to leave without sending it."));
    return true;
  };
  dialog.addEventListener("keydown", (event) => {
    if (event.key === "Escape") keepTyped(event);
  });
  dialog.addEventListener("cancel", keepTyped);
  dialog.addEventListener("close", () => {
    dialog.remove();
    if (!silent) onClose();
  });
  document.body.append(dialog);
  dialog.showModal();
  title.focus();

  // one action at a time: a double click on `Confirm removal` sends one removal
  const act = oneAtATime(body, async (work, done) => {
    replace(message, h("p", { role: "status" }, "Working…"));
    try {
      await work();
      replace(message, h("p", { role: "status", class: "success" }, done));
      await load();
      title.focus(); // the form that had focus is gone: keep keyboard users inside the drawer, at its top
      onChanged();
    } catch (error) {
      replace(message, problem(error));
      if (error.status === 409) {
        // the case changed meanwhile (another tab, a teammate): show it as it is now, with the
        // actions it takes now, under the refusal; the form that had focus is gone, as on success
        await load();
        title.focus();
        onChanged();
      } else if (error.status === 0) {
        // no answer: the change may have been made all the same, its answer lost on the way back.
        // The case read again says which; unchanged, or not readable, it stays as typed
        const now = await load({ quiet: true });
        if (now === "changed") {
          message.append(h("p", {}, "The case has changed since it was shown: it is below as it is now. See whether what you sent was recorded before doing it again."));
          title.focus();
          onChanged();
        } else if (now === "same") {
          message.append(h("p", {}, "The case is unchanged: nothing was recorded. Try again."));
        }
      }
    }
  });

  function approveButton(reward) {
    const id = reward.id;
    return h(
      "button",
      {
        type: "button",
        "aria-label": `Approve reward ${id}`, // one of many: each says which
        onclick: () =>
          act(async () => {
            await api.post(`/v1/rewards/${segment(id)}/override`, { status: "approved" });
            approvedHere.set(id, { ...reward, status: "approved" });
          }, `Reward ${id} approved.`),
      },
      "Approve",
    );
  }

  function rewardsTable(rewards) {
    if (!rewards.length) return h("p", { class: "state empty" }, "No rewards on hold.");
    return scrollingTable(
      "Held rewards",
      h(
        "table",
        { class: "data compact" },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ["Reward", "Amount", "Created", "Status"].map((c) => h("th", { scope: "col" }, c)),
            h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Action")),
          ),
        ),
        h(
          "tbody",
          {},
          rewards.map((r) =>
            h(
              "tr",
              {},
              h("td", { class: "wrap" }, r.id),
              h("td", { class: "num" }, money({ amount: r.amount, currency: r.currency })),
              h("td", {}, timeElement(r.created_at)),
              h("td", {}, words(r.status)),
              // a row approved here keeps a button's height: the rows under it stay where they were
              h("td", {}, r.status === "on_hold" ? approveButton(r) : h("span", { class: "row-done" }, "Done")),
            ),
          ),
        ),
      ),
    );
  }

  function auditEntry(e) {
    return h(
      "li",
      {},
      timeElement(e.at),
      " — ",
      h("strong", {}, e.actor || "system"),
      ": ",
      words(e.action),
      detailText(e.detail) ? h("span", { class: "muted" }, ` (${detailText(e.detail)})`) : null,
    );
  }

  /** The trail newest first; older entries a page at a time (GET /v1/cases/{id}/audit). */
  function auditList(detail) {
    if (!detail.audit.length) return h("p", { class: "state empty" }, "Nothing recorded yet.");
    const list = h("ol", { class: "audit" }, detail.audit.map(auditEntry));
    const status = h("div", { class: "form-message" });
    let cursor = detail.audit_next_cursor;
    const more = h(
      "button",
      {
        type: "button",
        hidden: !cursor,
        onclick: async () => {
          more.disabled = true;
          replace(status);
          try {
            const page = await api.get(`/v1/cases/${segment(detail.id)}/audit`, { cursor, limit: 50 });
            list.append(...page.items.map(auditEntry));
            cursor = page.next_cursor;
            more.hidden = !cursor;
          } catch (error) {
            replace(status, problem(error));
          } finally {
            more.disabled = false;
          }
        },
      },
      "Show older entries",
    );
    return [list, h("div", { class: "buttons" }, more), status];
  }

  /** The newest held rewards the drawer carries, and the way to every one when there are more. */
  function heldSection(detail) {
    const shown = heldRewardsOf(detail);
    const rows = withApproved(shown, approvedHere);
    const total = detail.held_rewards;
    const filter = { [detail.subject.type === "partner" ? "partner_id" : "customer_id"]: detail.subject.id };
    const listed = shown.length ? `The newest ${shown.length} of ${total} held rewards. ` : `${total} held rewards. `;
    const all =
      total > shown.length
        ? h("p", { class: "muted" }, listed, h("a", { href: href("rewards", { status: "on_hold", ...filter }) }, "Review all of them"))
        : null;
    return [all, rows.length || !total ? rewardsTable(rows) : null]; // the count first: the table is long
  }

  function disputeForm(detail) {
    const reason = h("textarea", { id: "dispute-reason", name: "reason", rows: "3", required: true });
    return h(
      "form",
      {
        class: "action-form",
        hidden: true,
        onsubmit: (event) => {
          event.preventDefault();
          const refused = overLimit(reason, "The reason", REASON_MOST); // said before it is sent
          if (refused) {
            replace(message, refused);
            reason.focus();
            return;
          }
          act(
            () => api.post(`/v1/cases/${segment(detail.id)}/dispute`, { reason: reason.value.trim() }),
            "Dispute sent to the security team. It is reviewed at the next monthly dispute cycle.",
          );
        },
      },
      h("label", { for: "dispute-reason" }, "Reason for the dispute ", h("span", { class: "muted" }, `(up to ${REASON_MOST.toLocaleString("en")} characters)`)),
      reason,
      h("div", { class: "buttons" }, h("button", { type: "submit", class: "primary" }, "Submit dispute")),
    );
  }

  function removeForm(detail) {
    const block = h("input", { id: "block-reapply", type: "checkbox", name: "block_reapply" });
    return h(
      "form",
      {
        class: "action-form",
        hidden: true,
        onsubmit: (event) => {
          event.preventDefault();
          act(
            // as shown: a case a teammate disputed (or the cycle declined) since is refused, not removed
            () => api.post(`/v1/cases/${segment(detail.id)}/remove`, { block_reapply: block.checked, replaces: detail.status }),
            block.checked ? "Partner removed and blocked from reapplying." : "Partner removed.",
          );
        },
      },
      h("p", {}, "The partner is removed from the program. Their rewards not yet approved or paid are archived, and so is every reward that arrives for them later."),
      detail.status === "disputed"
        ? h("p", { class: "warning" }, "This case is disputed: removing the partner withdraws the dispute, and any verdict the security team has recorded on it. A removal cannot be undone.")
        : null,
      h("div", { class: "check" }, block, h("label", { for: "block-reapply" }, "Block this partner from reapplying")),
      h("div", { class: "buttons" }, h("button", { type: "submit", class: "danger" }, "Confirm removal")),
    );
  }

  /** A button that shows its form (and hides the other one). */
  function toggle(label, form, others) {
    const button = h(
      "button",
      {
        type: "button",
        "aria-expanded": "false",
        onclick: () => {
          const opening = form.hidden;
          for (const [b, f] of others()) {
            f.hidden = true;
            b.setAttribute("aria-expanded", "false");
          }
          form.hidden = !opening;
          button.setAttribute("aria-expanded", String(opening));
          if (opening) form.querySelector("textarea, input, button")?.focus();
        },
      },
      label,
    );
    return button;
  }

  function actions(detail) {
    const pairs = [];
    const canDispute = detail.status === "open";
    // SPEC 3.2: an open, disputed (withdrawn) or declined case's partner can be removed, from the
    // case it is under now: a declined case's partner with a newer case is removed from that one
    const partnerCase = detail.subject.type !== "customer";
    const active = detail.partner?.active_case_id;
    const newer = partnerCase && active && active !== detail.id ? active : null;
    const canRemove = ["open", "disputed", "declined"].includes(detail.status) && partnerCase && !newer;
    const elsewhere = newer
      ? h("p", { class: "muted" }, "This partner has a newer case; to remove the partner, ", h("a", { href: href(["active", newer]) }, "open that case"), ".")
      : null;
    if (canDispute) {
      const form = disputeForm(detail);
      pairs.push([toggle("Dispute", form, () => pairs), form]);
    }
    if (canRemove) {
      const form = removeForm(detail);
      pairs.push([toggle("Remove partner", form, () => pairs), form]);
    }
    if (!pairs.length && !elsewhere) return null;
    return h(
      "section",
      { class: "drawer-actions", "aria-label": "Actions" },
      elsewhere,
      pairs.length ? h("div", { class: "buttons" }, pairs.map(([b]) => b)) : null,
      pairs.map(([, f]) => f),
    );
  }

  let drawn = null; // the case as last drawn (its JSON), to tell a re-read that found it changed

  /** Read the case and draw it: "changed" (or first drawn), "same" (as drawn, left so), "failed".
   * Quiet: a failed read leaves the drawer as it is (a form being filled in stays). */
  async function load({ quiet = false } = {}) {
    try {
      const detail = await api.get(`/v1/cases/${segment(caseId)}`);
      const text = JSON.stringify(detail);
      if (quiet && text === drawn) return "same";
      drawn = text;
      replace(title, h("bdi", {}, detail.subject.name)); // in its own direction (a name right to left)
      const reasons = detail.reasons;
      replace(
        body,
        actions(detail),
        h("section", { "aria-labelledby": "flag-reasons-heading" }, h("h3", { id: "flag-reasons-heading" }, "Reasons"), reasons.length
          ? h("ul", { class: "reasons-detail" }, reasons.map(reasonItem))
          : h("p", { class: "state empty" }, "No reasons recorded.")),
        h("section", {}, h("h3", {}, "Details"), detailsList(detail)),
        h("section", {}, h("h3", {}, "Held rewards"), heldSection(detail)),
        h("section", {}, h("h3", {}, "Audit trail"), auditList(detail)),
      );
      return "changed";
    } catch (error) {
      if (quiet) return "failed";
      drawn = null;
      replace(title, "Case not available");
      replace(body, problem(error));
      return "failed";
    }
  }

  load();

  return {
    caseId,
    close({ silent: quiet = false } = {}) {
      silent = quiet;
      if (dialog.open) dialog.close();
      else dialog.remove();
    },
  };
}


/** A list's case drawer, at "#/<tab>/<case id>" over the list: `follow(caseId)` when the address
 * names a case (opened) or none (closed: the browser's Back); closing it goes back to the list
 * (`listUrl()`), the focus to the link that opened it (`data-case-id`); `onChanged`: an action in
 * it changed the case, the list is read again. */
export function listDrawer(container, listUrl, onChanged) {
  let drawer = null;
  let openedHere = false; // opened by a click in this list: closing it goes back in history

  function focusOpener(caseId) {
    const link = caseId && container.querySelector(`a[data-case-id="${CSS.escape(caseId)}"]`);
    (link || document.getElementById("page-heading"))?.focus();
  }

  function show(caseId) {
    if (drawer && drawer.caseId === caseId) return;
    if (drawer) drawer.close({ silent: true });
    drawer = openDrawer({
      caseId,
      onClose: () => {
        const closed = drawer;
        drawer = null;
        if (openedHere) {
          openedHere = false;
          window.history.back();
        } else {
          navigate(listUrl(), { replace: true });
        }
        focusOpener(closed.caseId);
      },
      onChanged,
    });
  }

  return {
    /** The address's case at the page's first drawing: opened as if typed. */
    open: show,
    follow(caseId) {
      if (caseId) {
        openedHere = !drawer;
        show(caseId);
      } else if (drawer) {
        const closing = drawer;
        drawer = null;
        closing.close({ silent: true }); // the back button closed it
        focusOpener(closing.caseId);
      }
    },
    close() {
      if (drawer) drawer.close({ silent: true });
      drawer = null;
    },
  };
}
