"""Payout accounts stored under their keys of before 2026-12-07 (`identity.PayoutKey.before`), through
the real ingest and score handlers on moto. The forty-eighth session read a wallet out of its label
(`BTC: bc1q...`), a payment handle out of its link and any link without its scheme; the links,
blocks and profiles written before are under the keys the same text had then (`BTCBC1Q...`). A
partner removed then, back with its account written as then, must still be its account's (SPEC 3.2,
5.3), and a partner sending its account as it always did has changed nothing (SPEC 5.1)."""

from __future__ import annotations

import pytest

from functions.shared.domain import identity
from tests.integration.scoring_support import drain, purchase, send, signup
from tests.integration.test_a_commission_after_new_payout_details import rewards_of
from tests.integration.test_removals import env as removals_env
from tests.integration.test_removed_partner_written_otherwise import (
    _new_partner_paid_to,
    _removed_partner_paid_to,
)
from tests.integration.test_scoring_signals import payout_update
from tests.support import sample

env = removals_env  # the fixture, under the name the tests ask for

BITCOIN = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
FORMS = [
    f"BTC: {BITCOIN}",  # a wallet with its ticker
    "https://cash.app/$RingBoss",  # a payment handle's link
    "https://venmo.com/u/ring-boss",
    "https://wise.com/pay/me/ringboss",  # any link, with its scheme
    "PayPal: ring.boss+pay@brandtmedia.de",  # an address keyed as before 2026-12-05 (a tag kept)
]


@pytest.fixture
def keyed_as_before():
    """Events keyed as the code before 2026-12-07 keyed them (`payout_key(..., earlier=True)`), until
    the function it gives is called: the store then holds what a deployment of then wrote."""

    def then(account: str) -> identity.PayoutKey:
        return identity.PayoutKey(identity.payout_key(account, earlier=True))

    patch = pytest.MonkeyPatch()  # its own: undoing it leaves the fixtures' environment in place
    patch.setattr(identity, "payout_keys", then)
    yield patch.undo
    patch.undo()


def test_each_form_had_another_key_before():
    for account in FORMS:
        key = identity.payout_keys(account)
        assert key.before == identity.payout_key(account, earlier=True) != key, account
    assert identity.payout_keys("GB29 NWBK 6016 1331 9268 19").before is None  # an IBAN: keyed as it was


@pytest.mark.parametrize("account", FORMS)
def test_a_partner_removed_then_is_found_under_its_account_written_as_then(env, keyed_as_before, account):
    # Given a partner paid into `account`, removed and blocked while its key was the one of then
    _removed_partner_paid_to(env, account)
    keyed_as_before()  # the code of today from here on

    # When a new partner, with a new address, device and IP, is to be paid into the same account
    decision = _new_partner_paid_to(env, account)

    # Then it is the removed partner's account: flagged, not paid
    assert decision["action"] == "flag", decision
    assert [r["detail"] for r in decision["reasons"] if r["code"] == "cluster"] == [
        "payout account also used by partner p-x (removed)"
    ]


def test_a_partner_removed_then_in_another_program_is_network_flagged(env, keyed_as_before):
    _removed_partner_paid_to(env, FORMS[0])
    keyed_as_before()

    decision = _new_partner_paid_to(env, FORMS[0], tenant=env.other)

    assert "network_flagged" in {r["code"] for r in decision["reasons"]}, decision


def test_only_the_same_account_is_found_under_the_key_of_then(env, keyed_as_before):
    # control: another wallet labelled the same way is another account, then as now
    _removed_partner_paid_to(env, FORMS[0])
    keyed_as_before()

    decision = _new_partner_paid_to(env, "BTC: bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh")

    assert "cluster" not in {r["code"] for r in decision["reasons"]}, decision


def _login_with(account: str, n: int, at: str) -> dict:
    event = sample("account.updated", id=f"login-{n}", occurred_at=at, activity="login")
    event["partner"] = {"id": "p1", "payout_account": account}
    return event


@pytest.mark.parametrize(
    ("account", "later", "held"),
    [(FORMS[0], FORMS[0], False), (FORMS[1], FORMS[1], False), (FORMS[0], "GB99NEWBANK00000000", True)],
)
def test_an_account_sent_as_it_always_was_is_no_change_of_details(env, keyed_as_before, account, later, held):
    # Given a partner whose profile holds its account under the key of then
    send(env.tenant, signup("p1", at="2026-10-01T08:00:00Z", payout=account))
    drain(env.aws)
    keyed_as_before()

    # When it logs in with its account written as it always was (or, the control, new details),
    # and a large commission follows within the hour
    env.clock.advance(days=40)
    change = _login_with(later, 1, "2026-11-02T09:00:00Z") if not held else payout_update("p1", 1, 9)
    bought = purchase("c1", "p1", reward="900.00", at="2026-11-02T09:30:00Z")
    for event in (change, bought):
        send(env.tenant, event)
        drain(env.aws)

    # Then only new details put the commission on hold (SPEC 5.1: the large reward after a change)
    assert rewards_of(env.tenant, "p1") == {bought["reward"]["id"]: "on_hold" if held else "pending"}
