"""A removed partner back from its home IP under its name, with a new address and computer, is
flagged (`removed_namesake`, 70). Left, a decision (docs/design.md, twenty-fifth session): the same
partner after crowding its home IP with two hundred throwaway sign-ups (each flagged, a case each)
is not, since a name read through a crowd flagged a carrier's namesakes."""

from __future__ import annotations

from datetime import UTC, datetime

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
