"""A removal racing the dispute cycle: whoever changes the case first wins; the other changes nothing."""

from __future__ import annotations

from functions.disputes.service import run_cycle
from functions.hold_sweep.service import sweep
from functions.shared import runtime
from tests.integration.scoring_support import drain, send
from tests.integration.test_rewards_and_sweep import api_reward, flag_partner
from tests.support import call, proxy_event


def test_a_removal_that_loses_the_race_to_the_dispute_cycle_archives_nothing(
    aws, tenant, security_key, monkeypatch
):
    # Given a flagged partner with a held reward, disputed, with an approving verdict recorded
    case_id = flag_partner(aws, tenant)
    send(tenant, api_reward("r1", "p2", at="2026-11-02T12:30:00Z"))
    drain(aws)
    deps = runtime.dependencies()
    sweep(deps)
    assert (
        call(
            "disputes",
            proxy_event("POST", f"/v1/cases/{case_id}/dispute", {"reason": "ok"}, tenant.keys["admin"]),
        ).status
        == 200
    )
    verdict = {"verdict": "approve", "note": "checked"}
    assert (
        call("disputes", proxy_event("POST", f"/v1/disputes/{case_id}/verdict", verdict, security_key)).status
        == 200
    )

    # When the removal has read the partner's rewards and the cycle resolves the case right then
    real = deps.repository.subject_rewards
    raced = []

    def read_then_the_cycle_runs(*args, **kwargs):
        found = real(*args, **kwargs)
        if not raced:
            raced.append(True)
            monkeypatch.setattr(deps.repository, "subject_rewards", real)
            run_cycle(deps)
        return found

    monkeypatch.setattr(deps.repository, "subject_rewards", read_then_the_cycle_runs)
    answer = call(
        "cases",
        proxy_event("POST", f"/v1/cases/{case_id}/remove", {"block_reapply": False}, tenant.keys["admin"]),
    )

    # Then the removal is refused and the verdict's outcome stands: the reward is pending, not archived
    assert raced and answer.status == 409, answer
    assert aws.repository.get_reward(tenant.program_id, "r1").status == "pending"
    assert aws.repository.get_case(tenant.program_id, case_id).status == "approved"
