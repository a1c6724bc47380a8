"""A partner who keeps sending rewards while the team removes them: every try of the removal read
the partner's rewards, and a reward that arrived before its last step refused that step (it would
have escaped the archive), so a partner sending rewards faster than a try takes could never be
removed: four tries, then a 503, again and again. Through the real handlers on moto, a reward
arriving (scored for real) during every read of the partner's rewards."""

from __future__ import annotations

from datetime import datetime

from functions.ingest.service import accept_event
from functions.shared import runtime
from functions.shared.errors import StorageUnavailable
from tests import iam_check
from tests.integration.scoring_support import drain, send
from tests.integration.test_rewards_and_sweep import api_reward, flag_partner
from tests.support import call, proxy_event


def test_a_partner_sending_rewards_throughout_the_removal_is_still_removed_and_never_paid(
    aws, tenant, monkeypatch
):
    # Given a flagged partner with rewards on hold
    case_id = flag_partner(aws, tenant)
    for n in range(3):
        send(tenant, api_reward(f"r-before-{n}", "p2", at=f"2026-11-02T12:1{n}:00Z"))
    drain(aws)
    store = runtime.dependencies().repository
    read_rewards = store.subject_rewards
    arrived: list[str] = []

    def reward_arrives_meanwhile(program_id, subject_type, subject_id, since=None):
        """Reads the partner's rewards, then another one of theirs arrives and is scored."""
        found = read_rewards(program_id, subject_type, subject_id, since)
        if subject_id == "p2" and len(arrived) < 12:
            arrived.append(f"r-during-{len(arrived)}")
            event = api_reward(arrived[-1], "p2", at=f"2026-11-02T13:{len(arrived):02}:00Z")
            # recorded as the ingest route records it (its handler would wait for this one's turn)
            at = datetime.fromisoformat(event["occurred_at"])
            with iam_check.elsewhere():  # the ingest and score functions' work, not the removal's
                accept_event(runtime.dependencies(), tenant.program_id, event["id"], event["type"], at, event)
                drain(aws)
        return found

    monkeypatch.setattr(store, "subject_rewards", reward_arrives_meanwhile)

    # When the team removes them
    answer = call(
        "cases",
        proxy_event("POST", f"/v1/cases/{case_id}/remove", {"block_reapply": True}, tenant.keys["fraud"]),
    )

    # Then the partner is removed, and every reward of theirs, before or during, is archived
    assert answer.status == 200, answer
    assert arrived, "no reward arrived during the removal"
    monkeypatch.undo()
    for reward_id in [f"r-before-{n}" for n in range(3)] + arrived:
        assert store.get_reward(tenant.program_id, reward_id).status == "archived", reward_id
    case = store.get_case(tenant.program_id, case_id)
    assert case.status == "removed" and case.held_count == 0 and not any(case.hold_micros.values())
    assert store.get_subject(tenant.program_id, "partner", "p2").status == "removed"


def test_a_removal_stopped_before_its_mop_up_is_finished_by_the_retry_then_answered_as_done(
    aws, tenant, monkeypatch
):
    # Given a flagged partner, and a reward of theirs arriving while the removal reads their rewards
    case_id = flag_partner(aws, tenant)
    store = runtime.dependencies().repository
    read_rewards, read_subject = store.subject_rewards, store.get_subject
    reads = {"rewards": 0, "subject": 0}

    def reward_arrives_meanwhile(program_id, subject_type, subject_id, since=None):
        found = read_rewards(program_id, subject_type, subject_id, since)
        reads["rewards"] += 1
        if reads["rewards"] == 1:
            event = api_reward("r-during", "p2", at="2026-11-02T13:00:00Z")
            at = datetime.fromisoformat(event["occurred_at"])
            with iam_check.elsewhere():  # the ingest and score functions' work, not the removal's
                accept_event(runtime.dependencies(), tenant.program_id, event["id"], event["type"], at, event)
                drain(aws)
        return found

    def down_after_the_last_step(program_id, subject_type, subject_id):
        reads["subject"] += 1
        if reads["subject"] == 2:  # the mop-up's read: DynamoDB stops answering
            raise StorageUnavailable("injected: the table is unavailable")
        return read_subject(program_id, subject_type, subject_id)

    monkeypatch.setattr(store, "subject_rewards", reward_arrives_meanwhile)
    monkeypatch.setattr(store, "get_subject", down_after_the_last_step)

    # When the removal stops between its last step and its mop-up
    remove = proxy_event(
        "POST", f"/v1/cases/{case_id}/remove", {"block_reapply": False}, tenant.keys["fraud"]
    )
    assert call("cases", remove).status == 503
    monkeypatch.setattr(store, "subject_rewards", read_rewards)  # DynamoDB back
    monkeypatch.setattr(store, "get_subject", read_subject)
    assert store.get_case(tenant.program_id, case_id).status == "removed"
    assert store.get_reward(tenant.program_id, "r-during").status == "on_hold"  # arrived meanwhile
    assert store.get_subject(tenant.program_id, "partner", "p2").marks_pending

    # Then the team's retry finishes it: the reward that arrived meanwhile is archived
    again = call("cases", remove)
    assert again.status == 200, again
    assert store.get_reward(tenant.program_id, "r-during").status == "archived"
    case = store.get_case(tenant.program_id, case_id)
    assert case.held_count == 0 and case.archived_count == 1
    assert not store.get_subject(tenant.program_id, "partner", "p2").marks_pending

    # And asked again once done, the same removal answers as done (a retry whose answer was lost)
    # with nothing changed; another choice of blocking is refused: the case is removed (SPEC 3.2)
    done = call("cases", remove)
    assert done.status == 200 and done.body["block_reapply"] is False, done
    assert store.get_case(tenant.program_id, case_id) == case
    other = proxy_event("POST", f"/v1/cases/{case_id}/remove", {"block_reapply": True}, tenant.keys["fraud"])
    assert call("cases", other).status == 409


def test_a_removal_unfinished_is_finished_only_by_its_own_retry_not_by_another_ask(aws, tenant, monkeypatch):
    # Given a removal without a block that stopped between its last step and its mop-up
    case_id = flag_partner(aws, tenant)
    store = runtime.dependencies().repository
    read_subject = store.get_subject
    reads = {"subject": 0}

    def down_after_the_last_step(program_id, subject_type, subject_id):
        reads["subject"] += 1
        if reads["subject"] == 2:  # the mop-up's read
            raise StorageUnavailable("injected: the table is unavailable")
        return read_subject(program_id, subject_type, subject_id)

    monkeypatch.setattr(store, "get_subject", down_after_the_last_step)

    def remove(role: str, block_reapply: bool):
        body = {"block_reapply": block_reapply}
        return call("cases", proxy_event("POST", f"/v1/cases/{case_id}/remove", body, tenant.keys[role]))

    assert remove("fraud", False).status == 503
    monkeypatch.setattr(store, "get_subject", read_subject)

    # When another analyst asks for a removal with a block, and the first analyst asks with one
    other = remove("admin", True)
    changed_mind = remove("fraud", True)

    # Then neither is a 200 that did not do what it asked: the case is removed already (SPEC 3.2)
    assert (other.status, changed_mind.status) == (409, 409), (other, changed_mind)
    assert "removed" in other.body["detail"] and "under way" in other.body["detail"]
    assert store.get_case(tenant.program_id, case_id).block_reapply is False
    # and the first analyst's own retry still finishes the removal as it was asked
    done = remove("fraud", False)
    assert done.status == 200 and done.body["block_reapply"] is False, done
    assert not store.get_subject(tenant.program_id, "partner", "p2").marks_pending
