"""One bank account in its two everyday forms (design "Thirtieth session: one account in its IBAN and
its domestic form"): a British or Irish IBAN holds the sort code and account number a partner may
write domestically (`GB29 NWBK 6016 1331 9268 19` is `60-16-13 31926819`). The IBAN keeps its own
key and is linked under the domestic one too (`identity.other_payout_keys`), so that each form
finds the other: in the program (a removed partner is never paid again, SPEC 3.2) and across the
network; a partner moving between the forms changes no details."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from functions.shared.domain.identity import other_payout_keys, payout_key, same_payout_account
from functions.shared.domain.model import Subject
from functions.shared.domain.profiles import identifiers_of, payout_changed
from tests.integration.scoring_support import signup
from tests.unit.test_detection import PROGRAM, make_engine, reasons, score

IBAN = "GB29 NWBK 6016 1331 9268 19"
DOMESTIC = "60-16-13 31926819"


@pytest.mark.parametrize(
    "iban,domestic",
    [
        (IBAN, DOMESTIC),
        (IBAN, "601613 31926819"),
        ("IE29 AIBK 9311 5212 3456 78", "93-11-52 12345678"),  # Irish: the same layout
        ("GB33 BUKB 0400 0412 3456 78", "04-00-04 12345678"),  # a sort code with a leading zero
        ("iban gb29nwbk60161331926819", DOMESTIC),  # however the IBAN is written
    ],
)
def test_a_british_or_irish_iban_has_its_domestic_form_as_its_other_key(iban, domestic):
    assert payout_key(domestic) in other_payout_keys(payout_key(iban))
    assert same_payout_account(payout_key(iban), payout_key(domestic))


def test_the_iban_keeps_its_own_key():
    # profiles keep payout keys and links are written under them: a new key would read as a change
    assert payout_key(IBAN) == "GB29NWBK60161331926819"
    assert payout_key(DOMESTIC) == "60161331926819"


# an evasion tester's: a removed partner back with its own account in its domestic form
OTHER_COUNTRIES = [
    ("DE89 3704 0044 0532 0130 00", "37040044 0532013000"),  # bank code and account number
    ("DE89 3704 0044 0532 0130 00", "370400440532013000"),
    ("DE89 3704 0044 0532 0130 00", "BLZ 37040044 Kto 532013000"),  # with labels, unpadded
    ("DE89 3704 0044 0532 0130 00", "Konto 532013000, BLZ 37040044"),
    ("NL91 ABNA 0417 1643 00", "ABNA 0417164300"),
    ("FR14 2004 1010 0505 0001 3M02 606", "20041 01005 0500013M026 06"),  # a RIB
    ("ES91 2100 0418 4502 0005 1332", "2100 0418 45 0200051332"),  # a CCC
    ("IT60 X054 2811 1010 0000 0123 456", "X 05428 11101 000000123456"),
    ("BE68 5390 0754 7034", "539-0075470-34"),
]


@pytest.mark.parametrize("iban,domestic", OTHER_COUNTRIES)
def test_an_iban_whose_check_digits_check_is_its_domestic_form_too(iban, domestic):
    assert same_payout_account(payout_key(iban), payout_key(domestic))
    assert same_payout_account(payout_key(domestic), payout_key(iban))
    # one digit off, or check digits that do not check: another account
    assert not same_payout_account(payout_key(iban), payout_key(domestic[:-1] + "9"))
    wrong = iban[:2] + ("00" if iban[2:4] != "00" else "01") + iban[4:]
    assert not same_payout_account(payout_key(wrong), payout_key(domestic))


@pytest.mark.parametrize("iban,domestic", [OTHER_COUNTRIES[0], OTHER_COUNTRIES[2], *OTHER_COUNTRIES[4:]])
def test_a_removed_partner_back_with_its_account_in_its_domestic_form_is_found(iban, domestic):
    engine = make_engine()
    _removed(engine, iban)
    back = score(
        engine,
        signup(
            "p-new", email="new.one@example.net", ip="81.2.69.90", at="2026-11-06T09:00:00Z", payout=domestic
        ),
    )
    assert back["action"] == "flag" and "cluster" in reasons(back), back


@pytest.mark.parametrize(
    "account",
    [
        DOMESTIC,  # the domestic form itself: the IBAN's link is found through the domestic one
        "jane.doe@gmail.com",
        "GB29 NWBK 6016 1331 9268",  # too short to be a British IBAN
    ],
)
def test_other_accounts_have_no_other_key(account):
    assert other_payout_keys(payout_key(account)) == ()


def test_two_accounts_of_one_bank_are_not_the_same():
    assert not same_payout_account(payout_key(IBAN), payout_key("60-16-13 31926820"))
    assert not same_payout_account(payout_key(IBAN), payout_key("GB29 NWBK 6016 1331 9268 20"))
    assert not same_payout_account(payout_key(IBAN), None)


def test_an_iban_partner_is_named_by_its_domestic_link_too():
    # flags, removals and approvals reach every link that names the partner (`identifiers_of`)
    partner = Subject(
        PROGRAM, "partner", "p-1", payout=payout_key(IBAN), payouts=frozenset({payout_key(IBAN)})
    )
    found = identifiers_of(partner)
    assert ("payout", payout_key(IBAN)) in found and ("payout", payout_key(DOMESTIC)) in found


AT = datetime(2026, 11, 2, 9, tzinfo=UTC)


def paid_into(account: str, **fields: Any) -> Subject:
    """A partner on file paid into `account`, its only payout details."""
    key = payout_key(account)
    return Subject(PROGRAM, "partner", "p-1", payout=key, payouts=frozenset({key}), **fields)


@pytest.mark.parametrize("on_file,sent", [(IBAN, DOMESTIC), (DOMESTIC, IBAN)])
def test_a_partner_moving_between_the_forms_of_its_account_changes_no_payout_details(on_file, sent):
    partner = paid_into(on_file, changed_at=datetime(2026, 11, 1, tzinfo=UTC))
    assert not payout_changed(partner, "profile_update", payout_key(sent), AT)
    assert payout_changed(partner, "profile_update", payout_key("60-16-13 31926820"), AT)


def test_a_sign_up_received_after_a_settings_form_sending_its_account_in_the_other_form_judges_nothing():
    # the form, received first with no sign-up on file, noted first details; the sign-up giving the
    # same account in its other form an hour before is no payout change soon after sign-up
    from functions.score.signals import payout_changed_after_signup

    partner = paid_into(IBAN, last_payout_change_at=AT)
    signed_up = datetime(2026, 11, 2, 8, 30, tzinfo=UTC)
    assert payout_changed_after_signup(partner, signed_up, payout_key(DOMESTIC)) == []
    assert payout_changed_after_signup(partner, signed_up, payout_key("60-16-13 31926820")) != []


def _removed(engine, payout: str, program: str = PROGRAM) -> None:
    from functions.cases import service as cases_service
    from functions.shared.clock import FixedClock
    from functions.shared.messaging import InMemoryPublisher
    from functions.shared.runtime import Dependencies

    same = {"email": "ann.k@example.com", "payout": payout}  # one person twice: flagged
    score(engine, signup("p-first", ip="81.2.69.40", at="2026-11-01T08:00:00Z", **same), program)
    gone = score(engine, signup("p-gone", ip="81.2.69.41", at="2026-11-01T09:00:00Z", **same), program)
    assert gone["action"] == "flag", gone
    deps = Dependencies(engine.repository, InMemoryPublisher(), FixedClock(datetime(2026, 11, 3, tzinfo=UTC)))
    case_id = engine.repository.get_subject(program, "partner", "p-gone").flag_case_id or ""
    cases_service.remove_partner(deps, program, case_id, True, "Ann")


@pytest.mark.parametrize("kept,written", [(IBAN, DOMESTIC), (DOMESTIC, IBAN)])
def test_a_partner_removed_in_another_program_is_network_flagged_in_either_form(kept, written):
    engine = make_engine()
    _removed(engine, kept, "prg-other")
    back = score(
        engine,
        signup(
            "p-new", email="new.one@example.net", ip="81.2.69.90", at="2026-11-06T09:00:00Z", payout=written
        ),
    )
    assert "network_flagged" in reasons(back), back
