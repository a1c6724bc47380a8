"""An API reward naming only a transaction that arrives before the `transaction.created` it names
(events arrive out of order, SPEC 4) is that transaction's customer's once the transaction arrives:
it waits on the transaction's claim, and the claim ties it. Until now no claim existed when it
arrived, so it was tied to no customer for good and the customer's flag (at once, or the sweep,
which reads a customer's rewards by its index) never held it: a fraudster sent the reward first.
Through the real handlers on moto (and the memory store where said)."""

from __future__ import annotations

import copy
import json

from functions.hold_sweep.service import sweep
from functions.shared import runtime
from functions.shared.domain import writes
from functions.shared.domain.holdables import listed_id
from functions.shared.domain.scoring_plan import WAITING_MOST
from local_system.poller import sqs_event
from tests.integration import test_disputes
from tests.integration.scoring_support import drain, purchase, send, signup, status
from tests.integration.test_disputes import case_of, published, rewards_of
from tests.integration.test_rewards_named_by_their_transaction import stores  # noqa: F401 (a fixture)
from tests.integration.test_score_handler import message
from tests.support import invoke_raw, sample

env = test_disputes.env


def _partners(tenant) -> None:
    send(tenant, signup("p1", email="ada@example.com", ip="81.2.69.31"))
    send(tenant, signup("p2", email="bea@example.com", ip="81.2.69.32"))


def _claim(store, program: str, transaction_id: str):
    """A transaction's claim as scoring reads it: (the event that recorded it, its customer, the
    rewards waiting on it)."""
    read = store.scoring_snapshot(program, ("customer", "any"), None, [], [], [], None, None, transaction_id)
    return read.transaction_event, read.transaction_customer, read.transaction_waiting


def _early_reward(tenant, reward_id: str, transaction_id: str, partner_id: str = "p2") -> dict:
    """An API reward naming only `transaction_id`, dated before it."""
    event = sample("reward.created", id=f"evt-{reward_id}", occurred_at="2026-11-03T08:00:00Z")
    event["reward"].update(id=reward_id, partner_id=partner_id, amount="50.00", currency="USD")
    event["reward"].pop("customer_id")
    event["reward"]["transaction_id"] = transaction_id
    return send(tenant, event)


def _flagged_customer(env) -> str:
    """c1 bought through p2, then through p1 with p1's own e-mail address (a self-referral flags
    the customer): the customer's case."""
    _partners(env.tenant)
    drain(env.aws)
    send(env.tenant, purchase("c1", "p2", email="c1@example.org", at="2026-11-03T09:00:00Z"))
    drain(env.aws)
    flagged = send(env.tenant, purchase("c1", "p1", email="ada@example.com", at="2026-11-03T10:00:00Z"))
    drain(env.aws)
    answer = status(env.tenant, flagged["id"])
    assert answer["decision"]["action"] == "flag", answer
    return answer["case_id"]


def _held_under(env, case_id: str, reward_id: str, *, by_flag: bool = False) -> None:
    """Held under the customer's case with the usual trail: its notice and its audit entry once (a
    flag's own holds: in the flag's entry, which counts them)."""
    repository = env.deps.repository
    reward = repository.get_reward(env.tenant.program_id, reward_id)
    assert (reward.status, reward.case_id, reward.customer_id) == ("on_hold", case_id, "c1")
    notices = [d for d in published(env, "RewardsHeld") if reward_id in d["reward_ids"]]
    assert [(d["case_id"], d["subject"]) for d in notices] == [(case_id, {"type": "customer", "id": "c1"})]
    trail = [
        e
        for _, e in repository.case_audit(env.tenant.program_id, case_id)
        if e.action == "rewards_held" and reward_id in e.detail["rewards"]
    ]
    assert len(trail) == (0 if by_flag else 1), trail


def test_a_reward_sent_before_its_transaction_is_held_when_the_customer_is_flagged_later(env):
    _partners(env.tenant)
    drain(env.aws)
    bought = purchase("c1", "p2", email="c1@example.org", at="2026-11-03T09:00:00Z")
    _early_reward(env.tenant, "r-early", bought["transaction"]["id"])
    drain(env.aws)
    assert rewards_of(env.tenant, partner_id="p2")["r-early"] == "new"
    send(env.tenant, bought)
    drain(env.aws)
    assert rewards_of(env.tenant, customer_id="c1").get("r-early") == "new"  # the customer's now

    flagged = send(env.tenant, purchase("c1", "p1", email="ada@example.com", at="2026-11-03T10:00:00Z"))
    drain(env.aws)

    answer = status(env.tenant, flagged["id"])
    assert answer["decision"]["action"] == "flag", answer
    _held_under(env, answer["case_id"], "r-early", by_flag=True)
    assert case_of(env.tenant, answer["case_id"])["held_rewards"] == 3  # both purchases' and r-early


def test_a_reward_sent_before_a_flagged_customers_transaction_is_held_by_the_sweep_when_scoring_stops(
    env, monkeypatch
):
    """The transaction ties the reward in its first step and holds it in the next; scoring stopped
    between the two, the sweep finds it by the customer's index of rewards and holds it."""
    case_id = _flagged_customer(env)
    held_before = case_of(env.tenant, case_id)["held_rewards"]
    bought = purchase("c1", "p2", email="c1@example.org", at="2026-11-03T11:00:00Z")
    _early_reward(env.tenant, "r-early", bought["transaction"]["id"])
    drain(env.aws)
    store, real_apply = env.deps.repository, env.deps.repository.apply

    def no_hold_of_r_early(step):
        if any(isinstance(w, writes.MoveReward) and w.reward_id == "r-early" for w in step.writes):
            raise writes.StepRefused("injected: the reward changed meanwhile")
        real_apply(step)

    monkeypatch.setattr(store, "apply", no_hold_of_r_early)
    send(env.tenant, bought)
    drain(env.aws)
    monkeypatch.setattr(store, "apply", real_apply)
    assert rewards_of(env.tenant, customer_id="c1")["r-early"] == "new"

    report = sweep(runtime.dependencies())

    assert report.held == 1
    _held_under(env, case_id, "r-early")
    assert case_of(env.tenant, case_id)["held_rewards"] == held_before + 2  # the purchase's own, r-early


def test_a_reward_sent_before_the_transaction_that_flags_its_customer_is_held_at_once(env):
    _partners(env.tenant)
    drain(env.aws)
    send(env.tenant, purchase("c1", "p2", email="c1@example.org", at="2026-11-03T09:00:00Z"))
    drain(env.aws)
    flagging = purchase("c1", "p1", email="ada@example.com", at="2026-11-03T10:00:00Z")
    _early_reward(env.tenant, "r-early", flagging["transaction"]["id"])
    drain(env.aws)

    send(env.tenant, flagging)
    drain(env.aws)

    answer = status(env.tenant, flagging["id"])
    assert answer["decision"]["action"] == "flag", answer
    _held_under(env, answer["case_id"], "r-early")
    assert case_of(env.tenant, answer["case_id"])["held_rewards"] == 3


def test_two_rewards_waiting_on_one_transaction_are_both_tied_listed_and_held_by_the_flag(stores):  # noqa: F811
    tenant, store = stores.tenant, stores.store
    program = tenant.program_id
    send(tenant, signup("p-h", email="host.h@example.com", ip="81.2.69.220", at="2026-11-01T09:00:00Z"))
    drain(stores.aws)
    bought = purchase("cz", "p-h", at="2026-11-02T10:00:00Z", reward="5.00", ip="81.2.69.222")
    for reward_id in ("r-a", "r-b"):
        _early_reward(tenant, reward_id, bought["transaction"]["id"], partner_id="p-h")
    drain(stores.aws)
    send(tenant, bought)
    drain(stores.aws)

    tied = {r.reward_id: r.status for r in store.subject_rewards(program, "customer", "cz")}
    assert tied == {"r-a": "new", "r-b": "new", bought["reward"]["id"]: "pending"}
    customer = store.scoring_snapshot(program, ("customer", "cz"), None, [], [], [])
    assert {"r-a", "r-b"} <= {listed_id(text) for text in customer.holdables.entries}
    assert _claim(store, program, bought["transaction"]["id"]) == (bought["id"], "cz", frozenset())

    flagged = send(tenant, purchase("cz", "p-h", email="host.h@example.com", at="2026-11-04T10:00:00Z"))
    drain(stores.aws)
    answer = status(tenant, flagged["id"])
    assert answer["decision"]["action"] == "flag", answer
    for reward_id in ("r-a", "r-b"):
        reward = store.get_reward(program, reward_id)
        assert (reward.status, reward.case_id) == ("on_hold", answer["case_id"])


def test_a_reward_waiting_for_a_transaction_that_never_comes_changes_nothing_else(stores):  # noqa: F811
    tenant, store = stores.tenant, stores.store
    program = tenant.program_id
    send(tenant, signup("p-h", email="host.h@example.com", ip="81.2.69.220", at="2026-11-01T09:00:00Z"))
    drain(stores.aws)
    waiting = _early_reward(tenant, "r-w", "t-never", partner_id="p-h")
    other = send(tenant, purchase("cz", "p-h", at="2026-11-03T10:00:00Z", reward="5.00", ip="81.2.69.222"))
    drain(stores.aws)

    answer = status(tenant, waiting["id"])
    assert (answer["decision"]["action"], answer.get("case_id")) == ("allow", None), answer
    reward = store.get_reward(program, "r-w")
    assert (reward.status, reward.customer_id, reward.transaction_id) == ("new", None, "t-never")
    partner = store.scoring_snapshot(program, ("partner", "p-h"), None, [], [], [])
    assert "r-w" in {listed_id(text) for text in partner.holdables.entries}
    # it waits on the transaction's claim, which no event recorded
    recorded_by, its_customer, waiting = _claim(store, program, "t-never")
    assert (recorded_by, its_customer) == (None, None)
    assert {listed_id(text) for text in waiting} == {"r-w"}
    # the other transaction is recorded and tied as ever, and ties nothing of it
    assert {r.reward_id for r in store.subject_rewards(program, "customer", "cz")} == {other["reward"]["id"]}
    assert _claim(store, program, other["transaction"]["id"]) == (other["id"], "cz", frozenset())


def test_a_transaction_delivered_again_ties_and_holds_its_waiting_reward_once(env):
    case_id = _flagged_customer(env)
    held_before = case_of(env.tenant, case_id)["held_rewards"]
    bought = purchase("c1", "p2", email="c1@example.org", at="2026-11-03T11:00:00Z")
    _early_reward(env.tenant, "r-early", bought["transaction"]["id"])
    drain(env.aws)
    send(env.tenant, bought)
    drain(env.aws)

    # the same message again, and the same transaction under another event id
    body = json.dumps({"program_id": env.tenant.program_id, "event_id": bought["id"]})
    batch = sqs_event([message(body, "m-again")], "arn:aws:sqs:us-east-1:123456789012:fraud-scoring")
    assert invoke_raw("score", batch) == {"batchItemFailures": []}
    resent = copy.deepcopy(bought)
    resent["id"] = f"{bought['id']}-resent"
    send(env.tenant, resent)
    drain(env.aws)

    _held_under(env, case_id, "r-early")
    assert case_of(env.tenant, case_id)["held_rewards"] == held_before + 2  # the purchase's own, r-early
    ids = [r.reward_id for r in env.deps.repository.subject_rewards(env.tenant.program_id, "customer", "c1")]
    assert ids.count("r-early") == 1


def test_a_waiting_reward_released_by_its_partners_approved_dispute_is_held_by_its_customers_flag(env):
    """A reviewer's find: a reward held under its partner's case while it waited (no customer named
    yet) was released by that case's approval; its transaction then tied it to an unflagged customer
    whose list of holdable rewards, read as complete, left it out, and that customer's flag did not
    hold it (the sweep did, up to 15 minutes later)."""
    from tests.integration.test_disputes import (
        VERDICT_AT,
        dispute,
        flag_partner,
        run_scheduled_cycle,
        set_clock,
        verdict,
    )

    tenant = env.tenant
    partner_case = flag_partner(env, "px")  # flagged on 11-03
    _partners(tenant)
    drain(env.aws)
    bought = purchase("c1", "p2", email="c1@example.org", at="2026-11-04T09:00:00Z")
    _early_reward(tenant, "r-x", bought["transaction"]["id"], partner_id="px")
    drain(env.aws)
    assert rewards_of(tenant, partner_id="px")["r-x"] == "on_hold"  # under px's case, waiting
    assert dispute(env, partner_case).status == 200
    set_clock(env.clock, VERDICT_AT)
    assert verdict(env, partner_case, "approve").status == 200
    run_scheduled_cycle(env)
    assert rewards_of(tenant, partner_id="px")["r-x"] == "pending"  # released, still waiting

    send(tenant, bought)  # ties r-x to c1, not flagged
    drain(env.aws)
    flagged = send(tenant, purchase("c1", "p1", email="ada@example.com", at="2026-11-05T10:00:00Z"))
    drain(env.aws)

    answer = status(tenant, flagged["id"])
    assert answer["decision"]["action"] == "flag", answer
    reward = env.deps.repository.get_reward(tenant.program_id, "r-x")
    assert (reward.status, reward.case_id, reward.customer_id) == ("on_hold", answer["case_id"], "c1")


def test_a_basket_of_rewards_before_the_transaction_flagging_its_customer_is_held_one_past_the_bound_told(
    env,
):
    # a hot-keys tester's: twelve rewards naming one transaction, sent before it, and only eight
    # were tied to its customer and held; the other four stayed `new`, tied to no one, untold
    _partners(env.tenant)
    drain(env.aws)
    send(env.tenant, purchase("c1", "p2", email="c1@example.org", at="2026-11-03T09:00:00Z"))
    drain(env.aws)
    flagging = purchase("c1", "p1", email="ada@example.com", at="2026-11-03T10:00:00Z")
    basket = [f"r-line-{n:02d}" for n in range(WAITING_MOST + 1)]
    for n, reward_id in enumerate(basket):  # one at a time: each reads the claim the last one left
        _early_reward(env.tenant, reward_id, flagging["transaction"]["id"], partner_id=("p1", "p2")[n % 2])
        drain(env.aws)

    send(env.tenant, flagging)
    drain(env.aws)

    answer = status(env.tenant, flagging["id"])
    assert answer["decision"]["action"] == "flag", answer
    held = rewards_of(env.tenant, customer_id="c1")
    assert {r for r in basket if held.get(r) == "on_hold"} == set(basket[:WAITING_MOST])
    past = status(env.tenant, f"evt-{basket[-1]}")
    assert any("tied to no customer" in note for note in past["notes"]), past
    assert not any("tied to no customer" in note for note in status(env.tenant, f"evt-{basket[0]}")["notes"])
