"""An account taken over to be paid (SPEC 5.1 `unusual_activity`): new payout details set in a
session where the partner never was, on a device and a connection both new to it, from abroad or
through a hosting network. Flagged at the payout change, so that every reward after it is held,
however small; a login there minutes before does not make the session familiar. Through the scoring
engine on the in-memory store (the DynamoDB store keeps the profile's note the same way:
tests/integration/test_partner_store_contract.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import count
from typing import Any

import pytest

from functions.score import weights
from functions.shared.domain import rules
from tests.integration.scoring_support import signup
from tests.support import sample
from tests.unit.test_detection import HOME_IP, make_engine, reasons, score

US_HOME = "73.162.1.1"  # a residential connection in the US
AWS = "52.95.110.1"  # a hosting network (Amazon AWS, US)
_ids = count()


def account(partner_id: str, activity: str, at: str, ip: str, device: str | None) -> dict[str, Any]:
    event = sample(
        "account.updated", id=f"{activity}-{partner_id}-{next(_ids)}", occurred_at=at, activity=activity
    )
    event["partner"] = {"id": partner_id}
    if activity == "payout_update":
        event["partner"]["payout_account"] = "US64SVBKUS6S3300958879"
    event["session"] = {"ip": ip, **({"device_fingerprint": device} if device else {})}
    return event


def established(engine: Any, partner_id: str, device: str | None = "fp-home") -> None:
    """A partner of some weeks from home in GB, on its own computer."""
    joined = signup(partner_id, at="2026-10-01T09:00:00Z", ip=HOME_IP, device=device)
    if device is None:
        del joined["session"]["device_fingerprint"]
    score(engine, joined)
    score(engine, account(partner_id, "login", "2026-10-20T18:00:00Z", HOME_IP, device))


def test_a_login_abroad_on_a_new_computer_then_new_payout_details_flags_at_the_payout_change():
    engine = make_engine()
    established(engine, "p-victim")
    login = score(engine, account("p-victim", "login", "2026-11-02T03:10:00Z", US_HOME, "fp-stranger"))
    assert login["action"] == "allow"  # a login abroad is a traveller's too

    decision = score(
        engine, account("p-victim", "payout_update", "2026-11-02T03:25:00Z", US_HOME, "fp-stranger")
    )

    assert decision["action"] == "flag", decision
    assert reasons(decision)["unusual_activity"] == (
        "payout details changed on a device and a connection the partner had not used before, from abroad"
    )
    assert (
        decision["score"]
        == weights.WEIGHTS["payout_changed_from_new_session"] + weights.WEIGHTS["ip_country_mismatch"]
    )
    partner = engine.repository.get_subject("prg-detection", "partner", "p-victim")
    assert partner.status == "flagged"  # its rewards from now on are held, whatever their size


def test_through_a_hosting_network_it_flags_and_says_so():
    engine = make_engine()
    established(engine, "p-hosted")
    decision = score(engine, account("p-hosted", "payout_update", "2026-11-02T03:25:00Z", AWS, "fp-vps"))

    assert decision["action"] == "flag", decision
    assert reasons(decision)["unusual_activity"].endswith("through a hosting or anonymizing network")


@pytest.mark.parametrize(
    ("ip", "device", "why"),
    [
        (US_HOME, "fp-home", "its own computer, abroad: a traveller"),
        (HOME_IP, "fp-new-laptop", "a new computer at home"),
        ("82.132.219.1", "fp-new-laptop", "a new computer on a new connection at home (GB): moved house"),
        (US_HOME, None, "an integration that sends no device: nothing to judge by"),
    ],
)
def test_a_payout_change_where_the_partner_has_been_or_at_home_passes(ip: str, device: str | None, why: str):
    engine = make_engine()
    established(engine, "p-own")
    decision = score(engine, account("p-own", "payout_update", "2026-11-02T03:25:00Z", ip, device))
    assert "payout_changed_from_new_session" not in str(decision), why
    assert decision["action"] == "allow", (why, decision)


def test_a_partner_whose_integration_never_sent_a_device_is_not_judged_by_one():
    engine = make_engine()
    established(engine, "p-nodevice", device=None)
    decision = score(engine, account("p-nodevice", "payout_update", "2026-11-02T03:25:00Z", US_HOME, "fp-x"))
    assert decision["action"] == "allow", decision


def test_the_session_stays_unfamiliar_for_three_days_after_it_was_first_seen():
    for partner_id, at in (("p-soon", "2026-11-04T23:00:00Z"), ("p-late", "2026-11-05T04:00:00Z")):
        engine = make_engine()
        established(engine, partner_id)
        score(engine, account(partner_id, "login", "2026-11-02T03:10:00Z", US_HOME, "fp-stranger"))
        score(engine, account(partner_id, "login", "2026-11-03T08:00:00Z", US_HOME, "fp-stranger"))
        decision = score(engine, account(partner_id, "payout_update", at, US_HOME, "fp-stranger"))
        expected = "flag" if partner_id == "p-soon" else "allow"  # 68 hours after it; then 73
        assert decision["action"] == expected, (partner_id, decision)


def test_a_payout_change_received_before_the_login_that_preceded_it_still_flags():
    engine = make_engine()
    established(engine, "p-late-login")
    decision = score(
        engine, account("p-late-login", "payout_update", "2026-11-02T03:25:00Z", US_HOME, "fp-stranger")
    )
    score(engine, account("p-late-login", "login", "2026-11-02T03:10:00Z", US_HOME, "fp-stranger"))
    assert decision["action"] == "flag", decision


def test_the_profile_notes_the_unfamiliar_session_and_a_familiar_one_leaves_the_note():
    engine = make_engine()
    established(engine, "p-note")
    score(engine, account("p-note", "login", "2026-11-02T03:10:00Z", US_HOME, "fp-stranger"))
    score(engine, account("p-note", "login", "2026-11-02T09:00:00Z", HOME_IP, "fp-home"))
    partner = engine.repository.get_subject("prg-detection", "partner", "p-note")
    assert (partner.unfamiliar_device, partner.unfamiliar_at) == (
        "fp-stranger",
        datetime(2026, 11, 2, 3, 10, tzinfo=UTC),
    )
    assert rules.UNFAMILIAR_FOR.total_seconds() == 72 * 3600
