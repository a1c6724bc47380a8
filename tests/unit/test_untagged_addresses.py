"""`identity.untagged` drops everything from the first `+` of a local part at any
domain. A local part that starts with `+` (an address named by a phone number in international
form, `+4917600000001@...`, as SMS and telephony mail gateways name them) is then the empty local
part: every such address at one domain is one address. A customer whose address is another
number at the partner's gateway domain shares nothing with the partner, and is scored a
self-referral (90: flagged, the partner's commission held)."""

from __future__ import annotations

from functions.shared.domain.identity import untagged
from tests.integration.scoring_support import purchase, signup
from tests.unit.live_scoring import live, make_engine, reasons

PARTNER = "+4917600000001@sms.example-telecom.de"
CUSTOMER = "+4917655555555@sms.example-telecom.de"  # another person, another number


def test_two_numbers_at_one_gateway_are_two_addresses():
    assert untagged(PARTNER) != untagged(CUSTOMER)


def test_another_persons_number_at_the_partners_gateway_is_no_self_referral():
    engine = make_engine()
    live(engine, signup("p-tel", email=PARTNER, ip="81.2.69.10", device="fp-tel", at="2026-12-10T09:00:00Z"))
    decision = live(
        engine,
        purchase(
            "c-tel", "p-tel", email=CUSTOMER, ip="81.2.69.99", device="fp-cust", at="2026-12-11T10:00:00Z"
        ),
    )
    assert "self_referral" not in reasons(decision), decision
