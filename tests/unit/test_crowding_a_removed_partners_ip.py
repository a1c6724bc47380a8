"""Red team: beats the defence of docs "A removed partner back from its connection under its name".
A removed partner's home IP carries its name (`removed_namesake`, 70: flags alone), and the IP of a
removed subject is `ip_suspicious` (SPEC 5.1). But an IP link with 200 members is "a crowd"
(`identity.MAX_LINK_MEMBERS`) and no evidence about anyone, and an IP is never a farm
(`links.farmed`). Signing up throwaway accounts from home until the link holds 200 members (free;
each is flagged, none matters), then waiting out the velocity hours, the removed partner comes back
from home under its own name, with a new address and computer, and scores 0."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from functions.cases import service as cases_service
from functions.shared.clock import FixedClock
from functions.shared.messaging import InMemoryPublisher
from functions.shared.runtime import Dependencies
from tests.integration.scoring_support import signup
from tests.unit.live_scoring import live, make_engine
from tests.unit.test_detection import PROGRAM

HOME = "81.2.69.50"


def _removed(engine, blocked: bool) -> None:
    first = signup(
        "p-gone",
        email="kai.b@mailinator.com",
        ip=HOME,
        name="Kai Brandt",
        country="US",
        at="2026-11-01T09:00:00Z",
    )
    assert live(engine, first)["action"] == "flag"
    deps = Dependencies(engine.repository, InMemoryPublisher(), FixedClock(datetime(2026, 11, 3, tzinfo=UTC)))
    gone = engine.repository.get_subject(PROGRAM, "partner", "p-gone")
    cases_service.remove_partner(deps, PROGRAM, gone.flag_case_id or "", blocked, "Ann")


def test_control_the_return_under_its_name_from_home_is_flagged():
    engine = make_engine()
    _removed(engine, True)
    back = live(
        engine,
        signup("p-back", email="k.brandt@example.org", ip=HOME, name="Kai Brandt", at="2026-11-06T09:00:00Z"),
    )
    assert back["action"] == "flag"


def test_the_return_under_its_name_from_home_after_crowding_the_ip_with_throwaway_sign_ups_is_flagged():
    engine = make_engine()
    _removed(engine, True)
    start = datetime(2026, 11, 4, 0, 0, tzinfo=UTC)
    for n in range(200):
        at = (start + timedelta(minutes=5 * n)).strftime("%Y-%m-%dT%H:%M:%SZ")
        live(
            engine,
            signup(
                f"p-junk{n}",
                email=f"junk{n:03d}zz{n * 7919 % 1000:03d}@example.net",
                ip=HOME,
                device=f"fp-junk-{n}",
                at=at,
            ),
        )
    back = live(
        engine,
        signup("p-back", email="k.brandt@example.org", ip=HOME, name="Kai Brandt", at="2026-11-06T09:00:00Z"),
    )
    assert back["action"] == "flag", back
