"""Disputes (SPEC 3.3, 7): program teams dispute a case; the platform security team records a
verdict; the monthly dispute cycle applies the verdicts. The rules (which transitions, what a
verdict does to rewards and to the subject) are in `functions.shared.domain.disputes`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from functions.disputes.continuation import TIME_MARGIN_SECONDS, Continuation, CycleRun, next_run
from functions.shared import views
from functions.shared.changes import carry_out, ending_empty, retrying
from functions.shared.domain import actors
from functions.shared.domain.cases import dispute_position
from functions.shared.domain.disputes import (
    UNSEEN,
    VERDICTS,
    dispute_step,
    evidence_since_verdict,
    other_holders,
    resolution_begin_step,
    resolution_plan,
    verdict_step,
    verdict_withdrawal_step,
)
from functions.shared.domain.identity import network_pepper
from functions.shared.domain.model import Case, Subject
from functions.shared.errors import Conflict, DomainError, NotFound, StorageUnavailable, described
from functions.shared.holds import hold_due
from functions.shared.messaging import RestingPublisher
from functions.shared.observability import logger, metrics
from functions.shared.paging import cursor_time, decode_cursor, encode_cursor, fitting, read_page
from functions.shared.runtime import Dependencies
from functions.shared.storage.port import DisputesPort

CASES_FAILED_METRIC = "DisputeCasesFailed"  # cases with a verdict a run could not apply (alarmed)


def dispute(deps: Dependencies, program_id: str, case_id: str, reason: str, actor: str) -> views.CaseView:
    store: DisputesPort = deps.repository
    now = deps.clock.now()

    def attempt() -> Case:
        case = store.get_case(program_id, case_id)
        carry_out(store, [dispute_step(case, reason, actor, now)], deps.publisher)
        return store.get_case(program_id, case_id)

    return views.case_view(retrying(attempt, f"disputing case {case_id}"))


def open_disputes(deps: Dependencies, limit: int, cursor: str | None) -> views.DisputePage:
    """Oldest dispute first across programs, a page past the cursor's position: a page reads about
    a page, however many disputes are open. A verdict does not move a case in this order, so
    recording one between pages neither repeats nor skips a dispute."""
    store: DisputesPort = deps.repository
    query = {"listing": "disputes", "status": "open"}
    after = None
    if cursor:
        at, program_id, case_id = decode_cursor(cursor, query, (str, str, str))
        after = (cursor_time(at), program_id, case_id)
    page, more = read_page(store.disputes(after), limit)
    programs = {p.program_id: p.name for p in store.list_programs()} if page else {}
    items = [views.dispute_view(c, programs.get(c.program_id)) for c in page]
    # a page of long reasons and notes in every program's words ends sooner (`fitting`)
    shown = fitting(item.model_dump(mode="json") for item in items)
    if shown < len(page):
        page, items, more = page[:shown], items[:shown], True
    next_cursor = None
    if more:
        at, program_id, case_id = dispute_position(page[-1])
        next_cursor = encode_cursor((at.isoformat(), program_id, case_id), query)
    return views.DisputePage(items=items, next_cursor=next_cursor)


def record_verdict(
    deps: Dependencies, case_id: str, verdict: str, note: str, actor: str, seen: str | None | object = UNSEEN
) -> views.DisputeView:
    """`seen`: the verdict the caller saw on the case (`disputes.verdict_step`)."""
    store: DisputesPort = deps.repository
    now = deps.clock.now()

    def attempt() -> Case:
        case = _disputed(store, case_id)
        try:
            subject: Subject | None = store.get_subject(case.program_id, case.subject_type, case.subject_id)
        except NotFound:  # a case whose subject is not stored: the verdict on the case alone
            subject = None
        carry_out(store, [verdict_step(case, verdict, note, actor, now, subject, seen=seen)], deps.publisher)
        return store.get_case(case.program_id, case_id)

    recorded = retrying(attempt, f"recording the verdict on {case_id}")
    try:
        program_name: str | None = store.get_program(recorded.program_id).name
    except NotFound:  # a case whose program is not stored (as in the list: no name)
        program_name = None
    return views.dispute_view(recorded, program_name)


def _disputed(store: DisputesPort, case_id: str) -> Case:
    """A disputed case of any program, by id (the security team works across programs): its
    program from the locator its dispute wrote, one read, however many disputes are open. A case
    never disputed is not the security team's to know of: 404; one disputed and since resolved or
    removed is theirs to be told so: 409, with its status."""
    program_id = store.case_program(case_id)
    if program_id is None:
        raise NotFound(f"no disputed case {case_id}")
    try:
        case = store.get_case(program_id, case_id)  # the index lags: the case itself
    except NotFound:
        raise NotFound(f"no disputed case {case_id}") from None
    if case.status != "disputed":
        raise Conflict(
            f"case {case_id} is {case.status}: a verdict is recorded on a disputed case, "
            "before the dispute cycle resolves it"
        )
    return case


def run_cycle(deps: Dependencies) -> dict[str, Any]:
    """Resolves every disputed case that has a verdict; the others wait for the next cycle. An
    approval that new evidence outdated (`evidence_since_verdict`) is withdrawn instead, and
    its case waits for a verdict on what it is now. Safe to run twice, or again after stopping half
    way: each step is conditional on the state it changes. A case that fails is reported and left
    for the next run; the cycle goes on with the others."""
    return _cycle_pass(deps, None, None).report


def run_cycle_invocation(
    deps: Dependencies, run: CycleRun, time_left: Callable[[], float], continuation: Continuation
) -> dict[str, Any]:
    """One invocation of the cycle (`run_cycle`), within its time: the scheduled run, or a
    continuation of it (`continuation`). It stops taking cases when less than
    `TIME_MARGIN_SECONDS` is left and, last, hands the rest on (`next_run`): the continuation
    starts when this run has stopped taking cases, so the two never work on one case. A run that
    stopped reports how many cases with a verdict it `left`, and the number of the
    `continuation` that takes them."""
    # the run's keys on this invocation's lines alone: this thread's, and gone when it ends (kept
    # on the module's logger, they named the run on whatever the process ran next: a warm Lambda's
    # next invocation, and under `make run` every function)
    keys = {"dispute_cycle_run": run.run_id, "continuation": run.continuation}
    logger.thread_safe_append_keys(**keys)
    try:
        done = _cycle_pass(deps, time_left, run.after)
        if failed := done.report["totals"]["failed"]:  # alarmed: a verdict left unapplied waits a month
            metrics.add_metric(name=CASES_FAILED_METRIC, unit=MetricUnit.Count, value=failed)
        if done.left:
            metrics.add_metric(name="DisputeCasesLeft", unit=MetricUnit.Count, value=done.left)
        following = next_run(run, applied=done.applied, left=done.left, last_passed=done.last_passed)
        if following is None:
            return done.report
        logger.warning(
            "dispute cycle ran short of time; a fresh invocation goes on",
            extra={"left": done.left, "next_continuation": following.continuation},
        )
        continuation.hand_on(following, deps.clock.now())
        return {**done.report, "left": done.left, "continuation": following.continuation}
    finally:
        logger.thread_safe_remove_keys(list(keys))


@dataclass
class _Pass:
    report: dict[str, Any]
    applied: int = 0  # verdicts approved, declined or withdrawn
    left: int = 0  # cases with a verdict not taken, for want of time
    # `dispute_position` of the last case passed (taken, or counted as waiting): where a
    # continuation starts, so no case is taken or counted twice
    last_passed: tuple[datetime, str, str] | None = None


def _cycle_pass(
    deps: Dependencies, time_left: Callable[[], float] | None, after: tuple[datetime, str, str] | None
) -> _Pass:
    """The disputes past `after`, until `time_left` (the seconds the invocation has left; none: no
    limit) is under `TIME_MARGIN_SECONDS`."""
    deps = replace(deps, publisher=RestingPublisher(deps.publisher))  # a bus down waited on once a while
    store: DisputesPort = deps.repository
    now = deps.clock.now()
    pepper = network_pepper()
    report: dict[str, dict[str, int]] = defaultdict(
        lambda: {"approved": 0, "declined": 0, "withdrawn": 0, "waiting": 0, "failed": 0}
    )
    done = _Pass({})
    listed_cases = list(store.disputes(after))  # read first: the cycle moves cases between the partitions
    to_take = sum(c.verdict in VERDICTS for c in listed_cases)
    for listed in listed_cases:
        if listed.verdict not in VERDICTS:
            report[listed.program_id]["waiting"] += 1
            done.last_passed = dispute_position(listed)  # counted: a continuation starts past it
            continue
        if time_left is not None and time_left() < TIME_MARGIN_SECONDS:
            done.left = to_take
            break
        to_take -= 1
        done.last_passed = dispute_position(listed)

        def attempt(until_empty: bool, listed: Case = listed) -> str | None:
            case = store.get_case(listed.program_id, listed.case_id)
            if case.status != "disputed" or case.verdict not in VERDICTS:
                return None  # resolved or removed meanwhile
            if evidence_since_verdict(case):
                carry_out(store, [verdict_withdrawal_step(case, now)], deps.publisher)
                # what an approval under way released before the evidence stopped it, held again
                key = (case.program_id, case.subject_type, case.subject_id)
                hold_due(
                    store,
                    deps.publisher,
                    key,
                    pepper,
                    now,
                    actors.DISPUTE_CYCLE,
                    f"withdrawn/{now.isoformat()}",
                )
                return "withdrawn"
            subject = store.get_subject(case.program_id, case.subject_type, case.subject_id)
            if begin := resolution_begin_step(case, subject, max(now, deps.clock.now())):
                # from here nothing of it is held or marked under the case, and the verdict stays:
                # what is read next is all there is to move
                carry_out(store, [begin], deps.publisher)
                subject = store.get_subject(case.program_id, case.subject_type, case.subject_id)
            rewards = store.subject_rewards(case.program_id, case.subject_type, case.subject_id)
            # stamped when applied: a verdict recorded as the cycle ran is older than its resolution
            plan = resolution_plan(case, subject, rewards, pepper, max(now, deps.clock.now()), until_empty)
            *steps, last = plan.steps
            carry_out(store, steps, deps.publisher)
            # what it released that is still a flagged other side's to hold, held before the case's
            # last step: a run stopped before that step finds the case disputed and holds them again
            for other in other_holders(case, plan.moved):
                try:
                    batch = f"released/{now.isoformat()}"
                    hold_due(store, deps.publisher, other, pepper, now, actors.DISPUTE_CYCLE, batch)
                except NotFound:
                    continue  # a customer with no profile holds nothing
            outcome = "approved" if case.verdict == "approve" else "declined"
            try:
                carry_out(store, [last], deps.publisher)
            except StorageUnavailable:
                # its answer lost: committed or not, the case says (a disputes tester's: a committed
                # verdict was reported failed, and the next run, finding it resolved, counted it nowhere)
                if store.get_case(case.program_id, case.case_id).status != outcome:
                    raise
            return outcome

        try:
            outcome = ending_empty(attempt, f"resolving case {listed.case_id}", listed.case_id)
        except Conflict:  # resolved, removed or changed meanwhile: nothing of the verdict to apply
            continue
        except NotFound as error:  # a decided case, or its subject, no longer readable: told, not hidden
            logger.error(
                "dispute cycle could not read a decided case, or its subject: look before running it again",
                extra={"case_id": listed.case_id, "error": error.detail},
            )
            report[listed.program_id]["failed"] += 1
            continue
        except DomainError as error:
            logger.warning(
                "dispute cycle skipped a case; a run by hand or next month's finishes it",
                extra={"case_id": listed.case_id, "error": error.detail},
            )
            report[listed.program_id]["failed"] += 1
            continue
        except Exception as error:  # noqa: BLE001 (one case's fault: a write refused as malformed, a bug)
            # never the cycle's end: the cases after it are resolved, this one reported and alarmed
            logger.exception(
                "dispute cycle failed on a case; the others went on: look before running it again",
                extra={"case_id": listed.case_id, "error": described(error)},
            )
            report[listed.program_id]["failed"] += 1
            continue
        if outcome:
            report[listed.program_id][outcome] += 1
            done.applied += 1
    outcomes = ("approved", "declined", "withdrawn", "waiting", "failed")
    totals = {k: sum(p[k] for p in report.values()) for k in outcomes}
    logger.info("dispute cycle done", extra={**totals, "left": done.left})
    done.report = {"totals": totals, "programs": dict(report)}
    return done
