"""Upgrading: partners stored before 2026-12-05 keep the address key written then (a plus tag at
Microsoft's national domains, Proton's separators in it). Scoring reads that key too
(`EmailKeys.before`, merged into the address's link) and compares the partner's address keyed as
today, so a partner is still found by its own exact address: its purchase under it is a
self-referral, a second sign-up under it a duplicate."""

from __future__ import annotations

import pytest

from functions.shared.domain import identity
from tests.integration.scoring_support import purchase, signup
from tests.unit.live_scoring import live, make_engine, reasons

ADDRESS = "jane.smith+shop@hotmail.co.uk"


def _as_keyed_before(address: str) -> str:
    """An address's key as the version before 2026-12-05 wrote it (`_mailbox`'s `earlier`)."""
    return identity._mailbox(address, earlier=True)


def _signed_up_by_the_previous_version(engine, monkeypatch) -> None:
    """The sign-up as the previous version scored it: plus tags kept at hotmail.co.uk."""
    with monkeypatch.context() as m:
        m.setattr(identity, "normalize_email", _as_keyed_before)  # plus tags kept at hotmail.co.uk
        identity.email_keys.cache_clear()
        identity.near_probes.cache_clear()
        live(engine, signup("p-jane", email=ADDRESS, name="Jane Smith", at="2026-11-01T09:00:00Z"))
    identity.email_keys.cache_clear()
    identity.near_probes.cache_clear()


@pytest.fixture
def engine(monkeypatch):
    engine = make_engine()
    _signed_up_by_the_previous_version(engine, monkeypatch)
    yield engine
    identity.email_keys.cache_clear()
    identity.near_probes.cache_clear()


def test_a_partner_buying_through_its_own_link_under_its_own_exact_address_is_still_a_self_referral(engine):
    bought = live(
        engine,
        purchase("c-jane", "p-jane", email=ADDRESS, name="J S", ip="81.2.69.77", at="2026-11-20T10:00:00Z"),
    )
    assert "self_referral" in reasons(bought), bought


def test_a_second_sign_up_under_the_exact_same_address_is_still_a_duplicate(engine):
    again = live(engine, signup("p-jane2", email=ADDRESS, ip="81.2.69.78", at="2026-11-20T10:00:00Z"))
    assert "email_duplicate" in reasons(again), again
