// Home: the seed's "Security Monitoring" box (GET /v1/summary) and its "suspicious cases" link.

import { api } from "../api.js";
import { fitted, legend, seriesClasses, stackedBars } from "../chart.js";
import { amounts, announce, h, loading, pageHeading, plural, problem, reason, replace, scrollingTable } from "../dom.js";
import { href } from "../router.js";

/** The box's figures, by the names of GET /v1/summary (Summary in the OpenAPI document). */
export function figures(summary) {
  return {
    open: summary.open_cases,
    disputed: summary.disputed_cases,
    heldCount: summary.held_rewards.count,
    heldAmounts: summary.held_rewards.amounts,
    flagsPerDay: summary.flags_per_day,
  };
}

function dayLabel(date) {
  return new Date(`${date}T00:00:00Z`).toLocaleDateString(undefined, { month: "short", day: "numeric", timeZone: "UTC" });
}

function reasonsText(byReason) {
  return Object.keys(byReason)
    .sort()
    .map((code) => `${reason(code)} ${byReason[code]}`)
    .join(", ");
}

/** `Flags per day` (SPEC 10): the last 30 days, each split by reason code, and the same as a table. */
export function flagsPerDay(days) {
  const total = days.reduce((sum, d) => sum + d.count, 0);
  const colours = seriesClasses(new Set(days.flatMap((d) => Object.keys(d.by_reason))));
  const columns = days.map((d) => ({ label: dayLabel(d.date), total: d.count, parts: d.by_reason, date: d.date }));
  const chart = fitted((width) =>
    stackedBars(columns, {
      name: `Flags per day, last 30 days: ${plural(total, "flag", "flags")} in all`,
      describe: (c) => `${dayLabel(c.date)}: ${plural(c.total, "flag", "flags")}${c.total ? ` (${reasonsText(c.parts)})` : ""}`,
      colours,
      width,
    }),
  );
  const table = h(
    "table",
    { class: "data" },
    h("caption", {}, "Flags per day, last 30 days"),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Date"), h("th", { scope: "col" }, "Flags"), h("th", { scope: "col" }, "By reason"))),
    h(
      "tbody",
      {},
      days.map((d) =>
        h("tr", {}, h("th", { scope: "row" }, h("time", { datetime: d.date }, dayLabel(d.date))), h("td", { class: "num" }, String(d.count)), h("td", {}, reasonsText(d.by_reason) || "—")),
      ),
    ),
  );
  return h(
    "section",
    { class: "flags-per-day", "aria-labelledby": "flags-heading" },
    h("h2", { id: "flags-heading" }, "Flags per day"),
    // beside its heading, not in it: the heading's name is SPEC 10's, exactly
    h("p", { class: "muted" }, "Days in UTC."),
    total ? chart : h("p", { class: "muted" }, "No flags in the last 30 days."),
    total ? legend(colours, reason) : null,
    h("details", {}, h("summary", {}, "Flags per day as a table"), scrollingTable("Flags per day table", table)),
  );
}

export function mountHome(container) {
  // not a live region: its answer is a box of figures, a chart and a 30-row table, which a screen
  // reader read whole on every visit; the figures are said in one line (`announce`)
  const body = h("div", { class: "monitoring-body" }, loading("the summary"));
  const lead = h("p", {}, "Partners flagged for suspicious activity have their rewards put on hold. Review your ",
    h("a", { href: href("active") }, "suspicious cases"), ".");
  replace(
    container,
    h("section", { class: "card monitoring", "aria-labelledby": "page-heading" }, pageHeading("Security Monitoring"), body, lead),
  );
  api
    .get("/v1/summary")
    .then((summary) => {
      const f = figures(summary);
      replace(
        body,
        h(
          "dl",
          { class: "figures" },
          h("div", {}, h("dt", {}, "New cases"), h("dd", {}, String(f.open))),
          h("div", {}, h("dt", {}, "Disputed cases"), h("dd", {}, String(f.disputed))),
          h("div", {}, h("dt", {}, "Held rewards"), h("dd", {}, String(f.heldCount))),
          h("div", {}, h("dt", {}, "Held amount"), h("dd", {}, amounts(f.heldAmounts))),
        ),
        f.open + f.disputed === 0 ? h("p", { class: "muted" }, "Nothing is waiting for review.") : null,
        flagsPerDay(f.flagsPerDay),
      );
      announce(
        `Security Monitoring: ${plural(f.open, "new case", "new cases")}, ${f.disputed} disputed, ` +
          `${plural(f.heldCount, "held reward", "held rewards")}.`,
        body,
      );
    })
    .catch((error) => replace(body, problem(error)));
  return {};
}
