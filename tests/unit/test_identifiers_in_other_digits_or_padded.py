"""Red team (thirty-third session): a removed, blocked partner's identifiers written in another
script's digits, or padded past the length the event's model took, were new identifiers.

- Digits of any script (Unicode's category Nd) are their ASCII digits in a payout account
  (`identity.ascii_digits`): an Arabic-Indic `٠٧`, a Persian `۰۷` and a Devanagari `०७` are `07`.
  The look-alike table took a Devanagari `०` for the letter `O`. Keys of ASCII text are as they
  were; an address's and a device's keys are as they were (a reviewer: folding them re-keyed what
  was stored, and another script's digits make another mailbox).
- An optional identifier's length is what its key reads (`inputs.read_within`, `_payout`,
  `_fingerprint`): a payout account past 200 characters of zero-width spaces or blanks, a
  customer's address or name so padded, a device past 512, were ignored whole or kept as a
  digest that never met the device."""

from __future__ import annotations

import hashlib

import pytest
from pydantic import TypeAdapter

from functions.shared.domain.identity import (
    normalize_device,
    normalize_email,
    other_payout_keys,
    payout_key,
    same_payout_account,
)
from functions.shared.partner_events import PartnerEvent
from tests.support import sample

events = TypeAdapter(PartnerEvent)

ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
DEVANAGARI = str.maketrans("0123456789", "०१२३४५६७८९")
BENGALI = str.maketrans("0123456789", "০১২৩৪৫৬৭৮৯")
SCRIPTS = {"arabic-indic": ARABIC, "persian": PERSIAN, "devanagari": DEVANAGARI, "bengali": BENGALI}
IBAN = "GB29 NWBK 6016 1331 9268 19"


@pytest.mark.parametrize("digits", SCRIPTS.values(), ids=SCRIPTS.keys())
@pytest.mark.parametrize(
    ("account", "key"),
    [
        (IBAN, "GB29NWBK60161331926819"),
        ("AE07 0331 2345 6789 0123 456", "AE070331234567890123456"),
        ("0035042736", "35042736"),  # an account number of digits: without its zeros, as before
        ("60-16-13 31926819", "60161331926819"),  # the IBAN's domestic form
    ],
)
def test_an_account_in_another_scripts_digits_is_the_account(digits, account, key):
    assert payout_key(account) == key  # ASCII: the key stored before, unchanged

    assert payout_key(account.translate(digits)) == key


def test_a_devanagari_zero_is_a_zero_not_the_letter_o():
    assert payout_key("IN12 3050".translate(DEVANAGARI)) == "IN123050"
    assert payout_key("GB29 NWBK " + "6016 1331 9268 19".translate(DEVANAGARI)) == payout_key(IBAN)


def test_an_iban_in_another_scripts_digits_meets_its_domestic_form():
    written = payout_key(IBAN.translate(ARABIC))
    assert "60161331926819" in other_payout_keys(written)
    assert same_payout_account(written, payout_key("٦٠-١٦-١٣ ٣١٩٢٦٨١٩"))


@pytest.mark.parametrize("digits", SCRIPTS.values(), ids=SCRIPTS.keys())
def test_an_address_and_a_device_in_another_scripts_digits_keep_the_keys_stored_before(digits):
    """A reviewer: folded in every key, an address written in other digits and stored by the
    version before (`kai٨٤+shop@brandtmedia.de`, kept as `kai٨٤@...`) matched neither the new key
    nor its key of before 2026-12-05 (`EmailKeys.before`), and the removed partner sending its very
    address again was no one; and `kai٨٤@` is another mailbox than `kai84@` to its provider."""
    for address in ("kai.brandt84@brandtmedia.de", "kai84+shop@brandtmedia.de", "ali.reza12@proton.me"):
        written = address.translate(digits)
        assert normalize_email(written) != normalize_email(address)
        assert not normalize_email(written).isascii()  # its digits as written: the key stored before
    assert normalize_device("fp-7c1e0d42".translate(digits)) != normalize_device("fp-7c1e0d42")


def test_an_address_checked_in_one_pass_whatever_it_holds():
    """`EMAIL_PATTERN`'s rule without its backtracking (`inputs._email_form`): the same answer on
    every text of a few characters, and a crafted address (`a@` and thousands of `a.`) read in one
    pass, where the pattern took seconds once no length bounded it first."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from functions.shared.inputs import EMAIL_PATTERN, _email_form, compile_pattern

    pattern = compile_pattern(EMAIL_PATTERN)

    def accepted(text: str) -> bool:
        try:
            _email_form(text)
        except ValueError:
            return False
        return True

    @settings(max_examples=2000, deadline=None)
    @given(st.text(alphabet="ab.@ \u00a0\u3000\u200b\t\n", max_size=10))
    def agrees(text: str) -> None:
        assert accepted(text) == bool(pattern.search(text)), repr(text)

    agrees()
    crafted = "a@" + "a." * 30_000 + "@"
    assert not accepted(crafted)


# --- lengths as the keys read them -----------------------------------------------------------
def _signup(payout: str) -> str | None:
    raw = sample("partnership.created")
    raw["partner"]["payout_account"] = payout
    ignored: list[str] = []
    event = events.validate_python(raw, context={"ignored": ignored})
    assert not ignored, ignored
    return event.partner.payout_account


@pytest.mark.parametrize(
    "padded",
    [
        "DE89 3704 0044 0532 0130 00" + "\u200b" * 180,  # what shows nothing, past 200 characters
        "DE89" + " " * 180 + "3704 0044 0532 0130 00",  # blanks inside, which the key drops
        "DE89 3704 0044 0532 0130 00" + "\u00ad" * 300,  # soft hyphens
    ],
)
def test_a_payout_account_padded_past_200_characters_is_the_account(padded):
    assert len(padded) > 200
    assert _signup(padded) == "DE89370400440532013000" == _signup("DE89 3704 0044 0532 0130 00")


def test_a_payout_account_whose_own_letters_pass_200_is_still_ignored_and_named():
    raw = sample("partnership.created")
    raw["partner"]["payout_account"] = "AB" * 100 + "C"
    ignored: list[str] = []
    assert events.validate_python(raw, context={"ignored": ignored}).partner.payout_account is None
    assert ignored == [
        "partner.payout_account ignored: not a text whose letters and digits are at most 200 characters"
    ]
    raw["partner"]["payout_account"] = "AB" * 100 + "-" * 100  # punctuation the key drops: 200
    assert _signup(raw["partner"]["payout_account"]) == "AB" * 100


def _customer(**fields: str):
    raw = sample("transaction.created")
    raw["customer"].update(fields)
    ignored: list[str] = []
    customer = events.validate_python(raw, context={"ignored": ignored}).customer
    return customer, ignored


def test_a_customers_address_and_name_padded_past_their_limits_are_themselves():
    customer, ignored = _customer(
        email="kai.brandt@brandtmedia.de" + "\u200b" * 300, name="Kai" + "\u200b" * 200 + " " * 50 + "Brandt"
    )
    assert not ignored, ignored
    assert (customer.email, customer.name) == ("kai.brandt@brandtmedia.de", "Kai Brandt")
    # within the limits as sent, a value is kept as sent (a Persian name's joiners among it)
    customer, _ = _customer(email="kai@brandtmedia.de\u200b", name="Kai  Brandt\u200c")
    assert (customer.email, customer.name) == ("kai@brandtmedia.de\u200b", "Kai  Brandt\u200c")
    # and one longer as read is still ignored, and named
    customer, ignored = _customer(email="k" * 250 + "@x.de", name="K" * 201)
    assert (customer.email, customer.name) == (None, None)
    assert [note.partition(" ")[0] for note in ignored] == ["customer.email", "customer.name"]


def test_a_changed_address_padded_past_254_characters_is_the_address():
    raw = sample("account.updated")
    raw["partner"] = {"id": "p-1", "email": "kai.brandt@brandtmedia.de" + "\ufeff" * 300}
    assert events.validate_python(raw).partner.email == "kai.brandt@brandtmedia.de"


def _device(value: str) -> str | None:
    raw = sample("partnership.created")
    raw["session"]["device_fingerprint"] = value
    return events.validate_python(raw).session.device_fingerprint


@pytest.mark.parametrize("padding", ["\u200b", "\u00ad", "\u034f"])
def test_a_device_padded_past_512_characters_is_the_device_not_a_digest(padding):
    assert _device("fp-p-x" + padding * 600) == "fp-p-x" == normalize_device(_device("FP-P-X"))
    assert _device(padding * 300 + "FP-P-X" + padding * 300) == "fp-p-x"
    # one longer than 512 as read is still kept as the digest of its normalized form
    long = "fp-" + "x" * 600
    digest = "sha256:" + hashlib.sha256(long.encode()).hexdigest()
    assert _device(long + padding * 10) == digest == _device(long)


@pytest.mark.parametrize("padded", ["81.2.69.160   ", " 81.2.69.160", "2001:db8:85a3::8a2e:370:7334  "])
def test_a_sessions_address_padded_by_a_char_column_is_the_address(padded):
    """An ingest tester's: a customer's address was trimmed, the session's (required) refused 422,
    so every sign-up of an integration whose column pads it failed, its message silent on why."""
    raw = sample("partnership.created")
    raw["session"]["ip"] = padded
    assert events.validate_python(raw).session.ip == padded.strip()
