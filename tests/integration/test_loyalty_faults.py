"""Loyalty under a cloud's faults: DynamoDB writes whose answer is lost after they took effect (a
timeout, a connection reset after the commit), and a client that retries what failed, as SPEC 3
says it may. Earns, campaign bonuses and spends of five customers, three cap behaviours: each
request answers once what it did, a retry answers the same, and the balances, aggregates and
the campaign's total are each request counted once."""

from __future__ import annotations

import random
from typing import Any

import pytest

from tests.integration.test_faults import DYNAMODB, WRITES, faults_fixture  # noqa: F401 (fixture)
from tests.integration.test_loyalty_support import (  # noqa: F401 (fixtures)
    Loyalty,
    bus_fixture,
    campaign_settings,
    clock_fixture,
)

CUSTOMERS = 5


@pytest.fixture
def loyalty(tenant, clock) -> Loyalty:
    return Loyalty(tenant.keys)


def _requests(seed: int) -> list[tuple[str, dict[str, Any]]]:
    """Earns and bonuses of each customer first, then spends among them (never more than earned)."""
    draw = random.Random(seed)
    made: list[tuple[str, dict[str, Any]]] = []
    for n in range(40):
        customer = f"m{n % CUSTOMERS}"
        if n >= 10 and draw.random() < 0.3:
            made.append(("spend", {"id": f"s{n}", "customer": customer, "points": 7}))
        elif draw.random() < 0.5:
            made.append(("bonus", {"id": f"b{n}", "customer": customer, "points": 50, "campaign": "c1"}))
        else:
            made.append(("earn", {"id": f"e{n}", "customer": customer, "points": 30}))
    return made


def _send(loyalty: Loyalty, kind: str, request: dict[str, Any]):
    args = dict(request)
    return getattr(loyalty, kind)(args.pop("customer"), args.pop("points"), **args)


@pytest.mark.parametrize("behavior", ["soft", "dynamic", "hard"])
@pytest.mark.parametrize("seed", [1, 2])
def test_writes_whose_answer_is_lost_count_once_when_retried(behavior, seed, loyalty, faults):
    assert loyalty.campaign("c1", campaign_settings(behavior, total=500, per_customer=120)).status == 200
    faults.fail(DYNAMODB, WRITES, 0.3, "InternalServerError", after=True)
    requests = _requests(seed)
    answers: dict[str, dict[str, Any]] = {}
    for kind, request in requests:
        for _ in range(20):  # a client retries a 5xx with the same body
            answer = _send(loyalty, kind, request)
            if answer.status < 500:
                break
        assert answer.status == 200, (kind, request, answer)
        answers[request["id"]] = answer.body
    faults.clear()
    assert sum(faults.injected.values()) > 5

    for kind, request in requests:  # once more: the same answers, nothing twice
        assert _send(loyalty, kind, request).body == answers[request["id"]], request
    bonuses = [answers[r["id"]]["granted"] for kind, r in requests if kind == "bonus"]
    assert loyalty.campaign("c1").body["granted_total"] == sum(bonuses)
    for n in range(CUSTOMERS):
        mine = [(kind, r) for kind, r in requests if r["customer"] == f"m{n}"]
        earned = sum(answers[r["id"]]["granted"] for kind, r in mine if kind != "spend")
        spent = sum(r["points"] for kind, r in mine if kind == "spend")
        seen = loyalty.customer(f"m{n}").body
        assert seen["balance"] == earned - spent
        assert seen["aggregates"]["earned"]["lifetime"] == earned
        assert seen["aggregates"]["spent"]["lifetime"] == spent


@pytest.mark.parametrize("code", ["ProvisionedThroughputExceededException", "InternalServerError"])
@pytest.mark.parametrize("change", ["suspend", "block"])
def test_a_change_by_hand_answered_503_changed_nothing_and_its_retry_makes_it_once(
    loyalty, faults, bus, code, change
):
    """A loyalty tester's: a suspension by hand whose view, read after the commit, met a throttled
    read answered 503 ("safe to retry", SPEC 3: a rejected request changes nothing); the change was
    made and announced, and the retry was a 409 ("customer m is suspended: cannot suspend"). The
    answer is now read before the change, at the version it is made on."""
    assert loyalty.earn("m", 100).status == 200
    faults.fail(DYNAMODB, {"Query"}, 1.0, code)  # the view's reads
    first = loyalty.status("m", change, {"note": "points farming"})
    faults.clear()
    assert first.status == 503, first
    assert loyalty.customer("m").body["status"] == "active"  # nothing changed
    assert bus.events("CustomerSuspended") == bus.events("CustomerBlocked") == []

    retry = loyalty.status("m", change, {"note": "points farming"})

    made = {"suspend": "suspended", "block": "blocked"}[change]
    assert retry.status == 200, retry
    assert retry.body == loyalty.customer("m").body  # the answer is the customer as it now is
    assert retry.body["status"] == made
    assert [(h["action"], h["note"]) for h in retry.body["history"]] == [(made, "points farming")]
    announced = {"suspend": "CustomerSuspended", "block": "CustomerBlocked"}[change]
    assert len(bus.events(announced)) == 1
