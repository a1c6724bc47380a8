"""What the customer/reward red team tried that held (passes on the current code)."""

from __future__ import annotations

import pytest

from tests.support import sample
from tests.unit.customer_scoring import (
    PARTNER_EMAIL,
    api_reward,
    kai,
    live,
    make_engine,
    purchase,
    reasons,
    run_sweep,
    signup,
    status,
)


@pytest.mark.parametrize(
    "address",
    ["Kai.Brandt+x@gmail.com", "kaibrandt@googlemail.com", "k.a.i.brandt@gmail.com", "KAI.BRANDT@GMAIL.COM "],
)
def test_the_partners_gmail_written_another_way_is_a_self_referral(address):
    engine = make_engine()
    kai(engine, email="kai.brandt@gmail.com")
    bought = purchase(
        "c-1",
        "p-kai",
        email=address.strip(),
        ip="81.2.70.99",
        device="fp-new",
        name="Lena Vogt",
        at="2026-11-02T08:00:00Z",
    )
    decision = live(engine, bought)
    assert "self_referral" in reasons(decision)
    assert status(engine, bought["reward"]["id"]) == "on_hold"


def test_the_partners_old_address_and_its_64_are_a_self_referral():
    engine = make_engine()
    kai(engine, ip="2a02:8108:1:2::10")
    change = sample("account.updated", id="em-1", occurred_at="2026-11-01T09:00:00Z", activity="email_change")
    change["partner"] = {"id": "p-kai", "email": "kai@neu-brandt.de"}
    change["session"] = {"ip": "2a02:8108:1:2::10", "device_fingerprint": "fp-home"}
    live(engine, change)
    old = live(
        engine,
        purchase(
            "c-1",
            "p-kai",
            email=PARTNER_EMAIL,
            ip="81.2.70.99",
            device="fp-n1",
            name="Lena Vogt",
            at="2026-11-02T08:00:00Z",
        ),
    )
    line = live(
        engine,
        purchase(
            "c-2",
            "p-kai",
            email="x.y.z@example.net",
            ip="2a02:8108:1:2:abcd::9",
            device="fp-n2",
            name="Lena Vogt",
            at="2026-11-02T09:00:00Z",
        ),
    )
    assert "self_referral" in reasons(old) and "self_referral" in reasons(line)


def test_a_late_earlier_purchase_of_a_flagged_customer_and_its_later_ones_are_held():
    engine = make_engine()
    kai(engine)
    live(
        engine,
        purchase(
            "c-self", "p-kai", email=PARTNER_EMAIL, ip="81.2.70.99", device="fp-x", at="2026-11-02T08:00:00Z"
        ),
    )
    for at in ("2026-11-01T20:00:00Z", "2026-11-03T08:00:00Z"):  # before the flag, arriving after; later
        other = purchase("c-self", "p-kai", email="c.self@example.net", ip="81.2.70.98", device="fp-y", at=at)
        live(engine, other)
        assert status(engine, other["reward"]["id"]) == "on_hold"


def test_an_api_reward_for_a_flagged_customer_is_held_by_the_next_sweep_whatever_its_date():
    engine = make_engine()
    kai(engine)
    live(
        engine,
        purchase(
            "c-self", "p-kai", email=PARTNER_EMAIL, ip="81.2.70.99", device="fp-x", at="2026-11-02T08:00:00Z"
        ),
    )
    live(engine, signup("p-hon", ip="81.2.69.41", at="2026-11-01T08:00:00Z"))
    events = [
        api_reward("r-1", "p-kai", "2026-11-02T09:00:00Z", customer="c-self"),
        api_reward("r-2", "p-hon", "2026-11-02T09:00:00Z", customer="c-self"),
        api_reward("r-3", "p-kai", "2001-01-01T00:00:00Z", customer="c-self"),  # dated far back
    ]
    for event in events:
        live(engine, event)
    run_sweep(engine, "2026-11-02T09:15:00Z")
    assert [status(engine, e["reward"]["id"]) for e in events] == ["on_hold"] * 3


def test_an_api_reward_listed_before_its_customer_is_flagged_is_held_by_the_flag():
    engine = make_engine()
    kai(engine)
    live(engine, api_reward("r-0", "p-kai", "2026-11-02T07:00:00Z", customer="c-self", transaction="t-0"))
    live(
        engine,
        purchase(
            "c-self", "p-kai", email=PARTNER_EMAIL, ip="81.2.70.99", device="fp-x", at="2026-11-02T08:00:00Z"
        ),
    )
    assert status(engine, "r-0") == "on_hold"


def test_velocity_split_across_partners_and_devices_on_one_ip_and_one_device_across_ips():
    engine = make_engine()
    for p in ("p-a", "p-b", "p-c"):
        live(engine, signup(p, ip=f"81.2.69.{ord(p[-1])}", at="2026-11-01T08:00:00Z"))
    by_ip = [
        live(
            engine,
            purchase(
                f"c{n}",
                ("p-a", "p-b", "p-c")[n % 3],
                ip="81.2.80.1",
                device=f"fp-{n}",
                at=f"2026-11-02T08:{n * 5:02d}:00Z",
            ),
        )
        for n in range(6)
    ]
    by_device = [
        live(
            engine,
            purchase(
                f"d{n}", "p-a", ip=f"81.2.{90 + n}.1", device="fp-one", at=f"2026-11-02T10:{n * 5:02d}:00Z"
            ),
        )
        for n in range(6)
    ]
    assert "velocity" in reasons(by_ip[-1]) and "velocity" in reasons(by_device[-1])


def test_a_household_two_people_one_connection_one_computer_is_not_flagged():
    engine = make_engine()
    live(engine, signup("p-a", ip="81.2.69.1", at="2026-11-01T08:00:00Z"))
    first = live(
        engine,
        purchase(
            "c-anna",
            "p-a",
            name="Anna Berg",
            email="anna.berg@example.net",
            ip="81.2.80.5",
            device="fp-anna",
            at="2026-11-02T18:00:00Z",
        ),
    )
    second = live(
        engine,
        purchase(
            "c-olaf",
            "p-a",
            name="Olaf Berg",
            email="olaf.berg@example.net",
            ip="81.2.80.5",
            device="fp-anna",
            at="2026-11-02T19:00:00Z",
        ),
    )
    assert first["action"] == second["action"] == "allow", second


def test_a_customer_sharing_only_a_crowded_sdk_fingerprint_with_a_flagged_one_is_not_flagged():
    engine = make_engine()
    live(engine, signup("p-a", ip="81.2.69.1", at="2026-11-01T08:00:00Z"))
    kai(engine)
    for n in range(200):  # an SDK's one fingerprint: a crowd
        live(
            engine,
            purchase(
                f"c{n}",
                "p-a",
                ip=f"81.{n // 200 + 3}.{n % 200}.9",
                device="sdk-ios-17",
                at=f"2026-10-{1 + n // 48:02d}T{(n // 2) % 24:02d}:{(n % 2) * 30:02d}:00Z",
                reward=None,
            ),
        )
    flagged = live(
        engine,
        purchase(
            "c-self",
            "p-kai",
            email=PARTNER_EMAIL,
            ip="81.2.70.99",
            device="sdk-ios-17",
            at="2026-11-02T08:00:00Z",
        ),
    )
    assert flagged["action"] == "flag"
    after = live(
        engine, purchase("c-next", "p-a", ip="81.9.9.9", device="sdk-ios-17", at="2026-11-03T08:00:00Z")
    )
    assert after["action"] == "allow", after


def test_lower_case_currency_is_judged_as_upper_case():
    engine = make_engine()
    kai(engine, payout="GB29NWBK60161331926819", at="2026-10-01T08:00:00Z")
    change = sample("account.updated", id="pu", occurred_at="2026-11-02T08:00:00Z", activity="payout_update")
    change["partner"] = {"id": "p-kai", "payout_account": "DE89370400440532013000"}
    change["session"] = {"ip": "81.2.69.40", "device_fingerprint": "fp-home"}
    live(engine, change)
    decision = live(
        engine, api_reward("r-big", "p-kai", "2026-11-02T09:00:00Z", amount="5000.00", currency="usd")
    )
    assert "unusual_activity" in reasons(decision)
    reward = engine.repository.get_reward("prg-detection", "r-big")
    assert (reward.status, reward.currency) == ("on_hold", "USD")


@pytest.mark.parametrize("amount", ["0", "0.00", "-10.00", "10.001", "1e3", "+5"])
def test_a_refund_like_zero_or_over_precise_commission_is_refused(amount):
    from pydantic import TypeAdapter, ValidationError

    from functions.shared.partner_events import PartnerEvent

    event = purchase("c-1", "p-a", reward=amount)
    with pytest.raises(ValidationError):
        TypeAdapter(PartnerEvent).validate_python(event)
