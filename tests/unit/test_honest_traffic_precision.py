"""What an honest program's own traffic holds that a connection or an order id could mislead on (a
precision tester of the thirty-ninth session): a connection many people share, a shop's guest
checkout, a coworking space where one member was flagged. Each rule is held beside the fraud it
must still catch."""

from __future__ import annotations

from typing import Any

import pytest

from functions.shared.domain.identity import MAX_LINK_MEMBERS
from tests.integration.scoring_support import purchase, signup
from tests.unit.live_scoring import live, make_engine, reasons

OFFICE = "81.2.69.40"
CARRIER = "81.2.69.50"


def _hour(day: int, hour: int, minute: int = 0) -> str:
    return f"2026-11-{day:02d}T{hour:02d}:{minute:02d}:00Z"


STRANGERS = ["ada.king", "lin.wei", "omar.said", "sven.berg", "kaito.mori"]


def _strangers_sign_up(engine: Any, ip: str, times: list[str], country: str = "GB") -> list[dict[str, Any]]:
    """Partners unrelated to each other signing up from one connection at `times`, each with its
    own mailbox and computer."""
    return [
        live(
            engine,
            signup(name, email=f"{name}@example.com", ip=ip, device=f"fp-{name}", country=country, at=at),
        )
        for name, at in zip(STRANGERS, times, strict=False)
    ]


def test_newcomers_at_a_shared_connection_where_one_member_was_flagged_are_allowed():
    # Given four colleagues who signed up over a week from the office, each on its own computer,
    # and a fifth flagged for its own doing (a second account under its own mailbox)
    engine = make_engine()
    for n in range(4):
        live(engine, signup(f"colleague-{n}", ip=OFFICE, device=f"fp-desk-{n}", at=_hour(2 + 2 * n, 10)))
    live(engine, signup("dup-1", email="jo.fraud@gmail.com", ip=OFFICE, device="fp-x", at=_hour(12, 9)))
    flagged = live(
        engine, signup("dup-2", email="jofraud@gmail.com", ip=OFFICE, device="fp-y", at=_hour(13, 9))
    )
    assert flagged["action"] == "flag"

    # When a new colleague signs up there the next week, on its own computer
    newcomer = live(engine, signup("colleague-new", ip=OFFICE, device="fp-desk-new", at=_hour(20, 10)))

    # Then the connection names the flagged member (weak) and makes no group: allowed
    assert newcomer["action"] == "allow", newcomer
    assert set(reasons(newcomer)) == {"ip_suspicious"}


def test_a_group_on_a_connection_counts_once_something_a_person_holds_links_it():
    # Given three accounts on one connection, two of them also on one computer (a ring's)
    engine = make_engine()
    live(engine, signup("r1", ip=OFFICE, device="fp-ring", at=_hour(2, 10)))
    live(engine, signup("r2", ip=OFFICE, device="fp-other", at=_hour(3, 10)))

    # When a third signs up on the first one's computer from that connection
    third = live(engine, signup("r3", ip=OFFICE, device="fp-ring", at=_hour(5, 10)))

    # Then the device links it to someone, and with the connection it is a group of three
    assert third["action"] == "flag", third
    assert {"device_shared", "cluster"} <= set(reasons(third))
    assert "3" not in reasons(third)["cluster"] and "2 accounts" in reasons(third)["cluster"]


def test_a_burst_of_signups_from_one_connection_flags_alone_from_the_fourth():
    engine = make_engine()
    decisions = _strangers_sign_up(engine, OFFICE, [_hour(2, 10, 10 * n) for n in range(5)])
    assert [d["action"] for d in decisions] == ["allow"] * 3 + ["flag"] * 2
    assert set(reasons(decisions[3])) == {"velocity"}


def test_strangers_buying_on_one_carrier_address_at_a_busy_hour_are_allowed():
    # Given a partner's launch: eight strangers on one carrier address within the hour
    engine = make_engine()
    live(engine, signup("p-launch", ip="81.2.69.160", device="fp-launch", at=_hour(1, 8)))
    decisions = [
        live(
            engine, purchase(f"c{n}", "p-launch", ip=CARRIER, device=f"fp-phone-{n}", at=_hour(4, 14, 5 * n))
        )
        for n in range(8)
    ]
    # Then the burst on the connection is said, weakly, and no one is a group or flagged
    assert [d["action"] for d in decisions] == ["allow"] * 8, decisions
    assert "velocity" in reasons(decisions[7])
    assert "cluster" not in set().union(*(reasons(d) for d in decisions))


def test_orders_placed_on_one_device_in_a_burst_still_count():
    engine = make_engine()
    live(engine, signup("p-shop", ip="81.2.69.160", device="fp-shop", at=_hour(1, 8)))
    decisions = [
        live(
            engine,
            purchase(f"f{n}", "p-shop", ip=f"81.2.69.{60 + n}", device="fp-one", at=_hour(4, 14, 5 * n)),
        )
        for n in range(6)
    ]
    assert decisions[5]["action"] == "flag"
    assert {"velocity", "device_shared"} <= set(reasons(decisions[5]))


def test_a_shopper_under_a_new_id_for_each_order_is_one_shopper():
    # Given a shop whose guest checkout gives every order a customer id of its own
    engine = make_engine()
    live(engine, signup("p-kai", ip="81.2.69.160", device="fp-kai", at=_hour(1, 8)))
    orders = [
        live(
            engine,
            purchase(
                f"guest-{n}",
                "p-kai",
                email="mia.koch@gmail.com",
                ip="81.2.69.170",
                device="fp-mia",
                at=_hour(2 + 7 * n, 10),
            ),
        )
        for n in range(3)
    ]
    # Then the same person buying again is no duplicate account, nor a device of several
    assert [o["action"] for o in orders] == ["allow"] * 3, orders
    assert orders[2]["reasons"] == []


def test_a_shopper_flagged_under_one_id_is_the_person_flagged_under_the_next():
    engine = make_engine()
    live(
        engine, signup("p-kai", email="kai@brandt.example", ip="81.2.69.160", device="fp-kai", at=_hour(1, 8))
    )
    # the partner's own device: a self-referral, flagged
    first = live(
        engine, purchase("guest-1", "p-kai", email="mia.koch@gmail.com", device="fp-kai", at=_hour(2, 10))
    )
    assert first["action"] == "flag"
    again = live(
        engine, purchase("guest-2", "p-kai", email="mia.koch@gmail.com", device="fp-mia", at=_hour(9, 10))
    )
    assert again["action"] == "flag"
    assert "flagged" in reasons(again)["email_duplicate"]


DATACENTER = "52.95.110.1"  # Amazon AWS, US: no household lives on it


def test_accounts_on_a_datacenter_connection_are_a_group_however_slowly_they_come():
    # Given a farm on one cloud server, each account with its own device and mailbox, hours apart
    # (no burst), claiming the server's country
    engine = make_engine()
    decisions = _strangers_sign_up(engine, DATACENTER, [_hour(2, 4 * n) for n in range(4)], country="US")
    # Then from the third, the datacenter and the group it makes flag
    assert [d["action"] for d in decisions] == ["allow", "allow", "flag", "flag"], decisions
    assert {"ip_suspicious", "cluster"} <= set(reasons(decisions[2]))


def test_a_burst_of_signups_on_a_crowds_connection_needs_company():
    # Given an integration proxy's public address, sent for every session: a crowd's (200 accounts)
    engine = make_engine()
    for n in range(MAX_LINK_MEMBERS + 1):
        live(
            engine,
            signup(
                f"old-{n}", email=f"old{n}.x@example.com", ip=OFFICE, device=f"fp-old-{n}", at=_hour(1, 1)
            ),
        )
    # When four people sign up through it within the hour, each on its own computer
    decisions = _strangers_sign_up(engine, OFFICE, [_hour(9, 10, 5 * n) for n in range(5)])
    # Then the burst is said, and as a crowd's it does not flag alone
    assert "velocity" in reasons(decisions[4])
    assert [d["action"] for d in decisions] == ["allow"] * 5, decisions


def test_a_burst_of_orders_on_one_device_weighs_more_than_one_on_one_connection():
    engine = make_engine()
    live(engine, signup("p-shop", ip="81.2.69.160", device="fp-shop", at=_hour(1, 8)))
    # one customer's six orders within the hour on one phone, each from another address
    on_device = [
        live(
            engine,
            purchase("c-one", "p-shop", ip=f"81.2.69.{60 + n}", device="fp-one", at=_hour(4, 14, 5 * n)),
        )
        for n in range(6)
    ]
    # and another customer's six on one address, each from another phone
    on_connection = [
        live(engine, purchase("c-two", "p-shop", ip=CARRIER, device=f"fp-two-{n}", at=_hour(6, 14, 5 * n)))
        for n in range(6)
    ]
    assert set(reasons(on_device[5])) == {"velocity"} and on_device[5]["score"] == 40
    assert set(reasons(on_connection[5])) == {"velocity"} and on_connection[5]["score"] == 20


VPN_EXIT = "185.195.232.68"  # a commercial VPN's exit (Mullvad), shared by its users
CDN_EDGE = "172.64.0.1"  # a CDN's edge (Cloudflare), what a shop behind it may send for everyone


@pytest.mark.parametrize("exit_ip", [VPN_EXIT, CDN_EDGE])
def test_strangers_on_a_shared_exit_are_no_group(exit_ip):
    # Given partners who sign up weeks apart, each on its own computer, all behind one VPN's exit
    # (or one CDN edge address)
    engine = make_engine()
    decisions = _strangers_sign_up(engine, exit_ip, [_hour(1 + 7 * n, 9) for n in range(4)])
    # Then the exit is said of each, and none of them is a group with the others
    assert "cluster" not in set().union(*(reasons(d) for d in decisions)), decisions
    assert [d["action"] for d in decisions] == ["allow"] * 4
