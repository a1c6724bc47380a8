"""SPEC 4: new signals on a flagged subject add reasons to its case, whether or not the event would
flag on its own; SPEC 7: an approved dispute is withdrawn only when the subject flags again, not
because one of its logins was from abroad. Through the real handlers on moto."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3

from functions.shared.storage import keys
from tests.integration import test_disputes
from tests.integration.scoring_support import drain, send, status
from tests.integration.test_disputes import (
    VERDICT_AT,
    _suspicious_again,
    approved_with_a_held_reward,
    case_of,
    flag_partner,
    rewards_of,
    run_scheduled_cycle,
    set_clock,
)
from tests.support import sample

env = test_disputes.env


def login_abroad(env, partner_id: str, event_id: str, at: str) -> dict:
    """A flagged partner's login from a hosting network abroad: two weak signals, no flag."""
    login = sample("account.updated", id=event_id, occurred_at=at, activity="login")
    login["partner"] = {"id": partner_id}
    login["session"] = {"ip": "8.8.8.8", "device_fingerprint": f"fp-{partner_id}"}
    set_clock(env.clock, datetime.fromisoformat(at))
    send(env.tenant, login)
    drain(env.aws)
    answer = status(env.tenant, event_id)
    assert answer["decision"]["action"] == "allow" and answer["decision"]["reasons"], answer
    return answer


def reasons(drawer: dict) -> dict[str, int]:
    return {r["code"]: r["count"] for r in drawer["reasons"]}


def test_signals_that_would_not_flag_alone_join_the_flagged_partners_case(env):
    """A flagged partner's login from a hosting network abroad answered `allow` with two reasons
    and named the case, while the case (the drawer, the disputes) showed neither."""
    case_id = flag_partner(env, "p-w")
    before = reasons(case_of(env.tenant, case_id))

    first = login_abroad(env, "p-w", "u-w1", "2026-11-05T09:00:00+00:00")
    login_abroad(env, "p-w", "u-w2", "2026-11-06T09:00:00+00:00")

    assert first["case_id"] == case_id
    fired = {r["code"] for r in first["decision"]["reasons"]}
    drawer = case_of(env.tenant, case_id)
    after = reasons(drawer)
    assert fired and not fired & before.keys(), (fired, before)  # new codes, each counted twice
    assert after == {**before, **{code: 2 for code in fired}}, after
    # nobody's action: the trail keeps the flag, not each login (200 of them buried it)
    assert [a["action"] for a in drawer["audit"]] == ["flagged"], drawer["audit"]
    assert drawer["status"] == "open"


def test_a_signal_that_occurred_before_the_flag_and_arrived_after_it_adds_nothing(env):
    """SPEC 4: times are the events' own. A login abroad dated an hour before the flag, sent late,
    joined the case as a reason ahead of the flag's (a reviewer's find)."""
    case_id = flag_partner(env, "p-late")  # flagged 2026-11-03T09:00Z
    before = reasons(case_of(env.tenant, case_id))

    late = login_abroad(env, "p-late", "u-late", "2026-11-03T08:00:00+00:00")

    assert late["case_id"] == case_id  # it still names the case its subject is under
    assert reasons(case_of(env.tenant, case_id)) == before


def test_a_signal_on_a_subject_whose_profile_names_a_case_no_longer_active_is_still_scored(env):
    """The case's status is no condition of the merge (the profile's version guards it): a profile
    left naming an approved case, by hand or an older version, kept every weak event of its subject
    from being scored (refused transaction after transaction, then the dead-letter queue)."""
    case_id = flag_partner(env, "p-left")
    boto3.client("dynamodb", region_name="us-east-1").update_item(
        TableName=env.aws.resources.table_name,
        Key={"pk": {"S": keys.case_pk(env.tenant.program_id, case_id)}, "sk": {"S": keys.CASE_SK}},
        UpdateExpression="SET #s = :a",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":a": {"S": "approved"}},
    )

    login_abroad(env, "p-left", "u-left", "2026-11-05T09:00:00+00:00")  # scored: it asserts the answer


def test_an_approval_stands_when_only_weak_signals_came_since_and_is_applied(env):
    """The reviewer's case: one traveller's login abroad after the security team approved the
    dispute withdrew the approval (the case's per-reason counts were the verdict's evidence)."""
    case_id, held = approved_with_a_held_reward(env, "p-trip")
    login_abroad(env, "p-trip", "u-trip", "2026-11-26T09:00:00+00:00")
    drawer = case_of(env.tenant, case_id)
    assert "ip_country_mismatch" in reasons(drawer), drawer["reasons"]

    report = run_scheduled_cycle(env)

    assert report["totals"]["approved"] == 1 and report["totals"]["withdrawn"] == 0, report
    assert rewards_of(env.tenant, partner_id="p-trip") == {held: "pending"}


def test_a_flag_after_the_approval_still_withdraws_it_after_weak_signals(env):
    """Weak signals first, then the subject flags again: the approval is withdrawn (SPEC 7)."""
    case_id, held = approved_with_a_held_reward(env, "p-turns")
    login_abroad(env, "p-turns", "u-turns", "2026-11-26T09:00:00+00:00")
    again = _suspicious_again(env, "p-turns", datetime(2026, 11, 27, 9, tzinfo=UTC))
    assert status(env.tenant, again)["case_id"] == case_id

    report = run_scheduled_cycle(env)

    assert report["totals"]["withdrawn"] == 1 and report["totals"]["approved"] == 0, report
    assert rewards_of(env.tenant, partner_id="p-turns") == {held: "on_hold"}


def _as_stored_before_flags_were_counted(env, case_id: str) -> None:
    """A case item written before 12-05: no `flags` attribute (and a verdict without its count)."""
    boto3.client("dynamodb", region_name="us-east-1").update_item(
        TableName=env.aws.resources.table_name,
        Key={"pk": {"S": keys.case_pk(env.tenant.program_id, case_id)}, "sk": {"S": keys.CASE_SK}},
        UpdateExpression="REMOVE flags, verdict_flags",
    )


def test_a_case_stored_before_flags_were_counted_is_approved_and_a_new_flag_still_withdraws(env):
    kept, kept_reward = approved_with_a_held_reward(env, "p-old-kept")
    turned, turned_reward = approved_with_a_held_reward(env, "p-old-turned")
    for case_id in (kept, turned):
        _as_stored_before_flags_were_counted(env, case_id)
    set_clock(env.clock, VERDICT_AT)
    login_abroad(env, "p-old-kept", "u-old-kept", "2026-11-26T09:00:00+00:00")
    _suspicious_again(env, "p-old-turned", datetime(2026, 11, 27, 9, tzinfo=UTC))

    report = run_scheduled_cycle(env)

    assert (report["totals"]["approved"], report["totals"]["withdrawn"]) == (1, 1), report
    assert rewards_of(env.tenant, partner_id="p-old-kept") == {kept_reward: "pending"}
    assert rewards_of(env.tenant, partner_id="p-old-turned") == {turned_reward: "on_hold"}


def test_a_verdict_asked_again_while_the_cycle_applies_it_is_a_retry_whatever_joined_the_case(
    env, monkeypatch
):
    # a reviewer's: a login abroad joins the approved case's reasons (it outdates no approval), the
    # cycle begins and stops half way, and the security team's client asks again what it asked
    # before, its answer lost: it was refused as a new verdict (409)
    case_id, held = test_disputes.approved_with_a_held_reward(env, "p-drift")
    login_abroad(env, "p-drift", "u-drift", "2026-11-26T09:00:00+00:00")
    test_disputes._stopped_after_its_first_step(env, monkeypatch)

    again = test_disputes.verdict(env, case_id, "approve")  # the same verdict and note
    # and as the console asks it, saying what it replaced then: none (a review's)
    path, body = (
        f"/v1/disputes/{case_id}/verdict",
        {"verdict": "approve", "note": "checked", "replaces": None},
    )
    console_again = test_disputes.api("disputes", "POST", path, env.security, body)

    assert again.status == 200, again.body
    assert console_again.status == 200, console_again.body
    assert test_disputes.verdict(env, case_id, "approve", "and more").status == 409  # a new note
    report = run_scheduled_cycle(env, test_disputes.CYCLE_AT.replace(hour=1))
    assert report["totals"]["approved"] == 1, report
    assert rewards_of(env.tenant, partner_id="p-drift") == {held: "pending"}
