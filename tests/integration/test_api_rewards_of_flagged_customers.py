"""An API reward of a flagged customer (SPEC 4: a flagged customer's rewards go on hold), whether it
names the customer or only that customer's transaction, is held at arrival under the customer's
case, as a flagged partner's is under the partner's: not left `new` until the next sweep (up to 15
minutes). Through the real handlers on moto, no sweep run."""

from __future__ import annotations

from tests.integration import test_disputes
from tests.integration.scoring_support import drain, purchase, send, signup, status
from tests.integration.test_disputes import case_of, published, rewards_of
from tests.support import sample

env = test_disputes.env


def _flagged_customer(env) -> tuple[str, str]:
    """c1 bought through p2, then through p1 with p1's own e-mail address (a self-referral flags
    the customer): the customer's case, and its first purchase's transaction (through p2)."""
    send(env.tenant, signup("p1", email="ada@example.com", ip="81.2.69.31"))
    send(env.tenant, signup("p2", email="bea@example.com", ip="81.2.69.32"))
    drain(env.aws)
    first = send(env.tenant, purchase("c1", "p2", email="c1@example.org", at="2026-11-03T09:00:00Z"))
    drain(env.aws)
    flagged = send(env.tenant, purchase("c1", "p1", email="ada@example.com", at="2026-11-03T10:00:00Z"))
    drain(env.aws)
    answer = status(env.tenant, flagged["id"])
    assert answer["decision"]["action"] == "flag", answer
    return answer["case_id"], first["transaction"]["id"]


def _api_reward(env, reward_id: str, *, customer: str | None = None, transaction: str | None = None) -> str:
    event = sample("reward.created", id=f"evt-{reward_id}", occurred_at="2026-11-04T09:00:00Z")
    event["reward"].update(id=reward_id, partner_id="p2", amount="50.00", currency="USD")
    event["reward"].pop("customer_id")
    event["reward"].pop("transaction_id")
    if customer:
        event["reward"]["customer_id"] = customer
    if transaction:
        event["reward"]["transaction_id"] = transaction
    send(env.tenant, event)
    drain(env.aws)
    return event["id"]


def test_an_api_reward_of_a_flagged_customer_is_held_at_arrival_under_the_customers_case(env):
    case_id, transaction = _flagged_customer(env)
    held_before = case_of(env.tenant, case_id)["held_rewards"]

    named = _api_reward(env, "r-api-c", customer="c1")
    by_transaction = _api_reward(env, "r-api-tx", transaction=transaction)

    assert rewards_of(env.tenant, customer_id="c1")["r-api-c"] == "on_hold"
    assert rewards_of(env.tenant, customer_id="c1")["r-api-tx"] == "on_hold"
    repository = env.deps.repository
    assert {repository.get_reward(env.tenant.program_id, r).case_id for r in ("r-api-c", "r-api-tx")} == {
        case_id
    }
    assert status(env.tenant, named)["case_id"] == case_id  # the decision names the case holding it
    assert status(env.tenant, by_transaction)["case_id"] == case_id
    case = case_of(env.tenant, case_id)
    assert case["held_rewards"] == held_before + 2
    notices = [d for d in published(env, "RewardsHeld") if {"r-api-c", "r-api-tx"} & set(d["reward_ids"])]
    assert [(d["subject"], d["reward_ids"]) for d in notices] == [
        ({"type": "customer", "id": "c1"}, ["r-api-c"]),
        ({"type": "customer", "id": "c1"}, ["r-api-tx"]),
    ]
    trail = [
        e for _, e in repository.case_audit(env.tenant.program_id, case_id) if e.action == "rewards_held"
    ]
    assert {r for e in trail for r in e.detail["rewards"]} >= {"r-api-c", "r-api-tx"}
    # held, so listed as holdable nowhere: neither the customer's list nor the partner's names them
    lists = repository.scoring_snapshot(env.tenant.program_id, ("customer", "c1"), "p2", [], [], [])
    listed = lists.holdables.entries | lists.partner_holdables.entries
    assert not any(" r-api-" in text for text in listed), listed
