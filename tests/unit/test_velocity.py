"""Velocity counts (`functions.shared.domain.velocity`): read from both places, slots aged out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from functions.shared.domain.model import LinkState
from functions.shared.domain.velocity import KEPT_HOURS, stale_slots, tallies, velocity

AT = datetime(2026, 11, 3, 0, 20, tzinfo=UTC)  # just after midnight: the hour before is yesterday's
IP = ("ip", "81.2.69.160")


def test_the_hours_are_the_events_own_the_two_before_across_a_day_and_read_late_the_one_after() -> None:
    in_time = velocity("signup", "ip:81.2.69.160", AT, IP, received=AT + timedelta(minutes=30))
    assert in_time.names == (
        "signup:ip:81.2.69.160:20261103T00",
        "signup:ip:81.2.69.160:20261102T23",
        "signup:ip:81.2.69.160:20261102T22",
    )
    assert in_time.slots == ("signup:20261103T00", "signup:20261102T23", "signup:20261102T22")
    assert velocity("signup", "ip:81.2.69.160", AT, IP) == in_time  # no time received: as in time
    counted = velocity("signup", "ip:81.2.69.160", AT, IP, received=AT + timedelta(minutes=40))  # 01:00
    assert counted.names == (
        "signup:ip:81.2.69.160:20261103T00",
        "signup:ip:81.2.69.160:20261102T23",
        "signup:ip:81.2.69.160:20261102T22",
        "signup:ip:81.2.69.160:20261103T01",
    )
    assert counted.slots == (
        "signup:20261103T00",
        "signup:20261102T23",
        "signup:20261102T22",
        "signup:20261103T01",
    )
    # hours of UTC: 02:20+02:00 and 18:50-05:30 (the day before) are the same instant, the same hours
    for offset in (timedelta(hours=2), timedelta(hours=-5, minutes=-30), timedelta(hours=14)):
        local = velocity(
            "signup", "ip:81.2.69.160", AT.astimezone(timezone(offset)), IP, AT + timedelta(hours=2)
        )
        assert local == counted


def test_a_count_is_the_counter_items_and_the_links_slots_of_its_hours_and_nothing_else() -> None:
    counted = velocity("signup", "ip:81.2.69.160", AT, IP, received=AT + timedelta(days=1))
    counters = {
        counted.names[0]: 2,
        counted.names[1]: 1,
        counted.names[2]: 256,
        counted.names[3]: 64,
        "signup:ip:81.2.69.160:20261102T21": 7,
        "signup:ip:81.2.69.160:20261103T02": 7,
    }
    state = LinkState(
        members=frozenset({"partner:a"}),
        counts={
            "signup:20261103T00": 4,
            "signup:20261102T23": 8,
            "signup:20261102T22": 512,
            "signup:20261103T01": 128,
            "txn:20261103T00": 16,
            "signup:20261102T21": 32,
            "signup:20261103T02": 32,
        },
    )
    assert counted.total(counters, {IP: state}) == 2 + 1 + 256 + 64 + 4 + 8 + 512 + 128
    assert counted.later(counters, {IP: state}) == 64 + 128  # dated after it, received before
    assert counted.total(counters, {}) == 2 + 1 + 256 + 64  # the link not read (or never written)
    in_time = velocity("signup", "ip:81.2.69.160", AT, IP, received=AT)
    assert in_time.total(counters, {IP: state}) == 2 + 1 + 256 + 4 + 8 + 512
    assert in_time.later(counters, {IP: state}) == 0
    account = velocity("account", "p1", AT)  # no link: counter items only
    assert account.link is None and account.total({account.names[0]: 5}, {IP: state}) == 5


def test_a_tally_drops_the_links_slots_of_kept_hours_before_and_older_of_every_kind() -> None:
    hours = {
        f"{kind}:{(AT - timedelta(hours=h)):%Y%m%dT%H}": 1 for kind in ("signup", "txn") for h in range(6)
    }
    state = LinkState(counts=hours)
    dropped = stale_slots(state, AT)
    assert dropped == {slot for slot in hours if int(slot[-2:]) in (19, 20, 21)}  # 3, 4, 5 hours before
    assert len(hours) - len(dropped) == 2 * KEPT_HOURS
    assert stale_slots(state, AT.astimezone(timezone(timedelta(hours=-7)))) == dropped  # UTC's hours
    counted = velocity("txn", "ip:81.2.69.160", AT, IP)
    account = velocity("account", "p1", AT)
    added, alone = tallies([counted, account], AT, {IP: state})
    assert (added.name, added.link, added.slot, added.stale) == (
        counted.names[0],
        IP,
        "txn:20261103T00",
        dropped,
    )
    assert added.expires_at == alone.expires_at == int((AT + timedelta(hours=4)).timestamp())
    assert (alone.name, alone.link, alone.stale) == (account.names[0], None, frozenset())
    assert tallies([counted], AT, {})[0].stale == frozenset()  # a link not read: nothing to drop
    assert stale_slots(LinkState(), AT) == frozenset() and stale_slots(None, AT) == frozenset()
