"""Framing: a fraudster buys through an honest partner's link and types the partner's own address
(or uses the partner's shared office IP) at checkout. The purchase is a self-referral by SPEC 5.1,
flagged and its commission held; but the customer also joined the partner's e-mail link and, once
flagged, marked it here and across the network, so the partner's own next event was
`email_duplicate` of a flagged customer (90) and the partner was flagged in every program, for
good (an approved dispute withdrew the partner's marks, not the customer's). Through the real
ingest and score handlers on moto."""

from __future__ import annotations

import boto3

from functions.shared.storage import keys
from tests.integration.scoring_support import drain, purchase, send, signup, status
from tests.support import sample

VICTIM = "victoria.honest@example.com"


def decide(aws, tenant, *events):
    for event in events:
        send(tenant, event)
        drain(aws)
    return [status(tenant, e["id"])["decision"] for e in events]


def login(partner_id: str, email: str, n: int, ip: str = "81.2.69.160") -> dict:
    event = sample("account.updated", id=f"login-{partner_id}-{n}", occurred_at="2026-11-05T09:00:00Z")
    event["partner"] = {"id": partner_id, "email": email}
    event["session"] = {"ip": ip, "device_fingerprint": f"fp-{partner_id}"}
    event["activity"] = "login"
    return event


def raw_item(aws, pk: str) -> dict:
    key = {"pk": {"S": pk}, "sk": {"S": keys.LINK_SK}}
    return boto3.client("dynamodb").get_item(TableName=aws.settings.table_name, Key=key)["Item"]


def codes(decision: dict) -> set[str]:
    return {r["code"] for r in decision["reasons"]}


def test_a_purchase_typed_with_the_partners_address_flags_the_purchase_not_the_partner(
    aws, tenant, other_tenant
):
    (joined,) = decide(aws, tenant, signup("victoria", email=VICTIM))
    (framed,) = decide(
        aws, tenant, purchase("mallory", "victoria", email=VICTIM, device="fp-mallory", ip="81.2.70.99")
    )
    later, elsewhere = (
        decide(aws, tenant, login("victoria", VICTIM, 1))[0],
        decide(aws, other_tenant, signup("victoria-b", email=VICTIM, device="fp-victoria-b", ip="81.2.71.5"))[
            0
        ],
    )

    assert joined["action"] == "allow"
    assert framed["action"] == "flag" and "self_referral" in codes(framed)  # SPEC 5.1: held
    assert later["action"] == "allow", later  # was email_duplicate of a flagged customer (90)
    assert elsewhere["action"] == "allow", elsewhere  # was network_flagged (80)


def test_the_partners_ip_and_device_stay_the_partners_after_a_purchase_from_them(aws, tenant):
    # a household member buying through the partner's link on the family laptop is a self-referral
    # (SPEC 5.1); the laptop and the home IP do not become the customer's to mark
    home = "81.2.72.10"
    decide(aws, tenant, signup("victor", email="victor@example.com", ip=home, device="fp-family"))
    (framed,) = decide(aws, tenant, purchase("kid", "victor", ip=home, device="fp-family"))

    assert framed["action"] == "flag" and "self_referral" in codes(framed)
    for kind, value in (("ip", home), ("device", "fp-family")):
        link = raw_item(aws, keys.link_pk(tenant.program_id, kind, value))
        assert link["members"]["SS"] == ["partner:victor"], (kind, link)
        assert "flagged" not in link, (kind, link)


def test_a_customer_s_own_identifiers_are_still_marked_by_its_flag(aws, tenant, other_tenant):
    # what the customer brought (its device) is its own: flagged here, seen across the network
    decide(aws, tenant, signup("vera", email="vera@example.com"))
    (framed,) = decide(aws, tenant, purchase("mal3", "vera", email="vera@example.com", device="fp-mal3"))
    (again,) = decide(
        aws, other_tenant, signup("mal3-partner", email="m3@example.org", device="fp-mal3", ip="81.2.73.3")
    )

    assert framed["action"] == "flag"
    assert again["action"] == "flag" and "network_flagged" in codes(again), again
