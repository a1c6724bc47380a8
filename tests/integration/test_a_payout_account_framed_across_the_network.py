"""A payout account typed by a throwaway of another program (an evasion tester's high finding; SPEC
5.3, "a person flagged or removed in one program raises `network_flagged` in another"): a throwaway
of program B flags itself and types Jane's IBAN, which Jane gave in program A before. Jane joining
program C with her own account was `network_flagged` (80) there, her commissions held, and that
flag marked her address across the network. The network now keeps who gave a payout account first
(`links.network_first`): that one's marks are strong evidence, the others' need company. Through
the real handlers on moto."""

from __future__ import annotations

from typing import Any

from tests.conftest import make_tenant
from tests.integration.scoring_support import drain, purchase, send, signup, status

IBAN = "DE89 3704 0044 0532 0130 00"


def decided(aws: Any, tenant: Any, event: dict[str, Any]) -> dict[str, Any]:
    send(tenant, event)
    drain(aws)
    return status(tenant, event["id"])


def a_throwaway_types(aws: Any, program: Any, account: str) -> None:
    """A throwaway of `program` flags itself (a second sign-up on its first one's address), then
    types `account` as its payout account."""
    decided(
        aws, program, signup("t-0", email="throw@example.org", ip="81.2.69.31", at="2026-11-02T08:00:00Z")
    )
    flagged = decided(
        aws, program, signup("t-1", email="throw@example.org", ip="81.2.69.32", at="2026-11-02T09:00:00Z")
    )
    assert flagged["decision"]["action"] == "flag", flagged
    typed = signup("t-1", ip="81.2.69.32", at="2026-11-03T09:00:00Z")
    typed.update(type="account.updated", activity="payout_update")
    typed["partner"] = {"id": "t-1", "payout_account": account}
    decided(aws, program, typed)


def test_a_partner_whose_iban_a_throwaway_typed_elsewhere_after_it_joins_a_third_program_unflagged(
    aws, tenant, other_tenant
):
    third = make_tenant(aws.repository, "Program C")
    jane = signup("jane", email="jane@example.com", payout=IBAN, ip="81.2.69.60", at="2026-11-01T09:00:00Z")
    assert decided(aws, tenant, jane)["decision"]["action"] == "allow"
    a_throwaway_types(
        aws, other_tenant, IBAN.replace(" ", "").lower()
    )  # the same account, written another way

    joins = signup(
        "jane-c", email="jane@example.com", payout=IBAN, ip="81.2.69.60", at="2026-11-05T09:00:00Z"
    )
    decision = decided(aws, third, joins)["decision"]
    # named, as weak evidence: the throwaway gave it after Jane did
    assert (decision["action"], decision["score"]) == ("allow", 20), decision
    assert decision["reasons"] == [
        {
            "code": "network_flagged",
            "detail": "the same payout account is flagged or removed in 1 other program of the network, "
            "on accounts that gave it after someone else did",
        }
    ]
    commission = purchase("c-1", "jane-c", at="2026-11-06T12:00:00Z", ip="81.2.69.90")
    assert decided(aws, third, commission)["case_id"] is None
    # and her address is marked nowhere: her next login at home is as before
    login = signup("jane", email="jane@example.com", ip="81.2.69.60", at="2026-11-07T09:00:00Z")
    login.update(type="account.updated", activity="login")
    assert decided(aws, tenant, login)["decision"]["action"] == "allow"


def test_a_partner_paid_into_the_account_of_one_flagged_elsewhere_who_gave_it_first_is_network_flagged(
    aws, tenant, other_tenant
):
    # the throwaway gave the account first: the one paid into it, as far as the network knows
    a_throwaway_types(aws, other_tenant, IBAN)
    joins = signup(
        "newcomer", email="new@example.com", payout=IBAN, ip="81.2.69.61", at="2026-11-05T09:00:00Z"
    )
    decision = decided(aws, tenant, joins)["decision"]
    assert decision["action"] == "flag" and "network_flagged" in {r["code"] for r in decision["reasons"]}
