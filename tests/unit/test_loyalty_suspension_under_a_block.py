"""A workflow's suspension that meets a customer blocked by hand now waits under the
block (37db65a): the unblock leaves the customer suspended. No `CustomerSuspended` is recorded
for it, neither when the run writes "suspended, under the block" nor at the unblock that makes the
customer suspended (an unblock sends nothing). The operator's route for `CustomerSuspended` (a
webhook, the team's chat) never hears of a customer who is suspended, by that workflow, where the
same sequence with the run first (suspend, then block, then unblock) sent it."""

from __future__ import annotations

from functions.loyalty import service, workflows
from tests.unit.test_loyalty_rules import Loyalty


def _mule(monkeypatch, *, block_first: bool) -> Loyalty:
    loyalty = Loyalty()
    loyalty.workflow("cash-out", threshold=3000, actions=[{"type": "suspend"}])
    queued = []
    monkeypatch.setattr(workflows, "dispatch", lambda deps, program, run: queued.append(run))
    loyalty.earn("mule", 5000)
    monkeypatch.undo()
    if block_first:
        service.change_status(loyalty.deps, loyalty.fraud, "mule", "block", "5,000 points in a minute")
    for run in queued:
        workflows.run_due(loyalty.deps, loyalty.program, run, workflows.receipt())
    if not block_first:
        service.change_status(loyalty.deps, loyalty.fraud, "mule", "block", "5,000 points in a minute")
    service.change_status(loyalty.deps, loyalty.fraud, "mule", "unblock", "cleared the block")
    assert loyalty.view("mule")["status"] == "suspended"
    return loyalty


def test_control_the_run_first_sends_customer_suspended(monkeypatch):
    assert _mule(monkeypatch, block_first=False).sent("CustomerSuspended") == ["mule"]


def test_a_suspension_that_waited_under_the_block_is_notified(monkeypatch):
    loyalty = _mule(monkeypatch, block_first=True)
    assert loyalty.sent("CustomerSuspended") == ["mule"], (
        "the customer is suspended by the workflow, and no CustomerSuspended was ever sent"
    )
