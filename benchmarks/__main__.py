"""`make bench`: the figures quoted in closing notes. Medians over repeated runs; ratios only between
figures measured in the same run (the machine is shared and noisy).

`make bench` runs the everyday suites (SUITES below); `make bench SUITES="ingest loyalty"` runs
some, and `partitions` (about 25 minutes here) and `edge` run when named. A suite is a module of
this package with a `run()` that prints its section and may return headline figures by name; the
figures of every suite that ran are printed last, each beside its goal (issue 15), then one line of
`name=value` pairs.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass

SUITES = ("ingest", "scoring", "hold_sweep", "loyalty", "local", "local_dynamodb", "sync_decision")


@dataclass(frozen=True)
class Goal:
    name: str  # the key in the last line
    figure: str
    shown: Callable[[float], str]
    goal: str
    met: Callable[[float], bool]
    plain: str = "{:.0f}"  # its form in the last line


GOALS = (
    Goal(
        "cold_start_worst",
        "handler cold start / bare `import boto3` + one DynamoDB client (worst handler)",
        lambda v: f"x{v:.2f}",
        "<= x1.5",
        lambda v: v <= 1.5,
        "{:.2f}",
    ),
    Goal(
        "cold_start_worst_instructions",
        "the same in instructions (BENCH_INSTRUCTIONS=1, callgrind: unmoved by the load)",
        lambda v: f"x{v:.2f}",
        "<= x1.5",
        lambda v: v <= 1.5,
        "{:.2f}",
    ),
    Goal(
        "engine_events_per_s",
        "scoring engine on the in-memory store, one core",
        lambda v: f"{v:,.0f} events/s",
        ">= 10,000 events/s",
        lambda v: v >= 10_000,
    ),
    Goal(
        "engine_p99_ms",
        "scoring engine p99 per event",
        lambda v: f"{v:.2f} ms",
        "<= 1 ms",
        lambda v: v <= 1.0,
    ),
    Goal(
        "scored_round_trips_max",
        "DynamoDB round trips per scored event (most of any event, flags included)",
        lambda v: f"{v:.2f}",  # the outbox's one write per batch is shared: 5.04, not 5
        "<= 3",
        lambda v: v <= 3,
        "{:.2f}",
    ),
    Goal(
        "earn_round_trips",
        "loyalty earn round trips (the loyalty function's own, authorizer context present)",
        lambda v: f"{v:.0f}",
        "<= 2",
        lambda v: v <= 2,
    ),
    Goal(
        "wcu_per_signup",
        "write capacity per scored partnership.created (mean)",
        lambda v: f"{v:.1f} WCU",
        "<= 12 WCU",
        lambda v: v <= 12,
        "{:.1f}",
    ),
    Goal(
        "wcu_per_allowed_signup",
        "the same, a sign-up not flagged (mean: the bench's window flags about half of them)",
        lambda v: f"{v:.1f} WCU",
        "<= 12 WCU",
        lambda v: v <= 12,
        "{:.1f}",
    ),
)


# the one-line form names five figures; these are shown in the table only
ONE_LINE_LEAVES_OUT = ("engine_p99_ms", "cold_start_worst_instructions", "wcu_per_allowed_signup")


def summary(figures: dict[str, float]) -> list[str]:
    """The headline figures beside their goals, then the one-line form."""
    lines = ["== summary (issue 15)", f"  {'figure':<84} {'measured':>16}   {'goal':<18} met"]
    for goal in GOALS:
        if goal.name in figures:
            value = figures[goal.name]
            met = "yes" if goal.met(value) else "no"
            lines.append(f"  {goal.figure:<84} {goal.shown(value):>16}   {goal.goal:<18} {met}")
    lines.append(
        " ".join(
            f"{goal.name}={goal.plain.format(figures[goal.name])}"
            for goal in GOALS
            if goal.name in figures and goal.name not in ONE_LINE_LEAVES_OUT
        )
    )
    return lines


def main(names: list[str]) -> None:
    # set before any suite imports the functions: their loggers take the level when made, and
    # the score function's line per event (thousands) buried the figures
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    # `SUITES=sync-decision` printed nothing and exited 0
    unknown = [
        name
        for name in names
        if not name.isidentifier()
        or name.startswith("_")
        or not importlib.util.find_spec(f"benchmarks.{name}")
    ]
    if unknown:
        sys.exit(f"no suite named {', '.join(unknown)}; the default ones: {' '.join(SUITES)}")
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    figures: dict[str, float] = {}
    for name in names or SUITES:
        print(f"== {name}", flush=True)
        figures.update(importlib.import_module(f"benchmarks.{name}").run() or {})
    if figures:
        print("\n".join(summary(figures)))


if __name__ == "__main__":
    main(sys.argv[1:])
