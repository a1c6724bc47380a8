"""The keeper races of `tests/integration/test_kept_figures_keeper_races.py` on the plain store."""

from __future__ import annotations

import pytest

from functions.cases import service as cases
from functions.disputes import service as disputes
from functions.shared.changes import carry_out
from functions.shared.domain.disputes import resolution_begin_step
from functions.shared.domain.identity import network_pepper
from functions.shared.domain.removal import removal_plan
from functions.shared.domain.writes import StepRefused
from functions.shared.removals import finish_removal
from tests.unit.test_kept_figures_recounted import fresh


def keeper_world():
    w = fresh()
    repo = w.deps.repository
    w.do(("flag_partner", 0, 0))
    x = repo.get_subject(w.P, "partner", "p").active_case_id
    disputes.dispute(w.deps, w.P, x, "no", "team")
    disputes.record_verdict(w.deps, x, "decline", "", "sec")
    disputes.run_cycle(w.deps)
    w.do(("flag_partner", 0, 2))  # new evidence: case Y
    y = repo.get_subject(w.P, "partner", "p").active_case_id
    w.do(("reward", 0, 0))  # held under Y
    disputes.dispute(w.deps, w.P, y, "no", "team")
    disputes.record_verdict(w.deps, y, "approve", "", "sec")
    return w, x, y


def test_override_racing_the_cycle(monkeypatch):
    w, x, y = keeper_world()
    repo = w.deps.repository
    (held,) = [r for r in w.all_rewards() if r.status == "on_hold"]
    read = repo.get_reward

    def get_reward(*args):
        reward = read(*args)
        repo.get_reward = read
        disputes.run_cycle(w.deps)
        return reward

    repo.get_reward = get_reward
    cases.override_reward(w.deps, w.P, held.reward_id, "team")
    assert w.problems() == []


def test_removal_from_the_declined_case_racing_the_approval():
    w, x, y = keeper_world()
    repo = w.deps.repository
    carry_out(
        repo,
        [resolution_begin_step(repo.get_case(w.P, y), repo.get_subject(w.P, "partner", "p"), w.at)],
        w.deps.publisher,
    )
    case, subject = repo.get_case(w.P, x), repo.get_subject(w.P, "partner", "p")
    plan = removal_plan(
        case, subject, repo.subject_rewards(w.P, "partner", "p"), network_pepper(), False, "team", w.at
    )
    disputes.run_cycle(w.deps)
    with pytest.raises(StepRefused):  # the rewards it read moved under another case meanwhile
        carry_out(repo, plan.steps, w.deps.publisher)
    # forward only from its first step: the removal's next attempt (or the sweep) finishes it
    removed = repo.get_case(w.P, x)
    assert removed.status == "removed"
    finish_removal(repo, w.deps.publisher, removed, None, network_pepper(), w.at, w.deps.queue)
    assert w.problems() == []
