"""An API reward naming only a transaction, scored while that transaction's purchase is being
scored (between the purchase's read and its write): the purchase's claim holds only on the waiting
rewards it read, so it is refused, read again, and ties the reward; or the reward, landing after
the claim, finds it and is tied at once. Either order, the reward is the customer's (SPEC 4). The
real engine on each store (DynamoDB on moto, the in-memory one), the interleaving made exact by a
wrapped `apply`."""

from __future__ import annotations

from typing import Any

import pytest

from functions.score.engine import Engine
from functions.score.reference import EmbeddedReferenceData
from functions.shared.domain.identity import LOCAL_PEPPER
from functions.shared.domain.writes import ClaimTransaction
from functions.shared.messaging import InMemoryPublisher
from functions.shared.storage.memory import InMemoryRepository
from tests.integration.scoring_support import purchase, signup
from tests.support import sample
from tests.unit.test_detection import PROGRAM, score


def _reward_naming(transaction_id: str) -> dict[str, Any]:
    event = sample("reward.created", id="evt-r-mid", occurred_at="2026-11-04T09:00:30Z")
    event["reward"].update(id="r-mid", partner_id="p2", amount="50.00", currency="USD")
    event["reward"].pop("customer_id")
    event["reward"]["transaction_id"] = transaction_id
    return event


@pytest.mark.parametrize("on", ["dynamodb", "memory"])
@pytest.mark.parametrize("landing", ["before the claim", "after the claim"])
def test_a_reward_scored_while_its_transaction_is_scored_is_tied_to_the_customer(
    landing, on, aws, monkeypatch
):
    repository = aws.repository if on == "dynamodb" else InMemoryRepository()
    engine = Engine(repository, EmbeddedReferenceData({}), LOCAL_PEPPER.encode(), InMemoryPublisher())
    score(engine, signup("p2", email="bea@example.com", ip="81.2.69.32", at="2026-11-01T09:00:00Z"))
    bought = purchase("c1", "p2", email="c1@example.org", at="2026-11-04T09:00:00Z", reward="5.00")
    store, real_apply = engine.repository, engine.repository.apply
    done: list[str] = []

    def interleaved(step: Any) -> Any:
        claims = any(isinstance(w, ClaimTransaction) for w in step.writes)
        if claims and not done and landing == "before the claim":
            done.append("reward")
            score(engine, _reward_naming(bought["transaction"]["id"]))  # between its read and write
        applied = real_apply(step)
        if claims and not done and landing == "after the claim":
            done.append("reward")
            score(engine, _reward_naming(bought["transaction"]["id"]))
        return applied

    monkeypatch.setattr(store, "apply", interleaved)
    score(engine, bought)

    assert done == ["reward"]
    assert store.get_reward(PROGRAM, "r-mid").customer_id == "c1"
    assert store.get_reward(PROGRAM, bought["reward"]["id"]).customer_id == "c1"
