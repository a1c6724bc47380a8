"""Red team (thirty-third session): a removed, blocked partner's identifiers written in another
script's digits, or padded past the length the event's model took, were new identifiers.

- Digits of any script (Unicode's category Nd) are their ASCII digits in every key read as a person
  reads it (`identity._as_read`): an Arabic-Indic `٠٧`, a Persian `۰۷` and a Devanagari `०७` are
  `07`, in a payout account, an address and a device. The look-alike table took a Devanagari `०`
  for the letter `O`. Keys of ASCII text are as they were.
- An optional identifier's length is what its key reads (`inputs.read_within`, `_payout`,
  `_fingerprint`): a payout account past 200 characters of zero-width spaces or blanks, a
  customer's address or name so padded, a device past 512, were ignored whole or kept as a
  digest that never met the device."""

from __future__ import annotations

import pytest

from functions.shared.domain.identity import (
    as_read,
    email_keys,
    normalize_device,
    normalize_email,
    other_payout_keys,
    payout_key,
    same_payout_account,
)

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
    assert as_read("०") == "0" and payout_key("IN12 3050".translate(DEVANAGARI)) == "IN123050"
    assert payout_key("GB29 NWBK " + "6016 1331 9268 19".translate(DEVANAGARI)) == payout_key(IBAN)


def test_an_iban_in_another_scripts_digits_meets_its_domestic_form():
    written = payout_key(IBAN.translate(ARABIC))
    assert other_payout_keys(written) == ("60161331926819",)
    assert same_payout_account(written, payout_key("٦٠-١٦-١٣ ٣١٩٢٦٨١٩"))


@pytest.mark.parametrize("digits", SCRIPTS.values(), ids=SCRIPTS.keys())
def test_an_address_and_a_device_in_another_scripts_digits_are_themselves(digits):
    # ASCII: the keys stored before, unchanged
    assert normalize_email("Kai.Brandt84+x@BrandtMedia.de") == "kai.brandt84@brandtmedia.de"
    assert normalize_device(" FP-7C1E0D42 ") == "fp-7c1e0d42"

    assert normalize_email("kai.brandt84@brandtmedia.de".translate(digits)) == "kai.brandt84@brandtmedia.de"
    assert normalize_device("fp-7c1e0d42".translate(digits)) == "fp-7c1e0d42"
    # an address linked so before is still found: its key of before reads the digits as then
    keys = email_keys("jane2024@gmail.com".translate(digits))
    assert keys.normalized == "jane2024@gmail.com" and keys.before not in (None, keys.normalized)
