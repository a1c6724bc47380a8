"""The dispute cycle past its time budget (SPEC 7: every disputed case with a verdict is resolved).

One invocation has 900 seconds (Lambda's limit); a platform with more verdicts than that would time
out, be run again by Lambda's retries from the start, and leave the rest for a month. So a run stops
taking cases while it still has `TIME_MARGIN_SECONDS`, and hands the rest on to a fresh invocation
of its own function, which goes on past the last case it took (`CycleRun.after`): a case that
failed is behind it, reported and left for the next cycle as before, never tried again in a loop.

A chain ends when the cycle has been through every case. It fails instead (`CycleStalled`, so the
function's error alarm and, after Lambda's retries, the dead-letter queue say so) when a run ran out
of time having applied no verdict, or when it has been handed on `MAX_CONTINUATIONS` times: a chain
of invocations that makes no progress, or never ends, is worse than a cycle that stops.

The rule (`next_run`) is pure; the port (`Continuation`) has two adapters: Lambda's Invoke API,
asynchronously, on the function's own name (the only function its role may invoke), and the local
system's stand-in for it (`functions.shared.runtime.use_local_invocations`)."""

from __future__ import annotations

import abc
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from functions.shared import runtime
from functions.shared.config import Settings

# Left to an invocation when a run stops taking cases: more than the slowest single case takes. That
# is an approval of a partner holding some ten thousand rewards (a hundred transactions of 100 items,
# and the reads before them, some 15 to 30 s on DynamoDB), or one DynamoDB call that stops answering
# (pynamodb's 5 s to connect and 10 s to read, tried 4 times: a minute). 780 of the 900 s are work.
TIME_MARGIN_SECONDS = 120.0
# Fresh invocations one cycle may take after its scheduled run: at 780 s of work each, twenty take
# over fifteen thousand verdicts at a second a case, far more than a security team records by hand in
# a month. Reached, the chain stops and alarms rather than going on (a bug that never finishes).
MAX_CONTINUATIONS = 20

CONTINUATION_SOURCE = "fraud-management.dispute-cycle"
CONTINUATION_DETAIL_TYPE = "Dispute Cycle Continuation"

Position = tuple[datetime, str, str]  # `cases.dispute_position`: dispute time, program, case


class CycleStalled(RuntimeError):
    """A run stopped at its time budget and may not hand on: the invocation fails, so it alarms."""


class ContinuationRefused(RuntimeError):
    """The continuation could not be handed on (Lambda refused the invocation): the invocation fails
    and Lambda runs it again, from the same place."""


class CycleRun(BaseModel):
    """Which run of the cycle an invocation is: the `detail` of its event. The schedule's Scheduled
    Event has an empty one (the run's first invocation); a continuation carries the run's id, how
    many times it was handed on, and the last case the run before it took."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    run_id: str | None = Field(default=None, min_length=1, max_length=128)
    continuation: int = Field(default=0, ge=0, le=MAX_CONTINUATIONS)
    after: tuple[AwareDatetime, str, str] | None = None


class CycleEvent(EventBridgeModel):
    """The cycle's event: EventBridge's Scheduled Event, or a continuation of the same shape."""

    detail: CycleRun

    def run(self) -> CycleRun:
        """The scheduled run is named after its event; a continuation carries that name on."""
        return self.detail if self.detail.run_id else self.detail.model_copy(update={"run_id": self.id})


def next_run(run: CycleRun, *, applied: int, left: int, last_passed: Position | None) -> CycleRun | None:
    """What follows a run that passed cases (took them, or counted them waiting) up to
    `last_passed`, applied `applied` verdicts (approved, declined or withdrawn) and stopped at its
    time budget with `left` cases with a verdict not taken: nothing when it left none; else a
    continuation past `last_passed`, unless the run made no progress or the chain is at its bound
    (`CycleStalled`)."""
    if left == 0:
        return None
    if applied == 0 or last_passed is None:
        raise CycleStalled(
            f"dispute cycle {run.run_id} ran out of time having applied no verdict "
            f"({left} cases with a verdict left; continuation {run.continuation}): not handed on"
        )
    if run.continuation >= MAX_CONTINUATIONS:
        raise CycleStalled(
            f"dispute cycle {run.run_id} was handed on {run.continuation} times, its bound, "
            f"and still has {left} cases with a verdict left: not handed on"
        )
    return CycleRun(run_id=run.run_id, continuation=run.continuation + 1, after=last_passed)


def continuation_event(run: CycleRun, function_arn: str, at: datetime) -> dict[str, Any]:
    """The event a continuation is invoked with: EventBridge's shape (the handler parses one shape),
    its own source and detail type, the run in its detail."""
    _, _, _, region, account, *_ = function_arn.split(":")
    return {
        "version": "0",
        "id": str(uuid4()),
        "detail-type": CONTINUATION_DETAIL_TYPE,
        "source": CONTINUATION_SOURCE,
        "account": account,
        "time": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [function_arn],
        "detail": run.model_dump(mode="json"),
    }


class Continuation(abc.ABC):
    """Hands the rest of a cycle on to a fresh invocation of the cycle's own function, without
    waiting for it."""

    @abc.abstractmethod
    def hand_on(self, run: CycleRun, at: datetime) -> None: ...


class LambdaContinuation(Continuation):
    """Lambda's Invoke API, asynchronously (`InvocationType='Event'`), on the function's own
    unqualified name: Lambda queues the event and answers at once, and the function's asynchronous
    settings apply to it as to the schedule's (retries, then the dead-letter queue)."""

    def __init__(self, function_name: str, function_arn: str, client: Callable[[], Any]) -> None:
        self._function_name, self._function_arn, self._client = function_name, function_arn, client

    def hand_on(self, run: CycleRun, at: datetime) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        event = continuation_event(run, self._function_arn, at)
        try:
            answer = self._client().invoke(
                FunctionName=self._function_name,
                InvocationType="Event",
                Payload=json.dumps(event).encode(),
            )
        except (BotoCoreError, ClientError) as exc:
            raise ContinuationRefused(f"invoking {self._function_name} again failed: {exc}") from exc
        if answer.get("StatusCode") != 202:
            raise ContinuationRefused(
                f"invoking {self._function_name} again: status {answer.get('StatusCode')}"
            )


class LocalContinuation(Continuation):
    """The local system's asynchronous invocation of the handler (`local_system.lambda_runtime`)."""

    def __init__(
        self, invoke_later: Callable[[str, dict[str, Any]], object], handler: str, function_arn: str
    ) -> None:
        self._invoke_later, self._handler, self._function_arn = invoke_later, handler, function_arn

    def hand_on(self, run: CycleRun, at: datetime) -> None:
        self._invoke_later(self._handler, continuation_event(run, self._function_arn, at))


def continuation_of(context: Any, handler: str) -> Continuation:
    """The invoked function's way to invoke itself: the local system's when it runs the function,
    else Lambda's (its client made only when a run hands on)."""
    local = runtime.local_invocations()
    if local is not None:
        return LocalContinuation(local, handler, context.invoked_function_arn)

    def client() -> Any:
        return runtime.boto3_client("lambda", Settings.from_env())

    return LambdaContinuation(context.function_name, context.invoked_function_arn, client)
