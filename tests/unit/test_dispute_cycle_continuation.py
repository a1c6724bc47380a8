"""The dispute cycle's continuation, without storage: the rule that decides whether a run that ran
short of time hands on (`next_run`), the event a continuation is invoked with, and the two ways of
invoking it (Lambda's Invoke API, the local system's)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from pydantic import ValidationError

from functions.disputes import continuation
from functions.disputes.continuation import (
    MAX_CONTINUATIONS,
    ContinuationRefused,
    CycleEvent,
    CycleRun,
    CycleStalled,
    LambdaContinuation,
    LocalContinuation,
    continuation_event,
    continuation_of,
    next_run,
)
from functions.shared import runtime
from infra import constants
from local_system import lambda_runtime
from local_system.scheduler import scheduled_event

ARN = "arn:aws:lambda:eu-west-1:123456789012:function:fraud-management-dispute-cycle"
AT = datetime(2026, 12, 1, 0, 13, 5, tzinfo=UTC)
TAKEN = (datetime(2026, 11, 20, 10, 3, tzinfo=UTC), "prg-a", "case-7")
RUN = CycleRun(run_id="run-1")


# --- the rule -----------------------------------------------------------------------------------
def test_a_run_that_left_nothing_ends_the_cycle() -> None:
    assert next_run(RUN, applied=0, left=0, last_passed=None) is None
    assert next_run(RUN, applied=12, left=0, last_passed=TAKEN) is None


def test_a_run_that_made_progress_hands_on_past_the_last_case_it_took() -> None:
    following = next_run(CycleRun(run_id="run-1", continuation=3), applied=1, left=40, last_passed=TAKEN)

    assert following == CycleRun(run_id="run-1", continuation=4, after=TAKEN)


@pytest.mark.parametrize("last_passed", [None, TAKEN], ids=["took-nothing", "took-only-failures"])
def test_a_run_that_applied_no_verdict_does_not_hand_on(last_passed) -> None:
    with pytest.raises(CycleStalled, match="applied no verdict"):
        next_run(RUN, applied=0, left=5, last_passed=last_passed)


def test_the_chain_ends_at_its_bound() -> None:
    assert next_run(
        CycleRun(run_id="run-1", continuation=MAX_CONTINUATIONS - 1), applied=9, left=1, last_passed=TAKEN
    ) == CycleRun(run_id="run-1", continuation=MAX_CONTINUATIONS, after=TAKEN)
    with pytest.raises(CycleStalled, match="its bound"):
        next_run(
            CycleRun(run_id="run-1", continuation=MAX_CONTINUATIONS), applied=9, left=1, last_passed=TAKEN
        )


def test_the_margin_outlasts_a_stuck_call_and_leaves_most_of_the_invocation_to_work() -> None:
    assert 60 <= continuation.TIME_MARGIN_SECONDS <= constants.DISPUTE_CYCLE.timeout_seconds / 4


# --- the event ----------------------------------------------------------------------------------
def test_the_schedule_s_event_is_a_run_named_after_it() -> None:
    event = scheduled_event("dispute-cycle")

    run = CycleEvent.model_validate(event).run()

    assert run == CycleRun(run_id=event["id"], continuation=0, after=None)


def test_a_continuation_event_carries_the_run_and_parses_as_the_schedule_s_does() -> None:
    run = CycleRun(run_id="run-1", continuation=2, after=TAKEN)

    event = continuation_event(run, ARN, AT)

    assert {k: event[k] for k in ("source", "detail-type", "account", "region", "time", "resources")} == {
        "source": "fraud-management.dispute-cycle",
        "detail-type": "Dispute Cycle Continuation",
        "account": "123456789012",
        "region": "eu-west-1",
        "time": "2026-12-01T00:13:05Z",
        "resources": [ARN],
    }
    parsed = CycleEvent.model_validate(json.loads(json.dumps(event)))  # as Lambda hands it over
    assert parsed.run() == run and parsed.id != "run-1"


@pytest.mark.parametrize(
    "detail",
    [
        {"continuation": MAX_CONTINUATIONS + 1},
        {"continuation": -1},
        {"after": ["2026-11-20T10:03:00", "prg-a", "case-7"]},  # a time without its offset
        {"run_id": ""},
        {"continue": True},  # not the cycle's
    ],
)
def test_a_detail_the_cycle_never_wrote_is_refused(detail: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        CycleEvent.model_validate({**scheduled_event("dispute-cycle"), "detail": detail})


# --- the adapters -------------------------------------------------------------------------------
@pytest.fixture
def lambda_client(monkeypatch: pytest.MonkeyPatch) -> Any:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    return boto3.client("lambda", region_name="eu-west-1")


def test_deployed_it_invokes_its_own_function_asynchronously(lambda_client: Any) -> None:
    adapter = LambdaContinuation("fraud-management-dispute-cycle", ARN, lambda: lambda_client)
    expected = {"FunctionName": "fraud-management-dispute-cycle", "InvocationType": "Event", "Payload": ANY}
    sent: list[bytes] = []
    lambda_client.meta.events.register(
        "before-parameter-build.lambda.Invoke", lambda params, **_: sent.append(params["Payload"])
    )

    with Stubber(lambda_client) as stubber:
        stubber.add_response("invoke", {"StatusCode": 202}, expected)
        adapter.hand_on(CycleRun(run_id="run-1", continuation=1, after=TAKEN), AT)
        stubber.assert_no_pending_responses()

    (payload,) = sent
    assert json.loads(payload)["detail"] == {
        "run_id": "run-1",
        "continuation": 1,
        "after": ["2026-11-20T10:03:00Z", "prg-a", "case-7"],
    }


def test_deployed_a_refused_invocation_fails_the_run(lambda_client: Any) -> None:
    adapter = LambdaContinuation("fraud-management-dispute-cycle", ARN, lambda: lambda_client)

    with Stubber(lambda_client) as stubber:
        stubber.add_client_error("invoke", "TooManyRequestsException", http_status_code=429)
        with pytest.raises(ContinuationRefused, match="invoking fraud-management-dispute-cycle again"):
            adapter.hand_on(RUN, AT)


class _Context:
    function_name = "fraud-management-dispute-cycle"
    invoked_function_arn = ARN


def test_locally_it_invokes_the_handler_through_the_local_system_and_deployed_through_lambda() -> None:
    invoked: list[tuple[str, dict[str, Any]]] = []
    runtime.use_local_invocations(lambda handler, event: invoked.append((handler, event)))
    try:
        local = continuation_of(_Context(), "functions.disputes.cycle.lambda_handler")
        local.hand_on(RUN, AT)
        runtime.use_local_invocations(None)
        deployed = continuation_of(_Context(), "functions.disputes.cycle.lambda_handler")
    finally:
        runtime.use_local_invocations(lambda_runtime.invoke_later)

    assert isinstance(local, LocalContinuation) and isinstance(deployed, LambdaContinuation)
    ((handler, event),) = invoked
    assert handler == "functions.disputes.cycle.lambda_handler"
    assert CycleEvent.model_validate(event).run() == RUN


def _sees(event: dict[str, Any], context: Any) -> Any:
    """A handler that answers the asynchronous invocation it was given."""
    return runtime.local_invocations()


def test_every_function_the_local_system_runs_is_given_its_asynchronous_invocation() -> None:
    runtime.use_local_invocations(None)  # as in a process that only imported the local runtime
    try:
        seen = lambda_runtime.invoke(f"{__name__}._sees", {})
    finally:
        runtime.use_local_invocations(lambda_runtime.invoke_later)

    assert seen is lambda_runtime.invoke_later


def test_locally_the_cycle_invokes_the_handler_it_is_deployed_with() -> None:
    from functions.disputes import cycle

    assert constants.DISPUTE_CYCLE.handler == cycle.HANDLER
