"""The hold sweep (SPEC 4): every 15 minutes, any reward of a flagged subject created at or after
its flag and still `new` or `pending` goes `on_hold` (this catches rewards created through the API
after the flag). Overridden rewards are never touched. It also finishes a flag whose marks on the
subject's older identifiers were not all written (a scoring run that stopped after its first step),
and, once, a flagged customer's network marks written before they said they were a customer's
(`customer_marks_rewritten`, after its holds: a refused rewrite never holds back a hold), and a
partner's removal that stopped after its first step and that no one asked for again (its rewards
archived, its identifiers marked: `removals.finish_removal`).

It reads only what it may change: the flagged subjects (a sparse index) and their rewards from the
flag on (an index by subject and creation time). Every hold is conditional on the reward and on the
case still taking holds, so a sweep that stops half way, or two sweeps at once, hold nothing twice
and skip nothing: the next run finishes. A subject that fails is reported and skipped; the sweep
goes on with the others.

The shards are swept side by side (`SHARD_WORKERS` threads: the work is waiting on DynamoDB), and
a run stops taking subjects when less than `TIME_MARGIN_SECONDS` of its invocation is left, saying
how many it left: a platform with more flagged subjects than one run can reach still has each of
them swept, as every run starts each shard at another place (`turns.in_turn`), never the same tail left
behind every time.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime

from aws_lambda_powertools.metrics import MetricUnit

from functions.shared.changes import retrying
from functions.shared.domain import actors
from functions.shared.domain.identity import network_pepper
from functions.shared.domain.marks import customer_marks_rewritten, marks_to_rewrite
from functions.shared.domain.model import Subject
from functions.shared.domain.removal import removal_under_way
from functions.shared.domain.turns import in_turn
from functions.shared.errors import DomainError, described
from functions.shared.holds import hold_due
from functions.shared.messaging import RestingPublisher
from functions.shared.observability import logger, metrics
from functions.shared.removals import finish_removal
from functions.shared.runtime import Dependencies
from functions.shared.storage.keys import FLAGGED_SHARDS
from functions.shared.storage.port import CasesPort, RemovalsPort

SHARD_WORKERS = FLAGGED_SHARDS  # one per shard of the `flagged` index
TIME_MARGIN_SECONDS = 20.0  # left to the invocation when a run stops taking subjects
SWEEP_PERIOD_SECONDS = 15 * 60  # the schedule's (SPEC 4): each run starts each shard elsewhere
# flagged subjects a run could not sweep (alarmed when two runs in a row have some: a lasting cause)
SUBJECTS_FAILED_METRIC = "HoldSweepSubjectsFailed"


class SweepFailed(RuntimeError):
    """A run in which every flagged subject failed: its function fails (its error alarm)."""


@dataclass
class SweepReport:
    subjects: int = 0
    held: int = 0
    per_program: dict[str, int] = field(default_factory=dict)
    failed: list[dict[str, str]] = field(default_factory=list)  # left for the next run
    left: int = 0  # flagged subjects this run had no time for (the next run starts elsewhere)
    removals_finished: int = 0  # removals under way this run finished (archives, marks, reviews)
    # partners on the links of removals still under way, left to review at the next run (a run out
    # of time: `linked_removal.REVIEWS_PER_CALL` at a time)
    reviews_left: int = 0

    def add(self, other: SweepReport) -> None:
        self.subjects += other.subjects
        self.held += other.held
        for program_id, held in other.per_program.items():
            self.per_program[program_id] = self.per_program.get(program_id, 0) + held
        self.failed += other.failed
        self.left += other.left
        self.removals_finished += other.removals_finished
        self.reviews_left += other.reviews_left


def sweep(
    deps: Dependencies, time_left: Callable[[], float] | None = None, workers: int | None = None
) -> SweepReport:
    """`time_left`: the seconds the invocation has left (none: no limit); `workers`: shards swept
    side by side (`SHARD_WORKERS` when not given)."""
    deps = replace(deps, publisher=RestingPublisher(deps.publisher))  # a bus down waited on once a while
    store: RemovalsPort = deps.repository
    now = deps.clock.now()
    pepper = network_pepper()
    report = SweepReport()
    # the work lists read first, here: the threads then share a client already made
    shards: list[list[Subject]] = []
    unread: Exception | None = None
    for shard in range(store.flagged_shards()):
        try:
            shards.append(in_turn(store.flagged_subjects(shard), now, SWEEP_PERIOD_SECONDS))
        except Exception as error:  # one shard unread: the others are swept all the same
            unread = error
            _failed(report, "", f"flagged shard {shard}", error)
    if unread is not None and not shards:
        raise unread  # none could be read: the run fails (its function's error alarm)

    def out_of_time() -> bool:
        return time_left is not None and time_left() < TIME_MARGIN_SECONDS

    def sweep_shard(subjects: list[Subject]) -> SweepReport:
        part = SweepReport()
        for n, subject in enumerate(subjects):
            if out_of_time():
                part.left += len(subjects) - n
                break
            _sweep_subject(deps, store, subject, now, pepper, part, out_of_time)
        return part

    with ThreadPoolExecutor(max_workers=max(1, min(workers or SHARD_WORKERS, len(shards)))) as pool:
        for part in pool.map(sweep_shard, shards):
            report.add(part)
    if report.left:
        logger.warning(
            "hold sweep ran out of time; the next run starts elsewhere", extra={"left": report.left}
        )
        metrics.add_metric(name="HoldSweepSubjectsLeft", unit=MetricUnit.Count, value=report.left)
    if report.reviews_left:
        logger.warning(
            "hold sweep ran out of time in a removal's reviews; the next run goes on with them",
            extra={"reviews_left": report.reviews_left},
        )
    if report.failed:
        metrics.add_metric(name=SUBJECTS_FAILED_METRIC, unit=MetricUnit.Count, value=len(report.failed))
    failed_subjects = [f for f in report.failed if f["program_id"]]  # not a shard's list
    if report.subjects >= 2 and len(failed_subjects) == report.subjects:
        # every subject failed: the deployment's fault (a bug, a write refused as malformed), not
        # one subject's; the run fails, as one that reads no shard does (its error alarm, a retry)
        raise SweepFailed(
            f"hold sweep: every one of {report.subjects} flagged subjects failed "
            f"(first: {failed_subjects[0]['error']})"
        )
    logger.info(
        "hold sweep done",
        extra={"subjects": report.subjects, "held": report.held, "failed": len(report.failed)},
    )
    return report


def _sweep_subject(
    deps: Dependencies,
    store: RemovalsPort,
    subject: Subject,
    now: datetime,
    pepper: bytes,
    report: SweepReport,
    out_of_time: Callable[[], bool],
) -> None:
    if subject.removal_pending and subject.flag_case_id:
        report.subjects += 1
        try:
            what = f"finishing {subject.key}'s removal"
            left = retrying(lambda: _finish_removal(deps, store, subject, now, pepper, out_of_time), what)
            if left is not None:
                report.removals_finished += left == 0
                report.reviews_left += left
        except Exception as error:  # noqa: BLE001 (one subject's fault never stops its shard)
            _failed(report, subject.program_id, subject.key, error)
        return
    if not subject.flag_case_id or subject.flagged_at is None:
        return
    report.subjects += 1

    def attempt() -> int:
        key = (subject.program_id, subject.type, subject.id)
        return hold_due(
            store, deps.publisher, key, pepper, now, actors.HOLD_SWEEP, f"sweep/{now.isoformat()}"
        )

    try:
        held = retrying(attempt, f"sweeping {subject.key}")
    except Exception as error:  # noqa: BLE001 (one subject's fault never stops its shard)
        _failed(report, subject.program_id, subject.key, error)
        return
    if held:
        report.held += held
        report.per_program[subject.program_id] = report.per_program.get(subject.program_id, 0) + held
    if marks_to_rewrite(subject):  # housekeeping, once, after the holds
        key = (subject.program_id, subject.type, subject.id)
        try:
            retrying(lambda: _rewrite_customer_marks(store, key, pepper), f"rewriting {subject.key}'s marks")
        except Exception as error:  # noqa: BLE001
            _failed(report, subject.program_id, subject.key, error)


def _finish_removal(
    deps: Dependencies,
    store: RemovalsPort,
    listed: Subject,
    now: datetime,
    pepper: bytes,
    out_of_time: Callable[[], bool],
) -> int | None:
    """A removal that stopped after its first step, or left partners on its links to review
    (`linked_removal.REVIEWS_PER_CALL` at a time), and that no one asked for again: what it left
    to archive, mark and review, from a new read (`removals.finish_removal`), again while reviews
    are left and the run has time; what is still left, the next run. How many reviews are left
    (0: finished), or None when it is done meanwhile (the index a moment behind the profile)."""
    subject = store.get_subject(listed.program_id, listed.type, listed.id)
    case = store.get_case(subject.program_id, subject.flag_case_id or "")
    if not removal_under_way(case, subject):
        return None
    logger.info(
        "hold sweep finishes a removal under way",
        extra={"program_id": case.program_id, "case_id": case.case_id},
    )
    while left := finish_removal(store, deps.publisher, case, None, pepper, now, deps.queue).reviews_left:
        if out_of_time():
            logger.info(
                "hold sweep leaves a removal's reviews to its next run",
                extra={"program_id": case.program_id, "case_id": case.case_id, "left": left},
            )
            return left
    return 0


def _rewrite_customer_marks(store: CasesPort, key: tuple[str, str, str], pepper: bytes) -> None:
    """A flagged customer's network marks of the form before customers' (`CUSTOMER_MARK`),
    rewritten: the subject read again, with the identifiers spilled out of its profile."""
    for step in customer_marks_rewritten(store.get_subject(*key), pepper):
        store.apply(step)


def _failed(report: SweepReport, program_id: str, what: str, error: Exception) -> None:
    """A subject (or a shard's list) the run could not sweep: reported, logged, and left for the
    next run; a fault of the code or a write refused as malformed is logged with its trace."""
    extra = {"program_id": program_id, "subject": what, "error": described(error)}
    if isinstance(error, DomainError):
        logger.warning("hold sweep skipped a subject; the next run tries again", extra=extra)
    else:
        logger.exception("hold sweep skipped a subject; the next run tries again", extra=extra)
    report.failed.append({"program_id": program_id, "subject": what, "error": described(error)})
