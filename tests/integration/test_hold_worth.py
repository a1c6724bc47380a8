"""The Active tab by hold amount compares what cases hold by its worth in euros (the ECB's
reference rates, `functions/shared/reference_rates.py`), not at face value: a fraud tester's find,
through the real handlers on moto. 100,000 IDR (about 5 EUR) was listed first, then a case holding
9,000 EUR + 20,000 JPY shown as `20000 JPY`, and 9,000 EUR alone last."""

from __future__ import annotations

import pytest

from tests.integration.scoring_support import drain, send, signup, status
from tests.support import call, proxy_event, sample

HOLDS = {  # partner: its rewards (amount, currency), each held as it arrives (the partner is flagged)
    "big-eur": [("9000.00", "EUR")],
    "small-jpy": [("20000", "JPY")],
    "eur-plus-jpy": [("9000.00", "EUR"), ("20000", "JPY")],
    "small-idr": [("100000", "IDR")],
    "much-aed": [("1000000.00", "AED")],  # no ECB rate: after every case with one
}


def flag(tenant, partner_id: str, n: int) -> str:
    """Two sign-ups with one address: the second, `partner_id`, is flagged (a case is opened)."""
    mail = f"twin.{n}@example.com"
    send(tenant, signup(f"{partner_id}-orig", email=mail, ip=f"81.2.69.{10 + n}"))
    flagged = send(tenant, signup(partner_id, email=mail, ip=f"81.2.69.{40 + n}", at="2026-11-02T09:30:00Z"))
    return flagged["id"]


def reward(tenant, reward_id: str, partner_id: str, amount: str, currency: str) -> None:
    event = sample("reward.created", id=f"ev-{reward_id}", occurred_at="2026-11-02T10:00:00Z")
    event["reward"].update(id=reward_id, partner_id=partner_id, amount=amount, currency=currency)
    event["reward"].pop("customer_id")
    send(tenant, event)


def active_by_hold(tenant, order: str) -> list[dict]:
    query = {"view": "active", "sort": "hold_amount", "order": order}
    answer = call("cases", proxy_event("GET", "/v1/cases", None, tenant.keys["fraud"], query=query))
    assert answer.status == 200, answer
    return answer.body["items"]


@pytest.fixture
def held(aws, tenant):
    signups = [flag(tenant, partner_id, n) for n, partner_id in enumerate(HOLDS)]
    drain(aws)
    assert all(status(tenant, s)["decision"]["action"] == "flag" for s in signups)
    for partner_id, rewards in HOLDS.items():
        for n, (amount, currency) in enumerate(rewards):
            reward(tenant, f"r-{partner_id}-{n}", partner_id, amount, currency)
    drain(aws)
    return tenant


def test_cases_are_ordered_by_the_worth_of_all_they_hold_and_show_the_currency_worth_most(held):
    items = active_by_hold(held, "desc")
    holding = [c for c in items if c["hold_amounts"]]
    assert [c["subject"]["id"] for c in holding] == [
        "eur-plus-jpy",  # 9,000 EUR + 20,000 JPY (about 114 EUR)
        "big-eur",
        "small-jpy",
        "small-idr",  # about 5 EUR
        "much-aed",  # no rate: after every case with one
    ]
    shown = {c["subject"]["id"]: c["hold_amount"] for c in items}
    assert shown["eur-plus-jpy"] == {"amount": "9000.00", "currency": "EUR"}  # not 20000 JPY
    assert shown["small-jpy"] == {"amount": "20000", "currency": "JPY"}
    assert shown["much-aed"] == {"amount": "1000000.00", "currency": "AED"}
    mixed = next(c for c in items if c["subject"]["id"] == "eur-plus-jpy")
    assert mixed["hold_amounts"] == [
        {"amount": "9000.00", "currency": "EUR"},
        {"amount": "20000", "currency": "JPY"},
    ]
    assert len(holding) == len(items)  # every case listed holds something
    ascending = [c["subject"]["id"] for c in active_by_hold(held, "asc")]
    assert ascending == [c["subject"]["id"] for c in items][::-1]
