"""Precision and recall of flags, per pattern and overall, from the labels and the decisions.

- **Recall** of a fraud pattern: its counted events that were flagged / its counted events.
- **Precision** of a fraud pattern: of all flagged events whose reasons include the pattern's
  signature code (the reason a person would read as "this pattern"), the share that are fraud.
  Overall precision: flagged fraud events (setup steps included: they are fraud) / all flags.
- **False-flag rate**: flagged events of ordinary traffic (ordinary, household, traveller) / its events.
- Setup steps (`Label.counted` False) are shown apart with their own flag rate.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from evaluation.generator import FRAUD_PATTERNS, ORDINARY_PATTERNS
from evaluation.replay import Outcome, Replay

SIGNATURE = {
    "duplicate_signup": "email_duplicate",
    "disposable_email": "email_disposable_domain",
    "shared_device": "device_shared",
    "self_referral": "self_referral",
    "ring": "cluster",
    "burst": "velocity",
    "network_removed": "network_flagged",
    "blocked_reapply": "blocked_reapply",
    "similar_email": "email_similar",
    "payout_takeover": "unusual_activity",
    "borrowed_identity": "location_far_from_address",
    "lookalike_signup": "email_duplicate",
    "line_burst": "velocity",
    "framing": "email_duplicate",
    "removed_returns": "ip_suspicious",
    "quiet_takeover": "unusual_activity",
    "renamed_returns": "ip_suspicious",
    "device_hub": "cluster",
    "paid_back_network": "network_flagged",
}
RECALL_TARGET = 0.95
FALSE_FLAG_TARGET = 0.01


@dataclass
class Row:
    pattern: str
    fraud: bool
    events: int
    flagged: int
    precision: float | None = None

    @property
    def rate(self) -> float:
        return self.flagged / self.events if self.events else 0.0


@dataclass
class Summary:
    rows: list[Row]
    setup: list[Row]
    recall: float
    precision: float
    false_flag_rate: float
    ordinary_events: int
    ordinary_flagged: int
    unscored: int
    false_flags: Counter[str]  # reason combinations behind the false flags
    misses: Counter[str]  # reason combinations of the fraud events let through

    def meets_targets(self) -> bool:
        return self.false_flag_rate <= FALSE_FLAG_TARGET and all(
            r.rate >= RECALL_TARGET for r in self.rows if r.fraud and r.events
        )

    def failures(self) -> list[str]:
        found = [
            f"recall of {r.pattern} is {r.rate:.3f} < {RECALL_TARGET}"
            for r in self.rows
            if r.fraud and r.events and r.rate < RECALL_TARGET
        ]
        if self.false_flag_rate > FALSE_FLAG_TARGET:
            found.append(f"false-flag rate {self.false_flag_rate:.4f} > {FALSE_FLAG_TARGET}")
        if self.unscored:
            found.append(f"{self.unscored} events not scored")
        return found


def summarize(replay: Replay) -> Summary:
    outcomes = replay.outcomes
    counted = [o for o in outcomes if o.step.label.counted]
    rows = []
    for pattern in FRAUD_PATTERNS:
        mine = [o for o in counted if o.step.label.pattern == pattern]
        signed = [o for o in outcomes if o.flagged and SIGNATURE[pattern] in o.codes]
        precision = sum(o.step.label.fraud for o in signed) / len(signed) if signed else None
        rows.append(Row(pattern, True, len(mine), sum(o.caught for o in mine), precision))
    for pattern in ORDINARY_PATTERNS:
        mine = [o for o in counted if o.step.label.pattern == pattern]
        rows.append(Row(pattern, False, len(mine), sum(o.flagged for o in mine)))
    setup = []  # steps of fraud not counted: a pattern's setup, or what follows it
    for pattern in dict.fromkeys(o.step.label.pattern for o in outcomes if not o.step.label.counted):
        mine = [o for o in outcomes if not o.step.label.counted and o.step.label.pattern == pattern]
        setup.append(Row(pattern, True, len(mine), sum(o.flagged for o in mine)))
    fraud = [o for o in counted if o.step.label.fraud]
    ordinary = [o for o in outcomes if not o.step.label.fraud]
    flags = [o for o in outcomes if o.flagged]
    return Summary(
        rows=rows,
        setup=setup,
        recall=sum(o.caught for o in fraud) / len(fraud) if fraud else 0.0,
        precision=sum(o.step.label.fraud for o in flags) / len(flags) if flags else 1.0,
        false_flag_rate=sum(o.flagged for o in ordinary) / len(ordinary) if ordinary else 0.0,
        ordinary_events=len(ordinary),
        ordinary_flagged=sum(o.flagged for o in ordinary),
        unscored=sum(o.status != "scored" for o in outcomes),
        false_flags=Counter(_combo(o) for o in ordinary if o.flagged),
        misses=Counter(f"{o.step.label.pattern}: {_combo(o)}" for o in fraud if not o.caught),
    )


def _combo(outcome: Outcome) -> str:
    return "+".join(sorted(outcome.codes)) or "(no reason)"


HEADER = ("pattern", "kind", "events", "flagged", "recall", "flag rate", "precision")


def _line(cells: tuple[object, ...]) -> str:
    pattern, kind, events, flagged, recall, rate, precision = (str(c) for c in cells)
    return f"{pattern:<18} {kind:<8} {events:>7} {flagged:>8} {recall:>7} {rate:>9} {precision:>9}"


def _figure(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def render(summary: Summary, replay: Replay, details: int = 8) -> str:
    lines = [_line(HEADER), "-" * 72]
    for row in summary.rows:
        if row.fraud:
            cells = ("fraud", row.events, row.flagged, _figure(row.rate), "", _figure(row.precision))
        else:
            cells = ("ordinary", row.events, row.flagged, "", _figure(row.rate, 4), "")
        lines.append(_line((row.pattern, *cells)))
    lines.append("-" * 72)
    fraud_events = sum(r.events for r in summary.rows if r.fraud)
    fraud_flagged = sum(r.flagged for r in summary.rows if r.fraud)
    recall, precision = _figure(summary.recall), _figure(summary.precision)
    lines.append(_line(("all fraud", "fraud", fraud_events, fraud_flagged, recall, "", precision)))
    ordinary = (
        summary.ordinary_events,
        summary.ordinary_flagged,
        "",
        _figure(summary.false_flag_rate, 4),
        "",
    )
    lines.append(_line(("all ordinary", "ordinary", *ordinary)))
    if summary.setup:
        shown = ", ".join(f"{r.pattern} {r.flagged}/{r.events}" for r in summary.setup)
        lines.append(f"fraud steps not counted (a setup, or what follows; flagged/events): {shown}")
    removed = sum(outcome == "removed" for _, outcome in replay.removals)
    lines.append(
        f"removals: {removed}/{len(replay.removals)} done; events not scored: {summary.unscored}; "
        f"backend {replay.backend}, {len(replay.outcomes)} events in {replay.seconds:.0f} s"
    )
    if summary.false_flags:
        lines.append("false flags by reasons: " + _top(summary.false_flags, details))
    if summary.misses:
        lines.append("missed fraud by reasons: " + _top(summary.misses, details))
    verdict = "targets met" if summary.meets_targets() else "TARGETS MISSED: " + "; ".join(summary.failures())
    lines.append(
        f"targets: recall >= {RECALL_TARGET} on every fraud pattern, "
        f"false flags <= {FALSE_FLAG_TARGET:.0%}: {verdict}"
    )
    return "\n".join(lines)


def _top(counter: Counter[str], n: int) -> str:
    return "; ".join(f"{combo} x{count}" for combo, count in counter.most_common(n))


def as_json(summary: Summary, replay: Replay) -> dict[str, Any]:
    return {
        "backend": replay.backend,
        "seconds": replay.seconds,
        "recall": summary.recall,
        "precision": summary.precision,
        "false_flag_rate": summary.false_flag_rate,
        "rows": [r.__dict__ | {"rate": r.rate} for r in summary.rows],
        "setup": [r.__dict__ | {"rate": r.rate} for r in summary.setup],
        "false_flags": dict(summary.false_flags),
        "misses": dict(summary.misses),
    }
