"""Red team: velocity counts whole UTC clock hours (this one and the one before), not "the last two
hours" its reason and `weights.VELOCITY_SIGNUPS_PER_IP` say. A burst split around an empty clock
hour (three sign-ups at 00:58-00:59, three at 02:00-02:01: six in 63 minutes) is never seen, where
four in one minute are. SPEC 5.1 `velocity`: too many sign-ups or transactions from one IP or
device in a window."""

from __future__ import annotations

from tests.integration.scoring_support import purchase, signup
from tests.unit.live_scoring import live, make_engine, reasons

IP = "81.2.69.77"
NAMES = ["oliver.hart", "priya.nair", "tomasz.wolny", "akira.sato", "fatima.zahra", "glen.moore"]
TIMES = [
    "2026-11-02T00:58:00Z",
    "2026-11-02T00:58:40Z",
    "2026-11-02T00:59:20Z",
    "2026-11-02T02:00:00Z",
    "2026-11-02T02:00:40Z",
    "2026-11-02T02:01:20Z",
]


def test_control_four_sign_ups_from_one_ip_in_a_minute_are_velocity():
    engine = make_engine()
    last = None
    for n, at in enumerate(
        ["2026-11-02T01:10:00Z", "2026-11-02T01:10:20Z", "2026-11-02T01:10:40Z", "2026-11-02T01:11:00Z"]
    ):
        last = live(engine, signup(f"pc{n}", email=f"{NAMES[n]}@example.net", ip=IP, at=at))
    assert "velocity" in reasons(last)


def test_six_sign_ups_from_one_ip_in_63_minutes_around_an_empty_clock_hour_are_velocity():
    engine = make_engine()
    decisions = [
        live(engine, signup(f"p{n}", email=f"{NAMES[n]}@example.org", ip=IP, at=at))
        for n, at in enumerate(TIMES)
    ]
    fired = [d for d in decisions if "velocity" in reasons(d)]
    assert fired, [(d["score"], reasons(d)) for d in decisions]
    assert decisions[-1]["action"] == "flag", decisions[-1]


def test_ten_purchases_from_one_ip_in_63_minutes_around_an_empty_clock_hour_are_velocity():
    engine = make_engine()
    times = [f"2026-11-04T00:5{m}:00Z" for m in range(5, 10)] + [f"2026-11-04T02:0{m}:00Z" for m in range(5)]
    decisions = [
        live(engine, purchase(f"c{n}", "p-shop", ip=IP, at=at, reward="10.00")) for n, at in enumerate(times)
    ]
    assert any("velocity" in reasons(d) for d in decisions), [(d["score"], reasons(d)) for d in decisions]
