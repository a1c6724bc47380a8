"""A partner's removal interrupted part-way (SPEC 3, 3.2, 7), through the real handlers on moto,
the fault injected at botocore as a failing cloud does it: a throttle before one of the removal's
transactions, or its answer lost after it committed. A removal with more rewards than one
transaction takes is written in several; answered 503 after some of them, it left the case `open`
with rewards archived and hold figures lowered, and no audit entry: a dispute then approved left
the partner active with its rewards archived for good; a retry with another `block_reapply`
answered 200 while links stayed blocked; a retry after the last transaction lost its answer was a
409 though the removal had succeeded. Now a removal is forward only from its first transaction,
which removes the case and the partner: asked again it finishes (or answers as done), asked
otherwise it is refused, and the hold sweep finishes it when no one asks."""

from __future__ import annotations

from collections import Counter
from typing import Any

import botocore.client
import pytest
from botocore.exceptions import ClientError

from functions.shared import runtime
from functions.shared.domain.identity import network_pepper
from functions.shared.domain.marks import network_identifiers, network_mark
from functions.shared.domain.profiles import identifiers_of
from local_system.lambda_runtime import invoke
from local_system.scheduler import scheduled_event
from tests.integration.scoring_support import drain, send
from tests.integration.test_rewards_and_sweep import api_reward, flag_partner
from tests.support import call, proxy_event

REWARDS = 60  # more than one transaction of the removal archives (47 a step)
SWEEP = "functions.hold_sweep.handler.lambda_handler"


class Transactions:
    """Counts the `TransactWriteItems` calls while armed; the `at`-th one fails: throttled before it
    is made, or (`lost`) made, committed, and its answer lost."""

    def __init__(self, at: int, lost: bool) -> None:
        self.at, self.lost, self.count, self.armed, self.fired = at, lost, 0, True, False

    def check(self, operation: str, after: bool) -> None:
        if not self.armed or operation != "TransactWriteItems":
            return
        if not after:
            self.count += 1
        if self.count == self.at and after == self.lost:
            self.fired = True
            code = "InternalServerError" if self.lost else "ThrottlingException"
            raise ClientError({"Error": {"Code": code, "Message": "injected"}}, operation)


def _failing(monkeypatch: Any, at: int, lost: bool) -> Transactions:
    real = botocore.client.BaseClient._make_api_call
    fault = Transactions(at, lost)

    def call_failing(client: Any, operation: str, params: dict[str, Any]) -> Any:
        fault.check(operation, after=False)
        answer = real(client, operation, params)
        fault.check(operation, after=True)
        return answer

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", call_failing)
    return fault


def _partner_with_many_rewards(aws, tenant) -> str:
    """A flagged partner p2 with `REWARDS` rewards on hold, half USD, half EUR; its case's id."""
    case_id = flag_partner(aws, tenant)
    for n in range(REWARDS):
        currency = "USD" if n % 2 == 0 else "EUR"
        at = f"2026-11-03T{10 + n // 60:02}:{n % 60:02}:00Z"
        send(tenant, api_reward(f"rw-{n:03}", "p2", amount=f"{1 + n % 7}.25", currency=currency, at=at))
        if n % 25 == 24:
            drain(aws)
    drain(aws)
    return case_id


def _remove(tenant, case_id: str, block_reapply: bool = True):
    body = {"block_reapply": block_reapply}
    return call("cases", proxy_event("POST", f"/v1/cases/{case_id}/remove", body, tenant.keys["fraud"]))


def _removal_done(tenant, case_id: str, block_reapply: bool = True) -> None:
    """The end state of a removal (SPEC 3.2): every reward archived and counted so, nothing held, the
    partner removed with nothing left pending, each identifier marked removed (and blocked where a
    block covers re-applying), here and across the network; the summary holds nothing."""
    store = runtime.dependencies().repository
    pid = tenant.program_id
    rewards = store.subject_rewards(pid, "partner", "p2")
    assert Counter(r.status for r in rewards) == {"archived": REWARDS}
    case = store.get_case(pid, case_id)
    assert (case.status, case.block_reapply, case.archived_count) == ("removed", block_reapply, REWARDS)
    assert case.held_count == 0 and not any(case.hold_micros.values())
    subject = store.get_subject(pid, "partner", "p2")
    assert subject.status == "removed" and not subject.removal_pending and not subject.marks_pending
    pepper = network_pepper()
    ids = identifiers_of(subject)
    net = network_identifiers(subject, pepper, ids)
    snap = store.scoring_snapshot(pid, ("partner", "-"), None, ids, net, [])
    assert all(subject.key in snap.links[k].removed for k in ids)
    blocked = {k for k in ids if subject.key in snap.links[k].blocked}
    assert blocked == ({k for k in ids if k[0] in ("email", "device")} if block_reapply else set())
    mark = network_mark(pid, subject, pepper)
    assert all(mark in snap.network[k].removed for k in net)
    summary = call("cases", proxy_event("GET", "/v1/summary", None, tenant.keys["fraud"])).body
    assert summary["held_rewards"]["count"] == 0


@pytest.mark.parametrize(
    ("at", "lost"),
    [(2, False), (3, True)],
    ids=["throttled-before-the-2nd-transaction", "answer-lost-after-the-3rd"],
)
def test_a_removal_stopped_part_way_is_never_undone_and_the_sweep_finishes_it(
    aws, tenant, security_key, monkeypatch, at, lost
):
    # Given a flagged partner with more rewards than one of the removal's transactions archives
    case_id = _partner_with_many_rewards(aws, tenant)
    store = runtime.dependencies().repository

    # When the removal is answered 503 part-way, and the team does not ask again
    fault = _failing(monkeypatch, at, lost)
    answer = _remove(tenant, case_id)
    fault.armed = False
    assert fault.fired and answer.status == 503, answer

    # Then the case says removed already, and its audit trail says by whom: nothing to dispute,
    # nothing for the security team to approve (the partner's rewards are never given back half)
    drawer = call("cases", proxy_event("GET", f"/v1/cases/{case_id}", None, tenant.keys["fraud"]))
    assert drawer.body["status"] == "removed", drawer.body
    assert "partner_removed" in [entry.action for _, entry in store.case_audit(tenant.program_id, case_id)]
    disputing = proxy_event("POST", f"/v1/cases/{case_id}/dispute", {"reason": "ok"}, tenant.keys["fraud"])
    dispute = call("disputes", disputing)
    assert dispute.status == 409, dispute
    assert store.get_case(tenant.program_id, case_id).status == "removed"
    # nor a reward still on hold meanwhile to approve (a reviewer's: it was approved, then paid);
    # stopped before its second transaction, the removal has archived none yet
    held = [r for r in store.subject_rewards(tenant.program_id, "partner", "p2") if r.status == "on_hold"]
    assert held or at > 2
    for reward in held[:1]:
        path = f"/v1/rewards/{reward.reward_id}/override"
        approved = call("cases", proxy_event("POST", path, {"status": "approved"}, tenant.keys["fraud"]))
        assert approved.status == 409 and "removed" in approved.body["detail"], approved

    # And the hold sweep finishes it: every reward archived, every identifier marked
    report = invoke(SWEEP, scheduled_event("hold-sweep"))
    assert not report["failed"], report
    _removal_done(tenant, case_id)


def test_a_removal_asked_again_with_another_block_choice_is_refused_while_the_first_is_under_way(
    aws, tenant, monkeypatch
):
    # Given a removal with a block answered 503 after its 2nd transaction committed
    case_id = _partner_with_many_rewards(aws, tenant)
    fault = _failing(monkeypatch, 2, lost=True)
    first = _remove(tenant, case_id, block_reapply=True)
    fault.armed = False
    assert fault.fired and first.status == 503, first

    # When the analyst asks again without the block
    unblocked = _remove(tenant, case_id, block_reapply=False)

    # Then it is refused, naming the removal under way (a 200 would say "not blocked" while the
    # removal blocks), and the removal asked as it was asked finishes it
    assert unblocked.status == 409, unblocked
    assert "under way" in unblocked.body["detail"] and "block_reapply true" in unblocked.body["detail"]
    again = _remove(tenant, case_id, block_reapply=True)
    assert again.status == 200 and again.body["block_reapply"] is True, again
    _removal_done(tenant, case_id, block_reapply=True)


def test_a_removal_whose_last_transaction_lost_its_answer_is_answered_as_done_when_asked_again(
    aws, tenant, monkeypatch
):
    # Given a removal whose every transaction committed, the last one's answer lost (a 503)
    case_id = _partner_with_many_rewards(aws, tenant)
    clean = _failing(monkeypatch, 0, lost=True)  # counts how many the removal writes: none fails
    twin = flag_partner(aws, tenant, partner_id="p3", at="2026-11-02T12:30:00Z")
    for n in range(REWARDS):
        send(tenant, api_reward(f"tw-{n:03}", "p3", at=f"2026-11-03T{10 + n // 60:02}:{n % 60:02}:00Z"))
    drain(aws)
    clean.count = 0
    assert _remove(tenant, twin).status == 200
    last = clean.count
    fault = _failing(monkeypatch, last, lost=True)
    answer = _remove(tenant, case_id)
    fault.armed = False
    assert fault.fired and fault.count == last and answer.status == 503, answer
    listed = call("cases", proxy_event("GET", "/v1/removed-partners", None, tenant.keys["fraud"]))
    assert case_id in [row["case_id"] for row in listed.body["items"]], listed.body

    # When the analyst asks again, as asked
    again = _remove(tenant, case_id)

    # Then it is answered as the removal it is (done), not as a conflict
    assert again.status == 200 and again.body["block_reapply"] is True, again
    assert again.body["archived_rewards"]["count"] == REWARDS
    _removal_done(tenant, case_id)
