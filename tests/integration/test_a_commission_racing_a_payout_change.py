"""A payout change and a purchase with a large commission scored side by side (a reviewer's finding;
SPEC 5.1 `unusual_activity`, SPEC 4: events arrive together from parallel senders): each read the
partner before the other wrote, so the change saw no commission and the purchase no change, and the
900 USD stayed payable to details set three hours before it. Now a large commission's arrival
expects the partner's version it read and moves it on (`PartnerArrival.expect_version`), so
whichever commits second is refused and decides again on what the first wrote. The real engine on
each store (DynamoDB on moto, the in-memory one), the interleaving made exact by a wrapped read."""

from __future__ import annotations

from typing import Any

import pytest

from functions.score.engine import Engine
from functions.score.reference import EmbeddedReferenceData
from functions.shared.domain.commission_review import review_id
from functions.shared.domain.identity import LOCAL_PEPPER
from functions.shared.errors import NotFound
from functions.shared.messaging import InMemoryPublisher
from functions.shared.storage.memory import InMemoryRepository
from tests.integration.scoring_support import purchase, signup
from tests.unit.test_detection import PROGRAM, payout_update, score


def score_all(engine: Engine, body: dict[str, Any]) -> None:
    """`score`, then the review of its commission it recorded, if any, as the queue would."""
    score(engine, body)
    try:
        review = engine.repository.get_event(PROGRAM, review_id(body["id"]))
    except NotFound:
        return
    if review.status == "queued":
        engine.score(review)


@pytest.mark.parametrize("on", ["dynamodb", "memory"])
@pytest.mark.parametrize("first", ["the change", "the purchase"])
def test_a_large_commission_and_a_payout_change_scored_side_by_side_flag_the_partner(
    first, on, aws, monkeypatch
):
    repository = aws.repository if on == "dynamodb" else InMemoryRepository()
    engine = Engine(repository, EmbeddedReferenceData({}), LOCAL_PEPPER.encode(), InMemoryPublisher())
    score(engine, signup("p1", at="2026-10-01T08:00:00Z"))
    change = payout_update("p1", "2026-11-02T09:00:00Z")
    bought = purchase("c1", "p1", reward="900.00", at="2026-11-02T12:00:00Z")
    one, other = (change, bought) if first == "the change" else (bought, change)
    real = repository.scoring_snapshot
    raced: list[bool] = []

    def read_then_race(*args: Any, **kwargs: Any) -> Any:
        snapshot = real(*args, **kwargs)
        if not raced:  # `one`'s first read: `other` scored whole before `one` writes
            raced.append(True)
            score_all(engine, other)
        return snapshot

    monkeypatch.setattr(repository, "scoring_snapshot", read_then_race)
    score_all(engine, one)

    assert raced == [True]
    assert repository.get_subject(PROGRAM, "partner", "p1").status == "flagged"
    rewards = {r.reward_id: r.status for r in repository.subject_rewards(PROGRAM, "partner", "p1")}
    assert rewards == {bought["reward"]["id"]: "on_hold"}


def test_a_small_commission_moves_no_version_of_its_partner(aws):
    # the guard is for large commissions alone: a partner's purchases arriving side by side would
    # otherwise refuse each other's arrival (and its own events) all day
    engine = Engine(aws.repository, EmbeddedReferenceData({}), LOCAL_PEPPER.encode(), InMemoryPublisher())
    score(engine, signup("p1", at="2026-10-01T08:00:00Z"))
    version = aws.repository.get_subject(PROGRAM, "partner", "p1").version
    score(engine, purchase("c1", "p1", reward="199.99", at="2026-11-02T12:00:00Z"))
    assert aws.repository.get_subject(PROGRAM, "partner", "p1").version == version
    score(engine, purchase("c2", "p1", reward="200.00", at="2026-11-02T12:05:00Z"))
    assert aws.repository.get_subject(PROGRAM, "partner", "p1").version == version + 1
