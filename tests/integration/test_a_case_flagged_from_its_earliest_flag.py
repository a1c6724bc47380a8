"""SPEC 4: times are the events' own, and a subject was flagged when the flagged event occurred. A
flag dated before its case's, sent late, moved the subject's flag time back (what holds use) but
left the case's where it was: the case read as flagged a day after the event that flagged it, stood
in the Active tab by that later time, and the summary counted it on that later day. Through the
real handlers on moto."""

from __future__ import annotations

from datetime import datetime

from functions.hold_sweep.service import sweep
from tests.integration import test_disputes
from tests.integration.scoring_support import drain, purchase, send, signup, status
from tests.integration.test_disputes import (
    api,
    approved_with_a_held_reward,
    buy,
    case_of,
    rewards_of,
    run_scheduled_cycle,
)
from tests.support import sample

PAYOUT_CHANGED = "2026-11-16T20:00:00+00:00"


dispute_env = test_disputes.env  # a settable clock, an in-memory bus


def payout_changed(partner_id: str) -> dict:
    change = sample("account.updated", id=f"payout-{partner_id}", occurred_at=PAYOUT_CHANGED)
    change["partner"] = {"id": partner_id, "payout_account": f"GB99NEWBANK{partner_id}"}
    change["activity"] = "payout_update"
    return change


def large_reward(partner_id: str, name: str, at: str) -> dict:
    """A reward of 900 USD within two days of the payout change: it flags the partner."""
    event = sample("reward.created", id=name, occurred_at=at)
    event["reward"] = {"id": f"r-{name}", "partner_id": partner_id, "amount": "900.00", "currency": "USD"}
    return event


def flagged(env, event: dict) -> dict:
    send(env.tenant, event)
    drain(env.aws)
    answer = status(env.tenant, event["id"])
    assert answer["decision"]["action"] == "flag", answer
    return answer


def active_cases(env) -> list[str]:
    answer = api("cases", "GET", "/v1/cases", env.tenant.keys["fraud"], view="active", sort="flagged_at")
    assert answer.status == 200, answer
    return [c["id"] for c in answer.body["items"]]


def flags_per_day(env) -> dict[str, tuple[int, dict[str, int]]]:
    answer = api("cases", "GET", "/v1/summary", env.tenant.keys["fraud"])
    assert answer.status == 200, answer
    return {d["date"]: (d["count"], d["by_reason"]) for d in answer.body["flags_per_day"] if d["count"]}


def test_a_flag_dated_before_its_case_sent_late_dates_the_case(env):
    # Given a partner flagged by a large reward on the 18th, and another flagged on the 17th at 18:00
    for partner_id in ("p-late", "p-other"):
        send(env.tenant, signup(partner_id, at="2026-10-01T09:00:00Z"))
        send(env.tenant, payout_changed(partner_id))
    drain(env.aws)
    case_id = flagged(env, large_reward("p-late", "later", "2026-11-18T10:00:00Z"))["case_id"]
    other = flagged(env, large_reward("p-other", "other", "2026-11-17T18:00:00Z"))["case_id"]
    assert active_cases(env) == [case_id, other]  # newest flag first
    assert flags_per_day(env) == {
        "2026-11-17": (1, {"unusual_activity": 1}),
        "2026-11-18": (1, {"unusual_activity": 1}),
    }

    # When a large reward dated the 17th at 10:00 arrives after it, flagging the partner too
    earlier = flagged(env, large_reward("p-late", "earlier", "2026-11-17T10:00:00Z"))

    # Then the case is flagged from it: its time, its place in the Active tab, its day's figures
    assert earlier["case_id"] == case_id
    case = case_of(env.tenant, case_id)
    assert datetime.fromisoformat(case["flagged_at"]) == datetime.fromisoformat("2026-11-17T10:00:00Z")
    assert active_cases(env) == [other, case_id]
    assert flags_per_day(env) == {"2026-11-17": (2, {"unusual_activity": 2})}
    # and its trail says when it was flagged before
    added = next(e for e in case["audit"] if e["action"] == "reasons_added")
    assert datetime.fromisoformat(added["detail"]["case_was_flagged_at"]) == datetime.fromisoformat(
        "2026-11-18T10:00:00Z"
    ), added
    assert sorted(r["id"] for r in case["held_reward_list"]) == ["r-earlier", "r-later"]

    # When a flag dated after the case's new time arrives, nothing moves
    flagged(env, large_reward("p-late", "between", "2026-11-17T12:00:00Z"))
    case = case_of(env.tenant, case_id)
    assert datetime.fromisoformat(case["flagged_at"]) == datetime.fromisoformat("2026-11-17T10:00:00Z")
    assert active_cases(env) == [other, case_id]
    assert flags_per_day(env) == {"2026-11-17": (2, {"unusual_activity": 2})}


def test_a_flag_dated_before_an_approval_sent_after_it_holds_nothing_the_approval_released(dispute_env):
    """SPEC 7: approved, the case's held rewards go back to `pending`. An event dated inside the
    approved period and sent after the cycle opened a new case from its own time, and held again
    what the approval had released: in time order the event would have been the security team's to
    judge, with the case it joined."""
    env = dispute_env
    # Given a partner whose dispute was approved by the cycle, its held commission released
    case_id, released = approved_with_a_held_reward(env, "p-appr")
    run_scheduled_cycle(env)
    assert case_of(env.tenant, case_id)["status"] == "approved"
    assert rewards_of(env.tenant, partner_id="p-appr") == {released: "pending"}
    env.clock.advance(hours=6)
    later = buy(env, "c-after", "p-appr", "2026-12-01T06:00:00Z", "15.00")  # after the approval
    drain(env.aws)

    # When an event dated on the 3rd of November at 18:00 (inside the approved period, before the
    # released reward) flags it after that
    update = sample(
        "account.updated", id="evt-late", occurred_at="2026-11-03T18:00:00Z", activity="email_change"
    )
    update["partner"] = {"id": "p-appr", "email": "p-appr.owner@example.com"}  # its twin's address
    answer = flagged(env, update)

    # Then a new case is dated by it, and holds what came after the approval, not what it released
    assert answer["case_id"] != case_id, answer
    new_case = case_of(env.tenant, answer["case_id"])
    assert datetime.fromisoformat(new_case["flagged_at"]) == datetime.fromisoformat("2026-11-03T18:00:00Z")
    assert rewards_of(env.tenant, partner_id="p-appr") == {released: "pending", later: "on_hold"}


def test_a_flag_dated_before_an_approval_holds_what_the_approval_never_saw(dispute_env):
    """A disputes tester's: a partner flagged again by an event dated inside the approved period and
    sent after the cycle held nothing dated before the cycle's run, not even a purchase that arrived
    after it (never released, never judged) nor one dated after the new flag that arrived after it:
    the new case said "flagged since the 28th" and held nothing. What the approval released stays
    released; what it never saw is held from the new flag on (SPEC 4, 7)."""
    env = dispute_env
    # Given a partner whose dispute was approved by the cycle on the 1st of December
    case_id, released = approved_with_a_held_reward(env, "p-seen")
    run_scheduled_cycle(env)
    assert rewards_of(env.tenant, partner_id="p-seen") == {released: "pending"}
    # and a purchase dated the 29th of November that arrives on the 2nd of December
    env.clock.advance(days=1, hours=9)
    unseen = buy(env, "c-unseen", "p-seen", "2026-11-29T09:00:00Z", "40.00")
    drain(env.aws)
    assert rewards_of(env.tenant, partner_id="p-seen")[unseen] == "pending"

    # When an e-mail change dated the 28th (its twin's address) arrives on the 3rd and flags it,
    # and a purchase dated the 30th arrives after that
    env.clock.advance(days=1)
    update = sample(
        "account.updated", id="evt-28th", occurred_at="2026-11-28T09:00:00Z", activity="email_change"
    )
    update["partner"] = {"id": "p-seen", "email": "p-seen.owner@example.com"}
    new_case = flagged(env, update)["case_id"]
    after = buy(env, "c-after", "p-seen", "2026-11-30T09:00:00Z", "50.00")
    drain(env.aws)
    env.clock.advance(minutes=15)
    sweep(env.deps)

    # Then both are held under the new case, dated by its flag; the released reward stays pending
    assert new_case != case_id
    assert rewards_of(env.tenant, partner_id="p-seen") == {
        released: "pending",
        unseen: "on_hold",
        after: "on_hold",
    }
    held = case_of(env.tenant, new_case)
    assert datetime.fromisoformat(held["flagged_at"]) == datetime.fromisoformat("2026-11-28T09:00:00Z")
    assert held["hold_amount"] == {"amount": "90.00", "currency": "USD"}, held


def test_the_judged_sign_up_sent_again_after_the_approval_holds_nothing_it_judged(dispute_env):
    """A reviewer's: the very sign-up the security team judged, sent again under a new event id after
    the cycle, flagged the approved partner again from its first flag's time, and held a purchase
    dated inside the approved period that arrived late. A copy is the evidence judged, not new
    activity (SPEC 4): it holds from the approval on (`rewards.judged_until`)."""
    env = dispute_env
    email = "p-j.owner@example.com"
    send(env.tenant, signup("p-j-first", email=email, ip="81.2.69.10", at="2026-11-02T09:00:00Z"))
    judged = signup("p-j", email=email.upper(), ip="81.2.69.11", at="2026-11-03T09:00:00Z")
    first = flagged(env, judged)
    held = buy(env, "c-1", "p-j", "2026-11-04T09:00:00Z", "30.00")
    drain(env.aws)
    assert test_disputes.dispute(env, first["case_id"]).status == 200
    test_disputes.set_clock(env.clock, test_disputes.VERDICT_AT)
    assert test_disputes.verdict(env, first["case_id"], "approve").status == 200
    run_scheduled_cycle(env)
    env.clock.advance(days=1)
    late = buy(env, "c-2", "p-j", "2026-11-20T09:00:00Z", "40.00")  # never seen by the approval
    drain(env.aws)

    env.clock.advance(days=1)
    again = {**judged, "id": judged["id"] + "-sent-again"}
    send(env.tenant, again)
    drain(env.aws)
    after = buy(env, "c-3", "p-j", "2026-12-02T09:00:00Z", "50.00")  # after the approval
    drain(env.aws)

    rewards = rewards_of(env.tenant, partner_id="p-j")
    assert (rewards[held], rewards[late]) == ("pending", "pending"), rewards
    # flagged again all the same (the shared address is still there): from the approval on
    assert status(env.tenant, again["id"])["decision"]["action"] == "flag"
    assert rewards[after] == "on_hold", rewards


def test_purchases_through_a_partner_before_its_sign_up_count_in_its_revenue(env):
    """An order tester's: the drawer's revenue left out every purchase that arrived before the
    partner's sign-up (a backfill sent in another order, a partner joined before the integration
    started): a partner not stored kept only its list of rewards, not what its customers spent."""
    # Given two purchases through p-early (one with a commission, one without), before its sign-up
    send(env.tenant, purchase("c-1", "p-early", reward="5.00", at="2026-11-18T09:00:00Z"))
    send(env.tenant, purchase("c-2", "p-early", reward=None, at="2026-11-18T10:00:00Z"))
    drain(env.aws)

    # When it signs up (dated before them, sent after them) with another partner's address: flagged
    send(env.tenant, signup("p-first", email="shared.owner@example.com", at="2026-11-16T09:00:00Z"))
    drain(env.aws)
    event = signup("p-early", email="shared.owner@example.com", at="2026-11-17T09:00:00Z")
    case_id = flagged(env, event)["case_id"]
    send(env.tenant, purchase("c-3", "p-early", reward=None, at="2026-11-19T10:00:00Z"))
    drain(env.aws)

    # Then the drawer's revenue is every purchase's through it, before its sign-up and after
    drawer = case_of(env.tenant, case_id)
    assert drawer["partner"]["revenue"] == [
        {"amount": "749.97", "currency": "USD"}
    ]  # 249.99 each, drawer["partner"]


def test_a_flag_dated_just_after_an_approval_holds_from_its_own_time(dispute_env):
    """A reviewer's: the approval's floor (its time and the five minutes an event may be dated
    ahead) reached new fraud dated a minute after it: a reward dated after the flag stayed payable."""
    env = dispute_env
    approved_with_a_held_reward(env, "p-new")
    run_scheduled_cycle(env)  # approved at 2026-12-01T00:00Z
    env.clock.advance(hours=6)
    after = buy(env, "c-new", "p-new", "2026-12-01T00:02:00Z", "15.00")
    drain(env.aws)

    update = sample(
        "account.updated", id="evt-new", occurred_at="2026-12-01T00:01:00Z", activity="email_change"
    )
    update["partner"] = {"id": "p-new", "email": "p-new.owner@example.com"}  # its twin's address
    flagged(env, update)

    assert rewards_of(env.tenant, partner_id="p-new")[after] == "on_hold"
