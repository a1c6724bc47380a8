// Home: the seed's "Security Monitoring" box (GET /v1/summary) and its "suspicious cases" link.

import { api } from "../api.js";
import { h, loading, moneyList, pageHeading, problem, replace } from "../dom.js";
import { href } from "../router.js";

/** The box's figures, by the names of GET /v1/summary (Summary in the OpenAPI document). */
export function figures(summary) {
  return {
    open: summary.open_cases,
    disputed: summary.disputed_cases,
    heldCount: summary.held_rewards.count,
    heldAmounts: summary.held_rewards.amounts,
  };
}

export function mountHome(container) {
  const body = h("div", { class: "monitoring-body", "aria-live": "polite" }, loading("the summary"));
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
          h("div", {}, h("dt", {}, "Held amount"), h("dd", {}, moneyList(f.heldAmounts))),
        ),
        f.open + f.disputed === 0 ? h("p", { class: "muted" }, "Nothing is waiting for review.") : null,
      );
    })
    .catch((error) => replace(body, problem(error)));
  return {};
}
