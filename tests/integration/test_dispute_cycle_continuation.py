"""The monthly dispute cycle past its time budget (SPEC 7; `functions.disputes.continuation`): the
real handler on moto, with a Lambda context whose time runs short after a few cases. A run stops
while it still has the margin, hands the rest on to a fresh invocation of itself, and the chain
resolves every disputed case with a verdict exactly once; a run that made no progress, or a chain at
its bound, stops and fails instead of going on; a case that failed is left behind, not retried."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
from pydantic import ValidationError

from functions.disputes.continuation import MAX_CONTINUATIONS, TIME_MARGIN_SECONDS, CycleStalled
from functions.shared import runtime
from functions.shared.errors import StorageUnavailable
from local_system import lambda_runtime
from local_system.scheduler import scheduled_event
from tests.integration import test_disputes as dispute_tests
from tests.integration.scoring_support import drain
from tests.integration.test_disputes import (
    CYCLE,
    CYCLE_AT,
    VERDICT_AT,
    api,
    buy,
    case_of,
    dispute,
    flag_partner,
    published,
    rewards_of,
    set_clock,
    verdict,
)

FUNCTION_NAME = "fraud-management-dispute-cycle"
FUNCTION_ARN = f"arn:aws:lambda:eu-west-1:123456789012:function:{FUNCTION_NAME}"
# five disputes with a verdict, oldest first, then one without
VERDICTS = ("approve", "decline", "approve", "decline", "approve")
RESOLVED = {
    "approve": ("approved", "dispute_approved", "pending"),
    "decline": ("declined", "dispute_declined", "declined"),
}


class ContextRunningShort:
    """A Lambda context with plenty of time for `cases` cases, then less than the cycle's margin:
    the cycle asks how much is left once before taking each case with a verdict (`None`: plenty
    for every case)."""

    function_name = FUNCTION_NAME
    invoked_function_arn = FUNCTION_ARN
    memory_limit_in_mb = 1024

    def __init__(self, cases: int | None) -> None:
        self.cases, self.asked = cases, 0
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        self.asked += 1
        if self.cases is None or self.asked <= self.cases:
            return 800_000
        return int((TIME_MARGIN_SECONDS - 1) * 1000)


env = dispute_tests.env  # the dispute tests' fixture: their collaborators, clock and bus


@pytest.fixture
def handed_on():
    """The continuations handlers hand on, kept (handler path, event) instead of run."""
    kept: list[tuple[str, dict[str, Any]]] = []
    runtime.use_local_invocations(lambda handler, event: kept.append((handler, event)))
    yield kept
    runtime.use_local_invocations(lambda_runtime.invoke_later)


@pytest.fixture
def disputes(env) -> list[tuple[str, str, str]]:
    """Five partners flagged, each with a commission held, disputed one a minute apart (the cycle's
    order), with the verdicts of `VERDICTS`; a sixth disputed after them, without a verdict. Each
    (case, verdict, held reward); the last one's verdict is None."""
    partners = [f"p-{n}" for n in range(len(VERDICTS) + 1)]
    cases = [flag_partner(env, partner, day=3 + n) for n, partner in enumerate(partners)]
    held = [buy(env, f"c-{partner}", partner, "2026-11-09T09:00:00Z", "10.00") for partner in partners]
    drain(env.aws)
    for case_id in cases:
        assert dispute(env, case_id).status == 200
        env.clock.advance(minutes=1)
    set_clock(env.clock, VERDICT_AT)
    for case_id, outcome in zip(cases, VERDICTS, strict=False):
        assert verdict(env, case_id, outcome).status == 200
    set_clock(env.clock, CYCLE_AT)
    return [(c, v, r) for c, v, r in zip(cases, [*VERDICTS, None], held, strict=True)]


def run(event: dict[str, Any], context: ContextRunningShort) -> dict[str, Any]:
    """The cycle's handler as Lambda calls it, with this context."""
    return lambda_runtime.load_handler(CYCLE)(event, context)


def resolutions(env) -> list[str]:
    return [d["case_id"] for d in published(env, "DisputeResolved")]


def still_disputed(env) -> list[tuple[str, str | None]]:
    answer = api("disputes", "GET", "/v1/disputes", env.security)
    assert answer.status == 200, answer
    return [(d["id"], d["verdict"]) for d in answer.body["items"]]


def assert_each_resolved_once(env, disputes: list[tuple[str, str, str]]) -> None:
    assert sorted(resolutions(env)) == sorted(c for c, v, _ in disputes if v)  # once each
    for case_id, outcome, reward in disputes:
        drawer = case_of(env.tenant, case_id)
        actions = [a["action"] for a in drawer["audit"]]
        if outcome is None:
            assert drawer["status"] == "disputed"
            assert not {"dispute_approved", "dispute_declined"} & set(actions)
            continue
        status, action, reward_status = RESOLVED[outcome]
        assert drawer["status"] == status, case_id
        assert actions.count(action) == 1, (case_id, actions)
        assert rewards_of(env.tenant, partner_id=drawer["subject"]["id"]) == {reward: reward_status}
    assert still_disputed(env) == [(disputes[-1][0], None)]


def test_a_cycle_out_of_time_hands_the_rest_on_until_every_verdict_is_applied_once(env, disputes, handed_on):
    scheduled = scheduled_event("dispute-cycle")

    # When the scheduled run has time for two cases
    first = run(scheduled, ContextRunningShort(cases=2))

    # Then it stopped with the margin left, said so, and handed the rest on to its own function
    assert first["totals"] == {"approved": 1, "declined": 1, "withdrawn": 0, "waiting": 0, "failed": 0}
    assert (first["left"], first["continuation"]) == (3, 1)
    assert resolutions(env) == [disputes[0][0], disputes[1][0]]
    ((handler, event),) = handed_on
    assert handler == CYCLE
    assert (event["source"], event["detail-type"]) == (
        "fraud-management.dispute-cycle",
        "Dispute Cycle Continuation",
    )
    assert (event["account"], event["region"], event["resources"]) == (
        "123456789012",
        "eu-west-1",
        [FUNCTION_ARN],
    )
    assert event["detail"]["run_id"] == scheduled["id"]
    assert event["detail"]["continuation"] == 1
    assert event["detail"]["after"][1:] == [env.tenant.program_id, disputes[1][0]]  # the last case it took
    assert [c for c, _ in still_disputed(env)] == [c for c, _, _ in disputes[2:]]

    # When the continuation has time for two cases too, and the next for all that is left
    second = run(event, ContextRunningShort(cases=2))
    (_, following) = handed_on[1]
    third = run(following, ContextRunningShort(cases=None))

    # Then each went on where the one before stopped, and the last handed nothing on
    assert (second["totals"]["approved"], second["totals"]["declined"], second["left"]) == (1, 1, 1)
    assert following["detail"]["run_id"] == scheduled["id"]
    assert following["detail"]["continuation"] == 2
    assert third == {
        "totals": {"approved": 1, "declined": 0, "withdrawn": 0, "waiting": 1, "failed": 0},
        "programs": {
            env.tenant.program_id: {"approved": 1, "declined": 0, "withdrawn": 0, "waiting": 1, "failed": 0}
        },
    }
    assert len(handed_on) == 2
    # every verdict applied exactly once: one resolution, one audit entry, the rewards moved once
    assert_each_resolved_once(env, disputes)


def test_locally_the_continuation_runs_in_a_fresh_invocation_of_the_same_handler(env, disputes):
    """Without Lambda: the local system's asynchronous invocation (`lambda_runtime.invoke_later`),
    which every function run through `lambda_runtime` is given."""
    threads: list[threading.Thread] = []
    runtime.use_local_invocations(
        lambda handler, event: threads.append(lambda_runtime.invoke_later(handler, event))
    )
    try:
        first = run(scheduled_event("dispute-cycle"), ContextRunningShort(cases=1))
        while [t for t in threads if t.is_alive()]:
            for thread in list(threads):
                thread.join(timeout=120)
    finally:
        runtime.use_local_invocations(lambda_runtime.invoke_later)

    assert (first["left"], first["continuation"]) == (4, 1)
    assert len(threads) == 1  # the continuation had the local 900 s: it finished the rest
    assert_each_resolved_once(env, disputes)


def test_a_run_out_of_time_having_applied_nothing_fails_and_hands_nothing_on(env, disputes, handed_on):
    with pytest.raises(CycleStalled, match="applied no verdict"):
        run(scheduled_event("dispute-cycle"), ContextRunningShort(cases=0))

    assert handed_on == []
    assert resolutions(env) == []
    assert len(still_disputed(env)) == len(disputes)


def test_cases_that_fail_are_left_behind_and_a_run_of_failures_alone_does_not_continue(
    env, disputes, handed_on, monkeypatch
):
    store = env.deps.repository
    real_get_case = store.get_case
    down = {disputes[0][0]}

    def get_case(program_id: str, case_id: str):
        if case_id in down:
            raise StorageUnavailable("the store stopped answering")
        return real_get_case(program_id, case_id)

    monkeypatch.setattr(store, "get_case", get_case)

    # A run whose every case fails until its time runs short applies nothing: it stops, and fails
    down.update(c for c, _, _ in disputes)
    with pytest.raises(CycleStalled, match="applied no verdict"):
        run(scheduled_event("dispute-cycle"), ContextRunningShort(cases=2))
    assert handed_on == []

    # Given the first case alone failing: the run takes it and the next, then its time runs short
    down.intersection_update({disputes[0][0]})
    first = run(scheduled_event("dispute-cycle"), ContextRunningShort(cases=2))

    assert (first["totals"]["failed"], first["totals"]["approved"] + first["totals"]["declined"]) == (1, 1)
    # the continuation goes on past both: the failed case is not tried again in this cycle
    (_, continuation) = handed_on[0]
    assert continuation["detail"]["after"][2] == disputes[1][0]
    rest = run(continuation, ContextRunningShort(cases=None))
    assert rest["totals"]["failed"] == 0 and "left" not in rest
    assert sorted(resolutions(env)) == sorted(c for c, v, _ in disputes[1:] if v)
    assert [c for c, _ in still_disputed(env)] == [disputes[0][0], disputes[-1][0]]

    # the store back, the next cycle finishes the failed case
    down.clear()
    run(scheduled_event("dispute-cycle"), ContextRunningShort(cases=None))
    assert_each_resolved_once(env, disputes)


def test_the_chain_stops_at_its_bound(env, disputes, handed_on):
    last = scheduled_event("dispute-cycle")
    last["detail"] = {"run_id": "run-1", "continuation": MAX_CONTINUATIONS}

    # Given a continuation at the bound, with time for one case of five
    with pytest.raises(CycleStalled, match="its bound"):
        run(last, ContextRunningShort(cases=1))

    # Then it applied what it had time for, and handed nothing on
    assert handed_on == [] and len(resolutions(env)) == 1

    # and a continuation past the bound is refused before any work
    beyond = scheduled_event("dispute-cycle")
    beyond["detail"] = {"run_id": "run-1", "continuation": MAX_CONTINUATIONS + 1}
    with pytest.raises(ValidationError):
        run(beyond, ContextRunningShort(cases=None))
    assert len(resolutions(env)) == 1 and handed_on == []


def test_a_dispute_without_a_verdict_is_counted_waiting_once_across_continuations(env, handed_on):
    # a run that stopped counted the disputes without a verdict it had passed, and its continuation,
    # starting past the last case taken, counted them again
    plan = ("approve", "decline", None, "approve", "decline", None)
    partners = [f"q-{n}" for n in range(len(plan))]
    cases = [flag_partner(env, partner, day=3 + n) for n, partner in enumerate(partners)]
    for case_id in cases:
        assert dispute(env, case_id).status == 200
        env.clock.advance(minutes=1)
    set_clock(env.clock, VERDICT_AT)
    for case_id, given in zip(cases, plan, strict=True):
        if given:
            assert verdict(env, case_id, given).status == 200
    set_clock(env.clock, CYCLE_AT)

    first = run(scheduled_event("dispute-cycle"), ContextRunningShort(cases=2))
    ((_, continuation),) = handed_on
    rest = run(continuation, ContextRunningShort(cases=None))

    assert first["totals"]["waiting"] + rest["totals"]["waiting"] == plan.count(None)
    assert sum(r["totals"][k] for r in (first, rest) for k in ("approved", "declined")) == 4
