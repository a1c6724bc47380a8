"""Loyalty workflow runs behind the queue (SPEC 8: asynchronously, within seconds).

`take_message` is what the workflow queue's consumer does with one message; `relay_due_runs` is
what the relay schedule does: every earn whose workflows were recorded due over a minute ago
(`WORKFLOW_RELAY`) and have not run (the send after the commit failed, or the function stopped
right after it) is sent to the queue again. A run that keeps failing goes to the dead-letter queue
on its last delivery and leaves the due runs, so the relay never sends poison forever.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Annotated

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from functions.loyalty import workflows
from functions.loyalty.models import EarnKind
from functions.shared.config import MAX_RECEIVES
from functions.shared.domain.model import Program
from functions.shared.errors import DomainError, StorageUnavailable, retried_later
from functions.shared.observability import logger, metrics
from functions.shared.relays import RelaySchedule, failed_after_all, queue_behind
from functions.shared.runtime import Dependencies
from functions.shared.storage.port_loyalty import WorkflowRun

# every minute (infra/constants.py SCHEDULES) after one; a copy received stays in the workflow queue
# at most its 5 deliveries (MAX_RECEIVES) of 180 s (its visibility timeout): infra tests hold them
# together (one not received yet: `relays.queue_behind`)
WORKFLOW_RELAY = RelaySchedule(
    after=timedelta(minutes=1), every=timedelta(minutes=1), copy_lifetime=timedelta(minutes=15)
)
PAGE = 2_000  # per program and run: the oldest first in each shard
BUDGET_SECONDS = 50.0  # the relay runs every minute with a 60-second timeout
REFUSED_IN_A_ROW = 3  # runs of a program the workflow queue refused one after another: it is down
# Programs are items of one partition (`PROGRAMS`): a read per run would put every run of every
# program on it. A program's time zone is all a run needs of it, and it rarely changes.
PROGRAM_CACHE = timedelta(seconds=60)
_programs: dict[tuple[int, str], tuple[datetime, Program]] = {}


def _program(deps: Dependencies, program_id: str) -> Program:
    now, key = deps.clock.now(), (id(deps.repository), program_id)
    cached = _programs.get(key)
    if cached is not None and timedelta(0) <= now - cached[0] < PROGRAM_CACHE:
        return cached[1]
    program = deps.repository.get_program(program_id)
    _programs[key] = (now, program)
    return program


class WorkflowRunMessage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    program_id: str = Field(min_length=1, max_length=128)
    action_id: str = Field(min_length=1, max_length=128)
    customer_id: str = Field(min_length=1, max_length=128)
    kind: EarnKind
    at: AwareDatetime
    sent_at: AwareDatetime
    workflows: tuple[Annotated[str, Field(min_length=1, max_length=128)], ...] = Field(
        default=(), max_length=100
    )
    occurred_at: AwareDatetime | None = None  # the earn's own time (absent from a run sent before)


def take_message(deps: Dependencies, body: str, receive_count: int, received: int | None = None) -> None:
    """Runs the workflows of one earn. Raises when it failed: the message comes back, and after
    its last delivery goes to the dead-letter queue (and leaves the due runs). `received`: the
    batch's `workflows.receipt()` (audience sweeps run once per batch)."""
    message = WorkflowRunMessage.model_validate_json(body)  # a malformed body fails to the DLQ
    run = WorkflowRun(
        message.program_id,
        message.action_id,
        message.customer_id,
        message.kind,
        message.at,
        message.workflows,
        message.occurred_at,
    )
    try:
        program = _program(deps, message.program_id)
        workflows.run_due(deps, program, run, workflows.receipt() if received is None else received)
    except Exception as error:  # a fault of this code too: else its run would be relayed for ever
        if receive_count >= MAX_RECEIVES and not retried_later(error, run.at, deps.clock.now()):
            metrics.add_metric(name="LoyaltyWorkflowRunsFailed", unit=MetricUnit.Count, value=1)
            deps.repository.workflow_run_done(run)  # kept in the dead-letter queue, not relayed again
        raise


def relay_due_runs(deps: Dependencies, budget_seconds: float = BUDGET_SECONDS) -> int:
    if deps.workflow_queue is None or queue_behind("workflow relay", deps.workflow_queue):
        return 0
    now = deps.clock.now()
    deadline = time.monotonic() + budget_seconds
    sent = 0
    failed: list[str] = []
    for program in deps.repository.list_programs():
        try:
            refused_in_a_row = 0
            for run in deps.repository.workflow_runs_due(
                program.program_id, now - WORKFLOW_RELAY.after, PAGE
            ):
                if not WORKFLOW_RELAY.due(run.at, now):  # a copy sent may still be queued
                    continue
                try:
                    deps.workflow_queue.send(run, now)
                except StorageUnavailable as error:
                    # one refused: it waits for its next window, the program's other runs go now (a
                    # faults tester's: one refusal held every other suspension back 15 minutes); a
                    # queue that refuses them one after another is down, and the program waits
                    refused_in_a_row += 1
                    if refused_in_a_row >= REFUSED_IN_A_ROW:
                        raise
                    failed.append(f"{program.program_id}: {error.detail}")
                    continue
                refused_in_a_row = 0
                sent += 1
                if time.monotonic() > deadline:
                    break
        except DomainError as error:  # the queue refused, or the runs unreadable: the others go on
            logger.warning("workflow relay skipped a program", extra={"error": error.detail})
            failed.append(f"{program.program_id}: {error.detail}")
        if time.monotonic() > deadline:  # the next run goes on; what failed before fails this one
            logger.info("workflow relay stopped at its time budget", extra={"sent": sent})
            break
    if sent:
        logger.info("workflow runs relayed", extra={"sent": sent})
    failed_after_all("workflow relay", "due runs", failed)
    return sent
