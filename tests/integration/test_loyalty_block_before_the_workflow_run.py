"""A workflow's suspension that finds the customer blocked by hand (the mule noticed before the
queue ran the workflow) waits under the block: the unblock leaves the customer suspended, as it does
when the run came first. It made the suspension a no-op while the run wrote its marker for the
period, so the unblock made the customer active for the rest of it."""

from __future__ import annotations

from functions.loyalty import service, workflows
from tests.unit.test_loyalty_rules import Loyalty


def test_a_block_by_hand_before_the_workflow_run_keeps_the_runs_suspension_after_unblock(monkeypatch):
    loyalty = Loyalty()
    loyalty.workflow("cash-out", threshold=3000, actions=[{"type": "suspend"}])
    queued = []
    monkeypatch.setattr(workflows, "dispatch", lambda deps, program, run: queued.append(run))
    loyalty.earn("mule", 5000)  # crosses 3000 today: its run is due, on the queue
    assert queued and loyalty.view("mule")["status"] == "active"

    service.change_status(loyalty.deps, loyalty.fraud, "mule", "block", "5,000 points in a minute")
    monkeypatch.undo()
    for run in queued:  # the queue's consumer: the workflow's suspension meets a blocked customer
        workflows.run_due(loyalty.deps, loyalty.program, run, workflows.receipt())
    service.change_status(loyalty.deps, loyalty.fraud, "mule", "unblock", "cleared the block")

    loyalty.earn("mule", 1)  # still above the threshold today; the workflow ran already
    view = loyalty.view("mule")
    assert view["status"] == "suspended", ([e["action"] for e in view["history"]], view["status"])
