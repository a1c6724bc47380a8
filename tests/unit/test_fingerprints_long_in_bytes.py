"""`partner_events._fingerprint` now keeps a fingerprint of at most 512 characters but
more than 512 UTF-8 bytes as its SHA-256. The previous version kept it as sent (a profile's
`devices`, its device link keyed by its text). After the upgrade the same browser's fingerprint
arrives as `sha256:...`: neither the partner's profile nor the link written before holds that, so
the partner's own device at checkout is no longer evidence of a self-referral (nor of a blocked
partner's return: the same key). Both stores (the memory store keys links by text too)."""

from __future__ import annotations

from functions.shared import partner_events
from tests.integration.scoring_support import purchase, signup
from tests.unit.live_scoring import live, make_engine, reasons

FP_CJK = "".join(chr(0x4E00 + i) for i in range(200))  # 200 characters, 600 bytes: kept as sent before


def _customer_on_the_partners_device(monkeypatch, *, partner_before_upgrade: bool):
    engine = make_engine()
    with monkeypatch.context() as m:
        if partner_before_upgrade:  # the previous version: 512 characters, bytes not counted
            m.setattr(partner_events, "FINGERPRINT_KEPT", 10_000)
        live(engine, signup("p-cjk", device=FP_CJK, ip="81.2.69.10", at="2026-11-01T09:00:00Z"))
    return live(
        engine,
        purchase("c-own", "p-cjk", device=FP_CJK, ip="81.2.69.99", at="2026-12-10T10:00:00Z"),
    )


def test_control_the_partners_own_device_at_checkout_is_a_self_referral(monkeypatch):
    decision = _customer_on_the_partners_device(monkeypatch, partner_before_upgrade=False)
    assert "self_referral" in reasons(decision), decision


def test_a_partner_stored_before_the_upgrade_is_still_found_by_its_own_device(monkeypatch):
    decision = _customer_on_the_partners_device(monkeypatch, partner_before_upgrade=True)
    assert "self_referral" in reasons(decision), (
        "the profile and the link of before hold the fingerprint's text; the event now carries its SHA-256",
        decision,
    )
