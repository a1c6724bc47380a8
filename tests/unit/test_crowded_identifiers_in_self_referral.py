"""Red team, false flags: "A link crowded past 200 members (a carrier NAT) stops growing and stops
counting as evidence" (docs "Scoring"; SPEC 5.2: an IP alone is weak, households are not fraud).
`signals.self_referral` honours the crowd through the links, but it also compares the customer's
IP and device with the partner's profile (`partner.ips`, `partner.devices`), which keeps what the
partner used before the identifier became a crowd. A partner that once used a mobile carrier's
shared address makes every later customer of its on that address a self-referral (90, flagged,
its commission held); the same for a fingerprint an SDK sends for every browser of one model."""

from __future__ import annotations

from tests.integration.scoring_support import purchase, signup
from tests.support import sample
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


def crowd_the_device(engine, device: str) -> None:
    """200 purchases by other partners' customers on `device` over a few days: a crowd."""
    for n in range(200):
        live(
            engine,
            purchase(
                f"c-other{n}",
                "p-else",
                ip=f"81.2.{70 + n // 250}.{n % 250 + 1}",
                device=device,
                at=f"2026-11-0{2 + n // 60}T{(n % 60) // 3 + 1:02d}:{n % 60:02d}:00Z",
            ),
        )


def test_a_customer_on_a_crowded_fingerprint_its_partner_once_sent_is_not_a_self_referral():
    engine = make_engine()
    shared = "a1b2c3d4-ios-webview"  # one value an SDK reports for every in-app browser of a model
    live(
        engine,
        signup("p-mia", email="mia.k@example.com", ip="81.2.69.10", device=shared, at="2026-11-01T08:00:00Z"),
    )
    crowd_the_device(engine, shared)
    bought = live(
        engine, purchase("c-lee", "p-mia", ip="81.2.69.11", device=shared, at="2026-11-06T12:30:00Z")
    )
    assert "self_referral" not in reasons(bought), bought


SDK_FINGERPRINT = "a1b2c3d4-android-webview"  # one value an SDK reports for every in-app browser


def _mia_and_her_customer_on_the_sdk_fingerprint():
    engine = make_engine()
    live(engine, signup("p-mia", ip="81.2.69.10", device="fp-mia-phone", at="2026-11-01T08:00:00Z"))
    live(engine, purchase("c-lee", "p-mia", device=SDK_FINGERPRINT, at="2026-11-01T12:00:00Z"))
    return engine


def _login(partner: str, device: str, at: str):
    event = sample("account.updated", id=f"login-{partner}-{at}", occurred_at=at, activity="login")
    event["partner"] = {"id": partner}
    event["session"] = {"ip": "81.2.69.10", "device_fingerprint": device}
    return event


def test_a_partner_on_a_crowded_fingerprint_one_of_its_customers_bought_on_is_not_a_self_referral():
    """The other way round (`signals.bought_on_by_own_customers`): the partner's customer bought on
    the SDK's fingerprint before it was a crowd; the partner's in-app browser sending it later is
    one of thousands. Before the crowd, the same login is the partner on its customer's phone."""
    before_the_crowd = live(
        _mia_and_her_customer_on_the_sdk_fingerprint(),
        _login("p-mia", SDK_FINGERPRINT, "2026-11-01T13:00:00Z"),
    )
    assert "self_referral" in reasons(before_the_crowd), before_the_crowd
    engine = _mia_and_her_customer_on_the_sdk_fingerprint()
    crowd_the_device(engine, SDK_FINGERPRINT)

    later = live(engine, _login("p-mia", SDK_FINGERPRINT, "2026-11-06T12:00:00Z"))

    assert "self_referral" not in reasons(later), later
