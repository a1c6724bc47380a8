"""Red team: the main findings confirmed through the real ingest and score handlers on moto (events
over `POST /v1/events`, scored by draining the SQS queue, removals through the cases API)."""

from __future__ import annotations

import pytest

from tests.integration.scoring_support import drain, send, signup, status
from tests.support import call, proxy_event


def decide(aws, tenant, *events):
    for event in events:
        send(tenant, event)
        drain(aws)
    return [status(tenant, e["id"])["decision"] for e in events]


def codes(decision):
    return {r["code"] for r in decision["reasons"]}


@pytest.mark.parametrize(
    "first,second",
    [
        ("jane.smith@hotmail.co.uk", "jane.smith+2@hotmail.co.uk"),
        ("lena.vogt@proton.me", "lenavogt@proton.me"),
    ],
)
def test_a_second_account_on_one_mailbox_is_email_duplicate(aws, tenant, first, second):
    a, b = decide(
        aws,
        tenant,
        signup("p1", email=first, ip="81.2.69.40", at="2026-11-01T08:00:00Z"),
        signup("p2", email=second, ip="81.2.69.41", at="2026-11-01T09:00:00Z"),
    )
    assert "email_duplicate" in codes(b) and b["action"] == "flag", b


def test_six_sign_ups_from_one_ip_in_63_minutes_are_velocity(aws, tenant):
    names = ["oliver.hart", "priya.nair", "tomasz.wolny", "akira.sato", "fatima.zahra", "glen.moore"]
    times = [
        "2026-11-02T00:58:00Z",
        "2026-11-02T00:58:40Z",
        "2026-11-02T00:59:20Z",
        "2026-11-02T02:00:00Z",
        "2026-11-02T02:00:40Z",
        "2026-11-02T02:01:20Z",
    ]
    decisions = decide(
        aws,
        tenant,
        *[
            signup(f"p{n}", email=f"{names[n]}@example.org", ip="81.2.69.77", at=at)
            for n, at in enumerate(times)
        ],
    )
    assert any("velocity" in codes(d) for d in decisions), decisions


def _remove(tenant, partner_id_event, block):
    case_id = status(tenant, partner_id_event["id"])["case_id"]
    answer = call(
        "cases",
        proxy_event("POST", f"/v1/cases/{case_id}/remove", {"block_reapply": block}, tenant.keys["fraud"]),
    )
    assert answer.status == 200, answer


def test_a_removed_partner_back_paid_into_its_paypal_written_with_its_label(aws, tenant):
    first = signup(
        "p-gone",
        email="x1@mailinator.com",
        ip="81.2.69.50",
        country="US",
        payout="jane.doe@gmail.com",
        at="2026-11-01T09:00:00Z",
    )
    [d] = decide(aws, tenant, first)
    assert d["action"] == "flag"
    _remove(tenant, first, True)
    [back] = decide(
        aws,
        tenant,
        signup(
            "p-back",
            email="k.lang@example.org",
            ip="81.2.69.51",
            payout="PayPal: jane.doe@gmail.com",
            at="2026-11-06T09:00:00Z",
        ),
    )
    assert back["action"] == "flag", back


def test_a_customer_on_a_carrier_address_its_partner_once_used_is_not_a_self_referral(aws, tenant):
    from tests.integration.scoring_support import purchase

    carrier = "81.2.69.200"
    decide(
        aws,
        tenant,
        signup(
            "p-mia", email="mia.k@example.com", ip=carrier, device="fp-mia-phone", at="2026-11-01T08:00:00Z"
        ),
    )
    for n in range(200):
        send(
            tenant,
            purchase(
                f"c-other{n}",
                "p-else",
                ip=carrier,
                at=f"2026-11-0{2 + n // 60}T{(n % 60) // 3 + 1:02d}:{n % 60:02d}:00Z",
            ),
        )
    drain(aws)
    [stranger, bought] = decide(
        aws,
        tenant,
        purchase("c-stranger", "p-else", ip=carrier, at="2026-11-06T12:00:00Z"),
        purchase("c-lee", "p-mia", ip=carrier, at="2026-11-06T12:30:00Z"),
    )
    assert "self_referral" not in codes(stranger)
    assert "self_referral" not in codes(bought), bought


@pytest.mark.parametrize(
    "written",
    [
        "eve.fraudster@gmail.com",
        "ev\u034fe.fraudster@gmail.com",  # COMBINING GRAPHEME JOINER
        "eve.fr\u3164audster@gmail.com",  # HANGUL FILLER
        "eve.fraudster\ufe0f@gmail.com",  # VARIATION SELECTOR-16
        "eve.fraudster@\u0261mail.com",  # LATIN SMALL LETTER SCRIPT G
    ],
)
def test_a_removed_blocked_partner_back_under_its_address_with_what_shows_nothing_or_a_latin_lookalike(
    aws, tenant, written
):
    first, gone = (
        signup("p-first", email="eve.fraudster@gmail.com", ip="81.2.69.60", at="2026-11-01T08:00:00Z"),
        signup("p-gone", email="eve.fraudster@gmail.com", ip="81.2.69.61", at="2026-11-01T09:00:00Z"),
    )
    [_, flagged] = decide(aws, tenant, first, gone)
    assert flagged["action"] == "flag", flagged
    _remove(tenant, gone, True)
    [back] = decide(aws, tenant, signup("p-back", email=written, ip="81.2.69.62", at="2026-11-06T09:00:00Z"))
    assert back["action"] == "flag" and "blocked_reapply" in codes(back), back
