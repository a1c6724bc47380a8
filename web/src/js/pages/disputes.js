// Disputes (security team): open disputes across programs (GET /v1/disputes?status=open), oldest
// first, paged with the API's cursor as the other lists are ("#/disputes?limit=50&cursor=..."), each
// with a note and `Approve dispute` / `Decline dispute` (POST /v1/disputes/{case_id}/verdict).
// A verdict takes effect at the next monthly dispute cycle; an approval whose subject flagged again since
// (`evidence_since_verdict`) is withdrawn by it instead, and the card says so.

import { api, noAnswer, segment } from "../api.js";
import { alertBox, DEFAULT_PAGE_SIZE, empty, h, holdAmount, loading, oneAtATime, pageHeading, problem, reason, reasonItem, replace, timeElement, words } from "../dom.js";
import { pagedList } from "../paging.js";

export function mountDisputes(container, route) {
  const { state, links: pageLinks } = pagedList(route, "disputes", "dispute", "disputes");
  const message = h("div", { class: "form-message", "aria-live": "polite" });
  const results = h("div", { class: "results" });
  // what was typed in each card's Note (case id -> text): a verdict redraws every card, and what a
  // person typed, in that card or any other, is drawn back; a note is dropped once it is recorded
  const notes = new Map();

  function disputeCard(item, index) {
    const caseId = item.id;
    const name = item.subject.name;
    const noteId = `note-${index}`;
    const note = h("textarea", {
      id: noteId,
      name: "note",
      rows: "2",
      value: notes.get(caseId) ?? "",
      oninput: () => (note.value ? notes.set(caseId, note.value) : notes.delete(caseId)),
    });
    const local = h("div", { class: "form-message" });
    const recorded = (value) =>
      h(
        "p",
        { role: "status", class: "success", tabindex: "-1" },
        "Verdict recorded for ",
        h("bdi", {}, name), // a name's direction marks stay inside it, not turning the sentence around
        `: ${value === "approve" ? "approved" : "declined"}. It takes effect at the next dispute cycle.`,
      );
    const verdict = oneAtATime(() => local.parentElement, async (value) => {
      replace(local, h("p", { role: "status" }, "Working…"));
      const sent = note.value.trim();
      try {
        // the verdict this card shows: one a teammate recorded since is not replaced unseen (409)
        await api.post(`/v1/disputes/${segment(caseId)}/verdict`, { verdict: value, note: sent, replaces: item.verdict ?? null });
        notes.delete(caseId); // recorded with the verdict
        replace(message, recorded(value));
        await load();
        message.firstChild.focus(); // the card was drawn again
      } catch (error) {
        if (error.status === 0) {
          // no answer: the verdict may have been recorded all the same, its answer lost on the way
          // back. The list read again says which (a second click would be refused as "changed")
          let answer;
          try {
            answer = await read();
          } catch {
            replace(local, problem(error), h("p", {}, "Whether the verdict was recorded is not known: the disputes could not be read again."));
            return;
          }
          const now = answer.items.find((d) => d.id === caseId);
          const done = now?.verdict === value && (now.verdict_note ?? "") === sent;
          if (done) notes.delete(caseId); // recorded with the verdict
          show(answer);
          replace(
            message,
            done
              ? recorded(value)
              : alertBox(
                  "div",
                  h("p", {}, "No verdict was recorded for ", h("bdi", {}, name), `: ${noAnswer(error)}. The list below is as it is now.`),
                ),
          );
          message.firstChild.focus();
          return;
        }
        if (error.status !== 404 && error.status !== 409) {
          replace(local, problem(error));
          return;
        }
        // withdrawn (its partner removed), resolved or being applied meanwhile: the list as it is now,
        // the note kept in its card; a card no longer listed has its note quoted, not lost
        await load();
        const unsent = notes.has(caseId) && !results.querySelector(`[data-case-id="${CSS.escape(caseId)}"]`) ? notes.get(caseId) : null;
        replace(
          message,
          alertBox(
            "div",
            h("p", {}, "The dispute of ", h("bdi", {}, name), " changed meanwhile, so no verdict was recorded: ", error.message, ". The list below is as it is now."),
            unsent ? h("p", {}, "Your note was not recorded: ", h("q", {}, h("bdi", {}, unsent))) : null,
          ),
        );
        message.firstChild.focus();
      }
    });
    const reasons = item.reasons;
    const since = Object.entries(item.evidence_since_verdict || {});
    const verdictText = since.length
      ? "Approved, but the case has fired again since: the dispute cycle will not apply this verdict. Record a verdict on the case as it is now."
      : `${item.verdict === "approve" ? "Approved" : item.verdict === "decline" ? "Declined" : words(item.verdict)}, applied at the next dispute cycle`;
    return h(
      "li",
      {},
      h(
        "article",
        { class: "card dispute", "aria-labelledby": `dispute-${index}`, "data-case-id": caseId },
        h("h2", { id: `dispute-${index}` }, h("bdi", {}, name)),
        h(
          "dl",
          { class: "details" },
          h("div", {}, h("dt", {}, "Program"), h("dd", {}, item.program_name ?? item.program_id)),
          h("div", {}, h("dt", {}, "Case"), h("dd", {}, caseId)),
          h("div", {}, h("dt", {}, item.subject.type === "customer" ? "Customer ID" : "Partner ID"), h("dd", {}, item.subject.id)),
          // what each reason found, as the program team's drawer shows it: the evidence a verdict is decided on
          h("div", {}, h("dt", {}, "Reasons"), h("dd", {}, reasons.length ? h("ul", { class: "reasons-detail" }, reasons.map(reasonItem)) : "—")),
          h("div", {}, h("dt", {}, "Dispute reason"), h("dd", {}, item.dispute_reason ? h("bdi", {}, item.dispute_reason) : "—")),
          h("div", {}, h("dt", {}, "Hold amount"), h("dd", {}, holdAmount(item))),
          h("div", {}, h("dt", {}, "Flagged date"), h("dd", {}, timeElement(item.flagged_at))),
          h("div", {}, h("dt", {}, "Disputed date"), h("dd", {}, timeElement(item.disputed_at))),
          item.verdict
            ? h(
                "div",
                {},
                h("dt", {}, "Verdict"),
                h("dd", { class: since.length ? "verdict warning" : "verdict" }, verdictText, item.verdict_note ? [" (", h("bdi", {}, item.verdict_note), ")"] : ""),
              )
            : null,
          since.length
            ? h(
                "div",
                {},
                h("dt", {}, "Since the verdict"),
                h("dd", { class: "warning" }, since.map(([code, n]) => `${reason(code)} ×${n}`).join(", ")),
              )
            : null,
        ),
        h("label", { for: noteId }, "Note"),
        note,
        h(
          "div",
          { class: "buttons" },
          h("button", { type: "button", class: "primary", onclick: () => verdict("approve") }, "Approve dispute"),
          h("button", { type: "button", class: "danger", onclick: () => verdict("decline") }, "Decline dispute"),
        ),
        local,
      ),
    );
  }

  /** This page of open disputes, as the API has it now. */
  function read() {
    return api.get("/v1/disputes", {
      status: "open",
      limit: state.limit || DEFAULT_PAGE_SIZE,
      cursor: state.cursor,
    });
  }

  function show(answer) {
    const items = answer.items;
    if (!items.length) {
      // past the first page, the disputes it listed were resolved since: the way back to the first
      replace(results, empty(state.cursor ? "No open disputes on this page." : "No open disputes."), state.cursor ? pageLinks(items, null) : null);
      return;
    }
    replace(results, h("ul", { class: "cards" }, items.map(disputeCard)), pageLinks(items, answer.next_cursor));
  }

  async function load() {
    replace(results, loading("disputes"));
    try {
      show(await read());
    } catch (error) {
      replace(results, problem(error));
    }
  }

  replace(
    container,
    pageHeading("Disputes"),
    h("p", { class: "muted" }, "Disputed cases from every program. A verdict is applied at the start of the next invoicing month, by the dispute cycle."),
    message,
    results,
  );
  load();
  return {};
}
