"""An SDK's one fingerprint is no farm after one of its many users is removed and blocked: most of
its members are flagged by sharing it (device_shared, then with a flagged member), so a rule
counting flags as a farm's once a member is blocked made every newcomer `blocked_reapply` (100).
`links.farmed` counts removed members only; a crowd of customers is a crowd as well (design.md,
thirty-eighth session: why a removed partner crowding its own device is not mended there)."""

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


def test_an_sdk_fingerprint_mostly_customers_blocks_no_newcomer_after_a_partner_on_it_is_blocked():
    # a few partners and many customers on one SDK build: a partner removed and blocked once the
    # crowd formed marks the crowded link too (its profile kept the device from before); read as
    # a block, every honest partner after it on that build was flagged for good (a removal is
    # never undone, and a crowded link takes no new member)
    engine = make_engine()
    start = datetime(2026, 10, 1, 0, 0, tzinfo=UTC)
    partners = 10
    for n in range(partners):
        live(engine, _ordinary(n, start + timedelta(hours=4 * n)))
    for n in range(MAX_LINK_MEMBERS - partners):  # shoppers on the same build, ten minutes apart
        when = start + timedelta(hours=4 * partners, minutes=10 * n)
        body = purchase(f"c-{n}", "p-app0", device=SDK, ip=f"82.{n % 200}.1.{n % 250 + 1}", reward=None)
        live(engine, {**body, "occurred_at": when.strftime("%Y-%m-%dT%H:%M:%SZ")})
    bad = engine.repository.get_subject(PROGRAM, "partner", "p-app5")
    assert bad.flag_case_id  # flagged by sharing the build: a case to remove it from
    later = start + timedelta(days=30)
    deps = Dependencies(engine.repository, InMemoryPublisher(), FixedClock(later))
    cases_service.remove_partner(deps, PROGRAM, bad.flag_case_id, True, "Ann")

    newcomer = live(engine, _ordinary(5000, later + timedelta(hours=4)))
    assert "blocked_reapply" not in reasons(newcomer), newcomer
