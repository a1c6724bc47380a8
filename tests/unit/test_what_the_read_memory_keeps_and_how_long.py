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
from functions.shared.domain.velocity import SATURATED
from functions.shared.messaging import InMemoryPublisher
from functions.shared.read_memory import ReadMemory
from functions.shared.storage.memory import InMemoryRepository
from tests.integration.scoring_support import purchase
from tests.unit.test_a_crowd_read_from_memory import PROGRAM, Scorer, codes

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
    assert codes(read[2]).get("velocity") == ("5 transactions from IP 81.2.69.150 in the last three hours")


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
