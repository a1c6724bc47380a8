"""Red team, false flags: `self_referral` by name (90, flags alone) compares `name_key`s, so a
partner known by one word (a creator's handle or first name: `Lena`, a shop's name) makes every
customer an integration sends with that one word a self-referral, though nothing else is shared.
The project itself holds that a name of one word "names no one" (`identity.namesake`: `Admin`,
`Test`, `Łukasz`), and SPEC 5.2 wants strong evidence for a flag alone; checkouts that collect a
first name only send exactly such names."""

from __future__ import annotations

from tests.integration.scoring_support import purchase, signup
from tests.unit.live_scoring import live, make_engine, reasons


def test_a_customer_sharing_only_a_first_name_with_a_one_word_partner_is_not_a_self_referral():
    engine = make_engine()
    live(
        engine,
        signup(
            "p-lena", email="hello@lenabakes.example", name="Lena", ip="81.2.69.10", at="2026-11-01T08:00:00Z"
        ),
    )
    bought = live(
        engine,
        purchase(
            "c-lena",
            "p-lena",
            name="Lena",
            email="lena.fischer@example.net",
            ip="81.2.69.99",
            at="2026-11-04T08:00:00Z",
        ),
    )
    assert "self_referral" not in reasons(bought), bought
