"""A partner's reward dated before the partner's sign-up (SPEC 4: a flagged partner's rewards created
at or after the flagged event are held; a reward cannot predate the partner it is paid to): it counts
as created at the sign-up for every hold decision, so a partner flagged by its sign-up holds it (at
arrival, at the flag, in the sweep) and a partner flagged later does not. Through the real handlers
on moto; the reward keeps the date it was sent with."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from functions.hold_sweep.service import sweep
from functions.shared.domain.model import Reward
from functions.shared.domain.writes import PutReward, Step
from tests.integration import test_disputes
from tests.integration.scoring_support import drain, send, signup, status
from tests.integration.test_disputes import (
    api_reward,
    buy,
    case_of,
    flag_partner,
    published,
    rewards_of,
    set_clock,
)
from tests.support import call, proxy_event, sample

env = test_disputes.env
SIGNUP = "2026-11-03T09:00:00Z"  # `flag_partner`'s sign-up, which flags it


def _listed(env, partner_id: str) -> dict[str, dict]:
    answer = call(
        "cases",
        proxy_event("GET", "/v1/rewards", None, env.tenant.keys["fraud"], query={"partner_id": partner_id}),
    )
    assert answer.status == 200, answer
    return {r["id"]: r for r in answer.body["items"]}


def _stored_new(env, reward_id: str, partner_id: str, at: datetime) -> None:
    """A reward stored `new` with nothing holding it: one that arrived when no hold reached back
    before its partner's sign-up (before this rule), which the sweep is to catch."""
    reward = Reward(env.tenant.program_id, reward_id, partner_id, Decimal("40.00"), "EUR", "new", at, "api")
    env.deps.repository.apply(Step([PutReward(reward)]))


def test_rewards_dated_before_the_signup_that_flagged_their_partner_are_held_at_arrival(env):
    case_id = flag_partner(env, "p-bd")
    days = api_reward(env, "r-days", "p-bd", "2026-10-20T00:00:00Z", "5000.00")
    second = api_reward(env, "r-second", "p-bd", "2026-11-03T08:59:59Z", "5000.00")
    commission = buy(env, "c-bd", "p-bd", "2026-11-01T00:00:00Z", "900.00", currency="EUR")
    after = api_reward(env, "r-after", "p-bd", "2026-11-04T10:00:00Z", "10.00")
    drain(env.aws)

    listed = _listed(env, "p-bd")
    assert {r: listed[r]["status"] for r in listed} == dict.fromkeys(
        [days, second, commission, after], "on_hold"
    )
    assert {listed[r]["case_id"] for r in listed} == {case_id}
    assert listed[days]["created_at"].startswith("2026-10-20T00:00:00")  # the date as sent
    case = case_of(env.tenant, case_id)
    assert case["held_rewards"] == 4
    assert case["hold_amounts"] == [{"currency": "EUR", "amount": "10910.00"}]
    noticed = {rid for d in published(env, "RewardsHeld") for rid in d["reward_ids"]}
    assert {days, second, commission} <= noticed


def test_a_reward_dated_before_the_signup_that_arrived_first_is_held_by_that_signups_flag(env):
    early = api_reward(env, "r-early", "p-oo", "2026-11-01T12:00:00Z", "300.00")
    drain(env.aws)
    assert rewards_of(env.tenant, partner_id="p-oo") == {early: "new"}  # no sign-up yet: nothing changes

    case_id = flag_partner(env, "p-oo")

    assert rewards_of(env.tenant, partner_id="p-oo") == {early: "on_hold"}
    case = case_of(env.tenant, case_id)
    assert (case["held_rewards"], case["hold_amounts"]) == (1, [{"currency": "EUR", "amount": "300.00"}])


def test_the_sweep_holds_a_reward_dated_before_the_signup_that_flagged_its_partner(env):
    case_id = flag_partner(env, "p-sw")
    _stored_new(env, "r-stray", "p-sw", datetime(2026, 10, 30, 9, tzinfo=UTC))
    set_clock(env.clock, datetime(2026, 11, 10, 9, 15, tzinfo=UTC))

    report = sweep(env.deps)

    assert report.held == 1
    assert rewards_of(env.tenant, partner_id="p-sw") == {"r-stray": "on_hold"}
    assert case_of(env.tenant, case_id)["held_rewards"] == 1


def test_a_partner_flagged_after_its_signup_keeps_its_rewards_from_before_the_flag_payable(env):
    """The rule moves a reward up to the sign-up, no further: one flagged later (an address changed
    to another partner's) holds from its flag on, as before."""
    send(
        env.tenant,
        signup("p-twin", email="twin.later@example.com", ip="81.2.69.11", at="2026-11-01T09:00:00Z"),
    )
    send(
        env.tenant,
        signup("p-late", email="own.later@example.com", ip="81.2.69.12", at="2026-11-02T09:00:00Z"),
    )
    drain(env.aws)
    update = sample(
        "account.updated", id="upd-late", activity="email_change", occurred_at="2026-11-05T09:00:00Z"
    )
    update["partner"] = {"id": "p-late", "email": "twin.later@example.com"}
    send(env.tenant, update)
    drain(env.aws)
    assert status(env.tenant, "upd-late")["decision"]["action"] == "flag"
    before_signup = api_reward(env, "r-before-signup", "p-late", "2026-10-25T09:00:00Z")
    before_flag = api_reward(env, "r-before-flag", "p-late", "2026-11-04T09:00:00Z")
    after_flag = api_reward(env, "r-after-flag", "p-late", "2026-11-06T09:00:00Z")
    drain(env.aws)
    _stored_new(env, "r-stray-late", "p-late", datetime(2026, 10, 30, 9, tzinfo=UTC))
    set_clock(env.clock, datetime(2026, 11, 10, 9, 15, tzinfo=UTC))
    sweep(env.deps)

    assert rewards_of(env.tenant, partner_id="p-late") == {
        before_signup: "new",
        before_flag: "new",
        after_flag: "on_hold",
        "r-stray-late": "new",
    }
