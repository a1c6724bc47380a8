"""A removed partner's name on its IP reads through a crowd only when the crowd is mostly flagged
or removed accounts (`links.crowded_by_flags`: a fraudster's throwaway ones). A crowd is, by this
project's own rule, an IP that names no one: a carrier's NAT, a university, a mobile operator's
gateway. On such an IP a two-word name is not rare: a Maria Garcia removed there must not make
every later Maria Garcia of the same carrier `ip_suspicious_removed_namesake` (70, flagged alone)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from functions.cases import service as cases_service
from functions.shared.clock import FixedClock
from functions.shared.domain.identity import MAX_LINK_MEMBERS
from functions.shared.messaging import InMemoryPublisher
from functions.shared.runtime import Dependencies
from tests.integration.scoring_support import signup
from tests.unit.live_scoring import live, make_engine, reasons
from tests.unit.test_detection import PROGRAM

CARRIER = "81.2.69.200"  # one address of a carrier's NAT: everyone on that operator's network


def test_a_second_maria_garcia_on_a_carriers_crowded_ip_is_not_the_removed_one():
    engine = make_engine()
    start = datetime(2026, 10, 3, tzinfo=UTC)
    for n in range(MAX_LINK_MEMBERS):  # the carrier's ordinary partners sign up over months
        live(
            engine,
            signup(
                f"p-mobile{n}",
                email=f"mobile{n:03d}.k{n * 7919 % 1000:03d}@example{n % 5}.net",
                name=f"Given{n} Family{n * 31 % 997}",
                ip=CARRIER,
                device=f"fp-mobile-{n}",
                at=(start + timedelta(hours=6 * n)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            ),
        )
    first = signup(
        "p-maria1",
        email="maria.g@mailinator.com",  # disposable: flagged, and the team removes her
        ip=CARRIER,
        name="Maria Garcia",
        device="fp-maria1",
        country="US",  # and abroad: two signals, flagged
        at="2026-12-01T09:00:00Z",
    )
    assert live(engine, first)["action"] == "flag"
    deps = Dependencies(engine.repository, InMemoryPublisher(), FixedClock(datetime(2026, 12, 2, tzinfo=UTC)))
    gone = engine.repository.get_subject(PROGRAM, "partner", "p-maria1")
    cases_service.remove_partner(deps, PROGRAM, gone.flag_case_id or "", False, "Ann")

    other = live(
        engine,
        signup(
            "p-maria2",
            email="maria.garcia.lopez@example.org",
            ip=CARRIER,
            name="Maria Garcia",
            device="fp-maria2",
            country="GB",
            at="2026-12-20T09:00:00Z",
        ),
    )
    assert "ip_suspicious" not in reasons(other), other
    assert other["action"] == "allow", other
