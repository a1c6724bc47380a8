"""Red team: a payout account is keyed "however it is written" (`identity.payout_key`; design "Other
identifiers as written, one key"): the IBAN's printed label is dropped (`IBAN GB29 ...`), but a
PayPal account written with its label (`PayPal: jane.doe@gmail.com`) or as a `mailto:` keeps it in
the key, so it is another account. A removed partner back under a new address, device and IP but
paid into its own PayPal is `cluster_payout_of_flagged` (85, flags alone; SPEC 3.2: a removed
partner is never paid again); with the label, nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from functions.cases import service as cases_service
from functions.shared.clock import FixedClock
from functions.shared.messaging import InMemoryPublisher
from functions.shared.runtime import Dependencies
from tests.integration.scoring_support import signup
from tests.unit.live_scoring import live, make_engine, reasons
from tests.unit.test_detection import PROGRAM


def _removed(engine, payout: str) -> None:
    first = signup(
        "p-gone",
        email="x1@mailinator.com",
        ip="81.2.69.50",
        country="US",
        payout=payout,
        at="2026-11-01T09:00:00Z",
    )
    assert live(engine, first)["action"] == "flag"
    deps = Dependencies(engine.repository, InMemoryPublisher(), FixedClock(datetime(2026, 11, 3, tzinfo=UTC)))
    gone = engine.repository.get_subject(PROGRAM, "partner", "p-gone")
    cases_service.remove_partner(deps, PROGRAM, gone.flag_case_id or "", True, "Ann")


@pytest.mark.parametrize(
    "written",
    [
        "jane.doe@gmail.com",
        "PayPal: jane.doe@gmail.com",
        "paypal:jane.doe@gmail.com",
        "mailto:jane.doe@gmail.com",
    ],
)
def test_a_removed_partner_back_paid_into_its_paypal_written_with_a_label_is_caught(written):
    engine = make_engine()
    _removed(engine, "jane.doe@gmail.com")
    back = live(
        engine,
        signup(
            "p-back", email="k.lang@example.org", ip="81.2.69.51", payout=written, at="2026-11-06T09:00:00Z"
        ),
    )
    assert back["action"] == "flag" and "cluster" in reasons(back), (written, back)
