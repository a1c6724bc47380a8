"""An integration that sends an event again under a new event id (a fresh id on every timeout
retry, a backfill run twice with generated ids, a re-export) sends one account or one purchase
twice: velocity counts accounts and purchases (SPEC 5.1), not the times they are sent. An
integration tester's: five copies of one partner's sign-up flagged it for three sign-ups from its
IP, and then its colleague on that IP; three purchases of a traveller sent again were counted as
five from its phone, and flagged it. Through the real ingest and score handlers on moto."""

from __future__ import annotations

import copy

import pytest

from tests.integration.scoring_support import drain, purchase, send, signup, status

OFFICE_IP = "81.2.69.160"


def scored(aws, tenant, event: dict) -> dict:
    send(tenant, event)
    drain(aws)
    return status(tenant, event["id"])


def again(event: dict, n: int) -> dict:
    copied = copy.deepcopy(event)
    copied["id"] = f"{event['id']}-sent-again-{n}"
    return copied


def test_a_sign_up_sent_again_under_new_ids_is_one_sign_up(aws, tenant):
    # Given a partner's sign-up sent five times, each under a new event id
    first = signup("p-ada", ip=OFFICE_IP, device="fp-ada", at="2026-12-01T09:00:00Z")
    answers = [scored(aws, tenant, first)] + [scored(aws, tenant, again(first, n)) for n in range(4)]

    # Then none of them flags it (one account, one sign-up from the office's IP)
    assert [a["decision"]["action"] for a in answers] == ["allow"] * 5, [a["decision"] for a in answers]

    # and a colleague signing up from the office afterwards is no burst either
    colleague = scored(
        aws, tenant, signup("p-grace", ip=OFFICE_IP, device="fp-grace", at="2026-12-01T09:30:00Z")
    )
    assert colleague["decision"]["action"] == "allow", colleague["decision"]


def test_three_other_accounts_from_one_ip_are_still_a_burst(aws, tenant):
    # the copies add nothing; distinct accounts still count (the fourth within three hours flags)
    for n, partner in enumerate(["p-1", "p-2", "p-3"]):
        event = signup(partner, ip=OFFICE_IP, device=f"fp-{partner}", at=f"2026-12-01T09:0{n}:00Z")
        scored(aws, tenant, event)
        scored(aws, tenant, again(event, 0))
    fourth = scored(aws, tenant, signup("p-4", ip=OFFICE_IP, device="fp-p-4", at="2026-12-01T09:10:00Z"))
    assert "velocity" in {r["code"] for r in fourth["decision"]["reasons"]}, fourth["decision"]


@pytest.mark.parametrize("copies", [1, 2])
def test_purchases_sent_again_under_new_ids_are_counted_once(aws, tenant, copies):
    # Given a partner, and a traveller's three purchases from one phone, each sent again
    scored(aws, tenant, signup("p-shop", ip="2.125.160.216", at="2026-12-01T09:00:00Z"))
    bought = [
        purchase(
            "traveller",
            "p-shop",
            ip="81.2.69.161",
            device="fp-phone",
            country="US",
            at=f"2026-12-02T09:1{n}:00Z",
        )
        for n in range(3)
    ]
    for event in bought:
        assert scored(aws, tenant, event)["decision"]["action"] == "allow"
    resent = [scored(aws, tenant, again(event, n)) for n in range(copies) for event in bought]

    # Then the copies are judged on three purchases from the phone, as the first were: none flags
    assert [a["decision"]["action"] for a in resent] == ["allow"] * len(resent), [
        a["decision"] for a in resent
    ]
    assert all("velocity" not in {r["code"] for r in a["decision"]["reasons"]} for a in resent)


def test_a_copy_is_no_more_of_a_burst_than_its_original(aws, tenant):
    # a reviewer's: the third sign-up of an office, allowed, sent again, read its own original in
    # the counts and flagged as the third; so did the fifth purchase of a phone
    for n, partner in enumerate(["p-1", "p-2", "p-3"]):
        third = signup(partner, ip=OFFICE_IP, device=f"fp-{partner}", at=f"2026-12-01T09:0{n}:00Z")
        assert scored(aws, tenant, third)["decision"]["action"] == "allow"
    copy_of_third = scored(aws, tenant, again(third, 0))
    assert copy_of_third["decision"]["action"] == "allow", copy_of_third["decision"]
    assert copy_of_third["case_id"] is None

    scored(aws, tenant, signup("p-shop", ip="2.125.160.216", at="2026-12-01T09:00:00Z"))
    for n in range(5):
        fifth = purchase(
            "c-phone", "p-shop", ip="81.2.69.161", device="fp-phone", at=f"2026-12-02T09:1{n}:00Z"
        )
        first = scored(aws, tenant, fifth)
    copy_of_fifth = scored(aws, tenant, again(fifth, 0))
    assert first["decision"]["reasons"] == copy_of_fifth["decision"]["reasons"], copy_of_fifth["decision"]


def test_another_customers_purchase_under_a_reused_transaction_id_counts(aws, tenant):
    # a reviewer's: the transaction id alone made a purchase a copy; other customers reusing one
    # recorded id on one device counted nothing, and the sixth was no burst
    scored(aws, tenant, signup("p-shop", ip="2.125.160.216", at="2026-12-01T09:00:00Z"))
    first = purchase("c-0", "p-shop", device="fp-till", at="2026-12-02T09:00:00Z")
    scored(aws, tenant, first)
    for n in range(1, 6):
        reused = purchase(f"c-{n}", "p-shop", device="fp-till", reward=None, at=f"2026-12-02T09:0{n}:00Z")
        reused["transaction"]["id"] = first["transaction"]["id"]
        last = scored(aws, tenant, reused)
    assert "velocity" in {r["code"] for r in last["decision"]["reasons"]}, last["decision"]
