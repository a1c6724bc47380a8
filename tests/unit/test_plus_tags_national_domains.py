"""Red team: Microsoft's consumer mail ignores a plus tag on every one of its domains (outlook.de,
hotmail.co.uk, hotmail.fr, live.co.uk, msn.com ...), not only the .com ones `identity._PLUS_TAGS`
lists. SPEC 5.1: `email_duplicate` is "same address after normalization: case, dots and plus-tags
where the provider ignores them"; SPEC 3.2: a blocked partner re-applying with the same normalized
e-mail is `blocked_reapply` at once; SPEC 5.3: the same person flagged elsewhere is `network_flagged`."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from functions.cases import service as cases_service
from functions.shared.clock import FixedClock
from functions.shared.messaging import InMemoryPublisher
from functions.shared.runtime import Dependencies
from tests.unit.test_detection import PROGRAM, make_engine, reasons, score, signup

DOMAINS = ["hotmail.co.uk", "outlook.de", "hotmail.fr", "live.co.uk", "outlook.fr", "msn.com"]


@pytest.mark.parametrize("domain", DOMAINS)
def test_a_second_account_on_a_plus_tag_of_a_national_microsoft_domain_is_a_duplicate(domain):
    engine = make_engine()
    score(engine, signup("p-first", email=f"jane.smith@{domain}", ip="81.2.69.40", at="2026-11-01T08:00:00Z"))
    second = score(
        engine, signup("p-second", email=f"jane.smith+2@{domain}", ip="81.2.69.41", at="2026-11-01T09:00:00Z")
    )
    assert "email_duplicate" in reasons(second) and second["action"] == "flag", second


def test_a_removed_blocked_partner_back_on_a_plus_tag_is_blocked_reapply():
    engine = make_engine()
    score(
        engine, signup("p-dup", email="kai.brandt@hotmail.co.uk", ip="81.2.69.41", at="2026-11-01T09:00:00Z")
    )
    dup2 = score(
        engine, signup("p-dup2", email="kai.brandt@hotmail.co.uk", ip="81.2.69.42", at="2026-11-01T09:30:00Z")
    )
    assert dup2["action"] == "flag", dup2
    repository = engine.repository
    deps = Dependencies(repository, InMemoryPublisher(), FixedClock(datetime(2026, 11, 3, tzinfo=UTC)))
    gone = repository.get_subject(PROGRAM, "partner", "p-dup2")
    cases_service.remove_partner(deps, PROGRAM, gone.flag_case_id or "", True, "Ann")
    # control: the exact address is blocked
    again = score(
        engine, signup("p-ctl", email="kai.brandt@hotmail.co.uk", ip="81.2.69.90", at="2026-11-06T09:00:00Z")
    )
    assert "blocked_reapply" in reasons(again)

    back = score(
        engine,
        signup("p-back", email="kai.brandt+x@hotmail.co.uk", ip="81.2.69.91", at="2026-11-07T09:00:00Z"),
    )
    assert "blocked_reapply" in reasons(back), back


def test_a_partner_flagged_in_one_program_signing_up_in_another_on_a_plus_tag_is_network_flagged():
    engine = make_engine()
    address = "lena.vogt@outlook.de"
    score(engine, signup("p-twin", email=address, ip="81.2.69.40", at="2026-11-01T08:00:00Z"))
    dup = score(engine, signup("p-dup", email=address, ip="81.2.69.41", at="2026-11-01T09:00:00Z"))
    assert dup["action"] == "flag"
    control = score(
        engine, signup("p-c", email=address, ip="81.2.69.43", at="2026-11-03T08:00:00Z"), "prg-other"
    )
    assert "network_flagged" in reasons(control)

    elsewhere = score(
        engine,
        signup("p-b", email="lena.vogt+shop@outlook.de", ip="81.2.69.42", at="2026-11-03T09:00:00Z"),
        "prg-third",
    )
    assert "network_flagged" in reasons(elsewhere), elsewhere


# Proton Mail treats ".", "_" and "-" in a username as transparent (proton.me/support/change-username:
# "username is the same as user_name and user.name ... none of these variations can be used for a
# different account"): one mailbox, so one address after normalization.
@pytest.mark.parametrize(
    "first,second",
    [
        ("lena.vogt@proton.me", "lenavogt@proton.me"),
        ("lena.vogt@proton.me", "lena_vogt@pm.me"),
        ("lena-vogt@protonmail.com", "lena.vogt@proton.me"),
    ],
)
def test_a_second_account_on_a_proton_username_written_with_other_separators_is_a_duplicate(first, second):
    engine = make_engine()
    score(engine, signup("p-first", email=first, ip="81.2.69.40", at="2026-11-01T08:00:00Z"))
    dup = score(engine, signup("p-second", email=second, ip="81.2.69.41", at="2026-11-01T09:00:00Z"))
    assert "email_duplicate" in reasons(dup) and dup["action"] == "flag", dup


def test_a_customer_typing_the_partners_address_with_a_plus_tag_is_a_self_referral():
    """SPEC 5.1 self_referral: the customer is the partner by a shared e-mail (after normalization)."""
    from tests.integration.scoring_support import purchase

    engine = make_engine()
    score(
        engine, signup("p-own", email="jane.smith@hotmail.co.uk", ip="81.2.69.40", at="2026-11-01T08:00:00Z")
    )
    control = score(
        engine,
        purchase(
            "c-ctl", "p-own", email="jane.smith@hotmail.co.uk", ip="81.2.69.99", at="2026-11-04T14:00:00Z"
        ),
    )
    assert "self_referral" in reasons(control)
    bought = score(
        engine,
        purchase(
            "c-own",
            "p-own",
            email="jane.smith+shop@hotmail.co.uk",
            ip="81.2.69.98",
            at="2026-11-04T15:00:00Z",
        ),
    )
    assert "self_referral" in reasons(bought), bought
