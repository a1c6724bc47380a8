"""`EmailKeys.before` merged into the e-mail link (`links.merged`): the key of before is
read for every event under that address, but a flag's withdrawal (`marks.unflag_marks`, through
`profiles.identifiers_of`) withdraws only from the keys of today and the profile's
`email_normalized`, which the subject's next event rewrites as today's (a customer's every
purchase). A customer flagged by the previous version and approved after one more purchase stays
`flagged` on the item under its old key, and that item is now read as part of its address's link:
the approved customer still reads as flagged to everyone under that mailbox."""

from __future__ import annotations

from functions.shared.domain import identity
from functions.shared.domain.identity import email_keys
from functions.shared.domain.marks import unflag_marks
from functions.shared.domain.writes import Step
from tests.integration.scoring_support import purchase, signup
from tests.unit.live_scoring import live, make_engine, reasons
from tests.unit.test_detection import LOCAL_PEPPER, PROGRAM

ADDRESS = "jane.smith+shop@hotmail.co.uk"


def _as_keyed_before(address: str) -> str:
    """An address's key as the version before 2026-12-05 wrote it (`_mailbox`'s `earlier`)."""
    return identity._mailbox(address, earlier=True)


def _approved_after_the_upgrade(monkeypatch):
    engine = make_engine()
    live(engine, signup("p-shop", ip="81.2.69.10", device="fp-shop", at="2026-10-01T09:00:00Z"))
    live(engine, signup("p-other", ip="81.2.69.11", device="fp-other", at="2026-10-01T10:00:00Z"))
    old_key = email_keys(ADDRESS).before
    assert old_key == ADDRESS
    with monkeypatch.context() as m:  # the previous version: plus tags kept at hotmail.co.uk
        m.setattr(identity, "normalize_email", _as_keyed_before)
        identity.email_keys.cache_clear()
        identity.near_probes.cache_clear()
        # bought through p-shop from p-shop's own device and IP: a self-referral, flagged
        first = live(
            engine,
            purchase(
                "c-jane",
                "p-shop",
                email=ADDRESS,
                ip="81.2.69.10",
                device="fp-shop",
                at="2026-11-01T10:00:00Z",
            ),
        )
    identity.email_keys.cache_clear()
    identity.near_probes.cache_clear()
    assert first["action"] == "flag", first
    # after the upgrade: one more purchase (the profile's email_normalized is today's key now)
    live(
        engine,
        purchase(
            "c-jane", "p-other", email=ADDRESS, ip="81.2.69.90", device="fp-jane", at="2026-12-06T10:00:00Z"
        ),
    )
    # the team approves her: her flag marks are withdrawn (what the dispute cycle applies)
    repository = engine.repository
    jane = repository.get_subject(PROGRAM, "customer", "c-jane")
    repository.apply(Step(unflag_marks(jane, LOCAL_PEPPER.encode())))
    return engine, old_key


def test_a_customer_approved_after_the_upgrade_is_no_longer_flagged_under_its_old_key(monkeypatch):
    engine, old_key = _approved_after_the_upgrade(monkeypatch)
    repository = engine.repository

    still = repository._links.get((PROGRAM, "email", old_key))
    assert still is None or "customer:c-jane" not in still.flagged, (
        "the item under the key of before, read by every event under this address, still says flagged",
        still,
    )


def test_the_same_mailbox_at_another_shop_does_not_read_the_approved_customer_as_flagged(monkeypatch):
    engine, _ = _approved_after_the_upgrade(monkeypatch)
    guest = live(
        engine,
        purchase(
            "c-guest-77",
            "p-other",
            email=ADDRESS,
            ip="81.2.69.91",
            device="fp-guest",
            at="2026-12-08T10:00:00Z",
        ),
    )
    details = " ".join(reasons(guest).values())
    assert "c-jane (flagged)" not in details, guest
