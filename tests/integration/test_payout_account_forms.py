"""One bank account in its IBAN and its domestic form, through the real ingest, score and cases
handlers on moto (design "Thirtieth session: one account in its IBAN and its domestic form"): a
partner removed with `block_reapply` comes back under a new address, device and IP, paid into its
own British account written the other way; the IBAN form was caught, the domestic form allowed with
0 (SPEC 3.2: a removed partner is never paid again). And a partner moving its own account from one
form to the other changes no payout details."""

from __future__ import annotations

import pytest

from tests.integration.scoring_support import drain, send, signup, status
from tests.support import call, proxy_event, sample

IBAN = "GB29 NWBK 6016 1331 9268 19"
DOMESTIC = "60-16-13 31926819"


def decide(aws, tenant, *events):
    for event in events:
        send(tenant, event)
        drain(aws)
    return [status(tenant, e["id"])["decision"] for e in events]


def removed_and_blocked(aws, tenant, payout):
    same = {"email": "ann.k@example.com", "payout": payout}  # one person twice: flagged
    first = signup("p-first", ip="81.2.69.40", at="2026-11-01T08:00:00Z", **same)
    gone = signup("p-gone", ip="81.2.69.41", at="2026-11-01T09:00:00Z", **same)
    _, flagged = decide(aws, tenant, first, gone)
    assert flagged["action"] == "flag", flagged
    case_id = status(tenant, gone["id"])["case_id"]
    answer = call(
        "cases",
        proxy_event("POST", f"/v1/cases/{case_id}/remove", {"block_reapply": True}, tenant.keys["fraud"]),
    )
    assert answer.status == 200, answer


@pytest.mark.parametrize(
    "kept,written",
    [
        (IBAN, DOMESTIC),  # the domestic form finds the IBAN partner's domestic link
        (DOMESTIC, IBAN),  # the IBAN reads its domestic key: the earlier domestic-form partner's link
        (IBAN, "GB29NWBK60161331926819"),  # control: one form, caught before too
    ],
)
def test_a_removed_partner_back_paid_into_its_own_account_in_its_other_form_is_flagged(
    aws, tenant, kept, written
):
    removed_and_blocked(aws, tenant, kept)
    [back] = decide(
        aws,
        tenant,
        signup(
            "p-back",
            email="new.one@example.net",
            ip="81.2.69.90",
            device="fp-new",
            payout=written,
            at="2026-11-06T09:00:00Z",
        ),
    )
    assert back["action"] == "flag", back
    detail = {r["code"]: r["detail"] for r in back["reasons"]}.get("cluster", "")
    assert detail.startswith("payout account also used by") and "p-gone (removed)" in detail, back


@pytest.mark.parametrize("first,then", [(IBAN, DOMESTIC), (DOMESTIC, IBAN)])
def test_a_partner_moving_its_account_between_its_forms_is_no_payout_change(aws, tenant, first, then):
    # a settings form sending the account as the partner wrote it this time, then a large reward:
    # read as new payout details, the reward was flagged `payout_changed_before_large_reward`
    settings = sample("account.updated", id="settings-1", occurred_at="2026-11-02T09:00:00Z")
    settings.update(activity="profile_update")
    settings["partner"] = {"id": "p1", "payout_account": then}
    settings["session"] = {"ip": "81.2.69.160", "device_fingerprint": "fp-p1"}
    bonus = sample("reward.created", id="bonus-1", occurred_at="2026-11-02T12:00:00Z")
    bonus["reward"] = {"id": "r-big", "partner_id": "p1", "amount": "900.00", "currency": "USD"}

    joined, changed, rewarded = decide(
        aws, tenant, signup("p1", payout=first, at="2026-10-01T08:00:00Z"), settings, bonus
    )

    assert joined["action"] == "allow", joined
    assert changed["action"] == "allow" and changed["reasons"] == [], changed
    assert rewarded["action"] == "allow" and rewarded["reasons"] == [], rewarded
