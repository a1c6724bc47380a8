// The vocabulary of SPEC 3.4, in one place: the loyalty pages offer exactly these choices.

export const TRIGGER_EVENTS = ["points.earned"];
export const EARN_KINDS = ["purchase", "campaign_bonus", "other"];
export const AGGREGATIONS = ["earned", "bonus", "spent"];
export const DATE_RANGES = ["today", "week_to_date", "month_to_date", "year_to_date", "last_7_days", "last_30_days", "lifetime"];
export const AUDIENCES = ["current", "all"];
export const ACTION_TYPES = ["communication", "suspend", "block"];
export const LIMIT_BEHAVIORS = ["soft", "dynamic", "hard"];

export const LABELS = {
  "points.earned": "Points earned",
  purchase: "Purchase",
  campaign_bonus: "Campaign bonus",
  other: "Other",
  earned: "Points earned",
  bonus: "Bonus points",
  spent: "Points spent",
  today: "Today",
  week_to_date: "Week to date",
  month_to_date: "Month to date",
  year_to_date: "Year to date",
  last_7_days: "Last 7 days",
  last_30_days: "Last 30 days",
  lifetime: "Lifetime",
  current: "The earning customer",
  all: "Every customer above the threshold",
  communication: "Send a communication",
  suspend: "Suspend the customer",
  block: "Block the customer",
  soft: "Soft: grant the whole bonus to an action that starts under the caps",
  dynamic: "Dynamic: grant only what is left under the caps",
  hard: "Hard: grant nothing that would pass a cap",
};

export function label(value) {
  return LABELS[value] ?? value;
}
