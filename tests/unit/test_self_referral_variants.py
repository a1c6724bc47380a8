"""A partner buying through its own link, from a new device and a new connection, with
one of its own identifiers written another way. SPEC 5.1: "`self_referral` (the customer is the
partner: shared email, device, IP or name)"; strong evidence flags on its own (SPEC 5.2).
Each purchase scored 0 or 20 (`email_similar`) and its commission stayed `pending`. (Left: the
name with an initial or a title more, another person as often as not; a dot dropped or a digit
added at a domain that is no known provider's is `email_similar` only; a customer id equal to the
partner's id is no evidence, two systems' ids may coincide.)"""

from __future__ import annotations

import pytest

from tests.integration.scoring_support import purchase, signup
from tests.unit.live_scoring import PROGRAM, live, make_engine, reasons

PARTNER_EMAIL = "kai.brandt@brandtmedia.de"


def kai(engine, **changes) -> None:
    """An honest-looking partner, Kai Brandt, at home (81.2.69.40, fp-home), signed up 1 Nov."""
    fields = dict(
        email=PARTNER_EMAIL, name="Kai Brandt", ip="81.2.69.40", device="fp-home", at="2026-11-01T08:00:00Z"
    )
    fields.update(changes)
    live(engine, signup("p-kai", **fields))


def status(engine, reward_id: str) -> str:
    return engine.repository.get_reward(PROGRAM, reward_id).status


def _buys(engine, customer_id="c-1", **changes):
    fields = dict(
        email="lena.vogt@example.net",
        name="Lena Vogt",
        ip="81.2.70.99",
        device="fp-new",
        at="2026-11-02T08:00:00Z",
    )
    fields.update(changes)
    bought = purchase(customer_id, "p-kai", **fields)
    return bought, live(engine, bought)


@pytest.mark.parametrize(
    "address",
    [
        "kai.brandt+deal@brandtmedia.de",  # its own mailbox, plus-tagged, at its own domain
        "Kai.Brandt+x@BrandtMedia.de",
    ],
)
def test_the_partners_own_address_written_another_way_at_its_own_domain(address):
    engine = make_engine()
    kai(engine)
    bought, decision = _buys(engine, email=address)
    assert decision["action"] == "flag" and "self_referral" in reasons(decision), decision
    assert status(engine, bought["reward"]["id"]) == "on_hold"


@pytest.mark.parametrize("payout", ["kb.payouts@gmail.com", "PayPal: kb.payouts@gmail.com"])
def test_the_customer_address_is_the_partners_paypal_payout_address(payout):
    """The partner's commissions go to this address; the customer typed it at checkout. The
    payout link is its own kind (`payout`), never compared with a customer's address."""
    engine = make_engine()
    kai(engine, payout=payout)
    bought, decision = _buys(engine, email="kb.payouts+shop@gmail.com")
    assert decision["action"] == "flag" and "self_referral" in reasons(decision), decision
