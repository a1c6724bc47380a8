"""The hold sweep (SPEC 4): every 15 minutes, any reward of a flagged subject created at or after
its flag and still `new` or `pending` goes `on_hold` (this catches rewards created through the API
after the flag). Overridden rewards are never touched.

It reads only what it may change: the flagged subjects (a sparse index) and their rewards from the
flag on (an index by subject and creation time). Every hold is a conditional write, so a sweep that
stops half way, or two sweeps at once, hold nothing twice and skip nothing: the next run finishes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from functions.score.service import publish_held
from functions.shared.observability import logger
from functions.shared.runtime import Dependencies
from functions.shared.storage.port_partners import HOLDABLE


@dataclass
class SweepReport:
    subjects: int = 0
    held: int = 0
    per_program: dict[str, int] = field(default_factory=dict)


def sweep(deps: Dependencies) -> SweepReport:
    repository = deps.repository
    report = SweepReport()
    now = deps.clock.now()
    for shard in range(repository.flagged_shards()):
        for subject in repository.flagged_subjects(shard):
            case_id = subject.flag_case_id or subject.active_case_id
            if not case_id or subject.flagged_at is None:
                continue
            report.subjects += 1
            since = subject.flagged_at if subject.type == "partner" else None
            candidates = [
                r
                for r in repository.subject_rewards(subject.program_id, subject.type, subject.id, since)
                if r.status in HOLDABLE and not r.overridden
            ]
            if not candidates:
                continue
            held = repository.hold_rewards(subject.program_id, case_id, candidates, "hold-sweep", now)
            if held:
                report.held += len(held)
                report.per_program[subject.program_id] = report.per_program.get(subject.program_id, 0) + len(
                    held
                )
                publish_held(deps, subject.program_id, case_id, (subject.type, subject.id), held)
    logger.info("hold sweep done", extra={"subjects": report.subjects, "held": report.held})
    return report
