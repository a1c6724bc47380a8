"""The hold sweep (SPEC 4): every 15 minutes, any reward of a flagged subject created at or after
its flag and still `new` or `pending` goes `on_hold` (this catches rewards created through the API
after the flag). Overridden rewards are never touched. It also finishes a flag whose marks on the
subject's older identifiers were not all written (a scoring run that stopped after its first step).

It reads only what it may change: the flagged subjects (a sparse index) and their rewards from the
flag on (an index by subject and creation time). Every hold is conditional on the reward and on the
case still taking holds, so a sweep that stops half way, or two sweeps at once, hold nothing twice
and skip nothing: the next run finishes. A subject that fails is reported and skipped; the sweep
goes on with the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from functions.shared.changes import retrying
from functions.shared.domain.identity import network_pepper
from functions.shared.domain.model import Subject
from functions.shared.errors import DomainError
from functions.shared.holds import hold_due
from functions.shared.observability import logger
from functions.shared.runtime import Dependencies
from functions.shared.storage.port import CasesPort


@dataclass
class SweepReport:
    subjects: int = 0
    held: int = 0
    per_program: dict[str, int] = field(default_factory=dict)
    failed: list[dict[str, str]] = field(default_factory=list)  # left for the next run


def sweep(deps: Dependencies) -> SweepReport:
    store: CasesPort = deps.repository
    report = SweepReport()
    now = deps.clock.now()
    pepper = network_pepper()
    for shard in range(store.flagged_shards()):
        for subject in store.flagged_subjects(shard):
            if not subject.flag_case_id or subject.flagged_at is None:
                continue
            report.subjects += 1

            def attempt(subject: Subject = subject) -> int:
                key = (subject.program_id, subject.type, subject.id)
                return hold_due(
                    store, deps.publisher, key, pepper, now, "hold-sweep", f"sweep/{now.isoformat()}"
                )

            try:
                held = retrying(attempt, f"sweeping {subject.key}")
            except DomainError as error:
                logger.warning(
                    "hold sweep skipped a subject; the next run tries again",
                    extra={"program_id": subject.program_id, "subject": subject.key, "error": error.detail},
                )
                report.failed.append(
                    {"program_id": subject.program_id, "subject": subject.key, "error": error.detail}
                )
                continue
            if held:
                report.held += held
                report.per_program[subject.program_id] = report.per_program.get(subject.program_id, 0) + held
    logger.info(
        "hold sweep done",
        extra={"subjects": report.subjects, "held": report.held, "failed": len(report.failed)},
    )
    return report
