"""A removed partner's name on its IP is no evidence once the IP is a crowd (a carrier's NAT, a
campus): there a two-word name is anyone's. A crowd can be mostly flagged through no fault of its
own (after an early removal the engine flags the newcomers sharing the IP), so flags cannot tell a
fraudster's crowd of throwaway accounts from a carrier's subscribers, and reading the name through
either made a later Maria Garcia the removed one (70, flagged alone)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from functions.cases import service as cases_service
from functions.shared.clock import FixedClock
from functions.shared.domain.identity import MAX_LINK_MEMBERS
from functions.shared.messaging import InMemoryPublisher
from functions.shared.runtime import Dependencies
from tests.integration.scoring_support import signup
from tests.unit.live_scoring import live, make_engine, reasons
from tests.unit.test_detection import PROGRAM

CARRIER = "81.2.69.200"
W = [
    "amber", "birch", "cedar", "delta", "ember", "fjord", "grove", "heron", "indigo", "juniper", "kestrel",
    "lotus", "maple", "nectar", "opal", "pine", "quartz", "raven", "sable", "tundra", "umber", "violet",
    "willow", "xenon", "yarrow", "zephyr",
]  # fmt: skip
DOMAINS = ("gmail.com", "yahoo.com", "web.de", "orange.fr")


def _remove(engine, partner_id: str, on: datetime) -> None:
    deps = Dependencies(engine.repository, InMemoryPublisher(), FixedClock(on))
    gone = engine.repository.get_subject(PROGRAM, "partner", partner_id)
    cases_service.remove_partner(deps, PROGRAM, gone.flag_case_id or "", True, "Ann")


def test_a_carriers_crowd_the_engine_flagged_after_an_early_removal_makes_a_later_namesake_the_removed_one():
    engine = make_engine()
    start = datetime(2026, 10, 3, tzinfo=UTC)
    for n in range(10):  # the carrier's first subscribers, spread out
        live(
            engine,
            signup(
                f"p-early{n}",
                email=f"early{n:03d}.q{n * 7919 % 1000:03d}@example{n % 5}.net",
                name=f"Given{n} Family{n * 31 % 997}",
                ip=CARRIER,
                device=f"fp-early-{n}",
                at=(start + timedelta(days=n)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            ),
        )
    first = signup(
        "p-maria1",
        email="maria.g@mailinator.com",
        ip=CARRIER,
        name="Maria Garcia",
        device="fp-maria1",
        country="US",
        at="2026-10-20T09:00:00Z",
    )
    assert live(engine, first)["action"] == "flag"
    _remove(engine, "p-maria1", datetime(2026, 10, 21, tzinfo=UTC))
    later = datetime(2026, 10, 22, 8, tzinfo=UTC)
    flagged = 0
    for n in range(MAX_LINK_MEMBERS):  # the carrier's ordinary subscribers, one every six hours
        h = hashlib.sha1(str(n).encode()).hexdigest()
        local = f"{W[n % 26]}{W[(n // 26 + 7) % 26]}{int(h[:6], 16) % 100000}"
        answer = live(
            engine,
            signup(
                f"p-{h[:10]}",
                email=f"{local}@{DOMAINS[n % 4]}",
                name=f"{W[(n * 3) % 26].title()} {W[(n * 5 + 1) % 26].title()}son",
                ip=CARRIER,
                device=f"fp-{h[10:22]}",
                at=(later + timedelta(hours=6 * n)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            ),
        )
        flagged += answer["action"] == "flag"
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
    assert "ip_suspicious" not in reasons(other), (
        f"{flagged} of the carrier's {MAX_LINK_MEMBERS} flagged",
        other,
    )
    assert other["action"] == "allow", other
