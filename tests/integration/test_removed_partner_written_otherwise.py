"""Red team (thirty-second session), through the real ingest and score handlers on moto: a removed
partner, blocked from re-applying, came back and was paid under its own identifiers written in a
form the keys did not read as the same: a `+tag` at its own domain, a capital dotted `İ`, its
wallet without `0x` or as a payment URI (SPEC 3.2: never paid again; `blocked_reapply` at once)."""

from __future__ import annotations

import pytest

from functions.shared.domain.identity import other_payout_keys, payout_key, same_payout_account
from tests.integration.scoring_support import codes, drain, purchase, send, signup, status
from tests.integration.test_removals import env as removals_env
from tests.integration.test_removals import flag_partner, reapply, remove
from tests.support import sample

env = removals_env  # the fixture, under the name the tests ask for

WALLET = "0x52908400098527886E0F7030069857D2E4169EE7"
BITCOIN = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
PAYEES = [WALLET, WALLET[:-1] + "8", WALLET[:-1] + "9"]


@pytest.mark.parametrize(
    ("removed", "back"),
    [
        ("kai.brandt@brandtmedia.de", "kai.brandt+again@brandtmedia.de"),  # a tag at its own domain
        ("kai.brandt@brandtmedia.de", "KAİ.BRANDT@brandtmedia.de"),  # a capital dotted İ for the i
        ("ada.lovelace@gmail.com", "ADA.LOVELACE@GMAİL.COM"),
        ("jane.doe@gmail.com", "jane.doe+_@gmail.com"),  # a tag of punctuation, or none, is a tag
        ("kai.brandt@brandtmedia.de", "kai.brandt+-@brandtmedia.de"),
        ("jane.doe@gmail.com", "jane.doe+@gmail.com"),
    ],
)
def test_a_removed_partner_back_under_its_address_written_otherwise_is_blocked(env, removed, back):
    case_id = flag_partner(env, "p-x", removed, name="Kai Brandt")
    assert remove(env, case_id, block=True).status == 200

    again = reapply(env, "p-x-2", email=back, device="fp-never-seen")

    assert again["decision"]["action"] == "flag"
    assert "blocked_reapply" in again["codes"], again["decision"]


@pytest.mark.parametrize(
    "back",
    [
        "jane.doe(promo)@gmail.com",
        "(x)jane.doe@gmail.com",
        "jane.doe@(x)gmail.com",
        "jane(a(b))doe@gmail.com",
    ],
)
def test_a_removed_partner_back_under_its_address_with_a_comment_is_blocked(env, back):
    """An evasion tester's: an address with an RFC 5322 comment (`jane.doe(promo)@gmail.com`) is
    delivered to the mailbox without it, and a mail library reads it so; keyed with it, the removed
    partner was back `allow 0`, in its program and across the network."""
    case_id = flag_partner(env, "p-x", "jane.doe@gmail.com", name="Jane Doe")
    assert remove(env, case_id, block=True).status == 200

    again = reapply(env, "p-x-2", email=back, device="fp-never-seen")
    elsewhere = reapply(env, "p-b", email=back, device="fp-never-seen-b", tenant=env.other)

    assert "blocked_reapply" in again["codes"], again["decision"]
    assert "network_flagged" in elsewhere["codes"], elsewhere["decision"]


TRON = "TXYZopYRdj2D9XRtbG411XZZ3kM5VkAeBf"


def test_a_wallet_among_other_words_is_that_wallet_and_two_name_neither():
    assert payout_key(f"BTC: {BITCOIN}") == payout_key(BITCOIN)
    assert payout_key(f"send to {WALLET} please") == payout_key(WALLET)
    both = f"{BITCOIN} or {WALLET}"
    assert payout_key(both) not in (payout_key(BITCOIN), payout_key(WALLET))


@pytest.mark.parametrize(
    ("one", "other"),
    [
        # the session reviewer's frames: three services' handles of one spelling are three people
        ("revolut.me/ringboss", "https://venmo.com/u/ringboss"),
        ("$RingBoss", "@ringboss"),
        ("https://cash.app/$RingBoss", "revolut.me/ringboss"),
        # two payees at an exchange's one address, told apart by their memo
        (f"TRC20 {TRON} memo 1001", f"TRC20 {TRON} memo 2002"),
        # account numbers of digits alone, in words that name two people
        (
            "Chase 3123456789123456789123456789567 John Smith",
            "BoA 3123456789123456789123456789567 Mary Jones",
        ),
        (f"Ref {WALLET[2:]} Wise 12345678", f"Ref {WALLET[2:]} Wise 87654321"),
        ("Venmo account", "@account"),  # the service's name and a word: no handle
    ],
)
def test_fields_that_name_two_accounts_are_two(one, other):
    assert not same_payout_account(payout_key(one), payout_key(other))


def test_a_partner_removed_in_another_program_is_the_same_person_under_its_tagged_address(env):
    case_id = flag_partner(env, "p-x", "kai.brandt@brandtmedia.de", name="Kai Brandt")
    assert remove(env, case_id, block=True).status == 200

    again = reapply(env, "p-b", email="kai.brandt+b@brandtmedia.de", device="fp-never-seen", tenant=env.other)

    assert "network_flagged" in again["codes"], again["decision"]


def _removed_partner_paid_to(env, account: str) -> None:
    first = signup("p-x-first", email="x.one@example.com", ip="81.2.69.131", at="2026-11-02T09:00:00Z")
    flagged = signup(
        "p-x", email="x.one@example.com", ip="81.2.69.132", at="2026-11-03T09:00:00Z", payout=account
    )
    send(env.tenant, first)
    send(env.tenant, flagged)
    drain(env.aws)
    assert remove(env, status(env.tenant, flagged["id"])["case_id"], block=True).status == 200


@pytest.mark.parametrize(
    ("paid_to", "back"),
    [
        (WALLET, WALLET[2:]),  # without its 0x
        (WALLET[2:].lower(), f"ethereum:{WALLET}@1?value=1e16"),  # an EIP 681 payment URI
        (BITCOIN, f"bitcoin:{BITCOIN}?amount=0.1"),  # a BIP 21 payment URI
        (BITCOIN, f"bitcoin:{BITCOIN}?amount=0.1&lightning=lnbc1x"),  # with what a client may ignore
        (BITCOIN, f"bitcoin:{BITCOIN}?r=https://pay.example/1"),
        (BITCOIN, f"bitcoin:{BITCOIN}?amount=0.1&memo=hi"),  # no bitcoin link names a payee so
        (WALLET, f"ethereum:{WALLET}@1?value=1e16&tag=1"),
        (BITCOIN, f"bitcoin:{BITCOIN}\u200b"),  # read as a person reads it: what shows nothing
        (BITCOIN, "bitcoin:" + BITCOIN.replace("c", "\u0441", 1)),  # a Cyrillic с for the c
        (BITCOIN, f"bitcoin:{BITCOIN} ?amount=0.1"),
        (WALLET, f"ethereum:{WALLET}@0x1"),  # a chain id in hexadecimal
        (BITCOIN, f"BITCOIN://{BITCOIN}?amount=0.1"),
        (BITCOIN, f"bitcoin:{BITCOIN}#x"),
        # forty-eighth session, an evasion tester's: a wallet with its ticker or a label before it,
        # and payment handles' links
        (BITCOIN, f"BTC: {BITCOIN}"),
        (BITCOIN, f"Bitcoin address: {BITCOIN}"),
        (WALLET, f"ETH: {WALLET}"),
        (WALLET, f"USDT (ERC20): {WALLET[2:]}"),
        ("$RingBoss", "https://cash.app/$RingBoss"),
        ("$RingBoss", "cash.app/$RingBoss"),
        ("https://revolut.me/ringboss", "revolut.me/ringboss"),
        ("@ring-boss", "https://venmo.com/u/ring-boss"),
        ("@ring-boss", "venmo.com/ring-boss"),
        ("jane.doe@gmail.com", "jane.doe(paypal)@gmail.com"),  # an address with a comment
        # the session reviewer's: what the first mend missed
        (BITCOIN, "BTC: " + BITCOIN[:4] + "\u200b" + BITCOIN[4:]),  # what shows nothing, labelled
        (BITCOIN, "BTC: " + BITCOIN.replace("c", "\u0441", 1)),  # a Cyrillic с, labelled
        (WALLET, "ETH: " + WALLET[:20] + "\u00ad" + WALLET[20:]),  # a soft hyphen, labelled
        (BITCOIN, f"BTC{BITCOIN}"),  # the ticker against it
        (WALLET, f"ETH{WALLET}"),
        (BITCOIN, f"BTC: B{BITCOIN[1:]}"),  # its first letter a capital
        ("$RingBoss", "https://cash.app/$RingBoss/25"),  # an amount after it
        ("@ring-boss", "https://venmo.com/ring-boss?txn=pay&amount=25"),  # Venmo's pay link
        ("@ring-boss", "Venmo @ring-boss"),  # after its service's name
    ],
)
def test_a_removed_partner_paid_again_into_its_wallet_written_otherwise_is_flagged(env, paid_to, back):
    # Given a partner paid into a wallet, flagged and removed with its re-application blocked
    _removed_partner_paid_to(env, paid_to)

    # When a new partner, with a new address, device and IP, is to be paid into that wallet
    env.clock.advance(days=4)
    back_again = signup(
        "p-new", email="brand.new@example.org", device="fp-never", ip="81.2.70.9",
        at="2026-11-25T09:00:00Z", payout=back,
    )  # fmt: skip
    send(env.tenant, back_again)
    drain(env.aws)

    # Then it is the removed partner's account: flagged, not paid
    decision = status(env.tenant, back_again["id"])["decision"]
    assert decision["action"] == "flag", decision
    assert [r["detail"] for r in decision["reasons"] if r["code"] == "cluster"] == [
        "payout account also used by partner p-x (removed)"
    ]


def test_a_wallet_keeps_the_key_it_was_stored_under_and_its_other_form_is_linked_beside_it():
    # keys are stored (links, profiles): the forms written before keep theirs, so a payout sent again
    # as it was is no change and a partner removed before meets the same text; the other form is
    # the same account (`other_payout_keys`)
    assert payout_key(WALLET) == WALLET.upper() and payout_key(WALLET[2:]) == WALLET[2:].upper()
    assert same_payout_account(payout_key(WALLET), payout_key(WALLET[2:].lower()))
    assert payout_key("0" * 38 + "12") == "12"  # an account number of digits: as before, no wallet
    assert other_payout_keys(payout_key("0" * 38 + "12")) == ()


@pytest.mark.parametrize(
    "links",
    [
        # a token transfer names the token's contract first: every payee of USDT has it
        [f"ethereum:0xdAC17F958D2ee523a2206206994597C13D831ec7@1/transfer?address={w}" for w in PAYEES],
        # an exchange's one XRP address, its customers told apart by their destination tag
        [f"ripple:rEb8TK3gBgk5auZkwc6sHnwrGVJH8DuaLh?dt={n}" for n in (101, 202, 303)],
        # a shared Solana address, its customers told apart by a memo
        [f"solana:9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin?amount=1&memo=c{n}" for n in (1, 2, 3)],
    ],
)
def test_payment_links_that_do_not_name_their_payee_first_link_no_one_together(links):
    keys = [payout_key(link) for link in links]
    assert len(set(keys)) == len(keys)
    assert not any(same_payout_account(a, b) for a in keys for b in keys if a != b)


# --- thirty-third session: in another script's digits, or padded past the model's limits ---------
ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
DEVANAGARI = str.maketrans("0123456789", "०१२३४५६७८९")
UAE = "AE07 0331 2345 6789 0123 456"
GERMAN = "DE89 3704 0044 0532 0130 00"


def _new_partner_paid_to(env, account: str, tenant=None) -> dict:
    env.clock.advance(days=4)
    back = signup(
        "p-new", email="brand.new@example.org", device="fp-never", ip="81.2.70.9",
        at="2026-11-25T09:00:00Z", payout=account,
    )  # fmt: skip
    send(tenant or env.tenant, back)
    drain(env.aws)
    return status(tenant or env.tenant, back["id"])["decision"]


@pytest.mark.parametrize(
    ("paid_to", "back"),
    [
        (UAE, UAE.translate(ARABIC)),  # an Arabic phone keyboard's digits
        (UAE, UAE.translate(PERSIAN)),  # Persian and Urdu digits
        ("IN12 3050", "IN12 3050".translate(DEVANAGARI)),  # its zero was read as the letter O
        ("0035042736", "٠٠٣٥٠٤٢٧٣٦"),  # an account number of digits, its zeros dropped either way
        (GERMAN, GERMAN + "\u200b" * 180),  # what shows nothing, past 200 characters
        (GERMAN, "DE89" + " " * 180 + "3704 0044 0532 0130 00"),  # blanks inside, which the key drops
    ],
)
def test_a_removed_partner_paid_into_its_account_in_other_digits_or_padded_is_flagged(env, paid_to, back):
    # Given a partner paid into an account, flagged and removed with its re-application blocked
    _removed_partner_paid_to(env, paid_to)

    # When a new partner is to be paid into that account, written in other digits or padded
    decision = _new_partner_paid_to(env, back)

    # Then it is the removed partner's account
    assert decision["action"] == "flag", decision
    assert [r["detail"] for r in decision["reasons"] if r["code"] == "cluster"] == [
        "payout account also used by partner p-x (removed)"
    ]


def test_a_partner_removed_in_another_program_is_network_flagged_under_its_account_in_arabic_digits(env):
    _removed_partner_paid_to(env, UAE)

    decision = _new_partner_paid_to(env, UAE.translate(ARABIC), tenant=env.other)

    assert "network_flagged" in {r["code"] for r in decision["reasons"]}, decision


@pytest.mark.parametrize(
    ("device", "blocked"),
    [
        ("fp-p-x" + "\u200b" * 600, True),  # past FINGERPRINT_KEPT (512) with zero-width spaces
        ("FP-P-X" + "\u00ad" * 600, True),  # soft hyphens
        ("fp-p-y" + "\u200b" * 600, False),  # control: another device so padded is another device
    ],
)
def test_a_blocked_partner_back_on_its_device_padded_past_512_characters_is_blocked(env, device, blocked):
    # `flag_partner`'s p-x signs up on fp-p-x (`scoring_support.signup`'s default)
    case_id = flag_partner(env, "p-x", "kai.brandt@brandtmedia.de", name="Kai Brandt")
    assert remove(env, case_id, block=True).status == 200

    again = reapply(env, "p-y", email="totally.new@example.org", device=device)

    assert ("blocked_reapply" in again["codes"]) == blocked, again["decision"]


def test_a_partner_changing_its_address_to_a_removed_partners_padded_past_254_characters_is_flagged(env):
    case_id = flag_partner(env, "p-x", "kai.brandt@brandtmedia.de", name="Kai Brandt")
    assert remove(env, case_id, block=True).status == 200
    env.clock.advance(days=4)
    joined = signup(
        "p-new", email="fresh.one@example.org", device="fp-fresh", ip="81.2.70.9", at="2026-11-25T09:00:00Z"
    )
    send(env.tenant, joined)
    drain(env.aws)

    change = sample(
        "account.updated", id="chg-padded", occurred_at="2026-11-26T09:00:00Z", activity="email_change"
    )
    change["partner"] = {"id": "p-new", "email": "kai.brandt@brandtmedia.de" + "\u200b" * 300}
    change["session"] = {"ip": "81.2.70.9", "device_fingerprint": "fp-fresh"}
    env.clock.advance(days=1)
    send(env.tenant, change)
    drain(env.aws)

    decision = status(env.tenant, "chg-padded")["decision"]
    assert decision["action"] == "flag", decision
    assert "partner p-x (removed)" in " ".join(r["detail"] for r in decision["reasons"]), decision


@pytest.mark.parametrize(
    "customer",
    [
        {"email": "kai.brandt@brandtmedia.de" + "\u200b" * 300},  # past 254 characters
        {"name": "Kai" + "\u200b" * 200 + " Brandt"},  # past 200
        {"name": "Kai" + " " * 200 + "Brandt"},
    ],
)
def test_a_customer_with_its_partners_address_or_name_padded_is_a_self_referral(env, customer):
    joined = signup("p1", email="kai.brandt@brandtmedia.de", name="Kai Brandt", at="2026-11-02T09:00:00Z")
    send(env.tenant, joined)
    drain(env.aws)

    bought = purchase("c1", "p1", at="2026-11-04T14:30:00Z", **customer)
    send(env.tenant, bought)
    drain(env.aws)

    assert "self_referral" in codes(env.tenant, bought["id"])


@pytest.mark.parametrize("changes", [0, 12])
def test_one_account_changing_its_address_over_and_over_does_not_crowd_a_removed_partners_key(env, changes):
    """An evasion tester's: one throwaway changing its address twelve times under the near key of a
    removed partner's address crowded it (its spans), and the partner came back a letter off under
    its own name, `allow 0` where it was `flag 70`. An account keeps two spans on a key."""
    case_id = flag_partner(env, "p-kai", "kai.brandt@gmail.com", name="Kai Brandt")
    assert remove(env, case_id, block=True).status == 200
    env.clock.advance(days=4)
    filler = signup("p-filler", email="filler.one@example.org", name="Filler One", device="fp-filler",
                    ip="81.2.76.1", at="2026-11-20T09:00:00Z")  # fmt: skip
    send(env.tenant, filler)
    letters = "abcdefghijklmnopqrstuvwxyz"
    for n in range(changes):
        change = sample(
            "account.updated", id=f"upd-fill-{n}", occurred_at=f"2026-11-2{n // 6}T1{n % 6}:00:00Z"
        )
        change["partner"] = {"id": "p-filler", "email": f"kaibra{letters[n : n + 3]}@gmail.com"}
        change["session"] = {"ip": "81.2.76.1", "device_fingerprint": "fp-filler"}
        change["activity"] = "email_change"
        send(env.tenant, change)
    drain(env.aws)

    back = signup("p-kai-back", email="kai.brandl@gmail.com", name="Kai Brandt", device="fp-new-kai",
                  ip="81.2.72.1", at="2026-11-25T08:00:00Z")  # fmt: skip
    send(env.tenant, back)
    drain(env.aws)

    decision = status(env.tenant, back["id"])["decision"]
    assert decision["action"] == "flag", decision
    assert any(
        r["code"] == "email_similar" and "under the same name" in r["detail"] for r in decision["reasons"]
    )
