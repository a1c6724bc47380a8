"""Red team, false flags: "A link crowded past 200 members (a carrier NAT) stops growing and stops
counting as evidence" (docs "Scoring"; SPEC 5.2: an IP alone is weak, households are not fraud).
`signals.self_referral` honours the crowd through the links, but it also compares the customer's
IP and device with the partner's profile (`partner.ips`, `partner.devices`), which keeps what the
partner used before the identifier became a crowd. A partner that once used a mobile carrier's
shared address makes every later customer of its on that address a self-referral (90, flagged,
its commission held); the same for a fingerprint an SDK sends for every browser of one model."""

from __future__ import annotations

from tests.integration.scoring_support import purchase, signup
from tests.unit.live_scoring import live, make_engine, reasons

CARRIER = "81.2.69.200"  # a carrier-grade NAT's public address: thousands of subscribers


def test_a_customer_on_a_carrier_address_its_partner_once_used_is_not_a_self_referral():
    engine = make_engine()
    live(
        engine,
        signup(
            "p-mia", email="mia.k@example.com", ip=CARRIER, device="fp-mia-phone", at="2026-11-01T08:00:00Z"
        ),
    )
    # the program's other customers on the carrier's address, over a few days: a crowd
    for n in range(200):
        live(
            engine,
            purchase(
                f"c-other{n}",
                "p-else",
                ip=CARRIER,
                at=f"2026-11-0{2 + n // 60}T{(n % 60) // 3 + 1:02d}:{n % 60:02d}:00Z",
            ),
        )
    # control: the crowd is no evidence for a stranger who buys through another partner
    stranger = live(engine, purchase("c-stranger", "p-else", ip=CARRIER, at="2026-11-06T12:00:00Z"))
    assert "self_referral" not in reasons(stranger)

    bought = live(engine, purchase("c-lee", "p-mia", ip=CARRIER, at="2026-11-06T12:30:00Z"))
    assert "self_referral" not in reasons(bought), bought


def test_a_customer_on_a_crowded_fingerprint_its_partner_once_sent_is_not_a_self_referral():
    engine = make_engine()
    shared = "a1b2c3d4-ios-webview"  # one value an SDK reports for every in-app browser of a model
    live(
        engine,
        signup("p-mia", email="mia.k@example.com", ip="81.2.69.10", device=shared, at="2026-11-01T08:00:00Z"),
    )
    for n in range(200):
        live(
            engine,
            purchase(
                f"c-other{n}",
                "p-else",
                ip=f"81.2.{70 + n // 250}.{n % 250 + 1}",
                device=shared,
                at=f"2026-11-0{2 + n // 60}T{(n % 60) // 3 + 1:02d}:{n % 60:02d}:00Z",
            ),
        )
    bought = live(
        engine, purchase("c-lee", "p-mia", ip="81.2.69.11", device=shared, at="2026-11-06T12:30:00Z")
    )
    assert "self_referral" not in reasons(bought), bought
