"""The score function's environment memory (`functions.shared.read_memory`), reviewed: what it may keep
and for how long, so that scoring with it decides, says and writes what reading every item does.
Each case is one a reviewer found untested or wrong: a crowd learnt while a purchase that read it
short of its crowd was still in flight, an hour at the cap whose count was on a link slot taken away
since, a partner's payout change on a crowded device it used before the crowd, and each fact's
lifetime."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from functions.score.engine import Engine
from functions.score.reference import EmbeddedReferenceData
from functions.shared.clock import FixedClock
from functions.shared.domain.identity import LOCAL_PEPPER, MAX_LINK_MEMBERS
from functions.shared.domain.model import StoredEvent
from functions.shared.domain.velocity import COUNTER_LIFETIME, SATURATED, SATURATED_KNOWN_FOR
from functions.shared.inputs import FUTURE_TOLERANCE
from functions.shared.messaging import InMemoryPublisher
from functions.shared.read_memory import ReadMemory
from functions.shared.storage.memory import InMemoryRepository
from tests.integration.scoring_support import purchase, signup
from tests.unit.test_a_crowd_read_from_memory import PROGRAM, SDK_DEVICE, Scorer, codes
from tests.unit.test_payout_takeover import account

IP = "81.2.69.150"
HOME_IP = "81.2.70.5"


def received(body: dict[str, Any], late: timedelta = timedelta(seconds=1)) -> datetime:
    return datetime.fromisoformat(body["occurred_at"].replace("Z", "+00:00")) + late


class Asked:
    """A scorer's reads: the link keys and counter names each asked for."""

    def __init__(self, scorer: Scorer) -> None:
        self.links: list[list[Any]] = []
        self.counters: list[list[str]] = []
        read = scorer.engine.repository.scoring_snapshot

        def asked(program_id, subject, partner_id, links, network, counters, *rest):
            self.links.append(list(links))
            self.counters.append(list(counters))
            return read(program_id, subject, partner_id, links, network, counters, *rest)

        scorer.engine.repository.scoring_snapshot = asked  # type: ignore[method-assign]


def both(steps: list[tuple[dict[str, Any], datetime]]) -> tuple[dict[str, Any], dict[str, Any], Scorer]:
    """The steps' decisions by one environment reading everything and one with the memory (`Scorer`,
    each on a store of its own), with the store each wrote checked equal; and the remembering one."""
    reading, remembering = Scorer(None), Scorer(ReadMemory())
    read = {body["id"]: reading.score(body, at) for body, at in steps}
    remembered = {body["id"]: remembering.score(body, at) for body, at in steps}
    assert reading.stored() == remembering.stored()
    return read, remembered, remembering


# --- a crowd learnt while a purchase that read it short of its crowd is still in flight ------------


class ReadThenMeanwhile:
    """The store, with `meanwhile` run once just after the next scoring read returns: what other
    environments score between an event's read and its write."""

    def __init__(self, repository: InMemoryRepository) -> None:
        self.repository = repository
        self.meanwhile: Callable[[], None] | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.repository, name)

    def scoring_snapshot(self, *args: Any, **kwargs: Any) -> Any:
        snapshot = self.repository.scoring_snapshot(*args, **kwargs)
        if self.meanwhile is not None:
            meanwhile, self.meanwhile = self.meanwhile, None
            meanwhile()
        return snapshot


def in_flight(memory: ReadMemory | None) -> list[dict[str, Any]]:
    """IP X has 199 members from yesterday. E1 (an environment without memory) reads 199; before it
    writes, E2 reads 199 and joins (200, the crowd), and environment A scores E3, the first to see
    the crowd; then E1 writes (an IP's joins are unguarded: 201, and a second slot of the hour).
    A scores the rest, each a second apart."""
    repository = InMemoryRepository()
    clock = FixedClock(datetime(2026, 11, 19, 10, tzinfo=UTC))

    def environment(store: Any, remembers: ReadMemory | None) -> Engine:
        return Engine(store, EmbeddedReferenceData({}), LOCAL_PEPPER.encode(), InMemoryPublisher(),
                      memory=remembers, clock=clock)  # fmt: skip

    hooked = ReadThenMeanwhile(repository)
    a, e1_environment, others = (
        environment(repository, memory),
        environment(hooked, None),
        environment(repository, None),
    )
    decisions: dict[str, Any] = {}

    def score(engine: Engine, body: dict[str, Any]) -> None:
        clock._at = received(body)
        text = json.dumps(body, sort_keys=True, separators=(",", ":"))
        stored = StoredEvent(
            program_id=PROGRAM,
            event_id=body["id"],
            type=body["type"],
            body=body,
            body_hash=hashlib.sha256(text.encode()).hexdigest(),
            occurred_at=datetime.fromisoformat(body["occurred_at"]),
            received_at=clock._at,
        )
        repository.record_event(stored)
        decisions[body["id"]] = engine.score(stored).decision

    for n in range(MAX_LINK_MEMBERS - 1):
        score(
            others,
            purchase(f"y{n}", "p1", ip=IP, reward=None, at=f"2026-11-19T{n // 60:02d}:{n % 60:02d}:00Z"),
        )
    e1, e2, e3, *later = [
        purchase(f"t{n}", "p1", ip=IP, country="US", at=f"2026-11-20T10:30:{n:02d}Z") for n in range(10)
    ]
    hooked.meanwhile = lambda: (score(others, e2), score(a, e3))
    score(e1_environment, e1)
    for body in later:
        score(a, body)
    return [decisions[body["id"]] for body in later]


def test_a_crowd_seen_while_a_purchase_that_read_it_short_of_one_is_in_flight_counts_its_slot_too():
    read, remembered = in_flight(None), in_flight(ReadMemory())

    # Then: A counts E1's slot as a read does (it was one short: a flag turned into an allow)
    assert remembered == read
    assert codes(read[2]).get("velocity") == ("5 transactions from IP 81.2.69.150 within three hours")


def test_a_crowds_slots_are_remembered_once_it_has_settled_and_read_again_when_they_lapse():
    # Given: a crowd of new customers on one IP, then purchases there, each a few seconds apart
    steps = []
    for n in range(MAX_LINK_MEMBERS):
        body = purchase(f"c{n}", "p1", ip=IP, reward=None, at=f"2026-11-20T0{6 + n // 60}:{n % 60:02d}:00Z")
        steps.append((body, received(body)))
    first_seen = datetime(2026, 11, 20, 10, tzinfo=UTC)
    for seconds in (0, 10, 29, 30, 31, 89, 90, 91):
        body = purchase(f"s{seconds}", "p1", ip=IP, reward=None, at=f"2026-11-20T09:59:{seconds // 2:02d}Z")
        steps.append((body, first_seen + timedelta(seconds=seconds)))
    scorer = Scorer(ReadMemory())
    asked = Asked(scorer)

    for body, at in steps:
        scorer.score(body, at)

    # Then: the IP's link is read until the crowd has settled (`CROWD_SETTLES_IN`, 30 s after it was
    # first seen), then not, and again once its slots lapse (`CROWD_KNOWN_FOR`, 60 s after the read
    # that settled it)
    link = ("ip", IP)
    read_link = [link in links for links in asked.links[MAX_LINK_MEMBERS:]]
    assert read_link == [True, True, True, True, False, False, True, False], read_link


# --- an hour at the cap whose count was on a link slot taken away since ---------------------------


def test_an_hour_at_the_cap_on_a_links_slot_is_read_again_once_a_join_dated_ahead_takes_the_slot():
    # Given: 65 new customers on IP X in hour 10, each joining its link (counted on its slot of 10)
    steps = []
    for n in range(SATURATED + 1):
        body = purchase(f"h{n}", "p1", ip=IP, reward=None, at=f"2026-11-20T10:{n % 60:02d}:{n // 60:02d}Z")
        steps.append((body, received(body, timedelta(seconds=30))))
    # and at 12:56 a purchase dated 13:00:30 (4.5 minutes ahead: accepted) joins, taking slot 10 away
    ahead = purchase("ahead", "p1", ip=IP, reward=None, at="2026-11-20T13:00:30Z")
    steps.append((ahead, datetime(2026, 11, 20, 12, 56, tzinfo=UTC)))
    # When: at 12:57 a purchase dated 12:50 reads hours 12, 11 and 10
    late = purchase("late", "p1", ip=IP, reward="10.00", country="US", at="2026-11-20T12:50:00Z")
    steps.append((late, datetime(2026, 11, 20, 12, 57, tzinfo=UTC)))

    read, remembered, _ = both(steps)

    # Then: it says what is left, as a read does (the memory said 64 or more)
    assert remembered == read
    assert "velocity" not in codes(read[late["id"]]), read[late["id"]]


def test_an_hour_at_the_cap_is_read_again_once_its_fact_lapses():
    # Given: one customer on IP X at 9 (it joins the link), then buying again and again in hour 10,
    # each counted on the hour's counter item (no new member, no slot), which reaches the cap
    first = purchase("c-again", "p1", ip=IP, reward=None, at="2026-11-20T09:00:00Z")
    steps = [(first, received(first))]
    for n in range(SATURATED + 1):
        body = purchase("c-again", "p1", ip=IP, reward=None, at=f"2026-11-20T10:{n % 60:02d}:{n // 60:02d}Z")
        steps.append((body, received(body)))
    # When: purchases dated in hour 10 are received late, just before the fact lapses and after
    lapses = datetime(2026, 11, 20, 13, tzinfo=UTC)  # 3 hours after the hour starts (`SATURATED_KNOWN_FOR`)
    for n, at in enumerate((lapses - timedelta(minutes=2), lapses - timedelta(minutes=1), lapses)):
        body = purchase(f"b{n}", "p1", ip=IP, reward=None, at="2026-11-20T10:30:00Z")
        steps.append((body, at))
    scorer = Scorer(ReadMemory())
    for body, at in steps[:-3]:
        scorer.score(body, at)
    asked = Asked(scorer)
    for body, at in steps[-3:]:
        scorer.score(body, at)

    # Then: the hour's counter item is read by neither before the lapse (a read of the hour learnt
    # it), and again at it
    hour_10 = [
        any(name.endswith(":20261120T10") and IP in name for name in names) for names in asked.counters
    ]
    assert hour_10 == [False, False, True], asked.counters


def test_an_hour_at_the_cap_is_known_only_while_no_counter_item_of_it_can_have_expired():
    # a counter item expires `COUNTER_LIFETIME` after an event of its hour, at the earliest after the
    # hour starts: the fact ends before it, with room for an event dated as far ahead as is accepted
    assert SATURATED_KNOWN_FOR < COUNTER_LIFETIME - FUTURE_TOLERANCE
    assert timedelta(hours=3) <= SATURATED_KNOWN_FOR  # past the three hours live events read it


# --- a partner's payout change on a crowded device it used before the crowd -----------------------


def test_a_partners_payout_change_on_a_crowded_device_it_used_before_reads_the_devices_members():
    # Given: a partner whose profile keeps its first 50 devices, who then used the SDK's device (its
    # link names it, the profile spilled it) before the device's crowd of customers
    steps = []
    joined = signup("p-many", ip=HOME_IP, device="fp-own-0", at="2026-11-20T05:00:00Z")
    steps.append((joined, received(joined)))
    for n in range(1, 50):
        login = account("p-many", "login", f"2026-11-20T05:{n:02d}:00Z", HOME_IP, f"fp-own-{n}")
        steps.append((login, received(login)))
    login = account("p-many", "login", "2026-11-20T05:55:00Z", HOME_IP, SDK_DEVICE)
    steps.append((login, received(login)))
    for n in range(MAX_LINK_MEMBERS):
        body = purchase(f"c{n}", "p-many", ip=f"81.3.{n // 200}.{n % 200 + 1}", device=SDK_DEVICE,
                        reward=None, at=f"2026-11-20T0{6 + n // 60}:{n % 60:02d}:00Z")  # fmt: skip
        steps.append((body, received(body)))
    # and purchases on it until this environment's memory holds the crowd's slots
    for seconds in (0, 40):
        body = purchase(f"s{seconds}", "p-many", ip="81.4.0.1", device=SDK_DEVICE, reward=None,
                        at="2026-11-20T10:00:00Z")  # fmt: skip
        steps.append((body, datetime(2026, 11, 20, 10, 0, seconds, tzinfo=UTC)))
    # When: the partner changes its payout details on that device from a connection new to it
    change = account("p-many", "payout_update", "2026-11-20T10:00:50Z", "73.162.1.1", SDK_DEVICE)
    steps.append((change, received(change)))

    read, remembered, scorer = both(steps)

    # Then: it used the device before (`Engine.unfamiliar` reads the device link's members): no
    # payout change from a session where it never was, with the memory as without
    link = scorer.engine.repository._links[(PROGRAM, "device", SDK_DEVICE)]
    assert "partner:p-many" in link.members and len(link.members) >= MAX_LINK_MEMBERS
    assert remembered[change["id"]] == read[change["id"]]
    assert "unusual_activity" not in codes(read[change["id"]]), read[change["id"]]
