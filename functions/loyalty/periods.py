"""Date ranges of the aggregated-attributes filter (SPEC 3.4, 8), in the program's time zone.

Actions count in the local day, week (starting Monday), month and year of their `occurred_at`.
Calendar ranges ("to date") read the one period item of today; rolling windows sum the last 7 or
30 local days, today included; lifetime is kept on the customer. Every figure costs the same to
read whatever the customer's history.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from functions.shared.storage.port_loyalty import (
    LIFETIME,
    PeriodTotals,
    Totals,
    day_period,
    month_period,
    week_period,
    year_period,
)

CALENDAR = {
    "today": day_period,
    "week_to_date": week_period,
    "month_to_date": month_period,
    "year_to_date": year_period,
}
ROLLING_DAYS = {"last_7_days": 7, "last_30_days": 30}
DATE_RANGES = (*CALENDAR, *ROLLING_DAYS, "lifetime")


def local_day(at: datetime, timezone: str) -> date:
    return at.astimezone(ZoneInfo(timezone)).date()


def calendar_period(date_range: str, today: date) -> str:
    """The period item a calendar range reads (`LIFETIME` for lifetime)."""
    if date_range == "lifetime":
        return LIFETIME
    return CALENDAR[date_range](today)


def window(date_range: str, today: date) -> tuple[date, date]:
    """First and last local day of a rolling window ending today."""
    return today - timedelta(days=ROLLING_DAYS[date_range] - 1), today


def audience_periods(date_range: str, today: date, threshold: int) -> tuple[tuple[str, ...], int]:
    """Where a rolling window's `customer: all` audience is looked for: the calendar periods the
    window ending today touches, and the total one of them must be above.

    An action counts, with the same points, in its day and in that day's week and month, and no
    total ever goes down; so the window's days sum to no more than the periods that hold them, and
    a window above T has one of those k periods above T // k (were each at most T // k, all k would
    sum to at most T). Weeks or months, whichever takes fewer (weeks on a tie: less of a period's
    total lies outside the window, so fewer customers to read again). A 30-day window touches two
    months (three when one is February), not thirty days, each a query of every shard of the
    audience index; a 7-day window, two weeks at most."""
    days = days_between(*window(date_range, today))
    weeks = tuple(dict.fromkeys(week_period(day) for day in days))
    months = tuple(dict.fromkeys(month_period(day) for day in days))
    touched = weeks if len(weeks) <= len(months) else months
    return touched, threshold // len(touched)


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def rolling_sum(days: Mapping[date, Totals], first: date, last: date, aggregation: str) -> int:
    return sum(totals.of(aggregation) for day, totals in days.items() if first <= day <= last)


def at_start(days: Mapping[date, PeriodTotals], day: date, length: int, aggregation: str) -> int:
    """A rolling window of `length` days as it stood when `day` began: the days before it, without
    what arrived on `day` or later dated back into them (`PeriodTotals.late`). Counted from the days
    as they are now, an earn dated a few days back hid the dip it crossed from."""
    first = day - timedelta(days=length - 1)
    value = 0
    for dated, found in days.items():
        if first <= dated < day:
            later = sum(totals.of(aggregation) for arrived, totals in found.late.items() if arrived >= day)
            value += found.totals.of(aggregation) - later
    return value


def figures(
    today: date,
    lifetime: Totals,
    periods: Mapping[str, PeriodTotals],
    days: Mapping[date, Totals],
) -> dict[str, dict[str, int]]:
    """Every aggregation over every date range, as of `today`: `periods` holds this week's, month's
    and year's items, `days` the last 30 days."""
    result: dict[str, dict[str, int]] = {}
    for aggregation in ("earned", "bonus", "spent"):
        values: dict[str, int] = {}
        for date_range, period_of in CALENDAR.items():
            if date_range == "today":
                values[date_range] = days.get(today, Totals()).of(aggregation)
            else:
                found = periods.get(period_of(today))
                values[date_range] = found.totals.of(aggregation) if found else 0
        for date_range in ROLLING_DAYS:
            values[date_range] = rolling_sum(days, *window(date_range, today), aggregation)
        values["lifetime"] = lifetime.of(aggregation)
        result[aggregation] = values
    return result
