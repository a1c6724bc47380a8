"""Kept figures, against moto through the real handlers: a held reward the dispute cycle moves
from an approved case to the declined case that keeps its partner flagged (`reward_chunks(...,
under=keeper)`: on_hold -> on_hold, another case) while a teammate acts on that reward. The
teammate's write was conditioned on the reward's status only and took the hold away from the case
it read (the approved case then held -1, the other one a hold that no longer was); it now holds
only while the reward is under that case (`MoveReward.expect_case`), and is read again."""

from __future__ import annotations

from typing import Any

from functions.disputes.service import run_cycle
from tests.integration.scoring_support import drain, send, signup, status
from tests.integration.test_partner_regressions import (
    api,
    dispute_and_decide,
    flag_by_email,
    reward_event,
)
from tests.support import sample


def flag_again(env, partner_id: str, twin: str, at: str) -> str:
    update = sample("account.updated", id=f"upd2-{partner_id}", occurred_at=at, activity="email_change")
    update["partner"] = {"id": partner_id, "email": twin}
    send(env.tenant, update)
    drain(env.aws)
    answer = status(env.tenant, update["id"])
    assert answer["decision"]["action"] == "flag", answer
    return answer["case_id"]


def keeper_world(env) -> tuple[str, str]:
    """Partner p: case X declined (p stays flagged), then case Y opened on new evidence, a reward
    held under Y, Y disputed and approved by the security team (the cycle not run yet)."""
    send(env.tenant, signup("p-k", ip="81.2.72.9"))
    drain(env.aws)
    x = flag_by_email(env, "p-k", "twin.k@example.com")
    assert dispute_and_decide(env, x, "decline")["totals"]["declined"] == 1
    y = flag_again(env, "p-k", "twin.k@example.com", "2026-11-12T10:00:00Z")
    assert y != x
    send(env.tenant, reward_event("p-k", "r-k", "2026-11-13T09:00:00Z"))
    drain(env.aws)
    assert api(env, "cases", "GET", f"/v1/cases/{y}").body["held_rewards"] == 1
    assert api(env, "disputes", "POST", f"/v1/cases/{y}/dispute", {"reason": "mistake"}).status == 200
    verdict = {"verdict": "approve", "note": "ok"}
    assert api(env, "disputes", "POST", f"/v1/disputes/{y}/verdict", verdict, env.security).status == 200
    return x, y


def figures(env, *case_ids: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for case_id in case_ids:
        body = api(env, "cases", "GET", f"/v1/cases/{case_id}").body
        out[case_id] = (body["status"], body["held_rewards"], body["hold_amount"])
    summary = api(env, "cases", "GET", "/v1/summary").body
    out["summary"] = summary["held_rewards"]
    out["on_hold"] = [
        r["id"] for r in api(env, "cases", "GET", "/v1/rewards", status="on_hold").body["items"]
    ]
    return out


def test_an_override_racing_the_cycle_takes_the_hold_from_the_case_holding_it_then(env, monkeypatch):
    x, y = keeper_world(env)
    repository = env.deps.repository
    read = repository.get_reward

    def get_reward(program_id: str, reward_id: str):
        reward = read(program_id, reward_id)  # the override reads it: on hold under Y
        monkeypatch.setattr(repository, "get_reward", read)
        # meanwhile the cycle runs (its service: the local runtime runs one API-or-cycle handler at
        # a time in a process, as the disputes function's handlers share one environment here)
        assert run_cycle(env.deps)["totals"]["approved"] == 1  # ... and moves it under X
        return reward

    monkeypatch.setattr(repository, "get_reward", get_reward)
    assert api(env, "cases", "POST", "/v1/rewards/r-k/override", {"status": "approved"}).status == 200

    after = figures(env, x, y)
    assert after["on_hold"] == []
    # nothing is held any more: both cases should say so
    assert after[y][:2] == ("approved", 0), after
    assert after[x][:2] == ("declined", 0), after


def test_a_removal_from_the_declined_case_racing_the_approval_leaves_no_hold_on_either_case(env, monkeypatch):
    from functions.shared.changes import carry_out
    from functions.shared.domain.disputes import resolution_begin_step

    x, y = keeper_world(env)
    repository, program = env.deps.repository, env.tenant.program_id
    # the cycle's first step for Y (a run that stopped there, or is under way): p is under no active
    # case, still flagged under the declined X, so its removal from X is allowed
    begin = resolution_begin_step(
        repository.get_case(program, y), repository.get_subject(program, "partner", "p-k"), env.clock.now()
    )
    carry_out(repository, [begin], env.bus)
    read = repository.subject_rewards

    def subject_rewards(*args, **kwargs):
        rewards = read(*args, **kwargs)  # the removal reads the reward: on hold under Y
        monkeypatch.setattr(repository, "subject_rewards", read)
        assert run_cycle(env.deps)["totals"]["approved"] == 1  # meanwhile the cycle moves it under X
        return rewards

    monkeypatch.setattr(repository, "subject_rewards", subject_rewards)
    removed = api(env, "cases", "POST", f"/v1/cases/{x}/remove", {"block_reapply": False})
    assert removed.status == 200, removed

    after = figures(env, x, y)
    assert after["on_hold"] == []
    assert after[y][:2] == ("approved", 0), after
    assert after[x][:2] == ("removed", 0), after
