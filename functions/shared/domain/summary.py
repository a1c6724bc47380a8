"""The Security Monitoring figures (SPEC 3.2 `GET /v1/summary`), kept as cases change.

Every change to a case's status or hold figures is an `UpdateCase` or a `PutCase` in some step;
`counted(step)` adds to the step the `CountSummary` those writes imply, so the figures move in the
same transaction as the cases and are never counted at read time. One rule, here: what a case
write does to the program's figures. The stores only add the deltas.

A status change must expect exactly one status (the one read): the figure taken away is that
status's, so a write that could start from several would be a guess, and is refused as a bug.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from functions.shared.domain.cases import ACTIVE
from functions.shared.domain.writes import SUMMARY_ITEMS, CountSummary, DayFlags, PutCase, Step, UpdateCase

FLAG_DAYS = 30  # the chart's span (SPEC 10)
FLAG_DAY_KEPT = timedelta(days=40)  # a day's figures outlive the 30 days shown, then expire
COUNTED_STATUSES = ACTIVE  # a subject's active cases: what the summary counts


@dataclass(frozen=True)
class FlagDay:
    day: date
    count: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class SummaryFigures:
    """What a store keeps per program: case counts by status, held rewards, flags per day."""

    cases: dict[str, int] = field(default_factory=dict)
    held: int = 0
    held_micros: dict[str, int] = field(default_factory=dict)
    flag_days: tuple[FlagDay, ...] = ()


def flag_day_of(at: datetime) -> str:
    return at.astimezone(UTC).date().isoformat()


def first_day_shown(today: date) -> date:
    return today - timedelta(days=FLAG_DAYS - 1)


def counted(step: Step) -> Step:
    """The step with the summary figures its case writes imply (one `CountSummary` per program
    whose figures change); unchanged when none do."""
    if _CASE_WRITES.isdisjoint(map(type, step.writes)):
        return step  # most steps: no case written, no figure moves
    deltas: dict[str, _Delta] = {}
    for write in step.writes:
        if type(write) is PutCase:  # final classes: a type's identity, not isinstance's walk
            case = write.case
            delta = deltas.setdefault(case.program_id, _Delta())
            delta.flag(case.flagged_at, 1, {r.code for r in case.reasons})
            add_figures(delta.cases, {case.status: 1})
            delta.held += case.held_count
            add_figures(delta.held_micros, case.hold_micros)
        elif type(write) is UpdateCase:
            moved: dict[str, int] = {}
            status = write.changes.get("status")
            if status:
                if len(write.expect) != 1:
                    raise ValueError(
                        f"case {write.case_id} changes status from one of {write.expect}: "
                        "the summary needs the one status it leaves"
                    )
                moved = _plus({write.expect[0]: -1}, {status: 1})
            flag = write.flag_moved
            if not (moved or write.held or any(write.hold_micros.values()) or flag):
                continue
            delta = deltas.setdefault(write.program_id, _Delta())
            if flag is not None:  # the case leaves the day it was counted on for its new flag's
                delta.flag(flag.was_at, -1, set(flag.was_codes))
                delta.flag(write.changes["flagged_at"], 1, set(flag.codes))
            add_figures(delta.cases, moved)
            delta.held += write.held
            add_figures(delta.held_micros, write.hold_micros)
    writes = [
        CountSummary(
            program_id,
            cases={k: n for k, n in d.cases.items() if n and k in COUNTED_STATUSES},
            held=d.held,
            held_micros={k: n for k, n in d.held_micros.items() if n},
            days=tuple(
                DayFlags(day, flags, {k: n for k, n in reasons.items() if n}, d.expires_at[day])
                for day, (flags, reasons) in sorted(d.days.items())
                if flags or any(reasons.values())
            ),
        )
        for program_id, d in deltas.items()
    ]
    writes = [w for w in writes if _changes(w)]
    if any(w.items > SUMMARY_ITEMS for w in writes):
        raise ValueError("a step flagging cases on more days than the room a step keeps for them")
    if not writes:
        return step
    return Step([*step.writes, *writes])


_CASE_WRITES = frozenset({PutCase, UpdateCase})


@dataclass
class _Delta:
    """One program's figures as `counted` adds them up."""

    cases: dict[str, int] = field(default_factory=dict)
    held: int = 0
    held_micros: dict[str, int] = field(default_factory=dict)
    days: dict[str, tuple[int, dict[str, int]]] = field(default_factory=dict)  # day -> (flags, by code)
    expires_at: dict[str, int] = field(default_factory=dict)  # day -> when its figures go

    def flag(self, at: datetime, flags: int, codes: set[str]) -> None:
        """`flags` cases (-1: one taken away) flagged on `at`'s day with `codes`."""
        day = flag_day_of(at)
        counted, reasons = self.days.get(day, (0, {}))
        add_figures(reasons, dict.fromkeys(codes, flags))
        self.days[day] = (counted + flags, reasons)
        self.expires_at[day] = int((at + FLAG_DAY_KEPT).timestamp())


def _changes(delta: CountSummary) -> bool:
    return bool(delta.cases or delta.held or any(delta.held_micros.values()) or delta.days)


def add_figures(figures: dict[str, int], more: dict[str, int]) -> None:
    """Adds `more` into `figures`, key by key (a step's deltas; a store's shards read back)."""
    for key, n in more.items():
        figures[key] = figures.get(key, 0) + n


def _plus(figures: dict[str, int], more: dict[str, int]) -> dict[str, int]:
    total = dict(figures)
    for key, n in more.items():
        total[key] = total.get(key, 0) + n
    return {k: n for k, n in total.items() if n}
