"""A dispute or a verdict whose write committed and whose answer was lost (a 503 after the commit:
"safe to retry", SPEC 3) asked again as it was asked: answered as done, nothing written twice. The
real handlers on moto; the read after the write fails once, as a throttled read would."""

from __future__ import annotations

from datetime import UTC, datetime

from functions.shared import tenancy
from functions.shared.clock import FixedClock
from functions.shared.errors import StorageUnavailable
from tests.integration import test_disputes
from tests.integration.test_disputes import api, case_of, dispute, flag_partner, published

env = test_disputes.env  # the disputes' program: its bus kept in memory, its clock fixed

REASON = "a known reseller, checked by phone"


def _reads_fail(monkeypatch, store, method: str, failing: set[int]) -> None:
    """`store.<method>` raises StorageUnavailable at the calls numbered in `failing` (from 1)."""
    real = getattr(type(store), method)
    calls = {"n": 0}

    def read(self, *args):
        calls["n"] += 1
        if calls["n"] in failing:
            raise StorageUnavailable("DynamoDB throttled the read")
        return real(self, *args)

    monkeypatch.setattr(type(store), method, read)


def _audit_actions(env, case_id: str) -> list[str]:
    return [entry.action for _, entry in env.deps.repository.case_audit(env.tenant.program_id, case_id)]


def test_a_dispute_asked_again_after_its_answer_was_lost_is_answered_as_done(env, monkeypatch):
    case_id = flag_partner(env, "p1")
    # the dispute reads the case, writes, then reads it again to answer: that read fails
    _reads_fail(monkeypatch, env.deps.repository, "get_case", {2})
    first = dispute(env, case_id, REASON)
    assert first.status == 503, first
    assert case_of(env.tenant, case_id)["status"] == "disputed"  # it was recorded

    again = dispute(env, case_id, REASON)

    assert again.status == 200, again
    assert again.body["status"] == "disputed"
    assert again.body["dispute_reason"] == REASON
    assert len(published(env, "DisputeOpened")) == 1
    assert _audit_actions(env, case_id).count("disputed") == 1


def test_a_dispute_of_a_disputed_case_with_another_reason_or_by_a_teammate_is_refused(env):
    case_id = flag_partner(env, "p1")
    assert dispute(env, case_id, REASON).status == 200
    clock = FixedClock(datetime(2026, 11, 1, tzinfo=UTC))
    _, teammate = tenancy.create_key(env.aws.repository, clock, env.tenant.program_id, "fraud", "A teammate")

    other_reason = dispute(env, case_id, "another reason")
    by_a_teammate = api("disputes", "POST", f"/v1/cases/{case_id}/dispute", teammate, {"reason": REASON})

    for answer in (other_reason, by_a_teammate):
        assert answer.status == 409, answer
        assert "only an open case can be disputed" in answer.body["detail"]
    assert case_of(env.tenant, case_id)["dispute_reason"] == REASON
    assert len(published(env, "DisputeOpened")) == 1


def test_a_verdict_asked_again_with_what_it_replaced_after_its_answer_was_lost_is_answered_as_done(
    env, monkeypatch
):
    case_id = flag_partner(env, "p1")
    assert dispute(env, case_id).status == 200
    body = {"verdict": "approve", "note": "checked", "replaces": None}
    # the verdict is written, then its answer reads the program's name: that read fails
    _reads_fail(monkeypatch, env.deps.repository, "get_program", {1})
    first = api("disputes", "POST", f"/v1/disputes/{case_id}/verdict", env.security, body)
    assert first.status == 503, first

    again = api("disputes", "POST", f"/v1/disputes/{case_id}/verdict", env.security, body)

    assert again.status == 200, again
    assert again.body["verdict"] == "approve"
    assert _audit_actions(env, case_id).count("verdict_approve") == 1


def test_a_verdict_replacing_none_when_another_was_recorded_is_still_refused(env):
    case_id = flag_partner(env, "p1")
    assert dispute(env, case_id).status == 200
    recorded = {"verdict": "decline", "note": "no proof", "replaces": None}
    assert api("disputes", "POST", f"/v1/disputes/{case_id}/verdict", env.security, recorded).status == 200

    unseen = {"verdict": "approve", "note": "checked", "replaces": None}
    answer = api("disputes", "POST", f"/v1/disputes/{case_id}/verdict", env.security, unseen)

    assert answer.status == 409, answer
    assert "recorded since you read it" in answer.body["detail"]
    assert _audit_actions(env, case_id).count("verdict_approve") == 0
