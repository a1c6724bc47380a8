"""The relays when what they hand on to refuses (SPEC 6: notifications at least once, even when the
bus is down; SPEC 8: workflows run behind their queue), through their handlers on moto, the fault
injected at botocore: a workflow relay run that could not hand work on fails (its function's error
alarm), notifications the bus refuses wait measured (an alarm on their wait); one program's refusal
never keeps another program's work waiting."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import botocore.client
import pytest
from botocore.exceptions import ClientError

from functions.loyalty import runs
from functions.outbox_relay.service import WAITING_METRIC
from functions.shared import runtime
from functions.shared.clock import FixedClock
from functions.shared.errors import StorageUnavailable
from functions.shared.messaging import PartlyRefused
from local_system.lambda_runtime import invoke
from local_system.scheduler import scheduled_event
from tests.conftest import Aws, Tenant
from tests.integration.scoring_support import drain, send, signup
from tests.integration.test_loyalty_scale import SUSPEND_OVER_100, earn_only, queued_runs
from tests.integration.test_loyalty_support import (  # noqa: F401 (fixtures)
    Loyalty,
    bus_fixture,
    clock_fixture,
)
from tests.support import invoke_raw

REAL = botocore.client.BaseClient._make_api_call
SCHEDULED = {"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}


@pytest.fixture(autouse=True)
def _real_calls(monkeypatch: Any) -> None:
    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", REAL)


def _bus_down(how: str) -> Any:
    def call(client: Any, operation: str, params: dict[str, Any]) -> Any:
        if client.meta.service_model.service_name == "events" and operation == "PutEvents":
            if how == "error":
                raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "injected"}}, operation)
            return {  # the call answers, every entry refused (PutEvents' partial failure)
                "FailedEntryCount": len(params["Entries"]),
                "Entries": [
                    {"ErrorCode": "InternalFailure", "ErrorMessage": "injected"} for _ in params["Entries"]
                ],
            }
        return REAL(client, operation, params)

    return call


@pytest.mark.parametrize("how", ["error", "failed_entries"])
def test_notifications_the_bus_refuses_wait_measured_for_an_alarm_and_the_next_run_delivers_them(
    aws: Aws, tenant: Tenant, monkeypatch: Any, capsys: Any, how: str
) -> None:
    # Given a flag's notifications kept in the outbox, the bus down
    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", _bus_down(how))
    send(tenant, signup("pa1", email="same@example.com", ip="81.2.73.10", at="2026-11-02T09:00:00Z"))
    send(tenant, signup("pa2", email="same@example.com", ip="81.2.73.11", at="2026-11-02T10:00:00Z"))
    drain(aws)
    deps = runtime.dependencies()
    waiting = deps.repository.pending_notifications(tenant.program_id, 100)
    assert waiting

    # When the relay runs with the bus still down, 40 minutes on, then again once it is back
    deps.clock = FixedClock(deps.clock.now() + timedelta(minutes=40))
    capsys.readouterr()
    assert invoke_raw("outbox_relay", SCHEDULED)["notifications"] == 0  # the run ends well

    # Then they are kept, and how long the oldest has waited is what the alarm watches
    assert len(deps.repository.pending_notifications(tenant.program_id, 100)) == len(waiting)
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    (waited,) = [m[WAITING_METRIC] for m in emitted if WAITING_METRIC in m]
    # from when they were recorded, not from their events' time (a month before: a disputes
    # tester's backfill, refused once, read as waiting for as long as its events were old)
    assert 40 * 60 <= waited[0] < 41 * 60, waited
    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", REAL)
    done = invoke_raw("outbox_relay", SCHEDULED)

    # And nothing was lost: the run after delivers them all
    assert done["notifications"] == len(waiting)
    assert deps.repository.pending_notifications(tenant.program_id, 100) == []


class _WorkflowQueue:
    """The workflow queue refusing the runs `refuses(run)` names (all of them: a queue down), each
    send tried kept in `tried` (its customer) first."""

    def __init__(self, working: Any, refuses: Any) -> None:
        self.working, self.refuses, self.tried = working, refuses, []

    def send(self, run: Any, sent_at: Any) -> None:
        self.tried.append(run.customer_id)
        if self.refuses(run):
            raise StorageUnavailable("workflow queue refused it (test)")
        self.working.send(run, sent_at)

    def waiting(self) -> int:
        return self.working.waiting()


def _two_programs_runs_unsent(tenant: Tenant, other_tenant: Tenant, monkeypatch: Any) -> tuple:
    """Two programs with a suspending workflow, and an earn of each past it whose run's send was
    lost (recorded due, for the relay): the dependencies, the working queue, the programs in the
    order the relay takes them."""
    deps = runtime.dependencies()
    working = deps.workflow_queue
    order = [p.program_id for p in deps.repository.list_programs()]
    first, second = sorted((tenant, other_tenant), key=lambda t: order.index(t.program_id))
    for t in (first, second):
        Loyalty(t.keys).workflow("big", SUSPEND_OVER_100)
    monkeypatch.setattr(deps, "workflow_queue", _WorkflowQueue(working, lambda run: True))
    assert earn_only(Loyalty(first.keys), "m1", 150).status == 200
    assert earn_only(Loyalty(second.keys), "m2", 150).status == 200
    return deps, working, first, second


def test_one_programs_refused_send_keeps_no_other_programs_runs_waiting(
    tenant, other_tenant, aws, clock, monkeypatch
):
    # Given two programs' due workflow runs, their sends at earn time lost
    deps, working, first, second = _two_programs_runs_unsent(tenant, other_tenant, monkeypatch)
    monkeypatch.setattr(deps, "workflow_queue", working)
    assert queued_runs() == []

    def refusing(client: Any, operation: str, params: dict[str, Any]) -> Any:
        if operation == "SendMessage" and first.program_id in str(params.get("MessageBody", "")):
            raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "injected"}}, operation)
        return REAL(client, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", refusing)
    clock.advance(seconds=runs.WORKFLOW_RELAY.after.total_seconds() + 1)

    # When the workflow relay runs, the queue refusing the first program's sends
    with pytest.raises(StorageUnavailable, match="due runs of 1 program"):
        invoke("functions.loyalty.workflow_relay.lambda_handler", scheduled_event("loyalty-workflow-relay"))

    # Then the second program's run was relayed all the same, and the run failed after (its alarm)
    assert [m["program_id"] for m in queued_runs()] == [second.program_id]


def test_a_refused_program_still_fails_the_workflow_relay_when_the_budget_ends_it(
    tenant, other_tenant, aws, clock, monkeypatch
):
    # Given two programs' due workflow runs, their sends at earn time lost
    deps, working, first, second = _two_programs_runs_unsent(tenant, other_tenant, monkeypatch)

    refusing_first = _WorkflowQueue(working, lambda run: run.program_id == first.program_id)
    monkeypatch.setattr(deps, "workflow_queue", refusing_first)
    clock.advance(seconds=runs.WORKFLOW_RELAY.after.total_seconds() + 1)

    # When the relay runs out of its time with the second's send, the first's refused before
    # Then the run fails all the same: the first program's suspension waits unsent
    with pytest.raises(StorageUnavailable, match="due runs of 1 program"):
        runs.relay_due_runs(deps, budget_seconds=0.0)


def test_one_refused_run_keeps_no_other_run_of_its_program_waiting(tenant, aws, clock, monkeypatch):
    """A faults tester's: the queue back after an outage, one send of the relay's refused once, and
    every other due run of the program (four suspensions) waited for the relay's next window, 15
    minutes, where SPEC 8 says seconds."""
    deps = runtime.dependencies()
    working = deps.workflow_queue
    loyalty = Loyalty(tenant.keys)
    loyalty.workflow("big", SUSPEND_OVER_100)

    monkeypatch.setattr(deps, "workflow_queue", _WorkflowQueue(working, lambda run: True))
    for n in range(4):  # four customers past the threshold, their runs' sends lost
        assert earn_only(loyalty, f"m{n}", 150).status == 200
    once = _WorkflowQueue(working, lambda run: len(once.tried) == 1)  # the relay's first send refused
    monkeypatch.setattr(deps, "workflow_queue", once)
    clock.advance(seconds=runs.WORKFLOW_RELAY.after.total_seconds() + 1)

    # When the relay runs, its first send refused (the run fails after: its alarm)
    with pytest.raises(StorageUnavailable, match="due runs of 1 program"):
        runs.relay_due_runs(deps)

    # Then the three others were relayed all the same
    relayed = {m["customer_id"] for m in queued_runs()}
    refused = once.tried[:1]
    assert relayed == {f"m{n}" for n in range(4)} - set(refused), (relayed, refused)


def test_a_queue_refusing_run_after_run_is_down_and_the_program_waits(tenant, aws, clock, monkeypatch):
    # (not one refusal per due run, each waiting its timeout: a queue that refuses three in a row is down)
    deps = runtime.dependencies()
    loyalty = Loyalty(tenant.keys)
    loyalty.workflow("big", SUSPEND_OVER_100)
    down = _WorkflowQueue(deps.workflow_queue, lambda run: True)
    monkeypatch.setattr(deps, "workflow_queue", down)
    for n in range(6):
        assert earn_only(loyalty, f"m{n}", 150).status == 200
    tried = down.tried
    tried.clear()
    clock.advance(seconds=runs.WORKFLOW_RELAY.after.total_seconds() + 1)

    with pytest.raises(StorageUnavailable, match="due runs of 1 program"):  # one program, refused thrice
        runs.relay_due_runs(deps)

    assert len(tried) == runs.REFUSED_IN_A_ROW


def test_one_refused_message_of_a_batch_keeps_no_other_page_of_its_program_waiting(
    aws: Aws, tenant: Tenant, monkeypatch: Any
) -> None:
    """A faults tester's: after a scoring queue outage, one message of the relay's first batch
    refused (`SendMessageBatch`'s partial failure, `PartlyRefused`) and the program's later pages
    waited for the relay's next window, 15 minutes: at SPEC 1's rate, its whole backlog."""
    from functions.outbox_relay import service as relay

    monkeypatch.setattr(relay, "PAGE", 5)  # 500 a page deployed: 12 events stand for 1,200
    deps = runtime.dependencies()
    working = deps.queue

    class DownQueue:
        def send(self, program_id: str, event_id: str) -> None:
            raise StorageUnavailable("scoring queue unavailable (test)")

    monkeypatch.setattr(deps, "queue", DownQueue())
    events = [
        signup(f"pq{n}", email=f"pq{n}@example.org", ip=f"81.2.74.{n + 10}", at="2026-11-02T09:00:00Z")
        for n in range(12)
    ]
    for event in events:
        send(tenant, event)  # accepted, their sends refused: in the outbox
    refused: list[str] = []

    class RefusingOneOfTheFirstBatch:
        def send_many(self, batch: list[tuple[str, str]]) -> None:
            if refused:
                return working.send_many(batch)
            refused.append(batch[0][1])
            working.send_many(batch[1:])
            raise PartlyRefused(f"scoring queue refused 1 of {len(batch)} messages", 1)

        def waiting(self) -> int:
            return working.waiting()

    monkeypatch.setattr(deps, "queue", RefusingOneOfTheFirstBatch())
    deps.clock = FixedClock(deps.clock.now() + timedelta(minutes=3))

    with pytest.raises(StorageUnavailable, match="refused 1 of"):
        relay.relay_outbox(deps)  # the run fails after (its alarm), its pages sent
    drain(aws)

    waiting = [
        e["id"] for e in events if deps.repository.get_event(tenant.program_id, e["id"]).status != "scored"
    ]
    assert waiting == refused  # all but the one refused, which waits for its next window


def test_a_batch_the_queue_took_but_for_some_is_told_from_one_it_refused(aws: Aws) -> None:
    # `SqsScoringQueue.send_many`: SendMessageBatch answers with its `Failed` entries
    from functions.shared.messaging import SqsScoringQueue

    class Sqs:
        def __init__(self, failing: int) -> None:
            self.failing = failing

        def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
            failed = [
                {"Id": e["Id"], "SenderFault": False, "Code": "InternalError"}
                for e in Entries[: self.failing]
            ]
            return {"Successful": [{"Id": e["Id"]} for e in Entries[self.failing :]], "Failed": failed}

    batch = [("prg-1", f"e{n}") for n in range(12)]
    with pytest.raises(PartlyRefused, match="refused 2 of 12") as partly:  # one of each batch of 10
        SqsScoringQueue(Sqs(1), "https://queue").send_many(batch)
    assert partly.value.refused == 2
    with pytest.raises(StorageUnavailable) as refused:  # every batch refused whole: the queue is down
        SqsScoringQueue(Sqs(10), "https://queue").send_many(batch)
    assert not isinstance(refused.value, PartlyRefused)
