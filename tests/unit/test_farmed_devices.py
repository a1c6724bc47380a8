"""An SDK's one fingerprint is no farm after one of its many users is removed and blocked: most of
its members are flagged by sharing it (device_shared, then with a flagged member), so a rule
counting flags as a farm's once a member is blocked made every newcomer `blocked_reapply` (100).
`links.farmed` counts removed members only. But a crowd of customers lifts no block
(`links.blocks_through_crowd`): a removed partner who crowded its own device with guest checkouts
signed up on it again, unflagged and paid."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from functions.cases import service as cases_service
from functions.shared.clock import FixedClock
from functions.shared.domain.identity import MAX_LINK_MEMBERS
from functions.shared.messaging import InMemoryPublisher
from functions.shared.runtime import Dependencies
from tests.integration.scoring_support import purchase, signup
from tests.unit.live_scoring import live, make_engine, reasons
from tests.unit.test_detection import PROGRAM

SDK = "sdk-webview-2f9c41d7"  # the one fingerprint an embedded SDK sends for every install


def _ordinary(n: int, at: datetime) -> dict:
    return signup(
        f"p-app{n}",
        email=f"member{n:03d}.q{n * 7919 % 1000:03d}@example{n % 7}.org",
        name=f"Given{n} Family{n * 31 % 997}",
        ip=f"81.{2 + n // 250}.{n % 250}.{n % 200 + 3}",
        device=SDK,
        at=at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    )


def test_an_sdk_fingerprint_is_no_farm_after_one_of_its_many_users_is_removed_and_blocked():
    engine = make_engine()
    start = datetime(2026, 10, 1, 0, 0, tzinfo=UTC)
    flagged = 0
    for n in range(MAX_LINK_MEMBERS):  # one sign-up every 4 hours: no velocity
        decision = live(engine, _ordinary(n, start + timedelta(hours=4 * n)))
        flagged += decision["action"] == "flag"
    assert flagged > MAX_LINK_MEMBERS // 2, flagged  # the SDK's constant fingerprint flags them
    # one of them turns out to be a fraudster: removed, and blocked from reapplying
    bad = engine.repository.get_subject(PROGRAM, "partner", "p-app150")
    assert bad.flag_case_id
    later = start + timedelta(hours=4 * MAX_LINK_MEMBERS)
    deps = Dependencies(engine.repository, InMemoryPublisher(), FixedClock(later))
    cases_service.remove_partner(deps, PROGRAM, bad.flag_case_id, True, "Ann")

    # an ordinary newcomer on the same SDK build, nothing else in common with anyone
    newcomer = live(engine, _ordinary(5000, later + timedelta(hours=4)))
    assert "blocked_reapply" not in reasons(newcomer), newcomer
    assert newcomer["action"] == "allow", newcomer


def test_a_removed_partner_crowding_its_device_with_guest_checkouts_is_still_blocked_on_it():
    engine = make_engine()
    start = datetime(2026, 10, 1, 0, 0, tzinfo=UTC)
    device = "fp-carl-own-laptop-7c1e"
    at = start.strftime("%Y-%m-%dT%H:%M:%SZ")
    carl = live(
        engine, signup("p-carl", email="carl.crowd@mailinator.com", device=device, ip="185.220.101.40", at=at)
    )
    assert carl["action"] == "flag", carl
    case_id = engine.repository.get_subject(PROGRAM, "partner", "p-carl").flag_case_id
    deps = Dependencies(engine.repository, InMemoryPublisher(), FixedClock(start + timedelta(hours=1)))
    cases_service.remove_partner(deps, PROGRAM, case_id, True, "Ann")
    live(engine, signup("p-shop", email="orders.desk@shop-example.org", at=at))
    # a euro a time, each a new guest through some partner's link, all on Carl's laptop
    for n in range(MAX_LINK_MEMBERS):
        when = (start + timedelta(hours=2, seconds=n)).strftime("%Y-%m-%dT%H:%M:%SZ")
        live(engine, purchase(f"guest-{n}", "p-shop", device=device, reward=None, at=when))

    back = (start + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    returning = live(
        engine, signup("p-fresh-face", email="fresh.face.q7@example.org", device=device, at=back)
    )
    assert "blocked_reapply" in reasons(returning), returning
    assert returning["action"] == "flag"
