"""`profiles.identifiers_of` now yields each address's key of before (6f1b809), and
every mark goes through it: `flag_marks` and `removal_marks` add marks there, and
`network_identifiers` makes a network item of each. A key of before is per address as written
(`jane.smith+0@hotmail.co.uk`, `+1`, ...), not per mailbox: a customer who used 40 tags at a
Microsoft national domain, all after the upgrade (no item was ever written under those keys, and
`Engine` says "read too, never written"), gets 40 new link items and 40 new network items when
flagged (and 40 more writes at every approval or removal), where its mailbox is one key. The
network items under a key of before are read by no one (README: marks across the network under
the old key are not met)."""

from __future__ import annotations

from functions.shared.domain.identity import email_keys, network_key
from tests.integration.scoring_support import purchase, signup
from tests.unit.live_scoring import live, make_engine
from tests.unit.test_detection import LOCAL_PEPPER


def _flagged_customer_with_tags(tags: int):
    engine = make_engine()
    live(engine, signup("p1", ip="81.2.69.10", device="fp-p1", at="2026-12-10T09:00:00Z"))
    for i in range(tags):  # after the upgrade, through another partner: allowed, nothing marked
        live(
            engine,
            purchase(
                "c1",
                "p-else",
                email=f"jane.smith+{i}@hotmail.co.uk",
                ip="81.2.69.90",
                device="fp-c1",
                at=f"2026-12-11T10:{i:02d}:00Z",
            ),
        )
    # through p1 from p1's own IP and device: a self-referral, flagged
    decision = live(
        engine,
        purchase(
            "c1",
            "p1",
            email="jane.smith+x@hotmail.co.uk",
            ip="81.2.69.10",
            device="fp-p1",
            at="2026-12-11T11:00:00Z",
        ),
    )
    assert decision["action"] == "flag", decision
    return engine, [f"jane.smith+{i}@hotmail.co.uk" for i in range(tags)]


def test_a_flag_writes_no_link_item_under_keys_no_version_ever_wrote():
    engine, addresses = _flagged_customer_with_tags(40)
    befores = {email_keys(a).before for a in addresses}
    created = [k for k in engine.repository._links if k[1] == "email" and k[2] in befores]
    assert not created, f"{len(created)} link items created under keys of before for one mailbox"


def test_a_flag_writes_no_network_item_that_no_one_reads():
    engine, addresses = _flagged_customer_with_tags(40)
    pepper = LOCAL_PEPPER.encode()
    unread = {("email", network_key("email", email_keys(a).before, pepper)) for a in addresses}
    created = [k for k in engine.repository._network if k in unread]
    assert not created, f"{len(created)} network items under keys of before, read by no program"
