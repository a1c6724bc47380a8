"""Red team: what was tried and held (passes on the current code)."""

from __future__ import annotations

import pytest

from tests.integration.scoring_support import purchase, signup
from tests.unit.live_scoring import live, make_engine, reasons


@pytest.mark.parametrize(
    "first,second",
    [
        ("Ada.Lovelace@gmail.com", "a.d.a.l.o.v.e.l.a.c.e+x@googlemail.com"),
        ("ada.lovelace@example.com", "ＡＤＡ.lovelace@example.com"),
        ("ada.lovelace@example.com", '"ada.lovelace"@example.com'),
        ("ada.lovelace@example.com", "ada.lovelace@example.com."),
        ("jane@gmail.com", "jane@xn--gmil-63d.com"),
        ("ada.lovelace@example.com", "ada.love\u200blace@example.com"),
        ("jane.doe@outlook.com", "Jane.Doe+2@Outlook.com"),
        ("jane.doe@pm.me", "jane.doe+x@protonmail.com"),
    ],
)
def test_email_variants_are_duplicates(first, second):
    engine = make_engine()
    live(engine, signup("p1", email=first, ip="81.2.69.40", at="2026-11-01T08:00:00Z"))
    d = live(engine, signup("p2", email=second, ip="81.2.69.41", at="2026-11-01T09:00:00Z"))
    assert d["action"] == "flag" and "email_duplicate" in reasons(d), d


@pytest.mark.parametrize("fp", ["FP-ABC-123", "  fp-abc-123 ", "fp-abc\u200b-123", "ｆｐ-abc-123"])
def test_device_variants_are_one_device(fp):
    engine = make_engine()
    live(
        engine,
        signup(
            "p1", email="aa.one@example.com", ip="81.2.69.40", device="fp-abc-123", at="2026-11-01T08:00:00Z"
        ),
    )
    live(
        engine,
        signup("p2", email="bb.two@example.com", ip="81.2.69.41", device=fp, at="2026-11-01T09:00:00Z"),
    )
    d = live(
        engine,
        signup(
            "p3", email="cc.three@example.com", ip="81.2.69.42", device=fp.upper(), at="2026-11-01T10:00:00Z"
        ),
    )
    assert d["action"] == "flag" and "device_shared" in reasons(d), d


@pytest.mark.parametrize(
    "written",
    ["gb29 nwbk 6016 1331 9268 19", "IBAN: GB29-NWBK-6016-1331-9268-19", "GB29/NWBK_60161331926819"],
)
def test_payout_ring_written_three_ways(written):
    engine = make_engine()
    live(
        engine,
        signup(
            "p1",
            email="aa.one@example.com",
            ip="81.2.69.40",
            payout="GB29NWBK60161331926819",
            at="2026-11-01T08:00:00Z",
        ),
    )
    live(
        engine,
        signup("p2", email="bb.two@example.com", ip="81.2.69.41", payout=written, at="2026-11-01T09:00:00Z"),
    )
    d = live(
        engine,
        signup(
            "p3",
            email="cc.three@example.com",
            ip="81.2.69.42",
            payout=written.lower(),
            at="2026-11-01T10:00:00Z",
        ),
    )
    assert d["action"] == "flag" and "cluster" in reasons(d), d


def test_ipv4_mapped_and_ipv6_rotation_inside_one_64_are_one_ip():
    engine = make_engine()
    ips = ["81.2.69.160", "::ffff:81.2.69.160", "::ffff:5102:45a0", "81.2.69.160"]
    ds = [
        live(engine, signup(f"q{n}", email=f"{w}@example.org", ip=ip, at=f"2026-11-01T08:0{n}:00Z"))
        for n, (ip, w) in enumerate(zip(ips, ["oliver.hart", "priya.nair", "tomasz.wolny", "akira.sato"]))
    ]
    assert "velocity" in reasons(ds[-1])
    engine = make_engine()
    ds = [
        live(
            engine,
            signup(
                f"r{n}",
                email=f"{w}@example.org",
                ip=f"2a00:1:2:3:{n + 1:x}::{n * 7 + 1:x}",
                at=f"2026-11-01T08:0{n}:00Z",
            ),
        )
        for n, w in enumerate(["oliver.hart", "priya.nair", "tomasz.wolny", "akira.sato"])
    ]
    assert "velocity" in reasons(ds[-1])


def test_a_burst_sent_with_different_offsets_and_newest_first_is_velocity():
    engine = make_engine()
    times = [
        "2026-11-01T10:04:00+02:00",
        "2026-11-01T08:03:00Z",
        "2026-11-01T03:02:00-05:00",
        "2026-11-01T08:01:00Z",
    ]
    ds = [
        live(engine, signup(f"s{n}", email=f"{w}@example.org", ip="81.2.69.90", at=at))
        for n, (at, w) in enumerate(zip(times, ["oliver.hart", "priya.nair", "tomasz.wolny", "akira.sato"]))
    ]
    assert any("velocity" in reasons(d) for d in ds), ds


def test_self_referral_through_the_partners_device_with_a_fresh_everything_else():
    engine = make_engine()
    live(
        engine,
        signup("p1", email="aa.one@example.com", ip="81.2.69.40", device="fp-own", at="2026-11-01T08:00:00Z"),
    )
    d = live(engine, purchase("c1", "p1", device="FP-OWN ", ip="81.2.69.99", at="2026-11-02T08:00:00Z"))
    assert "self_referral" in reasons(d)


def _removed_boss(engine) -> None:
    """Rick Bossman, ring.boss@outlook.com, flagged (a throwaway-looking second account) and removed."""
    from datetime import UTC, datetime

    from functions.cases import service as cases_service
    from functions.shared.clock import FixedClock
    from functions.shared.messaging import InMemoryPublisher
    from functions.shared.runtime import Dependencies
    from tests.unit.test_detection import PROGRAM

    same = {"email": "ring.boss@outlook.com", "name": "Rick Bossman"}
    live(engine, signup("p-first", ip="81.2.69.40", device="fp-first", at="2026-11-01T08:00:00Z", **same))
    gone = live(
        engine, signup("p-gone", ip="81.2.69.50", device="fp-gone", at="2026-11-01T09:00:00Z", **same)
    )
    assert gone["action"] == "flag", gone
    deps = Dependencies(engine.repository, InMemoryPublisher(), FixedClock(datetime(2026, 11, 3, tzinfo=UTC)))
    case_id = engine.repository.get_subject(PROGRAM, "partner", "p-gone").flag_case_id or ""
    cases_service.remove_partner(deps, PROGRAM, case_id, True, "Ann")


@pytest.mark.parametrize(
    "email",
    ["ring.boss2@outlook.com", "ringboss@outlook.com", "ring-boss@outlook.com", "ring.bos@outlook.com"],
)
def test_a_removed_partner_back_under_its_name_with_a_look_alike_address_is_named(email):
    # an evasion tester's: a new device and IP, the removed partner's own name, an address a letter
    # or two from its own: `email_similar` to a removed partner at 35, allowed
    engine = make_engine()
    _removed_boss(engine)
    back = live(engine, signup("p-back", email=email, name="Rick Bossman", ip="81.2.70.77", device="fp-back",
                               at="2026-11-06T09:00:00Z"))  # fmt: skip
    assert back["action"] == "flag" and "email_similar" in reasons(back), back
    # someone else near that address, under another name, is a look-alike only (not a flag alone)
    engine = make_engine()
    _removed_boss(engine)
    other = live(engine, signup("p-other", email=email, name="Ann Kowalski", ip="81.2.70.78", device="fp-o",
                                at="2026-11-06T09:00:00Z"))  # fmt: skip
    assert other["action"] == "allow", other
