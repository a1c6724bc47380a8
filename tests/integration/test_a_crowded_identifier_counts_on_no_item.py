"""A crowded identifier is not one item every event writes (SPEC 1): an integration that sends its
own proxy's public IP as every customer's, an SDK that sends one fingerprint for every browser.
Once the identifier's link holds its 200 members it is written no more, and every purchase added
one to the identifier's hourly counter item inside its scoring transaction (3,000 a second on one
item at SPEC 1's rate, three times a partition's write limit, and DynamoDB cancels concurrent
transactions on one item). A count is now taken no further than `velocity.SATURATED`, where it is
a burst to every later event of its hours whatever comes. Through the real ingest and score
handlers on moto, counted per partition as a scale tester did (`PartitionCounter`)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from benchmarks.partitions import PartitionCounter
from functions.shared import runtime
from functions.shared.clock import FixedClock
from functions.shared.domain.identity import MAX_LINK_MEMBERS
from functions.shared.domain.velocity import SATURATED
from functions.shared.read_memory import CROWD_SETTLES_IN, ReadMemory
from tests.integration.scoring_support import codes, drain, purchase, send, status

PROXY_IP = "81.2.69.160"  # the integration's own public address, sent for every session
SDK_DEVICE = "sdk-default-fp-9f8e7d6c"  # the SDK's one fingerprint


def purchases(first: int, count: int) -> list[dict]:
    """New customers' purchases of one hour, all on the proxy's IP and the SDK's fingerprint."""
    return [
        purchase(
            f"c{n}",
            f"p{n % 50}",
            ip=PROXY_IP,
            device=SDK_DEVICE,
            reward=None,
            at=f"2026-11-20T10:{n * 59 // 400:02d}:00Z",
        )
        for n in range(first, first + count)
    ]


def test_past_its_crowd_a_burst_stays_one_its_count_capped_and_no_item_is_written_per_event(aws, tenant):
    # (one test, not two: each needs the crowd, 205 purchases through the handlers)
    # Given: new customers' purchases on one IP and one device, past the links' crowd limit (each
    # counted on the link until it is full)
    sent = purchases(0, MAX_LINK_MEMBERS + 5)
    for event in sent:
        send(tenant, event)
    drain(aws)
    fired = [n for n, event in enumerate(sent) if "velocity" in codes(tenant, event["id"])]
    program = tenant.program_id

    # Then: a burst from the sixth purchase, and past the crowd still (a first version counted a
    # crowded identifier no more, and a farm's 201st account ran clean), its count taken no
    # further than `SATURATED`, which says it is one to every later purchase
    assert fired == list(range(5, len(sent)))
    last = status(tenant, sent[-1]["id"])["decision"]["reasons"]
    assert f"{SATURATED} or more transactions from this device" in str(last), (
        last
    )  # it weighs more than the IP's

    # When: a hundred more new customers buy on them
    later = purchases(MAX_LINK_MEMBERS + 5, 100)
    with PartitionCounter() as counter:
        for event in later:
            send(tenant, event)
        drain(aws)

    # Then: no item is written per event for either identifier: no hour's counter item, no link
    hot = [key for key in counter.writes if PROXY_IP in key or SDK_DEVICE in key]
    assert hot == [], {key: counter.writes[key] for key in hot}
    assert not [key for key in counter.transacted if f"P#{program}#COUNTER#" in key]


def test_a_steady_burst_stays_one_from_hour_to_hour(aws, tenant):
    """Each hour's count is capped alone (`velocity.unsaturated`): capped on the three hours read, a
    burst's first hour filled to the cap and the two after it added nothing, so the fourth read an
    empty window and its first five purchases were no burst (a reviewer's probe), every third hour."""
    ip = "81.2.69.170"
    sent: dict[int, list[dict]] = {}
    n = 0
    for hour, many in ((10, 70), (11, 10), (12, 10), (13, 10)):
        sent[hour] = []
        for i in range(many):
            n += 1
            event = purchase(
                f"c{n}", f"p{n % 7}", ip=ip, reward=None, at=f"2026-11-20T{hour}:{i % 60:02d}:00Z"
            )
            send(tenant, event)
            sent[hour].append(event)
        drain(aws)  # each hour scored before the next is sent, as a stream is

    clean = {
        hour: [e["id"] for e in events if "velocity" not in codes(tenant, e["id"])]
        for hour, events in sent.items()
    }
    assert clean[10] == [e["id"] for e in sent[10][:5]]  # the first five of the burst only
    assert clean[11] == clean[12] == clean[13] == [], clean


def test_a_crowded_ip_and_device_are_read_once_per_environment_not_per_event(aws, tenant):
    """Past the crowd, each purchase still read the IP's and the device's links (2 RCU each), the
    device's network item (2 RCU) and each identifier's three hours' counter items (1 RCU each):
    6,000 RCU/s on one item at SPEC 1's rate, where a partition serves 3,000 (a scale tester's
    probe). The score function's environment now keeps what stays true of them
    (`functions.shared.read_memory`): a cold one reads a crowd's link until the crowd has settled
    (`CROWD_SETTLES_IN` after it first saw it), then once a minute, and an hour's counter item at
    the cap not at all."""
    clock = FixedClock(datetime(2026, 11, 20, 10, 45, tzinfo=UTC))  # each purchase received in its hour
    runtime.dependencies().clock = clock
    # Given: the crowd, formed at 7 (its first members counted on its link), then a steady stream of
    # three hours, each hour's counter item past its cap
    for n in range(MAX_LINK_MEMBERS):
        send(tenant, purchase(f"c{n}", f"p{n % 50}", ip=PROXY_IP, device=SDK_DEVICE, reward=None,
                              at=f"2026-11-20T07:{n * 59 // MAX_LINK_MEMBERS:02d}:00Z"))  # fmt: skip
    for hour in (8, 9, 10):
        for n in range(SATURATED):
            m = MAX_LINK_MEMBERS + (hour - 8) * SATURATED + n
            send(tenant, purchase(f"c{m}", f"p{m % 50}", ip=PROXY_IP, device=SDK_DEVICE, reward=None,
                                  at=f"2026-11-20T{hour:02d}:{n * 30 // SATURATED:02d}:00Z"))  # fmt: skip
    drain(aws)
    runtime.dependencies().read_memory = ReadMemory()  # a cold environment, as after a deployment

    # When: a hundred more new customers buy on them, the first one, then the rest once the crowd
    # this environment saw has settled
    later = [
        purchase(f"d{n}", f"p{n % 50}", ip=PROXY_IP, device=SDK_DEVICE, reward=None,
                 at=f"2026-11-20T10:{30 + n // 10:02d}:00Z")
        for n in range(100)
    ]  # fmt: skip
    read: Counter[str] = Counter()
    for sent in (later[:1], later[1:]):
        for event in sent:
            send(tenant, event)
        with PartitionCounter() as counter:  # scoring's reads (the API's key and program: the edge's cache)
            drain(aws)
        read.update(counter.read_units)
        clock._at += CROWD_SETTLES_IN

    # Then: the hottest item scoring reads, at SPEC 1's 3,000 events/s, is within half a partition's
    # 3,000 RCU/s: each crowded link read twice here (seen, then settled), each counter item never
    per_second = {key: units * 3_000 / len(later) for key, units in read.items()}
    hottest = sorted(per_second.items(), key=lambda kv: -kv[1])[:5]
    assert hottest[0][1] < 1_500, hottest
    # and the purchases are still a burst (on their one device, which weighs more than the IP's)
    assert f"{SATURATED} or more transactions from this device" in str(
        status(tenant, later[-1]["id"])["decision"]
    )
